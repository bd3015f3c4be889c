"""Progress of long work (an ingest, a precompute): a bar with rate and time left on a
terminal, a line every few seconds otherwise."""

from __future__ import annotations

import logging
import shutil
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm

log = logging.getLogger(__name__)

# Without a terminal (a log file, CI), one line this often is enough to see it move.
PLAIN_INTERVAL_SECONDS = 10.0


class Progress:
    """Tracks bytes (or records) done out of a known total, and papers written."""

    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        unit: str = "B",
        stream: TextIO | None = None,
        interactive: bool | None = None,
        initial: int = 0,
        postfix: bool = True,
    ) -> None:
        """``postfix`` adds papers written and their rate to the bar, for bars that count
        something else (bytes, lines); a bar counting papers shows both already."""
        self.label = label
        self.postfix = postfix
        self.total = total
        self.unit = unit
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.done = initial
        self.papers = 0
        self.started = time.monotonic()
        self._last_line = self.started
        self._bar: tqdm[Any] | None = None
        if self.interactive:
            size = shutil.get_terminal_size((100, 24))
            self._bar = tqdm(
                total=total,
                initial=initial,
                unit=unit,
                unit_scale=unit == "B",
                desc=label,
                file=self.stream,
                # A terminal reporting no size (some ptys) would otherwise hide the bar.
                ncols=size.columns,
                nrows=size.lines,
            )

    def advance(self, done: int, papers: int) -> None:
        """Record the position reached and the papers written so far."""
        step, self.done, self.papers = done - self.done, done, papers
        if self._bar is not None:
            self._bar.update(step)
            if self.postfix:
                self._bar.set_postfix_str(f"{papers:,} papers, {self.rate:,.0f}/s", refresh=False)
            return
        now = time.monotonic()
        if now - self._last_line >= PLAIN_INTERVAL_SECONDS:
            self._last_line = now
            print(self.line(), file=self.stream, flush=True)

    @property
    def rate(self) -> float:
        """Papers written per second since the start."""
        elapsed = time.monotonic() - self.started
        return self.papers / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        share = f" ({self.done / self.total:.0%})" if self.total else ""
        return f"{self.label}: {self.papers:,} papers, {self.rate:,.0f} papers/s{share}{self.left}"

    @property
    def left(self) -> str:
        """``, about N s left`` at the rate so far, when the total is known."""
        if not self.total or self.done >= self.total or self.rate <= 0:
            return ""
        seconds = (self.total - self.done) * (self.papers / max(self.done, 1)) / self.rate
        return f", about {_duration(seconds)} left"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
