"""What ``paperlens status`` reports about the instance its environment names.

``collect`` gathers the facts as data and ``render`` prints them, so that other sections
(the index, the queues) can be added beside ``parts`` without touching the printer's callers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from paperlens import parts_state
from paperlens.parts_state import PartsState, PartState
from paperlens.settings import Settings

# Log lines shown under a part that is crash-looping.
SHOWN_LINES = 10


@dataclass(frozen=True)
class InstanceStatus:
    data_dir: Path
    # What ``paperlens run`` last published for this data folder (None: nothing), and
    # whether a live supervisor published it lately.
    parts: PartsState | None
    supervised: bool

    @property
    def healthy(self) -> bool:
        """Supervised, every part running, none crash-looping."""
        return (
            self.supervised
            and self.parts is not None
            and all(part.phase == "running" and not part.crash_looping for part in self.parts.parts)
        )


def collect(settings: Settings) -> InstanceStatus:
    state = parts_state.read(settings.parts_state_file)
    return InstanceStatus(
        data_dir=settings.data_path,
        parts=state,
        supervised=state is not None and state.current,
    )


def render(status: InstanceStatus) -> str:
    if status.parts is None:
        return f"No `paperlens run` is running with the data folder {status.data_dir}."
    lines = [_headline(status, status.parts), ""]
    lines.append(f"{'part':<12}{'state':<34}{'pid':>8}{'restarts':>10}  last exit")
    for part in status.parts.parts:
        lines.append(
            f"{part.name:<12}{_state(part):<34}{part.pid or '-':>8}{part.restarts:>10}  "
            f"{_last_exit(part)}"
        )
    for part in status.parts.parts:
        if part.crash_looping:
            lines += ["", f"{part.name}: last lines before it exited ({part.last_exit}):"]
            lines += [f"  {line}" for line in part.log_tail[-SHOWN_LINES:]] or ["  (no output)"]
    return "\n".join(lines)


def _headline(status: InstanceStatus, parts: PartsState) -> str:
    if not status.supervised:
        return (
            f"`paperlens run` for {status.data_dir} is not running any more (state as of "
            f"{_clock(parts.updated_at)}):"
        )
    looping = parts.crash_looping
    summary = f"crash-looping: {', '.join(looping)}" if looping else "every part is supervised"
    return (
        f"PaperLens in {status.data_dir}, run by `paperlens run` (pid {parts.supervisor_pid}); "
        f"{summary}"
    )


def _state(part: PartState) -> str:
    phase: str = part.phase
    if part.next_start_in_seconds is not None:
        phase = f"{phase} ({part.next_start_in_seconds:g} s)"
    return f"CRASH-LOOPING, {phase}" if part.crash_looping else phase


def _last_exit(part: PartState) -> str:
    if part.last_exit is None or part.last_exit_at is None:
        return "-"
    return f"{part.last_exit} at {_clock(part.last_exit_at)}"


def _clock(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%H:%M:%S")
