"""Related papers from the TF-IDF index: topical neighbours with reasons a reader can check."""

from __future__ import annotations

import json
from pathlib import Path

from worker.pipeline.rankers.explain import STUDY_PREFIX
from worker.pipeline.rankers.floors import FLOORS
from worker.pipeline.related import IndexedPaper, RelatedIndex

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo" / "papers.jsonl"


def demo_papers() -> list[IndexedPaper]:
    records = [json.loads(line) for line in DEMO.read_text().splitlines()]
    return [IndexedPaper(r.get("id", "pl:x"), r["title"], r["abstract"]) for r in records]


def test_mixture_of_experts_papers_are_related_to_each_other() -> None:
    papers = demo_papers()
    index = RelatedIndex.build(papers)
    moe = next(p for p in papers if p.paper_id == "arxiv:2310.01334")  # Merge, Then Compress (SMoE)
    related = index.related(moe, 5)
    titles = [r.title for r in related]
    assert sum("expert" in t.lower() or "moe" in t.lower() for t in titles) >= 3, titles
    assert moe.paper_id not in [r.paper_id for r in related]
    assert all(r.reason.startswith(("Both discuss “", STUDY_PREFIX)) for r in related)
    assert [r.score for r in related] == sorted((r.score for r in related), reverse=True)


def test_paper_outside_the_index_is_served_by_projection(tmp_path: Path) -> None:
    index = RelatedIndex.build(demo_papers())
    index.save(tmp_path / "i.joblib")
    loaded = RelatedIndex.load(tmp_path / "i.joblib")
    newcomer = IndexedPaper(
        "arxiv:9999.00001",
        "Sparse mixture of experts routing",
        "We study expert routing in sparse mixture-of-experts language models.",
    )
    related = loaded.related(newcomer, 10)
    assert len(related) >= 5  # the demo's mixture-of-experts papers, and only what is close
    assert all(r.score >= FLOORS["tfidf"] for r in related)
    assert "mixture" in related[0].reason.lower()  # "Sparse mixture": both papers use it


def test_same_title_is_not_listed_as_related() -> None:
    papers = demo_papers()
    copy = IndexedPaper("doi:10.1/copy", papers[0].title, papers[0].abstract)
    index = RelatedIndex.build([*papers, copy])
    assert copy.paper_id not in [r.paper_id for r in index.related(papers[0], 10)]


def test_many_versions_of_one_paper_take_one_place_in_the_list() -> None:
    """More near-copies than the filter's first look covers: the list still holds one of them."""
    papers = demo_papers()
    moe = next(p for p in papers if p.paper_id == "arxiv:2310.01334")
    versions = [
        IndexedPaper(f"doi:10.1/v{n}", f"{moe.title} (version {n})", f"{moe.abstract} v{n}")
        for n in range(20)
    ]
    index = RelatedIndex.build([*papers, *versions])
    listed = [r.paper_id for r in index.related(moe, 10)]
    assert sum(paper_id.startswith("doi:10.1/v") for paper_id in listed) <= 1, listed
    assert len(listed) > 1  # the other mixture-of-experts papers still have their places
    # Chunked precompute filters the same way as the one-paper path.
    assert [r.paper_id for r in index.related_many([moe], 10)[0]] == listed


def test_a_diverse_list_for_a_paper_with_nothing_close_is_empty() -> None:
    """With MMR on, a paper no indexed paper is close to gets an empty list, as without it."""
    index = RelatedIndex.build(demo_papers(), "tfidf", diversity=0.3)
    coral = IndexedPaper(
        "doi:10.5555/coral",
        "Coral reef bleaching",
        "Coral cover on reefs after repeated marine heatwaves.",
    )
    assert index.related(coral, 10) == []
    assert index.related_many([coral, *demo_papers()[:2]], 10)[0] == []
