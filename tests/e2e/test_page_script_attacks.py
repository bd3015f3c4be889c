"""What a script on a supported site may try against the extension, and why it learns nothing.

Each test plays the page (`page.evaluate` runs in the page's own world, as the site's scripts
do) against a reader with a token and a reading list, and then checks through DevTools that
the reader still sees everything (so the test cannot pass because nothing was shown).
"""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page

from tests.e2e.closed_shadow import BADGES, ClosedRoot, badges_by_paper
from tests.e2e.conftest import EXTENSION_ID, Backend, Browser, api
from tests.support import eventually

MRL = "arxiv:2205.13147"
MRL_PAGE = "https://arxiv.org/abs/2205.13147"
LISTING = "https://arxiv.org/list/cs.LG/new"
OVERLAY = "#paperlens-overlay"
PRIVATE_TAG = "private-tag-1f3a"
# Demo papers without code links and not on the saved listing: one saved, one not.
SAVED_ELSEWHERE = "arxiv:2502.02390"
NOT_SAVED = "arxiv:1909.03184"

# Everything a page script can see of the extension's elements in the page's own DOM.
PAGE_VIEW = """
() => [...document.querySelectorAll("#paperlens-overlay, .paperlens-badges")].map((host) => {
  const box = host.getBoundingClientRect();
  return {
    tag: host.tagName,
    attributes: [...host.attributes].map((a) => [a.name, a.value]),
    html: host.outerHTML,
    openRoot: host.shadowRoot !== null,
    text: host.innerText + "|" + host.textContent,
    size: [box.width, box.height],
    before: host.previousElementSibling?.getAttribute("href") ?? null,
  };
})
"""


def save(backend: Backend, reader: str, library: list[str], paper_id: str, **fields: Any) -> None:
    api(backend, reader, "PUT", f"/me/library/{paper_id}", {"status": "reading", **fields})
    library.append(paper_id)


def ready_overlay(browser: Browser, url: str = MRL_PAGE) -> tuple[Page, ClosedRoot]:
    page = browser.open(url)
    page.locator(f"{OVERLAY}[data-state=ready]").wait_for(timeout=15_000)
    overlay = ClosedRoot(page)
    overlay.wait_text(".save", "Save|Edit")  # the reading-list part has been drawn
    return page, overlay


def signed_in_overlay(browser: Browser, reader: str) -> tuple[Page, ClosedRoot]:
    """The paper page's overlay, ready, for a reader whose token the extension holds."""
    browser.configure(token=reader)
    return ready_overlay(browser)


def found_by_window_find(page: Page, words: list[str]) -> list[str]:
    return [w for w in words if page.evaluate("w => window.find(w, false, false, true)", w)]


def test_page_script_cannot_read_the_overlay_through_the_dom(
    reader: str, library: list[str], browser: Browser, backend: Backend
) -> None:
    save(backend, reader, library, MRL, tags=[PRIVATE_TAG])
    page, overlay = signed_in_overlay(browser, reader)

    assert page.evaluate("document.getElementById('paperlens-overlay').shadowRoot") is None
    assert overlay.mode() == "closed"
    light_dom = page.evaluate("document.documentElement.outerHTML + document.body.innerText")
    for private in ("★", "Saved", PRIVATE_TAG, "Reading", "Related papers"):
        assert private not in light_dom, private
    # Find-in-page reaches into closed roots; reading-list words there are generated text.
    assert found_by_window_find(page, ["★ Saved", "Edit", "Remove", PRIVATE_TAG]) == []

    # The reader does see them.
    assert overlay.text(".save").startswith("★ Saved · Reading Edit Remove")
    overlay.click(".edit-button")
    assert overlay.texts(".tag-chip > span") == [PRIVATE_TAG]


def test_page_script_cannot_read_saved_state_from_attributes_or_boxes(
    reader: str, library: list[str], browser: Browser, backend: Backend
) -> None:
    """The overlay and the listing badges look the same to the page, saved or not."""
    page, overlay = signed_in_overlay(browser, reader)
    overlay_unsaved = page.evaluate(PAGE_VIEW)
    listing = browser.open(LISTING)
    listing.locator(BADGES).first.wait_for(timeout=15_000)
    badges_unsaved = listing.evaluate(PAGE_VIEW)

    save(backend, reader, library, MRL, tags=[PRIVATE_TAG])
    save(backend, reader, library, "arxiv:2505.11816")  # listed, no code
    page, overlay = ready_overlay(browser)
    assert overlay.text(".saved-mark") == "★ Saved · Reading"
    assert page.evaluate(PAGE_VIEW) == overlay_unsaved
    browser.worker.evaluate("() => chrome.storage.session.clear()")  # saved ids are cached 60 s
    listing = browser.open(LISTING)
    listing.locator(BADGES).first.wait_for(timeout=15_000)
    eventually(lambda: badges_by_paper(listing).get("arxiv:2505.11816") == "★ saved")
    assert listing.evaluate(PAGE_VIEW) == badges_unsaved


