// The popup: the current tab's paper (PDF tabs included), a paper asked for by hand, either of
// which it can send to Zotero, the reading list with search and filters, and the suggestions
// with their reasons, each in a tab of its own so the popup fits the browser's 600 px. All
// data comes from the background.

import { hasBackendAccess, requestBackendAccess } from "../lib/access.js";
import { describeError } from "../lib/backend.js";
import { withDefaults } from "../lib/config.js";
import { migrateFromStorageLocal } from "../lib/connection_store.js";
import { el, externalLink } from "../lib/dom.js";
import { paperUrl } from "../lib/links.js";
import * as messages from "../lib/messages.js";
import { paperDetails, problemLine, remedy, saveForm } from "../lib/paper_view.js";
import { requestZoteroAccess, zoteroSettings } from "../lib/zotero.js";

const ext = globalThis.browser ?? globalThis.chrome;
const $ = (id) => document.getElementById(id);
const send = (message) => messages.askBackground(ext, message);
const openOptions = () => ext.runtime.openOptionsPage();
const STATUS_LABELS = { to_read: "To read", reading: "Reading", done: "Done" };

// Read before anything is drawn: asking for access must happen synchronously in the click.
const connection = await migrateFromStorageLocal(ext.storage.local);
const { backendUrl } = withDefaults(connection);
const zotero = zoteroSettings(connection);

/** The buttons that mend a failed answer (lib/paper_view.js's remedy); `retry` asks again. */
const fixes = (retry) => ({ retry, allowAccess, openOptions });
const problem = (error, retry) => problemLine(document, error.line, remedy(error, fixes(retry)));

/** The line above the sections, with the button that mends it. */
function showProblem(error, retry) {
  const { label, run } = remedy(error, fixes(retry));
  $("problem").hidden = false;
  $("problem").replaceChildren(
    error.line,
    " ",
    el(document, "button", { type: "button", className: "link", onclick: run }, label),
  );
}

/** The tab the popup is about: ?tab=<id> when given (tests, shortcuts), else the active one. */
async function currentTab() {
  const wanted = Number.parseInt(new URLSearchParams(location.search).get("tab") ?? "", 10);
  if (Number.isInteger(wanted)) return ext.tabs.get(wanted);
  const [tab] = await ext.tabs.query({ active: true, currentWindow: true });
  return tab;
}

/** citation_* tags of any page the reader opened the popup on (activeTab grants this). */
async function tabMeta(tabId) {
  try {
    const [result] = await ext.scripting.executeScript({
      target: { tabId },
      func: (names) =>
        Object.fromEntries(
          names
            .map((name) => [name, document.querySelector(`meta[name="${name}"]`)?.content?.trim()])
            .filter(([, value]) => value),
        ),
      args: [[...messages.PAGE_META_NAMES]],
    });
    return result?.result ?? {};
  } catch {
    return {}; // PDF viewers and browser pages cannot be scripted; the URL must do.
  }
}

async function renderCurrent() {
  const box = $("current-body");
  const tab = await currentTab();
  if (!tab?.url) {
    box.replaceChildren(el(document, "p", { className: "muted" }, "No paper in this tab."));
    box.dataset.state = "none";
    return;
  }
  let page = { url: tab.url, meta: {} };
  let resolved = await send({ type: messages.RESOLVE_PAGE, page });
  if (resolved.ok && !resolved.found) {
    page = { url: tab.url, meta: await tabMeta(tab.id) };
    resolved = await send({ type: messages.RESOLVE_PAGE, page });
  }
  if (!resolved.ok || !resolved.found) {
    box.replaceChildren(el(document, "p", { className: "muted" }, "No paper recognised in this tab."));
    box.dataset.state = "none";
    return;
  }
  const answer = await send({ type: messages.LOOKUP_PAGE, page });
  await showPaper(box, answer, renderCurrent);
}

