"""Accounts and tokens as an operator manages them with the CLI."""

from __future__ import annotations

import logging
import re

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import text

from cli import main as command_line
from paperlens.settings import Settings
from paperlens.store.db import Database
from tests.readers import ReaderClient, make_reader

TOKEN = re.compile(r"pl_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def _token_in(output: str) -> str:
    found = TOKEN.findall(output)
    assert len(found) == 1, output
    return str(found[0])


def test_users_create_prints_a_working_token_once(
    settings: Settings, db: Database, client: FlaskClient
) -> None:
    runner = CliRunner()
    created = runner.invoke(command_line.main, ["users", "create", "carol"])
    assert created.exit_code == 0, created.output
    token = _token_in(created.output)
    carol = ReaderClient(client, token)
    assert carol.put("/api/v1/me/library/arxiv:2205.13147").status_code == 201

    again = runner.invoke(command_line.main, ["users", "create", "carol"])
    assert again.exit_code != 0 and "exists already" in again.output
    listed = runner.invoke(command_line.main, ["tokens", "list", "carol"])
    assert listed.exit_code == 0
    assert token.split("_")[1] in listed.output and token not in listed.output
    assert "carol\t1 live token(s)" in runner.invoke(command_line.main, ["users", "list"]).output


def test_only_a_digest_of_the_token_is_stored(settings: Settings, db: Database) -> None:
    token = _token_in(CliRunner().invoke(command_line.main, ["users", "create", "dave"]).output)
    secret = token.split("_", 2)[2]
    with db.session() as session:
        rows = session.execute(text("SELECT prefix, secret_hash, label FROM api_tokens")).all()
    assert len(rows) == 1
    assert all(token not in str(value) and secret not in str(value) for value in rows[0])
    assert len(rows[0].secret_hash) == 64


def test_tokens_create_and_revoke(settings: Settings, db: Database, client: FlaskClient) -> None:
    runner = CliRunner()
    first = _token_in(runner.invoke(command_line.main, ["users", "create", "erin"]).output)
    made = runner.invoke(command_line.main, ["tokens", "create", "erin", "--label", "laptop"])
    second = _token_in(made.output)
    assert first != second
    assert "laptop" in runner.invoke(command_line.main, ["tokens", "list"]).output

    prefix = "pl_" + first.split("_")[1]
    revoked = runner.invoke(command_line.main, ["tokens", "revoke", prefix])
    assert revoked.exit_code == 0, revoked.output
    assert ReaderClient(client, first).get("/api/v1/me/library").status_code == 401
    assert ReaderClient(client, second).get("/api/v1/me/library").status_code == 200
    assert runner.invoke(command_line.main, ["tokens", "revoke", prefix]).exit_code != 0
    assert runner.invoke(command_line.main, ["tokens", "create", "nobody"]).exit_code != 0


def test_a_token_with_a_known_prefix_but_wrong_secret_is_refused(
    settings: Settings, db: Database, client: FlaskClient
) -> None:
    token = _token_in(CliRunner().invoke(command_line.main, ["users", "create", "frank"]).output)
    forged = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    assert ReaderClient(client, forged).get("/api/v1/me/library").status_code == 401
    assert ReaderClient(client, token).get("/api/v1/me/library").status_code == 200


@pytest.mark.parametrize("name", ["", "with space", "x" * 65, "semi;colon"])
def test_user_names_are_checked(settings: Settings, db: Database, name: str) -> None:
    result = CliRunner().invoke(command_line.main, ["users", "create", name])
    assert result.exit_code != 0


def test_paperlens_run_creates_the_demo_reader_once(settings: Settings, db: Database) -> None:
    first = command_line._demo_reader_greeting(settings)
    token = _token_in(first)
    assert "PAPERLENS_TOKEN" in first
    second = command_line._demo_reader_greeting(settings)
    assert not TOKEN.search(second) and "paperlens tokens create demo" in second
    assert token not in second


def test_tokens_never_reach_the_logs(
    settings: Settings, db: Database, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = make_reader(db, "gina")
    caplog.set_level(logging.DEBUG)
    reader = ReaderClient(client, token)
    assert (
        reader.put("/api/v1/me/library/arxiv:2205.13147", json={"status": "x"}).status_code == 422
    )
    assert reader.get("/api/v1/me/library").status_code == 200
    assert ReaderClient(client, token + "x").get("/api/v1/me/library").status_code == 401
    secret = token.split("_", 2)[2]
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "/api/v1/me/library" in logged and secret not in logged
