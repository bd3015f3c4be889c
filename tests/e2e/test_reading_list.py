"""The reading list through the extension: Save in the overlay, the popup's list and
suggestions, saved badges on listings."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from paperlens.settings import EXTENSION_ORIGIN
from tests.e2e.closed_shadow import BADGES, ClosedRoot, badges_by_paper
from tests.e2e.conftest import Backend, Browser, api
from tests.support import eventually

MRL = "arxiv:2205.13147"
OVERLAY = "#paperlens-overlay"


def test_save_in_the_overlay_puts_the_paper_in_the_reading_list_and_the_popup_shows_it(
    reader: str, library: list[str], browser: Browser, backend: Backend, artifacts: Path
) -> None:
    library.append(MRL)
    browser.configure(token=reader)
    page = browser.open("https://arxiv.org/abs/2205.13147")
    page.locator(f"{OVERLAY}[data-state=ready]").wait_for(timeout=15_000)
    overlay = ClosedRoot(page)
    overlay.wait_text(".save", "^Not in your reading list Save To read$")
    page.locator(OVERLAY).screenshot(path=str(artifacts / "overlay-not-saved.png"))
    overlay.choose("select.status", "reading")
    overlay.type_into(".tag-input", "embeddings, matryoshka")
    overlay.click("button.save-button")
    overlay.wait_text(".save", "^★ Saved · Reading Edit Remove$")
    page.locator(OVERLAY).screenshot(path=str(artifacts / "overlay-saved.png"))

    entry = api(backend, reader, "GET", f"/me/library/{MRL}")
    assert entry["status"] == "reading"
    assert sorted(entry["tags"]) == ["embeddings", "matryoshka"]
    writes = backend.requests_to(f"/api/v1/me/library/{MRL}", "PUT")
    assert [(w.origin, w.authorized) for w in writes] == [(EXTENSION_ORIGIN, True)]

    popup = browser.popup()
    popup.get_by_role("tab", name="Reading list").click()
    item = popup.locator(f'#library-items li[data-paper-id="{MRL}"]')
    expect(item).to_contain_text("Matryoshka Representation Learning")
    expect(item).to_contain_text("#matryoshka")
    popup.locator("#search").fill("matryoshka")
    expect(item).to_be_visible()
    popup.locator("#search").fill("no such paper anywhere")
    expect(popup.locator("#library-items")).to_contain_text("Nothing saved matches.")
    popup.locator("#search").fill("")
    popup.locator("#tag-filter").select_option("embeddings")
    expect(item).to_be_visible()
    popup.locator("#status-filter").select_option("done")
    expect(popup.locator("#library-items")).to_contain_text("Nothing saved matches.")

    page.bring_to_front()
    overlay.click("button.remove-button")
    overlay.wait_text(".save", "^Not in your reading list Save To read$")
    assert api(backend, reader, "GET", f"/me/library/{MRL}") is None


def test_listing_marks_papers_already_saved(
    reader: str, library: list[str], browser: Browser, backend: Backend, artifacts: Path
) -> None:
    api(backend, reader, "PUT", "/me/library/arxiv:2505.11816", {"status": "to_read"})
    library.append("arxiv:2505.11816")
    browser.configure(token=reader)
    page = browser.open("https://arxiv.org/list/cs.LG/new")
    page.locator(BADGES).first.wait_for(timeout=15_000)
    shown = eventually(lambda: badges_by_paper(page), message="badges")
    assert {paper for paper, text in shown.items() if "★" in text} == {"arxiv:2505.11816"}
    assert shown["arxiv:2505.11816"] == "★ saved"  # saved, no code
    assert shown["arxiv:2205.13147"] == "</> official code ↗"  # code, not saved
    page.screenshot(path=str(artifacts / "listing-saved.png"))
    assert len(backend.requests_to("/api/v1/papers/batch", "POST")) == 1


def test_popup_suggestions_explain_themselves_and_can_be_dismissed(
    reader: str, library: list[str], browser: Browser, backend: Backend
) -> None:
    for paper_id in ("arxiv:2506.05426", "arxiv:2310.01334", "arxiv:2507.23279"):
        api(backend, reader, "PUT", f"/me/library/{paper_id}", {"tags": ["moe"]})
        library.append(paper_id)
    backend.run_workers()
    browser.configure(token=reader)
    popup = browser.popup()
    popup.get_by_role("tab", name="Suggestions").click()
    items = popup.locator("#suggestion-items[data-state=ready] li")
    items.first.wait_for(timeout=15_000)
    count = items.count()
    assert count > 0
    for index in range(count):
        assert items.nth(index).locator(".reason").inner_text().strip()
    first_id = items.first.get_attribute("data-paper-id")
    items.first.get_by_role("button", name="Dismiss").first.click()
    expect(popup.locator(f'#suggestion-items li[data-paper-id="{first_id}"]')).to_have_count(0)
    feedback = backend.requests_to("/api/v1/me/feedback", "POST")
    assert [(f.origin, f.authorized) for f in feedback] == [(EXTENSION_ORIGIN, True)]


def test_a_wrong_token_is_one_clear_line_with_a_way_to_fix_it(
    reader: str, browser: Browser, backend: Backend
) -> None:
    browser.configure(token="not-the-right-token")
    page = browser.open("https://arxiv.org/abs/2205.13147")
    page.locator(f"{OVERLAY}[data-state=ready]").wait_for(timeout=15_000)
    line = ClosedRoot(page).wait_text(".error", "The API token was rejected")
    assert line.endswith("Open options")

    options = browser.open(
        f"chrome-extension://{EXTENSION_ORIGIN.split('//')[1]}/options/options.html"
    )
    options.locator("#test").click()
    expect(options.locator("#report")).to_contain_text("The API token was rejected")
    options.locator("#token").fill(reader)
    options.locator("#test").click()
    expect(options.locator("#report")).to_contain_text("The API token was accepted.")
