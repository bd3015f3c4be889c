// The library page's pure parts: its list query, bulk tag edits, undo fields and import report.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  importFormat,
  listQuery,
  PAGE_SIZE,
  refusedLines,
  reportSummary,
  restoreFields,
  withoutTag,
  withTag,
} from "../library/edits.js";

test("the list query keeps only the filters that are set", () => {
  assert.deepEqual(listQuery({ q: "  ", tag: "", status: "", year: "", venue: "", sort: "" }), {
    sort: "saved",
    limit: PAGE_SIZE,
  });
  assert.deepEqual(
    listQuery({ q: " moe ", tag: "rl", status: "done", year: "2023", venue: "ICLR", sort: "title" }, "abc"),
    {
      sort: "title",
      limit: PAGE_SIZE,
      q: "moe",
      tag: "rl",
      status: "done",
      year: "2023",
      venue: "ICLR",
      cursor: "abc",
    },
  );
});

test("a year that is not a number is left out rather than sent", () => {
  assert.equal(listQuery({ year: "20x3" }).year, undefined);
  assert.equal(listQuery({ year: "12345" }).year, undefined);
});

test("bulk tag edits add once and remove every copy", () => {
  assert.deepEqual(withTag(["a"], "b"), ["a", "b"]);
  assert.deepEqual(withTag(["a", "b"], "a"), ["a", "b"]);
  assert.deepEqual(withoutTag(["a", "b"], "a"), ["b"]);
  assert.deepEqual(withoutTag(["a"], "z"), ["a"]);
});

test("undo re-saves the entry under the id it was saved as, with its fields", () => {
  const item = { paper_id: "arxiv:1", saved_as: "doi:10.1/x", status: "done", tags: ["t"], note: "n" };
  assert.deepEqual(restoreFields(item), { paperId: "doi:10.1/x", status: "done", tags: ["t"], note: "n" });
});

test("the import report says what was added, merged and refused, and why", () => {
  const report = {
    saved: 2,
    merged: 1,
    skipped: 1,
    items: [
      { input: "a", outcome: "saved" },
      { input: "bad", outcome: "skipped", reason: "no paper id" },
    ],
  };
  assert.equal(reportSummary(report), "Added 2, merged 1, refused 1.");
  assert.deepEqual(refusedLines(report), ["bad: no paper id"]);
});

test("a .bib file is imported as BibTeX, anything else as an id list", () => {
  assert.equal(importFormat("refs.BIB"), "bibtex");
  assert.equal(importFormat("ids.txt"), "ids");
});
