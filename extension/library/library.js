// The library page: the reading list as a table, searched, filtered and sorted by the backend
// one cursor page at a time; inline and bulk edits change only the rows they touch. Every call
// goes through the background (lib/messages.js), which alone holds the token; so does sending a
// selection to Zotero.

import { migrateFromStorageLocal } from "../lib/connection_store.js";
import { el, externalLink } from "../lib/dom.js";
import { paperUrl, parseTags, STATUSES } from "../lib/links.js";
import * as messages from "../lib/messages.js";
import { requestZoteroAccess, unsentLines, zoteroSettings } from "../lib/zotero.js";
import { importFormat, listQuery, refusedLines, reportSummary, restoreFields, withoutTag, withTag } from "./edits.js";

const ext = globalThis.browser ?? globalThis.chrome;
const $ = (id) => document.getElementById(id);
const STATUS_LABELS = Object.fromEntries(STATUSES);

// Read before anything is drawn: asking for Zotero access must happen synchronously in the click.
const zotero = zoteroSettings(await migrateFromStorageLocal(ext.storage.local));

/** What the table shows: the entries loaded so far (by paper id), the selection, the next page. */
const state = { items: new Map(), selected: new Set(), cursor: null, generation: 0 };

/** Ask the background; a failure is shown on the problem line and answers null. */
async function ask(message) {
  const answer = await messages.askBackground(ext, message);
  if (answer.ok) {
    $("problem").hidden = true;
    return answer;
  }
  $("problem").hidden = false;
  $("problem").replaceChildren(
    answer.error.line,
    " ",
    el(
      document,
      "button",
      { type: "button", className: "link", onclick: () => ext.runtime.openOptionsPage() },
      "Open options",
    ),
  );
  return null;
}

function statusSelect(value, label, onchange) {
  const select = el(document, "select", { "aria-label": label, onchange });
  for (const [status, text] of STATUSES) select.append(el(document, "option", { value: status }, text));
  select.value = value;
  return select;
}

// ------------------------------------------------------------------ rows

/** An edit made in a row: saved at once, and said on the status line when it is. */
async function saveInline(id, title, fields) {
  if (await saveFields(id, fields)) notice(`Saved ${title}.`);
}

function row(item) {
  const id = item.paper_id;
  const title = item.title || item.saved_as;
  const check = el(document, "input", {
    type: "checkbox",
    "aria-label": `Select ${title}`,
    checked: state.selected.has(id),
    onchange: (event) => select(id, event.target.checked),
  });
  const tags = el(document, "input", {
    type: "text",
    className: "row-tags",
    value: item.tags.join(", "),
    "aria-label": `Tags of ${title}, comma separated`,
    onchange: (event) => saveInline(id, title, { tags: parseTags(event.target.value) }),
  });
  const note = el(document, "textarea", {
    "aria-label": `Note on ${title}`,
    onchange: (event) => saveInline(id, title, { note: event.target.value }),
  });
  note.value = item.note;
  const published = [item.published?.slice(0, 4), item.venue].filter(Boolean).join(" · ");
  return el(
    document,
    "tr",
    { "data-paper-id": id, className: state.selected.has(id) ? "selected" : null },
    el(document, "td", {}, check),
    el(
      document,
      "td",
      { className: "title" },
      externalLink(document, paperUrl(id), title),
      el(document, "div", { className: "authors" }, item.authors.join(", ")),
    ),
    el(document, "td", {}, published),
    el(
      document,
      "td",
      {},
      statusSelect(item.status, `Status of ${title}`, (event) => saveInline(id, title, { status: event.target.value })),
    ),
    el(document, "td", {}, tags),
    el(document, "td", {}, note),
  );
}

function replaceRow(item) {
  const old = document.querySelector(`tr[data-paper-id="${CSS.escape(item.paper_id)}"]`);
  if (old) old.replaceWith(row(item));
}

function showCounts() {
  const shown = state.items.size;
  $("count").textContent = `${shown} shown${state.cursor ? " (more to load)" : ""}`;
  $("selected-count").textContent = `${state.selected.size} selected`;
  $("empty").hidden = shown > 0;
  $("more").hidden = !state.cursor;
  $("select-all").checked = shown > 0 && state.selected.size === shown;
}

