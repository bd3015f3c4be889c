"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from redis import Redis

from paperlens.job_queue import build_worker
from paperlens.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
DEMO_CORPUS = ROOT / "data" / "demo" / "papers.jsonl"
TEST_ORIGIN = "chrome-extension://testextensionidaaaaaaaaaaaaaaaaaa"

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
