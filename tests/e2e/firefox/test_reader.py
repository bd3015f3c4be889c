"""The overlay, Save, the popup, listing badges and the feed and library pages in real Firefox
ESR, once the reader has allowed access to the backend (the first run itself is
test_first_run.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from marionette_driver.wait import Wait

from paperlens import keys
from tests.e2e.conftest import EXPANDED_ON_PAPER_SITES, EXTENSION_DIR, Backend, api
from tests.e2e.firefox.driver import (
    STRICT_CSP_QUERY,
    WAIT_S,
    Firefox,
    backend_permission_pattern,
)
from tests.e2e.test_compressed_answers import compressed_cases, sent
from tests.e2e.test_feed_page import MOE, OTHER, SAVED, _ingest
from tests.e2e.test_listing_popup_options import WITH_CODE, WITHOUT_CODE
from tests.e2e.visible import MRL_CODE, MRL_TITLE, assert_no_stray_values

MRL = "arxiv:2205.13147"
MRL_PAGE = "https://arxiv.org/abs/2205.13147"


@pytest.fixture(scope="module")
def installed(firefox_session: Firefox, backend: Backend) -> Iterator[Firefox]:
    """The extension, installed once per module, with the backend's access already allowed."""
    firefox_session.install(EXTENSION_DIR)
    firefox_session.grant_origin(backend_permission_pattern(backend.url))
    try:
        yield firefox_session
    finally:
        firefox_session.uninstall()


@pytest.fixture
def firefox(installed: Firefox, settle: Firefox, backend: Backend) -> Firefox:
    """Settings as a fresh reader's, pointed at the test backend."""
    installed.in_extension(
        "await browser.storage.local.clear(); await browser.storage.session.clear(); return null;"
    )
    installed.configure(backendUrl=backend.url, token="", collapsed=EXPANDED_ON_PAPER_SITES)
    return installed


def test_overlay_shows_code_links_and_related_papers(
    firefox: Firefox, backend: Backend, artifacts: Path
) -> None:
    firefox.open(MRL_PAGE)
    overlay = firefox.wait_for_overlay(MRL_CODE)
    firefox.screenshot(artifacts / "firefox-overlay.png")

    assert ("github.com/RAIVNLab/MRL", "https://github.com/RAIVNLab/MRL") in overlay.links
    code_line = next(line for line in overlay.text.splitlines() if "RAIVNLab/MRL" in line)
    assert "official" in code_line
    assert "from abstract" in code_line
    # Headings are shown in capitals (text-transform), which innerText keeps.
    assert "RELATED PAPERS" in overlay.text
    related = [(t, href) for t, href in overlay.links if href.startswith("https://arxiv.org/abs/")]
    # At most five are shown, and only those above the similarity floor.
    assert 1 <= len(related) <= 5
    for title, _ in related:
        item = next(text for text in overlay.items if text.startswith(title))
        reason = item.removeprefix(title).strip()
        assert title.strip() and reason, f"a related paper without its title or reason: {item!r}"
    assert "Add your API token to save papers." in overlay.text
    assert_no_stray_values(overlay.text)

    # Only the paper id reached the backend.
    assert [(r.method, r.path) for r in backend.requests_to("/api/v1/papers/")] == [
        ("GET", "/api/v1/papers/arxiv:2205.13147")
    ]
    assert not any("arxiv.org" in r.path for r in backend.seen)


def test_a_strict_page_csp_leaves_the_overlay_styled(firefox: Firefox) -> None:
    """The overlay adopts the packaged stylesheets, which no page CSP governs."""
    firefox.open(f"{MRL_PAGE}?{STRICT_CSP_QUERY}")
    overlay = firefox.wait_for_overlay(MRL_CODE)
    # The policy holds: the saved page's own <style> (every element 30px) is refused.
    heading = "return getComputedStyle(document.querySelector('#abs h1.title')).fontSize;"
    assert firefox.client.execute_script(heading) != "30px"
    assert "RELATED PAPERS" in overlay.text  # text-transform, from the stylesheet
    panel = firefox.client.execute_script(
        """
        const root = document.getElementById("paperlens-overlay").openOrClosedShadowRoot;
        const style = getComputedStyle(root.querySelector(".panel"));
        return [style.width, style.backgroundColor];
        """,
        sandbox="system",
    )
    assert panel == ["360px", "rgb(255, 255, 255)"]


