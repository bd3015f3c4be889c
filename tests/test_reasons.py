"""Reasons a researcher can use: every related pair and suggestion of the demo corpus names
shared phrases of several words, or quotes the query paper, and never only generic words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from redis import Redis
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from paperlens.store.library import ProfilePaper, ReaderProfile
from tests.support import record_encodings
from tests.test_related import demo_papers
from worker.pipeline import citations
from worker.pipeline.rankers import explain
from worker.pipeline.rankers.choose import choose_ranker
from worker.pipeline.rankers.explain import STUDY_PREFIX, as_written
from worker.pipeline.related import IndexedPaper, RelatedIndex
from worker.pipeline.suggestions import suggest
from worker.sources import openalex

# Words that say nothing about what two papers share; none may make up a reason alone.
GENERIC = {
    "task", "tasks", "leads", "lead", "rank", "low", "model", "models", "method", "methods",
    "results", "result", "approach", "approaches", "paper", "data", "performance", "learning",
    "framework", "proposed", "propose", "novel", "new", "show", "work", "based", "using",
    "experiments", "state", "art", "existing", "significantly", "improve", "effective",
}  # fmt: skip
_QUOTED = re.compile(r"“([^”]+)”")
_WORD = re.compile(r"(?u)\b\w\w+\b")


def _content_words(text: str) -> list[str]:
    """A text's words as the explainer compares them: no stop words, plurals as singulars."""
    words = [w.lower() for w in _WORD.findall(text) if w.lower() not in ENGLISH_STOP_WORDS]
    return [w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 3 else w for w in words]


def _uses(text: str, phrase: str) -> bool:
    words, wanted = _content_words(text), _content_words(phrase)
    return any(words[i : i + len(wanted)] == wanted for i in range(len(words)))


def _not_generic(reason: str) -> None:
    """No generic word stands alone, and the reason is not made of generic words alone: a
    phrase such as "low rank" says what a paper does, "low" and "rank" apart do not."""
    body = re.sub(r"^(Like .*? in your list\. )?(Both discuss|All discuss|Both study:)", "", reason)
    items = [item.lower() for item in _QUOTED.findall(body)] or [body.lower()]
    assert not any(item in GENERIC for item in items), reason
    assert not all(set(_WORD.findall(item)) <= GENERIC and " " not in item for item in items)


def _check(reason: str, query: IndexedPaper, other_texts: list[str]) -> None:
    assert reason and reason.strip(), (query.paper_id, reason)
    _not_generic(reason)
    if reason.startswith(STUDY_PREFIX):
        quoted = reason.removeprefix(STUDY_PREFIX).removesuffix("\u2019").removesuffix("…")
        abstract = " ".join(query.abstract.split()).lower()
        assert quoted.lower() in abstract, (reason, query.abstract)
        return
    phrases = _QUOTED.findall(reason.split(" in your list. ")[-1])
    assert phrases, reason
    for phrase in phrases:
        assert len(_content_words(phrase)) >= 2, reason
        for text in [f"{query.title}. {query.abstract}", *other_texts]:
            assert _uses(text, phrase), (phrase, text)


@pytest.fixture(scope="module")
def demo() -> tuple[list[IndexedPaper], RelatedIndex]:
    papers = demo_papers()
    return papers, RelatedIndex.build(papers, choose_ranker("auto")[0])


def test_every_related_reason_of_the_demo_names_what_both_papers_share(
    demo: tuple[list[IndexedPaper], RelatedIndex],
) -> None:
    papers, index = demo
    by_id = {p.paper_id: p for p in papers}
    lists = index.related_many(papers, 10)
    pairs = [
        (paper, found) for paper, related in zip(papers, lists, strict=True) for found in related
    ]
    assert len(pairs) > 100
    for paper, found in pairs:
        other = by_id[found.paper_id]
        _check(found.reason, paper, [f"{other.title}. {other.abstract}"])
    reasons = [found.reason for _, found in pairs]
    assert sum(r.startswith("Both discuss “") for r in reasons) > len(reasons) / 2
    assert any(r.startswith(STUDY_PREFIX) for r in reasons)
    assert index.related_many(papers, 10) == lists  # deterministic


