"""The extension on pages that arXiv's own code rendered (pages/SOURCES.md), at a laptop's
1280x800 window: the chip beside a real abstract, the overlay and the badges under arXiv's real
style sheets and scripts, read by the eye, by a screen reader and by axe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Page, ViewportSize

from tests.e2e.axe import COPY_CLASS, assert_accessible, open_closed_roots, restore_closed_roots
from tests.e2e.closed_shadow import (
    BADGES,
    ClosedRoot,
    accessible_nodes,
    badge_links,
    badges_by_paper,
)
from tests.e2e.conftest import PAGES, SAVED_PAGES, Backend, Browser, api
from tests.e2e.visible import assert_no_stray_values
from tests.support import eventually

ABS_PAGE = "https://arxiv.org/abs/2103.17249"
ABS_CODE = "https://github.com/orpatashnik/StyleCLIP"
LISTING = "https://arxiv.org/list/astro-ph.CO/new"
# The one paper on the listing whose own text links to code (in its comments).
LISTED_WITH_CODE = "arxiv:2302.12524"
LISTED_PAPERS = 23
# A listed paper without code, which the reader saved.
LISTED_SAVED = "arxiv:2303.00769"
OVERLAY = "#paperlens-overlay"
WINDOW: ViewportSize = {"width": 1280, "height": 800}
SCHEMES: list[Literal["light", "dark"]] = ["light", "dark"]

# Where things are on screen, as [left, top, right, bottom] in CSS pixels.
BOX = "e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"
CHIP_VIEW = f"""(() => ({{
  panel: ({BOX})(root.querySelector(".panel")),
  chip: visibleText(root.querySelector(".chip")),
  body: root.querySelector(".body").checkVisibility(),
}}))()"""


def intersects(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def open_at_laptop_size(browser: Browser, url: str) -> Page:
    page = browser.context.new_page()
    page.set_viewport_size(WINDOW)
    page.goto(url)
    return page


def overlay_ready(page: Page) -> ClosedRoot:
    page.locator(f"{OVERLAY}[data-state=ready]").wait_for(timeout=15_000)
    return ClosedRoot(page)


# The arXiv style sheets a page links, each with the number of rules the browser read from it.
ARXIV_SHEETS = """() => [...document.querySelectorAll('link[rel=stylesheet][href*="/static/"]')]
  .filter((link) => link.media !== "print")
  .map((link) => [link.getAttribute("href"), link.sheet ? link.sheet.cssRules.length : 0])"""


def assert_styled_by_arxiv(page: Page) -> None:
    """Every arXiv screen style sheet the page links was served and read: it looks as on arXiv."""
    sheets = page.evaluate(ARXIV_SHEETS)
    assert len(sheets) >= 3 and all(rules > 0 for _, rules in sheets), sheets


def assert_overlay_says_nothing_stray(page: Page, shadow: ClosedRoot) -> None:
    assert_no_stray_values(shadow.root_text())
    assert_no_stray_values("\n".join(name for _, name in accessible_nodes(page, OVERLAY)))


def test_the_chip_leaves_arxivs_own_abstract_uncovered(browser: Browser, artifacts: Path) -> None:
    browser.configure(collapsed={})  # a reader who never expanded the overlay
    page = open_at_laptop_size(browser, ABS_PAGE)
    shadow = overlay_ready(page)
    view = eventually(lambda: (v := shadow.evaluate(CHIP_VIEW)) and "code" in v["chip"] and v)
    assert view["chip"] == "PaperLens ▴ · code ↗"
    assert not view["body"]
    assert shadow.attribute("a.chip-code", "href") == ABS_CODE
    assert_styled_by_arxiv(page)
    abstract = page.locator("blockquote.abstract")
    assert "Inspired by the ability of StyleGAN" in abstract.inner_text()
    chip = view["panel"]
    assert chip[2] - chip[0] < 200 and chip[3] - chip[1] < 40, chip  # a chip, not a panel
    assert chip[2] <= WINDOW["width"] and chip[3] <= WINDOW["height"], chip
    # Wherever the reader scrolls the abstract to, the chip is not over it.
    for top in (0, 200, 400):
        page.evaluate(f"window.scrollTo(0, {top})")
        chip = shadow.evaluate(CHIP_VIEW)["panel"]
        text = abstract.evaluate(BOX)
        assert not intersects(chip, text), (top, chip, text)
    assert_overlay_says_nothing_stray(page, shadow)
    page.evaluate("window.scrollTo(0, 0)")
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(artifacts / f"real-arxiv-abs-chip-{scheme}.png"))


def test_the_open_overlay_on_arxivs_own_abstract_page(browser: Browser, artifacts: Path) -> None:
    page = open_at_laptop_size(browser, ABS_PAGE)
    shadow = overlay_ready(page)
    shadow.wait_text("ul.code li", "StyleCLIP")
    assert shadow.attribute("ul.code li a", "href") == ABS_CODE
    assert "official" in shadow.text("ul.code li")
    assert_overlay_says_nothing_stray(page, shadow)
    # The open panel stays inside the window, next to the page's own column.
    panel = shadow.evaluate(f"({BOX})(root.querySelector('.panel'))")
    assert panel[0] >= 0 and panel[2] <= WINDOW["width"], panel
    assert panel[1] >= 0 and panel[3] <= WINDOW["height"], panel
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(artifacts / f"real-arxiv-abs-open-{scheme}.png"))
        assert open_closed_roots(page, OVERLAY) == 1
        assert_accessible(page, f"the open overlay on {ABS_PAGE} ({scheme})", f".{COPY_CLASS}")
        restore_closed_roots(page)
    shadow.click("button.toggle")
    eventually(lambda: shadow.attribute("button.toggle", "aria-expanded") == "false")
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        assert open_closed_roots(page, OVERLAY) == 1
        assert_accessible(page, f"the chip on {ABS_PAGE} ({scheme})", f".{COPY_CLASS}")
        restore_closed_roots(page)


# What the browser does with the manifest's command: the background's listener, called with the
# command's name and the tab it was pressed in (headless Chromium cannot press a command).
PRESS_SHORTCUT = """async (url) => {
  const tab = (await chrome.tabs.query({})).find((t) => t.url === url);
  chrome.commands.onCommand.dispatch("toggle-overlay", tab);
}"""


def test_the_shortcut_opens_the_chip_and_escape_folds_it_on_arxivs_own_page(
    browser: Browser,
) -> None:
    browser.configure(collapsed={})
    page = open_at_laptop_size(browser, ABS_PAGE)
    shadow = overlay_ready(page)
    assert shadow.attribute("button.toggle", "aria-expanded") == "false"
    browser.worker.evaluate(PRESS_SHORTCUT, page.url)
    eventually(lambda: shadow.attribute("button.toggle", "aria-expanded") == "true")
    assert shadow.evaluate("root.activeElement?.className") == "toggle"
    shadow.wait_text("ul.code li", "StyleCLIP")
    assert_overlay_says_nothing_stray(page, shadow)
    # Escape, pressed for real from the code link, folds it and gives focus back to the chip.
    shadow.focus("ul.code li a")
    page.keyboard.press("Escape")
    eventually(lambda: shadow.attribute("button.toggle", "aria-expanded") == "false")
    assert shadow.evaluate("root.activeElement?.className") == "toggle"
    chip = shadow.evaluate(CHIP_VIEW)
    assert not chip["body"]
    assert not intersects(chip["panel"], page.locator("blockquote.abstract").evaluate(BOX))


def listing_badges(page: Page, saved: str | None = None) -> dict[str, str]:
    """The badges by paper once every listed paper has its set (and `saved` its saved mark)."""
    page.locator(BADGES).first.wait_for(timeout=15_000)

    def complete() -> dict[str, str] | None:
        shown = badges_by_paper(page)
        if len(shown) != LISTED_PAPERS or (saved and "saved" not in shown.get(saved, "")):
            return None
        return shown

    return eventually(complete, message=f"{LISTED_PAPERS} badge sets")


# Each badge set's place in arXiv's markup, and where it sits on screen beside its row's links.
PLACEMENT = f"""els => els.map(e => {{
  const row = e.parentElement;
  return {{
    parent: row.tagName,
    last: row.lastElementChild === e,
    inHeading: e.closest("h1,h2,h3,h4,h5,h6") !== null,
    paper: row.querySelector('a[title="Abstract"]')?.textContent.trim() ?? null,
    box: ({BOX})(e),
    linkBoxes: [...row.querySelectorAll("a")].map({BOX}),
  }};
}})"""
# ArXiv's own listing rows with the badges and without them: for each row, its links'
# horizontal places, their heights relative to the row's top, and the row's height.
ROWS_WITH_AND_WITHOUT_BADGES = """() => {
  const rows = [...document.querySelectorAll("dl#articles dt")];
  const measure = () => rows.map((row) => {
    const top = row.getBoundingClientRect().top;
    const links = [...row.querySelectorAll("a")].map((a) => a.getBoundingClientRect());
    return {
      x: links.map((box) => box.x),
      y: links.map((box) => Math.round(box.y - top)),
      height: row.getBoundingClientRect().height,
    };
  });
  const hosts = [...document.querySelectorAll(".paperlens-badges")];
  const spots = hosts.map((host) => [host.parentNode, host.nextSibling]);
  const withBadges = measure();
  hosts.forEach((host) => host.remove());
  const without = measure();
  hosts.forEach((host, i) => spots[i][0].insertBefore(host, spots[i][1]));
  return withBadges.map((row, i) => [row, without[i]]);
}"""


def test_badges_end_each_row_of_arxivs_own_listing(
    reader: str, library: list[str], browser: Browser, backend: Backend, artifacts: Path
) -> None:
    for paper_id in (LISTED_WITH_CODE, LISTED_SAVED):
        api(backend, reader, "PUT", f"/me/library/{paper_id}", {"status": "to_read"})
        library.append(paper_id)
    browser.configure(token=reader)
    page = open_at_laptop_size(browser, LISTING)
    assert_styled_by_arxiv(page)
    shown = listing_badges(page, saved=LISTED_SAVED)
    assert shown[LISTED_WITH_CODE] == "</> official code ↗ ★ saved"
    assert shown[LISTED_SAVED] == "★ saved"
    marked = {LISTED_WITH_CODE, LISTED_SAVED}
    assert {text for paper, text in shown.items() if paper not in marked} == {""}
    coded = badge_links(page).index(f"https://arxiv.org/abs/{LISTED_WITH_CODE[6:]}")
    assert accessible_nodes(page, BADGES, coded) == [
        ("link", "Code available, official"),
        ("image", "In your reading list"),
    ]
    assert ClosedRoot(page, BADGES, coded).attribute("a.code", "href") == (
        "https://github.com/leandros11/lensing1"
    )
    for index in range(page.locator(BADGES).count()):
        assert_no_stray_values(ClosedRoot(page, BADGES, index).root_text())
        names = "\n".join(name for _, name in accessible_nodes(page, BADGES, index))
        assert_no_stray_values(names)
    placements = page.eval_on_selector_all(BADGES, PLACEMENT)
    for placed in placements:
        # The last thing in the paper's <dt> ("[1] arXiv:… [pdf, other]"), never in a heading.
        assert placed["parent"] == "DT" and placed["last"] and not placed["inHeading"], placed
        assert placed["paper"] is not None and placed["paper"].startswith("arXiv:"), placed
        # After the row's links on screen, covering none of them.
        box = placed["box"]
        for link in placed["linkBoxes"]:
            assert not intersects(box, link), placed
            assert box[0] >= link[2] or box[1] >= link[3], placed
    # arXiv's own links stay where arXiv put them: the badges open no gap in a row and move
    # nothing along it. A row grows by under 5 px: the badge (19.6 px) is a little taller than
    # arXiv's 15 px line, so the row's links sit a pixel or two lower in it.
    for badged, plain in page.evaluate(ROWS_WITH_AND_WITHOUT_BADGES):
        assert badged["x"] == plain["x"], (badged, plain)
        assert all(0 <= b - p <= 2 for b, p in zip(badged["y"], plain["y"], strict=True))
        assert badged["height"] - plain["height"] < 5, (badged, plain)
    # The section headings and the titles read as arXiv wrote them.
    headings = page.locator("#dlpage h3").all_inner_texts()
    assert headings[1:] == [
        "New submissions (showing 5 of 5 entries)",
        "Cross submissions (showing 2 of 2 entries)",
        "Replacement submissions (showing 16 of 16 entries)",
    ]
    assert_no_stray_values(page.locator("#dlpage").inner_text())
    # The picture: the entry with code, with the entries around it.
    entry = page.locator(f'a[title="Abstract"][id="{LISTED_WITH_CODE[6:]}"]')
    top = entry.evaluate("e => e.getBoundingClientRect().top + window.scrollY") - 300
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        page.screenshot(
            path=str(artifacts / f"real-arxiv-listing-{scheme}.png"),
            clip={"x": 0, "y": max(0, top - 12), "width": 1280, "height": 800},
            full_page=True,
        )
        assert open_closed_roots(page, BADGES) == LISTED_PAPERS
        assert_accessible(page, f"the badges on {LISTING} ({scheme})", f".{COPY_CLASS}")
        restore_closed_roots(page)


# The page's own script drawing its list again at the same address: every entry replaced by an
# identical new node built from the page's markup.
REDRAW = """() => {
  for (const list of document.querySelectorAll("dl#articles")) {
    const copy = list.cloneNode(true);
    copy.querySelectorAll(".paperlens-badges").forEach((e) => e.remove());
    list.replaceWith(copy);
  }
  return document.querySelectorAll(".paperlens-badges").length;
}"""


def test_badges_come_back_when_arxivs_listing_is_drawn_again(
    browser: Browser, backend: Backend
) -> None:
    page = open_at_laptop_size(browser, LISTING)
    before = listing_badges(page)
    url = page.url
    for _ in range(2):
        assert page.evaluate(REDRAW) == 0
        assert listing_badges(page) == before
    assert page.url == url
    page.wait_for_timeout(1_000)  # no late duplicates: one set per paper
    links = badge_links(page)
    assert len(links) == len(set(links)) == LISTED_PAPERS
    assert len(backend.requests_to("/api/v1/papers/batch", "POST")) == 1


def linked_style_sheets(url: str) -> set[str]:
    """The addresses of the style sheets the saved page at `url` links in its markup."""
    markup = (PAGES / SAVED_PAGES[url]).read_text(encoding="utf-8")
    links = re.findall(r"<link\b[^>]*>", markup)
    hrefs = (re.search(r'href="([^"]+)"', link) for link in links if "stylesheet" in link)
    return {urljoin(url, href.group(1).replace("&amp;", "&")) for href in hrefs if href}


# The style sheets the document itself holds (the shadow roots' are not among them).
DOCUMENT_SHEETS = """() => ({
  adopted: document.adoptedStyleSheets.length,
  sheets: [...document.styleSheets].map((sheet) => sheet.href),
})"""


@pytest.mark.parametrize("scheme", SCHEMES)
def test_arxivs_own_pages_keep_their_look_under_the_extension(
    browser: Browser, scheme: Literal["light", "dark"]
) -> None:
    """The extension's styles stay in its shadow roots: the page holds arXiv's style sheets and
    nothing else, and its title keeps arXiv's font."""
    page = browser.context.new_page()
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size(WINDOW)
    for url, title in ((ABS_PAGE, "h1.title"), (LISTING, "#dlpage h1")):
        page.goto(url)
        page.locator(f"{OVERLAY}, {BADGES}").first.wait_for(timeout=15_000)
        found = page.evaluate(DOCUMENT_SHEETS)
        assert found["adopted"] == 0, found
        assert found["sheets"] and set(found["sheets"]) <= linked_style_sheets(url), found
        family = page.locator(title).evaluate("e => getComputedStyle(e).fontFamily")
        assert "Lucida Grande" in family, family
