"""A stand-in for Zotero's two doors, recording every request it gets.

It answers like Zotero desktop's connector server (``GET /connector/ping``, ``POST
/connector/saveItems`` taking translator item JSON, 201 on success) and like the Zotero Web API
v3 (``POST /users/<id>/items`` taking a JSON array of at most 50 items with the key in
``Zotero-API-Key`` or ``Authorization: Bearer``, answering 200 with ``successful`` /
``success`` / ``unchanged`` / ``failed`` maps keyed by the item's index). Tests point the
extension at it and read what arrived.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WEB_API_MAX_ITEMS = 50
USER_ITEMS = re.compile(r"^/users/(\d+)/items$")


@dataclass
class Recorded:
    """One request as the stand-in received it; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ZoteroStandIn:
    """The server; ``api_key`` is the one Web API key it accepts."""

    api_key: str
    requests: list[Recorded] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _next_key: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> ZoteroStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stand_in._record(self, None)
                if self.path == "/connector/ping":
                    self._answer(200, "text/plain", b"Zotero is running")
                else:
                    self._answer(404, "text/plain", b"No endpoint found")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                stand_in._record(self, body)
                status, answer = stand_in._answer_post(self.path, self.headers, body)
                data = b"" if answer is None else json.dumps(answer).encode()
                self._answer(status, "application/json", data)

            def _answer(self, status: int, content_type: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read ``requests`` instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def to(self, path: str) -> list[Recorded]:
        """The requests whose path starts with ``path``, in arrival order."""
        return [r for r in self.requests if r.path.startswith(path)]

    def _record(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        with self._lock:
            self.requests.append(Recorded(handler.command, handler.path, headers, body))

    def _answer_post(self, path: str, headers: Any, body: Any) -> tuple[int, Any]:
        if path == "/connector/saveItems":
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                return 400, None
            return 201, None
        if USER_ITEMS.match(path):
            return self._write_items(headers, body)
        return 404, None

    def _write_items(self, headers: Any, body: Any) -> tuple[int, Any]:
        bearer = str(headers.get("Authorization") or "").removeprefix("Bearer ")
        if self.api_key not in (headers.get("Zotero-API-Key"), bearer):
            return 403, {"message": "Forbidden"}
        if not isinstance(body, list):
            return 400, {"message": "Uploaded data must be a JSON array"}
        if len(body) > WEB_API_MAX_ITEMS:
            return 413, {"message": f"Only {WEB_API_MAX_ITEMS} objects can be saved at once"}
        successful: dict[str, Any] = {}
        failed: dict[str, Any] = {}
        for index, item in enumerate(body):
            if not isinstance(item, dict) or not item.get("itemType"):
                failed[str(index)] = {
                    "key": "",
                    "code": 400,
                    "message": "'itemType' property not provided",
                }
                continue
            with self._lock:
                self._next_key += 1
                key = f"STAND{self._next_key:03d}"
            successful[str(index)] = {"key": key, "version": 1, "data": {**item, "key": key}}
        answer = {
            "successful": successful,
            "success": {index: value["key"] for index, value in successful.items()},
            "unchanged": {},
            "failed": failed,
        }
        return 200, answer


def closed_port_url() -> str:
    """An address where nothing listens: Zotero desktop that is not running."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
