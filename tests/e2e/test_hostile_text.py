"""A hostile enrichment document (markup, javascript: URLs, right-to-left overrides) is shown
as inert text: nothing runs, no javascript: link exists or opens, no override spills over."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Dialog, expect

from paperlens import enrichments, keys
from tests.e2e.closed_shadow import ClosedRoot
from tests.e2e.conftest import Backend, Browser

PAPER = "arxiv:2401.01234"
PAGE = "https://arxiv.org/abs/2401.01234"
OVERLAY = "#paperlens-overlay"
RLO = "\u202e"

TITLE = f"{RLO}fdp.exe <script>window.__pwned = 'title'</script> Sparse Experts"
REASON = f"{RLO}<img src=x onerror=\"window.__pwned='reason'\"> shares 3 terms"
SAFE_REPO = f"https://github.com/mallory/{RLO}gnp.exe"
HOSTILE_URLS = [
    "javascript:window.__pwned='code'",
    "JaVaScRiPt:window.__pwned='code-case'",
    " javascript:window.__pwned='code-space'",
    "java\tscript:window.__pwned='code-tab'",
    "data:text/html,<script>window.__pwned='data'</script>",
    "vbscript:msgbox(1)",
]


def link(url: str) -> dict[str, Any]:
    return {
        "url": url,
        "kind": "repository",
        "host": "github.com",
        "official": True,
        "source": f"abstract {RLO}<b>x</b>",
        "found_in": ["abstract"],
    }


def hostile(document: dict[str, Any]) -> dict[str, Any]:
    document = dict(document)
    document["title"] = TITLE
    document["abstract"] = (
        "<script>window.__pwned = 'abstract'</script><img src=x onerror=alert(1)>"
    )
    document["authors"] = ["<b onmouseover=alert(2)>Mallory</b>"]
    document["code"] = [link(url) for url in HOSTILE_URLS] + [link(SAFE_REPO)]
    document["related"] = [
        {
            "paper_id": "javascript:window.__pwned='related'",
            "title": "<script>window.__pwned = 'related-title'</script>",
            "score": 0.9,
            "reason": REASON,
        },
        {"paper_id": "arxiv:2205.13147", "title": f"{RLO}Matryoshka", "score": 0.8, "reason": "x"},
    ]
    return document


@pytest.fixture
def hostile_paper(backend: Backend) -> Iterator[None]:
    """The test paper's enrichment replaced in Redis by a hostile one, restored afterwards."""
    key = keys.enrichment(PAPER)
    original = backend.redis.get(key)
    assert isinstance(original, bytes), "the backend fixture precomputes the test paper"
    document = hostile(json.loads(enrichments.as_json(original)))
    backend.redis.set(key, enrichments.encode(json.dumps(document).encode()))
    try:
        yield
    finally:
        backend.redis.set(key, original)


def test_hostile_enrichment_is_inert_text(browser: Browser, hostile_paper: None) -> None:
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    browser.context.on("dialog", record)
    page = browser.context.new_page()
    page.on("dialog", record)
    page.goto(PAGE)
    page.locator(f"{OVERLAY}[data-state=ready]").wait_for(timeout=15_000)
    shadow = ClosedRoot(page)

    assert TITLE not in shadow.text()  # the page shows its title; the overlay does not repeat it
    assert shadow.count("script, img, iframe, object, b") == 0
    hrefs: list[str] = shadow.evaluate("[...root.querySelectorAll('[href]')].map(a => a.href)")
    assert hrefs and all(href.startswith("https://") for href in hrefs), hrefs
    # Only the one http(s) repository remains a code link; its text is the URL, as text.
    assert shadow.count("ul.code li a") == 1
    assert shadow.evaluate("root.querySelector('ul.code li a').href") == SAFE_REPO.replace(
        RLO, "%E2%80%AE"
    )
    assert shadow.text("ul.code li a") == "github.com/mallory/%E2%80%AEgnp.exe"  # defused
    # The related paper with a javascript: id is listed as plain text, its reason as text.
    assert "<script>window.__pwned = 'related-title'</script>" in shadow.text("ol.related li")
    assert shadow.text("ol.related li .reason") == REASON
    assert shadow.count("ol.related li:first-child a") == 0

    # Clicking every item opens no javascript: page and runs nothing.
    targets = "ul.code li, ol.related li"
    for index in range(shadow.count(targets)):
        shadow.click(targets, index, modifiers=["Shift"])
    page.wait_for_timeout(500)
    opened = [p.url.lower() for p in browser.context.pages]
    assert not [url for url in opened if url.startswith(("javascript:", "data:", "vbscript:"))]
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []


def test_right_to_left_override_stays_inside_its_own_text(
    browser: Browser, hostile_paper: None
) -> None:
    """U+202E in a server string must not reverse the labels PaperLens puts after it."""
    page = browser.open(PAGE)
    page.locator(f"{OVERLAY}[data-state=ready]").wait_for(timeout=15_000)
    shadow = ClosedRoot(page)
    link_box = shadow.box("ul.code li a")
    kind_box = shadow.box("ul.code li .source")
    assert kind_box["x"] > link_box["x"], "the override reordered the labels after the link"
    # Every element holding server text is bidi-isolated, so no override reaches past it.
    isolation = shadow.evaluate(
        "['a.related-title', '.reason', '.source', 'a.code-link']"
        ".map(s => [s, getComputedStyle(root.querySelector(s)).unicodeBidi])",
    )
    print("unicode-bidi:", isolation)
    assert all(value in ("isolate", "plaintext") for _, value in isolation), isolation


def test_popup_shows_the_hostile_paper_as_inert_text(browser: Browser, hostile_paper: None) -> None:
    tab = browser.open("https://arxiv.org/pdf/2401.01234")
    popup = browser.popup(tab=tab)
    current = popup.locator("#current-body[data-state=ready]")
    current.wait_for(timeout=15_000)
    expect(current.locator("h2.title")).to_have_text(TITLE)
    assert popup.locator("script:not([src]), img, iframe, b").count() == 0
    hrefs = popup.evaluate("[...document.querySelectorAll('[href]')].map(a => a.href)")
    assert all(href.startswith(("https://", "chrome-extension://")) for href in hrefs), hrefs
    expect(current.locator("ul.code li a")).to_have_count(1)
    isolation = current.locator("h2.title, a, .reason").evaluate_all(
        "nodes => nodes.map(n => getComputedStyle(n).unicodeBidi)"
    )
    assert isolation and set(isolation) <= {"isolate", "plaintext"}, isolation
    assert popup.evaluate("window.__pwned") is None
