"""The extension's research feed page: new papers ranked from the reader's list by the real
workers, those new since the last visit marked and counted on the page and on the icon, and
Dismiss, Save and "More like this" reaching the backend, all by keyboard too."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from paperlens import job_queue, keys
from paperlens.settings import get_settings
from paperlens.store.db import Database
from paperlens.store.models import Feedback
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import EXTENSION_ID, Backend, Browser, _create_reader, api
from tests.e2e.visible import assert_no_stray_values, visible_text
from worker.context import reset_context
from worker.ingest.jsonl import ingest_jsonl

SAVED = ["arxiv:2506.05426", "arxiv:2310.01334", "arxiv:2507.23279"]
MOE = (
    "Sparse mixture-of-experts language models route each token to a few experts; we study "
    "expert routing, expert pruning and load balancing in large language models."
)
BALANCE = (
    "Auxiliary load-balancing losses keep the experts of mixture-of-experts language models "
    "evenly used; we compare them with expert-choice routing and capacity limits."
)
OTHER = (
    "We measure the migration routes of seabirds across the North Atlantic with satellite "
    "tags and relate them to sea surface temperature."
)
# The first ingest: more papers than one page of the feed page holds.
FIRST: list[dict[str, Any]] = [
    {
        "id": f"arxiv:2611.{n:05d}",
        "title": f"Expert Routing Study {n} for Mixture-of-Experts Models",
        "abstract": MOE,
        "authors": ["Ada Router", "Ben Gate", "Cy Load", "Di Balance"],
        "published": "2026-11-02",
    }
    for n in range(1, 29)
]
# The second ingest, after the reader's last visit: the new papers.
SECOND: list[dict[str, Any]] = [
    {
        "id": "arxiv:2612.00001",
        "title": "Pruning Experts of Mixture-of-Experts Models Without Losing Quality",
        "abstract": MOE,
        "authors": ["Eve Prune"],
        "published": "2026-12-01",
    },
    {
        "id": "arxiv:2612.00002",
        "title": "Load-Balancing Losses for Expert Routing",
        "abstract": BALANCE,
        "authors": [],
    },
    {
        "id": "arxiv:2612.00003",
        "title": "Satellite Tags on Atlantic Seabirds",
        "abstract": OTHER,
        "authors": ["Eve Tern"],
        "published": "2026-12-01",
    },
]
# The second ingest's papers on the reader's subject; the seabird paper is not, and stays out.
NEW_IDS = {"arxiv:2612.00001", "arxiv:2612.00002"}
OFF_TOPIC = SECOND[2]
FEED_URL = f"chrome-extension://{EXTENSION_ID}/feed/feed.html"


@dataclass
class Feed:
    """The reader's feed as the workers left it, and the time of a visit between the ingests."""

    seen_until: str
    items: list[dict[str, Any]]


def _ingest(backend: Backend, directory: Path, records: list[dict[str, Any]]) -> None:
    """New papers in the catalogue, then the refresh an ingest queues, run by real workers."""
    path = directory / f"{records[0]['id'].replace(':', '_')}.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    db = Database(backend.environment["PAPERLENS_DATABASE_URL"])
    try:
        ingest_jsonl(db, path)
    finally:
        db.dispose()
    job_queue.request_feed_refresh(backend.redis, backend.settings)
    backend.run_workers()


