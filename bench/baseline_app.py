"""The ceiling the API is measured against: Flask under the same gunicorn settings, whose
only route returns one Redis GET. Anything the API does beyond that is its own cost."""

from __future__ import annotations

import os

from flask import Flask, Response
from redis import Redis


def create_app() -> Flask:
    app = Flask(__name__)
    redis = Redis.from_url(os.environ["PAPERLENS_REDIS_URL"])
    key = os.environ["BASELINE_KEY"]

    @app.get("/baseline")
    def baseline() -> Response:
        return Response(redis.get(key), mimetype="application/json")

    return app
