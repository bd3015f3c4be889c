"""Logs for people and machines: a real ``paperlens`` process writes sentences to a
terminal and JSON lines to a pipe, unless ``PAPERLENS_LOG_FORMAT`` says otherwise."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
from collections.abc import Iterator

import pytest
from gunicorn.config import Config  # type: ignore[import-untyped]

from cli.runner import worker_command
from paperlens import logs
from paperlens.settings import Settings, get_settings
from tests.support import ROOT, OnTerminal


def worker_output(settings: Settings, terminal: bool, log_format: str | None) -> str:
    """What ``paperlens worker --burst`` writes to its stderr, a terminal or a pipe."""
    env = {key: value for key, value in os.environ.items() if key != "PAPERLENS_LOG_FORMAT"}
    if log_format is not None:
        env["PAPERLENS_LOG_FORMAT"] = log_format
    command = [*worker_command(), "--burst"]
    if not terminal:
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stderr.decode()
    return OnTerminal(command, env).wait()[1]


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_terminal_gets_sentences_and_a_pipe_gets_json_lines(settings: Settings) -> None:
    on_terminal = worker_output(settings, terminal=True, log_format=None)
    assert "INFO" in on_terminal and "rq.worker:" in on_terminal, on_terminal
    assert not any(line.lstrip().startswith("{") for line in on_terminal.splitlines())

    in_pipe = json_lines(worker_output(settings, terminal=False, log_format=None))
    assert in_pipe and all(line["level"] in {"INFO", "WARNING", "DEBUG"} for line in in_pipe)
    assert any(line["logger"] == "rq.worker" for line in in_pipe), in_pipe


def test_the_setting_overrides_what_the_stream_suggests(settings: Settings) -> None:
    assert json_lines(worker_output(settings, terminal=True, log_format="json"))
    as_text = worker_output(settings, terminal=False, log_format="text")
    assert "rq.worker:" in as_text and not as_text.lstrip().startswith("{"), as_text


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield root
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_a_text_line_carries_its_details_and_request(root_logger: logging.Logger) -> None:
    buffer = io.StringIO()
    logs.configure("INFO", "text", buffer)
    token = logs.request_id_var.set("trace-789")
    try:
        logging.getLogger("paperlens.requests").info(
            "request", extra={"method": "GET", "status": 202, "duration_ms": 1.5}
        )
    finally:
        logs.request_id_var.reset(token)
    line = buffer.getvalue().strip()
    assert "INFO" in line and "paperlens.requests: request" in line, line
    assert "method=GET status=202 duration_ms=1.5" in line, line
    assert line.endswith("[request trace-789]"), line


def test_gunicorns_own_lines_use_the_apps_format(
    root_logger: logging.Logger,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PAPERLENS_LOG_FORMAT", "json")
    get_settings.cache_clear()
    try:
        logger = logs.GunicornLogger(Config())
        logger.info("Booting worker with pid: %s", 4242)
    finally:
        get_settings.cache_clear()
    lines = json_lines(capsys.readouterr().err)
    assert {"logger": "gunicorn.error", "message": "Booting worker with pid: 4242"}.items() <= (
        lines[-1].items()
    ), lines
