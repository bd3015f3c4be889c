"""Production mode: no development default survives; /metrics asks for its token."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pydantic import ValidationError

from cli.runner import gunicorn_command
from paperlens.embedded_redis import free_port
from paperlens.settings import Settings
from server import create_app
from tests.support import ROOT, fresh_environment, run_paperlens

METRICS_TOKEN = "metrics-secret-for-tests"


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The parent's environment without any PAPERLENS_ setting, plus ``values``."""
    settings = {f"PAPERLENS_{name.upper()}": value for name, value in values.items()}
    return fresh_environment({"PAPERLENS_DATA_DIR": str(tmp_path / "var"), **settings})


@pytest.mark.parametrize(
    "given, missing",
    [
        ({}, ["DATABASE_URL", "REDIS_URL", "METRICS_TOKEN"]),
        ({"database_url": "sqlite:///x.db", "redis_url": "redis://127.0.0.1:1/0"}, ["METRICS"]),
        ({"redis_url": "redis://127.0.0.1:1/0", "metrics_token": "t"}, ["DATABASE_URL"]),
        ({"database_url": "sqlite:///x.db", "metrics_token": "t"}, ["REDIS_URL"]),
        ({"database_url": " ", "redis_url": "redis://127.0.0.1:1/0", "metrics_token": "t"}, []),
    ],
)
def test_production_settings_name_every_missing_value(
    given: dict[str, str], missing: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("PAPERLENS_"):
            monkeypatch.delenv(name)
    with pytest.raises(ValidationError, match="refuses to start without") as refused:
        Settings(env="production", **given)  # type: ignore[arg-type]
    for name in missing:
        assert f"PAPERLENS_{name}" in str(refused.value)
    Settings(env="development", **given)  # type: ignore[arg-type]  # development keeps defaults


def test_gunicorn_refuses_to_start_in_production_without_its_settings(tmp_path: Path) -> None:
    """The API as `paperlens run` starts it: it exits, non-zero, naming what is missing."""
    settings = Settings(port=free_port())
    env = clean_env(tmp_path, env="production", redis_url="redis://:s3cret-pass@127.0.0.1:1/0")
    finished = subprocess.run(
        gunicorn_command(settings), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode != 0
    assert "PAPERLENS_DATABASE_URL" in finished.stderr
    assert "PAPERLENS_METRICS_TOKEN" in finished.stderr
    assert "s3cret-pass" not in finished.stderr + finished.stdout  # values are never echoed


@pytest.mark.parametrize("command", [["run"], ["api"], ["worker"], ["migrate"]])
def test_commands_refuse_production_without_settings_and_start_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    env = clean_env(tmp_path, env="production", port=str(free_port()))
    finished = run_paperlens(command, env)
    assert finished.returncode != 0
    assert "refuses to start without" in finished.stderr
    assert "Traceback" not in finished.stderr  # one clear line, not a stack
    assert not (tmp_path / "var").exists()  # no embedded Redis, no SQLite file by accident


def test_metrics_need_the_token_when_one_is_set(settings: Settings) -> None:
    app = create_app(
        settings.model_copy(update={"env": "production", "metrics_token": METRICS_TOKEN})
    )
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "unauthorized"
    unicode = client.get("/metrics", headers={"Authorization": "Bearer é"})
    assert unicode.status_code == 401
    good = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert good.status_code == 200 and b"paperlens_http_request_duration_seconds" in good.data


def test_metrics_without_a_token_answer_only_this_machine(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert remote.status_code == 403
    assert "PAPERLENS_METRICS_TOKEN" in remote.get_json()["error"]["message"]
