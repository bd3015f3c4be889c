"""Recognise research papers from page URLs and ids, without ever touching the network.

The extension sends the URL of the page a reader has open; the API and the workers need
one stable name per paper however it was reached (arXiv abstract, PDF, mirror, DOI
resolver, publisher page...). This module maps all of those to a canonical
``scheme:value`` id. It only parses: a URL from an untrusted page must never make us
connect anywhere. The same rules are pinned down, language-neutrally, in
``tests/vectors/identifiers.json`` so the extension's JavaScript can agree with us.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "PAPER_ID_MAX_LENGTH",
    "SCHEMES",
    "PaperRef",
    "local_paper_id",
    "parse_paper_id",
    "resolve_url",
]

SCHEMES: frozenset[str] = frozenset(
    {
        "arxiv",
        "doi",
        "openreview",
        "acl",
        "s2",
        "pmid",
        "pmcid",
        "pmlr",
        "neurips",
        "cvf",
        "ieee",
        "corpusid",
        "pl",
    }
)

# Longer inputs are not real page URLs or ids; refusing them bounds the regex work.
MAX_INPUT_LENGTH = 2048
# The longest canonical id (scheme included) the store keeps; longer ones name no paper.
PAPER_ID_MAX_LENGTH = 512


def _compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """ASCII semantics everywhere: Python's \\d and case folding otherwise accept
    non-ASCII digits and letters that JavaScript's would not."""
    return re.compile(pattern, flags | re.ASCII)


@dataclass(frozen=True)
class PaperRef:
    """One paper, named by its canonical id; ``version`` keeps the revision a URL named."""

    paper_id: str
    version: int | None = None


# Exactly the characters Python's str.isspace() accepts, spelled out so that other
# implementations (the extension's JavaScript) can use the very same set.
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
_WHITESPACE_RUN = _compile(f"[{_WHITESPACE}]+")
_LONE_SURROGATE = _compile("[\ud800-\udfff]")
# Control characters and spaces: browsers never show them inside a URL, and parsers
# disagree about whether to drop them, so a URL containing one is refused.
_CONTROL_OR_SPACE = _compile(r"[\x00-\x20\x7f]")
_ASCII_WHITESPACE = " \t\n\r\x0b\x0c"

# ---------------------------------------------------------------------------
# arXiv ids
# ---------------------------------------------------------------------------

_ARXIV_NEW = r"(?P<yymm>\d{4})\.(?P<number>\d{4,5})"
# The subject class (math.GT) is part of old URLs but not of the paper's identity.
_ARXIV_OLD = (
    r"(?P<archive>[A-Za-z]+(?:-[A-Za-z]+)?)"
    r"(?:\.(?P<subject>[A-Za-z]+(?:-[A-Za-z]+)?))?"
    r"/(?P<old_number>\d{7})"
)
_VERSION = r"(?:v(?P<version>[1-9]\d{0,2}))?"
_ARXIV_ID = f"(?:{_ARXIV_NEW}|{_ARXIV_OLD}){_VERSION}"
_ARXIV_ID_RE = _compile(_ARXIV_ID)

# Archives that used old-style ids (before April 2007); anything else is not arXiv.
_OLD_ARCHIVES = frozenset(
    {
        "acc-phys",
        "adap-org",
        "alg-geom",
        "ao-sci",
        "astro-ph",
        "atom-ph",
        "bayes-an",
        "chao-dyn",
        "chem-ph",
        "cmp-lg",
        "comp-gas",
        "cond-mat",
        "cs",
        "dg-ga",
        "funct-an",
        "gr-qc",
        "hep-ex",
        "hep-lat",
        "hep-ph",
        "hep-th",
        "math",
        "math-ph",
        "mtrl-th",
        "nlin",
        "nucl-ex",
        "nucl-th",
        "patt-sol",
        "physics",
        "plasm-ph",
        "q-alg",
        "q-bio",
        "quant-ph",
        "solv-int",
        "supr-con",
    }
)


def _version(match: re.Match[str]) -> int | None:
    value = match.group("version")
    return int(value) if value else None


def _arxiv_from_match(match: re.Match[str]) -> PaperRef | None:
    """Check the parts a regex cannot (dates, digit counts) and build the canonical id."""
    yymm = match.group("yymm")
    if yymm is not None:
        number = match.group("number")
        # New-style ids began in April 2007; sequence numbers had four digits until
        # December 2014 and five from January 2015.
        if not 1 <= int(yymm[2:]) <= 12 or yymm < "0704":
            return None
        if len(number) != (4 if yymm < "1501" else 5) or int(number) == 0:
            return None
        return PaperRef(f"arxiv:{yymm}.{number}", _version(match))
    archive = match.group("archive").lower()
    old_number = match.group("old_number")
    year, month = int(old_number[:2]), int(old_number[2:4])
    if archive not in _OLD_ARCHIVES or not 1 <= month <= 12:
        return None
    if not (year >= 91 or year < 7 or (year == 7 and month <= 3)):
        return None
    if int(old_number[4:]) == 0:
        return None
    return PaperRef(f"arxiv:{archive}/{old_number}", _version(match))


