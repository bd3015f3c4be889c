"""Code links as a reader wants them: one clean link per repository or page."""

from __future__ import annotations

import pytest

from worker.pipeline.links import extract_links


def urls(text: str) -> list[str]:
    return [link.url for link in extract_links([("abstract", text)], official=True)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Code: https://github.com/cacayaya/DRIFT.git.", ["https://github.com/cacayaya/DRIFT"]),
        ("at https://github.com/RAIVNLab/MRL.", ["https://github.com/RAIVNLab/MRL"]),
        ("(see https://github.com/a/b).", ["https://github.com/a/b"]),
        ("https://github.com/a/b/issues/3", ["https://github.com/a/b"]),
        (
            "https://github.com/ekinakyurek/google-research/blob/master/incontext.",
            ["https://github.com/ekinakyurek/google-research/tree/master/incontext"],
        ),
        ("https://gitlab.com/g/p/-/tree/main/src", ["https://gitlab.com/g/p/tree/main/src"]),
        ("code at github.com/a/b, data elsewhere", ["https://github.com/a/b"]),
        ("https://bitbucket.org/team/repo.git", ["https://bitbucket.org/team/repo"]),
        ("project page https://videorepa.github.io/.", ["https://videorepa.github.io"]),
        ("See https://arxiv.org/abs/2205.13147 and https://doi.org/10.1/x", []),
        ("no links here, just github and a.b", []),
    ],
)
def test_links_are_normalised(text: str, expected: list[str]) -> None:
    assert urls(text) == expected


def test_duplicates_merge_and_keep_first_source() -> None:
    links = extract_links(
        [
            ("abstract", "https://github.com/A/B and https://github.com/a/b.git"),
            ("comments", "Code: https://github.com/a/b/"),
        ],
        official=True,
    )
    assert [(link.url, link.source) for link in links] == [("https://github.com/A/B", "abstract")]


def test_hub_links_are_classified_by_kind() -> None:
    links = extract_links(
        [
            (
                "comments",
                "Weights https://huggingface.co/org/model-7b, data "
                "https://huggingface.co/datasets/org/set and demo "
                "https://huggingface.co/spaces/org/demo; paper "
                "https://huggingface.co/papers/2205.13147",
            )
        ],
        official=True,
    )
    assert [(link.kind, link.url) for link in links] == [
        ("model", "https://huggingface.co/org/model-7b"),
        ("dataset", "https://huggingface.co/datasets/org/set"),
        ("space", "https://huggingface.co/spaces/org/demo"),
    ]


def test_repositories_come_before_project_pages() -> None:
    links = extract_links(
        [("abstract", "Page: https://x.github.io/p. Code: https://github.com/x/p.")],
        official=True,
    )
    assert [link.kind for link in links] == ["repository", "project_page"]
    assert all(link.official and link.host for link in links)