def _feed(backend: Backend, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api(backend, token, "GET", "/me/feed?limit=200")["items"]
    return items


@pytest.fixture(scope="module")
def fed(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Feed]:
    """The reader's feed after two ingests; the list it learnt from is removed afterwards."""
    directory = tmp_path_factory.mktemp("feed-page")
    token = backend.token
    for paper_id in SAVED:
        api(backend, token, "PUT", f"/me/library/{paper_id}", {"tags": ["moe"]})
    _ingest(backend, directory, FIRST)
    before = _feed(backend, token)
    assert {record["id"] for record in FIRST} <= {item["paper_id"] for item in before}
    seen_until = max(item["added_at"] for item in before)
    time.sleep(0.01)  # the second refresh's time is later, however fast the machine
    _ingest(backend, directory, SECOND)
    items = _feed(backend, token)
    assert {item["paper_id"] for item in items} >= NEW_IDS
    yield Feed(seen_until, items)
    for paper_id in SAVED:
        api(backend, token, "DELETE", f"/me/library/{paper_id}")
    for key in backend.redis.scan_iter(keys.feed("*")):  # the other tests start without a feed
        backend.redis.delete(key)


def _open(browser: Browser) -> Page:
    page = browser.open(FEED_URL)
    page.locator("#items[data-state=ready]").wait_for(state="attached", timeout=15_000)
    return page


def _load_all(page: Page) -> None:
    """Press "Load more" until the last page is in."""
    more = page.locator("#more")
    while more.is_visible():
        shown = page.locator("#items > li").count()
        more.click()
        expect(page.locator("#items > li")).not_to_have_count(shown)
    expect(page.locator("#count")).not_to_contain_text("more to load")


def _item(page: Page, paper_id: str) -> Locator:
    return page.locator(f'#items > li[data-paper-id="{paper_id}"]')


def _eventually(read: Callable[[], Any], wanted: Any, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while (found := read()) != wanted:
        assert time.monotonic() < deadline, f"{what}: {found!r}, not {wanted!r}"
        time.sleep(0.2)


def _badge(browser: Browser) -> str:
    """The icon's global badge text, as the browser shows it on a tab without its own."""
    return str(browser.worker.evaluate("() => chrome.action.getBadgeText({})"))


def _seen_until(browser: Browser) -> str | None:
    found = browser.worker.evaluate("async () => (await chrome.storage.local.get('feedSeenUntil'))")
    value = found.get("feedSeenUntil")
    return str(value) if value is not None else None


def test_new_items_are_counted_on_the_icon_and_the_page_and_a_visit_clears_them(
    fed: Feed, reader: str, browser: Browser, artifacts: Path
) -> None:
    browser.configure(token=reader, feedSeenUntil=fed.seen_until)
    # The poll the alarm makes every 30 minutes, made now.
    browser.worker.evaluate("() => chrome.alarms.create('paperlens-feed', { when: Date.now() })")
    _eventually(lambda: _badge(browser), str(len(NEW_IDS)), "the icon's count")
    title = browser.worker.evaluate("() => chrome.action.getTitle({})")
    assert title == "PaperLens: 2 new papers in your research feed"

    page = browser.open(FEED_URL)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#items[data-state=ready]").wait_for(state="attached", timeout=15_000)
    expect(page.locator("#count")).to_have_text(
        "2 new since your last visit · 25 shown (more to load)"
    )
    # The last refresh ranked the second ingest's three papers and took the two on subject.
    expect(page.locator("#updated")).to_have_text(
        _updated("2 of 3 papers ranked stood out from your reading list.")
    )
    page.emulate_media(color_scheme="dark")
    assert_accessible(page, "the feed page with items (dark)")
    page.emulate_media(color_scheme="light")
    assert_accessible(page, "the feed page with items (light)")
    fresh = page.locator("#items > li.new")
    expect(fresh).to_have_count(2)
    assert {fresh.nth(i).get_attribute("data-paper-id") for i in range(2)} == NEW_IDS
    for paper_id in NEW_IDS:
        expect(_item(page, paper_id).locator(".new-mark")).to_have_text("New")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(artifacts / f"feed-{scheme}.png"))
    old = _item(page, FIRST[0]["id"])
    _load_all(page)
    expect(old).to_be_visible()
    expect(old.locator(".new-mark")).to_have_count(0)
    # New too, but nothing like the reader's list: neither shown nor counted.
    assert OFF_TOPIC["title"] not in visible_text(page, "main")
    assert OFF_TOPIC["id"] not in {item["paper_id"] for item in fed.items}

    # Each item: its title linking to the paper, its authors and date, and why it is there.
    first = _item(page, "arxiv:2612.00001")
    expect(first.locator("a.paper-title")).to_have_text(SECOND[0]["title"])
    expect(first.locator("a.paper-title")).to_have_attribute(
        "href", "https://arxiv.org/abs/2612.00001"
    )
    expect(first.locator(".byline")).to_have_text("Eve Prune · 1 Dec 2026")
    expect(first.locator(".reason")).to_contain_text("in your list")
    # A shared phrase as the saved papers write it, not as the vectorizer pairs its words.
    expect(first.locator(".reason")).to_contain_text("discuss “Mixture-of-Experts”")
    expect(old.locator(".byline")).to_have_text("Ada Router, Ben Gate, Cy Load et al. · 2 Nov 2026")
    # A paper without authors or date shows neither, and no placeholder for them.
    expect(_item(page, "arxiv:2612.00002").locator(".byline")).to_have_count(0)
    shown = page.locator("#items > li")
    for index in range(shown.count()):
        assert shown.nth(index).locator(".reason").inner_text().startswith("Like “")
    text = visible_text(page, "main")
    assert_no_stray_values(text)
    assert "Research feed" in text and "Dismiss" in text and "More like this" in text

    # The visit saw the feed up to its newest item: the icon's count is gone, and so are the marks.
    newest = max(item["added_at"] for item in fed.items)
    _eventually(lambda: _seen_until(browser), newest, "the last visit")
    _eventually(lambda: _badge(browser), "", "the icon's count after a visit")
    page.reload()
    page.locator("#items[data-state=ready]").wait_for(state="attached", timeout=15_000)
    expect(page.locator("#count")).to_have_text("25 shown (more to load)")
    expect(page.locator("#items > li.new")).to_have_count(0)


def _updated(outcome: str) -> re.Pattern[str]:
    """The feed page's line on its latest refresh, at whatever time that ran."""
    return re.compile(
        rf"^Updated \d{{1,2}} [A-Z][a-z]{{2}} \d{{4}}, \d{{2}}:\d{{2}}: {re.escape(outcome)}$"
    )


def _signals(backend: Backend, paper_id: str) -> list[str]:
    db = Database(backend.environment["PAPERLENS_DATABASE_URL"])
    try:
        with db.session() as session:
            return list(
                session.scalars(select(Feedback.signal).where(Feedback.paper_id == paper_id))
            )
    finally:
        db.dispose()


def test_dismiss_save_and_more_like_this_by_keyboard(
    fed: Feed, reader: str, library: list[str], browser: Browser, backend: Backend
) -> None:
    dismissed, saved, liked = FIRST[0]["id"], FIRST[1]["id"], "arxiv:2612.00002"
    browser.configure(token=reader, feedSeenUntil=max(item["added_at"] for item in fed.items))
    page = _open(browser)
    try:
        # j and k move between papers; Tab reaches each paper's buttons in order.
        page.keyboard.press("j")
        first = page.locator("#items > li").first
        expect(first.locator("a.paper-title")).to_be_focused()
        page.keyboard.press("j")
        expect(page.locator("#items > li").nth(1).locator("a.paper-title")).to_be_focused()
        page.keyboard.press("k")
        expect(first.locator("a.paper-title")).to_be_focused()
        for name in ("Dismiss", "Save", "More like this"):
            page.keyboard.press("Tab")
            expect(first.get_by_role("button", name=name)).to_be_focused()

        # Dismiss: gone at once, for good: after a reload and after the next refresh.
        _item(page, dismissed).locator("a.paper-title").focus()
        page.keyboard.press("d")
        expect(_item(page, dismissed)).to_have_count(0)
        expect(page.locator("#notice")).to_have_text(
            f"Dismissed “{FIRST[0]['title']}”; it will not come back. Undo"
        )
        expect(page.locator("#items > li a.paper-title:focus")).to_have_count(
            1
        )  # focus stayed in the list
        assert _signals(backend, dismissed) == ["dismiss"]
        assert dismissed not in {item["paper_id"] for item in _feed(backend, reader)}
        page.reload()
        page.locator("#items[data-state=ready]").wait_for(state="attached", timeout=15_000)
        _load_all(page)
        expect(_item(page, FIRST[2]["id"])).to_be_visible()
        expect(_item(page, dismissed)).to_have_count(0)
        job_queue.request_feed_refresh(backend.redis, backend.settings)
        backend.run_workers()  # the reader's own refresh and the refresh of every feed
        assert dismissed not in {item["paper_id"] for item in _feed(backend, reader)}
        page.reload()
        page.locator("#items[data-state=ready]").wait_for(state="attached", timeout=15_000)
        expect(_item(page, dismissed)).to_have_count(0)

        # Save: the paper is on the reading list.
        library.append(saved)
        _load_all(page)
        _item(page, saved).locator("a.paper-title").focus()
        page.keyboard.press("s")
        expect(_item(page, saved).get_by_role("button", name="Saved")).to_be_visible()
        expect(page.locator("#notice")).to_have_text(
            f"Saved “{FIRST[1]['title']}” to your reading list."
        )
        entry = api(backend, reader, "GET", f"/me/library/{saved}")
        assert entry is not None and entry["status"] == "to_read"

        # More like this: recorded, and the reader's feed is ranked again by a worker.
        _item(page, liked).locator("a.paper-title").focus()
        page.keyboard.press("m")
        more = _item(page, liked).get_by_role("button", name="More like this")
        expect(more).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#notice")).to_have_text(
            f"Asked for more like “{SECOND[1]['title']}”; your feed is being ranked again."
        )
        assert _signals(backend, liked) == ["more_like_this"]
        refresh = f"rq:job:{keys.FEED_REFRESH_JOB_ID}-"
        assert any(key.decode().startswith(refresh) for key in backend.redis.scan_iter("rq:job:*"))
        before = next(i for i in _feed(backend, reader) if i["paper_id"] == liked)
        backend.run_workers()
        assert not any(
            key.decode().startswith(refresh) for key in backend.redis.scan_iter("rq:job:*")
        )
        after = next(i for i in _feed(backend, reader) if i["paper_id"] == liked)
        assert after["score"] > before["score"]
        assert after["added_at"] == before["added_at"]
        assert all(request.authorized for request in backend.requests_to("/api/v1/me/feedback"))
    finally:
        for paper_id in (dismissed, liked):
            api(backend, reader, "DELETE", f"/me/feedback/{paper_id}")
        backend.run_workers()


