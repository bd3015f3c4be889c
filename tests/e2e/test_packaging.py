"""The Chrome package that `make extension` zips works like the unpacked source."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.closed_shadow import ClosedRoot
from tests.e2e.conftest import Browser
from tests.support import ROOT


@pytest.fixture
def extension_dir(tmp_path: Path) -> Path:
    """The Chrome build, made by the same script `make extension` runs."""
    out = tmp_path / "build"
    subprocess.run(
        ["node", "scripts/build-extension.mjs", str(out)], cwd=ROOT, check=True, capture_output=True
    )
    return out / "chrome"


def test_chrome_build_keeps_its_id_and_shows_the_overlay(
    browser: Browser, extension_dir: Path
) -> None:
    manifest = json.loads((extension_dir / "manifest.json").read_text())
    assert "browser_specific_settings" not in manifest
    assert "scripts" not in manifest["background"]
    assert not (extension_dir / "tests").exists()
    page = browser.open("https://arxiv.org/abs/2205.13147")
    page.locator("#paperlens-overlay[data-state=ready]").wait_for(timeout=15_000)
    assert "RAIVNLab/MRL" in ClosedRoot(page).text("ul.code")
