// Canonical paper ids from page URLs, ids and page metadata, without touching the network.
// A faithful port of paperlens/identifiers.py: both are held to tests/vectors/identifiers.json,
// so the extension asks the backend about exactly the paper the backend would name.

const MAX_INPUT_LENGTH = 2048;
// The longest canonical id (scheme included) the backend's store keeps.
const PAPER_ID_MAX_LENGTH = 512;

// Exactly the characters Python's str.isspace() accepts (see the vectors' description).
const WHITESPACE =
  "\\t\\n\\x0b\\x0c\\r\\x1c\\x1d\\x1e\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WHITESPACE_RUN = new RegExp(`[${WHITESPACE}]+`, "g");
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL_OR_SPACE = /[\x00-\x20\x7f]/;
const ASCII_WHITESPACE = " \t\n\r\x0b\x0c";

/** A regex that must match the whole string, as Python's re.fullmatch does. */
function full(source, flags = "") {
  return new RegExp(`^(?:${source})$`, flags);
}

/** The groups of a full match, or null. */
function fullmatch(regex, text) {
  const match = regex.exec(text);
  return match ? (match.groups ?? {}) : null;
}

function ref(paperId, version = null) {
  return { paper_id: paperId, version };
}

// ---------------------------------------------------------------- arXiv ids

const ARXIV_NEW = String.raw`(?<yymm>\d{4})\.(?<number>\d{4,5})`;
const ARXIV_OLD = String.raw`(?<archive>[A-Za-z]+(?:-[A-Za-z]+)?)(?:\.(?<subject>[A-Za-z]+(?:-[A-Za-z]+)?))?/(?<old_number>\d{7})`;
const VERSION = String.raw`(?:v(?<version>[1-9]\d{0,2}))?`;
const ARXIV_ID = `(?:${ARXIV_NEW}|${ARXIV_OLD})${VERSION}`;
const ARXIV_ID_RE = full(ARXIV_ID);

// Kept in rows (one name per line would run to 34 lines).
// prettier-ignore
const OLD_ARCHIVES = new Set([
  "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an",
  "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an",
  "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th", "nlin",
  "nucl-ex", "nucl-th", "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "quant-ph",
  "solv-int", "supr-con",
]);

function versionOf(groups) {
  return groups.version ? Number.parseInt(groups.version, 10) : null;
}

/** Check what a regex cannot (dates, digit counts) and build the canonical arXiv id. */
function arxivFromGroups(groups) {
  if (groups.yymm !== undefined) {
    const { yymm, number } = groups;
    const month = Number.parseInt(yymm.slice(2), 10);
    if (month < 1 || month > 12 || yymm < "0704") return null;
    if (number.length !== (yymm < "1501" ? 4 : 5) || Number.parseInt(number, 10) === 0) {
      return null;
    }
    return ref(`arxiv:${yymm}.${number}`, versionOf(groups));
  }
  const archive = groups.archive.toLowerCase();
  const oldNumber = groups.old_number;
  const year = Number.parseInt(oldNumber.slice(0, 2), 10);
  const month = Number.parseInt(oldNumber.slice(2, 4), 10);
  if (!OLD_ARCHIVES.has(archive) || month < 1 || month > 12) return null;
  if (!(year >= 91 || year < 7 || (year === 7 && month <= 3))) return null;
  if (Number.parseInt(oldNumber.slice(4), 10) === 0) return null;
  return ref(`arxiv:${archive}/${oldNumber}`, versionOf(groups));
}

function arxivRef(text) {
  const groups = fullmatch(ARXIV_ID_RE, text);
  return groups ? arxivFromGroups(groups) : null;
}

// ---------------------------------------------------------------- other schemes' values

