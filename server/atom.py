"""The research feed as Atom 1.0 (RFC 4287) at ``/feeds/<token>.atom``, for feed readers.

No bearer token: the feed token in the path is the credential (read-only, separate from
API tokens, made and revoked from ``/api/v1/me/feed-token``). Request logs and metrics
name the route pattern only, so the token is never written down. An unknown or revoked
token answers 404, as a feed that does not exist.

The document is built with ElementTree, which escapes what it writes; characters XML 1.0
cannot hold at all (most control characters) are dropped first, so that a hostile title
still gives a well-formed feed.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET

from flask import Blueprint, Response, request

from paperlens import feeds
from paperlens.formats.records import landing_page
from paperlens.schemas import FeedItem, StoredFeed
from paperlens.store import library
from paperlens.store.feed_settings import feed_token_reader
from server.errors import ApiError
from server.services import services

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# A feed reader shows the newest entries; older ones stay in the API's pages.
ATOM_ENTRIES_MAX = 100
# Entry ids name the paper, feed ids the reader: stable whatever the token, never the
# reader's number in clear.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://paperlens.invalid/feeds")
# Characters XML 1.0 does not allow anywhere, escaped or not.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

bp = Blueprint("atom", __name__)


@bp.get("/feeds/<token>.atom")
def atom_feed(token: str) -> Response:
    svc = services()
    with svc.db.session() as session:
        reader_id = feed_token_reader(session, token)
        if reader_id is None:
            raise ApiError(404, "not_found", "No feed at this address.")
        settled = library.settled_ids(session, reader_id)
    stored = feeds.read(svc.redis, reader_id)
    xml = render(reader_id, stored, settled, request.url)
    return Response(xml, content_type=CONTENT_TYPE)


def render(reader_id: int, stored: StoredFeed | None, settled: set[str], self_url: str) -> bytes:
    """The Atom document of the reader's feed, newest entries first."""
    items: list[FeedItem] = []
    if stored is not None:
        items, _ = feeds.page(stored, settled, since=None, cursor=None, limit=ATOM_ENTRIES_MAX)
    updated = stored.computed_at if stored is not None else dt.datetime.now(dt.UTC)
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(_tag("feed"))
    _text(root, "id", _urn(f"reader:{reader_id}"))
    _text(root, "title", "PaperLens: new papers for your reading list")
    _text(root, "updated", _when(updated))
    ET.SubElement(root, _tag("link"), rel="self", type="application/atom+xml", href=self_url)
    author = ET.SubElement(root, _tag("author"))
    _text(author, "name", "PaperLens")
    for item in items:
        root.append(_entry(item))
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _entry(item: FeedItem) -> ET.Element:
    entry = ET.Element(_tag("entry"))
    _text(entry, "id", _urn(f"paper:{item.paper_id}"))
    _text(entry, "title", item.title)
    _text(entry, "updated", _when(item.added_at))
    if item.published is not None:
        _text(entry, "published", f"{item.published.isoformat()}T00:00:00Z")
    link = landing_page(item.paper_id) or f"{request.host_url}api/v1/papers/{item.paper_id}"
    ET.SubElement(entry, _tag("link"), rel="alternate", href=_clean(link))
    for name in filter(None, (_clean(author).strip() for author in item.authors)):
        _text(ET.SubElement(entry, _tag("author")), "name", name)
    _text(entry, "summary", item.reason)
    return entry


def _text(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, _tag(name)).text = _clean(value)


def _tag(name: str) -> str:
    return f"{{{ATOM_NS}}}{name}"


def _clean(value: str) -> str:
    return _NOT_XML.sub("", value)


def _urn(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, name)}"


def _when(moment: dt.datetime) -> str:
    """RFC 3339 in UTC, as Atom's date constructs want."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