def _arxiv_ref(text: str) -> PaperRef | None:
    """A bare arXiv id, possibly versioned, or None."""
    match = _ARXIV_ID_RE.fullmatch(text)
    return _arxiv_from_match(match) if match else None


# ---------------------------------------------------------------------------
# Other schemes' values
# ---------------------------------------------------------------------------

# A DOI suffix uses Crossref's recommended characters (a-z, A-Z, 0-9 and -._;()/) plus
# the ":", "<>" and "+" of the SICI-style DOIs older journal articles carry ("+" is
# literal in a URL path, kept as is by source URLs and exports, and inert in keys and
# SQL parameters). Everything else (braces, brackets, quotes, "%", "?", "#", spaces,
# control and non-ASCII characters) is refused, and so are empty, "." and ".." segments,
# since a DOI ends up inside source URLs.
_DOI_RE = _compile(r"10\.\d{4,9}(?:\.\d+)*/[A-Za-z0-9\-._;()/:<>+]+")
_DOI_BAD_SEGMENTS = frozenset({"", ".", ".."})
_ARXIV_DATACITE_RE = _compile(r"10\.48550/arxiv\.(?P<id>.+)")
_OPENREVIEW_RE = _compile(r"[A-Za-z0-9_-]{5,40}")
# New-style (2023.acl-long.1) or old-style (P19-1001) Anthology ids.
_ACL_RE = _compile(
    r"(?P<new>\d{4}\.[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.\d+)|(?P<old>[A-Za-z]\d{2}-\d{4})"
)
_S2_RE = _compile(r"[0-9A-Fa-f]{40}")
_PMID_RE = _compile(r"[1-9]\d{0,8}")
_PMCID_RE = _compile(r"(?:PMC)?(?P<n>[1-9]\d{0,8})", re.IGNORECASE)
_PMLR_RE = _compile(r"(?P<volume>[vV][1-9]\d{0,3})/(?P<key>[A-Za-z][A-Za-z0-9_-]*)")
_NEURIPS_RE = _compile(r"(?P<year>\d{4})/(?P<hash>[0-9A-Fa-f]{32})")
_CVF_CONFERENCE = r"(?:CVPR|ICCV|WACV|ECCV|ACCV)\d{4}W?"
_CVF_STEM = r"[A-Za-z0-9][A-Za-z0-9_-]*_paper"
_CVF_RE = _compile(f"(?P<conference>{_CVF_CONFERENCE})/(?P<stem>{_CVF_STEM})", re.IGNORECASE)
_IEEE_RE = _compile(r"[1-9]\d{0,9}")
_CORPUSID_RE = _compile(r"[1-9]\d{0,11}")
_LOCAL_RE = _compile(r"[0-9A-Fa-f]{16}")


def _doi_ref(doi: str) -> PaperRef | None:
    """DOIs are case-insensitive, so lower-case them; arXiv's own DOIs name arXiv papers."""
    if not _DOI_RE.fullmatch(doi) or any(s in _DOI_BAD_SEGMENTS for s in doi.split("/")):
        return None
    doi = doi.lower()
    datacite = _ARXIV_DATACITE_RE.fullmatch(doi)
    if datacite:
        return _arxiv_ref(datacite.group("id"))
    return PaperRef(f"doi:{doi}")


def _acl_ref(anthology_id: str, version: int | None = None) -> PaperRef | None:
    """The Anthology spells new ids in lower case and old ids with an upper-case letter."""
    match = _ACL_RE.fullmatch(anthology_id)
    if not match:
        return None
    if match.group("new"):
        return PaperRef(f"acl:{anthology_id.lower()}", version)
    return PaperRef(f"acl:{anthology_id.upper()}", version)


def _simple(scheme: str, pattern: re.Pattern[str], lower: bool) -> Callable[[str], PaperRef | None]:
    def parse(value: str) -> PaperRef | None:
        if not pattern.fullmatch(value):
            return None
        return PaperRef(f"{scheme}:{value.lower() if lower else value}")

    return parse


def _pmcid_ref(value: str) -> PaperRef | None:
    match = _PMCID_RE.fullmatch(value)
    return PaperRef(f"pmcid:PMC{match.group('n')}") if match else None


def _pmlr_ref(value: str) -> PaperRef | None:
    match = _PMLR_RE.fullmatch(value)
    if not match:
        return None
    return PaperRef(f"pmlr:{match.group('volume').lower()}/{match.group('key')}")