/** A looked-up paper in `box`: its title, the Save form and its details; `retry` asks again. */
async function showPaper(box, answer, retry) {
  if (!answer.ok) {
    box.dataset.state = "error";
    box.replaceChildren(problem(answer.error, retry));
    return;
  }
  let entry = null;
  let entryError = null;
  if (answer.hasToken) {
    const got = await send({ type: messages.LIBRARY_GET, paperId: answer.paper_id });
    if (got.ok) entry = got.entry;
    else entryError = got.error;
  }
  const draw = (after = {}) => {
    const paper = answer.status === "ready" ? answer.paper : null;
    box.dataset.state = answer.status;
    box.dataset.saved = String(Boolean(entry));
    // replaceChildren writes a null argument out as the text "null": leave absent parts out.
    const pending =
      answer.status === "pending"
        ? [el(document, "p", { className: "muted" }, "PaperLens is preparing this paper; reopen in a few seconds.")]
        : [];
    box.replaceChildren(
      el(document, "h2", { className: "title" }, paper?.title ?? answer.paper_id),
      ...pending,
      entryError
        ? problem(entryError, retry)
        : saveForm(document, {
            entry,
            hasToken: answer.hasToken,
            after,
            actions: {
              save: (fields) => send({ type: messages.LIBRARY_SAVE, paperId: answer.paper_id, ...fields }),
              remove: () => send({ type: messages.LIBRARY_REMOVE, paperId: answer.paper_id }),
              openOptions,
              // Focus and the announcement stay with the control the reader used.
              changed: (newEntry, after) => {
                entry = newEntry;
                draw(after);
                renderLibrary();
              },
            },
          }),
      ...(paper ? [zoteroButton(answer.paper_id)] : []),
      ...(paper ? paperDetails(document, paper, { relatedLimit: 0 }) : []),
    );
  };
  draw();
}

/** "Send to Zotero" for one paper, with the line that says how it went. */
function zoteroButton(paperId) {
  const status = el(document, "span", { className: "zotero-status", role: "status" });
  const button = el(document, "button", { type: "button" }, "Send to Zotero");
  button.addEventListener("click", () => {
    button.disabled = true;
    status.textContent = "Sending…";
    requestZoteroAccess(ext, zotero).then(async (granted) => {
      if (!granted) {
        status.textContent = "✗ PaperLens needs your permission to reach Zotero.";
      } else {
        const answer = await send({ type: messages.ZOTERO_SEND, paperIds: [paperId] });
        status.textContent = answer.ok ? answer.line : answer.error.line;
      }
      button.disabled = false;
    });
  });
  return el(document, "p", { className: "zotero" }, button, " ", status);
}

/** The paper the reader pasted an id or address of; shown and savable without visiting it. */
async function renderAsked() {
  const box = $("ask-body");
  box.dataset.state = "loading";
  box.replaceChildren(el(document, "p", { className: "muted" }, "Looking it up…"));
  const answer = await send({ type: messages.ASK_PAPER, text: $("ask-input").value });
  if (!answer.ok && answer.error.kind === "not_a_paper") {
    // The field is the way to mend it: no button, and the reader's text stays to be corrected.
    box.dataset.state = "invalid";
    box.replaceChildren(el(document, "p", { className: "line error", role: "alert" }, answer.error.line));
    $("ask-input").setAttribute("aria-invalid", "true");
    return;
  }
  $("ask-input").removeAttribute("aria-invalid");
  await showPaper(box, answer, renderAsked);
}

function entryTitle(entry) {
  return entry.title ?? entry.paper?.title ?? entry.paper_id;
}

let libraryRequest = 0;

async function renderLibrary() {
  const list = $("library-items");
  const request = ++libraryRequest;
  const answer = await send({
    type: messages.LIBRARY_LIST,
    q: $("search").value.trim(),
    tag: $("tag-filter").value,
    status: $("status-filter").value,
  });
  if (request !== libraryRequest) return; // a newer search is already on its way
  if (!answer.ok) {
    list.dataset.state = "error";
    list.replaceChildren();
    showProblem(answer.error, renderLibrary);
    return;
  }
  fillTags(answer.tags);
  list.dataset.state = "ready";
  list.replaceChildren(
    ...(answer.items.length
      ? answer.items.map((entry) =>
          el(
            document,
            "li",
            { "data-paper-id": entry.paper_id },
            externalLink(document, paperUrl(entry.paper_id), entryTitle(entry)),
            el(
              document,
              "div",
              { className: "entry-meta" },
              [STATUS_LABELS[entry.status] ?? entry.status, ...(entry.tags ?? []).map((tag) => `#${tag}`)]
                .filter(Boolean)
                .join(" · "),
            ),
          ),
        )
      : [el(document, "li", { className: "muted" }, "Nothing saved matches.")]),
  );
}