function select(id, on) {
  if (on) state.selected.add(id);
  else state.selected.delete(id);
  document.querySelector(`tr[data-paper-id="${CSS.escape(id)}"]`)?.classList.toggle("selected", on);
  showCounts();
}

// ------------------------------------------------------------------ loading

function filters() {
  return {
    q: $("search").value,
    tag: $("tag-filter").value,
    status: $("status-filter").value,
    year: $("year-filter").value,
    venue: $("venue-filter").value,
    sort: $("sort").value,
  };
}

/** The first page for the current filters (again); a newer load makes older answers moot. */
async function reload() {
  state.generation += 1;
  state.items.clear();
  state.selected.clear();
  state.cursor = null;
  $("rows").replaceChildren();
  $("rows").dataset.state = "loading";
  await loadPage(state.generation);
}

async function loadPage(generation) {
  const answer = await ask({ type: messages.LIBRARY_PAGE, query: listQuery(filters(), state.cursor) });
  if (generation !== state.generation) return;
  $("rows").dataset.state = answer ? "ready" : "error";
  if (!answer) return;
  for (const item of answer.items) {
    if (state.items.has(item.paper_id)) continue;
    state.items.set(item.paper_id, item);
    $("rows").append(row(item));
  }
  state.cursor = answer.next_cursor;
  showCounts();
}

async function loadTags() {
  const answer = await ask({ type: messages.LIBRARY_TAGS });
  if (!answer) return;
  const current = $("tag-filter").value;
  const options = answer.tags.map((tag) => el(document, "option", { value: tag }, tag));
  $("tag-filter").replaceChildren(el(document, "option", { value: "" }, "All tags"), ...options);
  $("tag-filter").value = answer.tags.includes(current) ? current : "";
}

// ------------------------------------------------------------------ edits

/** Save some fields of one entry and redraw its row only. */
async function saveFields(id, fields) {
  const item = state.items.get(id);
  if (!item) return false;
  const answer = await ask({ type: messages.LIBRARY_SAVE, paperId: item.saved_as, ...fields });
  if (!answer) return false;
  state.items.set(id, { ...item, ...answer.entry, paper_id: id });
  replaceRow(state.items.get(id));
  if (fields.tags) loadTags();
  return true;
}

function selectedItems() {
  return [...state.selected].map((id) => state.items.get(id)).filter(Boolean);
}

async function bulk(describe, fieldsFor) {
  const items = selectedItems();
  if (items.length === 0) return notice("Select entries first.");
  let done = 0;
  for (const item of items) if (await saveFields(item.paper_id, fieldsFor(item))) done += 1;
  notice(`${describe} on ${done} of ${items.length} entries.`);
}

function bulkTag(change, verb) {
  const tag = parseTags($("bulk-tag").value)[0];
  if (!tag) {
    $("bulk-tag").focus();
    return notice("Type the tag first.");
  }
  return bulk(`${verb} tag ${tag}`, (item) => ({ tags: change(item.tags, tag) }));
}

async function bulkDelete() {
  const items = selectedItems();
  if (items.length === 0) return notice("Select entries first.");
  const deleted = [];
  for (const item of items) {
    if (await ask({ type: messages.LIBRARY_REMOVE, paperId: item.saved_as })) {
      deleted.push(item);
      state.items.delete(item.paper_id);
      state.selected.delete(item.paper_id);
      document.querySelector(`tr[data-paper-id="${CSS.escape(item.paper_id)}"]`)?.remove();
    }
  }
  showCounts();
  loadTags();
  const undo = el(document, "button", { type: "button", id: "undo", onclick: () => restore(deleted) }, "Undo");
  notice(`Deleted ${deleted.length} ${deleted.length === 1 ? "entry" : "entries"}.`, undo);
  undo.focus();
}

/** Undo a delete: save the entries again with their status, tags and note. */
async function restore(deleted) {
  let back = 0;
  for (const item of deleted) if (await ask({ type: messages.LIBRARY_SAVE, ...restoreFields(item) })) back += 1;
  await Promise.all([reload(), loadTags()]);
  notice(`Restored ${back} ${back === 1 ? "entry" : "entries"}.`);
}

