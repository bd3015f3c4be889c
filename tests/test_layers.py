"""The layers of the code hold: the core imports neither the API, the workers nor the command
line, and the API and the workers do not import each other (pyproject's
``[tool.importlinter]``, checked by import-linter's ``lint-imports``).

The second test shows the check is not empty: on a copy of the packages with one import
added that crosses a layer, the contract it breaks is reported and the check fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("paperlens", "server", "worker", "cli")


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the packages and the pyproject in ``folder`` (its working folder,
    which import-linter puts first on the import path)."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_packages_keep_every_layer_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "imports", "contract"),
    [
        (
            "paperlens/reach_up.py",
            "from worker import jobs",
            "The core imports neither the API, the workers nor the command line",
        ),
        (
            "server/reach_across.py",
            "from worker import jobs",
            "The API enqueues jobs by name and never imports the workers or the command line",
        ),
        (
            "worker/reach_across.py",
            "from server import create_app",
            "The workers import neither the API nor the command line",
        ),
    ],
)
def test_an_import_across_a_layer_breaks_its_contract(
    tmp_path: Path, module: str, imports: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(f'"""Crosses a layer on purpose."""\n\n{imports}\n')

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 2 kept, 1 broken." in result.stdout
    assert f"{contract} BROKEN" in result.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    imported = imports.split()[1]
    assert f"{importer} -> {imported}" in result.stdout
