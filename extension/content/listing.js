// Badges on listing pages: one batch lookup for the whole page, then small badges beside
// each paper's link, in closed shadow roots (the page's styles do not reach them, and page
// scripts cannot read them).
//
// What a page script can observe is the same whether or not the reader saved a paper: every
// listed paper the backend answered for gets a badge host; the host carries no attributes; its
// size depends only on whether the paper has code (which anyone can ask the backend), because
// the saved mark is always laid out and only made visible for saved papers; and the marks are
// generated text, which window.find cannot match. So injecting links to papers and looking at
// the badges tells a page nothing about the reading list (see lib/sender_policy.js).

import { el } from "../lib/dom.js";
import { LOOKUP_LISTING } from "../lib/messages.js";
import { listingLinks } from "./page.js";
import { stylesheets } from "./styles.js";

const BADGE_CLASS = "paperlens-badges";
// The hosts already placed, by paper id: single-page sites run the decoration again.
const placedHosts = new Map();

const STYLESHEETS = ["lib/page.css", "content/badges.css"];

function badge(doc, info, styles) {
  const host = doc.createElement("span");
  host.className = BADGE_CLASS;
  const shadow = host.attachShadow({ mode: "closed" });
  shadow.adoptedStyleSheets = styles;
  const marks = [
    info.code
      ? el(doc, "span", {
          className: "code",
          title: info.official_code ? "Official code available" : "Code available",
          "data-label": "</> code",
        })
      : null,
    el(doc, "span", {
      className: info.saved ? "saved" : "saved absent",
      title: "In your reading list",
      "aria-label": "saved",
      "aria-hidden": info.saved ? null : "true",
      "data-label": "★",
    }),
  ];
  shadow.append(...marks.filter(Boolean));
  return host;
}

/** Ask the background about every paper link at once and badge every paper it answers for (its answer is returned). */
export async function decorateListing(doc, loc, siteId, send) {
  const { anchors, preferred } = listingLinks(siteId, doc, loc);
  const hrefs = [...new Set(anchors.map((a) => a.href))];
  if (hrefs.length === 0) return null;
  const answer = await send({ type: LOOKUP_LISTING, hrefs });
  if (!answer?.ok) return answer;
  const styles = await stylesheets(STYLESHEETS);
  const placed = new Map();
  for (const anchor of anchors) {
    const info = answer.items[anchor.href];
    if (!info?.paper_id) continue;
    const current = placed.get(info.paper_id);
    if (current && (preferred.has(current) || !preferred.has(anchor))) continue;
    placed.set(info.paper_id, anchor);
  }
  for (const [paperId, anchor] of placed) {
    if (placedHosts.get(paperId)?.isConnected) continue;
    const host = badge(doc, answer.items[anchor.href], styles);
    anchor.after(host);
    placedHosts.set(paperId, host);
  }
  return answer;
}
