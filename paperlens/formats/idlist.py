"""A plain list of papers, one arXiv id, DOI or paper URL a line."""

from __future__ import annotations

from paperlens.identifiers import parse_paper_id
from paperlens.store.library import ImportCandidate


def parse_id_lines(text: str) -> list[ImportCandidate]:
    """Blank lines and lines starting with '#' are ignored."""
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
    return candidates