/**
 * Send the selected entries to Zotero through the background. Access is asked for first, inside
 * the click, as the browser requires; the status line then says how it went, paper by paper.
 */
function sendToZotero() {
  const items = selectedItems();
  if (items.length === 0) return notice("Select entries first.");
  const button = $("bulk-zotero");
  button.disabled = true;
  notice("Sending to Zotero…");
  requestZoteroAccess(ext, zotero).then(async (granted) => {
    if (!granted) {
      notice("✗ PaperLens needs your permission to reach Zotero.");
    } else {
      const paperIds = items.map((item) => item.paper_id);
      const answer = await messages.askBackground(ext, { type: messages.ZOTERO_SEND, paperIds });
      if (!answer.ok) {
        notice(answer.error.line);
      } else {
        const titleOf = (id) => state.items.get(id)?.title;
        const failed = unsentLines(answer.results, titleOf).map((line) => el(document, "li", {}, line));
        notice(answer.line, ...(failed.length ? [el(document, "ul", {}, failed)] : []));
      }
    }
    button.disabled = false;
  });
}

function notice(text, ...extra) {
  $("notice").replaceChildren(text, ...extra.flatMap((node) => [" ", node]));
}

// ------------------------------------------------------------------ export and import

async function exportEntries(selectedOnly) {
  const format = $("export-format").value;
  const request = { type: messages.LIBRARY_EXPORT, format };
  if (selectedOnly) {
    const items = selectedItems();
    if (items.length === 0) return notice("Select entries first.");
    request.ids = items.map((item) => item.saved_as);
  }
  const answer = await ask(request);
  if (!answer) return;
  const url = URL.createObjectURL(new Blob([answer.text], { type: "text/plain" }));
  const link = el(document, "a", { href: url, download: answer.filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  notice(`Exported ${answer.filename}.`);
}

async function importFile() {
  const file = $("import-file").files[0];
  if (!file) {
    $("import-file").focus();
    return $("import-report").replaceChildren("Choose a file first.");
  }
  const answer = await ask({ type: messages.LIBRARY_IMPORT, format: importFormat(file.name), text: await file.text() });
  if (!answer) return;
  const refused = refusedLines(answer.report).map((line) => el(document, "li", {}, line));
  $("import-report").replaceChildren(
    el(document, "p", {}, `${file.name}: ${reportSummary(answer.report)}`),
    refused.length ? el(document, "ul", { className: "refused" }, refused) : "",
  );
  await Promise.all([reload(), loadTags()]);
}

// ------------------------------------------------------------------ wiring

function debounce(run, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
}

for (const [status, text] of STATUSES) {
  $("status-filter").append(el(document, "option", { value: status }, text));
  $("bulk-status").append(el(document, "option", { value: status }, text));
}
const typed = debounce(reload, 250);
for (const id of ["search", "year-filter", "venue-filter"]) $(id).addEventListener("input", typed);
for (const id of ["tag-filter", "status-filter", "sort"]) $(id).addEventListener("change", reload);
$("select-all").addEventListener("change", (event) => {
  for (const id of state.items.keys()) select(id, event.target.checked);
});
$("more").addEventListener("click", () => loadPage(state.generation));
$("bulk-status-apply").addEventListener("click", () => {
  const status = $("bulk-status").value;
  bulk(`Set status ${STATUS_LABELS[status]}`, () => ({ status }));
});
$("bulk-tag-add").addEventListener("click", () => bulkTag(withTag, "Added"));
$("bulk-tag-remove").addEventListener("click", () => bulkTag(withoutTag, "Removed"));
$("bulk-delete").addEventListener("click", bulkDelete);
$("bulk-zotero").addEventListener("click", sendToZotero);
$("export-selected").addEventListener("click", () => exportEntries(true));
$("export-all").addEventListener("click", () => exportEntries(false));
$("import").addEventListener("click", importFile);
// "/" jumps to the search box, as on many list pages; typing in a field is left alone.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.target.closest("input, textarea, select")) return;
  event.preventDefault();
  $("search").focus();
});

await Promise.all([loadTags(), reload()]);
