"""Browser tests: the real extension in Debian's headless Chromium against the real backend.

The backend is the project's app served by werkzeug in a thread, on the suite's Redis (its
own database number) and a SQLite store holding the demo corpus precomputed by a real RQ
worker. Paper pages are saved copies served under their real addresses by Playwright.
"""

from __future__ import annotations

import json
import os
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import (
    BrowserContext,
    Page,
    Playwright,
    Route,
    Worker,
    sync_playwright,
)
from redis import Redis
from rq import Queue
from werkzeug.serving import BaseWSGIServer, make_server

from paperlens import keys
from paperlens.embedded_redis import EmbeddedRedis
from paperlens.job_queue import SERIALIZER
from paperlens.migrations import upgrade
from paperlens.settings import EXTENSION_ORIGIN, Settings, get_settings
from paperlens.store.db import Database
from server import create_app
from tests.support import DEMO_CORPUS, ROOT, run_workers
from worker.context import reset_context
from worker.ingest.jsonl import ingest_jsonl

CHROMIUM = Path(os.environ.get("PAPERLENS_CHROMIUM", "/usr/bin/chromium"))
EXTENSION_DIR = ROOT / "extension"
EXTENSION_ID = EXTENSION_ORIGIN.removeprefix("chrome-extension://")
PAGES = Path(__file__).parent / "pages"
ARTIFACTS = ROOT / "artifacts" / "e2e"
# Its own Redis database, so the other tests' per-test flushes never touch it.
REDIS_DB = 7

# Saved pages, served under the addresses they were saved from.
# The overlay opens as a chip; most tests read what it holds, so they start as a reader who
# expanded it once on each paper site (test_overlay.py starts from the chip).
EXPANDED_ON_PAPER_SITES = {"arxiv.org": False, "huggingface.co": False}

SAVED_PAGES = {
    "https://arxiv.org/abs/2205.13147": "arxiv_abs_2205.13147.html",
    "https://arxiv.org/abs/2401.01234": "arxiv_abs_2401.01234.html",
    "https://arxiv.org/abs/1902.02534": "arxiv_abs_1902.02534.html",
    "https://arxiv.org/list/cs.LG/new": "arxiv_list_cs.LG_new.html",
    "https://arxiv.org/abs/2103.17249": "arxiv_abs_2103.17249.html",
    "https://arxiv.org/list/astro-ph.CO/new": "arxiv_list_astro-ph.CO_new.html",
    "https://huggingface.co/papers": "huggingface_papers.html",
    "https://huggingface.co/papers/2205.13147": "huggingface_paper_2205.13147.html",
}
# The saved pages' style sheets, scripts and images, served under the sites' own addresses
# (whatever query a page adds for cache busting) from these folders; anything else is a 404.
SAVED_STATIC = {
    "https://arxiv.org/static/browse/0.3.4/": "arxiv_static",
    "https://arxiv.org/static/base/1.0.1/": "arxiv_base_static",
}
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
# A page that allows itself no style, no script and no connection: the extension's shadow roots
# must look the same under it.
STRICT_CSP = "default-src 'none'; img-src 'self'"
# A PDF is enough of a PDF for the browser's viewer to take the tab over.
MINIMAL_PDF = (
    b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 144]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The Firefox tests (firefox/) need Firefox, not Chromium: their conftest checks for it.
    chromium_tests = Path(__file__).parent
    firefox_tests = chromium_tests / "firefox"
    tests = [
        item
        for item in items
        if item.path.is_relative_to(chromium_tests) and not item.path.is_relative_to(firefox_tests)
    ]
    need_browser(tests, CHROMIUM, "chromium", "the browser tests")


def need_browser(tests: list[pytest.Item], binary: Path, package: str, what: str) -> None:
    """Skip ``tests`` when ``binary``, from Debian's ``package``, is missing, or refuse to run
    where a browser is required: CI sets PAPERLENS_REQUIRE_BROWSER, so that a failed install
    cannot turn the browser tests into skips."""
    if not tests or binary.exists():
        return
    if os.environ.get("PAPERLENS_REQUIRE_BROWSER"):
        raise pytest.UsageError(f"PAPERLENS_REQUIRE_BROWSER is set but {binary} is missing")
    skip = pytest.mark.skip(
        reason=f"Debian's {package} is not installed at {binary}: run "
        f"`apt-get install -y {package}` (as .ci/run does) to run {what}"
    )
    for item in tests:
        item.add_marker(skip)


@dataclass
class Seen:
    """One request as the backend received it."""

    method: str
    path: str
    origin: str | None
    authorized: bool


