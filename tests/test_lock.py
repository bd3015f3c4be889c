"""The lock files that `make run`, `make test` and the Docker image install from match pyproject."""

from __future__ import annotations

import re
import tomllib

from tests.support import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\[\]-]+)==([^\s;]+)")


def locked(name: str) -> dict[str, str]:
    versions = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        match = PIN.match(line)
        if match:
            versions[_normalise(match.group(1))] = match.group(2)
    return versions


def pins(requirements: list[str]) -> dict[str, str]:
    found = {}
    for requirement in requirements:
        match = PIN.match(requirement)
        assert match, f"{requirement!r} is not pinned with =="
        found[_normalise(match.group(1))] = match.group(2)
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()


def test_every_pin_is_locked_at_the_same_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = pins(project["dependencies"])
    dev = pins(project["optional-dependencies"]["dev"])
    runtime_lock, dev_lock = locked("runtime.lock"), locked("dev.lock")
    for name, version in runtime.items():
        assert runtime_lock.get(name) == version, f"{name} in runtime.lock; run `make lock`"
    for name, version in (runtime | dev).items():
        assert dev_lock.get(name) == version, f"{name} in dev.lock; run `make lock`"


def test_every_locked_package_has_hashes() -> None:
    for name in ("runtime.lock", "dev.lock"):
        text = (ROOT / "requirements" / name).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        assert all("--hash=sha256:" in block for block in blocks if PIN.match(block)), name