def test_page_script_cannot_save_or_remove_with_synthetic_clicks(
    reader: str, library: list[str], browser: Browser, backend: Backend
) -> None:
    page, overlay = signed_in_overlay(browser, reader)
    # What a page can reach: the host, and whatever an open root would have exposed.
    page.evaluate(
        """() => {
          const host = document.getElementById("paperlens-overlay");
          host.click();
          host.dispatchEvent(new MouseEvent("click", { bubbles: true, composed: true }));
          for (const button of host.shadowRoot?.querySelectorAll("button") ?? []) button.click();
        }"""
    )
    # Even holding references to the buttons (handed over by DevTools, as a leak would),
    # script-made clicks do nothing.
    overlay.evaluate(
        "root.querySelector('.save-button').click(),"
        "root.querySelector('.save-button').dispatchEvent("
        "  new MouseEvent('click', { bubbles: true, composed: true }))"
    )
    page.wait_for_timeout(1000)
    assert api(backend, reader, "GET", f"/me/library/{MRL}") is None
    assert backend.requests_to(f"/api/v1/me/library/{MRL}", "PUT") == []

    save(backend, reader, library, MRL)
    page, overlay = ready_overlay(browser)
    overlay.wait_text(".save", "^★ Saved")
    page.evaluate(
        """() => {
          const host = document.getElementById("paperlens-overlay");
          host.shadowRoot?.querySelector(".remove-button")?.click();
        }"""
    )
    overlay.evaluate(
        "root.querySelector('.remove-button').click(),"
        "root.querySelector('.remove-button').dispatchEvent(new MouseEvent('click'))"
    )
    page.wait_for_timeout(1000)
    assert api(backend, reader, "GET", f"/me/library/{MRL}") is not None
    assert backend.requests_to(f"/api/v1/me/library/{MRL}", "DELETE") == []

    # The reader's own click still works.
    overlay.click(".remove-button")
    overlay.wait_text(".save", "^Not in your reading list")
    assert api(backend, reader, "GET", f"/me/library/{MRL}") is None


def test_page_script_cannot_learn_membership_by_injecting_links(
    reader: str, library: list[str], browser: Browser, backend: Backend
) -> None:
    """A listing page adds links to papers it is curious about before the badges are drawn."""
    save(backend, reader, library, SAVED_ELSEWHERE)
    browser.configure(token=reader)
    probes = [SAVED_ELSEWHERE, NOT_SAVED]
    page = browser.context.new_page()
    inject = (
        "addEventListener('DOMContentLoaded', () => { for (const id of PROBES) {"
        " const a = document.createElement('a'); a.href = '/abs/' + id.slice(6);"
        " a.textContent = id; document.body.append(a); } })"
    )
    page.add_init_script(inject.replace("PROBES", json.dumps(probes)))
    page.goto(LISTING)
    page.locator(BADGES).first.wait_for(timeout=15_000)
    shown = eventually(
        lambda: (lambda b: b if SAVED_ELSEWHERE in b and NOT_SAVED in b else None)(
            badges_by_paper(page)
        ),
        message="badges on the injected links",
    )
    assert shown[SAVED_ELSEWHERE] == "★ saved" and shown[NOT_SAVED] == ""  # the reader sees it

    views = {
        view["before"]: {key: value for key, value in view.items() if key != "before"}
        for view in page.evaluate(PAGE_VIEW)
    }
    assert views["/abs/2502.02390"] == views["/abs/1909.03184"]
    assert found_by_window_find(page, ["★", "saved"]) == []


def content_script_world(page: Page, expression: str) -> Any:
    """Evaluate in the extension's content-script world of `page`, via DevTools."""
    cdp = page.context.new_cdp_session(page)
    contexts: list[dict[str, Any]] = []
    cdp.on("Runtime.executionContextCreated", lambda event: contexts.append(event["context"]))
    cdp.send("Runtime.enable")
    world = eventually(
        lambda: next(
            (
                c
                for c in contexts
                if c.get("auxData", {}).get("type") == "isolated"
                and EXTENSION_ID in c.get("origin", "") + c.get("name", "")
            ),
            None,
        ),
        message="the content script's world",
    )
    result = cdp.send(
        "Runtime.evaluate",
        {
            "expression": expression,
            "contextId": world["id"],
            "awaitPromise": True,
            "returnByValue": True,
        },
    )
    assert "exceptionDetails" not in result, result
    return result["result"].get("value")


