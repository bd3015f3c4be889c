"""``paperlens run``: the whole stack on one machine, started and stopped as one.

Each part is a child process in its own session, so a Ctrl-C reaches only this
supervisor, which then stops the parts in order: API and workers first (they
finish what is in flight), the embedded Redis last (it flushes its append-only file).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import click

from paperlens import redis_client
from paperlens.credentials import redact_url
from paperlens.embedded_redis import EmbeddedRedis
from paperlens.settings import Settings

API_STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 20.0


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis: EmbeddedRedis | None = None
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.stopping = False

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PAPERLENS_DATA_DIR"] = str(self.settings.data_path)
        env["PAPERLENS_REDIS_URL"] = self.settings.effective_redis_url
        env["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics_dir)
        return env

    @property
    def metrics_dir(self) -> Path:
        """Per-process metric files of the gunicorn workers, emptied at each start."""
        return self.settings.data_path / "metrics"

    def reset_metrics(self) -> None:
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        self.metrics_dir.mkdir(parents=True)

    def start_redis(self) -> None:
        if not self.settings.uses_embedded_redis:
            return
        socket = self.settings.embedded_redis_socket
        if socket.exists() and _answers(self.settings):
            raise click.ClickException(
                f"an instance is already running on {socket}; stop it or choose another "
                "PAPERLENS_DATA_DIR"
            )
        self.redis = EmbeddedRedis(socket.parent, socket=socket)
        self.redis.start()

    def spawn(self, name: str, args: list[str]) -> None:
        process = subprocess.Popen(args, env=self.child_env(), start_new_session=True)
        self.children.append((name, process))

    def wait_for_api(self) -> None:
        url = f"http://{self.settings.host}:{self.settings.port}/healthz"
        deadline = time.monotonic() + API_STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and not self.stopping:
            self.check_children()
            try:
                with urllib.request.urlopen(url, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        if not self.stopping:
            raise click.ClickException(f"the API did not answer on {url}")

    def check_children(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                raise click.ClickException(f"{name} exited with code {process.returncode}")

    def stop(self) -> None:
        """SIGTERM each part and wait; then SIGKILL whatever is left in its process group."""
        for _name, process in self.children:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for _name, process in self.children:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            _kill_group(process.pid)
        if self.redis is not None:
            self.redis.stop()


def _kill_group(group: int) -> None:
    """Grandchildren (gunicorn workers, the RQ scheduler) must not outlive their parent."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def _answers(settings: Settings) -> bool:
    try:
        return bool(redis_client.connect(settings).ping())
    except Exception:  # any failure means nobody answers there
        return False


def run_stack(
    settings: Settings,
    prepare: list[list[str]],
    greeting: Callable[[], str] | None = None,
) -> None:
    """Start Redis, run the ``prepare`` commands, then serve until a signal arrives.

    ``greeting`` runs once the store is prepared; its text is shown under the banner.
    """
    stack = Stack(settings)

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stack.stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        stack.start_redis()
        stack.reset_metrics()
        for command in prepare:
            subprocess.run(command, env=stack.child_env(), check=True)
        extra = greeting() if greeting is not None else ""
        for number in range(settings.rq_workers):
            stack.spawn(f"worker {number + 1}", [sys.executable, "-m", "paperlens.cli", "worker"])
        stack.spawn("scheduler", [sys.executable, "-m", "paperlens.cli", "scheduler"])
        stack.spawn("api", gunicorn_command(settings))
        stack.wait_for_api()
        if not stack.stopping:
            click.echo(banner(settings))
            if extra:
                click.echo(extra)
        while not stack.stopping:
            stack.check_children()
            time.sleep(0.5)
        click.echo("\nStopping PaperLens ...")
    finally:
        stack.stop()
    click.echo("Stopped: API, workers and Redis are down.")


API_APP = "server:create_app()"


def gunicorn_command(settings: Settings, app: str = API_APP) -> list[str]:
    """How the API is served; the benchmarks serve their baseline app the same way."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(settings.web_workers),
        "--threads",
        str(settings.web_threads),
        "--worker-class",
        "gthread",
        "--log-level",
        settings.log_level.lower(),
        "--bind",
        f"{settings.host}:{settings.port}",
        "--graceful-timeout",
        "10",
        # Gunicorn's own lines in the app's format: text on a terminal, JSON elsewhere.
        "--logger-class",
        "paperlens.logs.GunicornLogger",
        app,
    ]


def banner(settings: Settings) -> str:
    base = f"http://{settings.host}:{settings.port}"
    return f"""
PaperLens is running at {base}   (Ctrl-C stops everything)
  data folder: {settings.data_path}
  redis:       {redact_url(settings.effective_redis_url)}
  database:    {redact_url(settings.sqlalchemy_url)}

Try:
  curl '{base}/api/v1/papers/arxiv:2205.13147'
  curl '{base}/api/v1/resolve?url=https://arxiv.org/abs/2205.13147v2'
  curl -X POST -H 'Content-Type: application/json' \\
       -d '{{"ids": ["arxiv:2205.13147", "https://huggingface.co/papers/2504.13837"]}}' \\
       '{base}/api/v1/papers/batch'
  curl '{base}/readyz'
"""
