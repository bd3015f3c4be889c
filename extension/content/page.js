// What the content script reads from a page: the paper it names (the page URL plus its
// citation_* meta tags, which the background resolves with lib/identifiers.js) and, on a
// listing page, the links that may name papers. Which pages list papers, and which of their
// links get the badges, is each site's entry in lib/sites.js.

import { PAGE_META_NAMES } from "../lib/messages.js";
import { listingAnchor } from "../lib/sites.js";

/** The citation_* meta tags the backend's resolver reads, on any site. */
export function citationMeta(doc) {
  const meta = {};
  for (const name of PAGE_META_NAMES) {
    const tag = doc.querySelector(`meta[name="${name}"]`);
    const content = tag?.getAttribute("content")?.trim();
    if (content) meta[name] = content.slice(0, 2048);
  }
  return meta;
}

/** What the background needs to name the paper on this page. */
export function pageSnapshot(doc, loc) {
  return { url: loc.href, meta: citationMeta(doc) };
}

/** Same-site links that may name papers, and the preferred badge anchor for each. */
export function listingLinks(siteId, doc, loc) {
  const anchors = [...doc.querySelectorAll("a[href]")].filter((a) => {
    try {
      return new URL(a.href).host === loc.host;
    } catch {
      return false;
    }
  });
  const preferred = new Set(doc.querySelectorAll(listingAnchor(siteId) ?? "a[href]"));
  return { anchors: anchors.slice(0, 2000), preferred };
}
