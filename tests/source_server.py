"""A local HTTP server that answers as the external sources do, from tests/fixtures/sources.

Each source gets its own path prefix on the one server (``/arxiv``, ``/hf`` ...), so the
settings point every adapter at it exactly as a deployment points them at the real hosts.
``SourceFleet`` instead gives every source a server of its own that records each request
as it arrived, so a test can tell which source a request was meant for and whether it
stayed under that source's base path.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sources"
PREFIXES = {
    "arxiv": "/arxiv",
    "huggingface": "/hf",
    "semantic_scholar": "/s2",
    "openalex": "/openalex",
    "crossref": "/crossref",
    "dblp": "/dblp",
    "github": "/github",
}
SETTING_NAMES = {
    "arxiv": "PAPERLENS_ARXIV_API_URL",
    "huggingface": "PAPERLENS_HUGGINGFACE_URL",
    "semantic_scholar": "PAPERLENS_SEMANTIC_SCHOLAR_URL",
    "openalex": "PAPERLENS_OPENALEX_URL",
    "crossref": "PAPERLENS_CROSSREF_URL",
    "dblp": "PAPERLENS_DBLP_URL",
    "github": "PAPERLENS_GITHUB_API_URL",
}


def source_environment(server: HTTPServer) -> dict[str, str]:
    """Every ``PAPERLENS_*`` variable that points the sources at ``server``, quick and polite."""
    env = {name: server.url_for(PREFIXES[source]) for source, name in SETTING_NAMES.items()}
    for source in PREFIXES:
        env[f"PAPERLENS_{source.upper()}_MIN_INTERVAL_SECONDS"] = "0"
    env.update(
        {
            "PAPERLENS_SOURCES": "all",
            "PAPERLENS_SOURCE_CONTACT_EMAIL": "ops@paperlens.test",
            "PAPERLENS_SOURCE_TIMEOUT_SECONDS": "2",
            "PAPERLENS_SOURCE_MAX_ATTEMPTS": "3",
            "PAPERLENS_SOURCE_MAX_WAIT_SECONDS": "5",
            "PAPERLENS_SEMANTIC_SCHOLAR_API_KEY": "s2-test-key",
        }
    )
    return env


@dataclass(frozen=True)
class Received:
    """One request a fake source got: the request target exactly as sent, and its headers."""

    source: str
    target: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def within_base(self) -> bool:
        """Under the source's base path, with no dot segment a server could resolve."""
        prefix = PREFIXES[self.source]
        decoded = unquote(self.path).replace("\\", "/")
        dots = any(segment in {".", ".."} for segment in decoded.split("/"))
        return self.path.startswith(prefix + "/") and not dots


@dataclass
class SourceFleet:
    """One fixture server per source, each noting every request it receives."""

    servers: dict[str, HTTPServer] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    # Answers a test puts in place of the fixtures: (source, path under its prefix) -> JSON.
    answers: dict[tuple[str, str], object] = field(default_factory=dict)

    def start(self) -> None:
        for source in PREFIXES:
            server = HTTPServer(host="127.0.0.1", port=0)
            server.expect_request(re.compile(r"^.*$")).respond_with_handler(self._handler(source))
            server.start()
            self.servers[source] = server

    def stop(self) -> None:
        """All at once: each server takes up to half a second to notice it should stop."""
        running = [server for server in self.servers.values() if server.is_running()]
        stopping = [threading.Thread(target=server.stop) for server in running]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()

    def environment(self) -> dict[str, str]:
        """As ``source_environment``, with each source at its own server."""
        env = source_environment(next(iter(self.servers.values())))
        for source, name in SETTING_NAMES.items():
            env[name] = self.servers[source].url_for(PREFIXES[source])
        return env

    def outside_base(self) -> list[Received]:
        return [request for request in self.received if not request.within_base()]

    def _handler(self, source: str) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            target = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI", "")
            self.received.append(Received(source, str(target), dict(request.headers)))
            prefix = PREFIXES[source]
            if not request.path.startswith(prefix + "/"):
                return _json({"error": "not under this source's base path"}, 404)
            path = request.path[len(prefix) :]
            if (source, path) in self.answers:
                return _json(self.answers[source, path])
            return _HANDLERS[source](path, request)

        return handle


def serve_fixtures(server: HTTPServer) -> None:
    """Answer every source path from the fixture files (tests may add one-shot answers first)."""
    server.expect_request(re.compile(r"^/.*$")).respond_with_handler(_dispatch)


def _dispatch(request: Request) -> Response:
    path = request.path
    for source, prefix in PREFIXES.items():
        if path.startswith(prefix + "/"):
            return _HANDLERS[source](path[len(prefix) :], request)
    return _json({"error": "no such source"}, 404)


