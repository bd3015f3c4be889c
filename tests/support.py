"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from flask.testing import FlaskClient
from redis import Redis

from paperlens.job_queue import build_worker
from paperlens.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
DEMO_CORPUS = ROOT / "data" / "demo" / "papers.jsonl"
TEST_ORIGIN = "chrome-extension://testextensionidaaaaaaaaaaaaaaaaaa"

# `paperlens` as an operator runs it, in a child process of the Python running the tests.
PAPERLENS = [sys.executable, "-m", "cli.main"]

T = TypeVar("T")


def eventually(
    check: Callable[[], T | None],
    timeout: float = 15.0,
    message: str = "",
    *,
    interval: float = 0.1,
    ignoring: tuple[type[BaseException], ...] = (LookupError,),
) -> T:
    """Poll ``check`` until it returns something true (and return it), or fail after ``timeout``.

    An exception of an ``ignoring`` type means "not yet" (by default a ``LookupError``: what
    is looked for is not there yet); any other, an ``AssertionError`` included, ends the wait.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = value
        except ignoring as error:
            last = error
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{message or 'condition'}: not within {timeout:g} s; last: {last!r}"
            )
        time.sleep(interval)


def fresh_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its PAPERLENS_ variables, plus ``settings``: a
    command started with it sees the settings its test chose and no others."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PAPERLENS_")}
    return inherited | dict(settings)


def run_paperlens(
    args: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`paperlens ARGS` run to its end, with its stdout and stderr kept apart as text."""
    return subprocess.run(
        [*PAPERLENS, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def start_paperlens(args: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """`paperlens ARGS` started, its stdout and stderr in one text pipe, in the order written
    (bytes that are not UTF-8 read as replacement characters, so reading never fails)."""
    return subprocess.Popen(
        [*PAPERLENS, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        encoding="utf-8",
        errors="replace",
    )


def get_json(url: str, timeout: float = 5) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def run_workers(redis: Redis) -> None:
    """Drain every queue with a real RQ worker, as `paperlens worker --burst` does."""
    build_worker(redis, get_settings()).work(burst=True)


class OnTerminal:
    """A process whose stdout and stderr are a terminal (a pty), as in a person's shell;
    what it writes is collected by a thread, so it never blocks on a full terminal."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        main, follower = os.openpty()
        self._main = main
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower
        )
        os.close(follower)
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._main, 65536)
            except OSError:  # the terminal closes when the process ends
                return
            if not chunk:
                return
            self._chunks.append(chunk)

    def wait(self, timeout: float = 60) -> tuple[int, str]:
        """The exit code and everything the process wrote."""
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        os.close(self._main)
        return code, b"".join(self._chunks).decode(errors="replace")


def open_until_served(client: FlaskClient, redis: Redis, paper_id: str) -> dict[str, Any]:
    """A paper the catalogue lacks, asked for (202), fetched by the workers, then served."""
    first = client.get(f"/api/v1/papers/{paper_id}")
    assert first.status_code == 202 and first.headers["Retry-After"]
    run_workers(redis)
    served = client.get(f"/api/v1/papers/{paper_id}")
    assert served.status_code == 200, served.get_json()
    body: dict[str, Any] = served.get_json()
    return body


def record_encodings(monkeypatch: pytest.MonkeyPatch, capacity: int) -> list[str]:
    """Every text the served encoder is asked for from here on, in order; the process's
    remembered sentences start empty and hold ``capacity`` of them."""
    from worker.pipeline.rankers import dense

    served = dense.encoder(dense.DEFAULT_ENCODER)
    asked: list[str] = []

    class Recording:
        name = served.name

        def encode(self, texts: Sequence[str]) -> np.ndarray:
            asked.extend(texts)
            return served.encode(texts)

        def encode_titled(
            self, texts: Sequence[str], title_chars: Sequence[int]
        ) -> tuple[np.ndarray, np.ndarray]:
            asked.extend(texts)
            return served.encode_titled(texts, title_chars)

    monkeypatch.setitem(dense._loaded, dense.DEFAULT_ENCODER, Recording())
    monkeypatch.setattr(dense, "_remembered", dense._Remembered(capacity))
    return asked
