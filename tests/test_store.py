"""The catalogue: one row per paper however many ids name it, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from paperlens.schemas import PaperRecord
from paperlens.store.db import Database
from paperlens.store.models import Base
from paperlens.store.papers import canonical_ids, count_papers, find_paper, upsert_papers


def record(
    *ids: str, title: str = "Matryoshka Representation Learning", **fields: object
) -> PaperRecord:
    return PaperRecord.model_validate({"ids": list(ids), "title": title, **fields})


def test_upsert_is_idempotent(db: Database) -> None:
    for _ in range(2):
        with db.session() as session:
            upsert_papers(session, [record("arxiv:2205.13147", abstract="Nested embeddings.")])
    with db.session() as session:
        assert count_papers(session) == 1
        paper = find_paper(session, "arxiv:2205.13147")
        assert paper is not None and paper.abstract == "Nested embeddings."


def test_later_id_joins_and_arxiv_stays_canonical(db: Database) -> None:
    with db.session() as session:
        upsert_papers(session, [record("doi:10.5555/mrl")])
    with db.session() as session:
        upsert_papers(session, [record("arxiv:2205.13147", "doi:10.5555/mrl")])
    with db.session() as session:
        assert count_papers(session) == 1
        paper = find_paper(session, "doi:10.5555/mrl")
        assert paper is not None
        assert paper.ids == ["arxiv:2205.13147", "doi:10.5555/mrl"]
        assert canonical_ids(session, ["doi:10.5555/mrl", "arxiv:0000.00000"]) == {
            "doi:10.5555/mrl": "arxiv:2205.13147"
        }


def test_record_naming_two_known_papers_merges_them(db: Database) -> None:
    with db.session() as session:
        upsert_papers(
            session, [record("doi:10.5555/a"), record("openreview:AbC123", title="Other")]
        )
    with db.session() as session:
        stats = upsert_papers(session, [record("doi:10.5555/a", "openreview:AbC123")])
    assert stats.merged == 1
    with db.session() as session:
        assert count_papers(session) == 1
        aliases = session.execute(text("SELECT count(*) FROM paper_aliases")).scalar()
        assert aliases == 2


def test_empty_fields_do_not_erase_known_ones(db: Database) -> None:
    with db.session() as session:
        upsert_papers(
            session, [record("arxiv:2205.13147", abstract="Known.", authors=["A. Kusupati"])]
        )
    with db.session() as session:
        upsert_papers(session, [record("arxiv:2205.13147")])
    with db.session() as session:
        paper = find_paper(session, "arxiv:2205.13147")
        assert paper is not None
        assert (paper.abstract, paper.authors) == ("Known.", ["A. Kusupati"])


def test_demo_corpus_holds_the_paper_without_external_id(demo: Database) -> None:
    with demo.session() as session:
        assert count_papers(session) == 59
        local = (
            session.execute(text("SELECT paper_id FROM papers WHERE paper_id LIKE 'pl:%'"))
            .scalars()
            .all()
        )
    assert len(local) == 1


def test_sqlite_store_uses_write_ahead_logging(db: Database) -> None:
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_batched_upsert_updates_changed_papers_and_joins_repeats(db: Database) -> None:
    first = PaperRecord(ids=["arxiv:2101.00001"], title="Old title", abstract="A.")
    with db.session() as session:
        upsert_papers(session, [first, first.model_copy(update={"authors": ["Ada"]})])
    renamed = PaperRecord(ids=["arxiv:2101.00001", "doi:10.1/x"], title="New title")
    other = PaperRecord(ids=["arxiv:2101.00002"], title="Other")
    with db.session() as session:
        stats = upsert_papers(session, [renamed, other, renamed])
    assert (stats.created, stats.updated) == (1, 2)
    with db.session() as session:
        paper = find_paper(session, "doi:10.1/x")
        assert paper is not None and paper.paper_id == "arxiv:2101.00001"
        assert (paper.title, paper.abstract, paper.authors) == ("New title", "A.", ["Ada"])
        assert paper.ids == ["arxiv:2101.00001", "doi:10.1/x"]
        assert count_papers(session) == 2


def test_the_migrations_build_the_schema_the_models_describe(database_url: str) -> None:
    """A model changed without a migration (or the reverse) shows here, not on a reader's store."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert drift == []
