"""The PaperLens HTTP API: a Flask app that answers from precomputed data."""

from __future__ import annotations

from flask import Flask
from pydantic import ValidationError

from paperlens.settings import Settings, explain, get_settings
from server import (
    atom,
    cors,
    errors,
    feed,
    fetch_budget,
    health,
    library,
    observability,
    openapi,
    papers,
    ratelimit,
    security,
    suggestions,
)
from server.services import Services

# Bodies larger than this are refused with 413 before any parsing.
MAX_BODY_BYTES = 1024 * 1024


class ConfigurationError(RuntimeError):
    """The environment does not describe a usable instance (see the message)."""


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app from explicit settings (tests) or from the environment (gunicorn)."""
    if settings is None:
        try:
            settings = get_settings()
        except ValidationError as error:
            # An exception while loading the app makes gunicorn stop instead of retrying.
            raise ConfigurationError(explain(error)) from None
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["paperlens"] = Services.open(settings)
    cors.register(app, settings.cors_origins)
    errors.register(app)
    security.register(app)
    observability.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(papers.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(library.bp)
    app.register_blueprint(suggestions.bp)
    app.register_blueprint(feed.bp)
    app.register_blueprint(atom.bp)
    ratelimit.register(app, settings)
    fetch_budget.register(app, settings)
    ratelimit.trust_proxies(app, settings.trusted_proxy_hops)
    return app