function fillTags(tags) {
  const select = $("tag-filter");
  const chosen = select.value;
  select.replaceChildren(
    el(document, "option", { value: "" }, "All tags"),
    ...tags.map((tag) => el(document, "option", { value: tag, selected: tag === chosen }, tag)),
  );
}

async function renderSuggestions() {
  const list = $("suggestion-items");
  const answer = await send({ type: messages.SUGGESTIONS_LIST });
  if (!answer.ok) {
    list.dataset.state = "error";
    list.replaceChildren(el(document, "li", { className: "muted" }, "Suggestions are unavailable."));
    return;
  }
  list.dataset.state = answer.pending ? "pending" : "ready";
  if (answer.pending || answer.items.length === 0) {
    const text = answer.pending ? "Computing suggestions…" : "Save a few papers to get suggestions.";
    list.replaceChildren(el(document, "li", { className: "muted" }, text));
    return;
  }
  list.replaceChildren(
    ...answer.items.map((item) => {
      const dismiss = el(
        document,
        "button",
        { type: "button", className: "dismiss", "aria-label": `Dismiss ${item.title}` },
        "Dismiss",
      );
      const li = el(
        document,
        "li",
        { "data-paper-id": item.paper_id },
        externalLink(document, paperUrl(item.paper_id), item.title),
        dismiss,
        el(document, "div", { className: "reason" }, item.reason),
      );
      dismiss.addEventListener("click", async () => {
        dismiss.disabled = true;
        const result = await send({ type: messages.FEEDBACK_SEND, paperId: item.paper_id, signal: "dismiss" });
        if (result.ok) li.remove();
        else dismiss.disabled = false;
      });
      return li;
    }),
  );
}

/**
 * The tab strip (WAI-ARIA tabs pattern): one tab in the Tab order, the arrow keys, Home and End
 * move between tabs and show each one's panel at once, as a click does.
 */
function setUpTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (chosen, focus) => {
    for (const tab of tabs) {
      const selected = tab === chosen;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      $(tab.getAttribute("aria-controls")).hidden = !selected;
    }
    if (focus) chosen.focus();
  };
  const moves = {
    ArrowRight: (index) => (index + 1) % tabs.length,
    ArrowLeft: (index) => (index - 1 + tabs.length) % tabs.length,
    Home: () => 0,
    End: () => tabs.length - 1,
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => select(tab, false));
    tab.addEventListener("keydown", (event) => {
      const move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      select(tabs[move(tabs.indexOf(tab))], true);
    });
  }
}

setUpTabs();

let searchTimer = null;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(renderLibrary, 250);
});
$("tag-filter").addEventListener("change", renderLibrary);
$("status-filter").addEventListener("change", renderLibrary);
$("options").addEventListener("click", openOptions);
$("open-library").addEventListener("click", async () => {
  await send({ type: messages.LIBRARY_OPEN });
  window.close();
});
$("open-feed").addEventListener("click", async () => {
  await send({ type: messages.FEED_OPEN });
  window.close();
});
$("ask").addEventListener("submit", (event) => {
  event.preventDefault();
  renderAsked();
});

function renderAll() {
  $("problem").hidden = true;
  renderCurrent();
  renderLibrary();
  renderSuggestions();
}

function allowAccess() {
  requestBackendAccess(ext, backendUrl).then((granted) => {
    if (granted) renderAll();
  });
}

/** Everything, or first the reader's permission to reach the backend where the browser wants one. */
async function start() {
  if (await hasBackendAccess(ext, backendUrl)) {
    renderAll();
    return;
  }
  showProblem({ kind: "no_access", line: describeError({ kind: "no_access" }, backendUrl) }, renderAll);
  for (const [id, tag] of [
    ["current-body", "p"],
    ["library-items", "li"],
    ["suggestion-items", "li"],
  ]) {
    $(id).dataset.state = "no_access";
    $(id).replaceChildren(el(document, tag, { className: "muted" }, "Waiting for access to the backend."));
  }
  // Granted elsewhere (the overlay's page, the options) while this popup is open.
  ext.permissions.onAdded.addListener(renderAll);
}

start();
