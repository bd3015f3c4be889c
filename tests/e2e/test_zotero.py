"""Send to Zotero from the popup and from the library page's selection, against a stand-in that
records what Zotero would receive: Zotero desktop's connector when it answers its ping, else the
Zotero Web API with the key."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from paperlens import enrichments
from paperlens.schemas import PublishedVersion
from tests.e2e.conftest import EXTENSION_DIR, EXTENSION_ID, Backend, Browser, api
from tests.e2e.visible import MRL_TITLE, visible_text
from tests.support import eventually
from tests.zotero_stand_in import ZoteroStandIn, closed_port_url

MRL = "arxiv:2205.13147"
MRL_PAGE = "https://arxiv.org/abs/2205.13147"
MRL_CODE = "https://github.com/RAIVNLab/MRL"
SECOND = "arxiv:2506.05426"
USER_ID = "424242"
API_KEY = "stand-in-zotero-key"
NEURIPS = PublishedVersion(
    venue="NeurIPS",
    year=2022,
    doi="10.5555/3600270.3602467",
    pages="30233-30249",
    entry_type="inproceedings",
    source="dblp",
)


@pytest.fixture
def extension_dir(tmp_path: Path) -> Path:
    """The extension with the host access a reader grants on the first send already granted:
    a headless browser cannot click the permission prompt, and a granted request asks nothing."""
    copy = tmp_path / "extension"
    shutil.copytree(EXTENSION_DIR, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["host_permissions"].append("http://127.0.0.1/*")
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return copy


@pytest.fixture
def stand_in() -> Iterator[ZoteroStandIn]:
    server = ZoteroStandIn(api_key=API_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def published(backend: Backend) -> Iterator[None]:
    """MRL's document names its published version, as DBLP would have given it, and its first
    authors (the demo corpus counts them only)."""
    stored = enrichments.read(backend.redis, MRL)
    assert stored is not None and stored.code
    update = {"published_version": NEURIPS, "authors": ["Aditya Kusupati", "Gantavya Bhatt"]}
    enrichments.write(backend.redis, stored.model_copy(update=update))
    yield
    enrichments.write(backend.redis, stored)


def point_at(browser: Browser, stand_in: ZoteroStandIn, *, connector_running: bool) -> None:
    """The reader's Zotero credentials, and both routes pointed at the stand-in (or the connector
    at a closed port: Zotero desktop that is not running)."""
    browser.configure(
        zoteroConnectorUrl=stand_in.url if connector_running else closed_port_url(),
        zoteroApiUrl=stand_in.url,
        zoteroUserId=USER_ID,
        zoteroKey=API_KEY,
    )


def send_from_popup(browser: Browser) -> Page:
    tab = browser.open(MRL_PAGE)
    popup = browser.popup(tab)
    button = popup.get_by_role("button", name="Send to Zotero")
    button.click(timeout=15_000)
    return popup


def status_line(popup: Page) -> str:
    return popup.locator(".zotero-status").inner_text()


def assert_mrl_item(item: dict[str, Any]) -> None:
    """Title, published version, arXiv id and abstract: what the reader sends."""
    assert item["title"] == MRL_TITLE
    assert item["itemType"] == "conferencePaper"
    assert item["proceedingsTitle"] == "NeurIPS"
    assert item["DOI"] == NEURIPS.doi
    assert item["pages"] == "30233-30249"
    assert item["date"] == "2022"
    assert item["extra"] == "arXiv: 2205.13147"
    assert item["url"] == MRL_PAGE
    assert item["abstractNote"].startswith("Learned representations")
    assert item["creators"] == [
        {"creatorType": "author", "firstName": "Aditya", "lastName": "Kusupati"},
        {"creatorType": "author", "firstName": "Gantavya", "lastName": "Bhatt"},
    ]


def test_with_zotero_desktop_running_the_paper_goes_to_its_connector(
    browser: Browser, backend: Backend, stand_in: ZoteroStandIn, published: None
) -> None:
    point_at(browser, stand_in, connector_running=True)
    popup = send_from_popup(browser)
    assert eventually(
        lambda: status_line(popup) == "✓ Sent 1 of 1 to Zotero desktop.", message="sent"
    )

    assert [(r.method, r.path) for r in stand_in.requests] == [
        ("GET", "/connector/ping"),
        ("POST", "/connector/saveItems"),
    ]
    save = stand_in.requests[1]
    assert save.headers["x-zotero-connector-api-version"] == "3"
    assert save.headers["content-type"] == "application/json"
    assert "zotero-api-key" not in save.headers  # the key is for the Web API only
    [item] = save.body["items"]
    assert_mrl_item(item)
    assert item["attachments"] == [
        {"title": "Code", "url": MRL_CODE, "mimeType": "text/html", "snapshot": False}
    ]
    # The backend was asked for the paper by id, and learned nothing of Zotero.
    assert all("zotero" not in seen.path.lower() for seen in backend.seen)


def test_without_zotero_desktop_the_paper_goes_to_the_web_api_with_the_key(
    browser: Browser, backend: Backend, stand_in: ZoteroStandIn, published: None
) -> None:
    point_at(browser, stand_in, connector_running=False)
    popup = send_from_popup(browser)
    assert eventually(lambda: status_line(popup) == "✓ Sent 1 of 1 to zotero.org.", message="sent")

    writes = stand_in.to(f"/users/{USER_ID}/items")
    assert [r.method for r in writes] == ["POST", "POST"]  # the item, then its code link
    assert stand_in.to("/connector") == []
    for write in writes:
        assert write.headers["zotero-api-key"] == API_KEY
        assert write.headers["zotero-api-version"] == "3"
    [item] = writes[0].body
    assert_mrl_item(item)
    [attachment] = writes[1].body
    assert attachment == {
        "itemType": "attachment",
        "parentItem": "STAND001",  # the key the first answer gave the item
        "linkMode": "linked_url",
        "title": "Code",
        "url": MRL_CODE,
    }
    assert all(API_KEY not in seen.path for seen in backend.seen)


def test_a_library_selection_is_sent_in_one_message_with_a_result_per_paper(
    browser: Browser, stand_in: ZoteroStandIn
) -> None:
    point_at(browser, stand_in, connector_running=False)
    page = browser.popup()
    answer = page.evaluate(
        "ids => chrome.runtime.sendMessage({type: 'zotero/send', paperIds: ids})",
        [MRL, SECOND, "arxiv:0000.00000"],
    )
    assert answer["ok"] is True and answer["route"] == "web_api"
    results = {r["paper_id"]: r for r in answer["results"]}
    assert results[MRL]["ok"] and results[SECOND]["ok"]
    unknown = results["arxiv:0000.00000"]
    assert unknown["ok"] is False and unknown["message"]
    [parents, *_] = stand_in.to(f"/users/{USER_ID}/items")
    assert [item["extra"] for item in parents.body] == ["arXiv: 2205.13147", "arXiv: 2506.05426"]
    assert answer["line"].startswith("✓ Sent 2 of 3 to zotero.org; arxiv:0000.00000:")


def test_the_library_page_sends_the_selected_rows_to_zotero_desktop(
    browser: Browser,
    backend: Backend,
    reader: str,
    library: list[str],
    stand_in: ZoteroStandIn,
) -> None:
    for paper_id in (MRL, SECOND):
        api(backend, reader, "PUT", f"/me/library/{paper_id}", {"tags": ["to-cite"]})
        library.append(paper_id)
    point_at(browser, stand_in, connector_running=True)
    browser.configure(token=reader)
    page = browser.open(f"chrome-extension://{EXTENSION_ID}/library/library.html")
    page.locator("#rows[data-state=ready]").wait_for(timeout=15_000)
    for paper_id in (MRL, SECOND):
        page.locator(f'#rows tr[data-paper-id="{paper_id}"] input[type=checkbox]').check()
    expect(page.locator("#selected-count")).to_have_text("2 selected")

    page.get_by_role("button", name="Send to Zotero").click()
    expect(page.locator("#notice")).to_have_text("✓ Sent 2 of 2 to Zotero desktop.", timeout=15_000)
    assert visible_text(page, "#notice") == "✓ Sent 2 of 2 to Zotero desktop."
    [save] = stand_in.to("/connector/saveItems")
    extras = sorted(item["extra"] for item in save.body["items"])
    assert extras == ["arXiv: 2205.13147", "arXiv: 2506.05426"]
    assert MRL_TITLE in {item["title"] for item in save.body["items"]}


def test_without_zotero_desktop_or_credentials_the_popup_says_what_to_set(
    browser: Browser, stand_in: ZoteroStandIn
) -> None:
    browser.configure(zoteroConnectorUrl=closed_port_url(), zoteroApiUrl=stand_in.url)
    popup = send_from_popup(browser)
    assert eventually(
        lambda: "no Zotero user id and API key are set" in status_line(popup), message="told"
    )
    assert stand_in.requests == []


def test_the_options_keep_the_zotero_key_hidden_and_out_of_content_scripts_reach(
    browser: Browser,
) -> None:
    options = browser.open(f"chrome-extension://{EXTENSION_ID}/options/options.html")
    key, toggle = (
        options.get_by_label("Zotero API key"),
        options.get_by_role("button", name="Show key"),
    )
    options.get_by_label("Zotero user id").fill(" 424242 ")
    key.fill(API_KEY)
    expect(key).to_have_attribute("type", "password")
    toggle.click()
    expect(key).to_have_attribute("type", "text")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(key).to_have_attribute("type", "password")
    options.locator("#save").click()
    expect(options.locator("#report")).to_have_text("✓ Saved.")

    stored = browser.connection()
    assert stored["zoteroUserId"] == USER_ID and stored["zoteroKey"] == API_KEY
    local = browser.worker.evaluate("() => chrome.storage.local.get(null)")
    assert API_KEY not in json.dumps(local)
    again = browser.open(f"chrome-extension://{EXTENSION_ID}/options/options.html")
    expect(again.get_by_label("Zotero user id")).to_have_value(USER_ID)
    expect(again.get_by_label("Zotero API key")).to_have_value(API_KEY)
