"""The reader's list: save, change, remove and list papers; tags; export and import.

Every write is committed to the SQL store before the answer is sent, and none of
them needs Redis: recomputing suggestions and fetching metadata are queued afterwards.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from redis.exceptions import RedisError

from paperlens import enrichments
from paperlens.formats.bibtex import parse_bibtex, to_bibtex
from paperlens.formats.csljson import to_csljson
from paperlens.formats.csv_table import to_csv
from paperlens.formats.idlist import parse_id_lines
from paperlens.formats.limits import ImportRefused
from paperlens.formats.records import ExportRecord, export_records
from paperlens.formats.ris import to_ris
from paperlens.schemas import (
    ExportFormat,
    ExportParams,
    ExportSelection,
    ImportParams,
    ImportReport,
    LibraryEntryWrite,
    LibraryListParams,
    LibraryPage,
    PublishedVersion,
    TagCount,
    TagCounts,
)
from paperlens.store import library
from paperlens.store.library import EntryChanges, InvalidCursor, LibraryFull
from paperlens.store.papers import canonical_ids
from server import inputs
from server.answers import json_answer
from server.auth import current_reader, protect
from server.errors import ApiError
from server.me_common import after_change, remove
from server.services import services

log = logging.getLogger(__name__)

bp = Blueprint("library", __name__, url_prefix="/api/v1/me")
protect(bp)

EXPORT_TYPES = {
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "csljson": ("application/vnd.citationstyles.csl+json", "json"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
    "csv": ("text/csv; charset=utf-8", "csv"),
}


@bp.get("/library")
def list_library() -> Response:
    params = inputs.query(LibraryListParams)
    with services().db.session() as session:
        try:
            page, next_cursor = library.list_entries(session, current_reader().id, params)
        except InvalidCursor as error:
            raise ApiError(422, "invalid_cursor", str(error)) from None
        body = LibraryPage(items=[saved.item() for saved in page], next_cursor=next_cursor)
    return json_answer(body)


@bp.get("/library/<path:paper_id>")
def get_entry(paper_id: str) -> Response:
    wanted = inputs.paper_id(paper_id)
    with services().db.session() as session:
        found = library.get_entry(session, current_reader().id, wanted)
        if found is None:
            raise _not_saved(wanted)
        item = found.item()
    return json_answer(item)


@bp.put("/library/<path:paper_id>")
def save_entry(paper_id: str) -> Response:
    wanted = inputs.paper_id(paper_id)
    body = inputs.json_body(LibraryEntryWrite, allow_empty=True)
    reader = current_reader()
    svc = services()
    with svc.db.session() as session:
        try:
            saved, created = library.save_entry(
                session,
                reader.id,
                wanted,
                _changes(body),
                max_entries=svc.settings.library_max_entries,
            )
        except LibraryFull as full:
            raise ApiError(409, "library_full", str(full)) from None
        item = saved.item()
    after_change(reader.id, fetch=[] if item.known else [item.saved_as])
    return json_answer(item, status=201 if created else 200)


@bp.patch("/library/<path:paper_id>")
def change_entry(paper_id: str) -> Response:
    wanted = inputs.paper_id(paper_id)
    body = inputs.json_body(LibraryEntryWrite)
    if not body.model_fields_set:
        raise ApiError(422, "nothing_to_change", "Give at least one of status, tags and note.")
    reader = current_reader()
    with services().db.session() as session:
        saved = library.update_entry(session, reader.id, wanted, _changes(body))
        if saved is None:
            raise _not_saved(wanted)
        item = saved.item()
    after_change(reader.id)
    return json_answer(item)


@bp.delete("/library/<path:paper_id>")
def delete_entry(paper_id: str) -> Response:
    return remove(paper_id, library.delete_entry, _not_saved)


@bp.get("/tags")
def tags() -> Response:
    with services().db.session() as session:
        counts = library.tag_counts(session, current_reader().id)
    return json_answer(TagCounts(items=[TagCount(tag=t, count=n) for t, n in counts]))


@bp.get("/library/export")
def export() -> Response:
    params = inputs.query(ExportParams)
    with services().db.session() as session:
        saved = library.all_entries(session, current_reader().id, params.tag)
        records = export_records(saved, _published_versions([item.paper_id for item in saved]))
    return _export_answer(records, params.format, params.tag or "library")


@bp.post("/library/export")
def export_selection() -> Response:
    """The entries a reader picked, in one format: too many ids for a query string."""
    params = inputs.query(ExportParams)
    body = inputs.json_body(ExportSelection)
    wanted = [inputs.paper_id(paper_id) for paper_id in body.ids]
    with services().db.session() as session:
        saved = library.selected_entries(session, current_reader().id, wanted)
        records = export_records(saved, _published_versions([item.paper_id for item in saved]))
    return _export_answer(records, params.format, "selection")


def _export_answer(records: list[ExportRecord], wanted: ExportFormat, name: str) -> Response:
    if wanted == "bibtex":
        body: str | bytes = to_bibtex(records)
    elif wanted == "csljson":
        body = to_csljson(records)
    elif wanted == "ris":
        body = to_ris(records)
    else:
        body = to_csv(records)
    content_type, suffix = EXPORT_TYPES[wanted]
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = _attachment(f"paperlens-{name}.{suffix}")
    return response


def _published_versions(paper_ids: list[str]) -> dict[str, PublishedVersion]:
    """What the enrichment documents say each preprint became; none while Redis is down, so
    an export never needs Redis (its entries are then the preprints, as before)."""
    try:
        return enrichments.read_published_versions(services().redis, paper_ids)
    except RedisError as error:
        log.warning("export without published versions (redis unavailable): %s", error)
        return {}


@bp.post("/library/import")
def import_file() -> Response:
    params = inputs.query(ImportParams)
    svc = services()
    text = _body_text(svc.settings.import_max_bytes)
    parse = parse_bibtex if params.format == "bibtex" else parse_id_lines
    try:
        candidates = parse(text, max_items=svc.settings.import_max_items)
    except ImportRefused as refused:
        raise ApiError(422, refused.code, refused.message) from None
    if not candidates:
        raise ApiError(422, "nothing_to_import", "The file holds no entry or id.")
    reader = current_reader()
    with svc.db.session() as session:
        items = library.import_candidates(
            session,
            reader.id,
            candidates,
            extra_tags=[params.tag] if params.tag else [],
            max_entries=svc.settings.library_max_entries,
        )
        saved_ids = {item.paper_id for item in items if item.outcome == "saved" and item.paper_id}
        unknown = sorted(saved_ids - set(canonical_ids(session, saved_ids)))
    after_change(reader.id, fetch=unknown)
    report = ImportReport(
        saved=sum(item.outcome == "saved" for item in items),
        merged=sum(item.outcome == "merged" for item in items),
        skipped=sum(item.outcome == "skipped" for item in items),
        items=items,
    )
    return json_answer(report)


def _changes(body: LibraryEntryWrite) -> EntryChanges:
    given = body.model_fields_set
    return EntryChanges(
        status=body.status if "status" in given else None,
        tags=body.tags if "tags" in given else None,
        note=body.note if "note" in given else None,
    )


def _body_text(max_bytes: int) -> str:
    """The request body as text; larger than ``max_bytes`` is refused before it is read."""
    too_large = ApiError(413, "too_large", f"Import files hold at most {max_bytes} bytes.")
    if (request.content_length or 0) > max_bytes:
        raise too_large
    raw = request.get_data(cache=False)
    if len(raw) > max_bytes:
        raise too_large
    if not raw.strip():
        raise ApiError(422, "empty_body", "Send the file to import as the request body.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(422, "not_utf8", "The file is not UTF-8 text; save it as UTF-8.") from None
    if "\x00" in text:
        raise ApiError(422, "not_text", "The file holds NUL characters: it is not a text file.")
    return text


def _not_saved(paper_id: str) -> ApiError:
    return ApiError(404, "not_saved", f"{paper_id} is not on your reading list.")


def _attachment(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return f'attachment; filename="{safe}"'
