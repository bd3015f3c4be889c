"""Where an interrupted ingest stopped, kept in a small JSON file per input."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Checkpoint:
    """Where an interrupted ingest of one file stopped; valid while the file is unchanged."""

    path: Path
    source: str
    size: int
    mtime_ns: int
    position: int = 0
    number: int = 0

    @classmethod
    def for_file(
        cls, directory: Path, kind: str, source: Path, *, restart: bool = False
    ) -> Checkpoint:
        """The checkpoint of ``source`` read as ``kind``; ``restart`` forgets it."""
        resolved = source.resolve()
        digest = hashlib.sha256(f"{kind}:{resolved}".encode()).hexdigest()[:16]
        stat = resolved.stat()
        found = cls(
            directory / f"{kind}-{digest}.json", str(resolved), stat.st_size, stat.st_mtime_ns
        )
        return found._started(restart)

    @classmethod
    def for_key(cls, directory: Path, kind: str, key: str, *, restart: bool = False) -> Checkpoint:
        """The checkpoint of an input that is not a file (a range of days), named by ``key``."""
        digest = hashlib.sha256(f"{kind}:{key}".encode()).hexdigest()[:16]
        return cls(directory / f"{kind}-{digest}.json", key, 0, 0)._started(restart)

    def _started(self, restart: bool) -> Checkpoint:
        if restart:
            self.clear()
        else:
            self._load()
        return self

    def _load(self) -> None:
        try:
            saved = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if (saved.get("source"), saved.get("size"), saved.get("mtime_ns")) == (
            self.source,
            self.size,
            self.mtime_ns,
        ):
            self.position = int(saved.get("position", 0))
            self.number = int(saved.get("number", 0))

    def save(self, position: int, number: int) -> None:
        """Written to a temporary name and renamed, so a crash never leaves half a file."""
        self.position, self.number = position, number
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        state = {k: v for k, v in asdict(self).items() if k != "path"}
        partial.write_text(json.dumps(state))
        partial.replace(self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        self.position = self.number = 0
