"""The state of each part ``paperlens run`` supervises, as a file the other processes read.

The supervisor rewrites the file (atomically) whenever a part changes state and every few
seconds besides; the API's ``/readyz`` and ``paperlens status`` read it. A file rather than
Redis, because Redis is one of the parts whose failure it must be able to report.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

# The supervisor refreshes the file this often; a file older than STALE_AFTER_SECONDS
# belongs to a supervisor that is gone (stopped uncleanly, or killed).
REFRESH_SECONDS = 2.0
STALE_AFTER_SECONDS = 10.0
LOG_TAIL_LINES = 20

PartPhase = Literal["starting", "running", "waiting to restart", "stopping", "stopped"]


class PartState(BaseModel):
    name: str
    phase: PartPhase
    pid: int | None = None
    restarts: int = 0
    crash_looping: bool = False
    # Unexpected exits within the crash-loop window, and the latest one ("exit code 1",
    # "killed by SIGKILL") with its wall-clock time.
    recent_exits: int = 0
    last_exit: str | None = None
    last_exit_at: float | None = None
    next_start_in_seconds: float | None = None
    log_tail: list[str] = []


class PartsState(BaseModel):
    supervisor_pid: int
    updated_at: float
    parts: list[PartState]

    @property
    def current(self) -> bool:
        """Whether a live supervisor wrote this lately (otherwise it describes the past)."""
        return time.time() - self.updated_at < STALE_AFTER_SECONDS and _alive(self.supervisor_pid)

    @property
    def crash_looping(self) -> list[str]:
        return [part.name for part in self.parts if part.crash_looping]


def write(path: Path, state: PartsState) -> None:
    """Replace the file in one step, readable by its owner only (it holds log lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(state.model_dump_json())
    os.replace(partial, path)


def read(path: Path) -> PartsState | None:
    """The last state written, or None when no supervisor wrote one (or it is unreadable)."""
    try:
        return PartsState.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
