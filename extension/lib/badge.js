// The toolbar icon's badge for one tab: whether the tab's paper has code and whether it is in
// the reading list, so a reader of a PDF (where no overlay can run) knows without opening the
// popup. Pure: the background worker applies what these functions return.

import { codeLinks } from "./links.js";
import { siteForHost } from "./sites.js";

export const DEFAULT_TITLE = "PaperLens";
export const CODE_TEXT = "code";
// A dot where the paper has no code but is saved.
export const SAVED_TEXT = "•";
export const CODE_COLOR = "#1a7f37";
export const SAVED_COLOR = "#0969da";

/** What the tab's paper earns: code links (as the popup lists them) and a reading-list entry. */
export function paperMarks(lookup, savedIds) {
  const paper = lookup?.status === "ready" ? lookup.paper : null;
  const links = codeLinks(paper);
  return {
    code: links.length > 0,
    officialCode: links.some((link) => link.official),
    // The backend may answer under the paper's canonical id when the page named another of its ids.
    saved: [lookup?.paper_id, paper?.paper_id].some((id) => id && savedIds.has(id)),
  };
}

/**
 * The badge for a tab's marks: its text, colour and the icon's title. No marks (or a tab with
 * no paper) give the empty badge and the extension's own title.
 */
export function tabBadge(marks) {
  const code = Boolean(marks?.code);
  const saved = Boolean(marks?.saved);
  if (!code && !saved) return { text: "", color: CODE_COLOR, title: DEFAULT_TITLE };
  const facts = [];
  if (code) facts.push(marks.officialCode ? "official code available" : "code available");
  if (saved) facts.push("in your reading list");
  return {
    text: code ? CODE_TEXT : SAVED_TEXT,
    color: saved ? SAVED_COLOR : CODE_COLOR,
    title: `${DEFAULT_TITLE}: ${facts.join(", ")}`,
  };
}

// arXiv's and OpenReview's /pdf addresses, and every site's files ending in .pdf.
const PDF_PATH = /^\/pdf(?:\/|$)|\.pdf$/i;

/**
 * Whether the background must look a tab's paper up from its address: where no content script
 * does, that is PDF documents and pages outside the sites the content script runs on.
 */
export function needsAddressLookup(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return siteForHost(parsed.hostname) === null || PDF_PATH.test(parsed.pathname);
}

/** Whether the reader left PaperLens on for the tab's site (hosts outside the registry are). */
export function badgeAllowed(url, sites) {
  let host;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  const site = siteForHost(host);
  return site === null || sites[site.id] !== false;
}