def test_content_script_world_cannot_read_the_token_or_the_backend_url(
    reader: str, browser: Browser, backend: Backend
) -> None:
    page, _ = signed_in_overlay(browser, reader)
    assert page.evaluate("typeof chrome === 'undefined' || chrome.storage === undefined")
    everything = content_script_world(
        page,
        """(async () => {
          const local = await chrome.storage.local.get(null);
          let session = "unreadable";
          try { session = await chrome.storage.session.get(null); } catch (e) {}
          const names = (await indexedDB.databases()).map((d) => d.name);
          return JSON.stringify({ local, session, names });
        })()""",
    )
    assert reader not in everything
    assert reader[-20:] not in everything
    assert backend.url not in everything
    assert "paperlens" not in json.loads(everything)["names"]
    # The background still has both, where only extension pages can read them.
    assert browser.connection()["token"] == reader


def test_a_token_left_in_storage_local_by_an_older_version_moves_out_of_reach(
    reader: str, browser: Browser, backend: Backend
) -> None:
    # As an older version left it: no connection store, the token in storage.local. (Wait for
    # this version's own first-start migration to finish first, so that it cannot interleave.)
    eventually(lambda: browser.connection().get("migratedFromStorageLocal"), message="first start")
    browser.worker.evaluate(
        "() => new Promise((r) => { indexedDB.deleteDatabase('paperlens').onsuccess = r; })"
    )
    browser.worker.evaluate(
        "values => chrome.storage.local.set(values)", {"backendUrl": backend.url, "token": reader}
    )
    _, overlay = ready_overlay(browser)
    assert overlay.text(".save").startswith("Not in your reading list")  # the token worked
    assert browser.worker.evaluate("() => chrome.storage.local.get(['backendUrl', 'token'])") == {}
    moved = browser.connection()
    assert (moved["backendUrl"], moved["token"]) == (backend.url, reader)
    # Written there again later (by a content script), it is not read again.
    browser.worker.evaluate(
        "() => chrome.storage.local.set({backendUrl: 'http://127.0.0.1:9', token: 'x'})"
    )
    _, overlay = ready_overlay(browser)
    assert overlay.text(".save").startswith("Not in your reading list")
    assert browser.connection()["backendUrl"] == backend.url


def test_content_script_world_cannot_ask_the_background_about_other_papers(
    reader: str, library: list[str], browser: Browser, backend: Backend
) -> None:
    """Code running as the content script (a compromised renderer) asks for what it may not."""
    save(backend, reader, library, SAVED_ELSEWHERE, tags=[PRIVATE_TAG])
    page, _ = signed_in_overlay(browser, reader)
    backend.seen.clear()
    answers = content_script_world(
        page,
        """(async () => {
          const ask = (message) => chrome.runtime.sendMessage(message);
          const other = "OTHER";
          return JSON.stringify([
            await ask({ type: "library/get", paperId: other }),
            await ask({ type: "library/save", paperId: other, status: "done", tags: [] }),
            await ask({ type: "library/remove", paperId: other }),
            await ask({ type: "library/list" }),
            await ask({ type: "suggestions/list" }),
            await ask({ type: "listing/lookup", hrefs: ["https://arxiv.org/abs/2502.02390"] }),
            await ask({ type: "options/test", backendUrl: "http://127.0.0.1:9", token: "x" }),
            await ask({ type: "paper/lookup", page: { url: "https://arxiv.org/abs/2502.02390" } }),
          ]);
        })()""".replace("OTHER", SAVED_ELSEWHERE),
    )
    *refused, lookup = json.loads(answers)
    assert [a["error"]["kind"] for a in refused] == ["forbidden"] * 7, refused
    assert lookup["ok"] and lookup["paper_id"] == MRL  # the page's own paper, whatever was asked
    assert backend.requests_to("/api/v1/me/") == []
    assert api(backend, reader, "GET", f"/me/library/{SAVED_ELSEWHERE}")["tags"] == [PRIVATE_TAG]


def test_the_token_survives_a_browser_restart(reader: str, browser: Browser) -> None:
    """Kept out of content scripts' reach, the token must still not log the reader out."""
    browser.configure(token=reader)
    browser.restart()
    assert browser.connection()["token"] == reader
    _, overlay = ready_overlay(browser)
    assert overlay.text(".save").startswith("Not in your reading list")