@dataclass
class Backend:
    url: str
    settings: Settings
    redis: Redis
    token: str
    environment: dict[str, str]
    seen: list[Seen] = field(default_factory=list)

    def run_workers(self) -> None:
        """Drain the queues with a real worker that sees this backend's settings."""
        with pytest.MonkeyPatch.context() as patch:
            for name, value in self.environment.items():
                patch.setenv(name, value)
            get_settings.cache_clear()
            reset_context()
            run_workers(self.redis)
            reset_context()
        get_settings.cache_clear()

    def requests_to(self, prefix: str, method: str | None = None) -> list[Seen]:
        return [
            s
            for s in self.seen
            if s.path.startswith(prefix) and (method is None or s.method == method)
        ]


def _recording(app: Flask, seen: list[Seen]) -> Callable[..., Any]:
    """WSGI middleware noting what reached the backend: path, origin, whether a token came."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        query = environ.get("QUERY_STRING", "")
        path = environ["PATH_INFO"] + (f"?{query}" if query else "")
        seen.append(
            Seen(
                environ["REQUEST_METHOD"],
                path,
                environ.get("HTTP_ORIGIN"),
                "HTTP_AUTHORIZATION" in environ,
            )
        )
        return app(environ, start_response)

    return wsgi


def serve(app: Flask, seen: list[Seen]) -> BaseWSGIServer:
    server = make_server("127.0.0.1", 0, _recording(app, seen), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _create_reader(name: str) -> str:
    """A reader's API token through the CLI; a failing ``users create`` fails the setup."""
    from click.testing import CliRunner

    from cli.main import main

    result = CliRunner().invoke(main, ["users", "create", name])
    assert result.exit_code == 0, result.output
    # The token is printed alone on the last non-empty line.
    return result.output.strip().splitlines()[-1].strip()


