"""The README and docs/ against the code they describe.

Why: documentation that drifts from the code is worse than none. These checks hold the
parts that can be checked mechanically: every setting documented with its default, every
relative link pointing at a file that exists, and the README kept short.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paperlens.settings import PROJECT_ROOT, Settings

README = PROJECT_ROOT / "README.md"
DOCS = PROJECT_ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"
README_MAX_LINES = 300
# A Markdown link's target: [text](file#anchor), the file part optional.
LINK = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)")
HEADING = re.compile(r"^#+ (.+)$", re.MULTILINE)


def _documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_readme_is_short() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= README_MAX_LINES


def test_readme_links_every_document_in_docs() -> None:
    readme = README.read_text(encoding="utf-8")
    for document in sorted(DOCS.glob("*.md")):
        assert f"(docs/{document.name})" in readme, document.name


def _anchors(document: Path) -> set[str]:
    """The anchors GitHub makes of a document's headings: lower case, punctuation dropped."""
    text = document.read_text(encoding="utf-8")
    return {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading in HEADING.findall(text)
    }


@pytest.mark.parametrize("document", _documents(), ids=lambda path: path.name)
def test_relative_links_point_at_files_and_headings(document: Path) -> None:
    for target, anchor in LINK.findall(document.read_text(encoding="utf-8")):
        if "://" in target or target.startswith("mailto:"):
            continue
        linked = document.parent / target if target else document
        assert linked.exists(), f"{document.name}: {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{document.name}: {target}#{anchor}"


def _default_text(name: str) -> str | None:
    """How the default of a plain setting reads in the table, or None where it is described."""
    field = Settings.model_fields[name]
    if field.default_factory is not None or field.default is None:
        return None
    default = field.default
    if isinstance(default, Path) or default == "":
        return None
    if isinstance(default, float) and default.is_integer():
        default = int(default)
    return f"`{default}`"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented_with_its_default(name: str) -> None:
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(
            r"^\| `(PAPERLENS_[A-Z0-9_]+)` \| ([^|]*) \|",
            CONFIGURATION.read_text(encoding="utf-8"),
            re.MULTILINE,
        )
    }
    variable = f"PAPERLENS_{name.upper()}"
    assert variable in rows, f"{variable} is missing from docs/configuration.md"
    expected = _default_text(name)
    if expected is not None:
        assert rows[variable].strip() == expected, variable


def test_no_document_cites_issue_or_item_numbers() -> None:
    for document in _documents():
        text = document.read_text(encoding="utf-8")
        assert not re.search(r"\bissue ?#?[0-9]|\bitem [0-9]", text, re.IGNORECASE), document
