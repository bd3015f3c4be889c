// The toolbar icon's badge: what a tab's paper earns, and the text, colour and title shown.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  badgeAllowed,
  CODE_COLOR,
  CODE_TEXT,
  DEFAULT_TITLE,
  needsAddressLookup,
  paperMarks,
  SAVED_COLOR,
  SAVED_TEXT,
  tabBadge,
} from "../lib/badge.js";
import { withDefaults } from "../lib/config.js";

const REPO = { url: "https://github.com/RAIVNLab/MRL", kind: "repository", official: true };
const COMMUNITY = { url: "https://github.com/someone/mrl", kind: "repository", official: false };
const PROJECT = { url: "https://mrl.example.org", kind: "project_page", official: true };

function ready(code, paperId = "arxiv:2205.13147") {
  return { status: "ready", paper_id: paperId, paper: { paper_id: paperId, title: "MRL", code } };
}

test("a paper's marks: code as the popup lists it, and whether it is saved", () => {
  assert.deepEqual(paperMarks(ready([REPO]), new Set()), { code: true, officialCode: true, saved: false });
  assert.deepEqual(paperMarks(ready([COMMUNITY]), new Set(["arxiv:2205.13147"])), {
    code: true,
    officialCode: false,
    saved: true,
  });
  // A project page is not code; a link the popup would not show is not code either.
  const unsafe = { url: "javascript:alert(1)", kind: "repository", official: true };
  assert.equal(paperMarks(ready([PROJECT, unsafe]), new Set()).code, false);
});

test("a paper still being prepared or unknown earns only its saved mark", () => {
  const saved = new Set(["arxiv:2205.13147"]);
  for (const status of ["pending", "unknown"]) {
    const marks = paperMarks({ status, paper_id: "arxiv:2205.13147" }, saved);
    assert.deepEqual(marks, { code: false, officialCode: false, saved: true }, status);
  }
  assert.equal(paperMarks(null, saved).saved, false);
});

test("a paper saved under its canonical id is saved when the page named another of its ids", () => {
  const lookup = ready([], "arxiv:2205.13147");
  lookup.paper_id = "doi:10.48550/example";
  assert.equal(paperMarks(lookup, new Set(["arxiv:2205.13147"])).saved, true);
});

test("the badge says code, or shows a dot for a saved paper without code", () => {
  assert.deepEqual(tabBadge({ code: true, officialCode: true, saved: false }), {
    text: CODE_TEXT,
    color: CODE_COLOR,
    title: `${DEFAULT_TITLE}: official code available`,
  });
  assert.deepEqual(tabBadge({ code: true, officialCode: false, saved: true }), {
    text: CODE_TEXT,
    color: SAVED_COLOR,
    title: `${DEFAULT_TITLE}: code available, in your reading list`,
  });
  assert.deepEqual(tabBadge({ code: false, officialCode: false, saved: true }), {
    text: SAVED_TEXT,
    color: SAVED_COLOR,
    title: `${DEFAULT_TITLE}: in your reading list`,
  });
  assert.equal(CODE_TEXT, "code");
  assert.ok(SAVED_TEXT.length <= 4);
});

test("no marks, or no paper, clear the badge and restore the extension's title", () => {
  const empty = { text: "", color: CODE_COLOR, title: DEFAULT_TITLE };
  assert.deepEqual(tabBadge(null), empty);
  assert.deepEqual(tabBadge({ code: false, officialCode: false, saved: false }), empty);
});

test("sites the reader switched off get no badge; addresses outside the registry do", () => {
  const sites = withDefaults({ sites: { arxiv: false } }).sites;
  assert.equal(badgeAllowed("https://arxiv.org/pdf/2205.13147", sites), false);
  assert.equal(badgeAllowed("https://openreview.net/pdf?id=YicbFdNTTy", sites), true);
  assert.equal(badgeAllowed("https://dl.acm.org/doi/pdf/10.1145/3292500.3330648", sites), true);
  assert.equal(badgeAllowed("not an address", sites), false);
});

test("the background looks up PDF tabs and other sites' pages; content scripts look up the rest", () => {
  for (const url of [
    "https://arxiv.org/pdf/2205.13147v3",
    "https://arxiv.org/pdf/2205.13147.pdf",
    "https://openreview.net/pdf?id=YicbFdNTTy",
    "https://aclanthology.org/2023.acl-long.1.pdf",
    "http://proceedings.mlr.press/v37/ioffe15.pdf",
    "https://openaccess.thecvf.com/content/CVPR2022/papers/X_CVPR_2022_paper.PDF",
    "https://dl.acm.org/doi/10.1145/3292500.3330648",
  ]) {
    assert.equal(needsAddressLookup(url), true, url);
  }
  for (const url of [
    "https://arxiv.org/abs/2205.13147",
    "https://openreview.net/forum?id=YicbFdNTTy",
    "https://huggingface.co/papers/2205.13147",
    "not an address",
  ]) {
    assert.equal(needsAddressLookup(url), false, url);
  }
});
