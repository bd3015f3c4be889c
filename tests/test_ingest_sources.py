"""``paperlens ingest pwc-links | pwc-papers | bibtex | hf-daily``: the other bulk inputs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from redis import Redis

from cli.main import main
from paperlens import keys
from paperlens.settings import get_settings
from paperlens.store.db import Database
from paperlens.store.papers import count_papers, find_paper
from tests.source_server import FIXTURES, serve_fixtures, source_environment
from worker.context import reset_context
from worker.ingest.pwc import links_for

PWC_LINKS = FIXTURES / "pwc" / "links-between-papers-and-code.json.gz"


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, ["ingest", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_pwc_links_keep_their_official_flags(db: Database, redis: Redis) -> None:
    output = invoke("pwc-links", str(PWC_LINKS))
    assert "skipped item 5: repo_url None is not a web address" in output
    assert "1 filtered out, 1 bad" in output  # the link of a paper without an arXiv id
    links = {link.repo_url: link for link in links_for(redis, "arxiv:1605.08386")}
    assert links["https://github.com/example-lab/heat-bath-walks"].official is True
    assert links["https://github.com/community/heat-bath-port"].official is False
    assert links["https://github.com/community/heat-bath-port"].framework == "pytorch"
    again = invoke("pwc-links", str(PWC_LINKS))
    assert "0 new, 3 updated" in again
    assert redis.hlen(keys.pwc_links("arxiv:1605.08386")) == 2


def test_pwc_papers_dump(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "papers-with-abstracts.json.gz"
    items = [
        {
            "paper_url": "https://paperswithcode.com/paper/mrl",
            "arxiv_id": "2205.13147",
            "title": "Matryoshka Representation Learning",
            "abstract": "Learned representations ...",
            "url_abs": "https://arxiv.org/abs/2205.13147v3",
            "proceeding": "NeurIPS 2022",
            "authors": ["Aditya Kusupati", "Gantavya Bhatt"],
            "tasks": [],
            "date": "2022-05-26",
            "methods": [],
        },
        {"paper_url": "x", "arxiv_id": None, "title": "No arXiv id"},
        {"paper_url": "y", "arxiv_id": "2205.99999", "title": ""},
    ]
    with gzip.open(path, "wt") as handle:
        json.dump(items, handle)
    output = invoke("pwc-papers", str(path))
    assert "1 new" in output and "1 filtered out, 1 bad" in output and "skipped item 3" in output
    with db.session() as session:
        paper = find_paper(session, "arxiv:2205.13147")
        assert paper is not None and paper.venue == "NeurIPS 2022"
        assert str(paper.published) == "2022-05-26"


def test_bibtex_entries_land_and_broken_ones_are_reported_by_line(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "refs.bib"
    path.write_text(
        "% my reading list\n"
        "@article{mrl,\n"
        "  title = {Matryoshka Representation Learning},\n"
        "  author = {Kusupati, Aditya and Bhatt, Gantavya},\n"
        "  year = {2022},\n"
        "  eprint = {2205.13147},\n"
        "  archivePrefix = {arXiv},\n"
        "}\n"
        "@misc{broken, title = {Never closed\n"
        "@inproceedings{g,\n"
        '  title = {G{\\"o}del and {BERT}},\n'
        "  author = {Ada Example},\n"
        "  booktitle = {Proceedings of Tests},\n"
        "  doi = {10.1000/ABC.def},\n"
        "}\n"
        "@article{no-title, author = {Nobody}}\n"
    )
    output = invoke("bibtex", str(path))
    assert "skipped entry at line 9" in output and "skipped entry at line 16" in output
    assert "2 new" in output
    with db.session() as session:
        mrl = find_paper(session, "arxiv:2205.13147")
        assert mrl is not None and mrl.authors == ["Aditya Kusupati", "Gantavya Bhatt"]
        godel = find_paper(session, "doi:10.1000/abc.def")
        assert godel is not None and godel.title == "Gödel and BERT"
        assert godel.venue == "Proceedings of Tests"


def test_hf_daily_ingests_a_date_range(
    db: Database, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in source_environment(httpserver).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reset_context()
    serve_fixtures(httpserver)
    output = invoke("hf-daily", "--from", "2025-12-07", "--to", "2025-12-09")
    assert "2 new" in output
    with db.session() as session:
        assert count_papers(session) == 2
        paper = find_paper(session, "arxiv:2512.04001")
        assert paper is not None and paper.title == "A Fixture Paper on Daily Pages"
    asked = sorted(request.args["date"] for request, _ in httpserver.log)
    assert asked == ["2025-12-07", "2025-12-08", "2025-12-09"]


def test_hf_daily_refuses_without_the_source(db: Database) -> None:
    result = CliRunner().invoke(
        main, ["ingest", "hf-daily", "--from", "2025-12-07", "--to", "2025-12-08"]
    )
    assert result.exit_code != 0 and "PAPERLENS_SOURCES" in result.output