def test_save_in_the_overlay_reaches_the_reading_list_and_the_popup_shows_it(
    firefox: Firefox, backend: Backend, reader: str, library: list[str], artifacts: Path
) -> None:
    library.append(MRL)
    firefox.configure(token=reader)
    tab = firefox.open(MRL_PAGE)
    firefox.wait_for_overlay(MRL_CODE)
    firefox.set_overlay_input("Add a tag", "firefox, e2e")
    firefox.click_overlay_button("Save")
    overlay = firefox.wait_for_overlay("★ Saved")
    firefox.screenshot(artifacts / "firefox-overlay-saved.png")
    assert "Remove" in overlay.buttons
    assert_no_stray_values(overlay.text)

    saves = backend.requests_to(f"/api/v1/me/library/{MRL}", "PUT")
    assert len(saves) == 1 and saves[0].authorized
    entry = api(backend, reader, "GET", f"/me/library/{MRL}")
    assert sorted(entry["tags"]) == ["e2e", "firefox"]

    firefox.popup(tab)
    this_tab = firefox.wait_for_text("★ Saved")  # this tab's paper is marked saved, with its tags
    firefox.screenshot(artifacts / "firefox-popup-saved.png")
    assert "★ Saved · To read" in this_tab.splitlines()  # tags are under Edit, saved above
    assert_no_stray_values(this_tab)
    firefox.popup_section("Reading list")
    reading_list = firefox.wait_for_text("#firefox")
    assert MRL_TITLE in reading_list and "★ Saved" not in reading_list  # the other panel hid
    assert_no_stray_values(reading_list)


def test_popup_on_a_paper_tab_shows_the_paper_and_nothing_stray(
    firefox: Firefox, artifacts: Path
) -> None:
    tab = firefox.open(MRL_PAGE)
    firefox.wait_for_overlay(MRL_CODE)
    assert_popup_shows_mrl(firefox, tab, artifacts / "firefox-popup.png")


def assert_popup_shows_mrl(firefox: Firefox, tab: str, screenshot: Path) -> None:
    """The popup, opened on ``tab``, names MRL with its code and shows nothing stray."""
    firefox.popup(tab)
    text = firefox.wait_for_text("Add your API token to save papers.")
    firefox.screenshot(screenshot)
    # Below the header and the tab strip, whose last tab is Suggestions.
    this_tab = text.split("\nSuggestions\n", 1)[1].split("Look up a paper", 1)[0]
    assert this_tab.strip().splitlines()[0] == MRL_TITLE
    assert "github.com/RAIVNLab/MRL" in this_tab
    assert_no_stray_values(text)


def test_arxiv_listing_badges_papers_with_code_and_says_nothing_else(
    firefox: Firefox, backend: Backend
) -> None:
    firefox.open("https://arxiv.org/list/cs.LG/new")
    with_code = {abs_path(paper_id) for paper_id in WITH_CODE}

    def showing_code() -> list[tuple[str | None, str]] | None:
        found = firefox.badges()
        return found if {href for href, text in found if "code" in text} == with_code else None

    badges = Wait(firefox.client, timeout=WAIT_S).until(
        lambda _: showing_code(), message="the listing never got its code badges"
    )
    # Papers with code show the code mark and nothing more; every other badge shows nothing
    # (this reader has saved nothing, so no saved mark is visible either).
    assert {href: text for href, text in badges if text} == dict.fromkeys(
        with_code, "</> official code ↗"
    )
    hrefs = [href for href, _ in badges]
    assert len(hrefs) == len(set(hrefs))  # one badge per paper
    assert {abs_path(paper_id) for paper_id in WITHOUT_CODE} <= set(hrefs)  # laid out, empty
    assert [r.method for r in backend.requests_to("/api/v1/papers/batch")] == ["POST"]


