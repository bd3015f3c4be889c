"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from redis import Redis

from paperlens.jobs import build_worker
from paperlens.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
DEMO_CORPUS = ROOT / "data" / "demo" / "papers.jsonl"
TEST_ORIGIN = "chrome-extension://testextensionidaaaaaaaaaaaaaaaaaa"


def run_workers(redis: Redis) -> None:
    """Drain every queue with a real RQ worker, as `paperlens worker --burst` does."""
    build_worker(redis, get_settings()).work(burst=True)
