"""Keeps the parts of ``paperlens run`` running, and stops them in order.

A part that exits while nobody asked it to is started again after a pause that doubles with
each exit in a row (``PAPERLENS_RESTART_BACKOFF_*``); the other parts keep running meanwhile.
A part that exits ``PAPERLENS_CRASH_LOOP_EXITS`` times within the crash-loop window is reported
on the terminal with its last exit status and log lines, marked crash-looping in the state file
(read by ``/readyz`` and ``paperlens status``) and retried only every
``PAPERLENS_CRASH_LOOP_RETRY_SECONDS``; it counts as recovered once it has stayed up a window.

Why this small supervisor instead of a general one (all three are on PyPI and were weighed):
- RQ's ``worker-pool`` restarts dead RQ workers only (not Redis, the scheduler or the API),
  at once and forever, with no backoff and no crash-loop report.
- supervisord backs off only while a program fails to *start*, then gives up on it for good
  (FATAL), and restarts a program that dies after its start period at once, however often: the
  opposite of "retry slower, never give up". It also needs its own daemon, INI file and
  control socket, and its state is not something ``/readyz`` can read without XML-RPC.
- circus has a flapping plugin close to what is wanted, but brings ZeroMQ and Tornado into
  every installation for a laptop's four processes, and also stops a flapping watcher for good
  unless told to retry forever.
None of them knows that the embedded Redis must be stopped last (after the processes that
write to it) nor can put the state of each part where the API reads it; doing both around
them would cost more code than this module.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click

from paperlens import parts_state
from paperlens.parts_state import LOG_TAIL_LINES, PartPhase, PartsState, PartState
from paperlens.settings import Settings

STOP_TIMEOUT_SECONDS = 20.0
# How many log lines the terminal report of a crash loop quotes.
REPORTED_LINES = 8

Launcher = Callable[[], "subprocess.Popen[bytes]"]


def restart_pause(settings: Settings, exits_in_a_row: int, crash_looping: bool) -> float:
    """How long to wait before the next start of a part that just exited."""
    if crash_looping:
        return settings.crash_loop_retry_seconds
    doubled: float = settings.restart_backoff_initial_seconds * 2.0 ** max(exits_in_a_row - 1, 0)
    return min(doubled, settings.restart_backoff_max_seconds)


@dataclass
class Part:
    """One supervised process: how to start it, and what has happened to it so far."""

    name: str
    launch: Launcher
    # Where the part writes its log when not to its output (the embedded Redis).
    log_file: Path | None = None
    # Stopped after every other part (the embedded Redis: the others write to it until the end).
    stop_last: bool = False
    process: subprocess.Popen[bytes] | None = None
    phase: PartPhase = "stopped"
    started_at: float = 0.0
    restarts: int = 0
    exits: collections.deque[float] = field(default_factory=collections.deque)
    exits_in_a_row: int = 0
    crash_looping: bool = False
    last_exit: str | None = None
    last_exit_at: float | None = None
    next_start: float = 0.0
    output: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=LOG_TAIL_LINES)
    )

    def log_tail(self) -> list[str]:
        if self.log_file is not None:
            return _tail(self.log_file, LOG_TAIL_LINES)
        return list(self.output)

    def state(self, now: float) -> PartState:
        alive = self.process is not None and self.phase in ("running", "stopping")
        return PartState(
            name=self.name,
            phase=self.phase,
            pid=self.process.pid if alive and self.process is not None else None,
            restarts=self.restarts,
            crash_looping=self.crash_looping,
            recent_exits=len(self.exits),
            last_exit=self.last_exit,
            last_exit_at=self.last_exit_at,
            next_start_in_seconds=(
                round(max(self.next_start - now, 0.0), 1)
                if self.phase == "waiting to restart"
                else None
            ),
            log_tail=self.log_tail(),
        )


class Supervisor:
    """Starts the parts, restarts those that exit as the restart settings say, and publishes
    the state of each to the settings' parts state file (Settings, as every other part of
    PaperLens takes its configuration, rather than a copy of five of its fields)."""

    def __init__(
        self,
        settings: Settings,
        echo: Callable[[str], None] = lambda message: click.echo(message, err=True),
    ) -> None:
        self.settings = settings
        self.state_file = settings.parts_state_file
        self.echo = echo
        self.parts: list[Part] = []
        self._published_at = 0.0
        self._changed = True

    def start(self, part: Part) -> None:
        """Start a part now (and supervise it from then on)."""
        if part not in self.parts:
            self.parts.append(part)
        part.process = part.launch()
        if part.log_file is None:  # tell this run's lines from the previous one's
            part.output.append(f"-- {part.name} started (pid {part.process.pid}) --")
        part.phase = "running"
        part.started_at = time.monotonic()
        if part.process.stdout is not None:
            threading.Thread(
                target=_pump, args=(part, part.process), name=f"log {part.name}", daemon=True
            ).start()
        self._changed = True

    def tick(self) -> None:
        """Look at every part once: note exits, start what is due, publish the state."""
        now = time.monotonic()
        for part in self.parts:
            if part.phase == "running" and part.process is not None:
                if part.process.poll() is not None:
                    self._exited(part, now)
                elif now - part.started_at >= self.settings.crash_loop_window_seconds:
                    self._settled(part)
            elif part.phase == "waiting to restart" and now >= part.next_start:
                part.restarts += 1
                self.start(part)
        self.publish()

    def publish(self, force: bool = False) -> None:
        now = time.monotonic()
        if not (force or self._changed or now - self._published_at >= parts_state.REFRESH_SECONDS):
            return
        state = PartsState(
            supervisor_pid=os.getpid(),
            updated_at=time.time(),
            parts=[part.state(now) for part in self.parts],
        )
        with contextlib.suppress(OSError):  # a full disk must not stop the supervision
            parts_state.write(self.state_file, state)
        self._published_at = now
        self._changed = False

    def _exited(self, part: Part, now: float) -> None:
        assert part.process is not None
        _kill_group(part.process.pid)  # what it leaves behind: gunicorn workers, RQ's scheduler
        part.last_exit = describe_exit(part.process.returncode)
        part.last_exit_at = time.time()
        part.exits.append(now)
        while part.exits and now - part.exits[0] > self.settings.crash_loop_window_seconds:
            part.exits.popleft()
        part.exits_in_a_row += 1
        newly_looping = not part.crash_looping and len(part.exits) >= self.settings.crash_loop_exits
        part.crash_looping = part.crash_looping or newly_looping
        pause = restart_pause(self.settings, part.exits_in_a_row, part.crash_looping)
        part.next_start = now + pause
        part.phase = "waiting to restart"
        self._changed = True
        if newly_looping:
            self.echo(self._crash_loop_report(part, pause))
        else:
            self.echo(f"PaperLens: {part.name} exited ({part.last_exit}); restart in {pause:g} s")

    def _settled(self, part: Part) -> None:
        """A part that stayed up a whole window starts again from the shortest pause."""
        if part.crash_looping:
            self.echo(f"PaperLens: {part.name} has stayed up; no longer crash-looping")
        if part.crash_looping or part.exits_in_a_row or part.exits:
            part.crash_looping = False
            part.exits_in_a_row = 0
            part.exits.clear()
            self._changed = True

    def _crash_loop_report(self, part: Part, pause: float) -> str:
        lines = part.log_tail()[-REPORTED_LINES:]
        quoted = "\n".join(f"    {line}" for line in lines) or "    (no output)"
        return (
            f"PaperLens: {part.name} is crash-looping: it exited {len(part.exits)} times within "
            f"{self.settings.crash_loop_window_seconds:g} s; the rest keeps running.\n"
            f"  last exit: {part.last_exit}\n"
            f"  last lines:\n{quoted}\n"
            f"  retrying every {pause:g} s (see `paperlens status`)"
        )

    def stop(self) -> None:
        """SIGTERM each part (the stop-last ones after the others) and wait; then SIGKILL
        whatever is left in each part's process group. Nothing restarts from here on."""
        for last in (False, True):
            group = [part for part in self.parts if part.stop_last == last]
            for part in group:
                if part.phase == "running" and part.process is not None:
                    part.phase = "stopping"
                    with contextlib.suppress(ProcessLookupError):
                        part.process.send_signal(signal.SIGTERM)
                else:
                    part.phase = "stopped"
            self.publish(force=True)
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            for part in group:
                if part.process is not None and part.phase == "stopping":
                    _wait_or_kill(part.process, deadline)
                    _kill_group(part.process.pid)
                part.phase = "stopped"
        parts_state.remove(self.state_file)


def describe_exit(code: int) -> str:
    """An exit status as a person reads it: ``exit code 1``, ``killed by SIGKILL``."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _pump(part: Part, process: subprocess.Popen[bytes]) -> None:
    """Pass the part's output through to ours, keeping its last lines for the reports."""
    assert process.stdout is not None
    for raw in iter(process.stdout.readline, b""):
        part.output.append(raw.decode("utf-8", errors="replace").rstrip())
        with contextlib.suppress(OSError, ValueError):  # our own output closed: keep collecting
            sys.stdout.buffer.write(raw)
            sys.stdout.buffer.flush()
    process.stdout.close()


def _wait_or_kill(process: subprocess.Popen[bytes], deadline: float) -> None:
    try:
        process.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _kill_group(group: int) -> None:
    """Grandchildren (gunicorn workers, the RQ scheduler) must not outlive their parent."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def _tail(path: Path, lines: int) -> list[str]:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(handle.tell() - 8192, 0))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]