@pytest.fixture(scope="session")
def backend(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    """The real API with the demo corpus (plus one test-only paper) precomputed."""
    directory = tmp_path_factory.mktemp("e2e-backend")
    database_url = f"sqlite:///{directory / 'paperlens.sqlite3'}"
    redis_url = f"{redis_server.url}?db={REDIS_DB}"
    environment = {
        "PAPERLENS_DATA_DIR": str(directory / "var"),
        "PAPERLENS_DATABASE_URL": database_url,
        "PAPERLENS_REDIS_URL": redis_url,
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        patch.delenv("PAPERLENS_CORS_ORIGINS", raising=False)
        get_settings.cache_clear()
        reset_context()
        settings = get_settings()
        assert settings.cors_origins == [EXTENSION_ORIGIN]  # the default grant, unchanged
        upgrade(database_url)
        redis = Redis.from_url(redis_url)
        redis.flushdb()
        db = Database(database_url)
        ingest_jsonl(db, DEMO_CORPUS)
        ingest_jsonl(db, Path(__file__).parent / "xss_paper.jsonl")
        ingest_jsonl(db, Path(__file__).parent / "real_pages_papers.jsonl")
        db.dispose()
        Queue(keys.QUEUE_BULK, connection=redis, serializer=SERIALIZER).enqueue(
            keys.JOB_PRECOMPUTE_ALL
        )
        run_workers(redis)
        token = _create_reader("e2e-reader")
        app = create_app(settings)
        reset_context()
    get_settings.cache_clear()
    seen: list[Seen] = []
    server = serve(app, seen)
    yield Backend(
        f"http://127.0.0.1:{server.server_port}", settings, redis, token, environment, seen
    )
    server.shutdown()
    app.extensions["paperlens"].db.dispose()


@pytest.fixture
def reader(backend: Backend) -> str:
    """The token of the reader the backend was set up with."""
    return backend.token


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# The extension origin's IndexedDB holding the backend URL, the token and the Zotero settings
# (connection_store.js).
CONNECTION_DB = """
const open = () => new Promise((resolve, reject) => {
  const request = indexedDB.open("paperlens", 1);
  request.onupgradeneeded = () => request.result.createObjectStore("connection");
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});
const inStore = async (mode, work) => {
  const db = await open();
  const transaction = db.transaction("connection", mode);
  const result = await work(transaction.objectStore("connection"));
  await new Promise((resolve) => { transaction.oncomplete = resolve; });
  db.close();
  return result;
};
const done = (request) =>
  new Promise((resolve) => { request.onsuccess = () => resolve(request.result); });
"""
ZOTERO_KEYS = ("zoteroUserId", "zoteroKey", "zoteroConnectorUrl", "zoteroApiUrl")
CONNECTION_KEYS = ("backendUrl", "token", *ZOTERO_KEYS)


@dataclass
class Browser:
    """Headless Chromium with the extension loaded, pointed at the test backend."""

    context: BrowserContext
    worker: Worker
    relaunch: Callable[[], tuple[BrowserContext, Worker]] | None = None

    def restart(self) -> None:
        """Close the browser and start it again on the same profile, as a reader would."""
        assert self.relaunch is not None
        self.context.close()
        self.context, self.worker = self.relaunch()

    def configure(self, **values: object) -> None:
        """Write the extension's settings where its options page puts them."""
        connection = {k: v for k, v in values.items() if k in CONNECTION_KEYS}
        rest = {k: v for k, v in values.items() if k not in CONNECTION_KEYS}
        if connection:
            self.worker.evaluate(
                f"""async values => {{ {CONNECTION_DB}
                await inStore("readwrite", (store) => Promise.all(
                  Object.entries(values).map(([k, v]) => done(store.put(v, k)))));
                }}""",
                connection,
            )
        if rest:
            self.worker.evaluate("values => chrome.storage.local.set(values)", rest)

    def connection(self) -> dict[str, Any]:
        """What the connection store holds, read from the extension's own origin."""
        return dict(
            self.worker.evaluate(
                f"""async keys => {{ {CONNECTION_DB}
                const values = await inStore("readonly", (store) =>
                  Promise.all(keys.map((k) => done(store.get(k)))));
                return Object.fromEntries(
                  keys.map((k, i) => [k, values[i]]).filter(([, v]) => v !== undefined));
                }}""",
                [*CONNECTION_KEYS, "migratedFromStorageLocal"],
            )
        )

    def open(self, url: str) -> Page:
        page = self.context.new_page()
        page.goto(url)
        return page

    def popup(self, tab: Page | None = None) -> Page:
        """The popup's page, about `tab` (the browser cannot open the real popup headless)."""
        query = ""
        if tab is not None:
            tab_id = self.worker.evaluate(
                "async url => (await chrome.tabs.query({})).find(t => t.url === url).id", tab.url
            )
            query = f"?tab={tab_id}"
        return self.open(f"chrome-extension://{EXTENSION_ID}/popup/popup.html{query}")


# Every address but this machine's: the backend and the tests' stand-ins on 127.0.0.1 are
# reached directly. A routed request waits for its handler, which runs only while the test
# calls into Playwright, so a backend call made while a test polls something else (as the
# background's lookup for a PDF tab is) stalled until the extension's request timeout.
OFF_MACHINE = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")


def _saved_static(url: str) -> Path | None:
    """The saved file behind a static address of a saved page, if there is one."""
    address = url.split("?", 1)[0]
    for prefix, folder in SAVED_STATIC.items():
        if address.startswith(prefix):
            path = (PAGES / folder / address.removeprefix(prefix)).resolve()
            if path.is_relative_to((PAGES / folder).resolve()) and path.suffix in STATIC_TYPES:
                return path if path.is_file() else None
    return None


def _serve_saved_pages(route: Route) -> None:
    url = route.request.url
    if url in SAVED_PAGES:
        body = (PAGES / SAVED_PAGES[url]).read_text(encoding="utf-8")
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)
    elif (asset := _saved_static(url)) is not None:
        route.fulfill(status=200, content_type=STATIC_TYPES[asset.suffix], body=asset.read_bytes())
    elif url.startswith("https://arxiv.org/pdf/"):
        route.fulfill(status=200, content_type="application/pdf", body=MINIMAL_PDF)
    else:  # this machine is offline: nothing else may reach the network
        route.fulfill(status=404, content_type="text/plain", body="not saved for the tests")


@pytest.fixture
def extension_dir() -> Path:
    """The unpacked extension the browser loads (a module may swap in a packaged build)."""
    return EXTENSION_DIR


@pytest.fixture
def browser(backend: Backend, tmp_path: Path, extension_dir: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        driver = Browser(*_launch(playwright, tmp_path / "profile", extension_dir))
        driver.relaunch = lambda: _launch(playwright, tmp_path / "profile", extension_dir)
        try:
            driver.configure(backendUrl=backend.url, token="", collapsed=EXPANDED_ON_PAPER_SITES)
            backend.seen.clear()
            yield driver
        finally:
            driver.context.close()


def _launch(
    playwright: Playwright, profile: Path, extension_dir: Path
) -> tuple[BrowserContext, Worker]:
    """Chromium on `profile` with the extension, serving the saved pages."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            # Playwright passes --disable-extensions; only this lets ours through.
            f"--disable-extensions-except={extension_dir}",
            f"--load-extension={extension_dir}",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )
    try:
        worker = (
            context.service_workers[0]
            if context.service_workers
            else context.wait_for_event("serviceworker")
        )
        # The manifest's key fixes the id that the backend's default CORS grant names.
        assert worker.url.split("/")[2] == EXTENSION_ID
        context.route(OFF_MACHINE, _serve_saved_pages)
    except BaseException:
        context.close()
        raise
    return context, worker


def api(backend: Backend, token: str, method: str, path: str, body: Any = None) -> Any:
    """Call the backend as curl would, to check what the extension did."""
    request = urllib.request.Request(
        f"{backend.url}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


@pytest.fixture
def library(reader: str, backend: Backend) -> Iterator[list[str]]:
    """Paper ids a test saves; removed afterwards, so tests and the two browsers stay apart."""
    saved: list[str] = []
    yield saved
    for paper_id in saved:
        api(backend, reader, "DELETE", f"/me/library/{paper_id}")
