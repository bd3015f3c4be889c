// Shaping the backend's paper document for display: safe links, order, where papers live.

/** Only http(s) links from server data may become hrefs (never javascript: or data:). */
export function safeHttpUrl(text) {
  try {
    const url = new URL(String(text));
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

const KIND_ORDER = ["repository", "model", "dataset", "space"];

/** Code links, official first, then repositories before models, datasets and spaces. */
export function codeLinks(paper) {
  const links = (paper?.code ?? []).filter((link) => link.kind !== "project_page" && safeHttpUrl(link.url));
  const rank = (link) => [link.official ? 0 : 1, KIND_ORDER.indexOf(link.kind)];
  return links
    .map((link, index) => ({ link, index, rank: rank(link) }))
    .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.index - b.index)
    .map(({ link }) => link);
}

/** The paper's project page, official first, or null. */
export function projectPage(paper) {
  const pages = (paper?.code ?? []).filter((link) => link.kind === "project_page" && safeHttpUrl(link.url));
  return pages.find((link) => link.official) ?? pages[0] ?? null;
}

/**
 * Where a preprint was published, as {text, doi}: text such as "Published in NeurIPS 2022",
 * doi the DOI or null; null when the document names no published version. Only strings and
 * numbers from the document are used, so nothing shows "null" or "undefined".
 */
export function publishedIn(paper) {
  const version = paper?.published_version;
  const venue = typeof version?.venue === "string" ? version.venue.trim() : "";
  if (!venue) return null;
  const year = Number.isInteger(version.year) ? ` ${version.year}` : "";
  const doi = typeof version.doi === "string" && version.doi.startsWith("10.") ? version.doi : null;
  return { text: `Published in ${venue}${year}`, doi };
}

/** A short label for a link: host and path, without the scheme. */
export function linkLabel(url) {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname.replace(/\/$/, "")}`;
}

const PAPER_PAGES = {
  arxiv: (value) => `https://arxiv.org/abs/${value}`,
  doi: (value) => `https://doi.org/${value}`,
  openreview: (value) => `https://openreview.net/forum?id=${encodeURIComponent(value)}`,
  acl: (value) => `https://aclanthology.org/${value}/`,
  s2: (value) => `https://www.semanticscholar.org/paper/${value}`,
  corpusid: (value) => `https://api.semanticscholar.org/CorpusID:${value}`,
  pmid: (value) => `https://pubmed.ncbi.nlm.nih.gov/${value}/`,
  pmcid: (value) => `https://pmc.ncbi.nlm.nih.gov/articles/${value}/`,
  pmlr: (value) => `https://proceedings.mlr.press/${value}.html`,
  ieee: (value) => `https://ieeexplore.ieee.org/document/${value}`,
};

const SOURCE_NAMES = {
  semantic_scholar: "Semantic Scholar",
  openalex: "OpenAlex",
};

/** Who proposed a related paper, for the reader: null for the catalogue's own neighbours. */
export function relatedSource(item) {
  const source = item?.source;
  if (!source || source === "corpus") return null;
  return `suggested by ${SOURCE_NAMES[source] ?? String(source)}`;
}

/** Shown instead of a related list when nothing in the catalogue is close enough. */
export const NOTHING_CLOSE = "No closely related papers in this catalogue yet.";

/** Where a reader can open a paper named by its canonical id, or null (e.g. local ids). */
export function paperUrl(paperId) {
  const at = String(paperId).indexOf(":");
  if (at < 0) return null;
  const page = PAPER_PAGES[String(paperId).slice(0, at)];
  return page ? safeHttpUrl(page(String(paperId).slice(at + 1))) : null;
}

/** Tags as typed ("rl, moe  ,") -> a clean, de-duplicated list. */
export function parseTags(text) {
  const tags = String(text ?? "")
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
  return [...new Set(tags)];
}

export const STATUSES = Object.freeze([
  ["to_read", "To read"],
  ["reading", "Reading"],
  ["done", "Done"],
]);
