// Listing pages: many paper links in, one batch request and one badge set per paper out.

import { parsePaperId, resolveUrl } from "./identifiers.js";
import { safeHttpUrl } from "./links.js";

/** Distinct paper ids named by a page's links, and which link names which id. */
export function groupLinks(hrefs) {
  const idsByHref = {};
  const ids = [];
  for (const href of hrefs) {
    const found = resolveUrl(href);
    if (found === null) continue;
    idsByHref[href] = found.paper_id;
    if (!ids.includes(found.paper_id)) ids.push(found.paper_id);
  }
  return { ids, idsByHref };
}

// The backend's default PAPERLENS_BATCH_MAX_ITEMS; a long listing takes a few batches.
export const BATCH_SIZE = 200;

/** Ids in batches the backend accepts, in page order. */
export function batches(ids, size = BATCH_SIZE) {
  const out = [];
  for (let start = 0; start < ids.length; start += size) out.push(ids.slice(start, start + size));
  return out;
}

/**
 * The badges one batch item earns: code available (as the backend marked it, with the link the
 * badge opens when it is a safe http(s) address), already saved.
 */
export function badgesFor(item, savedIds) {
  const paperId = item.paper_id;
  const code = item.badges?.code ?? false;
  const url = item.badges?.code_url;
  return {
    paper_id: paperId,
    code,
    official_code: item.badges?.official_code ?? false,
    code_url: code && typeof url === "string" ? safeHttpUrl(url) : null,
    saved: paperId !== null && savedIds.has(paperId),
  };
}

/**
 * What a paper's badges say, to the eye and to a screen reader: `code` (null without code) is
 * the visible word, the accessible label and the link; `saved` the same for the reading-list
 * mark, which is always drawn and shown only when `saved.shown`. Official and community code
 * differ in words, not only in colour.
 */
export function badgeMarks(info) {
  const official = Boolean(info.official_code);
  const code = info.code
    ? {
        official,
        word: official ? "official code" : "community code",
        label: official ? "Code available, official" : "Code available, community",
        href: info.code_url ?? null,
      }
    : null;
  return { code, saved: { word: "saved", label: "In your reading list", shown: Boolean(info.saved) } };
}

/** A reading-list entry's paper id, whatever the list endpoint nests it under. */
export function entryPaperId(entry) {
  const raw = entry?.paper_id ?? entry?.paper?.paper_id ?? null;
  return raw === null ? null : (parsePaperId(raw)?.paper_id ?? raw);
}
