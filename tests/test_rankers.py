"""Each ranker behind the one interface finds topical neighbours on the demo corpus."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from flask.testing import FlaskClient
from redis import Redis

from paperlens import job_queue, keys
from paperlens.settings import get_settings
from paperlens.store.db import Database
from tests.support import run_workers
from tests.test_related import demo_papers
from worker.context import reset_context
from worker.pipeline.rankers.base import IndexedPaper, Ranker, zscore
from worker.pipeline.rankers.bm25 import Bm25Ranker
from worker.pipeline.rankers.choose import choose_ranker, embeddings_available, make_ranker
from worker.pipeline.rankers.hybrid import HybridRanker
from worker.pipeline.rankers.tfidf import TfidfRanker
from worker.pipeline.related import RelatedIndex

MOE = "arxiv:2310.01334"  # Merge, Then Compress: sparse mixture of experts


def moe_neighbours(ranker: Ranker, k: int = 5) -> list[str]:
    papers = demo_papers()
    index = RelatedIndex.build(papers, ranker)
    query = next(p for p in papers if p.paper_id == MOE)
    return [r.title.lower() for r in index.related(query, k)]


@pytest.mark.parametrize(
    "ranker",
    [TfidfRanker(), TfidfRanker(ngram_max=2), Bm25Ranker()],
    ids=["tfidf", "tfidf-bigrams", "bm25"],
)
def test_lexical_rankers_put_mixture_of_experts_papers_together(ranker: Ranker) -> None:
    titles = moe_neighbours(ranker)
    assert sum("expert" in t or "moe" in t for t in titles) >= 3, titles


def test_a_vocabulary_from_a_sample_still_indexes_every_paper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Large corpora take terms and weights from a sample, then are transformed in blocks."""
    monkeypatch.setattr("worker.pipeline.rankers.tfidf._FIT_BLOCK", 7)
    papers = demo_papers()
    ranker = TfidfRanker(ngram_max=2, vocabulary_sample=40)
    ranker.fit(papers)
    assert ranker.matrix.shape[0] == len(papers)
    norms = np.sqrt(np.asarray(ranker.matrix.multiply(ranker.matrix).sum(axis=1)).ravel())
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-5)
    # Each stored row is what projecting the paper's text gives, whichever block it was in.
    for row in (0, 6, 7, len(papers) - 1):
        projected = ranker.vector(papers[row], None).toarray()
        assert np.allclose(ranker.matrix[row].toarray(), projected, atol=1e-6)
    # Only terms two sampled papers share made the vocabulary, phrases among them.
    vocabulary = ranker.vectorizer.vocabulary_
    assert "mixture experts" in vocabulary and len(vocabulary) < 2_000  # 10,554 from all
    assert moe_neighbours(ranker)  # and it still ranks


def test_bm25_prefers_the_document_sharing_rare_query_terms() -> None:
    papers = [
        IndexedPaper("pl:a", "Routing tokens", "expert routing for sparse mixture models"),
        IndexedPaper("pl:b", "Language models", "language models trained on web text"),
        IndexedPaper("pl:c", "More language models", "language models and web text at scale"),
    ]
    ranker = Bm25Ranker()
    ranker.fit(papers)
    query = IndexedPaper("pl:q", "Sparse experts", "routing in sparse mixture of expert networks")
    scores = ranker.scores(query, None)
    assert int(np.argmax(scores)) == 0
    assert scores[1] == pytest.approx(0.0)


def test_hybrid_fuses_two_rankers_on_one_scale() -> None:
    papers = demo_papers()
    hybrid = HybridRanker(TfidfRanker(), Bm25Ranker(), dense_weight=0.5)
    hybrid.fit(papers)
    scores = hybrid.scores(papers[0], 0)
    lexical = zscore(hybrid.lexical.scores(papers[0], 0))
    other = zscore(hybrid.dense.scores(papers[0], 0))
    assert scores == pytest.approx(0.5 * lexical + 0.5 * other, abs=1e-5)
    assert zscore(np.ones(4)).tolist() == [0.0] * 4


def test_without_the_packaged_model_the_service_falls_back_to_tfidf(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert not embeddings_available()
    ranker, note = choose_ranker("auto")
    assert ranker == "tfidf"
    assert "packaged model or ONNX Runtime is not installed" in note
    assert choose_ranker("bm25") == ("bm25", "")
    with pytest.raises(ValueError, match="unknown ranker"):
        choose_ranker("word2vec")
    with pytest.raises(ValueError, match="unknown ranker"):
        make_ranker("auto")


def test_the_default_installation_serves_the_hybrid() -> None:
    """What `make run` installs (the runtime lock) is enough for the hybrid: no torch."""
    assert embeddings_available()
    assert choose_ranker("auto") == ("hybrid", "")


def test_a_plain_start_publishes_the_hybrid_and_readyz_names_it(
    demo: Database,
    redis: Redis,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default ranker setting, the demo corpus, one precompute: what `make run` does."""
    monkeypatch.delenv("PAPERLENS_RELATED_RANKER")
    get_settings.cache_clear()
    reset_context()
    assert get_settings().related_ranker == "auto"
    job_queue.queue(redis, keys.QUEUE_BULK).enqueue(keys.JOB_PRECOMPUTE_ALL)
    run_workers(redis)

    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ok"
    assert ready["ranker"].startswith("hybrid"), ready
    related = client.get(f"/api/v1/papers/{MOE}").get_json()["related"]
    titles = [r["title"].lower() for r in related[:5]]
    assert sum("expert" in t or "moe" in t for t in titles) >= 3, titles


def test_served_dense_ranker_finds_topical_neighbours() -> None:
    """Runs the real packaged model on the CPU, as the default installation serves it."""
    from worker.pipeline.rankers.dense import DenseRanker

    titles = moe_neighbours(DenseRanker())
    assert sum("expert" in t or "moe" in t for t in titles) >= 3, titles
    index = RelatedIndex.build(demo_papers(), "hybrid")
    newcomer = IndexedPaper(
        "arxiv:9999.00001",
        "Sparse mixture of experts routing",
        "We study expert routing in sparse mixture-of-experts language models.",
    )
    related = index.related(newcomer, 5)
    assert index.ranker_name.startswith("hybrid")
    assert sum("expert" in r.title.lower() or "moe" in r.title.lower() for r in related) >= 3


def test_reason_names_shared_phrases_once() -> None:
    papers = [
        IndexedPaper("pl:a", "Online debates", "Factual, emotional arguments in online debates."),
        IndexedPaper("pl:b", "Debate styles", "Emotional arguments, factual claims in a debate."),
        IndexedPaper("pl:c", "Vision", "Convolutional networks for image classification."),
        IndexedPaper("pl:d", "Parsing", "Dependency parsing with neural networks."),
    ]
    index = RelatedIndex.build(papers, "tfidf")
    reason = index.related(papers[0], 1)[0].reason
    assert reason.startswith("Both discuss “")
    assert "“emotional arguments”" in reason
    # "debate" and "online debates" are one topic, and "arguments" is inside the phrase.
    assert reason.count("debate") <= 1 and reason.count("arguments") == 1
