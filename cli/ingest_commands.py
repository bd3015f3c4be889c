"""``paperlens ingest`` commands for the real-world sources.

Each streams its input into the catalogue in batches, resumes an interrupted run of
the same file, shows a progress bar on a terminal, and ends with a summary in which
bad records are listed with their line (or item) numbers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from paperlens import redis_client
from paperlens.precompute import record_ingest_of
from paperlens.settings import get_settings
from paperlens.store.db import Database
from worker.ingest.arxiv_snapshot import SnapshotFilter, ingest_snapshot
from worker.ingest.bulk import IngestReport

# ``worker.ingest.runs`` and ``worker.sources.http`` are imported inside the commands that use
# them: they bring in requests and the BibTeX and LaTeX parsers (some 160 modules, a tenth of
# the start-up time), which every other ``paperlens`` command would pay for nothing.
if TYPE_CHECKING:
    from worker.ingest.runs import PaperFile

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
RESTART = click.option(
    "--restart", is_flag=True, help="Ignore the checkpoint of an earlier, interrupted run."
)
# Listing every bad record of a huge file would bury the summary.
SHOWN_BAD_RECORDS = 50


@click.command("arxiv-snapshot")
@click.argument("path", type=FILE)
@click.option("--categories", default="", help="Comma-separated patterns, e.g. 'cs.*,stat.ML'.")
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only records updated since."
)
@RESTART
def arxiv_snapshot(path: Path, categories: str, since: dt.datetime | None, restart: bool) -> None:
    """arXiv's metadata snapshot (JSON lines, optionally gzip)."""
    settings = get_settings()
    keep = SnapshotFilter(
        categories=[c.strip() for c in categories.split(",") if c.strip()],
        since=since.date() if since else None,
    )
    report = ingest_snapshot(
        Database(settings.sqlalchemy_url),
        path,
        keep,
        checkpoint_dir=settings.ingest_checkpoint_dir,
        restart=restart,
    )
    echo_report(f"arXiv snapshot {path}", report, unit="line")


@click.command("pwc-links")
@click.argument("path", type=FILE)
@RESTART
def pwc_links(path: Path, restart: bool) -> None:
    """Papers with Code's links-between-papers-and-code.json(.gz): code links per paper."""
    from worker.ingest import runs

    settings = get_settings()
    report = runs.pwc_links(settings, redis_client.connect(settings), path, restart=restart)
    echo_report(f"Papers with Code links {path}", report, unit="item", papers=False)


def _paper_file(kind: PaperFile, what: str, unit: str, about: str) -> click.Command:
    """The command of a file of papers for the catalogue, one of ``runs.PaperFile``."""

    @click.command(kind, help=about)
    @click.argument("path", type=FILE)
    @RESTART
    def command(path: Path, restart: bool) -> None:
        from worker.ingest import runs

        settings = get_settings()
        db = Database(settings.sqlalchemy_url)
        report = runs.paper_file(settings, db, kind, path, restart=restart)
        echo_report(f"{what} {path}", report, unit=unit)

    return command


pwc_papers = _paper_file(
    "pwc-papers",
    "Papers with Code papers",
    "item",
    "Papers with Code's papers-with-abstracts.json(.gz): papers with an arXiv id.",
)
bibtex = _paper_file(
    "bibtex",
    "BibTeX",
    "entry at line",
    "A BibTeX file: entries with an arXiv eprint, a DOI, or only a title.",
)


@click.command("hf-daily")
@click.option("--from", "first", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--to", "last", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@RESTART
def hf_daily(first: dt.datetime, last: dt.datetime, restart: bool) -> None:
    """Papers featured on Hugging Face's Daily Papers between two dates (needs the source)."""
    from worker.ingest import runs
    from worker.sources.http import SourceSession

    settings = get_settings()
    if "huggingface" not in settings.sources:
        raise click.ClickException("enable the source first: PAPERLENS_SOURCES=huggingface,...")
    if last < first:
        raise click.BadParameter("--to is before --from")
    with SourceSession(settings, redis_client.connect(settings)) as session:
        report = runs.hf_daily(
            settings,
            Database(settings.sqlalchemy_url),
            session,
            first.date(),
            last.date(),
            restart=restart,
        )
    echo_report(f"Hugging Face daily papers {first:%Y-%m-%d}..{last:%Y-%m-%d}", report, unit="day")


def echo_report(what: str, report: IngestReport, unit: str, papers: bool = True) -> None:
    """The run's summary; a run that brought ``papers`` is recorded as the last ingest."""
    if papers:
        record_ingest_of(get_settings(), what, report.created, report.updated)
    for number, reason in report.bad_records[:SHOWN_BAD_RECORDS]:
        click.echo(f"  skipped {unit} {number}: {reason}", err=True)
    if report.bad > SHOWN_BAD_RECORDS:
        click.echo(f"  ... and {report.bad - SHOWN_BAD_RECORDS} more bad records", err=True)
    resumed = f" (resumed after {unit} {report.resumed_from})" if report.resumed_from else ""
    click.echo(
        f"{what}{resumed}: read {report.read:,} records; {report.created:,} new, "
        f"{report.updated:,} updated, {report.filtered:,} filtered out, {report.bad:,} bad; "
        f"{report.seconds:.1f} s, {report.rate:,.0f} papers/s."
    )


COMMANDS = [arxiv_snapshot, pwc_links, pwc_papers, bibtex, hf_daily]
