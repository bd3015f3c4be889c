// Zotero items from paper documents, and the two routes: the desktop connector when it answers
// its ping, else the Web API in batches of 50 with per-item results.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  connectorItem,
  describeSend,
  permissionOrigins,
  sendToWebApi,
  sendToZotero,
  unsentLines,
  WEB_API_BATCH,
  zoteroItem,
  zoteroSettings,
} from "../lib/zotero.js";

const PREPRINT = {
  paper_id: "arxiv:2205.13147",
  ids: ["arxiv:2205.13147"],
  title: "Matryoshka Representation Learning",
  authors: ["Aditya Kusupati", "Gantavya Bhatt", "Plato"],
  published: "2022-05-26",
  abstract: "Learned representations are a central component.",
  code: [
    { url: "https://github.com/someone/fork", kind: "repository", host: "github.com", official: false, source: "s" },
    { url: "https://github.com/RAIVNLab/MRL", kind: "repository", host: "github.com", official: true, source: "s" },
  ],
};
const PUBLISHED = {
  ...PREPRINT,
  published_version: {
    venue: "NeurIPS",
    year: 2022,
    doi: "10.5555/3600270",
    pages: "30233-30249",
    entry_type: "inproceedings",
    source: "dblp",
  },
};
const SETTINGS = zoteroSettings({
  zoteroUserId: " 12345 ",
  zoteroKey: "k3y",
  zoteroConnectorUrl: "http://127.0.0.1:9/",
  zoteroApiUrl: "http://127.0.0.1:8/",
});

test("a preprint is a Zotero preprint carrying its arXiv id, abstract and authors", () => {
  assert.deepEqual(zoteroItem(PREPRINT), {
    itemType: "preprint",
    repository: "arXiv",
    archiveID: "arXiv:2205.13147",
    date: "2022-05-26",
    title: "Matryoshka Representation Learning",
    creators: [
      { creatorType: "author", firstName: "Aditya", lastName: "Kusupati" },
      { creatorType: "author", firstName: "Gantavya", lastName: "Bhatt" },
      { creatorType: "author", name: "Plato" },
    ],
    abstractNote: "Learned representations are a central component.",
    url: "https://arxiv.org/abs/2205.13147",
    extra: "arXiv: 2205.13147",
  });
});

test("the published version decides the type: a conference paper or a journal article", () => {
  const paper = zoteroItem(PUBLISHED);
  assert.equal(paper.itemType, "conferencePaper");
  assert.equal(paper.proceedingsTitle, "NeurIPS");
  assert.equal(paper.DOI, "10.5555/3600270");
  assert.equal(paper.pages, "30233-30249");
  assert.equal(paper.date, "2022");
  assert.equal(paper.extra, "arXiv: 2205.13147");
  assert.equal(paper.archiveID, undefined); // a preprint-only field
  const article = zoteroItem({
    ...PUBLISHED,
    published_version: { ...PUBLISHED.published_version, entry_type: "article", pages: null },
  });
  assert.equal(article.itemType, "journalArticle");
  assert.equal(article.publicationTitle, "NeurIPS");
  assert.equal(article.pages, undefined);
});

test("the connector item carries the official code link as a link, not a snapshot", () => {
  const item = connectorItem(PREPRINT, "p0");
  assert.equal(item.id, "p0");
  assert.deepEqual(item.attachments, [
    { title: "Code", url: "https://github.com/RAIVNLab/MRL", mimeType: "text/html", snapshot: false },
  ]);
  assert.deepEqual(connectorItem({ ...PREPRINT, code: [] }, "p1").attachments, []);
});

test("settings trim the credentials, default to the real hosts and ask for those hosts only", () => {
  assert.equal(SETTINGS.userId, "12345");
  assert.equal(SETTINGS.apiUrl, "http://127.0.0.1:8");
  const real = zoteroSettings({});
  assert.deepEqual(permissionOrigins(real), ["http://127.0.0.1/*", "https://api.zotero.org/*"]);
});

/** A fetch that records requests and answers them with `respond(url, init)`. */
function recorder(respond) {
  const calls = [];
  const fetchImpl = async (url, init = {}) => {
    calls.push({
      url,
      method: init.method ?? "GET",
      headers: init.headers ?? {},
      body: init.body ? JSON.parse(init.body) : null,
    });
    return respond(url, init, calls.length);
  };
  return { calls, fetchImpl };
}

/** The Web API's answer to a write: every object saved under a made-up key, but `failing` ones. */
function webApi(failing = new Set()) {
  let next = 0;
  return (url, init) => {
    if (url.endsWith("/connector/ping")) throw new TypeError("connection refused");
    const objects = JSON.parse(init.body);
    const successful = {};
    const failed = {};
    objects.forEach((object, index) => {
      if (failing.has(object.title)) failed[index] = { key: "", code: 400, message: "bad item" };
      else successful[index] = { key: `KEY${next++}`, data: object };
    });
    return new Response(JSON.stringify({ successful, success: {}, unchanged: {}, failed }), { status: 200 });
  };
}

