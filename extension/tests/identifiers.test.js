// The extension's identifier parsing must agree with the backend's on every shared vector.
// The vectors are read at test time (never copied), so new vectors are checked at once.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { localPaperId, parsePaperId, resolveUrl } from "../lib/identifiers.js";

const VECTORS_PATH =
  process.env.PAPERLENS_VECTORS ?? fileURLToPath(new URL("../../tests/vectors/identifiers.json", import.meta.url));
const missing = existsSync(VECTORS_PATH)
  ? false
  : `${VECTORS_PATH} is missing: the backend's identifier vectors have not landed on this branch`;
const vectors = missing
  ? { resolve_url: [], parse_paper_id: [], local_paper_id: [] }
  : JSON.parse(readFileSync(VECTORS_PATH, "utf-8"));

function label(index, text) {
  const shown = JSON.stringify(text);
  return `${index}: ${shown.length > 90 ? `${shown.slice(0, 87)}...` : shown}`;
}

describe("resolveUrl agrees with paperlens.identifiers.resolve_url", () => {
  vectors.resolve_url.forEach((vector, index) => {
    test(label(index, vector.url), () => {
      assert.deepEqual(resolveUrl(vector.url, vector.meta ?? null), vector.expect, vector.note);
    });
  });
});

describe("parsePaperId agrees with paperlens.identifiers.parse_paper_id", () => {
  vectors.parse_paper_id.forEach((vector, index) => {
    test(label(index, vector.input), () => {
      assert.deepEqual(parsePaperId(vector.input), vector.expect, vector.note);
    });
  });
});

describe("localPaperId agrees with paperlens.identifiers.local_paper_id", () => {
  vectors.local_paper_id.forEach((vector, index) => {
    test(label(index, vector.title), async () => {
      assert.equal(await localPaperId(vector.title), vector.expect, vector.note);
    });
  });
});

test("the shared vectors are all there", { skip: missing }, () => {
  assert.ok(vectors.resolve_url.length >= 80);
  assert.ok(vectors.parse_paper_id.length > 0 && vectors.local_paper_id.length > 0);
  const publisherVectors = vectors.resolve_url.filter((vector) => "publisher" in vector);
  assert.ok(publisherVectors.length >= 150);
  assert.ok(publisherVectors.filter((vector) => vector.expect === null).length >= 40);
  assert.ok(new Set(publisherVectors.map((vector) => vector.publisher)).size >= 20);
});