// Crossref's recommended suffix characters plus the ":", "<>" and "+" of SICI-style DOIs;
// no empty, "." or ".." segment (a DOI ends up inside the backend's source URLs).
const DOI_RE = full(String.raw`10\.\d{4,9}(?:\.\d+)*/[A-Za-z0-9\-._;()/:<>+]+`);
const DOI_BAD_SEGMENTS = new Set(["", ".", ".."]);
const ARXIV_DATACITE_RE = full(String.raw`10\.48550/arxiv\.(?<id>[^\n]+)`);
const OPENREVIEW_RE = full("[A-Za-z0-9_-]{5,40}");
const ACL_RE = full(String.raw`(?<new>\d{4}\.[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.\d+)|(?<old>[A-Za-z]\d{2}-\d{4})`);
const S2_RE = full("[0-9A-Fa-f]{40}");
const PMID_RE = full(String.raw`[1-9]\d{0,8}`);
const PMCID_RE = full(String.raw`(?:PMC)?(?<n>[1-9]\d{0,8})`, "i");
const PMLR_RE = full(String.raw`(?<volume>[vV][1-9]\d{0,3})/(?<key>[A-Za-z][A-Za-z0-9_-]*)`);
const NEURIPS_RE = full(String.raw`(?<year>\d{4})/(?<hash>[0-9A-Fa-f]{32})`);
const CVF_CONFERENCE = String.raw`(?:CVPR|ICCV|WACV|ECCV|ACCV)\d{4}W?`;
const CVF_STEM = "[A-Za-z0-9][A-Za-z0-9_-]*_paper";
const CVF_RE = full(`(?<conference>${CVF_CONFERENCE})/(?<stem>${CVF_STEM})`, "i");
const IEEE_RE = full(String.raw`[1-9]\d{0,9}`);
const CORPUSID_RE = full(String.raw`[1-9]\d{0,11}`);
const LOCAL_RE = full("[0-9A-Fa-f]{16}");

/** DOIs are case-insensitive, so lower-case them; arXiv's own DOIs name arXiv papers. */
function doiRef(doi) {
  if (!DOI_RE.test(doi) || doi.split("/").some((s) => DOI_BAD_SEGMENTS.has(s))) return null;
  const lowered = doi.toLowerCase();
  const datacite = fullmatch(ARXIV_DATACITE_RE, lowered);
  if (datacite) return arxivRef(datacite.id);
  return ref(`doi:${lowered}`);
}

function aclRef(anthologyId, version = null) {
  const groups = fullmatch(ACL_RE, anthologyId);
  if (!groups) return null;
  if (groups.new) return ref(`acl:${anthologyId.toLowerCase()}`, version);
  return ref(`acl:${anthologyId.toUpperCase()}`, version);
}

function simple(scheme, regex, lower) {
  return (value) => (regex.test(value) ? ref(`${scheme}:${lower ? value.toLowerCase() : value}`) : null);
}

function pmcidRef(value) {
  const groups = fullmatch(PMCID_RE, value);
  return groups ? ref(`pmcid:PMC${groups.n}`) : null;
}

function pmlrRef(value) {
  const groups = fullmatch(PMLR_RE, value);
  return groups ? ref(`pmlr:${groups.volume.toLowerCase()}/${groups.key}`) : null;
}

function neuripsRef(value) {
  const groups = fullmatch(NEURIPS_RE, value);
  if (!groups || Number.parseInt(groups.year, 10) < 1987) return null;
  return ref(`neurips:${groups.year}/${groups.hash.toLowerCase()}`);
}

function cvfRef(value) {
  const groups = fullmatch(CVF_RE, value);
  return groups ? ref(`cvf:${groups.conference.toUpperCase()}/${groups.stem}`) : null;
}

const VALUE_PARSERS = new Map(
  Object.entries({
    arxiv: arxivRef,
    doi: doiRef,
    openreview: simple("openreview", OPENREVIEW_RE, false),
    acl: aclRef,
    s2: simple("s2", S2_RE, true),
    pmid: simple("pmid", PMID_RE, false),
    pmcid: pmcidRef,
    pmlr: pmlrRef,
    neurips: neuripsRef,
    cvf: cvfRef,
    ieee: simple("ieee", IEEE_RE, false),
    corpusid: simple("corpusid", CORPUSID_RE, false),
    pl: simple("pl", LOCAL_RE, true),
  }),
);

export const SCHEMES = Object.freeze([...VALUE_PARSERS.keys()]);

// ---------------------------------------------------------------- per-site URL rules
// Each takes the percent-decoded path and the raw query.

