"""Asking by hand: the popup's field takes a pasted arXiv id, DOI or address, shows the paper
and saves it without the reader visiting its page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Backend, Browser, api
from tests.e2e.visible import MRL_TITLE, assert_no_stray_values, visible_text

NO_CODE = "arxiv:2505.11816"
ASKED = "#ask-body"


def ask(popup: Page, text: str, *, press_enter: bool = True) -> None:
    """Type into the labelled field and send it, with the keyboard or the button."""
    field = popup.get_by_label("Paste an arXiv id, DOI or address")
    field.fill(text)
    if press_enter:
        field.press("Enter")
    else:
        popup.get_by_role("button", name="Show").click()


def test_a_pasted_arxiv_id_shows_the_paper_without_visiting_it(
    browser: Browser, backend: Backend, artifacts: Path
) -> None:
    popup = browser.popup()
    ask(popup, "2205.13147v2")
    popup.locator(f"{ASKED}[data-state=ready]").wait_for(timeout=15_000)
    shown = visible_text(popup, ASKED)
    assert shown.startswith(f"{MRL_TITLE} Add your API token to save papers.")
    assert "github.com/RAIVNLab/MRL" in shown
    assert_no_stray_values(popup.locator(ASKED).inner_text())
    popup.screenshot(path=str(artifacts / "popup-ask-by-hand.png"))
    # Resolved in the extension: only the paper's id reached the backend.
    assert backend.requests_to("/api/v1/papers/arxiv:2205.13147", "GET")
    assert backend.requests_to("/api/v1/resolve") == []


def test_text_that_is_no_paper_id_is_a_clear_error_and_asks_nobody(
    browser: Browser, backend: Backend, artifacts: Path
) -> None:
    popup = browser.popup()
    ask(popup, "hello world")
    expect(popup.locator(f"{ASKED}[data-state=invalid]")).to_be_visible()
    assert visible_text(popup, ASKED) == (
        "✗ “hello world” is not an arXiv id (2205.13147), a DOI (10.…) or an address."
    )
    expect(popup.get_by_label("Paste an arXiv id, DOI or address")).to_have_attribute(
        "aria-invalid", "true"
    )
    popup.screenshot(path=str(artifacts / "popup-ask-not-an-id.png"))

    ask(popup, "   ", press_enter=False)
    expect(popup.locator(ASKED)).to_have_text("✗ Paste an arXiv id, DOI or address first.")
    assert [s for s in backend.seen if s.path.startswith("/api/v1/papers")] == []
    assert backend.requests_to("/api/v1/resolve") == []


def test_an_address_the_extension_does_not_know_is_asked_of_the_backend(
    browser: Browser, backend: Backend
) -> None:
    popup = browser.popup()
    ask(popup, "https://journals.example.org/article/42")
    expect(popup.locator(f"{ASKED}[data-state=invalid]")).to_be_visible()
    assert visible_text(popup, ASKED) == "✗ PaperLens knows no paper at this address."
    resolves = backend.requests_to("/api/v1/resolve", "GET")
    assert [r.path for r in resolves] == [
        "/api/v1/resolve?url=https%3A%2F%2Fjournals.example.org%2Farticle%2F42"
    ]


def test_a_pasted_address_can_be_saved_from_the_popup(
    reader: str, library: list[str], browser: Browser, backend: Backend, artifacts: Path
) -> None:
    library.append(NO_CODE)
    browser.configure(token=reader)
    popup = browser.popup()
    ask(popup, "arxiv.org/abs/2505.11816", press_enter=False)
    popup.locator(f"{ASKED}[data-state=ready]").wait_for(timeout=15_000)
    assert "Not in your reading list" in visible_text(popup, f"{ASKED} .save")
    popup.locator(f"{ASKED} button.save-button").click()
    expect(popup.locator(ASKED)).to_have_attribute("data-saved", "true")
    assert api(backend, reader, "GET", f"/me/library/{NO_CODE}")["status"] == "to_read"
    popup.get_by_role("tab", name="Reading list").click()
    item = popup.locator(f'#library-items li[data-paper-id="{NO_CODE}"]')
    expect(item).to_be_visible()
    popup.screenshot(path=str(artifacts / "popup-ask-saved.png"))
