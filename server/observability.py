"""Request ids, one structured log line per request, latency metrics, and ``/metrics``."""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import time

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, Histogram

from paperlens.logs import new_request_id, request_id_var
from server import metrics
from server.auth import bearer_token
from server.errors import error_response
from server.services import services

log = logging.getLogger("paperlens.requests")
bp = Blueprint("observability", __name__)


@bp.get("/metrics")
def metrics_endpoint() -> Response:
    refusal = _metrics_refusal()
    if refusal is not None:
        return refusal
    return Response(metrics.render(services().redis), mimetype=CONTENT_TYPE_LATEST)


def _metrics_refusal() -> Response | None:
    """With a metrics token, only its bearer scrapes; without one (development), only loopback."""
    expected = services().settings.metrics_token
    if expected:
        given = bearer_token()
        if given is not None and hmac.compare_digest(given.encode(), expected.encode()):
            return None
        response = error_response(401, "unauthorized", "Send the metrics token as a Bearer token.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="paperlens-metrics"'
        return response
    if _is_loopback(request.remote_addr):
        return None
    return error_response(
        403, "forbidden", "Set PAPERLENS_METRICS_TOKEN to serve /metrics beyond this machine."
    )


def may_read_operations() -> bool:
    """Whether this request may see what ``/metrics`` shows (and log lines in ``/readyz``)."""
    return _metrics_refusal() is None


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=1024)
def _latency(method: str, endpoint: str, status: int) -> Histogram:
    """The latency histogram's child for one label set, looked up once: ``labels`` takes a
    lock and checks its values on every call. Routes and statuses are few, so this stays small."""
    return metrics.REQUEST_SECONDS.labels(method, endpoint, str(status))


def register(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _start() -> None:
        g.request_id = new_request_id(request.headers.get("X-Request-ID"))
        g.request_id_token = request_id_var.set(g.request_id)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        # The route pattern, never the concrete path: paths may carry what a reader saved.
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        _latency(request.method, endpoint, response.status_code).observe(seconds)
        response.headers["X-Request-ID"] = g.get("request_id", "")
        log.info(
            "request",
            extra={
                "method": request.method,
                "endpoint": endpoint,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
        return response

    @app.teardown_request
    def _forget(_error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
