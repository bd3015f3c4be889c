"""The extension runs only its own packaged code: no remote script, eval or HTML from data."""

from __future__ import annotations

import json
import re

from tests.support import ROOT

EXTENSION = ROOT / "extension"
# Ways to turn a string into code or markup; server text must go in as text nodes only.
SINKS = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function")


def test_manifest_policy_forbids_remote_code() -> None:
    manifest = json.loads((EXTENSION / "manifest.json").read_text())
    policy = manifest["content_security_policy"]["extension_pages"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in policy and "http" not in policy and "*" not in policy


def test_pages_load_only_packaged_scripts() -> None:
    for page in EXTENSION.rglob("*.html"):
        for source in re.findall(r"<script[^>]*src=\"([^\"]+)\"", page.read_text()):
            assert "://" not in source and not source.startswith("//"), (page, source)


def test_no_script_turns_text_into_code_or_markup() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in EXTENSION.rglob("*.js")
        if "tests" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SINKS.search(line)
    ]
    assert offenders == []
