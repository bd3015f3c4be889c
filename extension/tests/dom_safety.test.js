// Server data reaches the DOM only as text: no module may parse strings as HTML.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HTML_SINKS = /\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write\(|DOMParser|createContextualFragment|\beval\(|new Function\(/;

function sources(directory) {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === "tests" ? [] : sources(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });
}

test("no extension module uses an HTML sink", () => {
  const files = sources(ROOT);
  assert.ok(files.length > 10);
  for (const file of files) {
    const line = readFileSync(file, "utf-8").split("\n").find((text) => HTML_SINKS.test(text));
    assert.equal(line, undefined, `${file}: ${line}`);
  }
});