def _neurips_ref(value: str) -> PaperRef | None:
    match = _NEURIPS_RE.fullmatch(value)
    if not match or int(match.group("year")) < 1987:
        return None
    return PaperRef(f"neurips:{match.group('year')}/{match.group('hash').lower()}")


def _cvf_ref(value: str) -> PaperRef | None:
    match = _CVF_RE.fullmatch(value)
    if not match:
        return None
    return PaperRef(f"cvf:{match.group('conference').upper()}/{match.group('stem')}")


# How the value after "scheme:" is validated and normalised, for each scheme.
_VALUE_PARSERS: dict[str, Callable[[str], PaperRef | None]] = {
    "arxiv": _arxiv_ref,
    "doi": _doi_ref,
    "openreview": _simple("openreview", _OPENREVIEW_RE, lower=False),
    "acl": _acl_ref,
    "s2": _simple("s2", _S2_RE, lower=True),
    "pmid": _simple("pmid", _PMID_RE, lower=False),
    "pmcid": _pmcid_ref,
    "pmlr": _pmlr_ref,
    "neurips": _neurips_ref,
    "cvf": _cvf_ref,
    "ieee": _simple("ieee", _IEEE_RE, lower=False),
    "corpusid": _simple("corpusid", _CORPUSID_RE, lower=False),
    "pl": _simple("pl", _LOCAL_RE, lower=True),
}
assert frozenset(_VALUE_PARSERS) == SCHEMES

# ---------------------------------------------------------------------------
# Per-site URL rules: each takes the percent-decoded path and the raw query
# ---------------------------------------------------------------------------

_Site = Callable[[str, str], PaperRef | None]

_ARXIV_PATH = _compile(f"/(?P<kind>abs|pdf|html)/{_ARXIV_ID}(?P<pdf>\\.pdf)?/?")
_AR5IV_PATH = _compile(f"/(?:html|abs)/{_ARXIV_ID}/?")
_ALPHAXIV_PATH = _compile(f"/(?:abs|overview)/{_ARXIV_ID}/?")
_HUGGINGFACE_PATH = _compile(f"/papers/{_ARXIV_ID}/?")
_SEMANTIC_SCHOLAR_PATH = _compile(
    f"/arxiv/{_ARXIV_ID}/?|/paper/(?:[^/]+/)?(?P<s2>[0-9A-Fa-f]{{40}})/?"
)
_S2_API_PATH = _compile(r"/CorpusID:(?P<corpusid>[1-9]\d{0,11})/?", re.IGNORECASE)
_OPENREVIEW_PATH = _compile(r"/(?:forum|pdf)/?")
_ACL_ID = r"(?P<id>\d{4}\.[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.\d+|[A-Za-z]\d{2}-\d{4})"
_ACLANTHOLOGY_PATH = _compile(f"/{_ACL_ID}(?:v(?P<version>[1-9]\\d{{0,2}}))?(?:\\.pdf)?/?")
# aclweb.org also used /anthology/P/P19/P19-1001.pdf for old ids.
_ACLWEB_PATH = _compile(
    f"/anthology/(?:[A-Za-z]/[A-Za-z]\\d{{2}}/)?{_ACL_ID}(?:v(?P<version>[1-9]\\d{{0,2}}))?(?:\\.pdf)?/?"
)
_PUBMED_PATH = _compile(r"/(?P<pmid>[1-9]\d{0,8})/?")
_NCBI_PATH = _compile(
    r"/pmc/articles/(?P<pmcid>PMC[1-9]\d{0,8})(?:/.*)?|/pubmed/(?P<pmid>[1-9]\d{0,8})/?",
    re.IGNORECASE,
)
_PMC_PATH = _compile(r"/articles/(?P<pmcid>PMC[1-9]\d{0,8})(?:/.*)?", re.IGNORECASE)
# Older volumes keep the PDF beside the abstract page (/v37/ioffe15.pdf), newer ones in a
# folder named for the key (/v139/radford21a/radford21a.pdf).
_PMLR_PATH = _compile(
    r"/(?P<volume>v[1-9]\d{0,3})/(?P<key>[A-Za-z][A-Za-z0-9_-]*)"
    r"(?:\.html|(?P<flat_pdf>\.pdf)|/(?P<pdf>[A-Za-z][A-Za-z0-9_-]*)\.pdf)"
)
_NEURIPS_PATH = _compile(
    r"/(?:paper|paper_files/paper)/(?P<year>\d{4})/"
    r"(?:hash/(?P<abstract>[0-9a-f]{32})-Abstract(?:-[A-Za-z_]+)?\.html"
    r"|file/(?P<paper>[0-9a-f]{32})-Paper(?:-[A-Za-z_]+)?\.pdf)"
)
_CVF_PATH = _compile(
    f"/(?:content/(?P<conference>{_CVF_CONFERENCE})(?:/(?P<workshop>[A-Za-z0-9_-]+))?"
    r"|content_(?P<old_conference>cvpr|iccv|wacv|eccv)_(?P<old_year>\d{4}))"
    f"/(?P<kind>html|papers)/(?P<stem>{_CVF_STEM})\\.(?P<ext>html|pdf)",
    re.IGNORECASE,
)
_IEEE_PATH = _compile(r"/(?:abstract/)?document/(?P<number>[1-9]\d{0,9})/?|/stamp/stamp\.jsp")


