"""Listing badges as a reader meets them: where they sit, what they say to the eye and to a
screen reader, where the code badge leads, and that they survive the page redrawing itself."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Page

from paperlens import enrichments, keys
from paperlens.schemas import EnrichedPaper
from tests.e2e.closed_shadow import (
    BADGE_PAPER_LINK,
    BADGES,
    ClosedRoot,
    accessible_nodes,
    badge_links,
    badges_by_paper,
)
from tests.e2e.conftest import Backend, Browser, api
from tests.e2e.visible import assert_no_stray_values
from tests.support import eventually

MRL = "arxiv:2205.13147"
MRL_CODE = "https://github.com/RAIVNLab/MRL"
# A paper on the Hugging Face list whose abstract links to its code.
DRIFT = "arxiv:2510.02341"


def wait_for_badges(page: Page, count: int) -> dict[str, str]:
    """The badges by paper once `count` of them show their marks."""
    page.locator(BADGES).first.wait_for(timeout=15_000)

    def enough() -> dict[str, str] | None:
        shown = badges_by_paper(page)
        return shown if len(shown) >= count else None

    return eventually(enough, message=f"{count} badge sets")


def badge_index(page: Page, paper_id: str) -> int:
    ids = [f"arxiv:{href.rstrip('/').rsplit('/', 1)[-1]}" for href in badge_links(page)]
    return ids.index(paper_id)


def assert_names_clean(page: Page) -> None:
    """No badge set says 'null' or 'undefined', to the eye or to a screen reader."""
    for index in range(page.locator(BADGES).count()):
        assert_no_stray_values(ClosedRoot(page, BADGES, index).root_text())
        assert_no_stray_values("\n".join(name for _, name in accessible_nodes(page, BADGES, index)))


def test_arxiv_listing_code_badge_is_a_labelled_link_to_the_repository(
    browser: Browser,
) -> None:
    page = browser.open("https://arxiv.org/list/cs.LG/new")
    shown = wait_for_badges(page, 6)
    assert shown[MRL] == "</> official code ↗"
    assert shown["arxiv:2505.11816"] == ""  # no code, not saved: laid out, nothing shown
    mrl = ClosedRoot(page, BADGES, badge_index(page, MRL))
    link = mrl.evaluate(
        "(({href, target, rel}) => ({href, target, rel}))(root.querySelector('a.code'))"
    )
    assert link == {"href": MRL_CODE, "target": "_blank", "rel": "noopener noreferrer"}
    # Read aloud: what the badge means, not its glyphs; the hidden saved mark not at all.
    assert accessible_nodes(page, BADGES, badge_index(page, MRL)) == [
        ("link", "Code available, official")
    ]
    assert accessible_nodes(page, BADGES, badge_index(page, "arxiv:2505.11816")) == []
    assert mrl.attribute("a.code", "title") is None  # nothing lives only in a hover title
    assert_names_clean(page)


def test_arxiv_listing_saved_mark_is_read_as_in_your_reading_list(
    reader: str, library: list[str], browser: Browser, backend: Backend
) -> None:
    api(backend, reader, "PUT", f"/me/library/{MRL}", {"status": "to_read"})
    library.append(MRL)
    browser.configure(token=reader)
    page = browser.open("https://arxiv.org/list/cs.LG/new")

    def with_saved_mark() -> dict[str, str] | None:
        shown = wait_for_badges(page, 6)
        return shown if "saved" in shown.get(MRL, "") else None

    shown = eventually(with_saved_mark, message="the saved mark")
    assert shown[MRL] == "</> official code ↗ ★ saved"
    assert accessible_nodes(page, BADGES, badge_index(page, MRL)) == [
        ("link", "Code available, official"),
        ("image", "In your reading list"),
    ]
    assert_names_clean(page)


def test_hugging_face_badges_follow_the_title_heading_not_inside_it(browser: Browser) -> None:
    page = browser.open("https://huggingface.co/papers")
    shown = wait_for_badges(page, 4)
    assert shown[DRIFT] == "</> official code ↗"
    placement = page.eval_on_selector_all(
        BADGES,
        f"els => els.map(e => [e.parentElement.closest('h1,h2,h3,h4,h5,h6') === null,"
        f" e.previousElementSibling.tagName, ({BADGE_PAPER_LINK})(e).closest('h3') !== null])",
    )
    assert placement and all(p == [True, "H3", True] for p in placement), placement
    # The title heading reads as the title alone.
    headings = page.eval_on_selector_all(
        "h3", "hs => hs.map(h => [h.textContent.trim(), h.querySelector('a').textContent.trim()])"
    )
    assert headings and all(heading == title for heading, title in headings), headings
    assert_names_clean(page)


@pytest.fixture
def community_code(backend: Backend) -> Iterator[str]:
    """DRIFT's code as a link the community gave (as Papers with Code marks such links),
    written where the worker writes enrichments; restored afterwards."""
    stored = backend.redis.get(keys.enrichment(DRIFT))
    assert isinstance(stored, bytes)
    paper = EnrichedPaper.model_validate_json(enrichments.as_json(stored))
    links = [link.model_copy(update={"official": False}) for link in paper.code]
    enrichments.write(backend.redis, paper.model_copy(update={"code": links}))
    try:
        yield links[0].url
    finally:
        enrichments.write(backend.redis, paper)


def test_official_and_community_code_differ_in_words_and_shape(
    community_code: str, browser: Browser
) -> None:
    page = browser.open("https://huggingface.co/papers")
    shown = wait_for_badges(page, 4)
    assert shown[DRIFT] == "</> community code ↗"
    assert shown["arxiv:2506.05426"] == "</> official code ↗"
    community = ClosedRoot(page, BADGES, badge_index(page, DRIFT))
    official = ClosedRoot(page, BADGES, badge_index(page, "arxiv:2506.05426"))
    assert community.attribute("a.code", "href") == community_code
    assert accessible_nodes(page, BADGES, badge_index(page, DRIFT)) == [
        ("link", "Code available, community")
    ]
    assert community.style("a.code", "borderTopStyle") == "dashed"
    assert official.style("a.code", "borderTopStyle") == "solid"


# The page's own script redrawing its cards, as a single-page site does: each card is replaced
# by an identical new node built from the page's markup, and the address does not change.
REDRAW = """() => {
  for (const card of document.querySelectorAll("article")) {
    const copy = card.cloneNode(true);
    copy.querySelectorAll(".paperlens-badges").forEach((e) => e.remove());
    card.replaceWith(copy);
  }
  return document.querySelectorAll(".paperlens-badges").length;
}"""


def test_hugging_face_badges_come_back_when_the_page_redraws_its_cards(
    browser: Browser, backend: Backend
) -> None:
    page = browser.open("https://huggingface.co/papers")
    before = wait_for_badges(page, 4)
    url = page.url
    for _ in range(2):
        assert page.evaluate(REDRAW) == 0  # the redraw took every badge with it
        after = eventually(
            lambda: badges_by_paper(page) if len(badge_links(page)) == len(before) else None,
            message="badges after the redraw",
        )
        assert after == before
    assert page.url == url
    page.wait_for_timeout(1_000)  # no late duplicates: one badge set per paper
    links = badge_links(page)
    assert len(links) == len(set(links)) == len(before)
    # The same papers again cost no new lookup.
    assert len(backend.requests_to("/api/v1/papers/batch", "POST")) == 1


# Two pages in one picture: the top of each, stacked, at the size the screenshot is taken at.
STACK = """([top, bottom]) => {
  document.body.style.margin = "0";
  for (const data of [top, bottom]) {
    const img = document.createElement("img");
    img.src = `data:image/png;base64,${data}`;
    img.style.display = "block";
    document.body.append(img);
  }
  return Promise.all([...document.images].map((i) => i.decode()));
}"""


def shows_saved(page: Page) -> bool:
    return "saved" in " ".join(badges_by_paper(page).values())


def test_badges_screenshots_light_and_dark(
    community_code: str,
    reader: str,
    library: list[str],
    browser: Browser,
    backend: Backend,
    artifacts: Path,
) -> None:
    """docs/badges-light.png and docs/badges-dark.png: the Hugging Face list above the arXiv
    listing, with official code, community code and a saved paper."""
    for paper_id in (MRL, "arxiv:2506.05426"):
        api(backend, reader, "PUT", f"/me/library/{paper_id}", {"status": "to_read"})
        library.append(paper_id)
    browser.configure(token=reader)
    pages = []
    # Each page from just above its list, so that every kind of badge is in the picture.
    for url, count, list_top in (
        ("https://huggingface.co/papers", 4, "article h3"),
        ("https://arxiv.org/list/cs.LG/new", 6, "#articles"),
    ):
        page = browser.open(url)
        page.set_viewport_size({"width": 1280, "height": 800})
        wait_for_badges(page, count)
        eventually(partial(shows_saved, page), message="the saved marks")
        top = page.locator(list_top).first.evaluate("e => e.getBoundingClientRect().top")
        pages.append((page, max(0, top - 12)))
    sheet = browser.context.new_page()
    sheet.set_viewport_size({"width": 1280, "height": 800})
    for scheme in ("light", "dark"):
        halves = []
        for page, top in pages:
            page.emulate_media(color_scheme=scheme)
            shot = page.screenshot(
                clip={"x": 0, "y": top, "width": 1280, "height": 400}, full_page=True
            )
            halves.append(base64.b64encode(shot).decode())
        sheet.set_content("<!DOCTYPE html><body></body>")
        sheet.evaluate(STACK, halves)
        sheet.screenshot(path=str(artifacts / f"badges-{scheme}.png"))
