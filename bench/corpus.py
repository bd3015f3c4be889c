"""Synthetic corpora in the arXiv snapshot format, for benchmarks at 10k, 100k and 1M papers.

Real text cannot be shipped at this size, so the generator imitates what matters to the
pipeline: a Zipfian vocabulary (real words from the project's own sample records at the
head, pronounceable made-up words in the long tail), topics that make some papers
genuinely closer than others (each paper mixes words of one topic with background
words), the topic's own two-word phrases (a topic word is often followed by its fixed
partner, as "language" by "model"), and lengths drawn like arXiv's (titles around 10 words,
abstracts log-normal around 150 words in sentences of about 24). The same size, seed and
``VERSION`` always give the same file.

    python -m bench.corpus 100000 var/bench/corpus-100k.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# The generator's version names the folder of its corpora and of everything the benchmarks
# derive from them (vectors, indexes), so that nothing made from an earlier generator's text
# is read with this one's. 2: sentences and topic phrases (version 1 wrote each abstract as
# one sentence, and its papers shared a two-word phrase only by chance).
VERSION = 2
CACHE = ROOT / "var" / "bench" / f"corpus-v{VERSION}"
SAMPLES = [
    ROOT / "tests" / "fixtures" / "arxiv-snapshot" / "arxiv-metadata-oai-snapshot.head.jsonl",
    ROOT / "data" / "demo" / "papers.jsonl",
]
VOCABULARY_SIZE = 120_000
ZIPF_EXPONENT = 1.05
TOPIC_WORDS = 400
TOPIC_SHARE = 0.45  # share of a paper's words drawn from its topic
PAPERS_PER_TOPIC = 400
# Share of topic words followed by their partner, the topic's phrase. Chosen so that the
# explainer quotes a sentence, for want of a shared phrase, about as often as on real text:
# in TF-IDF lists (top 10 of 1,000 papers) over 4,200 papers, 36% of reasons at 0.08 (26% at
# 0.1, 64% at 0.03), against 32.8% over CSFCube's 4,205 papers and 23.2% over the demo's 59;
# version 1 of this generator had 71%.
PHRASE_SHARE = 0.08
# Words per sentence of an abstract: normal, clipped (CSFCube's abstracts run about 23).
SENTENCE_WORDS_MEAN = 24
SENTENCE_WORDS_SPREAD = 7
SENTENCE_WORDS_MIN = 8
CATEGORIES = [
    "cs.CL",
    "cs.LG",
    "cs.CV",
    "cs.AI",
    "cs.IR",
    "cs.RO",
    "cs.CR",
    "cs.DS",
    "cs.NE",
    "cs.SE",
    "stat.ML",
    "math.OC",
    "math.PR",
    "math.ST",
    "physics.comp-ph",
    "quant-ph",
    "hep-th",
    "hep-ph",
    "astro-ph.GA",
    "cond-mat.str-el",
    "q-bio.NC",
    "eess.SP",
    "eess.IV",
    "econ.EM",
]
_SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u", "ar", "en")]


def vocabulary() -> list[str]:
    """Real words by frequency first, then made-up words, up to VOCABULARY_SIZE."""
    counts: dict[str, int] = {}
    for sample in SAMPLES:
        for line in sample.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            text = f"{record.get('title', '')} {record.get('abstract', '')}".lower()
            for word in re.findall(r"[a-z]{3,}", text):
                counts[word] = counts.get(word, 0) + 1
    words = sorted(counts, key=lambda word: -counts[word])
    seen = set(words)
    rng = np.random.default_rng(7)
    while len(words) < VOCABULARY_SIZE:
        made = "".join(rng.choice(_SYLLABLES, size=int(rng.integers(2, 5))))
        if made not in seen:
            seen.add(made)
            words.append(made)
    return words


def generate(count: int, path: Path, seed: int = 1, chunk: int = 2_000) -> None:
    """Write ``count`` records; draws are vectorised per chunk, so 1M papers take minutes."""
    rng = np.random.default_rng(seed)
    words = np.array(vocabulary(), dtype=object)
    ranks = np.arange(1, len(words) + 1, dtype=np.float64)
    background_cdf = np.cumsum(ranks**-ZIPF_EXPONENT)
    background_cdf /= background_cdf[-1]
    topics = max(1, count // PAPERS_PER_TOPIC)
    # Topic words come from the middle of the frequency range, where topical terms live.
    topic_vocab = rng.integers(200, len(words) // 4, size=(topics, TOPIC_WORDS))
    topic_cdf = np.cumsum(rng.dirichlet(np.full(TOPIC_WORDS, 0.3), size=topics), axis=1)
    # One flat, increasing array: row t spans (t, t + 1], so a draw u + t finds row t's word.
    topic_cdf_flat = (topic_cdf / topic_cdf[:, -1:] + np.arange(topics)[:, None]).ravel()
    topic_of = rng.zipf(1.3, size=count) % topics
    # Each topic word's partner, another word of the topic: the pair is one of its phrases.
    partner = topic_vocab[np.arange(topics)[:, None], rng.permutation(TOPIC_WORDS)]
    path.parent.mkdir(parents=True, exist_ok=True)
    start = dt.date(2015, 1, 1)
    with path.open("w", encoding="utf-8") as out:
        for first in range(0, count, chunk):
            numbers = np.arange(first, min(first + chunk, count))
            title_lens = np.clip(rng.normal(10, 3, len(numbers)), 3, 25).astype(int)
            abstract_lens = np.clip(rng.lognormal(np.log(150), 0.35, len(numbers)), 40, 400)
            lengths = title_lens + abstract_lens.astype(int)
            owner = np.repeat(np.arange(len(numbers)), lengths)
            topic_per_word = topic_of[numbers][owner]
            from_topic = rng.random(len(owner)) < TOPIC_SHARE
            flat = np.searchsorted(topic_cdf_flat, rng.random(len(owner)) + topic_per_word)
            topical = topic_vocab.ravel()[np.minimum(flat, topic_vocab.size - 1)]
            common = np.searchsorted(background_cdf, rng.random(len(owner)))
            chosen = np.where(from_topic, topical, np.minimum(common, len(words) - 1))
            phrase = from_topic[:-1] & (rng.random(len(owner) - 1) < PHRASE_SHARE)
            phrase &= owner[:-1] == owner[1:]
            starts = np.flatnonzero(phrase)
            chosen[starts + 1] = partner.ravel()[np.minimum(flat[starts], partner.size - 1)]
            picked = words[chosen]
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            for i, number in enumerate(numbers):
                text = picked[offsets[i] : offsets[i + 1]]
                day = start + dt.timedelta(days=int(number) * 3650 // max(count, 1))
                record = _record(
                    int(number), day, int(topic_of[number]), text, int(title_lens[i]), rng
                )
                out.write(json.dumps(record) + "\n")


def _record(
    number: int,
    day: dt.date,
    topic: int,
    text: np.ndarray,
    title_len: int,
    rng: np.random.Generator,
) -> dict[str, object]:
    authors = [
        (f"Author{int(a)}", f"{chr(65 + int(a) % 26)}.")
        for a in rng.integers(0, 50_000, size=int(rng.integers(1, 8)))
    ]
    category = CATEGORIES[topic % len(CATEGORIES)]
    arxiv_id = f"{day:%y%m}.{number % 99_999 + 1:05d}"
    created = f"{day:%a, %d %b %Y} 12:00:00 GMT"
    return {
        "id": arxiv_id,
        "submitter": f"{authors[0][1]} {authors[0][0]}",
        "authors": ", ".join(f"{given} {family}" for family, given in authors),
        "title": " ".join(text[:title_len]).capitalize(),
        "comments": None,
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": category,
        "license": None,
        "abstract": _sentences(text[title_len:], rng),
        "versions": [{"version": "v1", "created": created}],
        "update_date": day.isoformat(),
        "authors_parsed": [[family, given, ""] for family, given in authors],
    }


def _sentences(words: np.ndarray, rng: np.random.Generator) -> str:
    """``words`` as sentences: each capitalised and ended by a full stop."""
    sentences = []
    start = 0
    while start < len(words):
        length = max(
            SENTENCE_WORDS_MIN, int(rng.normal(SENTENCE_WORDS_MEAN, SENTENCE_WORDS_SPREAD))
        )
        if len(words) - (start + length) < SENTENCE_WORDS_MIN:
            length = len(words) - start  # no stub of a sentence at the end
        sentences.append(" ".join(words[start : start + length]).capitalize() + ".")
        start += length
    return " ".join(sentences)


def cached(count: int) -> Path:
    """The corpus of ``count`` papers under var/bench, generated on first use."""
    path = CACHE / f"corpus-{count}.jsonl"
    if not path.exists():
        generate(count, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.count, args.out, args.seed)


if __name__ == "__main__":
    main()