const ARXIV_PATH = full(String.raw`/(?<kind>abs|pdf|html)/${ARXIV_ID}(?<pdf>\.pdf)?/?`);
const AR5IV_PATH = full(`/(?:html|abs)/${ARXIV_ID}/?`);
const ALPHAXIV_PATH = full(`/(?:abs|overview)/${ARXIV_ID}/?`);
const HUGGINGFACE_PATH = full(`/papers/${ARXIV_ID}/?`);
const SEMANTIC_SCHOLAR_PATH = full(`/arxiv/${ARXIV_ID}/?|/paper/(?:[^/]+/)?(?<s2>[0-9A-Fa-f]{40})/?`);
const S2_API_PATH = full(String.raw`/CorpusID:(?<corpusid>[1-9]\d{0,11})/?`, "i");
const OPENREVIEW_PATH = full("/(?:forum|pdf)/?");
const ACL_ID = String.raw`(?<id>\d{4}\.[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.\d+|[A-Za-z]\d{2}-\d{4})`;
const ACLANTHOLOGY_PATH = full(String.raw`/${ACL_ID}(?:v(?<version>[1-9]\d{0,2}))?(?:\.pdf)?/?`);
// aclweb.org also used /anthology/P/P19/P19-1001.pdf for old ids.
const ACLWEB_PATH = full(
  String.raw`/anthology/(?:[A-Za-z]/[A-Za-z]\d{2}/)?${ACL_ID}(?:v(?<version>[1-9]\d{0,2}))?(?:\.pdf)?/?`,
);
const PUBMED_PATH = full(String.raw`/(?<pmid>[1-9]\d{0,8})/?`);
const NCBI_PATH = full(
  String.raw`/pmc/articles/(?<pmcid>PMC[1-9]\d{0,8})(?:/[^\n]*)?|/pubmed/(?<pmid>[1-9]\d{0,8})/?`,
  "i",
);
const PMC_PATH = full(String.raw`/articles/(?<pmcid>PMC[1-9]\d{0,8})(?:/[^\n]*)?`, "i");
// Older volumes keep the PDF beside the abstract page (/v37/ioffe15.pdf), newer ones in a
// folder named for the key (/v139/radford21a/radford21a.pdf).
const PMLR_PATH = full(
  String.raw`/(?<volume>v[1-9]\d{0,3})/(?<key>[A-Za-z][A-Za-z0-9_-]*)` +
    String.raw`(?:\.html|(?<flat_pdf>\.pdf)|/(?<pdf>[A-Za-z][A-Za-z0-9_-]*)\.pdf)`,
);
const NEURIPS_PATH = full(
  String.raw`/(?:paper|paper_files/paper)/(?<year>\d{4})/` +
    String.raw`(?:hash/(?<abstract>[0-9a-f]{32})-Abstract(?:-[A-Za-z_]+)?\.html` +
    String.raw`|file/(?<paper>[0-9a-f]{32})-Paper(?:-[A-Za-z_]+)?\.pdf)`,
);
const CVF_PATH = full(
  `/(?:content/(?<conference>${CVF_CONFERENCE})(?:/(?<workshop>[A-Za-z0-9_-]+))?` +
    String.raw`|content_(?<old_conference>cvpr|iccv|wacv|eccv)_(?<old_year>\d{4}))` +
    String.raw`/(?<kind>html|papers)/(?<stem>${CVF_STEM})\.(?<ext>html|pdf)`,
  "i",
);
const IEEE_PATH = full(String.raw`/(?:abstract/)?document/(?<number>[1-9]\d{0,9})/?|/stamp/stamp\.jsp`);

/** The first value of a query parameter, as Python's parse_qsl and URLSearchParams agree. */
function queryParam(query, name) {
  // A leading "&" keeps URLSearchParams from dropping a "?" that belongs to the query.
  return new URLSearchParams(`&${query}`).get(name);
}

function arxivSite(path) {
  const groups = fullmatch(ARXIV_PATH, path);
  if (!groups || (groups.pdf && groups.kind !== "pdf")) return null;
  return arxivFromGroups(groups);
}

function arxivMirror(regex) {
  return (path) => {
    const groups = fullmatch(regex, path);
    return groups ? arxivFromGroups(groups) : null;
  };
}

