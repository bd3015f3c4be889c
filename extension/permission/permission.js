// Asks for the backend host permission on behalf of the overlay, whose content script cannot
// ask itself. Once granted, the background tells the reader's tab to load the overlay, and
// this page returns the reader there.

import { hasBackendAccess, requestBackendAccess } from "../lib/access.js";
import { withDefaults } from "../lib/config.js";
import { migrateFromStorageLocal } from "../lib/connection_store.js";

const ext = globalThis.browser ?? globalThis.chrome;
const $ = (id) => document.getElementById(id);
const readerTab = Number.parseInt(new URLSearchParams(location.search).get("tab") ?? "", 10);
let backendUrl = null;

function report(line, ok) {
  $("report").className = ok ? "ok" : "error";
  $("report").textContent = line;
}

async function backToReader() {
  if (!Number.isInteger(readerTab)) return;
  try {
    await ext.tabs.update(readerTab, { active: true });
  } catch {
    return; // the reader closed that tab: stay here
  }
  window.close();
}

$("allow").addEventListener("click", (event) => {
  if (!event.isTrusted || backendUrl === null) return;
  requestBackendAccess(ext, backendUrl).then((granted) => {
    if (!granted) {
      report("✗ Access was not granted: PaperLens cannot show papers until it is.", false);
      return;
    }
    report("✓ Access granted: PaperLens now loads on your paper's page.", true);
    backToReader();
  });
});

(async () => {
  ({ backendUrl } = withDefaults(await migrateFromStorageLocal(ext.storage.local)));
  $("backend").textContent = backendUrl;
  if (await hasBackendAccess(ext, backendUrl)) report("✓ PaperLens already has access to its backend.", true);
})();
