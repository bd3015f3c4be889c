// The extension's pure logic: settings, polling backoff, cache policy, link shaping, listings.
import assert from "node:assert/strict";
import { test } from "node:test";

import { MAX_ATTEMPTS, MAX_DELAY_MS, pollDelay } from "../lib/backoff.js";
import { entryFor, isFresh, libraryKey, paperKey, TTL_MS } from "../lib/cache.js";
import { backendPermissionPattern, DEFAULT_BACKEND_URL, normaliseBackendUrl, withDefaults } from "../lib/config.js";
import { badgeMarks, badgesFor, batches, BATCH_SIZE, entryPaperId, groupLinks } from "../lib/listing.js";
import { askBackground } from "../lib/messages.js";
import { codeLinks, linkLabel, paperUrl, parseTags, projectPage, safeHttpUrl } from "../lib/links.js";
import { isListingPage, listingAnchor, siteForHost, SITES } from "../lib/sites.js";

test("backend URLs are normalised, and anything but plain http(s) is refused", () => {
  assert.equal(normaliseBackendUrl(" http://127.0.0.1:8000/ "), "http://127.0.0.1:8000");
  assert.equal(normaliseBackendUrl("https://papers.example.org/lens//"), "https://papers.example.org/lens");
  assert.equal(normaliseBackendUrl("HTTP://LOCALHOST:8000"), "http://localhost:8000");
  for (const bad of [
    "",
    "127.0.0.1:8000",
    "ftp://x.org",
    "javascript:alert(1)",
    "http://u:p@x.org",
    "http://x.org/?a=1",
  ]) {
    assert.equal(normaliseBackendUrl(bad), null, bad);
  }
});

test("the runtime host permission covers the configured backend only", () => {
  assert.equal(backendPermissionPattern("http://127.0.0.1:8000"), "http://127.0.0.1/*");
  assert.equal(backendPermissionPattern("https://lens.example.org/api"), "https://lens.example.org/*");
});

test("settings fall back to defaults, and new site switches start enabled", () => {
  const settings = withDefaults({ token: "  abc ", sites: { arxiv: false } });
  assert.equal(settings.backendUrl, DEFAULT_BACKEND_URL);
  assert.equal(settings.token, "abc");
  assert.equal(settings.sites.arxiv, false);
  assert.equal(settings.sites.openreview, true);
  assert.equal(Object.keys(settings.sites).length, SITES.length);
});

test("each supported host has one site switch; look-alike hosts have none", () => {
  assert.equal(siteForHost("arxiv.org").id, "arxiv");
  assert.equal(siteForHost("PROCEEDINGS.NEURIPS.CC").id, "neurips");
  assert.equal(siteForHost("arxiv.org.evil.example"), null);
  assert.equal(siteForHost("example.com"), null);
});

test("listing pages are the listing sites' listing paths only, each with its badge anchor", () => {
  const at = (url) => new URL(url);
  assert.ok(isListingPage("arxiv", at("https://arxiv.org/list/cs.LG/new")));
  assert.ok(!isListingPage("arxiv", at("https://arxiv.org/abs/2205.13147")));
  assert.ok(isListingPage("huggingface", at("https://huggingface.co/papers/trending")));
  assert.ok(!isListingPage("huggingface", at("https://huggingface.co/papers/2205.13147")));
  assert.ok(!isListingPage("openreview", at("https://openreview.net/list/x")));
  assert.equal(listingAnchor("huggingface"), "h3 a, h2 a");
  assert.equal(listingAnchor("openreview"), null);
});

test("polling honours Retry-After, doubles, is capped, and gives up", () => {
  assert.equal(pollDelay(0, 2), 2000);
  assert.equal(pollDelay(1, 2), 4000);
  assert.equal(pollDelay(0, null), 1000);
  assert.equal(pollDelay(10, 2), MAX_DELAY_MS);
  assert.equal(pollDelay(MAX_ATTEMPTS, 2), null);
});

