"""The per-process clients the views use, kept in ``app.extensions``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from redis import Redis

from paperlens import redis_client
from paperlens.settings import Settings
from paperlens.store.db import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    redis: Redis

    @classmethod
    def open(cls, settings: Settings) -> Services:
        return cls(
            settings=settings,
            db=Database(settings.sqlalchemy_url),
            redis=redis_client.connect(settings),
        )


def services() -> Services:
    found: Services = current_app.extensions["paperlens"]
    return found