function semanticScholar(path) {
  const groups = fullmatch(SEMANTIC_SCHOLAR_PATH, path);
  if (!groups) return null;
  if (groups.s2) return ref(`s2:${groups.s2.toLowerCase()}`);
  return arxivFromGroups(groups);
}

function semanticScholarApi(path) {
  const groups = fullmatch(S2_API_PATH, path);
  return groups ? ref(`corpusid:${groups.corpusid}`) : null;
}

function openreview(path, query) {
  if (!OPENREVIEW_PATH.test(path)) return null;
  const forum = queryParam(query, "id");
  if (forum === null || !OPENREVIEW_RE.test(forum)) return null;
  return ref(`openreview:${forum}`);
}

function aclSite(regex) {
  return (path) => {
    const groups = fullmatch(regex, path);
    return groups ? aclRef(groups.id, versionOf(groups)) : null;
  };
}

function pubmed(path) {
  const groups = fullmatch(PUBMED_PATH, path);
  return groups ? ref(`pmid:${groups.pmid}`) : null;
}

function ncbi(regex) {
  return (path) => {
    const groups = fullmatch(regex, path);
    if (!groups) return null;
    if (groups.pmid) return ref(`pmid:${groups.pmid}`);
    return pmcidRef(groups.pmcid);
  };
}

function pmlr(path) {
  const groups = fullmatch(PMLR_PATH, path);
  if (!groups || (groups.pdf && groups.pdf !== groups.key)) return null;
  if (pmlrSupplement(groups)) return null;
  return ref(`pmlr:${groups.volume}/${groups.key}`);
}

/** A flat PDF named <key>-supp.pdf is the supplement of paper <key>, not a paper. */
function pmlrSupplement(groups) {
  return Boolean(groups.flat_pdf) && groups.key.endsWith("-supp");
}

function neurips(path) {
  const groups = fullmatch(NEURIPS_PATH, path);
  return groups ? neuripsRef(`${groups.year}/${groups.abstract || groups.paper}`) : null;
}

function cvf(path) {
  const groups = fullmatch(CVF_PATH, path);
  if (!groups) return null;
  const kind = groups.kind.toLowerCase();
  const ext = groups.ext.toLowerCase();
  if (!((kind === "html" && ext === "html") || (kind === "papers" && ext === "pdf"))) return null;
  let conference = groups.conference;
  if (conference === undefined) {
    conference = groups.old_conference + groups.old_year;
  } else if (Boolean(groups.workshop) !== conference.toUpperCase().endsWith("W")) {
    // Only workshop proceedings have the extra /<workshop>/ level.
    return null;
  }
  return cvfRef(`${conference}/${groups.stem}`);
}

function ieee(path, query) {
  const groups = fullmatch(IEEE_PATH, path);
  if (!groups) return null;
  const number = groups.number || queryParam(query, "arnumber");
  if (number === null || number === undefined || !IEEE_RE.test(number)) return null;
  return ref(`ieee:${number}`);
}

// ---------------------------------------------------------------- publisher addresses with a DOI
// Only layouts a publisher uses for one article are listed, never "any DOI-shaped text":
// issue, listing, search, book and figure addresses may hold DOI-shaped strings that name
// something else. Each layout: a path pattern with group doi (or suffix, completed by
// prefix) and optionally version; or, when query is set, a path pattern plus the query
// parameter whose value the value pattern matches.

const DOI_VALUE = full(String.raw`(?<doi>10\.[0-9.]+/[^\n]+)`);

function layout(path, prefix = "", query = null, value = DOI_VALUE) {
  return { path, prefix, query, value };
}