test("ready and unknown answers are cached briefly; pending answers never", () => {
  const now = 1_000_000;
  const ready = entryFor({ status: "ready", paper: {} }, now);
  assert.ok(isFresh(ready, now + TTL_MS.ready - 1));
  assert.ok(!isFresh(ready, now + TTL_MS.ready));
  assert.ok(!isFresh(ready, now - 1), "a clock that went back invalidates");
  assert.equal(entryFor({ status: "pending", retryAfter: 2 }, now), null);
  assert.ok(isFresh(entryFor({ status: "unknown" }, now), now + 1000));
  assert.notEqual(paperKey("http://a", "arxiv:1"), paperKey("http://b", "arxiv:1"));
});

test("the saved-ids cache is per reader and never holds the token", async () => {
  const first = await libraryKey("http://a", "secret-token-one");
  assert.equal(first, await libraryKey("http://a", "secret-token-one"));
  assert.notEqual(first, await libraryKey("http://a", "secret-token-two"));
  assert.ok(!first.includes("secret") && !first.includes("one"));
});

const PAPER = {
  code: [
    {
      url: "https://huggingface.co/x/model",
      kind: "model",
      host: "huggingface.co",
      official: false,
      source: "abstract",
    },
    { url: "https://github.com/fork/MRL", kind: "repository", host: "github.com", official: false, source: "comments" },
    { url: "https://mrl.github.io", kind: "project_page", host: "mrl.github.io", official: true, source: "abstract" },
    {
      url: "https://github.com/RAIVNLab/MRL",
      kind: "repository",
      host: "github.com",
      official: true,
      source: "abstract",
    },
    { url: "javascript:alert(1)", kind: "repository", host: "x", official: true, source: "abstract" },
  ],
};

test("code links put official ones first, keep project pages apart and drop unsafe URLs", () => {
  assert.deepEqual(
    codeLinks(PAPER).map((link) => link.url),
    ["https://github.com/RAIVNLab/MRL", "https://github.com/fork/MRL", "https://huggingface.co/x/model"],
  );
  assert.equal(projectPage(PAPER).url, "https://mrl.github.io");
  assert.equal(projectPage({ code: [] }), null);
  assert.equal(linkLabel("https://github.com/RAIVNLab/MRL/"), "github.com/RAIVNLab/MRL");
  assert.equal(safeHttpUrl("data:text/html,<script>"), null);
});

test("related papers open where they live; local ids have no page", () => {
  assert.equal(paperUrl("arxiv:2205.13147"), "https://arxiv.org/abs/2205.13147");
  assert.equal(paperUrl("arxiv:hep-th/9901001"), "https://arxiv.org/abs/hep-th/9901001");
  assert.equal(paperUrl("doi:10.1145/3292500.3330648"), "https://doi.org/10.1145/3292500.3330648");
  assert.equal(paperUrl("openreview:abc_DEF-1"), "https://openreview.net/forum?id=abc_DEF-1");
  assert.equal(paperUrl("pl:0123456789abcdef"), null);
  assert.equal(paperUrl("nonsense"), null);
});

test("tags as typed become a clean list", () => {
  assert.deepEqual(parseTags(" rl, moe ,, rl "), ["rl", "moe"]);
  assert.deepEqual(parseTags(""), []);
});

test("a listing's links collapse to one id per paper, and other links are ignored", () => {
  const { ids, idsByHref } = groupLinks([
    "https://arxiv.org/abs/2205.13147",
    "https://arxiv.org/pdf/2205.13147",
    "https://arxiv.org/html/2205.13147v3",
    "https://arxiv.org/format/2205.13147",
    "https://arxiv.org/abs/2506.05426",
    "https://arxiv.org/list/cs.LG/new",
  ]);
  assert.deepEqual(ids, ["arxiv:2205.13147", "arxiv:2506.05426"]);
  assert.equal(idsByHref["https://arxiv.org/html/2205.13147v3"], "arxiv:2205.13147");
  assert.equal(idsByHref["https://arxiv.org/format/2205.13147"], undefined);
});

