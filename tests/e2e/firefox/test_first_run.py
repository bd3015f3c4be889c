"""A fresh install in Firefox: the backend's host permission is missing, the overlay and the
popup say so and offer to ask for it, and once it is granted the paper loads without a reload.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from marionette_driver.by import By
from marionette_driver.wait import Wait

from tests.e2e.conftest import EXPANDED_ON_PAPER_SITES, Backend
from tests.e2e.firefox.driver import WAIT_S, Firefox
from tests.e2e.visible import MRL_CODE, MRL_TITLE, assert_no_stray_values
from tests.support import ROOT

MRL_PAGE = "https://arxiv.org/abs/2205.13147"


@pytest.fixture(scope="module")
def firefox_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Firefox package as `make extension` builds it: what a new reader installs."""
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        ["node", "scripts/build-extension.mjs", str(out)], cwd=ROOT, check=True, capture_output=True
    )
    manifest = json.loads((out / "firefox" / "manifest.json").read_text())
    assert "service_worker" not in manifest["background"]
    return out / "firefox"


@pytest.fixture
def firefox(settle: Firefox, backend: Backend, firefox_build: Path) -> Iterator[Firefox]:
    """A fresh installation of the package for each test, pointed at the test backend."""
    settle.install(firefox_build)
    try:
        settle.configure(backendUrl=backend.url, collapsed=EXPANDED_ON_PAPER_SITES)
        yield settle
    finally:
        settle.close_tabs()
        settle.uninstall()


def no_access_line(backend: Backend) -> str:
    return f"PaperLens needs your permission to reach its backend at {backend.url}."


def test_overlay_asks_for_access_and_loads_the_paper_once_granted_without_a_reload(
    firefox: Firefox, backend: Backend, artifacts: Path
) -> None:
    client = firefox.client
    reader_tab = firefox.open(MRL_PAGE)
    overlay = firefox.wait_for_overlay(no_access_line(backend))
    firefox.screenshot(artifacts / "firefox-first-run-overlay-before.png")
    assert "Allow access" in overlay.buttons
    assert "Cannot reach" not in overlay.text
    assert_no_stray_values(overlay.text)
    assert backend.requests_to("/api/v1/") == []  # nothing was sent that Firefox would block
    loaded_at = client.execute_script("return performance.timeOrigin;")

    # The overlay's button opens the extension's page that asks, beside the reader's tab.
    before = set(client.window_handles)
    firefox.click_overlay_button("Allow access")
    opened = Wait(client, timeout=WAIT_S).until(
        lambda c: set(c.window_handles) - before,
        message="the overlay's button opened no page that asks for access",
    )
    assert len(opened) == 1
    permission_tab = opened.pop()
    client.switch_to_window(permission_tab)
    asking_page = firefox.extension_url(
        f"permission/permission.html?tab={firefox.tab_id(MRL_PAGE)}"
    )
    # A new tab shows about:blank until its first navigation commits.
    Wait(client, timeout=WAIT_S).until(
        lambda c: c.get_url() == asking_page,
        message=f"the new tab never showed {asking_page}",
    )
    text = firefox.wait_for_text(backend.url)
    firefox.screenshot(artifacts / "firefox-first-run-permission-page.png")
    assert "Allow PaperLens to reach its backend" in text
    assert_no_stray_values(text)

    # The reader clicks Allow access, then Allow in the prompt Firefox opens.
    client.find_element(By.ID, "allow").click()
    firefox.accept_permission_prompt()
    # The page that asked steps aside, back to the reader's tab.
    Wait(client, timeout=WAIT_S).until(
        lambda c: permission_tab not in c.window_handles,
        message="the page that asked stayed open after access was granted",
    )

    with client.using_context("chrome"):
        selected = client.execute_script("return gBrowser.selectedBrowser.currentURI.spec;")
    assert selected == MRL_PAGE
    client.switch_to_window(reader_tab)
    overlay = firefox.wait_for_overlay(MRL_CODE)
    firefox.screenshot(artifacts / "firefox-first-run-overlay-after.png")
    assert ("github.com/RAIVNLab/MRL", "https://github.com/RAIVNLab/MRL") in overlay.links
    assert_no_stray_values(overlay.text)
    assert client.execute_script("return performance.timeOrigin;") == loaded_at  # no reload
    assert [(r.method, r.path) for r in backend.requests_to("/api/v1/papers/")] == [
        ("GET", "/api/v1/papers/arxiv:2205.13147")
    ]


def test_popup_asks_for_access_and_shows_the_paper_once_granted(
    firefox: Firefox, backend: Backend, artifacts: Path
) -> None:
    """Here the popup asks itself: it is an extension page, so the reader's click suffices."""
    tab = firefox.open(MRL_PAGE)
    firefox.wait_for_overlay(no_access_line(backend))
    firefox.popup(tab)
    text = firefox.wait_for_text(no_access_line(backend))
    firefox.screenshot(artifacts / "firefox-first-run-popup-before.png")
    assert "Allow access" in text
    assert "Waiting for access to the backend." in text
    assert "Cannot reach" not in text
    assert_no_stray_values(text)

    firefox.client.find_element(By.CSS_SELECTOR, "#problem button").click()
    firefox.accept_permission_prompt()
    text = firefox.wait_for_text(MRL_TITLE)
    firefox.screenshot(artifacts / "firefox-first-run-popup-after.png")
    assert no_access_line(backend) not in text
    assert_no_stray_values(text)