def test_undo_brings_a_dismissed_paper_back(
    fed: Feed, reader: str, browser: Browser, backend: Backend
) -> None:
    paper_id = "arxiv:2612.00001"
    browser.configure(token=reader)
    page = _open(browser)
    _item(page, paper_id).get_by_role("button", name="Dismiss").click()
    expect(_item(page, paper_id)).to_have_count(0)
    expect(page.locator("#undo")).to_be_visible()
    page.locator("#undo").click()
    expect(page.locator("#notice")).to_have_text(f"Restored “{SECOND[0]['title']}”.")
    expect(_item(page, paper_id)).to_be_visible()
    expect(_item(page, paper_id).locator("a.paper-title")).to_be_focused()
    assert _signals(backend, paper_id) == []
    assert paper_id in {item["paper_id"] for item in _feed(backend, reader)}
    backend.run_workers()


def test_a_refresh_that_takes_nothing_in_says_so(
    fed: Feed, reader: str, browser: Browser, backend: Backend, tmp_path: Path
) -> None:
    seabirds = {**OFF_TOPIC, "id": "arxiv:2612.00009", "title": "Storm Petrels Off Iceland"}
    _ingest(backend, tmp_path, [seabirds])
    items = _feed(backend, reader)
    assert seabirds["id"] not in {item["paper_id"] for item in items}
    browser.configure(token=reader, feedSeenUntil=max(item["added_at"] for item in items))
    page = _open(browser)
    expect(page.locator("#count")).to_have_text("25 shown (more to load)")
    expect(page.locator("#updated")).to_have_text(
        _updated("the one paper ranked did not stand out from your reading list.")
    )
    text = visible_text(page, "main")
    assert seabirds["title"] not in text
    assert_no_stray_values(text)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _other_reader(backend: Backend) -> str:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in backend.environment.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        reset_context()
        token = _create_reader(f"feedless-{time.monotonic_ns()}")
        reset_context()
    get_settings.cache_clear()
    return token


