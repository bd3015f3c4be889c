"""Documents changed in place by a batch (``enrichments.update_many``), with other writers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from redis import Redis

from paperlens import enrichments, keys
from paperlens.schemas import EnrichedPaper, RelatedPaper


def _document(paper_id: str, title: str) -> EnrichedPaper:
    return EnrichedPaper(
        paper_id=paper_id,
        ids=[paper_id],
        title=title,
        abstract="An abstract long enough to be compressed. " * 20,
        authors=[],
        published=None,
        code=[],
        related=[],
        status="ready",
        computed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        schema_version=keys.ENRICHMENT_SCHEMA_VERSION,
    )


def _listing(document: EnrichedPaper, paper_id: str) -> enrichments.Revision:
    entry = RelatedPaper(paper_id=paper_id, title="New", score=0.5, reason="Close in topic")
    changed = document.model_copy(update={"related": [*document.related, entry]})
    return enrichments.Revision(changed, f"cutoff of {document.title}".encode())


def test_a_batch_changes_the_documents_it_is_given_and_no_others(redis: Redis) -> None:
    for paper_id in ("arxiv:1", "arxiv:2", "arxiv:3"):
        enrichments.write(redis, _document(paper_id, f"Paper {paper_id}"))

    def change(documents: Sequence[EnrichedPaper]) -> list[enrichments.Revision | None]:
        return [None if d.paper_id == "arxiv:2" else _listing(d, "arxiv:9") for d in documents]

    stored = enrichments.update_many(redis, ["arxiv:1", "arxiv:2", "arxiv:missing"], change)

    assert stored == 1
    first, second, third = (enrichments.read(redis, f"arxiv:{n}") for n in (1, 2, 3))
    assert first is not None and [r.paper_id for r in first.related] == ["arxiv:9"]
    assert first.title == "Paper arxiv:1"
    assert second is not None and second.related == []
    assert third is not None and third.related == []
    assert enrichments.read(redis, "arxiv:missing") is None
    # Each document written with its list's cutoff; the others keep theirs (none).
    ids = ["arxiv:1", "arxiv:2", "arxiv:3", "arxiv:missing"]
    assert enrichments.read_cutoffs(redis, ids) == [b"cutoff of Paper arxiv:1", b"", b"", None]


def test_a_document_written_meanwhile_is_changed_again_not_overwritten(redis: Redis) -> None:
    enrichments.write(redis, _document("arxiv:1", "First title"))
    enrichments.write(redis, _document("arxiv:2", "Second title"))
    rounds: list[list[str]] = []

    def change(documents: Sequence[EnrichedPaper]) -> list[enrichments.Revision | None]:
        rounds.append([d.title for d in documents])
        if len(rounds) == 1:  # another worker refreshes paper 1 between the read and the write
            enrichments.write(redis, _document("arxiv:1", "Refreshed title"))
        return [_listing(d, "arxiv:9") for d in documents]

    stored = enrichments.update_many(redis, ["arxiv:1", "arxiv:2"], change)

    assert stored == 2
    assert rounds == [["First title", "Second title"], ["Refreshed title"]]
    first = enrichments.read(redis, "arxiv:1")
    assert first is not None and first.title == "Refreshed title"  # the other writer's work kept
    assert [r.paper_id for r in first.related] == ["arxiv:9"]  # with this change applied to it
    second = enrichments.read(redis, "arxiv:2")
    assert second is not None and [r.paper_id for r in second.related] == ["arxiv:9"]
    # The cutoffs are those of the documents as written last, the other writer's included.
    assert enrichments.read_cutoffs(redis, ["arxiv:1", "arxiv:2"]) == [
        b"cutoff of Refreshed title",
        b"cutoff of Second title",
    ]
