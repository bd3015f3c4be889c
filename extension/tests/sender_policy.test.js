// What the background answers a content script: only about the page the browser says it is on.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as messages from "../lib/messages.js";
import { contentScriptMessage, fromExtensionPage, MAX_LISTING_LINKS, senderPageUrl } from "../lib/sender_policy.js";

const PAPER_PAGE = "https://arxiv.org/abs/2205.13147";
const LISTING = "https://arxiv.org/list/cs.LG/new";
const EXTENSION = "chrome-extension://gbobfdahncdhllbbgipobmhgpcckgkph/";

test("only the extension's own pages count as privileged senders", () => {
  assert.ok(fromExtensionPage({ url: `${EXTENSION}popup/popup.html` }, EXTENSION));
  assert.ok(!fromExtensionPage({ url: PAPER_PAGE, tab: { id: 1 } }, EXTENSION));
  assert.ok(!fromExtensionPage({ url: "chrome-extension://someoneelse/popup.html" }, EXTENSION));
  assert.ok(!fromExtensionPage({}, EXTENSION));
});

test("the page is the tab's address in the top frame (it follows pushState), else the frame's", () => {
  const moved = "https://huggingface.co/papers/2506.05426";
  assert.equal(senderPageUrl({ frameId: 0, url: PAPER_PAGE, tab: { url: moved } }), moved);
  assert.equal(senderPageUrl({ frameId: 3, url: PAPER_PAGE, tab: { url: moved } }), PAPER_PAGE);
  assert.equal(senderPageUrl({ frameId: 0, url: PAPER_PAGE }), PAPER_PAGE);
  assert.equal(senderPageUrl({}), "");
});

test("a content script cannot name another page than its own", () => {
  const asked = contentScriptMessage(
    { type: messages.LOOKUP_PAGE, page: { url: "https://arxiv.org/abs/2401.01234", meta: {} } },
    PAPER_PAGE,
  );
  assert.equal(asked.page.url, PAPER_PAGE);
});

test("a content script can read, save and remove only its own page's paper", () => {
  for (const type of [messages.LIBRARY_GET, messages.LIBRARY_SAVE, messages.LIBRARY_REMOVE]) {
    assert.equal(contentScriptMessage({ type, paperId: "arxiv:2505.11816" }, PAPER_PAGE), null, type);
    assert.equal(contentScriptMessage({ type, paperId: "arxiv:2205.13147" }, "https://arxiv.org/list/cs.LG/new"), null);
    const own = contentScriptMessage({ type, paperId: "arxiv:2205.13147", tags: ["x"] }, PAPER_PAGE);
    assert.equal(own.paperId, "arxiv:2205.13147");
  }
});

test("a content script cannot list the reading list, suggestions, ask by hand, or test other backends", () => {
  for (const type of [
    messages.LIBRARY_LIST,
    messages.ASK_PAPER,
    messages.SUGGESTIONS_LIST,
    messages.FEEDBACK_SEND,
    messages.CONNECTION_TEST,
    "nonsense",
  ]) {
    assert.equal(contentScriptMessage({ type, backendUrl: "http://evil.example", token: "t" }, PAPER_PAGE), null, type);
  }
});

test("listing lookups only from listing pages, for links on the page's own host, bounded", () => {
  const hrefs = ["https://arxiv.org/abs/2205.13147", "https://evil.example/abs/2505.11816", 42, "not a url"];
  assert.equal(contentScriptMessage({ type: messages.LOOKUP_LISTING, hrefs }, PAPER_PAGE), null);
  assert.equal(contentScriptMessage({ type: messages.LOOKUP_LISTING, hrefs }, "https://evil.example/list/x"), null);
  const asked = contentScriptMessage({ type: messages.LOOKUP_LISTING, hrefs }, LISTING);
  assert.deepEqual(asked.hrefs, ["https://arxiv.org/abs/2205.13147"]);
  const many = Array.from(
    { length: MAX_LISTING_LINKS + 50 },
    (_, i) => `https://arxiv.org/abs/2205.${String(10000 + i)}`,
  );
  assert.equal(
    contentScriptMessage({ type: messages.LOOKUP_LISTING, hrefs: many }, LISTING).hrefs.length,
    MAX_LISTING_LINKS,
  );
});

test("only citation meta strings travel, and an unparsable sender address gets nothing", () => {
  const asked = contentScriptMessage(
    { type: messages.RESOLVE_PAGE, page: { meta: { citation_doi: "10.1/x", other: "y", citation_title: 5 } } },
    PAPER_PAGE,
  );
  assert.deepEqual(asked.page.meta, { citation_doi: "10.1/x" });
  assert.equal(contentScriptMessage({ type: messages.RESOLVE_PAGE }, ""), null);
});
