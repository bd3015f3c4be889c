"""Gunicorn's server hooks for the API (loaded with ``--config python:cli.gunicorn_hooks``).

The API is served with ``--reuse-port``: each worker listens on a socket of its own and the
kernel spreads new connections over them. With one shared socket, whichever worker woke
first accepted a burst of new connections, and kept-alive connections never move, so one
worker could hold every connection while the other idled (measured: a quarter of the usual
rate in some rounds of ``bench/api_load.py``). The price of ``SO_REUSEPORT`` is that a second
server of the same user on the same port would share its connections instead of failing to
bind; ``on_starting`` makes that case fail as before.
"""

from __future__ import annotations

import socket
from typing import Any


class AddressInUse(RuntimeError):
    """Another server already listens where this one is told to (see the message)."""


def on_starting(server: Any) -> None:
    """Refuse to start when anything listens on the address already.

    Gunicorn prints a ``RuntimeError`` raised here and exits with status 1.
    """
    for address in server.cfg.address:
        if isinstance(address, tuple):
            host, port = address
            check_free(str(host), int(port))


def check_free(host: str, port: int) -> None:
    """Bind a socket without ``SO_REUSEPORT`` to the address and let it go: Linux refuses
    the bind while any socket listens there, with or without ``SO_REUSEPORT``. Only
    ``SO_REUSEADDR`` is set, as gunicorn sets it, so connections of a previous run that
    linger in TIME_WAIT do not count."""
    family, kind, proto, _, where = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(where)
        except OSError as error:
            raise AddressInUse(f"cannot listen on {host}:{port}: {error.strerror}") from None


def when_ready(server: Any) -> None:
    """Name the address: with ``--reuse-port`` the master listens on nothing itself, so
    gunicorn's own "Listening at" line is empty."""
    server.log.info("Listening at: %s (one socket per worker)", ", ".join(server.cfg.bind))
