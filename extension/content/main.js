// The content script's entry point: find the paper (or the listing) on this page and show
// the overlay (or badges). Everything from the backend arrives through the background.

import { pollDelay } from "../lib/backoff.js";
import { withDefaults } from "../lib/config.js";
import * as messages from "../lib/messages.js";
import { paperDetails, problemLine, remedy, saveForm } from "../lib/paper_view.js";
import { el } from "../lib/dom.js";
import { isListingPage, siteForHost } from "../lib/sites.js";
import { pageSnapshot } from "./page.js";
import { decorateListing, watchListing } from "./listing.js";
import { createOverlay, loadingView, pendingView } from "./overlay.js";

const ext = globalThis.browser ?? globalThis.chrome;
const SPA_CHECK_MS = 1000;

const send = (message) => messages.askBackground(ext, message);
const openOptions = () => send({ type: messages.OPTIONS_OPEN });
// The content script cannot ask for a permission itself: the background opens a page that does.
const fixes = {
  retry: () => run(),
  allowAccess: () => send({ type: messages.ACCESS_ASK }),
  openOptions,
};
// Set when this page's last lookup was refused for want of backend access; the background
// says when access arrives, and the page then looks again without a reload.
let waitingForAccess = false;
// Stops watching a listing page for redraws; set while this page is one.
let stopWatching = null;

/** The error line, with the button that mends it (lib/paper_view.js's remedy). */
function problemView(error) {
  if (error.kind === "no_access") waitingForAccess = true;
  return problemLine(document, error.line, remedy(error, fixes));
}

async function collapsedHere() {
  const { collapsed = {} } = await ext.storage.local.get("collapsed");
  return Boolean(collapsed[location.host]);
}

async function rememberCollapsed(value) {
  const { collapsed = {} } = await ext.storage.local.get("collapsed");
  await ext.storage.local.set({ collapsed: { ...collapsed, [location.host]: value } });
}

/** Overlay life cycle for one paper: loading -> (pending ->)* ready | error. */
async function showPaper(snapshot) {
  const resolved = await send({ type: messages.RESOLVE_PAGE, page: snapshot });
  if (!resolved.ok || !resolved.found) {
    document.getElementById("paperlens-overlay")?.remove();
    return;
  }
  const overlay = await createOverlay(document, { collapsed: await collapsedHere(), onToggle: rememberCollapsed });
  overlay.show("loading", loadingView(document));
  let answer = await send({ type: messages.LOOKUP_PAGE, page: snapshot });
  for (let attempt = 0; answer.ok && answer.status === "pending"; attempt += 1) {
    overlay.show("pending", pendingView(document, answer.paper_id));
    const delay = pollDelay(attempt, answer.retryAfter);
    if (delay === null) {
      const line = "✗ PaperLens is still preparing this paper; reload the page later.";
      overlay.show("error", problemView({ kind: "pending", line }));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (snapshot.url !== location.href) return;
    answer = await send({ type: messages.LOOKUP_PAGE, page: snapshot, fresh: true });
  }
  if (!answer.ok) {
    overlay.show("error", problemView(answer.error));
    return;
  }
  await renderReady(overlay, answer, snapshot);
}

/** Reading-list messages carry the page too: the background answers only about its paper. */
async function renderReady(overlay, answer, snapshot) {
  const paper = answer.status === "ready" ? answer.paper : null;
  const header = paper
    ? el(document, "h2", { className: "title" }, paper.title)
    : el(
        document,
        "p",
        { className: "line muted" },
        `PaperLens does not know ${answer.paper_id} yet; you can still save it.`,
      );
  let entry = null;
  let entryError = null;
  if (answer.hasToken) {
    const got = await send({ type: messages.LIBRARY_GET, paperId: answer.paper_id, page: snapshot });
    if (got.ok) entry = got.entry;
    else entryError = got.error;
  }
  const actions = {
    save: (fields) => send({ type: messages.LIBRARY_SAVE, paperId: answer.paper_id, page: snapshot, ...fields }),
    remove: () => send({ type: messages.LIBRARY_REMOVE, paperId: answer.paper_id, page: snapshot }),
    openOptions,
    changed: (newEntry) => {
      entry = newEntry;
      draw();
    },
  };
  const draw = () => {
    overlay.show(
      "ready",
      header,
      entryError ? problemView(entryError) : saveForm(document, { entry, hasToken: answer.hasToken, actions }),
      paper ? paperDetails(document, paper, { relatedLimit: 5 }) : null,
    );
  };
  draw();
}

async function run() {
  waitingForAccess = false;
  stopWatching?.();
  stopWatching = null;
  const site = siteForHost(location.host);
  if (!site) return;
  const { sites } = withDefaults(await ext.storage.local.get(["sites"]));
  if (sites[site.id] === false) return;
  if (isListingPage(site.id, location)) {
    document.getElementById("paperlens-overlay")?.remove();
    const decorate = () => decorateListing(document, location, site.id, send);
    const answer = await decorate();
    if (answer?.error?.kind === "no_access") waitingForAccess = true;
    // The page's own script may redraw its list without a new address: decorate it again then.
    stopWatching?.();
    stopWatching = watchListing(document, () => {
      if (isListingPage(site.id, location)) decorate();
    });
    return;
  }
  await showPaper(pageSnapshot(document, location));
}

/** Start once, and again whenever a single-page site moves to another paper. */
export function start() {
  run();
  ext.runtime.onMessage.addListener((message, sender) => {
    if (sender.id !== ext.runtime.id || message?.type !== messages.ACCESS_GRANTED) return;
    if (waitingForAccess) run();
  });
  const site = siteForHost(location.host);
  if (!site?.spa) return;
  let seen = location.href;
  setInterval(() => {
    if (location.href === seen) return;
    seen = location.href;
    run();
  }, SPA_CHECK_MS);
}