const ANY_DOI = String.raw`(?<doi>10\.[0-9.]+/[^\n]+?)`;
// Most publishers' DOIs hold a single slash, after the prefix; in their addresses a further
// path segment is a file or figure of the article, not part of its DOI.
const ONE_SEGMENT_DOI = String.raw`(?<doi>10\.[0-9.]+/[^/]+?)`;
// Atypon-hosted journals show every view of an article under /doi/<view>/<DOI>.
const ATYPON_VIEW = "(?:(?:abs|full|pdf|epdf|pdfdirect|pdfplus|fullHtml|epub|reader|ref|suppl)/)?";
const ATYPON_ARTICLE = layout(full(`/doi/${ATYPON_VIEW}${ONE_SEGMENT_DOI}/*`));
// The "download citation" page of one article takes its DOI as a parameter.
const ATYPON_CITATION = layout(full("/action/showCitFormats"), "", "doi", full(ONE_SEGMENT_DOI));
const ATYPON = [ATYPON_ARTICLE, ATYPON_CITATION];
// Wiley's older DOIs (SICI) hold slashes, and its older addresses put the view after the
// DOI; its "(ISSN)" DOIs name journals, not articles.
const WILEY_DOI = String.raw`(?<doi>10\.[0-9.]+/(?!\([Ii][Ss][Ss][Nn]\))[^\n]+?)`;
const WILEY = [
  layout(full(`/doi/${ATYPON_VIEW}${WILEY_DOI}(?:/(?:abstract|full|pdf|epdf))?/*`)),
  layout(full("/resolve/doi"), "", "DOI", full(WILEY_DOI)),
  ATYPON_CITATION,
];
// Silverchair-hosted journals (OUP, AIP) look an article up by DOI under its journal.
const SILVERCHAIR = layout(full(`(?:/[A-Za-z0-9-]+){1,2}/article-lookup/doi/${ANY_DOI}/*`));
const RESOLVER = layout(full(`/${ANY_DOI}/*`));
const SPRINGER = [
  layout(full(`/(?:article|chapter)/${ONE_SEGMENT_DOI}/*`)),
  layout(full(String.raw`/content/pdf/${ONE_SEGMENT_DOI}\.pdf`)),
];
const NATURE = layout(full(String.raw`/articles/(?<suffix>[A-Za-z0-9][A-Za-z0-9.-]*?)(?:\.pdf)?/?`), "10.1038/");
const BIORXIV = layout(
  full(
    String.raw`/content/(?<doi>10\.1101/(?:\d{4}\.\d{2}\.\d{2}\.)?\d{6,8})` +
      String.raw`(?:v(?<version>[1-9]\d{0,2}))?` +
      String.raw`(?:\.full|\.full\.pdf|\.full-text|\.abstract|\.article-info|\.supplementary-material)?/?`,
  ),
);
const APS = layout(full(String.raw`/[a-z]+/(?:abstract|pdf|references|cited-by)/(?<doi>10\.1103/[^/]+?)/*`));
const AIP = [
  ...ATYPON,
  SILVERCHAIR,
  // scitation.aip.org/content/aip/journal/<journal>/<volume>/<issue>/<DOI>
  layout(full(String.raw`/content/aip/journal/[a-z0-9]+/\d+/\d+/(?<doi>10\.\d{4,9}/[^/]+?)/*`)),
];
// IOP's DOIs hold slashes; the article's views follow them.
const IOP = layout(full(`/article/${ANY_DOI}(?:/(?:pdf|meta|ampdf|data|fulltext))?/*`));
// RSC's DOIs are 10.1039/ plus the article code its addresses end in.
const RSC_CODE = String.raw`(?<suffix>[A-Za-z]\d[A-Za-z]{2}\d{5}[A-Za-z]|[A-Za-z]\d{6}[A-Za-z])`;
const RSC = layout(
  full(String.raw`/en/content/article(?:landing|html|pdf)/\d{4}/[A-Za-z]{2}/${RSC_CODE}/*`, "i"),
  "10.1039/",
);
const RSC_XLINK = layout(full("/?"), "10.1039/", "doi", full(RSC_CODE));
// PLOS names articles 10.1371/journal.<journal>.<seven digits>; figures and supporting
// files add a further part and are not articles.
const PLOS = layout(
  full("/[a-z]+/article(?:/(?:file|authors|metrics|comments|related|citation))?"),
  "",
  "id",
  full(String.raw`(?<doi>10\.1371/journal\.[a-z]+\.\d{7})`),
);
const PLOS_LEGACY = layout(full(String.raw`/article/info:doi/(?<doi>10\.1371/journal\.[a-z]+\.\d{7})`));
const FRONTIERS = layout(
  full(
    String.raw`(?:/journals/[a-z0-9-]+)?/articles/(?<doi>10\.3389/[^/]+?)` + "(?:/(?:full|abstract|pdf|xml|epub))?/*",
  ),
);
const ELIFE = layout(
  full(String.raw`/articles/(?<suffix>\d{5,6})(?:v(?<version>[1-9]\d{0,2}))?(?:/(?:figures|peer-reviews))?/*`),
  "10.7554/eLife.",
);
// eLife's PDFs: cdn.elifesciences.org/articles/<n>/elife-<n>-v<k>.pdf
const ELIFE_PDF = layout(
  full(String.raw`/articles/(?<suffix>\d{5,6})/elife-\d{5,6}-v(?<version>[1-9]\d{0,2})\.pdf`),
  "10.7554/eLife.",
);
// SSRN's DOIs are 10.2139/ssrn.<abstract id>.
const SSRN_ID = full(String.raw`(?<suffix>[1-9]\d{0,8})`);
const SSRN = [
  layout(full(String.raw`/sol3/papers\.cfm`), "10.2139/ssrn.", "abstract_id", SSRN_ID),
  layout(full(String.raw`/sol3/Delivery\.cfm(?:/[A-Za-z0-9_.-]+\.pdf)?`), "10.2139/ssrn.", "abstractid", SSRN_ID),
];
const SSRN_SHORT = layout(full(String.raw`/abstract=(?<suffix>[1-9]\d{0,8})/*`), "10.2139/ssrn.");
// JSTOR's own DOIs name articles with digits only; issues (i...) and books (j.ctt...)
// under the same prefix are not articles.
const JSTOR = layout(full(String.raw`/stable/(?:pdf/)?(?<doi>10\.2307/\d{4,9})(?:\.pdf)?/*`));
const AEA = [
  layout(full("/articles"), "", "id", full(String.raw`(?<doi>10\.1257/[^/]+)`)),
  layout(full(String.raw`/articles/pdf/doi/(?<doi>10\.1257/[^/]+?)/*`)),
];

