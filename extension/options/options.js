// Options: backend URL, API token (with a connection test that says what is wrong and saves
// only what passed it), the
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

const NOT_SAVED = "Nothing was saved: the stored settings are unchanged.";

/** Stores the form's values (after the click has asked for access to the backend). */
async function save(values) {
  // The URL, the token and the Zotero key go where content scripts cannot reach
  // (lib/connection_store.js).
  await writeConnection(values);
  await ext.storage.local.set({ sites: values.sites });
  $("backend-url").value = values.backendUrl;
}

/** The form's values when the backend URL is usable; otherwise says why and gives null. */
function checkedValues() {
  const values = formValues();
  if (values.backendUrl) return values;
  report(["✗ The backend URL must be an http(s) address such as http://127.0.0.1:8000.", NOT_SAVED], false);
  return null;
}

$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  const values = checkedValues();
  if (!values) return;
  requestBackendAccess(ext, values.backendUrl).then(async (granted) => {
    await save(values);
    report(granted ? ["✓ Saved."] : ["✓ Saved, but without access to the backend PaperLens cannot reach it."], granted);
  });
});

/** A show/hide switch for a secret field: the button's aria-pressed says whether it shows. */
function revealToggle(button, field) {
  button.addEventListener("click", () => {
    const show = field.type === "password";
    field.type = show ? "text" : "password";
    button.setAttribute("aria-pressed", String(show));
  });
}

revealToggle($("token-toggle"), $("token"));
revealToggle($("zotero-key-toggle"), $("zotero-key"));

// Test and save: the values are stored only once the backend has answered and accepted the token,
// so a typo never replaces settings that worked.
$("test").addEventListener("click", () => {
  const values = checkedValues();
  if (!values) return;
  report(["Testing…"], true);
  // The permission must be asked for within the click, before any await.
  requestBackendAccess(ext, values.backendUrl).then(async () => {
    const answer = await askBackground(ext, {
      type: CONNECTION_TEST,
      backendUrl: values.backendUrl,
      token: values.token,
    });
    const lines = answer.lines ?? [answer.error.line];
    if (!answer.ok) {
      report([...lines, NOT_SAVED], false);
      return;
    }
    await save(values);
    report([...lines, "✓ Saved."], true);
  });
});

load();
