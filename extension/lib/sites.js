// The sites the extension runs on, each described once: its switch on the options page, its
// hosts, the pages of those hosts the content script is injected into, whether it moves between
// papers without reloading, and which of its pages list papers. The manifest's match lists are
// derived from this table (tests/manifest.test.js fails when they drift apart).

/**
 * One site: `id` names its switch (stored in settings.sites), `hosts` the hosts it covers,
 * `path` the match-pattern path of the pages the content script runs on, `spa` whether it
 * changes papers without reloading (so its address is watched), `listing` (when it has listing
 * pages) which paths list papers and which link, among those naming one paper, gets the badges.
 */
export const SITES = Object.freeze([
  {
    id: "arxiv",
    label: "arXiv",
    hosts: ["arxiv.org", "www.arxiv.org", "export.arxiv.org"],
    path: "/*",
    spa: false,
    listing: { paths: /^\/(?:list|search|catchup)(?:\/|$)/, anchor: 'a[title="Abstract"], p.list-title a' },
  },
  {
    id: "huggingface",
    label: "Hugging Face papers",
    hosts: ["huggingface.co"],
    path: "/papers*",
    spa: true,
    listing: { paths: /^\/papers(?:\/(?:trending|date|week|month)(?:\/[^/]*)?)?\/?$/, anchor: "h3 a, h2 a" },
  },
  { id: "alphaxiv", label: "alphaXiv", hosts: ["alphaxiv.org", "www.alphaxiv.org"], path: "/*", spa: true },
  { id: "openreview", label: "OpenReview", hosts: ["openreview.net"], path: "/*", spa: true },
  { id: "acl", label: "ACL Anthology", hosts: ["aclanthology.org"], path: "/*", spa: false },
  { id: "semanticscholar", label: "Semantic Scholar", hosts: ["www.semanticscholar.org"], path: "/*", spa: true },
  { id: "pmlr", label: "PMLR", hosts: ["proceedings.mlr.press"], path: "/*", spa: false },
  {
    id: "neurips",
    label: "NeurIPS proceedings",
    hosts: ["papers.nips.cc", "papers.neurips.cc", "proceedings.neurips.cc"],
    path: "/*",
    spa: false,
  },
  { id: "cvf", label: "CVF open access", hosts: ["openaccess.thecvf.com"], path: "/*", spa: false },
]);

/** The site that governs a host, or null for hosts the extension does not know. */
export function siteForHost(host) {
  return SITES.find((site) => site.hosts.includes(host.toLowerCase())) ?? null;
}

/** Whether `loc` (a Location or URL) is one of a site's listing pages. */
export function isListingPage(siteId, loc) {
  const listing = SITES.find((site) => site.id === siteId)?.listing;
  return Boolean(listing?.paths.test(loc.pathname));
}

/** The link selector that gets a listing's badges, or null where any paper link will do. */
export function listingAnchor(siteId) {
  return SITES.find((site) => site.id === siteId)?.listing?.anchor ?? null;
}

function patterns(pathOf) {
  return SITES.flatMap((site) =>
    site.hosts.flatMap((host) => ["https", "http"].map((scheme) => `${scheme}://${host}${pathOf(site)}`)),
  );
}

/** The manifest's content_scripts matches and host_permissions: the pages each site covers. */
export function pageMatchPatterns() {
  return patterns((site) => site.path);
}

/** The manifest's web_accessible_resources matches: whole origins, as browsers require there. */
export function originMatchPatterns() {
  return patterns(() => "/*");
}
