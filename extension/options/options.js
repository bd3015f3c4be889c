// Options: backend URL, API token (with a connection test that says what is wrong), the
// Zotero user id and key for sending papers when Zotero desktop is not running, and one
// switch per site. Firefox gives every installation its own origin, so there the
// backend cannot list it for CORS: we ask for a host permission on the backend only.

import { requestBackendAccess } from "../lib/access.js";
import { normaliseBackendUrl, withDefaults } from "../lib/config.js";
import { migrateFromStorageLocal, writeConnection } from "../lib/connection_store.js";
import { el } from "../lib/dom.js";
import { askBackground, CONNECTION_TEST } from "../lib/messages.js";
import { SITES } from "../lib/sites.js";
import { zoteroSettings } from "../lib/zotero.js";

const ext = globalThis.browser ?? globalThis.chrome;
const $ = (id) => document.getElementById(id);

function report(lines, ok) {
  $("report").className = ok ? "ok" : "error";
  $("report").textContent = lines.join("\n");
}

async function load() {
  const connection = await migrateFromStorageLocal(ext.storage.local);
  const settings = withDefaults({ ...connection, ...(await ext.storage.local.get(["sites"])) });
  $("backend-url").value = settings.backendUrl;
  $("token").value = settings.token;
  const zotero = zoteroSettings(connection);
  $("zotero-user-id").value = zotero.userId;
  $("zotero-key").value = zotero.apiKey;
  $("sites").replaceChildren(
    ...SITES.map((site) =>
      el(
        document,
        "label",
        {},
        el(document, "input", { type: "checkbox", name: "site", value: site.id, checked: settings.sites[site.id] }),
        site.label,
      ),
    ),
  );
}

function formValues() {
  const backendUrl = normaliseBackendUrl($("backend-url").value);
  const sites = Object.fromEntries(
    [...document.querySelectorAll('input[name="site"]')].map((box) => [box.value, box.checked]),
  );
  return {
    backendUrl,
    token: $("token").value.trim(),
    zoteroUserId: $("zotero-user-id").value.trim(),
    zoteroKey: $("zotero-key").value.trim(),
    sites,
  };
}

$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  const values = formValues();
  if (!values.backendUrl) {
    report(["✗ The backend URL must be an http(s) address such as http://127.0.0.1:8000."], false);
    return;
  }
  requestBackendAccess(ext, values.backendUrl).then(async (granted) => {
    // The URL, the token and the Zotero key go where content scripts cannot reach
    // (lib/connection_store.js).
    await writeConnection(values);
    await ext.storage.local.set({ sites: values.sites });
    $("backend-url").value = values.backendUrl;
    report(granted ? ["✓ Saved."] : ["✓ Saved, but without access to the backend PaperLens cannot reach it."], granted);
  });
});

$("zotero-key-toggle").addEventListener("click", () => {
  const hidden = $("zotero-key").type === "password";
  $("zotero-key").type = hidden ? "text" : "password";
  $("zotero-key-toggle").textContent = hidden ? "Hide key" : "Show key";
});

$("test").addEventListener("click", () => {
  const values = formValues();
  if (!values.backendUrl) {
    report(["✗ The backend URL must be an http(s) address such as http://127.0.0.1:8000."], false);
    return;
  }
  report(["Testing…"], true);
  requestBackendAccess(ext, values.backendUrl).then(async () => {
    const answer = await askBackground(ext, {
      type: CONNECTION_TEST,
      backendUrl: values.backendUrl,
      token: values.token,
    });
    if (answer.ok) report(answer.lines, answer.ok);
    else report(answer.lines ?? [answer.error.line], false);
  });
});

load();
