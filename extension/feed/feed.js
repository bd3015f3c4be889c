// The research feed page: new papers ranked from the reader's list, a cursor page at a time,
// those the feed took in since the last visit marked and counted, each with Dismiss (undoable),
// Save and "More like this". Every call goes through the background (lib/messages.js), which
// alone holds the token and keeps the last-visit time the icon's count is measured from.

import { hasBackendAccess, requestBackendAccess } from "../lib/access.js";
import { describeError } from "../lib/backend.js";
import { withDefaults } from "../lib/config.js";
import { migrateFromStorageLocal } from "../lib/connection_store.js";
import { el, externalLink } from "../lib/dom.js";
import { byline, countLine, EMPTY_AFTER_REFRESH, EMPTY_LINE, isNew, refreshLine, seenAfter } from "../lib/feed.js";
import { paperUrl } from "../lib/links.js";
import * as messages from "../lib/messages.js";
import { problemLine, remedy } from "../lib/paper_view.js";

const ext = globalThis.browser ?? globalThis.chrome;
const $ = (id) => document.getElementById(id);
const openOptions = () => ext.runtime.openOptionsPage();

// Read before anything is drawn: asking for access must happen synchronously in the click.
const { backendUrl } = withDefaults(await migrateFromStorageLocal(ext.storage.local));

/** The items shown (by paper id), the next page's cursor, the last visit before this one. */
const state = { items: new Map(), cursor: null, seenUntil: null, fresh: 0, generation: 0 };

function allowAccess() {
  requestBackendAccess(ext, backendUrl).then((granted) => {
    if (granted) reload();
  });
}

function showProblem(error) {
  $("problem").hidden = false;
  $("problem").replaceChildren(
    problemLine(document, error.line, remedy(error, { retry: reload, allowAccess, openOptions })),
  );
}

/** Ask the background; a failure is shown on the problem line with its remedy and answers null. */
async function ask(message) {
  const answer = await messages.askBackground(ext, message);
  if (answer.ok) {
    $("problem").hidden = true;
    return answer;
  }
  showProblem(answer.error);
  return null;
}

function notice(text, ...extra) {
  $("notice").replaceChildren(text, ...extra.flatMap((node) => [" ", node]));
}

const titleOf = (item) => item.title || item.paper_id;
const quoted = (item) => `“${titleOf(item)}”`;

// ------------------------------------------------------------------ items

function itemNode(item) {
  const fresh = isNew(item, state.seenUntil);
  const title = titleOf(item);
  const meta = byline(item);
  const more = el(
    document,
    "button",
    { type: "button", "data-action": "more", "aria-pressed": "false" },
    "More like this",
  );
  const node = el(
    document,
    "li",
    { "data-paper-id": item.paper_id, className: fresh ? "new" : null },
    el(
      document,
      "div",
      {},
      externalLink(document, paperUrl(item.paper_id), title, "paper-title"),
      fresh ? el(document, "span", { className: "new-mark" }, "New") : null,
    ),
    meta ? el(document, "p", { className: "byline" }, meta) : null,
    item.reason ? el(document, "p", { className: "reason" }, item.reason) : null,
    el(
      document,
      "div",
      { className: "actions", role: "group", "aria-label": `Act on ${title}` },
      el(document, "button", { type: "button", "data-action": "dismiss", onclick: () => dismiss(item) }, "Dismiss"),
      el(
        document,
        "button",
        { type: "button", "data-action": "save", onclick: (event) => save(item, event.target) },
        "Save",
      ),
      more,
    ),
  );
  more.addEventListener("click", () => moreLikeThis(item, more));
  return node;
}

const nodeOf = (paperId) => document.querySelector(`#items > li[data-paper-id="${CSS.escape(paperId)}"]`);
const itemNodes = () => [...document.querySelectorAll("#items > li")];

function showCounts() {
  const shown = state.items.size;
  $("count").textContent = shown || state.fresh ? countLine(shown, state.fresh, Boolean(state.cursor)) : "";
  $("empty").hidden = shown > 0 || $("items").dataset.state !== "ready";
  $("more").hidden = !state.cursor;
}

// ------------------------------------------------------------------ loading

/** The first page (again): a newer load makes older answers moot. */
async function reload() {
  state.generation += 1;
  state.items.clear();
  state.cursor = null;
  state.fresh = 0;
  $("items").replaceChildren();
  $("items").dataset.state = "loading";
  await loadPage(state.generation, true);
}