# ---------------------------------------------------------------------------
# Publisher addresses that carry a DOI
# ---------------------------------------------------------------------------
#
# Only layouts a publisher uses for one article (its landing page, full text, PDF,
# references) are listed, never "any DOI-shaped text": issue, listing, search, book and
# figure addresses may hold DOI-shaped strings that name something else, and naming the
# wrong paper is worse than naming none. Where the examples come from is in
# tests/vectors/SOURCES.md.


_DOI_VALUE = _compile(r"(?P<doi>10\.[0-9.]+/.+)")


@dataclass(frozen=True)
class _DoiLayout:
    """One address layout naming one article: a path pattern with group ``doi`` (or
    ``suffix``, completed by ``prefix``) and optionally ``version``; or, when ``query``
    is set, a path pattern plus the query parameter whose value ``value`` matches."""

    path: re.Pattern[str]
    prefix: str = ""
    query: str | None = None
    value: re.Pattern[str] = _DOI_VALUE


_ANY_DOI = r"(?P<doi>10\.[0-9.]+/.+?)"
# Most publishers' DOIs hold a single slash, after the prefix; in their addresses a further
# path segment is a file or figure of the article, not part of its DOI.
_ONE_SEGMENT_DOI = r"(?P<doi>10\.[0-9.]+/[^/]+?)"
# Atypon-hosted journals (ACM, ACS, Science, SAGE, Taylor & Francis, Wiley, AIP's former
# host) show every view of an article under /doi/<view>/<DOI>.
_ATYPON_VIEW = r"(?:(?:abs|full|pdf|epdf|pdfdirect|pdfplus|fullHtml|epub|reader|ref|suppl)/)?"
_ATYPON_ARTICLE = _DoiLayout(_compile(f"/doi/{_ATYPON_VIEW}{_ONE_SEGMENT_DOI}/*"))
# The "download citation" page of one article takes its DOI as a parameter.
_ATYPON_CITATION = _DoiLayout(
    _compile("/action/showCitFormats"), query="doi", value=_compile(_ONE_SEGMENT_DOI)
)
_ATYPON = (_ATYPON_ARTICLE, _ATYPON_CITATION)
# Wiley's older DOIs (SICI) hold slashes, and its older addresses put the view after the
# DOI; its "(ISSN)" DOIs name journals, not articles.
_WILEY_DOI = r"(?P<doi>10\.[0-9.]+/(?!\([Ii][Ss][Ss][Nn]\)).+?)"
_WILEY = (
    _DoiLayout(_compile(f"/doi/{_ATYPON_VIEW}{_WILEY_DOI}(?:/(?:abstract|full|pdf|epdf))?/*")),
    _DoiLayout(_compile("/resolve/doi"), query="DOI", value=_compile(_WILEY_DOI)),
    _ATYPON_CITATION,
)
# Silverchair-hosted journals (OUP, AIP) look an article up by DOI under its journal.
_SILVERCHAIR = _DoiLayout(_compile(f"(?:/[A-Za-z0-9-]+){{1,2}}/article-lookup/doi/{_ANY_DOI}/*"))
_RESOLVER = _DoiLayout(_compile(f"/{_ANY_DOI}/*"))
_SPRINGER = (
    _DoiLayout(_compile(f"/(?:article|chapter)/{_ONE_SEGMENT_DOI}/*")),
    _DoiLayout(_compile(f"/content/pdf/{_ONE_SEGMENT_DOI}\\.pdf")),
)
_NATURE = _DoiLayout(
    _compile(r"/articles/(?P<suffix>[A-Za-z0-9][A-Za-z0-9.-]*?)(?:\.pdf)?/?"), "10.1038/"
)
_BIORXIV = _DoiLayout(
    _compile(
        r"/content/(?P<doi>10\.1101/(?:\d{4}\.\d{2}\.\d{2}\.)?\d{6,8})"
        r"(?:v(?P<version>[1-9]\d{0,2}))?"
        r"(?:\.full|\.full\.pdf|\.full-text|\.abstract|\.article-info|\.supplementary-material)?/?"
    )
)
_APS = _DoiLayout(
    _compile(r"/[a-z]+/(?:abstract|pdf|references|cited-by)/(?P<doi>10\.1103/[^/]+?)/*")
)
_AIP = (
    *_ATYPON,
    _SILVERCHAIR,
    # scitation.aip.org/content/aip/journal/<journal>/<volume>/<issue>/<DOI>
    _DoiLayout(_compile(r"/content/aip/journal/[a-z0-9]+/\d+/\d+/(?P<doi>10\.\d{4,9}/[^/]+?)/*")),
)
# IOP's DOIs hold slashes; the article's views follow them.
_IOP = _DoiLayout(_compile(f"/article/{_ANY_DOI}(?:/(?:pdf|meta|ampdf|data|fulltext))?/*"))
# RSC's DOIs are 10.1039/ plus the article code its addresses end in.
_RSC_CODE = r"(?P<suffix>[A-Za-z]\d[A-Za-z]{2}\d{5}[A-Za-z]|[A-Za-z]\d{6}[A-Za-z])"
_RSC = _DoiLayout(
    _compile(
        f"/en/content/article(?:landing|html|pdf)/\\d{{4}}/[A-Za-z]{{2}}/{_RSC_CODE}/*",
        re.IGNORECASE,
    ),
    "10.1039/",
)
_RSC_XLINK = _DoiLayout(_compile("/?"), "10.1039/", "doi", _compile(_RSC_CODE))
# PLOS names articles 10.1371/journal.<journal>.<seven digits>; figures and supporting
# files add a further part and are not articles.
_PLOS_DOI = _compile(r"(?P<doi>10\.1371/journal\.[a-z]+\.\d{7})")
_PLOS = _DoiLayout(
    _compile(r"/[a-z]+/article(?:/(?:file|authors|metrics|comments|related|citation))?"),
    query="id",
    value=_PLOS_DOI,
)
_PLOS_LEGACY = _DoiLayout(_compile(r"/article/info:doi/(?P<doi>10\.1371/journal\.[a-z]+\.\d{7})"))
_FRONTIERS = _DoiLayout(
    _compile(
        r"(?:/journals/[a-z0-9-]+)?/articles/(?P<doi>10\.3389/[^/]+?)"
        r"(?:/(?:full|abstract|pdf|xml|epub))?/*"
    )
)
_ELIFE = _DoiLayout(
    _compile(
        r"/articles/(?P<suffix>\d{5,6})(?:v(?P<version>[1-9]\d{0,2}))?"
        r"(?:/(?:figures|peer-reviews))?/*"
    ),
    "10.7554/eLife.",
)
# eLife's PDFs: cdn.elifesciences.org/articles/<n>/elife-<n>-v<k>.pdf
_ELIFE_PDF = _DoiLayout(
    _compile(r"/articles/(?P<suffix>\d{5,6})/elife-\d{5,6}-v(?P<version>[1-9]\d{0,2})\.pdf"),
    "10.7554/eLife.",
)
# SSRN's DOIs are 10.2139/ssrn.<abstract id>.
_SSRN_ID = _compile(r"(?P<suffix>[1-9]\d{0,8})")
_SSRN = (
    _DoiLayout(_compile(r"/sol3/papers\.cfm"), "10.2139/ssrn.", "abstract_id", _SSRN_ID),
    _DoiLayout(
        _compile(r"/sol3/Delivery\.cfm(?:/[A-Za-z0-9_.-]+\.pdf)?"),
        "10.2139/ssrn.",
        "abstractid",
        _SSRN_ID,
    ),
)
_SSRN_SHORT = _DoiLayout(_compile(r"/abstract=(?P<suffix>[1-9]\d{0,8})/*"), "10.2139/ssrn.")
# JSTOR's own DOIs name articles with digits only; issues (i...) and books (j.ctt...)
# under the same prefix are not articles.
_JSTOR = _DoiLayout(_compile(r"/stable/(?:pdf/)?(?P<doi>10\.2307/\d{4,9})(?:\.pdf)?/*"))
_AEA = (
    _DoiLayout(_compile("/articles"), query="id", value=_compile(r"(?P<doi>10\.1257/[^/]+)")),
    _DoiLayout(_compile(r"/articles/pdf/doi/(?P<doi>10\.1257/[^/]+?)/*")),
)