def test_empty_feed_wrong_token_and_backend_down_each_say_what_to_do(
    fed: Feed, browser: Browser, backend: Backend
) -> None:
    browser.configure(token=_other_reader(backend))
    page = _open(browser)
    expect(page.locator("#empty")).to_have_text(
        "Your feed fills after the next ingest; save a few papers and mark which tags feed it."
    )
    expect(page.locator("#count")).to_have_text("")
    assert_no_stray_values(visible_text(page, "main"))
    page.close()

    browser.configure(token="not-the-right-token")
    page = browser.open(FEED_URL)
    problem = page.locator("#problem")
    expect(problem).to_have_text(
        "✗ The API token was rejected: paste a valid token in the options. Open options"
    )
    expect(page.locator("#empty")).to_be_hidden()
    page.close()

    down = f"http://127.0.0.1:{_closed_port()}"
    browser.configure(backendUrl=down, token="any")
    page = browser.open(FEED_URL)
    expect(page.locator("#problem")).to_contain_text(f"✗ Cannot reach PaperLens at {down}")
    fix = page.locator("#problem").get_by_role("button", name="Open options")
    fix.focus()
    expect(fix).to_be_focused()
    assert_no_stray_values(visible_text(page, "main"))


def test_the_popup_library_page_and_icon_menu_open_the_feed(
    reader: str, browser: Browser, artifacts: Path
) -> None:
    browser.configure(token=reader)
    popup = browser.popup()
    with browser.context.expect_page() as opened:
        popup.locator("#open-feed").click()
    expect(opened.value).to_have_url(FEED_URL)
    library = browser.open(f"chrome-extension://{EXTENSION_ID}/library/library.html")
    library.get_by_role("link", name="Research feed").click()
    expect(library).to_have_url(FEED_URL)
    library.get_by_role("link", name="Library").click()
    expect(library).to_have_url(f"chrome-extension://{EXTENSION_ID}/library/library.html")
