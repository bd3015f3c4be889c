// The content script's entry point: find the paper (or the listing) on this page and show
// the overlay (or badges). Everything from the backend arrives through the background.

import { pollDelay } from "../lib/backoff.js";
import { withDefaults } from "../lib/config.js";
import * as messages from "../lib/messages.js";
import { paperDetails, problemLine, remedy, saveForm } from "../lib/paper_view.js";
import { el } from "../lib/dom.js";
import { codeLinks, linkLabel } from "../lib/links.js";
import { isListingPage, siteForHost } from "../lib/sites.js";
import { pageSnapshot } from "./page.js";
import { decorateListing, watchListing } from "./listing.js";
import { chipPart, createOverlay, loadingView, pendingView, savedPart } from "./overlay.js";

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
// The overlay on this page, for the keyboard shortcut; null until a paper is found.
let current = null;
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

/** Folded into its chip unless the reader expanded it on this site before. */
async function collapsedHere() {
  const { collapsed = {} } = await ext.storage.local.get("collapsed");
  return collapsed[location.host] ?? true;
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
    current = null;
    return;
  }
  const overlay = await createOverlay(document, { collapsed: await collapsedHere(), onToggle: rememberCollapsed });
  current = overlay;
  overlay.show("loading", loadingView(document));
  overlay.summarize(chipPart(document, "looking up…"));
  let answer = await send({ type: messages.LOOKUP_PAGE, page: snapshot });
  for (let attempt = 0; answer.ok && answer.status === "pending"; attempt += 1) {
    overlay.show("pending", pendingView(document, answer.paper_id));
    overlay.summarize(chipPart(document, "preparing…"));
    const delay = pollDelay(attempt, answer.retryAfter);
    if (delay === null) {
      const line = "✗ PaperLens is still preparing this paper; reload the page later.";
      overlay.show("error", problemView({ kind: "pending", line }));
      overlay.summarize(chipPart(document, "not ready"));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (snapshot.url !== location.href) return;
    answer = await send({ type: messages.LOOKUP_PAGE, page: snapshot, fresh: true });
  }
  if (!answer.ok) {
    overlay.show("error", problemView(answer.error));
    overlay.summarize(chipPart(document, "✗ not connected"));
    return;
  }
  await renderReady(overlay, answer, snapshot);
}

/** The chip's parts: the code (a link to the repository), and whether the paper is saved. */
function chipParts(answer, paper, entry) {
  const code = codeLinks(paper)[0];
  return [
    paper ? null : chipPart(document, "not in catalogue"),
    code
      ? chipPart(
          document,
          el(
            document,
            "a",
            {
              href: code.url,
              target: "_blank",
              rel: "noopener noreferrer",
              className: "chip-code",
              "aria-label": `Code: ${linkLabel(code.url)}`,
            },
            "code ↗",
          ),
        )
      : null,
    answer.hasToken ? savedPart(document, Boolean(entry)) : null,
  ];
}

/**
 * Reading-list messages carry the page too: the background answers only about its paper.
 * The page shows its own title, so the overlay does not repeat it.
 */
async function renderReady(overlay, answer, snapshot) {
  const paper = answer.status === "ready" ? answer.paper : null;
  const header = paper
    ? null
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
    changed: (newEntry, after) => {
      entry = newEntry;
      draw(after);
    },
  };
  const draw = (after = {}) => {
    overlay.show(
      "ready",
      header,
      entryError ? problemView(entryError) : saveForm(document, { entry, hasToken: answer.hasToken, actions, after }),
      paper ? paperDetails(document, paper, { relatedLimit: 10, relatedShown: 3 }) : null,
    );
    overlay.holdSize(answer.hasToken);
    overlay.summarize(chipParts(answer, paper, entry));
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
    current = null;
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
    if (sender.id !== ext.runtime.id) return;
    if (message?.type === messages.ACCESS_GRANTED && waitingForAccess) run();
    if (message?.type === messages.OVERLAY_TOGGLE) current?.toggleFromKeyboard();
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
