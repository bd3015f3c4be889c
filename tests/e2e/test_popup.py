"""The popup as Chrome shows it: within its 600 px, one region that scrolls, its three sections
as tabs a reader reaches with the keyboard, and Options and the library in its header."""

from __future__ import annotations

import itertools
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Backend, Browser, api
from tests.e2e.visible import MRL_TITLE, assert_no_stray_values, visible_text

MRL = "arxiv:2205.13147"
MRL_PAGE = "https://arxiv.org/abs/2205.13147"
# Chrome's largest popup.
POPUP_MAX_PX = 600
TABS = ["This tab", "Reading list", "Suggestions"]

# Every element whose content scrolls (overflows a box that lets it scroll).
SCROLLERS = """() => [document.scrollingElement, ...document.querySelectorAll("*")]
  .filter((e) => e.scrollHeight > e.clientHeight + 1 &&
    (e === document.scrollingElement || /auto|scroll/.test(getComputedStyle(e).overflowY)))
  .map((e) => e === document.scrollingElement ? "document" : e.className || e.id || e.tagName)"""


def open_popup(browser: Browser) -> Page:
    """The popup on MRL's page, sized as Chrome's largest popup, with every part drawn."""
    tab = browser.open(MRL_PAGE)
    popup = browser.popup(tab=tab)
    popup.set_viewport_size({"width": 400, "height": POPUP_MAX_PX})
    popup.locator("#current-body[data-state=ready]").wait_for(timeout=15_000)
    popup.locator("#library-items:not([data-state=loading])").wait_for(
        state="attached", timeout=15_000
    )
    return popup


def test_the_popup_fits_chromes_600_px_with_one_scrolling_region(
    browser: Browser, backend: Backend, reader: str, library: list[str], artifacts: Path
) -> None:
    api(backend, reader, "PUT", f"/me/library/{MRL}", {"tags": ["embeddings"]})
    library.append(MRL)
    browser.configure(token=reader)
    popup = open_popup(browser)
    for name in TABS:
        popup.get_by_role("tab", name=name).click()
        height = popup.evaluate("document.documentElement.scrollHeight")
        assert height <= POPUP_MAX_PX, f"{name}: {height} px"
        assert popup.evaluate(SCROLLERS) in ([], ["panels"]), name
        assert_no_stray_values(popup.locator("body").inner_text())
    popup.get_by_role("tab", name="This tab").click()
    for scheme in ("light", "dark"):
        popup.emulate_media(color_scheme=scheme)
        # As Chrome shows it: the popup's window is as high as its content.
        popup.locator("main").screenshot(path=str(artifacts / f"popup-{scheme}.png"))
    popup.emulate_media(color_scheme="light")
    # This tab's paper and a second one asked for by hand: whatever does not fit scrolls in
    # the panels while the header stays.
    popup.get_by_role("tab", name="This tab").click()
    popup.get_by_label("Paste an arXiv id, DOI or address").fill("2205.13147")
    popup.get_by_label("Paste an arXiv id, DOI or address").press("Enter")
    popup.locator("#ask-body[data-state=ready]").wait_for(timeout=15_000)
    assert popup.evaluate("document.documentElement.scrollHeight") <= POPUP_MAX_PX
    assert popup.evaluate(SCROLLERS) in ([], ["panels"])
    popup.locator(".panels").evaluate("e => e.scrollTo(0, e.scrollHeight)")
    expect(popup.get_by_role("button", name="Options")).to_be_in_viewport()
    popup.screenshot(path=str(artifacts / "popup-scrolled.png"))


def test_headings_go_from_h1_to_h2_without_a_skip(browser: Browser) -> None:
    popup = open_popup(browser)
    levels = popup.eval_on_selector_all(
        "h1, h2, h3, h4, h5, h6",
        "hs => hs.filter(h => h.checkVisibility()).map(h => +h.tagName[1])",
    )
    assert levels[0] == 1
    assert all(later - earlier <= 1 for earlier, later in itertools.pairwise(levels)), levels
    assert popup.locator("h2.title").first.inner_text() == MRL_TITLE


def test_options_and_the_library_sit_in_the_header(browser: Browser) -> None:
    popup = open_popup(browser)
    header = popup.locator("header")
    expect(header.get_by_role("button", name="Options")).to_be_visible()
    expect(header.get_by_role("button", name="Library")).to_be_visible()
    with browser.context.expect_page() as opened:
        header.get_by_role("button", name="Options").click()
    expect(opened.value).to_have_url(f"{popup.url.split('/popup/')[0]}/options/options.html")


def test_the_sections_are_tabs_a_keyboard_reaches(browser: Browser, reader: str) -> None:
    browser.configure(token=reader)  # no problem line above the tabs
    popup = open_popup(browser)
    tabs = popup.get_by_role("tab")
    expect(tabs).to_have_text(TABS)
    # Tab order: Library, Feed, Options, then the selected tab only.
    for name in ("Library", "Feed", "Options"):
        popup.keyboard.press("Tab")
        expect(popup.get_by_role("button", name=name)).to_be_focused()
    popup.keyboard.press("Tab")
    expect(popup.get_by_role("tab", name="This tab")).to_be_focused()
    expect(popup.get_by_role("tabpanel")).to_have_count(1)
    assert MRL_TITLE in visible_text(popup, "[role=tabpanel]:not([hidden])")

    popup.keyboard.press("ArrowRight")
    reading = popup.get_by_role("tab", name="Reading list")
    expect(reading).to_be_focused()
    expect(reading).to_have_attribute("aria-selected", "true")
    expect(popup.get_by_role("tabpanel", name="Reading list")).to_be_visible()
    expect(popup.get_by_label("Search the reading list")).to_be_visible()
    expect(popup.locator("#panel-current")).to_be_hidden()

    popup.keyboard.press("ArrowRight")
    expect(popup.get_by_role("tabpanel", name="Suggestions")).to_be_visible()
    popup.keyboard.press("ArrowRight")  # round to the first
    expect(popup.get_by_role("tab", name="This tab")).to_be_focused()
    popup.keyboard.press("End")
    expect(popup.get_by_role("tab", name="Suggestions")).to_have_attribute("aria-selected", "true")
    popup.keyboard.press("ArrowLeft")
    expect(reading).to_be_focused()
    # Tab leaves the strip for the open panel's content.
    popup.keyboard.press("Tab")
    expect(popup.get_by_role("tabpanel", name="Reading list")).to_be_focused()
    popup.keyboard.press("Tab")
    expect(popup.get_by_label("Search the reading list")).to_be_focused()


def test_saving_in_the_popup_keeps_focus_and_announces_it(
    browser: Browser, backend: Backend, reader: str, library: list[str]
) -> None:
    browser.configure(token=reader)
    popup = open_popup(browser)
    panel = popup.locator("#panel-current")
    panel.get_by_role("button", name="Save").first.click()
    library.append(MRL)
    expect(panel.get_by_role("status").first).to_have_text("Saved to your reading list")
    expect(panel.get_by_role("button", name="Edit").first).to_be_focused()
    assert api(backend, reader, "GET", f"/me/library/{MRL}") is not None
    panel.get_by_role("button", name="Remove").first.click()
    expect(panel.get_by_role("status").first).to_have_text("Removed from your reading list")
    expect(panel.get_by_role("button", name="Save").first).to_be_focused()
    assert api(backend, reader, "GET", f"/me/library/{MRL}") is None
