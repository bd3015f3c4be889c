"""``paperlens run``: the whole stack on one machine, started and stopped as one.

Each part is a child process in its own session, so a Ctrl-C reaches only this process,
which then stops the parts in order: API, workers and scheduler first (they finish what is
in flight), the embedded Redis last (it flushes its append-only file). Meanwhile a part that
exits unexpectedly is started again (see ``cli.supervisor``) and the others keep running.
"""

from __future__ import annotations

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

from cli.supervisor import Part, Supervisor
from paperlens import parts_state, redis_client
from paperlens.credentials import redact_url
from paperlens.embedded_redis import EmbeddedRedis
from paperlens.settings import Settings

API_STARTUP_TIMEOUT_SECONDS = 30.0
# How often the supervisor looks at its parts.
TICK_SECONDS = 0.2


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis: EmbeddedRedis | None = None
        self.supervisor = Supervisor(settings)
        self.stopping = False

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PAPERLENS_DATA_DIR"] = str(self.settings.data_path)
        env["PAPERLENS_REDIS_URL"] = self.settings.effective_redis_url
        env["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics_dir)
        env["PYTHONUNBUFFERED"] = "1"  # their lines reach the terminal (through us) at once
        if self.settings.log_format == "auto" and sys.stdout.isatty():
            env["PAPERLENS_LOG_FORMAT"] = "text"  # their output is a pipe, ours a terminal
        return env

    @property
    def metrics_dir(self) -> Path:
        """Per-process metric files of the gunicorn workers, emptied at each start."""
        return self.settings.data_path / "metrics"

    def reset_metrics(self) -> None:
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        self.metrics_dir.mkdir(parents=True)

    def start_redis(self) -> None:
        """The embedded Redis, supervised like the other parts (restarted on the same socket
        and append-only file); the store is prepared only once it answers."""
        if not self.settings.uses_embedded_redis:
            return
        socket = self.settings.embedded_redis_socket
        if socket.exists() and _answers(self.settings):
            raise click.ClickException(
                f"an instance is already running on {socket}; stop it or choose another "
                "PAPERLENS_DATA_DIR"
            )
        self.redis = EmbeddedRedis(socket.parent, socket=socket)
        redis_part = Part(
            "redis", self.redis.spawn, log_file=socket.parent / "redis.log", stop_last=True
        )
        self.supervisor.start(redis_part)
        try:
            self.redis.wait_until_ready()
        except RuntimeError as error:
            raise click.ClickException(str(error)) from None

    def spawn(self, name: str, args: list[str]) -> None:
        """Start a supervised part; its output passes through this process."""

        def launch() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                args,
                env=self.child_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        self.supervisor.start(Part(name, launch))

    def wait_for_api(self) -> None:
        url = f"http://{self.settings.host}:{self.settings.port}/healthz"
        deadline = time.monotonic() + API_STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and not self.stopping:
            self.supervisor.tick()
            try:
                with urllib.request.urlopen(url, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(TICK_SECONDS)
        if not self.stopping:
            api = next(part for part in self.supervisor.parts if part.name == "api")
            tail = "\n".join(f"  {line}" for line in api.log_tail()[-10:])
            raise click.ClickException(f"the API did not answer on {url}:\n{tail}")

    def serve(self) -> None:
        while not self.stopping:
            self.supervisor.tick()
            time.sleep(TICK_SECONDS)

    def stop(self) -> None:
        self.supervisor.stop()
        if self.redis is not None:
            self.redis.stop()  # its process is down by now; this removes the socket


def _answers(settings: Settings) -> bool:
    try:
        return bool(redis_client.connect(settings).ping())
    except Exception:  # any failure means nobody answers there
        return False


def worker_command() -> list[str]:
    """How an RQ worker process is started (here, in tests and in the benchmarks)."""
    return [sys.executable, "-m", "cli.main", "worker"]


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
    parts_state.remove(settings.parts_state_file)  # a previous run's, if it was killed
    try:
        stack.start_redis()
        stack.reset_metrics()
        for command in prepare:
            subprocess.run(command, env=stack.child_env(), check=True)
        extra = greeting() if greeting is not None else ""
        for number in range(settings.rq_workers):
            stack.spawn(f"worker {number + 1}", worker_command())
        stack.spawn("scheduler", [sys.executable, "-m", "cli.main", "scheduler"])
        stack.spawn("api", gunicorn_command(settings))
        stack.wait_for_api()
        if not stack.stopping:
            click.echo(banner(settings))
            if extra:
                click.echo(extra)
        stack.serve()
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
        # A listening socket per worker, so the kernel spreads connections evenly over the
        # workers; the hooks refuse a port another server holds (see ``cli.gunicorn_hooks``).
        "--reuse-port",
        "--config",
        "python:cli.gunicorn_hooks",
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
