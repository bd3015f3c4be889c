"""Logs for people and for machines, with the request id that caused the work.

On a terminal each line reads as a sentence with its details after it; anywhere else
(a container, a file, a log collector) each line is one JSON object.
``PAPERLENS_LOG_FORMAT`` (``auto``, ``text`` or ``json``) overrides the choice. A request
id travels from the API into the jobs it enqueues (in the job's meta), so one reader's
slow overlay can be followed from the HTTP request to the worker. Log lines name
endpoints and ids of papers, never tokens, notes or reading lists; the credentials the
instance sends to external sources are blanked out of every line, including lines from
libraries (``urllib3`` logs whole URLs with their query at DEBUG).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any, TextIO

import orjson
from gunicorn.glogging import Logger as GunicornBaseLogger  # type: ignore[import-untyped]
from pythonjsonlogger.orjson import OrjsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
REDACTED = "[redacted]"
# Query parameters through which some source API takes a key or a contact address.
_CREDENTIAL_PARAMETER = re.compile(
    r"([?&](?:api_key|apikey|key|token|access_token|mailto)=)[^&#\s'\"]*", re.IGNORECASE
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` and every credential-like query value blanked out."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _CREDENTIAL_PARAMETER.sub(rf"\1{REDACTED}", text)


def new_request_id(offered: str | None = None) -> str:
    """Keep a caller's well-formed id (a proxy's, say); otherwise make one."""
    if offered and _VALID_REQUEST_ID.fullmatch(offered):
        return offered
    # 128 random bits from the source ``secrets.token_hex(16)`` uses, minus its wrappers.
    return os.urandom(16).hex()


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner``, then blanks the secrets out of the finished line.

    Redacting the finished line (not the record) covers the message, its arguments and
    any traceback alike, and leaves the record untouched for other handlers.
    """

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.inner = inner
        plain = [s for s in secrets if s]
        # JSON lines escape some characters, so look for each secret as JSON spells it too.
        self.secrets = tuple({*plain, *(orjson.dumps(s).decode()[1:-1] for s in plain)})

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self.secrets)


# What every LogRecord carries; anything else on a record was passed in ``extra``.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class _TextFormatter(logging.Formatter):
    """Lines for a person: time, level, where from, the message, then its details as
    ``key=value``, and the request id only on lines that belong to a request."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        details = " ".join(
            f"{key}={_plain(value)}"
            for key, value in vars(record).items()
            if key not in _RECORD_FIELDS and not key.startswith("_")
        )
        request_id = getattr(record, "request_id", None)
        return (
            line
            + (f"  {details}" if details else "")
            + (f"  [request {request_id}]" if request_id else "")
        )


def _plain(value: Any) -> str:
    """A detail as a person reads it: text as is unless it has spaces."""
    text = str(value)
    return repr(text) if not text or " " in text else text


def chosen_format(log_format: str, stream: TextIO) -> str:
    """``text`` or ``json``: ``auto`` is text exactly when ``stream`` is a terminal."""
    if log_format != "auto":
        return log_format
    try:
        return "text" if stream.isatty() else "json"
    except ValueError:  # a closed stream: nobody reads it, JSON harms no one
        return "json"


def configure(
    level: str, log_format: str, stream: TextIO | None = None, secrets: Iterable[str] = ()
) -> None:
    """One handler on the root logger: JSON lines for log collectors, text for a terminal.

    ``auto`` tells them apart by whether the stream is a terminal, so that ``make run``
    reads well and a container's output stays machine-readable. ``secrets`` are never
    written, whoever logs them.
    """
    target = stream or sys.stderr
    handler = logging.StreamHandler(target)
    handler.addFilter(_RequestIdFilter())
    formatter: logging.Formatter
    if chosen_format(log_format, target) == "json":
        formatter = OrjsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    else:
        formatter = _TextFormatter()
    handler.setFormatter(RedactingFormatter(formatter, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class GunicornLogger(GunicornBaseLogger):  # type: ignore[misc]
    """Gunicorn's own lines (start, workers booting, timeouts) in the same format as the
    app's: gunicorn's loggers hand their records to the root handler ``configure`` sets.

    Named by ``--logger-class``; gunicorn configures it in the master process, before it
    forks the workers, which inherit it.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        from paperlens.settings import get_settings

        settings = get_settings()
        configure(settings.log_level, settings.log_format, secrets=settings.source_credentials())
        for logger in (self.error_log, self.access_log):
            logger.handlers.clear()
            logger.propagate = True