def _doi_site(*layouts: _DoiLayout) -> _Site:
    """A site whose article addresses carry the DOI in one of the given layouts."""

    def site(path: str, query: str) -> PaperRef | None:
        for layout in layouts:
            match = layout.path.fullmatch(path)
            if match is None:
                continue
            if layout.query is not None:
                value = _query_param(query, layout.query)
                match = layout.value.fullmatch(value) if value is not None else None
                if match is None:
                    return None
            groups = match.groupdict()
            ref = _doi_ref(groups.get("doi") or layout.prefix + groups["suffix"])
            if ref is None or ref.paper_id.startswith("arxiv:"):
                return ref
            version = groups.get("version")
            return PaperRef(ref.paper_id, int(version) if version else None)
        return None

    return site


def _query_param(query: str, name: str) -> str | None:
    """The first value of a query parameter, as URLSearchParams.get() would return it."""
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == name:
            return value
    return None


def _arxiv_site(path: str, query: str) -> PaperRef | None:
    match = _ARXIV_PATH.fullmatch(path)
    if not match or (match.group("pdf") and match.group("kind") != "pdf"):
        return None
    return _arxiv_from_match(match)


def _arxiv_mirror(pattern: re.Pattern[str]) -> _Site:
    """Sites that show an arXiv paper under its arXiv id (ar5iv, alphaXiv, Hugging Face)."""

    def site(path: str, query: str) -> PaperRef | None:
        match = pattern.fullmatch(path)
        return _arxiv_from_match(match) if match else None

    return site


