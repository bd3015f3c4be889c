// The research feed's pure parts: what is new since the last visit, the icon's count, bylines.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  badgeText,
  badgeTitle,
  byline,
  countLine,
  feedQuery,
  isNew,
  micros,
  PAGE_SIZE,
  refreshLine,
  seenAfter,
} from "../lib/feed.js";

const at = (added_at) => ({ added_at });

test("an item is new when the feed took it in after the last visit, and everything is at first", () => {
  assert.equal(isNew(at("2026-12-01T10:00:00.000002Z"), "2026-12-01T10:00:00.000001Z"), true);
  assert.equal(isNew(at("2026-12-01T10:00:00Z"), "2026-12-01T10:00:00Z"), false);
  assert.equal(isNew(at("2026-11-30T10:00:00Z"), "2026-12-01T10:00:00Z"), false);
  assert.equal(isNew(at("2026-11-30T10:00:00Z"), null), true);
});

test("times compare to the microsecond the backend writes", () => {
  assert.equal(micros("2026-12-01T10:00:00.123456Z") - micros("2026-12-01T10:00:00.123Z"), 456);
  assert.equal(micros("2026-12-01T10:00:00+01:00"), Date.parse("2026-12-01T09:00:00Z") * 1000);
  assert.ok(Number.isNaN(micros("yesterday")) && Number.isNaN(micros(null)));
});

test("a visit has seen up to the newest item, never back in time", () => {
  const items = [at("2026-12-01T10:00:00Z"), at("2026-12-02T10:00:00Z"), at("2026-11-01T10:00:00Z")];
  assert.equal(seenAfter(items, null), "2026-12-02T10:00:00Z");
  assert.equal(seenAfter(items, "2026-12-05T00:00:00Z"), "2026-12-05T00:00:00Z");
  assert.equal(seenAfter([], null), null);
});

test("the icon shows the count, capped, and nothing for none", () => {
  assert.equal(badgeText(0), "");
  assert.equal(badgeText(7), "7");
  assert.equal(badgeText(99), "99");
  assert.equal(badgeText(100), "99+");
  assert.equal(badgeText(40, true), "40+");
  assert.equal(badgeTitle(0), "PaperLens");
  assert.equal(badgeTitle(1), "PaperLens: 1 new paper in your research feed");
  assert.equal(badgeTitle(3), "PaperLens: 3 new papers in your research feed");
});

test("a byline names up to three authors and the date, and leaves out what is missing", () => {
  const authors = ["A One", "B Two", "C Three", "D Four"];
  assert.equal(byline({ authors, published: "2026-01-02" }), "A One, B Two, C Three et al. · 2 Jan 2026");
  assert.equal(byline({ authors: ["A One"], published: null }), "A One");
  assert.equal(byline({ authors: [], published: "2026-01-02" }), "2 Jan 2026");
  assert.equal(byline({ authors: null, published: undefined }), "");
  assert.equal(byline({ authors: [null, "", "E Five"], published: "not a date" }), "E Five");
});

test("the page's query and status line", () => {
  assert.equal(String(feedQuery(null)), `limit=${PAGE_SIZE}`);
  assert.equal(
    String(feedQuery("abc", "2026-12-01T10:00:00+00:00")),
    `limit=${PAGE_SIZE}&cursor=abc&since=2026-12-01T10%3A00%3A00%2B00%3A00`,
  );
  assert.equal(countLine(25, 2, true), "2 new since your last visit · 25 shown (more to load)");
  assert.equal(countLine(3, 0, false), "3 shown");
});

test("the page says what the latest refresh ranked and took in, even when it took nothing", () => {
  const at = "2026-12-06T05:20:31.123456Z";
  const line = (lastRefresh) => refreshLine(at, lastRefresh, "UTC");
  assert.equal(
    line({ papers_ranked: 1200, papers_taken: 3 }),
    "Updated 6 Dec 2026, 05:20: 3 of 1,200 papers ranked stood out from your reading list.",
  );
  assert.equal(
    line({ papers_ranked: 2, papers_taken: 0 }),
    "Updated 6 Dec 2026, 05:20: none of 2 papers ranked stood out from your reading list.",
  );
  assert.equal(
    line({ papers_ranked: 1, papers_taken: 0 }),
    "Updated 6 Dec 2026, 05:20: the one paper ranked did not stand out from your reading list.",
  );
  assert.equal(line({ papers_ranked: 0, papers_taken: 0 }), "Updated 6 Dec 2026, 05:20: no new papers to rank.");
  // A feed stored before the counts were, or counts that are not counts: the time alone.
  assert.equal(line(null), "Updated 6 Dec 2026, 05:20.");
  assert.equal(line({ papers_ranked: "many", papers_taken: -1 }), "Updated 6 Dec 2026, 05:20.");
  assert.equal(refreshLine("2026-12-06T05:20:31Z", null, "Europe/Paris"), "Updated 6 Dec 2026, 06:20.");
  // Before the first computation there is nothing to say.
  assert.equal(refreshLine(null, null), "");
  assert.equal(refreshLine("not a time", { papers_ranked: 1, papers_taken: 1 }), "");
});
