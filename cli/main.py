"""The ``paperlens`` command: operate the instance that the environment names."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
from pathlib import Path

import click
from pydantic import ValidationError
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.job import Job
from sqlalchemy.orm import Session

from cli import ingest_commands
from cli.precompute_watch import RunFailed, watch
from cli.runner import gunicorn_command, run_stack
from paperlens import job_queue, logs, redis_client
from paperlens import status as instance_status
from paperlens.credentials import redact_url
from paperlens.migrations import upgrade
from paperlens.precompute import request_precompute
from paperlens.settings import Settings, explain, get_settings
from paperlens.store import users as store_users
from paperlens.store.db import Database
from paperlens.store.models import User
from paperlens.store.papers import count_papers
from worker.ingest.jsonl import ingest_jsonl

log = logging.getLogger(__name__)

# A worker round that ends sooner than this after it started counts as a failed start.
WORKER_ROUND_SECONDS = 30.0

DEMO_READER = "demo"
USER_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


@click.group()
def main() -> None:
    """PaperLens: code, related work and a reading list for the paper you are reading."""
    try:
        settings = get_settings()
    except ValidationError as error:  # e.g. production mode without its required settings
        raise click.ClickException(explain(error)) from None
    logs.configure(settings.log_level, settings.log_format, secrets=settings.source_credentials())


@main.command()
def migrate() -> None:
    """Create or upgrade the SQL store's tables."""
    settings = get_settings()
    settings.data_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url)
    click.echo(f"Store is up to date: {redact_url(settings.sqlalchemy_url)}")


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
    report = ingest_jsonl(Database(settings.sqlalchemy_url), path)
    ingest_commands.echo_report(f"JSON lines {path.name}", report, unit="line")


@main.command()
@click.option(
    "--wait/--no-wait",
    default=True,
    help="Show the index build and the enrichment until done (default), or only queue them.",
)
def precompute(wait: bool) -> None:
    """Rebuild the related-papers index and enrich every paper (on the bulk queue)."""
    settings = get_settings()
    redis = redis_client.connect(settings)
    try:
        job = request_precompute(redis, settings)
    except RedisError as error:
        where = redact_url(settings.effective_redis_url)
        raise click.ClickException(
            f"Redis does not answer at {where} ({type(error).__name__}): "
            "is the instance running (`make run`)?"
        ) from None
    if not wait:
        click.echo(
            "Precompute queued on 'bulk'; a worker builds the index and enriches every paper "
            "(`paperlens status` shows how far it is)."
        )
        return
    _watch_precompute(redis, job)


def _watch_precompute(redis: Redis, job: Job) -> None:
    click.echo("Precompute queued; waiting for the workers (Ctrl-C stops waiting, not them).")
    try:
        outcome = watch(redis, job)
    except KeyboardInterrupt:
        click.echo("\nStopped waiting; the workers carry on (`paperlens status` shows them).")
        return
    except RunFailed as error:
        raise click.ClickException(str(error)) from None
    except RedisError as error:
        raise click.ClickException(
            f"lost Redis while waiting ({type(error).__name__}); the run may go on: "
            "`paperlens status` shows it"
        ) from None
    spent = outcome.enriching_seconds
    rate = f", {outcome.enriched / spent:,.0f} papers/s" if spent > 0 else ""
    click.echo(
        f"Enriched {outcome.enriched:,} of {outcome.to_enrich:,} papers in {spent:.1f} s"
        f"{rate}; {outcome.seconds:.1f} s in all."
    )
    if not outcome.complete:
        missing = outcome.to_enrich - outcome.enriched
        raise click.ClickException(
            f"{missing:,} papers were not enriched: their jobs failed "
            "(`paperlens status` counts them; the workers' log says why)."
        )


@main.command()
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
def worker(burst: bool) -> None:
    """Run one RQ worker on the interactive, default and bulk queues (in that order).

    It waits for Redis instead of failing when Redis is away, at start and whenever RQ's
    work loop gives up on a lost connection; it exits when asked to (SIGTERM, Ctrl-C).
    """
    settings = get_settings()
    redis = redis_client.connect(settings)
    short_rounds = 0
    while True:
        redis_client.wait_until_up(redis, settings, "worker")
        rq_worker = job_queue.build_worker(redis, settings)
        started = time.monotonic()
        with contextlib.suppress(RedisConnectionError, RedisTimeoutError):  # from its teardown
            rq_worker.work(burst=burst, logging_level=settings.log_level, with_scheduler=not burst)
        if burst or rq_worker.stop_asked:
            return
        # RQ's loop gave up (on a lost Redis connection, or an error it did not expect):
        # start a new round once Redis answers, unless rounds keep ending at once, which is
        # for the supervisor to see and report.
        short_rounds = short_rounds + 1 if time.monotonic() - started < WORKER_ROUND_SECONDS else 0
        if short_rounds >= 2:
            raise click.ClickException("the RQ worker keeps stopping; see the lines above")
        log.warning("worker: RQ's work loop ended; starting it again once Redis answers")


@main.command()
def scheduler() -> None:
    """Run the freshness schedule: daily arXiv submissions, refresh of stale enrichments.

    A lost Redis connection makes it wait for Redis and start again, not exit.
    """
    # Imported here, not at the top: the schedule brings in the whole pipeline (numpy,
    # scikit-learn, FAISS, ONNX Runtime), seconds that every other command would pay.
    from worker.schedule import build_scheduler

    settings = get_settings()
    redis = redis_client.connect(settings)
    while True:
        redis_client.wait_until_up(redis, settings, "scheduler")
        try:
            build_scheduler(redis, settings).start()  # type: ignore[no-untyped-call]
        except (RedisConnectionError, RedisTimeoutError) as error:
            log.warning("scheduler: Redis went away (%s); waiting for it", type(error).__name__)
            continue
        return


