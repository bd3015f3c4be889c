"""The API as `paperlens run` serves it: connections spread over the gunicorn workers, and a
second server on the same address refuses to start instead of sharing it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from cli.runner import gunicorn_command
from paperlens.embedded_redis import free_port
from paperlens.settings import Settings
from tests.support import ROOT, eventually

WORKERS = 2
# As many connections as the API benchmark's wrk opens.
CONNECTIONS = 16


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[tuple[Settings, psutil.Process]]:
    """The real app under ``gunicorn_command`` on a free port; its settings and master."""
    served_settings = settings.model_copy(update={"port": free_port(), "web_workers": WORKERS})
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(metrics), PAPERLENS_LOG_LEVEL="WARNING")
    process = subprocess.Popen(
        gunicorn_command(served_settings), cwd=ROOT, env=env, start_new_session=True
    )
    url = f"http://127.0.0.1:{served_settings.port}/healthz"
    master = psutil.Process(process.pid)
    try:
        eventually(
            lambda: len(master.children()) == WORKERS and requests.get(url, timeout=1).ok,
            20,
            "the API did not start",
            ignoring=(requests.RequestException,),
        )
        yield served_settings, master
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def listening(process: psutil.Process, port: int) -> int:
    return sum(
        1
        for conn in process.net_connections(kind="tcp")
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
    )


def test_connections_opened_at_once_reach_both_workers(
    served: tuple[Settings, psutil.Process],
) -> None:
    """Kept-alive connections never move between workers, so the one that accepts them
    serves them for as long as they stay open; a burst of them must not all go to one."""
    settings, master = served
    workers = master.children()
    assert [listening(worker, settings.port) for worker in workers] == [1] * WORKERS
    assert listening(master, settings.port) == 0
    clients = [socket.create_connection(("127.0.0.1", settings.port)) for _ in range(CONNECTIONS)]
    try:
        request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{settings.port}\r\n\r\n".encode()
        for client in clients:
            client.sendall(request)
        for client in clients:
            assert client.recv(65536).startswith(b"HTTP/1.1 200")
        ours = {client.getsockname()[1] for client in clients}
        held = [
            sum(
                1
                for conn in worker.net_connections(kind="tcp")
                if conn.raddr and conn.raddr.port in ours
            )
            for worker in workers
        ]
    finally:
        for client in clients:
            client.close()
    assert sum(held) == CONNECTIONS
    assert all(count > 0 for count in held), f"connections per worker: {held}"


def test_a_second_server_on_the_same_address_refuses_to_start(
    served: tuple[Settings, psutil.Process],
) -> None:
    settings, _ = served
    second = subprocess.run(
        gunicorn_command(settings), cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert second.returncode != 0
    assert f"cannot listen on 127.0.0.1:{settings.port}" in second.stderr
    assert requests.get(f"http://127.0.0.1:{settings.port}/healthz", timeout=5).ok
