"""The ``paperlens`` command: operate the instance that the environment names."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from paperlens import ingest_commands, keys, logs, redis_client
from paperlens.migrations import upgrade
from paperlens.settings import Settings, get_settings
from paperlens.store.db import Database
from paperlens.store.papers import count_papers


@click.group()
def main() -> None:
    """PaperLens: code, related work and a reading list for the paper you are reading."""
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)


@main.command()
def migrate() -> None:
    """Create or upgrade the SQL store's tables."""
    settings = get_settings()
    settings.data_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url)
    click.echo(f"Store is up to date: {_safe_url(settings)}")


@main.group()
def ingest() -> None:
    """Load papers into the catalogue."""


for _command in ingest_commands.COMMANDS:
    ingest.add_command(_command)


@ingest.command("jsonl")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ingest_jsonl_command(path: Path) -> None:
    """One paper a line: {id, title, abstract, authors?, published?, ...}."""
    _ingest(get_settings(), path)


@ingest.command("demo")
@click.option("--if-empty", is_flag=True, help="Only when the catalogue holds no paper yet.")
def ingest_demo(if_empty: bool) -> None:
    """The demo corpus shipped in data/demo/."""
    settings = get_settings()
    if if_empty:
        db = Database(settings.sqlalchemy_url)
        with db.session() as session:
            held = count_papers(session)
        if held:
            click.echo(f"Catalogue holds {held} papers; demo corpus not loaded again.")
            return
    _ingest(settings, settings.demo_corpus)


def _ingest(settings: Settings, path: Path) -> None:
    from worker.ingest.jsonl import ingest_jsonl

    report = ingest_jsonl(Database(settings.sqlalchemy_url), path)
    for line, reason in report.skipped:
        click.echo(f"  skipped line {line}: {reason}", err=True)
    click.echo(
        f"Read {report.read} records from {path}: {report.created} new, "
        f"{report.updated} updated, {len(report.skipped)} skipped."
    )


@main.command()
def precompute() -> None:
    """Rebuild the related-papers index and enrich every paper (on the bulk queue)."""
    from rq import Queue

    settings = get_settings()
    redis = redis_client.connect(settings)
    Queue(keys.QUEUE_BULK, connection=redis).enqueue(
        keys.JOB_PRECOMPUTE_ALL, result_ttl=600, job_timeout=settings.job_timeout_seconds * 6
    )
    click.echo("Precompute queued on 'bulk'; a worker builds the index and enriches every paper.")


@main.command()
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
def worker(burst: bool) -> None:
    """Run one RQ worker on the interactive, default and bulk queues (in that order)."""
    from rq import Queue, SimpleWorker

    settings = get_settings()
    redis = redis_client.connect(settings)
    queues = [Queue(name, connection=redis) for name in keys.QUEUES_BY_URGENCY]
    # SimpleWorker runs jobs in this process, so the related-papers index stays loaded.
    SimpleWorker(queues, connection=redis).work(
        burst=burst, logging_level=settings.log_level, with_scheduler=not burst
    )


@main.command()
def scheduler() -> None:
    """Run the freshness schedule: daily arXiv submissions, refresh of stale enrichments."""
    from worker.schedule import build_scheduler

    settings = get_settings()
    build_scheduler(redis_client.connect(settings), settings).start()  # type: ignore[no-untyped-call]


@main.command()
def api() -> None:
    """Serve the API under gunicorn in the foreground (containers, process managers)."""
    import os

    from paperlens.runner import gunicorn_command

    command = gunicorn_command(get_settings())
    os.execv(command[0], command)


@main.command()
def run() -> None:
    """Everything on this machine: Redis, store, demo data, workers and the API."""
    from paperlens.runner import run_stack

    settings = get_settings()
    settings.data_path.mkdir(parents=True, exist_ok=True)
    me = [sys.executable, "-m", "paperlens.cli"]
    run_stack(
        settings,
        prepare=[[*me, "migrate"], [*me, "ingest", "demo", "--if-empty"], [*me, "precompute"]],
    )


def _safe_url(settings: Settings) -> str:
    """The store's address without a password, fit for a terminal or a log."""
    from sqlalchemy.engine import make_url

    return make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()