def test_an_index_saved_after_explaining_explains_the_same_once_loaded(
    demo: tuple[list[IndexedPaper], RelatedIndex], tmp_path: Path
) -> None:
    """What the explainer keeps of papers it explained lately is not saved with the index,
    and a loaded index quotes sentences as the one that was saved."""
    papers, index = demo
    lists = index.related_many(papers, 10)
    saved = tmp_path / "related.joblib"
    index.save(saved)
    loaded = RelatedIndex.load(saved)
    again = loaded.related_many(papers, 10)
    assert again == lists
    assert any(found.reason.startswith(STUDY_PREFIX) for related in again for found in related)


def test_a_refitted_explainer_quotes_by_its_new_space() -> None:
    """Sentence vectors kept from before a fit are not used after it: the same sentences
    are scored against the new space's papers."""
    query = IndexedPaper(
        "pl:a",
        "Survey",
        "Glaciers retreat quickly across northern valleys today. "
        "Convolutional networks classify images of every kind.",
    )
    ice = IndexedPaper("pl:b", "Ice", "Northern glaciers melt while valleys flood.")
    vision = IndexedPaper("pl:c", "Vision", "Networks that are convolutional sort pictures.")
    explainer = RelatedIndex.build([query, ice, vision], "tfidf").explainer
    first = explainer.reasons_many([query], explainer.vectors([query], [0]), [(0, 1)])
    explainer.fit([vision, IndexedPaper("pl:d", "Soil", "Wet soil holds carbon for decades.")])
    second = explainer.reasons_many([query], explainer.vectors([query], [None]), [(0, 0)])
    assert first == [f"{STUDY_PREFIX}Glaciers retreat quickly across northern valleys today\u2019"]
    assert second == [f"{STUDY_PREFIX}Convolutional networks classify images of every kind\u2019"]


