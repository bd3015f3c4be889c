"""What the citation graph adds to a related paper's reason: a citation between the two
papers, or references they share, as far as OpenAlex reported the references.

Each enrichment that asked OpenAlex remembers the paper's references in Redis; a related
paper whose own enrichment has not asked yet simply gets no such clause until its refresh.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis import Redis

from paperlens import citation_graph
from paperlens.schemas import RelatedPaper
from worker.sources import openalex


def remember(redis: Redis, paper_id: str, work: openalex.Work) -> None:
    """Keep the paper's OpenAlex id and references for the reasons of papers related to it
    (as work numbers: see ``paperlens.citation_graph``)."""
    cited = [number for w in work.referenced_works if (number := _number(w)) is not None]
    citation_graph.write(redis, paper_id, _number(work.openalex_id), cited)


def with_citations(
    redis: Redis, paper_id: str, related: Sequence[RelatedPaper]
) -> list[RelatedPaper]:
    """``related`` with a citation clause added to each reason the graph supports."""
    if not related:
        return list(related)
    (own_work, own_references), *others = citation_graph.read(
        redis, [paper_id, *(paper.paper_id for paper in related)]
    )
    out = []
    for paper, (work, cited) in zip(related, others, strict=True):
        clause = _clause(own_work, own_references, work, cited)
        reason = f"{paper.reason}; {clause}" if clause else paper.reason
        out.append(paper.model_copy(update={"reason": reason}))
    return out


def _number(work_id: str) -> int | None:
    """The number of an OpenAlex work id (``W2741809807``), None for anything else."""
    digits = work_id.removeprefix("W")
    return int(digits) if work_id.startswith("W") and digits.isdigit() else None


def _clause(
    own_work: bytes | None, own_references: set[bytes], work: bytes | None, cited: set[bytes]
) -> str:
    if work is not None and work in own_references:
        return "this paper cites it"
    if own_work is not None and own_work in cited:
        return "it cites this paper"
    shared = len(own_references & cited)
    if shared == 1:
        return "they share a reference"
    return f"they share {shared} references" if shared else ""
