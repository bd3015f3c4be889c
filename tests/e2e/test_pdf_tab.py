"""A PDF tab, where no overlay can run: the popup names its paper from the tab's address, and
the toolbar icon's badge says whether the paper has code or is saved."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Backend, Browser, api
from tests.e2e.visible import MRL_TITLE, assert_no_stray_values, visible_text
from tests.support import eventually

MRL_PDF = "https://arxiv.org/pdf/2205.13147v3"
# A demo-corpus paper whose abstract links to no code.
NO_CODE = "arxiv:2505.11816"
NO_CODE_PDF = "https://arxiv.org/pdf/2505.11816"


def tab_id(browser: Browser, tab: Page) -> int:
    return int(
        browser.worker.evaluate(
            "async url => (await chrome.tabs.query({})).find(t => t.url === url).id", tab.url
        )
    )


def badge(browser: Browser, tab: Page) -> tuple[str, str]:
    """The icon's badge text and title for `tab`, as the browser keeps them."""
    text, title = browser.worker.evaluate(
        """async tabId => [await chrome.action.getBadgeText({tabId}),
                          await chrome.action.getTitle({tabId})]""",
        tab_id(browser, tab),
    )
    return str(text), str(title)


def unmarked(browser: Browser) -> tuple[str, str]:
    """What a tab without marks shows: the icon's global text (the research feed's count of
    new papers, when the reader has any) under the extension's own title."""
    return str(browser.worker.evaluate("() => chrome.action.getBadgeText({})")), "PaperLens"


def test_pdf_tab_popup_names_the_paper_and_the_badge_says_code(
    browser: Browser, backend: Backend, artifacts: Path
) -> None:
    pdf = browser.open(MRL_PDF)
    assert eventually(lambda: badge(browser, pdf)[0] == "code", message="code badge")
    assert badge(browser, pdf) == ("code", "PaperLens: official code available")
    # Only the paper id reached the backend, never the page's address.
    assert backend.requests_to("/api/v1/papers/arxiv:2205.13147", "GET")
    assert not [s for s in backend.seen if "pdf" in s.path]

    popup = browser.popup(tab=pdf)
    popup.locator("#current-body[data-state=ready]").wait_for(timeout=15_000)
    this_tab = visible_text(popup, "#current")
    assert this_tab.startswith(f"{MRL_TITLE} Add your API token to save papers.")
    assert "github.com/RAIVNLab/MRL" in this_tab
    assert_no_stray_values(popup.locator("body").inner_text())
    popup.screenshot(path=str(artifacts / "popup-pdf-tab.png"))

    # A page that names no paper clears the badge.
    pdf.goto("https://arxiv.org/list/cs.LG/new")
    assert eventually(lambda: badge(browser, pdf) == unmarked(browser), message="badge cleared")


def test_pdf_tab_badge_shows_a_saved_paper_without_code(
    reader: str, library: list[str], browser: Browser, backend: Backend, artifacts: Path
) -> None:
    library.append(NO_CODE)
    # The token is written after the PDF opened: headless Chromium was seen to leave a PDF
    # navigation uncommitted (the tab "loading" for good) when it started right after the write.
    pdf = browser.open(NO_CODE_PDF)
    browser.configure(token=reader)
    assert eventually(
        lambda: backend.requests_to(f"/api/v1/papers/{NO_CODE}", "GET"), message="looked up"
    )
    assert badge(browser, pdf) == unmarked(browser)

    popup = browser.popup(tab=pdf)
    popup.locator("#current-body[data-state=ready]").wait_for(timeout=15_000)
    assert "Not in your reading list" in visible_text(popup, "#current .save")
    popup.locator("#current button.save-button").click()
    expect(popup.locator("#current-body")).to_have_attribute("data-saved", "true")
    assert api(backend, reader, "GET", f"/me/library/{NO_CODE}")["status"] == "to_read"
    assert eventually(lambda: badge(browser, pdf)[0] == "•", message="saved badge")
    assert badge(browser, pdf) == ("•", "PaperLens: in your reading list")
    popup.screenshot(path=str(artifacts / "popup-pdf-tab-saved.png"))

    popup.locator("#current button.remove-button").click()
    expect(popup.locator("#current-body")).to_have_attribute("data-saved", "false")
    assert eventually(
        lambda: badge(browser, pdf) == unmarked(browser), message="badge cleared on remove"
    )