@main.command()
def status() -> None:
    """The parts `paperlens run` supervises, the published index, the queues and the last
    ingest (exit status 1 when Redis does not answer or a supervised part is not running)."""
    settings = get_settings()
    report = instance_status.collect(redis_client.connect(settings), settings)
    click.echo(instance_status.render(report))
    if not report.healthy:
        sys.exit(1)


@main.command()
def api() -> None:
    """Serve the API under gunicorn in the foreground (containers, process managers)."""
    command = gunicorn_command(get_settings())
    os.execv(command[0], command)


@main.command()
def run() -> None:
    """Everything on this machine: Redis, store, demo data, workers and the API."""
    settings = get_settings()
    settings.data_path.mkdir(parents=True, exist_ok=True)
    me = [sys.executable, "-m", "cli.main"]
    run_stack(
        settings,
        # The workers start after these commands: precompute only queues its work for them.
        prepare=[
            [*me, "migrate"],
            [*me, "ingest", "demo", "--if-empty"],
            [*me, "precompute", "--no-wait"],
        ],
        greeting=lambda: _demo_reader_greeting(settings),
    )


@main.group()
def users() -> None:
    """Readers of this instance (each with a private reading list)."""


@users.command("create")
@click.argument("name")
def users_create(name: str) -> None:
    """Create a reader and print their first API token (shown only this once)."""
    _check_user_name(name)
    with Database(get_settings().sqlalchemy_url).session() as session:
        try:
            user = store_users.create_user(session, name)
        except store_users.UserExists:
            raise click.ClickException(f"a reader named {name!r} exists already") from None
        token = store_users.create_token(session, user, label="first token")
    click.echo(f"Created reader {name!r}. API token (shown once; keep it secret):\n\n  {token}\n")


@users.command("list")
def users_list() -> None:
    """Every reader, with how many live tokens each has."""
    with Database(get_settings().sqlalchemy_url).session() as session:
        live: dict[int, int] = {}
        for token in store_users.list_tokens(session):
            if token.revoked_at is None:
                live[token.user_id] = live.get(token.user_id, 0) + 1
        for user in store_users.list_users(session):
            click.echo(f"{user.name}\t{live.get(user.id, 0)} live token(s)")


@main.group()
def tokens() -> None:
    """API tokens: create, list and revoke."""


@tokens.command("create")
@click.argument("name")
@click.option("--label", default="", help="A note to tell this token apart, e.g. 'laptop'.")
def tokens_create(name: str, label: str) -> None:
    """Create another token for reader NAME and print it (shown only this once)."""
    with Database(get_settings().sqlalchemy_url).session() as session:
        user = _existing_user(session, name)
        token = store_users.create_token(session, user, label=label[:100])
    click.echo(f"New API token for {name!r} (shown once; keep it secret):\n\n  {token}\n")


@tokens.command("list")
@click.argument("name", required=False)
def tokens_list(name: str | None) -> None:
    """Tokens by their public prefix (all readers', or NAME's); never the secret."""
    with Database(get_settings().sqlalchemy_url).session() as session:
        user = _existing_user(session, name) if name else None
        rows = store_users.list_tokens(session, user)
        click.echo("prefix\treader\tlabel\tcreated\tlast used\tstate")
        for token in rows:
            state = "revoked" if token.revoked_at else "live"
            last = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            click.echo(
                f"pl_{token.prefix}\t{token.user.name}\t{token.label or '-'}\t"
                f"{token.created_at:%Y-%m-%d %H:%M}\t{last}\t{state}"
            )


@tokens.command("revoke")
@click.argument("prefix")
def tokens_revoke(prefix: str) -> None:
    """Revoke the token whose prefix (as `tokens list` shows it) is PREFIX."""
    bare = prefix.removeprefix("pl_").partition("_")[0]
    with Database(get_settings().sqlalchemy_url).session() as session:
        if not store_users.revoke_token(session, bare):
            raise click.ClickException(f"no live token has the prefix {prefix!r}")
    click.echo(f"Revoked pl_{bare}; requests with it now get 401.")


def _check_user_name(name: str) -> None:
    if not USER_NAME.fullmatch(name):
        raise click.BadParameter(
            "use 1 to 64 letters, digits, dots, dashes or underscores", param_hint="NAME"
        )


def _existing_user(session: Session, name: str) -> User:
    try:
        return store_users.require_user(session, name)
    except store_users.UnknownUser:
        raise click.ClickException(f"no reader is named {name!r}") from None


def _demo_reader_greeting(settings: Settings) -> str:
    """On the first start, a demo reader and its token; later starts only say how to get one."""
    with Database(settings.sqlalchemy_url).session() as session:
        if store_users.find_user(session, DEMO_READER) is not None:
            return (
                f"Reader {DEMO_READER!r} exists; `paperlens tokens create {DEMO_READER}` "
                "prints a new token."
            )
        user = store_users.create_user(session, DEMO_READER)
        token = store_users.create_token(session, user, label="created by paperlens run")
    base = f"http://{settings.host}:{settings.port}"
    return f"""Created reader {DEMO_READER!r}. Its API token is shown only this once:

  export PAPERLENS_TOKEN={token}

  curl -X PUT -H "Authorization: Bearer $PAPERLENS_TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"tags": ["moe"]}}' '{base}/api/v1/me/library/arxiv:2310.01334'
  curl -H "Authorization: Bearer $PAPERLENS_TOKEN" '{base}/api/v1/me/suggestions'
"""


if __name__ == "__main__":
    main()
