// How the background reads the backend's answers about one paper: a source that cannot be
// reached is told apart from a backend that failed, and the reader reads which source it was.
import assert from "node:assert/strict";
import { test } from "node:test";

import { BackendError, describeError, fetchPaper } from "../lib/backend.js";

const SETTINGS = { backendUrl: "http://127.0.0.1:8000", token: "" };

function answering(status, body, headers = {}) {
  return async () =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

test("a paper whose source is unreachable reads as that source's failure, in the backend's words", async () => {
  const message =
    "PaperLens could not fetch arxiv:1706.03762: arXiv could not be reached (unreachable). It will try again after 10:42:00 UTC.";
  const body = { error: { code: "source_unreachable", message, source: "arxiv", reason: "unreachable" } };
  const error = await fetchPaper(answering(503, body, { "Retry-After": "40" }), SETTINGS, "arxiv:1706.03762").then(
    () => null,
    (thrown) => thrown,
  );
  assert.ok(error instanceof BackendError);
  assert.equal(error.kind, "source");
  const line = describeError(error, SETTINGS.backendUrl);
  assert.match(line, /arXiv could not be reached/);
  assert.match(line, /try again after 10:42:00 UTC/);
  assert.doesNotMatch(line, /had a problem|Cannot reach PaperLens/);
});

test("any other 503 still reads as the backend's own problem", async () => {
  const body = { error: { code: "cache_unavailable", message: "Redis is unavailable; try again shortly." } };
  const error = await fetchPaper(answering(503, body), SETTINGS, "arxiv:1706.03762").then(
    () => null,
    (thrown) => thrown,
  );
  assert.equal(error.kind, "server");
  assert.match(describeError(error, SETTINGS.backendUrl), /had a problem \(HTTP 503\)/);
});