/** A site whose article addresses carry the DOI in one of the given layouts. */
function doiSite(...layouts) {
  return (path, query) => {
    for (const { path: pathRe, prefix, query: name, value } of layouts) {
      let groups = fullmatch(pathRe, path);
      if (groups === null) continue;
      if (name !== null) {
        const param = queryParam(query, name);
        groups = param === null ? null : fullmatch(value, param);
        if (groups === null) return null;
      }
      const found = doiRef(groups.doi || prefix + groups.suffix);
      if (found === null || found.paper_id.startsWith("arxiv:")) return found;
      return ref(found.paper_id, versionOf(groups));
    }
    return null;
  };
}

// Wiley's society journals have hosts of their own under onlinelibrary.wiley.com.
const WILEY_SOCIETIES = ["agupubs", "acsjournals", "anatomypubs", "besjournals", "physoc", "rss"];
// Hosts whose article addresses carry a DOI, with the layouts they use: a row a publisher.
const DOI_HOSTS = [
  [["doi.org", "dx.doi.org", "www.doi.org"], doiSite(RESOLVER)],
  [["dl.acm.org"], doiSite(...ATYPON)],
  [["pubs.acs.org"], doiSite(...ATYPON)],
  [["www.science.org", "science.org"], doiSite(...ATYPON)],
  [["journals.sagepub.com"], doiSite(...ATYPON)],
  [["www.tandfonline.com", "tandfonline.com"], doiSite(...ATYPON)],
  [["onlinelibrary.wiley.com", ...WILEY_SOCIETIES.map((name) => `${name}.onlinelibrary.wiley.com`)], doiSite(...WILEY)],
  [["academic.oup.com"], doiSite(SILVERCHAIR)],
  [["pubs.aip.org", "aip.scitation.org", "scitation.aip.org"], doiSite(...AIP)],
  [["journals.aps.org"], doiSite(APS)],
  [["link.aps.org"], doiSite(...ATYPON)],
  [["link.springer.com"], doiSite(...SPRINGER)],
  [["nature.com", "www.nature.com"], doiSite(NATURE)],
  [["iopscience.iop.org"], doiSite(IOP)],
  [["pubs.rsc.org"], doiSite(RSC)],
  [["xlink.rsc.org"], doiSite(RSC_XLINK)],
  [["journals.plos.org"], doiSite(PLOS)],
  [["www.plosone.org", "www.plosbiology.org", "www.ploscompbiol.org"], doiSite(PLOS_LEGACY)],
  [["www.frontiersin.org", "frontiersin.org"], doiSite(FRONTIERS)],
  [["elifesciences.org"], doiSite(ELIFE)],
  [["cdn.elifesciences.org"], doiSite(ELIFE_PDF)],
  [["papers.ssrn.com"], doiSite(...SSRN)],
  [["ssrn.com"], doiSite(SSRN_SHORT)],
  [["www.jstor.org", "jstor.org"], doiSite(JSTOR)],
  [["www.aeaweb.org", "aeaweb.org"], doiSite(...AEA)],
  [["biorxiv.org", "www.biorxiv.org", "medrxiv.org", "www.medrxiv.org"], doiSite(BIORXIV)],
];

