"""Fixtures for the Firefox tests: one browser per test module, the saved pages over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Backend, need_browser
from tests.e2e.firefox.driver import FIREFOX, Firefox, serve_saved_pages, start_firefox

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip these tests without Firefox, or fail where a browser is required (CI)."""
    tests = [item for item in items if item.path.is_relative_to(HERE)]
    need_browser(tests, FIREFOX, "firefox-esr", "the Firefox tests")


@pytest.fixture(scope="session")
def saved_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with serve_saved_pages(tmp_path_factory.mktemp("saved-pages")):
        yield


@pytest.fixture(scope="module")
def firefox_session(
    saved_pages: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Firefox]:
    """One Firefox start per test module: starting it costs seconds, a test well under one."""
    client = start_firefox(tmp_path_factory.mktemp("firefox"))
    try:
        yield Firefox(client)
    finally:
        client.cleanup()


@pytest.fixture
def settle(firefox_session: Firefox, backend: Backend) -> Iterator[Firefox]:
    """Between tests: one blank tab, and nothing recorded at the backend from earlier tests."""
    backend.seen.clear()
    try:
        yield firefox_session
    finally:
        firefox_session.close_tabs()