def _semantic_scholar(path: str, query: str) -> PaperRef | None:
    match = _SEMANTIC_SCHOLAR_PATH.fullmatch(path)
    if not match:
        return None
    if match.group("s2"):
        return PaperRef(f"s2:{match.group('s2').lower()}")
    return _arxiv_from_match(match)


def _semantic_scholar_api(path: str, query: str) -> PaperRef | None:
    match = _S2_API_PATH.fullmatch(path)
    return PaperRef(f"corpusid:{match.group('corpusid')}") if match else None


def _openreview(path: str, query: str) -> PaperRef | None:
    if not _OPENREVIEW_PATH.fullmatch(path):
        return None
    forum = _query_param(query, "id")
    if forum is None or not _OPENREVIEW_RE.fullmatch(forum):
        return None
    return PaperRef(f"openreview:{forum}")


def _acl_site(pattern: re.Pattern[str]) -> _Site:
    def site(path: str, query: str) -> PaperRef | None:
        match = pattern.fullmatch(path)
        return _acl_ref(match.group("id"), _version(match)) if match else None

    return site


def _pubmed(path: str, query: str) -> PaperRef | None:
    match = _PUBMED_PATH.fullmatch(path)
    return PaperRef(f"pmid:{match.group('pmid')}") if match else None


def _ncbi(pattern: re.Pattern[str]) -> _Site:
    """NCBI hosts PubMed and PMC under several names."""

    def site(path: str, query: str) -> PaperRef | None:
        match = pattern.fullmatch(path)
        if not match:
            return None
        if match.groupdict().get("pmid"):
            return PaperRef(f"pmid:{match.group('pmid')}")
        return _pmcid_ref(match.group("pmcid"))

    return site


def _pmlr(path: str, query: str) -> PaperRef | None:
    match = _PMLR_PATH.fullmatch(path)
    if not match or (match.group("pdf") and match.group("pdf") != match.group("key")):
        return None
    if _pmlr_supplement(match):
        return None
    return PaperRef(f"pmlr:{match.group('volume')}/{match.group('key')}")


def _pmlr_supplement(match: re.Match[str]) -> bool:
    """A flat PDF named <key>-supp.pdf is the supplement of paper <key>, not a paper."""
    return bool(match.group("flat_pdf")) and match.group("key").endswith("-supp")


def _neurips(path: str, query: str) -> PaperRef | None:
    match = _NEURIPS_PATH.fullmatch(path)
    if not match:
        return None
    return _neurips_ref(f"{match.group('year')}/{match.group('abstract') or match.group('paper')}")


def _cvf(path: str, query: str) -> PaperRef | None:
    match = _CVF_PATH.fullmatch(path)
    if not match:
        return None
    kind, ext = match.group("kind").lower(), match.group("ext").lower()
    if (kind, ext) not in {("html", "html"), ("papers", "pdf")}:
        return None
    conference = match.group("conference")
    if conference is None:
        conference = match.group("old_conference") + match.group("old_year")
    elif bool(match.group("workshop")) != conference.upper().endswith("W"):
        # Only workshop proceedings have the extra /<workshop>/ level.
        return None
    return _cvf_ref(f"{conference}/{match.group('stem')}")


def _ieee(path: str, query: str) -> PaperRef | None:
    match = _IEEE_PATH.fullmatch(path)
    if not match:
        return None
    number = match.group("number") or _query_param(query, "arnumber")
    if number is None or not _IEEE_RE.fullmatch(number):
        return None
    return PaperRef(f"ieee:{number}")