test("badges say code available, link to it, and already saved", () => {
  const saved = new Set(["arxiv:2205.13147"]);
  const withCode = {
    paper_id: "arxiv:2205.13147",
    status: "ready",
    badges: { code: true, official_code: true, code_url: "https://github.com/RAIVNLab/MRL" },
  };
  assert.deepEqual(badgesFor(withCode, saved), {
    paper_id: "arxiv:2205.13147",
    code: true,
    official_code: true,
    code_url: "https://github.com/RAIVNLab/MRL",
    saved: true,
  });
  const unofficial = { paper_id: "arxiv:1", badges: { code: true, official_code: false } };
  assert.deepEqual(badgesFor(unofficial, saved), {
    paper_id: "arxiv:1",
    code: true,
    official_code: false,
    code_url: null,
    saved: false,
  });
  const pending = { paper_id: "arxiv:2", status: "pending", badges: null };
  assert.equal(badgesFor(pending, saved).code, false);
  assert.equal(badgesFor(pending, saved).code_url, null);
  assert.equal(entryPaperId({ paper_id: "arXiv:2205.13147v2" }), "arxiv:2205.13147");
  assert.equal(entryPaperId({ paper: { paper_id: "arxiv:2205.13147" } }), "arxiv:2205.13147");
});

test("a badge links only to http(s) code, and never when the backend marked no code", () => {
  const item = (code_url, code = true) => ({ paper_id: "arxiv:1", badges: { code, official_code: false, code_url } });
  const none = new Set();
  assert.equal(badgesFor(item("javascript:alert(1)"), none).code_url, null);
  assert.equal(badgesFor(item("data:text/html,hi"), none).code_url, null);
  assert.equal(badgesFor(item({ url: "https://x.org" }), none).code_url, null);
  assert.equal(badgesFor(item("https://github.com/a/b", false), none).code_url, null);
  assert.equal(badgesFor(item("https://github.com/a/b"), none).code_url, "https://github.com/a/b");
});

test("badge marks say official or community code in words and labels, and the saved mark's label", () => {
  const official = badgeMarks({ code: true, official_code: true, code_url: "https://github.com/a/b", saved: true });
  assert.deepEqual(official.code, {
    official: true,
    word: "official code",
    label: "Code available, official",
    href: "https://github.com/a/b",
  });
  assert.deepEqual(official.saved, { word: "saved", label: "In your reading list", shown: true });
  const community = badgeMarks({ code: true, official_code: false, code_url: null, saved: false });
  assert.equal(community.code.word, "community code");
  assert.equal(community.code.label, "Code available, community");
  assert.equal(community.code.href, null);
  assert.equal(community.saved.shown, false);
  assert.equal(badgeMarks({ code: false, official_code: false, saved: false }).code, null);
  for (const marks of [official, community]) {
    for (const text of [marks.code.word, marks.code.label, marks.saved.word, marks.saved.label])
      assert.doesNotMatch(text, /null|undefined|\[object/);
  }
});

test("a listing is one batch request unless it holds more papers than a batch takes", () => {
  const ids = Array.from({ length: 450 }, (_, i) => `arxiv:2205.${String(10000 + i)}`);
  assert.deepEqual(batches(ids.slice(0, 25)).length, 1);
  const split = batches(ids);
  assert.deepEqual(
    split.map((chunk) => chunk.length),
    [BATCH_SIZE, BATCH_SIZE, 50],
  );
  assert.deepEqual(split.flat(), ids);
});

test("a message the background cannot answer comes back as one failure line, like any other", async () => {
  const stopped = { runtime: { sendMessage: async () => Promise.reject(new Error("Receiving end does not exist.")) } };
  assert.deepEqual(await askBackground(stopped, { type: "paper/lookup" }), {
    ok: false,
    error: { kind: "extension", line: "✗ PaperLens could not answer: Receiving end does not exist." },
  });
  const answering = { runtime: { sendMessage: async (message) => ({ ok: true, echo: message.type }) } };
  assert.deepEqual(await askBackground(answering, { type: "paper/lookup" }), { ok: true, echo: "paper/lookup" });
});
