"""Reading the CSFCube benchmark (CC BY-NC, kept outside the project) from its folder."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from paperlens.settings import PROJECT_ROOT
from worker.pipeline.rankers.base import IndexedPaper

FACETS = ("background", "method", "result")
# Where the benchmark finds the dataset: this variable, else the shared data folder beside
# the project. A benchmark option, not a setting of the running service.
FOLDER_VARIABLE = "PAPERLENS_CSFCUBE_DIR"
DEFAULT_FOLDER = PROJECT_ROOT.parent / "shared" / "data" / "csfcube"


@dataclass(frozen=True)
class QueryFacet:
    """One judged query: a query paper and the facet its candidates were graded on."""

    paper_id: str
    facet: str


@dataclass
class CsfCube:
    papers: list[IndexedPaper]
    pools: dict[str, list[str]]
    grades: dict[QueryFacet, dict[str, int]]
    splits: dict[str, list[QueryFacet]]
    cited: dict[str, set[str]]

    @property
    def query_ids(self) -> list[str]:
        return sorted(self.pools)

    def best_grades(self, query_id: str) -> dict[str, int]:
        """Each candidate's highest grade over the query's facets: relatedness of any kind."""
        best: dict[str, int] = {}
        for facet in FACETS:
            for cand, grade in self.grades.get(QueryFacet(query_id, facet), {}).items():
                best[cand] = max(best.get(cand, 0), grade)
        return best


def corpus_id(raw: str) -> str:
    """CSFCube's Semantic Scholar corpus ids, in the product's ``scheme:value`` form."""
    return f"corpusid:{raw}"


def default_folder() -> Path:
    """The folder ``PAPERLENS_CSFCUBE_DIR`` names, or the shared data folder."""
    named = os.environ.get(FOLDER_VARIABLE, "").strip()
    return Path(named) if named else DEFAULT_FOLDER


def add_folder_option(parser: argparse.ArgumentParser) -> None:
    """``--csfcube DIR``, the dataset's folder, for the benchmark's command lines."""
    parser.add_argument(
        "--csfcube",
        type=Path,
        default=default_folder(),
        metavar="DIR",
        help=f"CSFCube's folder (default: ${FOLDER_VARIABLE} if set, else {DEFAULT_FOLDER})",
    )


def from_command_line(prog: str, argv: list[str] | None) -> tuple[CsfCube | None, bool]:
    """The CSFCube a measuring command reads (None, said on stderr, when it is missing) and
    whether ``--no-record`` asks to print only, leaving ``bench/RESULTS.md`` as it is."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md")
    add_folder_option(parser)
    args = parser.parse_args(argv)
    try:
        return load(args.csfcube), args.no_record
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return None, args.no_record


def load(folder: Path) -> CsfCube:
    """The whole benchmark, with every id in the product's ``corpusid:<n>`` form."""
    if not (folder / "corpus.jsonl").exists():
        raise FileNotFoundError(
            f"CSFCube not found in {folder}: set {FOLDER_VARIABLE} to its folder"
        )
    papers = [_paper(json.loads(line)) for line in _lines(folder / "corpus.jsonl")]
    held = {paper.paper_id for paper in papers}
    raw_pools = json.loads((folder / "test-pid2pool-csfcube.json").read_text())
    # A few pooled candidates were never judged and are missing from the corpus.
    pools = {
        corpus_id(q): [corpus_id(c) for c in pool["cands"] if corpus_id(c) in held]
        for q, pool in raw_pools.items()
    }
    grades: dict[QueryFacet, dict[str, int]] = defaultdict(dict)
    for line in _lines(folder / "qrels.jsonl"):
        judged = json.loads(line)
        key = QueryFacet(corpus_id(judged["query_pid"]), judged["facet"])
        grades[key][corpus_id(judged["cand_pid"])] = int(judged["relevance"])
    raw_splits = json.loads((folder / "evaluation_splits.json").read_text())["all"]
    splits = {
        name: [QueryFacet(corpus_id(q.split("_")[0]), q.split("_")[1]) for q in entries]
        for name, entries in raw_splits.items()
    }
    cited: dict[str, set[str]] = defaultdict(set)
    with (folder / "citation_edges_query_cites_cand.tsv").open(encoding="utf-8") as handle:
        for edge in csv.DictReader(handle, delimiter="\t"):
            cited[corpus_id(edge["citing_pid"])].add(corpus_id(edge["cited_pid"]))
    return CsfCube(papers, pools, dict(grades), splits, dict(cited))


def as_jsonl_records(cube: CsfCube) -> list[dict[str, str]]:
    """The corpus as ``paperlens ingest jsonl`` records."""
    return [{"id": p.paper_id, "title": p.title, "abstract": p.abstract} for p in cube.papers]


def _paper(raw: dict[str, str]) -> IndexedPaper:
    return IndexedPaper(corpus_id(raw["paper_id"]), raw["title"], raw["abstract"])


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
