"""The extension's library page: the reading list as a table, filtered, edited in bulk with
Undo, and fed by an import whose report says what was added, merged and refused."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from playwright.sync_api import FilePayload, Locator, Page, expect

from tests.e2e.conftest import EXTENSION_ID, Backend, Browser, api

MRL = "arxiv:2205.13147"
MOE = ["arxiv:2506.05426", "arxiv:2310.01334"]
OTHER = "arxiv:2507.23279"
IMPORTED = "arxiv:2402.00001"

BIBTEX = """
@article{known, title={Matryoshka Representation Learning}, eprint={2205.13147},
  archivePrefix={arXiv}, year={2022}, keywords={imported}}
@article{fresh, title={A Paper From A File}, eprint={2402.00001}, archivePrefix={arXiv},
  year={2024}}
@misc{empty, note={nothing that names a paper}}
"""


def _fill(backend: Backend, reader: str, library: list[str]) -> dict[str, str]:
    """A reader's list of four papers; answers their titles as the page shows them."""
    api(backend, reader, "PUT", f"/me/library/{MRL}", {"tags": ["embeddings"]})
    for paper_id in MOE:
        api(backend, reader, "PUT", f"/me/library/{paper_id}", {"tags": ["moe"], "note": "routing"})
    api(backend, reader, "PUT", f"/me/library/{OTHER}", {"status": "reading"})
    library.extend([MRL, *MOE, OTHER, IMPORTED])
    items = api(backend, reader, "GET", "/me/library")["items"]
    return {item["paper_id"]: item["title"] or item["saved_as"] for item in items}


def _open(browser: Browser) -> Page:
    page = browser.open(f"chrome-extension://{EXTENSION_ID}/library/library.html")
    page.locator("#rows[data-state=ready]").wait_for(timeout=15_000)
    return page


def _shown(page: Page) -> list[str]:
    rows = page.locator("#rows tr")
    return sorted(rows.nth(i).get_attribute("data-paper-id") or "" for i in range(rows.count()))


def _row(page: Page, paper_id: str) -> Locator:
    return page.locator(f'#rows tr[data-paper-id="{paper_id}"]')


def test_the_library_page_filters_by_tag_status_and_search(
    reader: str, library: list[str], browser: Browser, backend: Backend, artifacts: Path
) -> None:
    titles = _fill(backend, reader, library)
    browser.configure(token=reader)
    page = _open(browser)
    rows = page.locator("#rows")
    for title in titles.values():
        expect(rows).to_contain_text(title)
    expect(page.locator("#count")).to_have_text("4 shown")

    page.locator("#tag-filter").select_option("moe")
    expect(page.locator("#count")).to_have_text("2 shown")
    assert _shown(page) == sorted(MOE)
    expect(rows).not_to_contain_text(titles[MRL])

    page.locator("#tag-filter").select_option("")
    page.locator("#status-filter").select_option("reading")
    expect(page.locator("#count")).to_have_text("1 shown")
    expect(rows).to_contain_text(titles[OTHER])

    page.locator("#status-filter").select_option("")
    page.locator("#search").fill("matryoshka")
    expect(page.locator("#count")).to_have_text("1 shown")
    expect(rows).to_contain_text(titles[MRL])
    page.locator("#search").fill("EMBEDDINGS")  # a tag is searched too
    expect(page.locator("#count")).to_have_text("1 shown")
    page.locator("#search").fill("no such paper anywhere")
    expect(page.locator("#empty")).to_have_text("Nothing saved matches.")
    page.locator("#search").fill("")
    expect(page.locator("#count")).to_have_text("4 shown")

    # Inline edit: the status select saves on change, without reloading the table.
    _row(page, MRL).get_by_label(f"Status of {titles[MRL]}").select_option("done")
    expect(_row(page, MRL).get_by_label(f"Status of {titles[MRL]}")).to_have_value("done")
    expect(page.locator("#notice")).to_have_text(f"Saved {titles[MRL]}.")
    assert api(backend, reader, "GET", f"/me/library/{MRL}")["status"] == "done"
    note = _row(page, MRL).get_by_label(f"Note on {titles[MRL]}")
    note.fill("nested embeddings")
    note.press("Tab")  # a note is saved when focus leaves it
    page.locator("#search").fill("nested")  # notes are searched: the note reached the backend
    expect(page.locator("#count")).to_have_text("1 shown")
    expect(page.locator("#rows")).to_contain_text(titles[MRL])
    page.locator("#search").fill("")
    expect(page.locator("#count")).to_have_text("4 shown")

    page.emulate_media(color_scheme="light")
    page.screenshot(path=str(artifacts / "library-light.png"), full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(artifacts / "library-dark.png"), full_page=True)


