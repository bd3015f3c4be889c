// What the reader configures on the options page, and the sites the extension knows.

export const DEFAULT_BACKEND_URL = "http://127.0.0.1:8000";

// One switch per site on the options page; `hosts` are the hosts each switch covers.
export const SITES = Object.freeze([
  { id: "arxiv", label: "arXiv", hosts: ["arxiv.org", "www.arxiv.org", "export.arxiv.org"] },
  { id: "huggingface", label: "Hugging Face papers", hosts: ["huggingface.co"] },
  { id: "alphaxiv", label: "alphaXiv", hosts: ["alphaxiv.org", "www.alphaxiv.org"] },
  { id: "openreview", label: "OpenReview", hosts: ["openreview.net"] },
  { id: "acl", label: "ACL Anthology", hosts: ["aclanthology.org"] },
  { id: "semanticscholar", label: "Semantic Scholar", hosts: ["www.semanticscholar.org"] },
  { id: "pmlr", label: "PMLR", hosts: ["proceedings.mlr.press"] },
  {
    id: "neurips",
    label: "NeurIPS proceedings",
    hosts: ["papers.nips.cc", "papers.neurips.cc", "proceedings.neurips.cc"],
  },
  { id: "cvf", label: "CVF open access", hosts: ["openaccess.thecvf.com"] },
]);

export const DEFAULT_SETTINGS = Object.freeze({
  backendUrl: DEFAULT_BACKEND_URL,
  token: "",
  sites: Object.fromEntries(SITES.map((site) => [site.id, true])),
});

/** The site switch that governs a host, or null for hosts the extension does not know. */
export function siteForHost(host) {
  return SITES.find((site) => site.hosts.includes(host.toLowerCase())) ?? null;
}

/** A backend URL as typed -> its canonical origin-and-path form, or null when unusable. */
export function normaliseBackendUrl(text) {
  let url;
  try {
    url = new URL(String(text).trim());
  } catch {
    return null;
  }
  if (!["http:", "https:"].includes(url.protocol) || url.username || url.password) return null;
  if (url.search || url.hash) return null;
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** The match pattern for a runtime host permission on the backend (Firefox needs one). */
export function backendPermissionPattern(backendUrl) {
  const url = new URL(backendUrl);
  return `${url.protocol}//${url.hostname}/*`;
}

/** Stored settings merged over the defaults, so new switches start enabled. */
export function withDefaults(stored) {
  return {
    backendUrl: stored?.backendUrl || DEFAULT_SETTINGS.backendUrl,
    token: typeof stored?.token === "string" ? stored.token.trim() : "",
    sites: { ...DEFAULT_SETTINGS.sites, ...(stored?.sites ?? {}) },
  };
}
