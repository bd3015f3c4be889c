"""Structured logs for every process, with the request id that caused the work.

A request id travels from the API into the jobs it enqueues (in the job's meta),
so one reader's slow overlay can be followed from the HTTP request to the worker.
Log lines name endpoints and ids of papers, never tokens, notes or reading lists.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.orjson import OrjsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def new_request_id(offered: str | None = None) -> str:
    """Keep a caller's well-formed id (a proxy's, say); otherwise make one."""
    if offered and _VALID_REQUEST_ID.fullmatch(offered):
        return offered
    return secrets.token_hex(16)  # 128 random bits, for a fraction of uuid4()'s cost


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class _TextFormatter(logging.Formatter):
    """Lines for a person: the request id only on lines that belong to a request."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


def configure(level: str, log_format: str, stream: TextIO | None = None) -> None:
    """One handler on the root logger: JSON lines for log collectors, text for a terminal.

    ``auto`` tells them apart by whether the stream is a terminal, so that ``make run``
    reads well and a container's output stays machine-readable.
    """
    target = stream or sys.stderr
    handler = logging.StreamHandler(target)
    handler.addFilter(_RequestIdFilter())
    if log_format == "auto":
        log_format = "text" if target.isatty() else "json"
    if log_format == "json":
        handler.setFormatter(
            OrjsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