def test_bulk_status_and_delete_with_undo(
    reader: str, library: list[str], browser: Browser, backend: Backend
) -> None:
    titles = _fill(backend, reader, library)
    browser.configure(token=reader)
    page = _open(browser)
    for paper_id in MOE:
        page.get_by_label(f"Select {titles[paper_id]}").check()
    expect(page.locator("#selected-count")).to_have_text("2 selected")

    page.locator("#bulk-status").select_option("done")
    page.locator("#bulk-status-apply").click()
    expect(page.locator("#notice")).to_have_text("Set status Done on 2 of 2 entries.")
    page.locator("#bulk-tag").fill("to cite")
    page.locator("#bulk-tag-add").click()
    expect(page.locator("#notice")).to_have_text("Added tag to cite on 2 of 2 entries.")
    for paper_id in MOE:
        entry = api(backend, reader, "GET", f"/me/library/{paper_id}")
        assert entry["status"] == "done" and entry["tags"] == ["moe", "to cite"]

    page.locator("#bulk-delete").click()
    expect(page.locator("#notice")).to_have_text("Deleted 2 entries. Undo")
    expect(page.locator("#count")).to_have_text("2 shown")
    expect(page.locator("#rows")).not_to_contain_text(titles[MOE[0]])
    assert all(api(backend, reader, "GET", f"/me/library/{p}") is None for p in MOE)

    expect(page.locator("#undo")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#notice")).to_have_text("Restored 2 entries.")
    expect(page.locator("#count")).to_have_text("4 shown")
    for paper_id in MOE:
        expect(page.locator("#rows")).to_contain_text(titles[paper_id])
        entry = api(backend, reader, "GET", f"/me/library/{paper_id}")
        assert entry["status"] == "done" and entry["tags"] == ["moe", "to cite"]
        assert entry["note"] == "routing"


def test_import_reports_what_was_added_merged_and_refused(
    reader: str, library: list[str], browser: Browser, backend: Backend
) -> None:
    _fill(backend, reader, library)
    browser.configure(token=reader)
    page = _open(browser)
    page.locator("#import-file").set_input_files(
        files=FilePayload(name="refs.bib", mimeType="text/plain", buffer=BIBTEX.encode())
    )
    page.locator("#import").click()
    report = page.locator("#import-report")
    expect(report).to_contain_text("refs.bib: Added 1, merged 1, refused 1.")
    expect(report.locator(".refused")).to_have_text(re.compile(r"^empty: .+"))
    expect(page.locator("#count")).to_have_text("5 shown")
    expect(page.locator("#rows")).to_contain_text("A Paper From A File")
    assert "imported" in api(backend, reader, "GET", f"/me/library/{MRL}")["tags"]


def test_load_more_pages_and_export_of_the_selection(
    reader: str, library: list[str], browser: Browser, backend: Backend, artifacts: Path
) -> None:
    ids = [f"arxiv:2403.{n:05d}" for n in range(1, 56)]
    listed = "\n".join(ids) + "\n"
    token_auth = {"Authorization": f"Bearer {reader}", "Content-Type": "text/plain"}
    request = urllib.request.Request(
        f"{backend.url}/api/v1/me/library/import?format=ids",
        data=listed.encode(),
        headers=token_auth,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["saved"] == 55
    library.extend(ids)
    browser.configure(token=reader)
    page = _open(browser)
    expect(page.locator("#count")).to_have_text("50 shown (more to load)")
    page.locator("#more").click()
    expect(page.locator("#count")).to_have_text("55 shown")
    expect(page.locator("#more")).to_be_hidden()

    for paper_id in ids[:2]:
        _row(page, paper_id).get_by_role("checkbox").check()
    page.locator("#export-format").select_option("ris")
    with page.expect_download() as download:
        page.locator("#export-selected").click()
    assert download.value.suggested_filename == "paperlens-selection.ris"
    saved = artifacts / "library-selection.ris"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert text.count("ER  -") == 2 and "2403.00001" in text and "2403.00002" in text
    expect(page.locator("#notice")).to_have_text("Exported paperlens-selection.ris.")