def _arxiv(path: str, request: Request) -> Response:
    if path != "/api/query":
        return Response("not found", 404)
    ids = request.args.get("id_list", "")
    query = request.args.get("search_query", "")
    if ids:
        name = "id_abc_400.xml" if ids == "abc" else f"id_{ids.replace(',', '_')}.xml"
    elif query == "cat:cs.SE":
        name = "cat_cs.SE_newest.xml"
    else:
        name = "id_0000.0000.xml"
    file = FIXTURES / "arxiv" / name
    if not file.exists():
        file = FIXTURES / "arxiv" / "id_0000.0000.xml"
    status = 400 if name.endswith("_400.xml") else 200
    return Response(file.read_bytes(), status, content_type="application/atom+xml")


def _huggingface(path: str, request: Request) -> Response:
    if match := re.fullmatch(r"/api/papers/(.+)", path):
        return _file_or_404("huggingface", f"paper_{match[1]}.json", {"error": "Entry not found"})
    if path == "/api/daily_papers":
        file = FIXTURES / "huggingface" / f"daily_papers_{request.args.get('date')}.json"
        return _json_file(file) if file.exists() else _json([])
    if match := re.fullmatch(r"/api/(models|datasets|spaces)", path):
        arxiv_id = request.args.get("filter", "").removeprefix("arxiv:")
        file = FIXTURES / "huggingface" / f"{match[1]}_{arxiv_id}.json"
        return _json_file(file) if file.exists() else _json([])
    return _json({"error": "not found"}, 404)


def _semantic_scholar(path: str, request: Request) -> Response:
    not_found = json.loads((FIXTURES / "semantic_scholar" / "not_found.json").read_text())
    if match := re.fullmatch(r"/graph/v1/paper/(.+)", path):
        return _file_or_404(
            "semantic_scholar", f"paper_{match[1].replace(':', '_')}.json", not_found
        )
    if match := re.fullmatch(r"/recommendations/v1/papers/forpaper/(.+)", path):
        return _file_or_404("semantic_scholar", f"recommendations_{match[1]}.json", not_found)
    return _json(not_found, 404)


def _openalex(path: str, request: Request) -> Response:
    if match := re.fullmatch(r"/works/doi:10\.48550/arxiv\.(.+)", path):
        not_found = {"error": "NotFoundError", "message": "Not found"}
        return _file_or_404("openalex", f"work_arxiv_{match[1]}.json", not_found)
    if path == "/works" and request.args.get("filter", "").startswith("openalex:W3000000001"):
        return _json_file(FIXTURES / "openalex" / "works_related.json")
    if path == "/works":
        return _json({"meta": {"count": 0, "page": 1, "per_page": 25}, "results": []})
    return _json({"error": "NotFoundError", "message": "Not found"}, 404)


def _crossref(path: str, request: Request) -> Response:
    doi = path.removeprefix("/works/").lower()
    file = _fixture("crossref", f"work_{doi.replace('/', '_')}.json")
    if file is not None:
        return _json_file(file)
    return Response("Resource not found.", 404, content_type="text/plain")


def _dblp(path: str, request: Request) -> Response:
    """DBLP's publication search: the fixture named for the query's words, else no hits."""
    if path != "/search/publ/api" or request.args.get("format") != "json":
        return Response("not found", 404, content_type="text/plain")
    words = re.findall(r"[a-z0-9]+", request.args.get("q", "").lower())
    file = FIXTURES / "dblp" / f"search_{'-'.join(words)}.json"
    try:
        found = file.is_file()
    except OSError:  # a query longer than a file name may be
        found = False
    return _json_file(file if found else FIXTURES / "dblp" / "search_empty.json")


def _github(path: str, request: Request) -> Response:
    if match := re.fullmatch(r"/repos/([^/]+)/([^/]+)", path):
        return _file_or_404(
            "github",
            f"repo_{match[1]}_{match[2]}.json",
            json.loads((FIXTURES / "github" / "not_found.json").read_text()),
        )
    return _json({"message": "Not Found"}, 404)


_HANDLERS = {
    "arxiv": _arxiv,
    "huggingface": _huggingface,
    "semantic_scholar": _semantic_scholar,
    "openalex": _openalex,
    "crossref": _crossref,
    "dblp": _dblp,
    "github": _github,
}


def _fixture(source: str, name: str) -> Path | None:
    """The fixture file for ``name``, or None, also for a name no file can have."""
    file = FIXTURES / source / name
    try:
        return file if file.is_file() else None
    except OSError:  # a name longer than the file system allows
        return None


def _file_or_404(source: str, name: str, missing: object) -> Response:
    """The fixture file for ``name``, or the source's 404."""
    file = _fixture(source, name)
    return _json_file(file) if file is not None else _json(missing, 404)


def _json_file(file: Path) -> Response:
    return Response(file.read_bytes(), 200, content_type="application/json")


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")
