"""Why two papers are related, in terms a researcher can check against both abstracts.

The rule, chosen by reading the reasons of every related pair of the demo corpus and of
sixty CSFCube papers (docs/reasons.md shows them before and after):

1. Key phrases both papers use: two content words in a row in the query paper's own text
   ("low-rank", "catastrophic forgetting", "Mixture-of-Experts"), found among the two-word
   terms of the TF-IDF space and weighted by what they add to the cosine. A phrase that
   shares a word with a heavier one is left out, so a word is named once. Single words are
   never named: alone they were mostly generic ("task", "leads", "model") and said little
   about what the two papers have in common.
2. When the papers share no such phrase, the query paper's sentence closest to the other
   paper, shortened at a word boundary and quoted after "Both study:". Sentences are scored by the
   dense encoder the hybrid ranker already loaded (a sentence against the other paper's
   stored embedding, so only the query paper's few sentences are encoded), or by TF-IDF
   cosine on an installation without it, each as it would be quoted (its lead-in dropped,
   cut to length): a long sentence whose matching words fall past the cut would otherwise be
   quoted without them. Read side by side with scoring whole sentences, the quotes this
   changed named the shared subject better in 14 pairs and worse in 7 (of 28 read: the demo
   corpus's 14 changed quotes and 14 of CSFCube's), and the encoder reads a third fewer tokens.

Citations are added later, where the graph knows them (``worker.pipeline.citations``).
Both steps are deterministic: ties are broken by position in the text.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from worker.pipeline.packed import PackedStrings, PackedVocabulary
from worker.pipeline.rankers.base import IndexedPaper
from worker.pipeline.rankers.tfidf import TfidfRanker

# Key phrases named in one reason: two read as a topic, three already as a list.
REASON_PHRASES = 2
# The explainer's words and two-word phrases: at most this many, chosen from at most this
# many papers (see ``TfidfRanker``). Neither binds on small corpora such as the demo's.
MAX_TERMS = 1_000_000
VOCABULARY_SAMPLE = 200_000
# A quoted sentence is cut at the last word boundary before this many characters.
EXCERPT_CHARS = 110
# Sentences shorter than this many words are headings or fragments, not a claim to quote.
_MIN_SENTENCE_WORDS = 6
# Sentences of the opening the dense encoder always considers (see ``_shortlist``).
_OPENING_SENTENCES = 1
# A sentence's opening clause this short ("However", "To this end") is a connective.
_LEAD_IN_WORDS = 4
# Papers whose words, sentences and sentence vectors are kept once worked out: an update's
# chunk of 200 papers explains them for their own lists, then again in every batch of
# earlier lists they enter (``worker.pipeline.gains``), which was a quarter of that work.
PAPERS_REMEMBERED = 1_024


def _stem(word: str) -> str:
    """A plural's singular, crudely: enough that "graph neural networks" matches "network"."""
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


# Words of the research register that say nothing about a paper's subject: a phrase made
# only of them ("proposed method", "experimental results") is not a reason.
GENERIC_WORDS = frozenset(
    _stem(word)
    for word in (
        "ability",
        "abilities",
        "achieve",
        "achieves",
        "approach",
        "approaches",
        "arise",
        "arises",
        "based",
        "benchmark",
        "benchmarks",
        "capability",
        "capabilities",
        "data",
        "dataset",
        "datasets",
        "demonstrate",
        "demonstrates",
        "downstream",
        "effective",
        "efficient",
        "enhance",
        "enhanced",
        "enhances",
        "existing",
        "experiment",
        "experimental",
        "experiments",
        "extensive",
        "framework",
        "frameworks",
        "improve",
        "improved",
        "improvement",
        "improvements",
        "introduce",
        "introduces",
        "key",
        "lead",
        "leads",
        "leverage",
        "method",
        "methods",
        "model",
        "models",
        "new",
        "novel",
        "open",
        "paper",
        "performance",
        "problem",
        "problems",
        "promise",
        "promising",
        "propose",
        "proposed",
        "rank",
        "recent",
        "research",
        "result",
        "results",
        "show",
        "shown",
        "shows",
        "significant",
        "significantly",
        "set",
        "source",
        "state",
        "art",
        "study",
        "task",
        "tasks",
        "technique",
        "techniques",
        "use",
        "used",
        "using",
        "various",
        "wide",
        "work",
        "works",
    )
)

