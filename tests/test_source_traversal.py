"""What an anonymous reader could do to the sources through an id: climb out of a source's
base path with dot segments (plain or encoded) and reach other paths of its host with the
instance's keys, or have an id of their choosing filed as an alias of a real paper (and so
printed into other readers' exports). Real API, workers, Redis and store; each source is
a recording fixture server of its own (``SourceFleet``)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from redis import Redis

from paperlens.store.db import Database
from paperlens.store.papers import canonical_ids, find_paper
from tests.source_server import FIXTURES, SourceFleet
from tests.support import run_workers
from worker.sources import github
from worker.sources.http import HostNotAllowed, SourceSession

HEAT_BATH_WORK = json.loads((FIXTURES / "openalex" / "work_arxiv_1605.08386.json").read_text())
MRL = "arxiv:2205.13147"
# The only GitHub API path PaperLens has any business asking for.
REPO_API_PATH = re.compile(r"/github/repos/[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")

# Ids that climb from a source's base path to another source's (they share nothing in a
# deployment, but here each sits at its own server, so any climb is seen) or to the root.
CLIMBING_IDS = [
    "doi:10.1234/x/../../../github/repos/RAIVNLab/MRL",
    "doi:10.1234/../../../openalex/works/doi:10.48550/arxiv.1605.08386",
    "10.1234/x/../../..",
    "doi:10.1234/%2E%2E/%2E%2E/%2E%2E/github/user",
    "doi:10.1234/x/..%2F..%2F..%2Fgithub%2Fuser",
    "doi:10.1234/./../..",
    "https://doi.org/10.1234/x/..%2F..%2F..%2Fgithub",
    "doi:10.1234/x\\..\\..\\github",
]


def test_an_id_with_dot_segments_never_leaves_a_sources_base_path(
    source_fleet: SourceFleet, client: FlaskClient, demo: Database, redis: Redis
) -> None:
    answers = []
    for paper_id in CLIMBING_IDS:
        answers.append(client.get(f"/api/v1/papers/{paper_id}"))
        answers.append(client.get(f"/api/v1/papers/{quote(paper_id, safe='')}"))
    answers.append(client.post("/api/v1/papers/batch", json={"ids": CLIMBING_IDS}))
    run_workers(redis)
    assert [a.status_code for a in answers[:-1]] == [422] * (len(answers) - 1)
    items = answers[-1].get_json()["items"]
    assert {item["status"] for item in items} == {"invalid"}
    assert source_fleet.outside_base() == []


def test_no_source_address_climbs_out_of_its_base_even_from_a_sources_own_answer(
    source_fleet: SourceFleet, demo: Database, redis: Redis
) -> None:
    """Values that come from a source's answer (a paper id Semantic Scholar gives, say)
    are path segments too: the session refuses dot segments before anything is sent."""
    from paperlens.settings import get_settings

    session = SourceSession(get_settings(), redis)
    for segments in (["graph", "v1", "paper", ".."], ["works", "x", ".", "y"], ["a", ""]):
        with pytest.raises(HostNotAllowed):
            session.get_json("openalex", segments)
    for climbing in ("/../github/user", "/works/%2E%2E/%2e%2e/x", "/works/..%2f..%2fx"):
        with pytest.raises(HostNotAllowed):
            session.get(session.endpoints["openalex"].base_url + climbing)
    # A segment is quoted whole: slashes in it cannot start new segments...
    assert session.get_json("semantic_scholar", ["recommendations", "a/b.c"]) is None
    assert source_fleet.received[-1].path == "/s2/recommendations/a%2Fb.c"
    # ...and one a server would decode into dot segments is not sent at all.
    with pytest.raises(HostNotAllowed):
        session.get_json("semantic_scholar", ["recommendations", "../../../github"])
    assert source_fleet.outside_base() == []


@pytest.mark.parametrize(
    "requested",
    [
        "doi:10.9999/attacker-chosen",
        "doi:10.9999/x}@preamble{evil}",
        "doi:10.1234/x/../../../works/doi:10.48550/arxiv.1605.08386",
    ],
)
def test_a_requesters_id_is_never_filed_as_an_alias_of_another_paper(
    source_fleet: SourceFleet,
    client: FlaskClient,
    demo: Database,
    redis: Redis,
    requested: str,
) -> None:
    """OpenAlex (Crossref has no such DOI) answers with a different work than the one
    asked for: that work's record may be stored, the requester's id must not name it."""
    work_path = "/works/doi:" + requested.removeprefix("doi:").lower()
    source_fleet.answers["openalex", work_path] = HEAT_BATH_WORK
    first = client.get(f"/api/v1/papers/{requested}")
    assert first.status_code in {202, 422}
    run_workers(redis)
    again = client.get(f"/api/v1/papers/{requested}")
    assert again.status_code in {404, 422}
    with demo.session() as session:
        assert canonical_ids(session, [requested.lower()]) == {}
        assert find_paper(session, requested.lower()) is None
    assert source_fleet.outside_base() == []


GITHUB_CLIMBS = [
    "https://github.com/../../user",
    "https://github.com/../../x",
    "https://github.com/RAIVNLab/../tree/main",
    "https://github.com/-x/../../installation/repositories",
    "https://github.com/a%2F..%2F../b",
]


@pytest.mark.parametrize("link", GITHUB_CLIMBS)
def test_a_github_link_with_dot_segments_reaches_no_other_github_api_path(
    source_fleet: SourceFleet, demo: Database, redis: Redis, link: str
) -> None:
    """A paper's official code link (here: what Hugging Face says) is looked up on
    GitHub with the instance's token only when it names an account and a repository."""
    from paperlens import job_queue, keys
    from paperlens.settings import get_settings

    source_fleet.answers["huggingface", "/api/papers/2205.13147"] = {
        "id": "2205.13147",
        "title": "Matryoshka Representation Learning",
        "githubRepo": link,
    }
    job_queue.request_enrichment(redis, get_settings(), MRL, keys.QUEUE_INTERACTIVE)
    run_workers(redis)
    asked = [r.path for r in source_fleet.received if r.source == "github"]
    assert asked and all(REPO_API_PATH.fullmatch(path) for path in asked), asked
    assert source_fleet.outside_base() == []


def test_github_repository_names_follow_githubs_rules() -> None:
    assert github.repo_path("https://github.com/RAIVNLab/MRL") == ("RAIVNLab", "MRL")
    assert github.repo_path("https://github.com/a-b/c.d_e-f") == ("a-b", "c.d_e-f")
    for bad in ("..", ".", "a%2Fb", "a b", "é", "-lead", "x" * 40):
        assert github.repo_path(f"https://github.com/{bad}/repo") is None, bad
    for bad in ("..", ".", "a%2Fb", "r" * 101, "a:b"):
        assert github.repo_path(f"https://github.com/owner/{bad}") is None, bad
