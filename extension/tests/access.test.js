// Which browsers need the backend host permission, and what is asked for.
import assert from "node:assert/strict";
import { test } from "node:test";

import { hasBackendAccess, needsHostPermission, requestBackendAccess } from "../lib/access.js";

function browserAt(base, granted = []) {
  const asked = [];
  return {
    asked,
    runtime: { getURL: (path) => `${base}${path}` },
    permissions: {
      contains: async ({ origins }) => origins.every((origin) => granted.includes(origin)),
      request: async (wanted) => {
        asked.push(wanted);
        return true;
      },
    },
  };
}

test("Chrome reaches the backend through CORS: no permission is checked or asked for", async () => {
  const chrome = browserAt("chrome-extension://gbobfdahncdhllbbgipobmhgpcckgkph/");
  assert.equal(needsHostPermission(chrome), false);
  assert.equal(await hasBackendAccess(chrome, "http://127.0.0.1:8000"), true);
  assert.equal(await requestBackendAccess(chrome, "http://127.0.0.1:8000"), true);
  assert.deepEqual(chrome.asked, []);
});

test("Firefox needs the backend's host permission, and asks for that host only", async () => {
  const firefox = browserAt("moz-extension://0b6c1f43-1c1e-4b43-a4d4-2a7e0f6f3b11/");
  assert.equal(needsHostPermission(firefox), true);
  assert.equal(await hasBackendAccess(firefox, "http://127.0.0.1:8000"), false);
  await requestBackendAccess(firefox, "http://127.0.0.1:8000");
  assert.deepEqual(firefox.asked, [{ origins: ["http://127.0.0.1/*"] }]);
  const granted = browserAt("moz-extension://x/", ["http://127.0.0.1/*"]);
  assert.equal(await hasBackendAccess(granted, "http://127.0.0.1:8000"), true);
});
