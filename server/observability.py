"""Request ids, one structured log line per request, latency metrics, and ``/metrics``."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST

from paperlens.logs import new_request_id, request_id_var
from server import metrics
from server.services import services

log = logging.getLogger("paperlens.requests")
bp = Blueprint("observability", __name__)


@bp.get("/metrics")
def metrics_endpoint() -> Response:
    return Response(metrics.render(services().redis), mimetype=CONTENT_TYPE_LATEST)


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
        metrics.REQUEST_SECONDS.labels(request.method, endpoint, str(response.status_code)).observe(
            seconds
        )
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