def abs_path(paper_id: str) -> str:
    """The listing's link to an arXiv paper's abstract page, as the page writes it."""
    return "/abs/" + paper_id.removeprefix("arxiv:")


def test_pdf_tab_popup_names_the_paper_and_the_badge_says_code(
    firefox: Firefox, artifacts: Path
) -> None:
    pdf_url = "https://arxiv.org/pdf/2205.13147v3"
    tab = firefox.open(pdf_url)
    tab_id = firefox.tab_id(pdf_url)

    def badge() -> list[str]:
        return list(
            firefox.in_extension(
                "return [await browser.action.getBadgeText({tabId: args}),"
                " await browser.action.getTitle({tabId: args})];",
                tab_id,
            )
        )

    Wait(firefox.client, timeout=WAIT_S).until(
        lambda _: badge()[0] == "code", message="no code badge on the PDF tab"
    )
    assert badge() == ["code", "PaperLens: official code available"]
    assert_popup_shows_mrl(firefox, tab, artifacts / "firefox-popup-pdf-tab.png")


def test_stored_gzip_and_spliced_batch_read_as_the_plain_json(
    firefox: Firefox, backend: Backend
) -> None:
    for path, body, encoding in compressed_cases(backend):
        assert sent(backend, path, body, "gzip, deflate, br, zstd")[0] == encoding
        _, plain = sent(backend, path, body, None)
        init = (
            {}
            if body is None
            else {
                "method": "POST",
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(body),
            }
        )
        status, read = firefox.in_extension(
            "const answer = await page.fetch(args[0], args[1]);"
            "return [answer.status, await answer.json()];",
            [backend.url + path, init],
        )
        assert status == 200 and read == plain, path


def test_the_feed_and_library_pages_show_the_readers_papers(
    firefox: Firefox,
    backend: Backend,
    reader: str,
    library: list[str],
    tmp_path: Path,
    artifacts: Path,
) -> None:
    library.extend(SAVED)
    for paper_id in SAVED:
        api(backend, reader, "PUT", f"/me/library/{paper_id}", {"tags": ["moe"]})
    on_subject: dict[str, Any] = {
        "id": "arxiv:2612.20001",
        "title": "Sharing Experts Across Layers of Mixture-of-Experts Language Models",
        "abstract": MOE,
        "authors": ["Ida Share"],
        "published": "2026-12-02",
    }
    off_subject: dict[str, Any] = {
        "id": "arxiv:2612.20002",
        "title": "Gannet Colonies of the Bass Rock",
        "abstract": OTHER,
        "authors": ["Jo Gannet"],
        "published": "2026-12-02",
    }
    try:
        _ingest(backend, tmp_path, [on_subject, off_subject])
        firefox.configure(token=reader)
        firefox.open(firefox.extension_url("feed/feed.html"))
        feed = firefox.wait_for_text(on_subject["title"])
        firefox.screenshot(artifacts / "firefox-feed.png")
        assert "Ida Share · 2 Dec 2026" in feed and "in your list" in feed
        assert "stood out from your reading list." in feed  # what the last refresh did
        assert off_subject["title"] not in feed
        assert_no_stray_values(feed)

        saved_title = api(backend, reader, "GET", f"/me/library/{SAVED[0]}")["title"]
        firefox.open(firefox.extension_url("library/library.html"))
        shelf = firefox.wait_for_text(saved_title)
        firefox.screenshot(artifacts / "firefox-library.png")
        assert f"{len(SAVED)} shown" in shelf
        assert_no_stray_values(shelf)
    finally:
        for key in backend.redis.scan_iter(keys.feed("*")):  # the other tests start without one
            backend.redis.delete(key)