# Wiley's society journals have hosts of their own under onlinelibrary.wiley.com.
_WILEY_SOCIETIES = ("agupubs", "acsjournals", "anatomypubs", "besjournals", "physoc", "rss")
# Hosts whose article addresses carry a DOI, with the layouts they use: a row a publisher.
_DOI_HOSTS: tuple[tuple[tuple[str, ...], _Site], ...] = (
    (("doi.org", "dx.doi.org", "www.doi.org"), _doi_site(_RESOLVER)),
    (("dl.acm.org",), _doi_site(*_ATYPON)),
    (("pubs.acs.org",), _doi_site(*_ATYPON)),
    (("www.science.org", "science.org"), _doi_site(*_ATYPON)),
    (("journals.sagepub.com",), _doi_site(*_ATYPON)),
    (("www.tandfonline.com", "tandfonline.com"), _doi_site(*_ATYPON)),
    (
        (
            "onlinelibrary.wiley.com",
            *(f"{name}.onlinelibrary.wiley.com" for name in _WILEY_SOCIETIES),
        ),
        _doi_site(*_WILEY),
    ),
    (("academic.oup.com",), _doi_site(_SILVERCHAIR)),
    (("pubs.aip.org", "aip.scitation.org", "scitation.aip.org"), _doi_site(*_AIP)),
    (("journals.aps.org",), _doi_site(_APS)),
    (("link.aps.org",), _doi_site(*_ATYPON)),
    (("link.springer.com",), _doi_site(*_SPRINGER)),
    (("nature.com", "www.nature.com"), _doi_site(_NATURE)),
    (("iopscience.iop.org",), _doi_site(_IOP)),
    (("pubs.rsc.org",), _doi_site(_RSC)),
    (("xlink.rsc.org",), _doi_site(_RSC_XLINK)),
    (("journals.plos.org",), _doi_site(_PLOS)),
    (("www.plosone.org", "www.plosbiology.org", "www.ploscompbiol.org"), _doi_site(_PLOS_LEGACY)),
    (("www.frontiersin.org", "frontiersin.org"), _doi_site(_FRONTIERS)),
    (("elifesciences.org",), _doi_site(_ELIFE)),
    (("cdn.elifesciences.org",), _doi_site(_ELIFE_PDF)),
    (("papers.ssrn.com",), _doi_site(*_SSRN)),
    (("ssrn.com",), _doi_site(_SSRN_SHORT)),
    (("www.jstor.org", "jstor.org"), _doi_site(_JSTOR)),
    (("www.aeaweb.org", "aeaweb.org"), _doi_site(*_AEA)),
    (("biorxiv.org", "www.biorxiv.org", "medrxiv.org", "www.medrxiv.org"), _doi_site(_BIORXIV)),
)

_SITES: dict[str, _Site] = {
    "arxiv.org": _arxiv_site,
    "www.arxiv.org": _arxiv_site,
    "export.arxiv.org": _arxiv_site,
    "ar5iv.labs.arxiv.org": _arxiv_mirror(_AR5IV_PATH),
    "ar5iv.org": _arxiv_mirror(_AR5IV_PATH),
    "alphaxiv.org": _arxiv_mirror(_ALPHAXIV_PATH),
    "www.alphaxiv.org": _arxiv_mirror(_ALPHAXIV_PATH),
    "huggingface.co": _arxiv_mirror(_HUGGINGFACE_PATH),
    "semanticscholar.org": _semantic_scholar,
    "www.semanticscholar.org": _semantic_scholar,
    "api.semanticscholar.org": _semantic_scholar_api,
    "openreview.net": _openreview,
    "www.openreview.net": _openreview,
    "aclanthology.org": _acl_site(_ACLANTHOLOGY_PATH),
    "www.aclanthology.org": _acl_site(_ACLANTHOLOGY_PATH),
    "aclweb.org": _acl_site(_ACLWEB_PATH),
    "www.aclweb.org": _acl_site(_ACLWEB_PATH),
    "pubmed.ncbi.nlm.nih.gov": _pubmed,
    "www.ncbi.nlm.nih.gov": _ncbi(_NCBI_PATH),
    "ncbi.nlm.nih.gov": _ncbi(_NCBI_PATH),
    "pmc.ncbi.nlm.nih.gov": _ncbi(_PMC_PATH),
    "proceedings.mlr.press": _pmlr,
    "papers.nips.cc": _neurips,
    "papers.neurips.cc": _neurips,
    "proceedings.neurips.cc": _neurips,
    "openaccess.thecvf.com": _cvf,
    "ieeexplore.ieee.org": _ieee,
    **{host: site for hosts, site in _DOI_HOSTS for host in hosts},
}

# ---------------------------------------------------------------------------
# URL splitting
# ---------------------------------------------------------------------------

# The literal "http(s)://" is required: WHATWG parsers accept "https:arxiv.org/..." and
# "https:///arxiv.org/..." and would then disagree with us about the host.
_HTTP_URL = _compile(r"https?://", re.IGNORECASE)
# A bare host name only: userinfo ("arxiv.org@evil.example"), ports, IP literals and
# percent-encoded hosts are refused rather than interpreted.
_HOST = _compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
# "scheme:" at the start of an id; DOIs may contain colons but never start with a word.
_SCHEME_PREFIX = _compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):")
_BAD_PERCENT = _compile(r"%(?![0-9A-Fa-f]{2})")


