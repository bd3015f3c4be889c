// Builds the per-browser folders of the extension from extension/ (whose manifest loads
// unpacked in both): Chrome keeps its service worker and key, Firefox its background
// scripts and add-on id. `make extension` then zips each with web-ext.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SOURCE = "extension";
const OUT = process.argv[2] ?? "build/extension";
const SKIP = new Set(["tests"]);

function chrome(manifest) {
  const { browser_specific_settings: _gecko, ...rest } = manifest;
  const { scripts: _scripts, ...background } = manifest.background;
  return { ...rest, background };
}

function firefox(manifest) {
  const { key: _key, minimum_chrome_version: _chrome, ...rest } = manifest;
  const { service_worker: _worker, ...background } = manifest.background;
  return { ...rest, background };
}

const manifest = JSON.parse(readFileSync(join(SOURCE, "manifest.json"), "utf-8"));
for (const [browser, shape] of [
  ["chrome", chrome],
  ["firefox", firefox],
]) {
  const target = join(OUT, browser);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync(SOURCE, target, {
    recursive: true,
    filter: (path) => !SKIP.has(path.slice(SOURCE.length + 1).split("/")[0]),
  });
  writeFileSync(join(target, "manifest.json"), `${JSON.stringify(shape(manifest), null, 2)}\n`);
  console.log(`${browser}: ${target}`);
}