test("with Zotero desktop running, everything goes to the connector in one saveItems", async () => {
  const { calls, fetchImpl } = recorder((url) =>
    url.endsWith("/ping") ? new Response("Zotero is running", { status: 200 }) : new Response(null, { status: 201 }),
  );
  const sent = await sendToZotero(fetchImpl, SETTINGS, [PREPRINT, PUBLISHED]);
  assert.equal(sent.route, "connector");
  assert.deepEqual(sent.results, [
    { paper_id: "arxiv:2205.13147", ok: true },
    { paper_id: "arxiv:2205.13147", ok: true },
  ]);
  assert.deepEqual(
    calls.map((call) => call.url),
    ["http://127.0.0.1:9/connector/ping", "http://127.0.0.1:9/connector/saveItems"],
  );
  const save = calls[1];
  assert.equal(save.headers["X-Zotero-Connector-API-Version"], "3");
  assert.equal(save.headers["Zotero-API-Key"], undefined); // the key stays home
  assert.deepEqual(
    save.body.items.map((item) => item.itemType),
    ["preprint", "conferencePaper"],
  );
});

test("without Zotero desktop, items go to the Web API in batches of 50, then their code links", async () => {
  const papers = Array.from({ length: 120 }, (_, index) => ({
    ...PREPRINT,
    paper_id: `arxiv:2205.${10000 + index}`,
    title: `Paper ${index}`,
  }));
  const { calls, fetchImpl } = recorder(webApi(new Set(["Paper 7", "Paper 60"])));
  const sent = await sendToZotero(fetchImpl, SETTINGS, papers);
  assert.equal(sent.route, "web_api");
  const writes = calls.filter((call) => call.method === "POST");
  assert.deepEqual(
    writes.map((call) => call.body.length),
    [50, 50, 20, 50, 50, 18], // 118 parents saved -> 118 attachments
  );
  for (const call of writes) {
    assert.equal(call.url, "http://127.0.0.1:8/users/12345/items");
    assert.equal(call.headers["Zotero-API-Key"], "k3y");
    assert.equal(call.headers["Zotero-API-Version"], "3");
    assert.ok(call.body.length <= WEB_API_BATCH);
  }
  const attachments = writes.slice(3).flatMap((call) => call.body);
  assert.ok(attachments.every((a) => a.itemType === "attachment" && a.linkMode === "linked_url"));
  assert.equal(attachments[0].url, "https://github.com/RAIVNLab/MRL");
  assert.equal(attachments[0].parentItem, "KEY0");
  const failed = sent.results.filter((result) => !result.ok);
  assert.deepEqual(
    failed.map((result) => [result.paper_id, result.message]),
    [
      ["arxiv:2205.10007", "bad item"],
      ["arxiv:2205.10060", "bad item"],
    ],
  );
  assert.equal(sent.results[0].key, "KEY0");
  assert.match(describeSend(sent), /^✓ Sent 118 of 120 to zotero\.org; arxiv:2205\.10007: bad item$/);
});

test("a refused key fails every item of the batch with a line that says why", async () => {
  const { fetchImpl } = recorder(() => new Response("Forbidden", { status: 403 }));
  const results = await sendToWebApi(fetchImpl, SETTINGS, [PREPRINT]);
  assert.deepEqual(results, [
    { paper_id: "arxiv:2205.13147", ok: false, message: "Zotero refused the API key (it needs write access)." },
  ]);
  assert.equal(
    describeSend({ route: "web_api", results }),
    "✗ Nothing was sent to Zotero; arxiv:2205.13147: Zotero refused the API key (it needs write access).",
  );
});

test("without Zotero desktop and without credentials, nothing is sent and the reader is told", async () => {
  const { calls, fetchImpl } = recorder(() => {
    throw new TypeError("connection refused");
  });
  await assert.rejects(sendToZotero(fetchImpl, zoteroSettings({}), [PREPRINT]), (error) => {
    assert.equal(error.kind, "zotero_setup");
    assert.match(error.line, /no Zotero user id and API key/);
    return true;
  });
  assert.deepEqual(
    calls.map((call) => call.url),
    ["http://127.0.0.1:23119/connector/ping"],
  );
});

test("each paper not sent gets a line with its reason, by title where the page knows it", () => {
  const results = [
    { paper_id: "arxiv:1", ok: true },
    { paper_id: "arxiv:2", ok: false, message: "PaperLens does not know this paper." },
    { paper_id: "arxiv:3", ok: false },
  ];
  const titles = { "arxiv:3": "A Known Title" };
  assert.deepEqual(
    unsentLines(results, (id) => titles[id]),
    ["arxiv:2: PaperLens does not know this paper.", "A Known Title: not sent"],
  );
  assert.deepEqual(unsentLines(undefined), []);
});
