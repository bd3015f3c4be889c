"""A plain list of papers, one arXiv id, DOI or paper URL a line."""

from __future__ import annotations

from paperlens.formats.limits import too_many_items
from paperlens.identifiers import parse_paper_id
from paperlens.store.library import ImportCandidate


def parse_id_lines(text: str, *, max_items: int) -> list[ImportCandidate]:
    """Blank lines and lines starting with '#' are ignored; reading stops at the first
    item past ``max_items`` (ImportRefused)."""
    candidates: list[ImportCandidate] = []
    for line in text.splitlines():
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        ref = parse_paper_id(item)
        candidates.append(
            ImportCandidate(
                input=item[:500],
                paper_id=ref.paper_id if ref is not None else None,
                reason=None if ref is not None else "not an arXiv id, DOI or paper URL",
            )
        )
        if len(candidates) > max_items:
            raise too_many_items(max_items)
    return candidates
