// The manifest asks for no more than the extension needs, and covers every site it knows.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { resolveUrl } from "../lib/identifiers.js";
import { originMatchPatterns, pageMatchPatterns, SITES } from "../lib/sites.js";

const manifest = JSON.parse(readFileSync(new URL("../manifest.json", import.meta.url), "utf-8"));
const matches = manifest.content_scripts.flatMap((script) => script.matches);

// One paper page per site, as a reader would open it.
const SAMPLES = {
  arxiv: "https://arxiv.org/abs/2205.13147",
  huggingface: "https://huggingface.co/papers/2205.13147",
  alphaxiv: "https://www.alphaxiv.org/overview/2205.13147",
  openreview: "https://openreview.net/forum?id=9njZa1fm35",
  acl: "https://aclanthology.org/2023.acl-long.1/",
  semanticscholar: "https://www.semanticscholar.org/paper/Matryoshka/" + "a".repeat(40),
  pmlr: "https://proceedings.mlr.press/v202/kirchenbauer23a.html",
  neurips:
    "https://proceedings.neurips.cc/paper_files/paper/2022/hash/c32319f4868da7613d78af9993100e42-Abstract-Conference.html",
  cvf: "https://openaccess.thecvf.com/content/CVPR2023/html/Kirillov_Segment_Anything_CVPR_2023_paper.html",
};

function covered(url) {
  const { protocol, host, pathname } = new URL(url);
  return matches.some((pattern) => {
    const [scheme, rest] = pattern.split("://");
    const slash = rest.indexOf("/");
    const path = new RegExp(`^${rest.slice(slash).replaceAll("*", ".*")}$`);
    return `${scheme}:` === protocol && rest.slice(0, slash) === host && path.test(pathname);
  });
}

test("every site switch has a paper page the content script runs on and resolves", () => {
  assert.deepEqual(Object.keys(SAMPLES).sort(), SITES.map((site) => site.id).sort());
  for (const [site, url] of Object.entries(SAMPLES)) {
    assert.ok(covered(url), `${site}: ${url} is not covered by content_scripts`);
    assert.notEqual(resolveUrl(url), null, `${site}: ${url} names no paper`);
  }
});

test("the manifest's match lists are the site registry's (lib/sites.js), in its order", () => {
  assert.deepEqual(matches, pageMatchPatterns());
  assert.deepEqual(manifest.host_permissions, pageMatchPatterns());
  const resources = manifest.web_accessible_resources.flatMap((entry) => entry.matches);
  assert.deepEqual(resources, originMatchPatterns());
  const hosts = SITES.flatMap((site) => site.hosts);
  assert.equal(new Set(hosts).size, hosts.length, "a host belongs to one site only");
});

test("no broad host access: no <all_urls>, no wildcard hosts, nothing for the backend", () => {
  const granted = [...matches, ...manifest.host_permissions];
  assert.ok(!granted.some((pattern) => pattern === "<all_urls>" || pattern.includes("://*")));
  assert.ok(!granted.some((pattern) => /127\.0\.0\.1|localhost/.test(pattern)));
  assert.deepEqual(manifest.host_permissions, matches);
  assert.deepEqual(manifest.permissions.sort(), ["activeTab", "alarms", "contextMenus", "scripting", "storage"]);
});

test("the manifest loads in both browsers and keeps the fixed Chrome id", () => {
  assert.equal(manifest.manifest_version, 3);
  assert.equal(manifest.background.service_worker, "background.js");
  assert.deepEqual(manifest.background.scripts, ["background.js"]);
  assert.ok(manifest.browser_specific_settings.gecko.id);
  // Chrome's id is the first 32 hex digits of SHA-256(key), written with the letters a-p;
  // paperlens/settings.py grants CORS to exactly this id.
  const digest = createHash("sha256").update(Buffer.from(manifest.key, "base64")).digest("hex");
  const id = [...digest.slice(0, 32)].map((d) => String.fromCharCode(97 + Number.parseInt(d, 16))).join("");
  assert.equal(id, "gbobfdahncdhllbbgipobmhgpcckgkph");
});
