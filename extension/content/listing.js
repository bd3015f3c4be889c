// Badges on listing pages: one batch lookup for the papers a page lists, then small badges after
// each paper's title, in closed shadow roots (the page's styles do not reach them, and page
// scripts cannot read them). Single-page sites redraw their lists without reloading, so the page
// is watched and decorated again when its own script changes it.
//
// What a page script can observe is the same whether or not the reader saved a paper: every
// listed paper the backend answered for gets a badge host; the host carries no attributes; its
// size depends only on the paper's code (which anyone can ask the backend), because the saved
// mark is always laid out and only made visible for saved papers; and the marks are generated
// text, which window.find cannot match. So injecting links to papers and looking at the badges
// tells a page nothing about the reading list (see lib/sender_policy.js).

import { el, externalLink } from "../lib/dom.js";
import { badgeMarks } from "../lib/listing.js";
import { LOOKUP_LISTING } from "../lib/messages.js";
import { listingLinks } from "./page.js";
import { stylesheets } from "./styles.js";

const BADGE_CLASS = "paperlens-badges";
const STYLESHEETS = ["lib/page.css", "content/badges.css"];
// How long the page must stay still before it is decorated again: a redraw comes in bursts.
const REDECORATE_DELAY_MS = 250;
const HEADINGS = "h1, h2, h3, h4, h5, h6";

// The hosts already placed, by paper id: a paper whose host is still in the page keeps it.
const placedHosts = new Map();
// Every host this script made, so that the watcher can tell its own insertions from the page's.
const ownHosts = new WeakSet();
// The backend's answer for each link already asked about: a redraw of the same papers costs no
// request.
const answered = new Map();

/** A glyph that is decoration only: seen, never read aloud. */
function glyph(doc, text) {
  return el(doc, "span", { className: "glyph", "aria-hidden": "true", "data-label": text });
}

function badge(doc, info, styles) {
  const host = doc.createElement("span");
  host.className = BADGE_CLASS;
  ownHosts.add(host);
  const shadow = host.attachShadow({ mode: "closed" });
  shadow.adoptedStyleSheets = styles;
  const { code, saved } = badgeMarks(info);
  const marks = [];
  if (code) {
    const parts = [glyph(doc, "</>"), " ", el(doc, "span", { "data-label": code.word })];
    const kind = code.official ? "code official" : "code community";
    // A link to the code when the backend named a safe one; a labelled mark otherwise.
    const mark = externalLink(doc, code.href, parts, kind);
    if (code.href) mark.append(" ", glyph(doc, "↗"));
    else mark.setAttribute("role", "img");
    mark.setAttribute("aria-label", code.label);
    marks.push(mark);
  }
  marks.push(
    el(
      doc,
      "span",
      {
        className: saved.shown ? "saved" : "saved absent",
        role: "img",
        "aria-label": saved.label,
        "aria-hidden": saved.shown ? null : "true",
      },
      glyph(doc, "★"),
      " ",
      el(doc, "span", { "data-label": saved.word }),
    ),
  );
  shadow.append(...marks);
  return host;
}

/** Put a paper's badges in their place: after its title's heading when the link is inside one, so
 * that a screen reader does not read them as part of the title; at the end of a listing row (a
 * <dt>, as arXiv's "[1] arXiv:id [pdf, html, other]"), so that the row's own links keep their
 * places and the space a saved mark keeps when not shown trails the row instead of opening a gap
 * in it; after the link otherwise. */
function placeBadges(anchor, host) {
  const heading = anchor.closest(HEADINGS);
  if (heading) heading.after(host);
  else if (anchor.parentElement?.localName === "dt") anchor.parentElement.append(host);
  else anchor.after(host);
}

/** The backend's answer for `hrefs`, asking only about links not answered before. */
async function lookup(hrefs, send) {
  const fresh = hrefs.filter((href) => !answered.has(href));
  if (fresh.length > 0) {
    const answer = await send({ type: LOOKUP_LISTING, hrefs: fresh });
    if (!answer?.ok) return answer;
    for (const href of fresh) answered.set(href, answer.items[href] ?? null);
  }
  return { ok: true, items: Object.fromEntries(hrefs.map((href) => [href, answered.get(href)])) };
}

/** Ask the background about the page's paper links and badge every paper it answers for that
 * has no badge yet (its answer is returned). Running it again places nothing twice. */
export async function decorateListing(doc, loc, siteId, send) {
  const { anchors, preferred } = listingLinks(siteId, doc, loc);
  const hrefs = [...new Set(anchors.map((a) => a.href))];
  if (hrefs.length === 0) return null;
  const answer = await lookup(hrefs, send);
  if (!answer?.ok) return answer;
  const styles = await stylesheets(STYLESHEETS);
  const placed = new Map();
  for (const anchor of anchors) {
    const info = answer.items[anchor.href];
    if (!info?.paper_id || !anchor.isConnected) continue;
    const current = placed.get(info.paper_id);
    if (current && (preferred.has(current) || !preferred.has(anchor))) continue;
    placed.set(info.paper_id, anchor);
  }
  for (const [paperId, anchor] of placed) {
    if (placedHosts.get(paperId)?.isConnected) continue;
    const host = badge(doc, answer.items[anchor.href], styles);
    placeBadges(anchor, host);
    placedHosts.set(paperId, host);
  }
  return answer;
}

/** Whether a mutation is only this script placing badges (which must not start another run). */
function ownInsertion(record) {
  return record.removedNodes.length === 0 && [...record.addedNodes].every((node) => ownHosts.has(node));
}

/**
 * Call `redecorate` once the page has changed its own DOM and then stayed still for a moment;
 * the extension's own insertions do not count. Returns the function that stops watching.
 */
export function watchListing(doc, redecorate) {
  let timer = null;
  const observer = new MutationObserver((records) => {
    if (records.every(ownInsertion)) return;
    clearTimeout(timer);
    timer = setTimeout(redecorate, REDECORATE_DELAY_MS);
  });
  observer.observe(doc.documentElement, { childList: true, subtree: true });
  return () => {
    observer.disconnect();
    clearTimeout(timer);
  };
}