# The vectorizer's tokens (scikit-learn's default pattern) and where the text they come
# from is cut: a phrase runs only over spaces and hyphens between its words.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_JOINER = re.compile("[\\s\\-\u2010\u2011\u2013]*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(“\"'])")

# A quoted sentence is set in single quotation marks, shared phrases in double ones.
STUDY_PREFIX = "Both study: \u2018"
_CLOSE_QUOTE = "\u2019"

SentenceScorer = Callable[[Sequence[tuple[Sequence[str], Sequence[int]]]], list[np.ndarray]]
"""For each (sentences of a paper, indexed rows) group, the similarities of the sentences
(rows) to the indexed papers (columns). Groups come together so that an encoder can take
all their sentences in one call, which keeps its threads busy."""


@dataclass(frozen=True)
class _Phrase:
    text: str
    words: tuple[str, ...]
    weight: float
    start: int


class Explainer:
    """Key phrases both papers use, else the closest sentence; see the module's docstring."""

    def __init__(self) -> None:
        self.tfidf = TfidfRanker(
            ngram_max=2, max_terms=MAX_TERMS, vocabulary_sample=VOCABULARY_SAMPLE
        )
        self._sentence_vectors: dict[tuple[str, ...], sparse.csr_matrix] = {}

    def __getstate__(self) -> dict[str, Any]:
        """The sentence vectors of recent papers are not saved with the index."""
        return {name: value for name, value in self.__dict__.items() if name != "_sentence_vectors"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._sentence_vectors = {}

    def fit(self, papers: Sequence[IndexedPaper]) -> None:
        self.tfidf.fit(papers)
        self._sentence_vectors.clear()  # rows of the space before this fit
        vocabulary = self.tfidf.vectorizer.vocabulary_
        assert isinstance(vocabulary, PackedVocabulary)  # as ``TfidfRanker.fit`` leaves it
        self._terms = vocabulary.terms  # the terms by column already: one copy for both

    def forget(self) -> None:
        """Drop what was kept of papers explained lately (``PAPERS_REMEMBERED``), so that
        what comes next works them out as a fresh worker would: a benchmark timing two ways
        of making the same lists would otherwise time the second without that work."""
        self._sentence_vectors.clear()
        _runs.cache_clear()
        _quoted_sentences.cache_clear()

    def extend(self, papers: Sequence[IndexedPaper]) -> None:
        """Append ``papers``' rows; the terms stay those of the fit."""
        self.tfidf.extend(papers)

    @property
    def terms(self) -> PackedStrings:
        """The space's words and phrases by column, made once per fit (making them takes
        seconds with a large vocabulary)."""
        return self._terms

    def vectors(
        self, papers: Sequence[IndexedPaper], rows: Sequence[int | None]
    ) -> sparse.csr_matrix:
        return self.tfidf.vectors(papers, rows)

    def reasons_many(
        self,
        papers: Sequence[IndexedPaper],
        queries: sparse.csr_matrix,
        pairs: Sequence[tuple[int, int]],
        sentences_to: SentenceScorer | None = None,
    ) -> list[str]:
        """Why each (position in ``papers``, indexed row) pair is related.

        ``queries`` are the papers' rows in the explainer's space; ``sentences_to`` scores
        sentences against an indexed paper (TF-IDF cosine without it). The shared terms of
        all pairs come from one sparse product; each paper's text is read once.
        """
        if not pairs:
            return []
        left = queries[[query for query, _ in pairs]]
        right = self.tfidf.rows([row for _, row in pairs])
        overlap = left.multiply(right).tocsr()
        bounds = overlap.indptr
        texts: dict[int, str] = {}
        runs: dict[int, Runs] = {}
        reasons: list[str | None] = []
        unphrased: dict[int, list[int]] = {}
        for i, (query, _) in enumerate(pairs):
            if query not in runs:
                texts[query] = _own_text(papers[query])
                runs[query] = _runs(texts[query])
            shared: dict[str, float] = {}
            for term, weight in zip(
                overlap.indices[bounds[i] : bounds[i + 1]],
                overlap.data[bounds[i] : bounds[i + 1]],
                strict=True,
            ):
                words = str(self._terms[term]).split()
                if len(words) == 2:
                    key = f"{_stem(words[0])} {_stem(words[1])}"
                    shared[key] = shared.get(key, 0.0) + float(weight)
            phrases = key_phrases(texts[query], runs[query], shared)
            reasons.append(shared_terms_phrase([p.text for p in phrases]) if phrases else None)
            if not phrases:
                unphrased.setdefault(query, []).append(i)
        # The closest sentence, for the pairs that share no phrase; all papers' sentences are
        # scored in one call each, by TF-IDF and then (shortlisted) by the encoder. Each is
        # scored as it would be quoted (``_quoted``), so what is shown is what matched.
        split = [
            (positions, _quoted_sentences(papers[query].abstract))
            for query, positions in unphrased.items()
        ]
        split = [(positions, sentences) for positions, sentences in split if sentences]
        asked = [(sentences, [pairs[i][1] for i in positions]) for positions, sentences in split]
        similarities = self._tfidf_sentences_to(asked)
        if sentences_to is not None:
            asked = [
                (_shortlist(sentences, lexical), rows)
                for (sentences, rows), lexical in zip(asked, similarities, strict=True)
            ]
            # A paper left with one sentence to quote quotes it: nothing to encode.
            encoded = iter(sentences_to([group for group in asked if len(group[0]) > 1]))
            similarities = [
                next(encoded) if len(sentences) > 1 else np.zeros((1, len(rows)))
                for sentences, rows in asked
            ]
        for (positions, _), (sentences, _), similarity in zip(
            split, asked, similarities, strict=True
        ):
            for column, i in enumerate(positions):
                best = int(np.argmax(similarity[:, column]))  # the first of equals
                reasons[i] = f"{STUDY_PREFIX}{sentences[best]}{_CLOSE_QUOTE}"
        return [reason or shared_terms_phrase([]) for reason in reasons]

    def _tfidf_sentences_to(
        self, groups: Sequence[tuple[Sequence[str], Sequence[int]]]
    ) -> list[np.ndarray]:
        """A ``SentenceScorer`` by TF-IDF cosine; every (sentence, row) pair of all groups in
        one elementwise product: a product per group cost more in SciPy's overhead than in
        arithmetic (a twelfth of an increment's chunks)."""
        if not any(sentences for sentences, _ in groups):
            return []
        vectors = self._vectors_of_sentences([tuple(sentences) for sentences, _ in groups])
        sentence_of: list[np.ndarray] = []
        row_of: list[np.ndarray] = []
        start = 0
        for sentences, rows in groups:
            sentence_of.append(np.repeat(np.arange(start, start + len(sentences)), len(rows)))
            row_of.append(np.tile(np.asarray(rows, dtype=np.int64), len(sentences)))
            start += len(sentences)
        left = vectors[np.concatenate(sentence_of)]
        right = self.tfidf.rows(np.concatenate(row_of))
        cosines = np.asarray(left.multiply(right).sum(axis=1), dtype=np.float64).ravel()
        found = []
        start = 0
        for sentences, rows in groups:
            size = len(sentences) * len(rows)
            found.append(cosines[start : start + size].reshape(len(sentences), len(rows)))
            start += size
        return found

    def _vectors_of_sentences(self, groups: Sequence[tuple[str, ...]]) -> sparse.csr_matrix:
        """The TF-IDF rows of the sentences of ``groups``, in order; those not seen lately in
        one ``transform``, whose fixed cost is most of a single paper's."""
        remembered = self._sentence_vectors
        unseen = list(dict.fromkeys(group for group in groups if group not in remembered))
        if len(remembered) + len(unseen) > PAPERS_REMEMBERED:
            remembered.clear()
            unseen = list(dict.fromkeys(groups))
        if unseen:
            vectors = self.tfidf.vectorizer.transform([s for group in unseen for s in group])
            bounds = np.cumsum([0, *map(len, unseen)])
            for group, start, end in zip(unseen, bounds[:-1], bounds[1:], strict=True):
                remembered[group] = vectors[start:end]
        return sparse.vstack([remembered[group] for group in groups], format="csr")


def _shortlist(sentences: Sequence[str], lexical: np.ndarray) -> tuple[str, ...]:
    """The sentences worth encoding, in text order: the first, where an abstract states its
    subject, and each pair's lexically closest. Encoding the sentences is most of a related
    list's time, each costing what its tokens cost; with the first three instead of the first
    (a third more sentences on CSFCube) the quotes that differed read no better, blind, side
    by side (docs/reasons.md)."""
    kept = set(range(min(_OPENING_SENTENCES, len(sentences))))
    kept.update(int(best) for best in np.argmax(lexical, axis=0))
    return tuple(sentences[i] for i in sorted(kept))


def key_phrases(
    text: str, runs: Sequence[Sequence[tuple[str, int, int]]], shared: dict[str, float]
) -> list[_Phrase]:
    """The informative two-word phrases of ``text`` that ``shared`` holds, heaviest first.

    ``runs`` are its stretches of content words (see ``_runs``); ``shared`` maps the
    two-word terms both papers use (as stems, see ``_stem``) to their weight. A phrase
    sharing a word with a heavier one is left out, so a word is named once. Longer phrases
    are not named: the other paper's text is not at hand, and two shared two-word terms
    ("language models", "models exhibit") need not be one phrase in it.
    """
    found: list[_Phrase] = []
    for run in runs:
        for (first, start, _), (second, _, end) in itertools.pairwise(run):
            weight = shared.get(f"{first} {second}")
            if weight is not None and not {first, second} <= GENERIC_WORDS:
                found.append(_Phrase(text[start:end], (first, second), weight, start))
    found.sort(key=lambda p: (-p.weight, p.start))
    chosen: list[_Phrase] = []
    for phrase in found:
        stems = _stems(" ".join(phrase.words))
        if any(stems & _stems(" ".join(other.words)) for other in chosen):
            continue
        chosen.append(phrase)
        if len(chosen) == REASON_PHRASES:
            break
    return chosen


def informative_terms(
    terms: Sequence[str],
    indices: np.ndarray,
    weights: np.ndarray,
    texts: Sequence[str],
    limit: int = REASON_PHRASES,
) -> list[str]:
    """The heaviest shared terms of several words, no word named twice, none only generic,
    each as one of ``texts`` writes it as a phrase (see ``as_written``).

    For overlaps of which only one side's texts are at hand (a suggestion against the
    papers of a reader's list, whose texts these are): the explainer's two-word terms.
    """
    chosen: list[str] = []
    named: list[str] = []
    for position in np.argsort(-weights, kind="stable"):
        term = str(terms[indices[position]])
        words = term.split()
        if len(words) < 2 or all(word in GENERIC_WORDS for word in words):
            continue
        if any(_stems(term) & _stems(other) for other in chosen):
            continue
        written = as_written(term, texts)
        if written is None:
            continue
        chosen.append(term)
        named.append(written)
        if len(chosen) == limit:
            break
    return named


def as_written(term: str, texts: Sequence[str]) -> str | None:
    """A two-word ``term`` as the vectorizer spells it ("mixture experts") the way the first
    of ``texts`` that uses it as a phrase writes it ("Mixture-of-Experts"); None when none
    does (the vectorizer also pairs words a stop word parts: "tackle the challenges")."""
    words = term.split()
    if len(words) != 2:
        return None
    wanted = (_stem(_normalise(words[0])), _stem(_normalise(words[1])))
    for text in texts:
        if (written := _phrases_of(text).get(wanted)) is not None:
            return written
    return None


@functools.lru_cache(maxsize=4_096)
def _phrases_of(text: str) -> dict[tuple[str, str], str]:
    """Each pair of stems ``text`` writes as a two-word phrase, and the phrase's first
    writing: a reader's saved papers are asked about again and again for their reasons."""
    found: dict[tuple[str, str], str] = {}
    for run in _runs(text):
        for (first, start, _), (second, _, end) in itertools.pairwise(run):
            found.setdefault((first, second), text[start:end])
    return found


def _own_text(paper: IndexedPaper) -> str:
    """Title and abstract as the reader sees them (``IndexedPaper.text`` drops numbers, so
    its phrases could join words the paper keeps apart)."""
    return f"{paper.title}. {paper.abstract}"


Runs = tuple[tuple[tuple[str, int, int], ...], ...]


@functools.lru_cache(maxsize=PAPERS_REMEMBERED)
def _runs(text: str) -> Runs:
    """Stretches of content words, as (stem, start, end) in ``text``: cut at stop words,
    numbers, one-letter tokens and any punctuation other than a hyphen. A stop word inside
    a hyphenated compound ("mixture-of-experts", "in-context") is skipped, as the vectorizer
    skips it, and stays in the phrase's text."""
    runs: list[list[tuple[str, int, int]]] = [[]]
    previous_end: int | None = None
    compound_start: int | None = None
    for match in _TOKEN.finditer(text):
        token = _normalise(match.group())
        joined = previous_end is not None and _JOINER.fullmatch(text, previous_end, match.start())
        if not joined and runs[-1]:
            runs.append([])
        if token in ENGLISH_STOP_WORDS and text.startswith("-", match.end()):
            compound_start = match.start() if compound_start is None else compound_start
            previous_end = match.end()
            continue
        if token in ENGLISH_STOP_WORDS or token.isdigit():
            if runs[-1]:
                runs.append([])
            previous_end = compound_start = None
            continue
        start = match.start() if compound_start is None else compound_start
        runs[-1].append((_stem(token), start, match.end()))
        previous_end, compound_start = match.end(), None
    return tuple(tuple(run) for run in runs if len(run) > 1)


@functools.lru_cache(maxsize=65_536)
def _normalise(token: str) -> str:
    """As the vectorizer reads a token: lower case, accents stripped."""
    decomposed = unicodedata.normalize("NFKD", token.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=PAPERS_REMEMBERED)
def _quoted_sentences(abstract: str) -> tuple[str, ...]:
    """The abstract's sentences as a reason would quote them (``_quoted``)."""
    return tuple(_quoted(sentence) for sentence in _sentences(abstract))


def _sentences(abstract: str) -> list[str]:
    found = [s.strip() for s in _SENTENCE_END.split(abstract) if s.strip()]
    return [s for s in found if len(s.split()) >= _MIN_SENTENCE_WORDS]


def _quoted(sentence: str) -> str:
    """A sentence as a reason quotes it: its claim (``_claim``), cut to ``EXCERPT_CHARS``."""
    return excerpt(_claim(sentence))


def _claim(sentence: str) -> str:
    """The sentence without a short lead-in ("To this end, we …" reads as "We …")."""
    lead, comma, rest = sentence.partition(", ")
    if comma and len(lead.split()) <= _LEAD_IN_WORDS and len(rest.split()) >= _MIN_SENTENCE_WORDS:
        return rest[0].upper() + rest[1:]
    return sentence


def excerpt(sentence: str, limit: int = EXCERPT_CHARS) -> str:
    """``sentence`` without its final stop, cut at the last word boundary within ``limit``."""
    sentence = " ".join(sentence.split()).rstrip(".")
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit // 2 else cut
    return cut.rstrip(" ,;:-(") + "…"


@functools.lru_cache(maxsize=65_536)
def _stems(term: str) -> frozenset[str]:
    """Crude stems, enough that "debate" and "online debates" count as one topic."""
    return frozenset(
        word[:-1] if word.endswith("s") and len(word) > 3 else word for word in term.split()
    )


def shared_terms_phrase(terms: Sequence[str]) -> str:
    if not terms:
        return "Close in topic, though worded differently"
    quoted = [f"“{term}”" for term in terms]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    return f"Both discuss {listed}"
