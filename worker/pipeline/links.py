"""Finding code, project pages, models and datasets among the links a paper gives.

Authors write links inside prose, so they arrive with sentence punctuation, ``.git``
suffixes and deep paths into a repository; readers want one clean link per thing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from paperlens.schemas import CodeLink, LinkKind

_URL = re.compile(r"""(?:https?://|www\.)[^\s<>"'`{}|\\^\[\]]+""", re.IGNORECASE)
_BARE_REPO = re.compile(
    r"(?<![\w./])(?:github\.com|gitlab\.com|bitbucket\.org|huggingface\.co)/[^\s<>\"'`{}|\\^\[\]]+",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\"*>"
# Control characters, spaces and backslashes: browsers repair such URLs in ways that differ.
_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f\\]")
_CODE_HOSTS = {"github.com", "gitlab.com", "bitbucket.org"}
# Hosts whose links are papers or references, not code or project pages.
_NOT_LINKS = {"arxiv.org", "doi.org", "dx.doi.org", "openreview.net", "aclanthology.org"}
_KIND_ORDER: dict[str, int] = {
    "repository": 0,
    "project_page": 1,
    "model": 2,
    "dataset": 3,
    "space": 4,
}


def extract_links(texts: Iterable[tuple[str, str]], *, official: bool) -> list[CodeLink]:
    """Links found in ``(source, text)`` pairs, normalised, deduplicated and ordered.

    ``official`` says whether the texts are the paper's own (abstract, comments):
    a link an author puts in their own paper is the official one.
    """
    found: dict[str, CodeLink] = {}
    for source, text in texts:
        for raw in _candidate_urls(text or ""):
            link = classify(raw, source=source, official=official)
            if link is not None:
                found.setdefault(link.url.lower(), link)
    return order_links(found.values())


def order_links(links: Iterable[CodeLink]) -> list[CodeLink]:
    """Official links first, then repositories before pages, models and datasets."""
    return sorted(links, key=lambda link: (not link.official, _KIND_ORDER[link.kind]))


def classify(raw_url: str, *, source: str, official: bool) -> CodeLink | None:
    """One normalised link, or None when the URL is not code, data or a project page."""
    url = _strip_trailing(raw_url)
    if not re.match(r"https?://", url, re.IGNORECASE):
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    full_host = (parts.hostname or "").lower()
    host = full_host.removeprefix("www.")
    if not host or "." not in host or host in _NOT_LINKS or host.endswith(".arxiv.org"):
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if host in _CODE_HOSTS:
        return _repository_link(host, segments, source=source, official=official)
    if host == "huggingface.co":
        return _hub_link(segments, source=source, official=official)
    path = parts.path.rstrip("/")
    clean = f"{parts.scheme.lower()}://{full_host}{path}"
    return CodeLink(
        url=clean, kind="project_page", host=full_host, official=official, source=source
    )


def web_url(raw: str | None) -> str | None:
    """``raw`` when it is a plain http(s) address with a host, else None.

    Sources hand over links as free text; a reader's browser would run a ``javascript:``
    or ``data:`` link, so only web addresses are ever served.
    """
    if not raw or _UNSAFE_IN_URL.search(raw):
        return None
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return raw


def _candidate_urls(text: str) -> list[str]:
    urls = _URL.findall(text)
    covered = " ".join(urls)
    urls += [bare for bare in _BARE_REPO.findall(text) if bare not in covered]
    return urls


def _strip_trailing(url: str) -> str:
    """Drop sentence punctuation and ``.git`` until neither is left (``repo.git.`` → ``repo``)."""
    previous = None
    while previous != url:
        previous = url
        url = url.rstrip(_TRAILING)
        if url.lower().endswith(".git"):
            url = url[:-4]
    return url


def _repository_link(
    host: str, segments: list[str], *, source: str, official: bool
) -> CodeLink | None:
    """``owner/repo`` plus a sub-path into the tree when the author pointed at one."""
    if len(segments) < 2:
        return None
    owner, repo = segments[0], segments[1]
    url = f"https://{host}/{owner}/{repo}"
    rest = segments[2:]
    if host == "gitlab.com" and rest[:1] == ["-"]:
        rest = rest[1:]
    if len(rest) >= 3 and rest[0] in {"tree", "blob", "src"}:
        url += "/tree/" + "/".join(rest[1:])
    return CodeLink(url=url, kind="repository", host=host, official=official, source=source)


def _hub_link(segments: list[str], *, source: str, official: bool) -> CodeLink | None:
    """Hugging Face hub links: models live at the root, datasets and Spaces under a prefix."""
    kinds: dict[str, LinkKind] = {"datasets": "dataset", "spaces": "space"}
    kind: LinkKind = "model"
    if segments and segments[0] in kinds:
        kind = kinds[segments[0]]
        segments = segments[1:]
    elif segments and segments[0] in {"papers", "docs", "blog", "collections", "posts"}:
        return None
    if len(segments) < 2:
        return None
    prefix = {"model": "", "dataset": "datasets/", "space": "spaces/"}[kind]
    url = f"https://huggingface.co/{prefix}{segments[0]}/{segments[1]}"
    return CodeLink(url=url, kind=kind, host="huggingface.co", official=official, source=source)
