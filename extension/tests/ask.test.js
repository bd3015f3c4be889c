// Asking by hand: pasted ids and addresses, read the way the popup's field reads them.
import assert from "node:assert/strict";
import { test } from "node:test";

import { EMPTY_LINE, readPasted } from "../lib/ask.js";

const MRL = { paper_id: "arxiv:2205.13147", version: null };

test("ids and addresses the shared resolver knows are read locally", () => {
  assert.deepEqual(readPasted(" 2205.13147 "), { found: MRL });
  assert.deepEqual(readPasted("arXiv:2205.13147v2"), { found: { ...MRL, version: 2 } });
  assert.deepEqual(readPasted("10.1145/3292500.3330648"), {
    found: { paper_id: "doi:10.1145/3292500.3330648", version: null },
  });
  assert.deepEqual(readPasted("https://arxiv.org/pdf/2205.13147v3.pdf"), { found: { ...MRL, version: 3 } });
  assert.deepEqual(readPasted("https://openreview.net/pdf?id=YicbFdNTTy"), {
    found: { paper_id: "openreview:YicbFdNTTy", version: null },
  });
});

test("an address copied without its scheme is read as https", () => {
  assert.deepEqual(readPasted("arxiv.org/abs/2205.13147"), { found: MRL });
  assert.deepEqual(readPasted("www.example.org/articles/42"), { address: "https://www.example.org/articles/42" });
});

test("addresses the extension does not know go to the backend as they are", () => {
  assert.deepEqual(readPasted("https://example.org/paper/42"), { address: "https://example.org/paper/42" });
  assert.deepEqual(readPasted("http://journals.example.org/a?id=1"), {
    address: "http://journals.example.org/a?id=1",
  });
});

test("text that is no id and no address is a clear error, never a request", () => {
  assert.deepEqual(readPasted("   "), { error: EMPTY_LINE });
  assert.deepEqual(readPasted(undefined), { error: EMPTY_LINE });
  for (const text of ["hello world", "2205.1314", "javascript:alert(1)", "ftp://arxiv.org/abs/2205.13147"]) {
    const read = readPasted(text);
    assert.deepEqual(Object.keys(read), ["error"], text);
    assert.match(read.error, /is not an arXiv id \(2205\.13147\), a DOI \(10\.…\) or an address\.$/);
  }
  const long = readPasted(`Attention ${"word ".repeat(40)}`);
  assert.ok(long.error.length < 140, "a pasted paragraph is shortened in the line");
  assert.match(readPasted("x".repeat(3000)).error, /too long/);
});
