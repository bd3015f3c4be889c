"""Badges on listing pages, the popup on a PDF tab, and the options page's connection test."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect

from paperlens.settings import EXTENSION_ORIGIN
from server import create_app
from tests.e2e.closed_shadow import BADGES, ClosedRoot, badge_links, badges_by_paper
from tests.e2e.conftest import Backend, Browser, Seen, serve
from tests.e2e.visible import MRL_TITLE, assert_no_stray_values, visible_text
from tests.support import eventually

# Papers on the saved listing pages whose demo-corpus abstracts link to code.
WITH_CODE = {"arxiv:2205.13147", "arxiv:2506.05426", "arxiv:2403.13043", "arxiv:2510.02341"}
WITHOUT_CODE = {"arxiv:2505.11816", "arxiv:2306.02824"}


def code_badges(page: Page) -> set[str]:
    """Papers whose badge shows the code mark, as a reader sees it."""
    return {paper for paper, text in badges_by_paper(page).items() if "code" in text}


def test_arxiv_listing_gets_code_badges_from_one_batch_request(
    browser: Browser, backend: Backend
) -> None:
    page = browser.open("https://arxiv.org/list/cs.LG/new")
    page.locator(BADGES).first.wait_for(timeout=15_000)
    assert eventually(lambda: code_badges(page) == WITH_CODE, message="code badges")
    shown = badges_by_paper(page)
    assert not {paper for paper, text in shown.items() if text} - WITH_CODE
    assert set(shown) >= WITHOUT_CODE  # laid out, empty: see listing.js
    # One badge per paper, beside its abstract link, saying what it means.
    hrefs = badge_links(page)
    assert len(hrefs) == len(set(hrefs)) and "https://arxiv.org/abs/2205.13147" in hrefs
    mrl = ClosedRoot(page, BADGES, hrefs.index("https://arxiv.org/abs/2205.13147"))
    assert mrl.root_text() == "</> official code ↗"

    batches = backend.requests_to("/api/v1/papers/batch")
    assert [b.method for b in batches] == ["POST"]
    assert backend.requests_to("/api/v1/papers/arxiv") == []  # not one request per paper


def test_hugging_face_daily_papers_get_badges_after_their_titles(browser: Browser) -> None:
    page = browser.open("https://huggingface.co/papers")
    page.locator(BADGES).first.wait_for(timeout=15_000)
    expected = {"arxiv:2506.05426", "arxiv:2403.13043", "arxiv:2510.02341"}
    assert eventually(lambda: code_badges(page) == expected, message="code badges")
    after = page.eval_on_selector_all(
        BADGES, "els => els.map(e => e.previousElementSibling.tagName)"
    )
    assert set(after) == {"H3"}


def test_popup_on_a_pdf_tab_shows_the_paper_and_its_code(browser: Browser) -> None:
    pdf = browser.open("https://arxiv.org/pdf/2205.13147v3")
    popup = browser.popup(tab=pdf)
    current = popup.locator("#current-body[data-state=ready]")
    current.wait_for(timeout=15_000)
    expect(current.locator("h2.title")).to_have_text("Matryoshka Representation Learning")
    expect(current.locator("ul.code li a").first).to_have_attribute(
        "href", "https://github.com/RAIVNLab/MRL"
    )
    expect(current).to_contain_text("Add your API token to save papers.")


def test_options_connection_test_reports_exactly_what_is_wrong(
    browser: Browser, backend: Backend
) -> None:
    options = browser.open(
        f"chrome-extension://{EXTENSION_ORIGIN.split('//')[1]}/options/options.html"
    )
    url, report = options.locator("#backend-url"), options.locator("#report")
    expect(url).to_have_value(backend.url)

    url.fill("http://127.0.0.1:9")
    options.locator("#test").click()
    expect(report).to_contain_text("Cannot reach PaperLens at http://127.0.0.1:9")

    url.fill("not a url")
    options.locator("#test").click()
    expect(report).to_contain_text("must be an http(s) address")

    url.fill(backend.url + "/")
    options.locator("#test").click()
    expect(report).to_contain_text(f"Reached the PaperLens API at {backend.url}.")
    expect(report).to_contain_text("No API token")

    options.locator("#save").click()
    expect(report).to_have_text("✓ Saved.")
    assert browser.connection()["backendUrl"] == backend.url  # saved without the trailing slash


def test_a_backend_that_does_not_grant_the_extension_cors_is_refused(
    browser: Browser, backend: Backend, tmp_path: Path
) -> None:
    """Proves the grant is what lets the extension in: no host permission bypasses CORS."""
    other = backend.settings.model_copy(update={"cors_origins": ["chrome-extension://someoneelse"]})
    app: Flask = create_app(other)
    seen: list[Seen] = []
    server = serve(app, seen)
    try:
        browser.configure(backendUrl=f"http://127.0.0.1:{server.server_port}")
        page = browser.open("https://arxiv.org/abs/2205.13147")
        page.locator("#paperlens-overlay[data-state=error]").wait_for(timeout=15_000)
        ClosedRoot(page).wait_text(".error", "Cannot reach PaperLens")
        assert [(s.method, s.origin) for s in seen] == [("GET", EXTENSION_ORIGIN)]
    finally:
        server.shutdown()
        app.extensions["paperlens"].db.dispose()


def test_popup_on_a_paper_page_shows_no_stray_values(browser: Browser) -> None:
    """Every part of the popup drawn: nothing reads 'null' or 'undefined' where a part is absent."""
    tab = browser.open("https://arxiv.org/abs/2205.13147")
    popup = browser.popup(tab=tab)
    body = popup.locator("body")
    expect(body).to_contain_text("Add your API token to save papers.")
    this_tab = visible_text(popup, "#current")
    assert this_tab.startswith(MRL_TITLE)
    assert_no_stray_values(body.inner_text())
    for name in ("Reading list", "Suggestions"):
        popup.get_by_role("tab", name=name).click()
        assert_no_stray_values(body.inner_text())
    expect(popup.get_by_role("tabpanel", name="Suggestions")).to_contain_text(
        "Suggestions are unavailable."
    )


def test_popup_with_the_backend_down_says_so_with_a_way_to_fix_it(browser: Browser) -> None:
    """The popup's failures read as the overlay's: one line, and the button that mends it."""
    browser.configure(backendUrl="http://127.0.0.1:9", token="any")
    tab = browser.open("https://arxiv.org/abs/2205.13147")
    popup = browser.popup(tab=tab)
    line = "Cannot reach PaperLens at http://127.0.0.1:9"
    for part in ("#current-body[data-state=error]", "#problem"):
        expect(popup.locator(part)).to_contain_text(line)
        expect(popup.locator(f"{part} button")).to_have_text("Open options")
    assert_no_stray_values(popup.locator("body").inner_text())
