"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from redis import Redis

from paperlens.jobs import build_worker
from paperlens.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
DEMO_CORPUS = ROOT / "data" / "demo" / "papers.jsonl"
TEST_ORIGIN = "chrome-extension://testextensionidaaaaaaaaaaaaaaaaaa"


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
