"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from redis import Redis
from rq import Queue, SimpleWorker

from paperlens import keys
from paperlens.jobs import SERIALIZER

ROOT = Path(__file__).resolve().parent.parent
DEMO_CORPUS = ROOT / "data" / "demo" / "papers.jsonl"
TEST_ORIGIN = "chrome-extension://testextensionidaaaaaaaaaaaaaaaaaa"


def run_workers(redis: Redis) -> None:
    """Drain every queue with a real RQ worker, as `paperlens worker --burst` does."""
    queues = [
        Queue(name, connection=redis, serializer=SERIALIZER) for name in keys.QUEUES_BY_URGENCY
    ]
    SimpleWorker(queues, connection=redis, serializer=SERIALIZER).work(burst=True)
