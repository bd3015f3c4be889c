// One adapter per supported site: what a paper page is, what a listing page is, and which
// links on a listing page name papers. The paper itself is always named by the page URL plus
// its citation_* meta tags, which the background resolves with lib/identifiers.js.

const META_NAMES = ["citation_doi", "citation_arxiv_id", "citation_title"];

/** The citation_* meta tags the backend's resolver reads (the generic adapter). */
export function citationMeta(doc) {
  const meta = {};
  for (const name of META_NAMES) {
    const tag = doc.querySelector(`meta[name="${name}"]`);
    const content = tag?.getAttribute("content")?.trim();
    if (content) meta[name] = content.slice(0, 2048);
  }
  return meta;
}

const ARXIV_LISTING = /^\/(?:list|search|catchup)(?:\/|$)/;
const HF_LISTING = /^\/papers(?:\/(?:trending|date|week|month)(?:\/[^/]*)?)?\/?$/;

// Listing rules and the link, among those naming one paper, that gets the badges.
const LISTINGS = {
  arxiv: { isListing: (loc) => ARXIV_LISTING.test(loc.pathname), anchor: 'a[title="Abstract"], p.list-title a' },
  huggingface: { isListing: (loc) => HF_LISTING.test(loc.pathname), anchor: "h3 a, h2 a" },
};

/** Site adapters: SPA sites change papers without reloading, so their URL is watched. */
export const ADAPTERS = {
  arxiv: { spa: false },
  huggingface: { spa: true },
  alphaxiv: { spa: true },
  openreview: { spa: true },
  acl: { spa: false },
  semanticscholar: { spa: true },
  pmlr: { spa: false },
  neurips: { spa: false },
  cvf: { spa: false },
};

export function isListingPage(siteId, loc) {
  return Boolean(LISTINGS[siteId]?.isListing(loc));
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
  const preferred = new Set(doc.querySelectorAll(LISTINGS[siteId]?.anchor ?? "a[href]"));
  return { anchors: anchors.slice(0, 2000), preferred };
}