const SITES = new Map([
  ["arxiv.org", arxivSite],
  ["www.arxiv.org", arxivSite],
  ["export.arxiv.org", arxivSite],
  ["ar5iv.labs.arxiv.org", arxivMirror(AR5IV_PATH)],
  ["ar5iv.org", arxivMirror(AR5IV_PATH)],
  ["alphaxiv.org", arxivMirror(ALPHAXIV_PATH)],
  ["www.alphaxiv.org", arxivMirror(ALPHAXIV_PATH)],
  ["huggingface.co", arxivMirror(HUGGINGFACE_PATH)],
  ["semanticscholar.org", semanticScholar],
  ["www.semanticscholar.org", semanticScholar],
  ["api.semanticscholar.org", semanticScholarApi],
  ["openreview.net", openreview],
  ["www.openreview.net", openreview],
  ["aclanthology.org", aclSite(ACLANTHOLOGY_PATH)],
  ["www.aclanthology.org", aclSite(ACLANTHOLOGY_PATH)],
  ["aclweb.org", aclSite(ACLWEB_PATH)],
  ["www.aclweb.org", aclSite(ACLWEB_PATH)],
  ["pubmed.ncbi.nlm.nih.gov", pubmed],
  ["www.ncbi.nlm.nih.gov", ncbi(NCBI_PATH)],
  ["ncbi.nlm.nih.gov", ncbi(NCBI_PATH)],
  ["pmc.ncbi.nlm.nih.gov", ncbi(PMC_PATH)],
  ["proceedings.mlr.press", pmlr],
  ["papers.nips.cc", neurips],
  ["papers.neurips.cc", neurips],
  ["proceedings.neurips.cc", neurips],
  ["openaccess.thecvf.com", cvf],
  ["ieeexplore.ieee.org", ieee],
  ...DOI_HOSTS.flatMap(([hosts, site]) => hosts.map((host) => [host, site])),
]);

// ---------------------------------------------------------------- URL splitting

// "http(s)://" must be literal: a WHATWG URL parser would repair "https:arxiv.org/..."
// and then disagree with the backend about the host.
const HTTP_URL = /^https?:\/\//i;
const HOST = full("[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?");
const SCHEME_PREFIX = /^(?<scheme>[A-Za-z][A-Za-z0-9+.-]*):/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

function stripAscii(text) {
  let start = 0;
  let end = text.length;
  while (start < end && ASCII_WHITESPACE.includes(text[start])) start += 1;
  while (end > start && ASCII_WHITESPACE.includes(text[end - 1])) end -= 1;
  return text.slice(start, end);
}

/** Percent-decode once (so %2F in DOIs works); malformed escapes make the URL invalid. */
function decodePath(path) {
  if (BAD_PERCENT.test(path)) return null;
  let decoded;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null;
  }
  if (CONTROL_OR_SPACE.test(decoded)) return null;
  // Browsers resolve "." and ".." before showing a URL; finding them means a crafted URL.
  if (decoded.split("/").some((segment) => segment === "." || segment === "..")) return null;
  return decoded;
}