def _decode_path(path: str) -> str | None:
    """Percent-decode once (so %2F in DOIs works); malformed escapes make the URL invalid."""
    if _BAD_PERCENT.search(path):
        return None
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None
    if _CONTROL_OR_SPACE.search(decoded):
        return None
    # Browsers resolve "." and ".." before showing a URL; finding them means a crafted URL.
    if any(segment in {".", ".."} for segment in decoded.split("/")):
        return None
    return decoded


def _split_http_url(url: str) -> tuple[str, str, str] | None:
    """(host, decoded path, raw query) of a plain http(s) URL, or None."""
    if "\\" in url or _CONTROL_OR_SPACE.search(url) or not _HTTP_URL.match(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # unbalanced IPv6 brackets; never a page we know
        return None
    host = parts.netloc.lower()
    if not _HOST.fullmatch(host):
        return None
    path = _decode_path(parts.path)
    if path is None:
        return None
    return host, path, parts.query


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------


def _from_meta(meta: Mapping[str, str]) -> PaperRef | None:
    """Publisher pages announce their paper in <meta name="citation_*"> tags.

    citation_arxiv_id may be any arXiv spelling parse_paper_id knows; citation_doi may be
    a bare DOI, 'doi:...' or a resolver URL. Anything else in them is ignored.
    """
    arxiv_id = meta.get("citation_arxiv_id")
    if isinstance(arxiv_id, str):
        ref = parse_paper_id(arxiv_id)
        if ref is not None and ref.paper_id.startswith("arxiv:"):
            return ref
    doi = meta.get("citation_doi")
    if not isinstance(doi, str) or len(doi) > MAX_INPUT_LENGTH:
        return None
    doi = doi.strip(_ASCII_WHITESPACE)
    if doi[:4].lower() == "doi:":
        doi = doi[4:]
    if not _HTTP_URL.match(doi):
        return _doi_ref(doi)
    ref = resolve_url(doi)
    if ref is not None and ref.paper_id.split(":", 1)[0] in {"doi", "arxiv"}:
        return ref
    return None


def resolve_url(url: str, meta: Mapping[str, str] | None = None) -> PaperRef | None:
    """A page URL (plus optional page metadata: keys citation_doi, citation_arxiv_id,
    citation_title) -> the paper it shows, or None.

    A URL that is itself a paper URL wins over the metadata; metadata is only trusted on
    ordinary http(s) pages, and a title alone is not enough to name a paper.
    """
    if len(url) > MAX_INPUT_LENGTH:
        return None
    split = _split_http_url(url.strip(_ASCII_WHITESPACE))
    if split is None:
        return None
    host, path, query = split
    site = _SITES.get(host)
    ref = site(path, query) if site else None
    if ref is None and meta:
        ref = _from_meta(meta)
    return _storable(ref)


def _storable(ref: PaperRef | None) -> PaperRef | None:
    """Ids longer than the store keeps are not ids of any paper PaperLens can hold."""
    return ref if ref is not None and len(ref.paper_id) <= PAPER_ID_MAX_LENGTH else None


def parse_paper_id(text: str) -> PaperRef | None:
    """An id as a client sends it -> normalised PaperRef, or None when it is not a valid id.

    Accepts canonical 'scheme:value' (any case of scheme), a bare arXiv id ('2205.13147v2',
    'hep-th/9901001'), a bare DOI ('10.1145/...'), 'arXiv:2205.13147', 'doi:...', or a URL
    (delegates to resolve_url), so clients need not normalise before asking.
    """
    if len(text) > MAX_INPUT_LENGTH:
        return None
    text = text.strip(_ASCII_WHITESPACE)
    if _HTTP_URL.match(text):
        return resolve_url(text)
    prefix = _SCHEME_PREFIX.match(text)
    if prefix:
        parser = _VALUE_PARSERS.get(prefix.group("scheme").lower())
        return _storable(parser(text[prefix.end() :])) if parser else None
    if text.startswith("10."):
        return _storable(_doi_ref(text))
    return _storable(_arxiv_ref(text))


def local_paper_id(title: str) -> str:
    """The project's own stable id for a paper with no external id.

    'pl:' + the first 16 hex digits of the SHA-256 of the title, lower-cased, with
    whitespace runs collapsed to one space and the ends stripped, so that trivially
    different spellings of a title share an id. Lone surrogates are hashed as U+FFFD,
    as a browser's TextEncoder would.
    """
    normalised = _WHITESPACE_RUN.sub(" ", title.lower()).strip(" ")
    normalised = _LONE_SURROGATE.sub("\ufffd", normalised)
    return "pl:" + hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:16]
