"""axe-core on everything the extension draws, in light and dark: its pages (popup, options,
library) filled with a reader's papers, the overlay open and collapsed on a paper page, and the
badges on a listing. Each must have no serious or critical violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import pytest
from playwright.sync_api import Page

from tests.e2e.axe import COPY_CLASS, assert_accessible, open_closed_roots, restore_closed_roots
from tests.e2e.closed_shadow import BADGES, ClosedRoot
from tests.e2e.conftest import EXTENSION_ID, Backend, Browser, api
from tests.support import eventually

MRL = "arxiv:2205.13147"
MRL_PAGE = "https://arxiv.org/abs/2205.13147"
OVERLAY = "#paperlens-overlay"
SCHEMES: list[Literal["light", "dark"]] = ["light", "dark"]


@pytest.fixture
def saved(backend: Backend, reader: str, library: list[str], browser: Browser) -> None:
    """A reader with one saved, tagged paper, so that the pages draw their lists and chips."""
    api(backend, reader, "PUT", f"/me/library/{MRL}", {"tags": ["embeddings"]})
    library.append(MRL)
    browser.configure(token=reader)


def in_both_schemes(page: Page, what: str, check: Callable[[], None] | None = None) -> None:
    """axe on `page` in the light and the dark theme (`check` first makes ready what it reads)."""
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        if check:
            check()
        assert_accessible(page, f"{what} ({scheme})")


@pytest.mark.usefixtures("saved")
def test_the_popup_has_no_serious_accessibility_violation(browser: Browser) -> None:
    tab = browser.open(MRL_PAGE)
    popup = browser.popup(tab=tab)
    popup.locator("#current-body[data-state=ready]").wait_for(timeout=15_000)
    popup.locator("#library-items[data-state=ready]").wait_for(state="attached", timeout=15_000)
    for name in ("This tab", "Reading list", "Suggestions"):
        popup.get_by_role("tab", name=name).click()
        in_both_schemes(popup, f"the popup's {name} tab")


@pytest.mark.usefixtures("saved")
def test_the_options_page_has_no_serious_accessibility_violation(browser: Browser) -> None:
    options = browser.open(f"chrome-extension://{EXTENSION_ID}/options/options.html")
    options.locator("#test").click()
    options.locator("#report.ok").wait_for(timeout=15_000)
    in_both_schemes(options, "the options page with its report")


@pytest.mark.usefixtures("saved")
def test_the_library_page_has_no_serious_accessibility_violation(browser: Browser) -> None:
    page = browser.open(f"chrome-extension://{EXTENSION_ID}/library/library.html")
    page.locator("#rows[data-state=ready]").wait_for(timeout=15_000)
    in_both_schemes(page, "the library page")


def overlay_in_both_schemes(page: Page, state: str) -> None:
    """axe on the overlay's markup, in the light and the dark theme."""
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        assert open_closed_roots(page, OVERLAY) == 1
        assert_accessible(page, f"the overlay, {state} ({scheme})", include=f".{COPY_CLASS}")
    restore_closed_roots(page)


@pytest.mark.usefixtures("saved")
def test_the_overlay_open_and_collapsed_has_no_serious_accessibility_violation(
    browser: Browser,
) -> None:
    page = browser.open(MRL_PAGE)
    page.locator(f"{OVERLAY}[data-state=ready]").wait_for(timeout=15_000)
    shadow = ClosedRoot(page)
    shadow.wait_text(".saved-mark", "Saved")
    overlay_in_both_schemes(page, "open")

    shadow.click("button.toggle")
    eventually(lambda: shadow.attribute("button.toggle", "aria-expanded") == "false")
    overlay_in_both_schemes(page, "collapsed")


@pytest.mark.usefixtures("saved")
def test_listing_badges_have_no_serious_accessibility_violation(browser: Browser) -> None:
    page = browser.open("https://arxiv.org/list/cs.LG/new")
    page.locator(BADGES).first.wait_for(timeout=15_000)
    eventually(
        lambda: (
            "★"
            in " ".join(
                ClosedRoot(page, BADGES, i).root_text() for i in range(page.locator(BADGES).count())
            )
        ),
        message="the saved paper's badge",
    )
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        assert open_closed_roots(page, BADGES) >= 6
        assert_accessible(page, f"the listing badges ({scheme})", include=f".{COPY_CLASS}")