def test_quotes_stay_the_same_when_more_papers_are_explained_than_are_kept(
    demo: tuple[list[IndexedPaper], RelatedIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches that overlap what is kept and overflow it (a chunk's papers explained again
    in batch after batch of earlier lists) quote as a fresh explainer would."""
    papers, index = demo
    fresh = index.related_many(papers, 10)
    monkeypatch.setattr(explain, "PAPERS_REMEMBERED", 5)
    index.explainer.forget()
    batches = [papers[start : start + 8] for start in range(0, len(papers), 4)]
    for batch in batches:
        found = index.related_many(batch, 10)
        start = papers.index(batch[0])
        assert found == fresh[start : start + len(batch)]


def test_a_paper_with_one_sentence_to_quote_is_quoted_without_encoding_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The encoder only chooses between sentences: a paper with one quotable sentence
    quotes it at no encoding, one with two has them encoded to choose."""
    one = IndexedPaper("pl:a", "Ice", "Glaciers retreat quickly across northern valleys today.")
    two = IndexedPaper(
        "pl:b",
        "Melt",
        "Northern glaciers melt while valleys flood each spring. "
        "Convolutional networks classify images of every kind.",
    )
    vision = IndexedPaper("pl:c", "Vision", "Networks that are convolutional sort pictures.")
    index = RelatedIndex.build([one, two, vision], "hybrid")
    asked = record_encodings(monkeypatch, capacity=100)

    (alone,) = index.reasons_many([one], [(0, 1)])
    assert alone == f"{STUDY_PREFIX}Glaciers retreat quickly across northern valleys today\u2019"
    assert asked == []

    (chosen,) = index.reasons_many([two], [(0, 2)])
    assert chosen == f"{STUDY_PREFIX}Convolutional networks classify images of every kind\u2019"
    assert len(asked) == 2  # its opening and the sentence closest in words


def test_reasons_name_phrases_and_fold_the_words_inside_them() -> None:
    papers = [
        IndexedPaper("pl:a", "LoRA", "Low-rank adaptation of language models for code."),
        IndexedPaper("pl:b", "QLoRA", "Quantised low-rank adaptation lowers the rank of updates."),
        IndexedPaper("pl:c", "Vision", "Convolutional networks for image classification."),
    ]
    reason = RelatedIndex.build(papers, "tfidf").related(papers[0], 1)[0].reason
    # One of the two phrases, the other's words already named: never "rank" or "low" alone.
    assert reason in ("Both discuss “Low-rank”", "Both discuss “rank adaptation”"), reason


def test_phrases_of_the_research_register_alone_are_no_reason() -> None:
    papers = [
        IndexedPaper("pl:a", "Graph coloring", "The proposed method shows experimental results."),
        IndexedPaper("pl:b", "Protein folding", "Our proposed method gives experimental results."),
        IndexedPaper("pl:c", "Vision", "Convolutional networks for image classification."),
    ]
    reason = RelatedIndex.build(papers, "tfidf").related(papers[0], 1)[0].reason
    assert reason == f"{STUDY_PREFIX}The proposed method shows experimental results\u2019", reason


def test_a_quoted_sentence_is_chosen_by_the_words_the_quote_shows() -> None:
    long_opening = (
        "In this first and deliberately long sentence we describe at length the general "
        "setting of our broad survey programme, whose closing words name glaciers, "
        "permafrost and tundra."
    )
    papers = [
        IndexedPaper(
            "pl:a", "Survey", f"{long_opening} We also count the tundra mosses each summer."
        ),
        IndexedPaper("pl:b", "Arctic", "Glaciers retreat. Permafrost thaws. Tundra warms."),
        IndexedPaper("pl:c", "Vision", "Convolutional networks for image classification."),
    ]
    reason = RelatedIndex.build(papers, "tfidf").related(papers[0], 1)[0].reason
    # The long sentence matches more words, but past the cut: its quote would show none.
    assert reason == f"{STUDY_PREFIX}We also count the tundra mosses each summer\u2019", reason


def test_a_shared_term_is_named_as_the_papers_write_it_or_not_at_all() -> None:
    texts = [
        "Routing in Sparse Models. We tackle the challenges of routing tokens.",
        "Sparse Mixture-of-Experts language models route each token to a few experts.",
    ]
    assert as_written("mixture experts", texts) == "Mixture-of-Experts"
    assert as_written("language model", texts) == "language models"
    assert as_written("sparse models", texts) == "Sparse Models"  # the first text that has it
    # The vectorizer pairs words a stop word parts; no text writes them as a phrase.
    assert as_written("tackle challenges", texts) is None
    assert as_written("routing", texts) is None


def test_every_suggestion_reason_names_phrases_or_only_the_saved_papers(
    demo: tuple[list[IndexedPaper], RelatedIndex],
) -> None:
    papers, index = demo
    by_id = {p.paper_id: p for p in papers}
    for start in range(0, 40, 4):
        saved = [
            ProfilePaper(p.paper_id, p.title, p.abstract, []) for p in papers[start : start + 3]
        ]
        profile = ReaderProfile.of_saved(saved)
        for item in suggest(index, profile, saved, 5):
            assert item.reason.startswith("Like “"), item.reason
            if " in your list. " not in item.reason:
                continue
            other = by_id[item.paper_id]
            because = [by_id[p] for p in item.because]
            texts = [f"{other.title}. {other.abstract}"]
            for phrase in _QUOTED.findall(item.reason.split(" in your list. ")[-1]):
                assert len(_content_words(phrase)) >= 2 and _uses(texts[0], phrase), item.reason
                # Quoted as a saved paper writes it, not as the vectorizer spells it.
                assert any(phrase in f"{p.title}. {p.abstract}" for p in because), item.reason
            _not_generic(item.reason)


def test_citation_facts_follow_the_graph(
    redis: Redis, demo: tuple[list[IndexedPaper], RelatedIndex]
) -> None:
    papers, index = demo
    query = papers[0]
    related = index.related(query, 3)
    assert len(related) == 3
    cited, citing, sharing = related

    def work(paper_id: str, number: int, references: list[int]) -> None:
        citations.remember(
            redis,
            paper_id,
            openalex.Work(f"W{number}", "t", referenced_works=[f"W{r}" for r in references]),
        )

    work(query.paper_id, 1, [2, 7, 8])
    work(cited.paper_id, 2, [])
    work(citing.paper_id, 3, [1])
    work(sharing.paper_id, 4, [7, 8, 9])
    reasons = [p.reason for p in citations.with_citations(redis, query.paper_id, related)]
    assert reasons == [
        f"{cited.reason}; this paper cites it",
        f"{citing.reason}; it cites this paper",
        f"{sharing.reason}; they share 2 references",
    ]
