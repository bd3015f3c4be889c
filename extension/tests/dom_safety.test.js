// Server data reaches the DOM only as text: no module may parse strings as HTML.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HTML_SINKS =
  /\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write\(|DOMParser|createContextualFragment|\beval\(|new Function\(/;

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
    const line = readFileSync(file, "utf-8")
      .split("\n")
      .find((text) => HTML_SINKS.test(text));
    assert.equal(line, undefined, `${file}: ${line}`);
  }
});

test("handlers wrapped in trusted() ignore events a script made", async () => {
  const { trusted } = await import("../lib/dom.js");
  const seen = [];
  const handler = trusted((event) => seen.push(event.type));
  handler({ type: "click", isTrusted: false });
  handler({ type: "click", isTrusted: true });
  assert.deepEqual(seen, ["click"]);
});

test("every click and focus handler of the in-page UI is wrapped in trusted()", () => {
  const files = ["content/overlay.js", "content/listing.js", "content/main.js", "lib/paper_view.js"];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), "utf-8");
    const handlers = [...text.matchAll(/addEventListener\(\s*"(click|focus)",\s*([^\s(]*)/g)];
    for (const [, event, wrapper] of handlers) assert.equal(wrapper, "trusted", `${file}: ${event}`);
    for (const [line] of text.matchAll(/onclick: [^,}]+/g))
      assert.match(line, /onclick: trusted\(/, `${file}: ${line}`);
  }
});