async function loadPage(generation, first = false) {
  const answer = await ask({ type: messages.FEED_PAGE, cursor: state.cursor });
  if (generation !== state.generation) return;
  $("items").dataset.state = answer ? "ready" : "error";
  if (!answer) return showCounts();
  if (first) {
    state.seenUntil = answer.seenUntil;
    $("updated").textContent = refreshLine(answer.computed_at, answer.last_refresh);
    $("empty").textContent = answer.computed_at ? EMPTY_AFTER_REFRESH : EMPTY_LINE;
  }
  for (const item of answer.items) {
    if (state.items.has(item.paper_id)) continue;
    state.items.set(item.paper_id, item);
    if (isNew(item, state.seenUntil)) state.fresh += 1;
    $("items").append(itemNode(item));
  }
  state.cursor = answer.next_cursor;
  showCounts();
  // This visit saw the feed up to its newest item: the icon's count starts again from there.
  const until = seenAfter(answer.items, null);
  if (until) messages.askBackground(ext, { type: messages.FEED_SEEN, until });
}

// ------------------------------------------------------------------ actions

/** Focus the title of the item after `node` (or before it, at the end), as a list does. */
function focusNear(node) {
  const nodes = itemNodes();
  const at = nodes.indexOf(node);
  const next = nodes[at + 1] ?? nodes[at - 1];
  (next?.querySelector(".paper-title") ?? $("feed-heading")).focus();
}

async function dismiss(item) {
  const node = nodeOf(item.paper_id);
  if (!node) return;
  node.querySelector("[data-action=dismiss]").disabled = true;
  if (!(await ask({ type: messages.FEEDBACK_SEND, paperId: item.paper_id, signal: "dismiss" }))) {
    node.querySelector("[data-action=dismiss]").disabled = false;
    return;
  }
  const after = node.nextElementSibling;
  const focused = node.contains(document.activeElement);
  if (focused) focusNear(node);
  node.remove();
  state.items.delete(item.paper_id);
  if (isNew(item, state.seenUntil)) state.fresh -= 1;
  showCounts();
  const undo = el(
    document,
    "button",
    { type: "button", id: "undo", onclick: () => undoDismiss(item, node, after) },
    "Undo",
  );
  notice(`Dismissed ${quoted(item)}; it will not come back.`, undo);
  if (focused && state.items.size === 0) undo.focus();
}

async function undoDismiss(item, node, after) {
  if (!(await ask({ type: messages.FEEDBACK_WITHDRAW, paperId: item.paper_id }))) return;
  node.querySelector("[data-action=dismiss]").disabled = false;
  if (after?.isConnected) after.before(node);
  else $("items").append(node);
  state.items.set(item.paper_id, item);
  if (isNew(item, state.seenUntil)) state.fresh += 1;
  showCounts();
  notice(`Restored ${quoted(item)}.`);
  node.querySelector(".paper-title").focus();
}

async function save(item, button) {
  if (!(await ask({ type: messages.LIBRARY_SAVE, paperId: item.paper_id }))) return;
  button.textContent = "Saved";
  button.classList.add("done");
  notice(`Saved ${quoted(item)} to your reading list.`);
}

/** A toggle: pressed asks for more like the paper, pressed again withdraws the signal. */
async function moreLikeThis(item, button) {
  const on = button.getAttribute("aria-pressed") !== "true";
  const message = on
    ? { type: messages.FEEDBACK_SEND, paperId: item.paper_id, signal: "more_like_this" }
    : { type: messages.FEEDBACK_WITHDRAW, paperId: item.paper_id };
  if (!(await ask(message))) return;
  button.setAttribute("aria-pressed", String(on));
  notice(
    on
      ? `Asked for more like ${quoted(item)}; your feed is being ranked again.`
      : `No longer asking for more like ${quoted(item)}.`,
  );
}

// ------------------------------------------------------------------ keyboard

const KEYS = { d: "[data-action=dismiss]", s: "[data-action=save]", m: "[data-action=more]" };

/** j/k move between papers; d, s and m press the focused paper's buttons. */
function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest("input, textarea, select")) return;
  const nodes = itemNodes();
  const current = nodes.find((node) => node.contains(document.activeElement));
  if (event.key === "j" || event.key === "k") {
    const at = current ? nodes.indexOf(current) + (event.key === "j" ? 1 : -1) : 0;
    const target = nodes[Math.max(0, Math.min(nodes.length - 1, at))];
    if (!target) return;
    event.preventDefault();
    target.querySelector(".paper-title").focus();
    target.scrollIntoView({ block: "nearest" });
  } else if (current && Object.hasOwn(KEYS, event.key)) {
    event.preventDefault();
    current.querySelector(KEYS[event.key]).click();
  }
}

// ------------------------------------------------------------------ wiring

$("empty").textContent = EMPTY_LINE;
$("feed-heading").tabIndex = -1;
$("more").addEventListener("click", () => loadPage(state.generation));
document.addEventListener("keydown", onKey);

if (await hasBackendAccess(ext, backendUrl)) {
  await reload();
} else {
  showProblem({ kind: "no_access", line: describeError({ kind: "no_access" }, backendUrl) });
  $("items").dataset.state = "no_access";
  ext.permissions.onAdded.addListener(reload);
}