/** [host, decoded path, raw query] of a plain http(s) URL, split as Python's urlsplit does. */
function splitHttpUrl(url) {
  if (url.includes("\\") || CONTROL_OR_SPACE.test(url) || !HTTP_URL.test(url)) return null;
  let rest = url.slice(url.indexOf("//") + 2);
  const hashAt = rest.indexOf("#");
  const netlocEnd = [..."/?#"]
    .map((delimiter) => rest.indexOf(delimiter))
    .filter((index) => index >= 0)
    .reduce((a, b) => Math.min(a, b), rest.length);
  const host = rest.slice(0, netlocEnd).toLowerCase();
  rest = rest.slice(netlocEnd);
  if (!HOST.test(host)) return null;
  const beforeFragment = hashAt >= 0 ? rest.slice(0, rest.indexOf("#")) : rest;
  const queryAt = beforeFragment.indexOf("?");
  const rawPath = queryAt >= 0 ? beforeFragment.slice(0, queryAt) : beforeFragment;
  const query = queryAt >= 0 ? beforeFragment.slice(queryAt + 1) : "";
  const path = decodePath(rawPath);
  return path === null ? null : [host, path, query];
}

// ---------------------------------------------------------------- public functions

/** Publisher pages announce their paper in <meta name="citation_*"> tags. */
function fromMeta(meta) {
  const arxivId = meta.citation_arxiv_id;
  if (typeof arxivId === "string") {
    const found = parsePaperId(arxivId);
    if (found !== null && found.paper_id.startsWith("arxiv:")) return found;
  }
  let doi = meta.citation_doi;
  if (typeof doi === "string" && doi.length <= MAX_INPUT_LENGTH) {
    doi = stripAscii(doi);
    if (doi.slice(0, 4).toLowerCase() === "doi:") doi = doi.slice(4);
    if (HTTP_URL.test(doi)) {
      const found = resolveUrl(doi);
      if (found !== null && ["doi", "arxiv"].includes(found.paper_id.split(":")[0])) return found;
      return null;
    }
    return doiRef(doi);
  }
  return null;
}

/**
 * A page URL (plus optional page metadata: citation_doi, citation_arxiv_id, citation_title)
 * -> {paper_id, version} or null. The URL wins over the metadata; a title alone names nothing.
 */
export function resolveUrl(url, meta = null) {
  if (typeof url !== "string" || url.length > MAX_INPUT_LENGTH) return null;
  const split = splitHttpUrl(stripAscii(url));
  if (split === null) return null;
  const [host, path, query] = split;
  const site = SITES.get(host);
  let found = site ? site(path, query) : null;
  if (found === null && meta && Object.keys(meta).length > 0) found = fromMeta(meta);
  return storable(found);
}

/** Ids longer than the backend's store keeps are not ids of any paper it can hold. */
function storable(found) {
  return found !== null && found.paper_id.length <= PAPER_ID_MAX_LENGTH ? found : null;
}

/** An id as a user or page gives it (canonical, bare arXiv id, bare DOI, URL) -> ref or null. */
export function parsePaperId(text) {
  if (typeof text !== "string" || text.length > MAX_INPUT_LENGTH) return null;
  const stripped = stripAscii(text);
  if (HTTP_URL.test(stripped)) return resolveUrl(stripped);
  const prefix = SCHEME_PREFIX.exec(stripped);
  if (prefix) {
    const parser = VALUE_PARSERS.get(prefix.groups.scheme.toLowerCase());
    return parser ? storable(parser(stripped.slice(prefix[0].length))) : null;
  }
  if (stripped.startsWith("10.")) return storable(doiRef(stripped));
  return storable(arxivRef(stripped));
}

/** The project's own stable id for a paper with no external id (same rule as the backend). */
export async function localPaperId(title) {
  const normalised = title
    .toLowerCase()
    .replace(WHITESPACE_RUN, " ")
    .replace(/^ +| +$/g, "");
  // TextEncoder turns lone surrogates into U+FFFD, as the backend does explicitly.
  const bytes = new TextEncoder().encode(normalised);
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `pl:${hex.slice(0, 16)}`;
}
