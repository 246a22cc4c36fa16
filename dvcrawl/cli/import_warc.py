"""``dvcrawl import``: run archived responses through extract -> validate -> dedup -> store."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dvcrawl.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    UserError,
    add_db_option,
    add_verbosity,
    check_database,
    configure_logging,
    configured_topic,
    log_level,
    project_settings,
)

logger = logging.getLogger("dvcrawl.import")


def register(commands: Any) -> None:
    """Add the command's parser."""
    parser = commands.add_parser("import", help="run archived responses through extract -> store")
    parser.add_argument("warcs", nargs="+", metavar="WARC")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="processes extracting pages (default: the machine's cores)",
    )
    add_db_option(parser)
    add_verbosity(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run archived responses through the same validate -> store chain as a crawl."""
    from dvcrawl.importing import Preparer, WorkerDied

    configure_logging(log_level(args), tracebacks=args.verbose >= 2)
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1, not {jobs}")
    for path in args.warcs:
        if not Path(path).is_file():
            raise UserError(f"no such WARC file: {path}")
    started = time.monotonic()
    try:
        # The workers start first of all and load the extraction code while this process
        # loads Scrapy's settings and the database's modules and opens the database: on two
        # cores, start-up run by one process alone was a tenth of a 2,000-page import
        # (issue 11).
        with Preparer(jobs, log_level(args)) as preparer:
            stats = _run(args, preparer)
    except WorkerDied as exc:
        # Not the user's mistake: the machine's (a worker killed, memory exhausted).
        print(f"dvcrawl: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    values = stats.get_stats()
    unextracted = int(values.get("dvcrawl/import/failed", 0) or 0)
    print(
        f"imported {len(args.warcs)} archive(s): responses {values.get('dvcrawl/import/responses', 0)}, "
        f"articles new {values.get('dvcrawl/articles/new', 0)}, updated {values.get('dvcrawl/articles/updated', 0)}, "
        f"unchanged {values.get('dvcrawl/articles/unchanged', 0)}, "
        f"non-articles {values.get('dvcrawl/dropped/not_article', 0)}, "
        f"skipped {values.get('dvcrawl/import/skipped', 0)}"
        + (f", not extracted {unextracted}" if unextracted else "")
        + f"; {time.monotonic() - started:.1f} s"
    )
    status = EXIT_OK
    if unextracted:
        # The other pages are stored; the run is not "ok" (a crawl's run is "failed" too).
        print(
            f"dvcrawl: error: {unextracted} page(s) could not be extracted, the first: "
            f"{values.get('dvcrawl/cause/import')}",
            file=sys.stderr,
        )
        status = EXIT_FAILED
    lost = int(values.get("dvcrawl/storage/failed", 0) or 0)
    if lost:
        print(
            f"dvcrawl: {lost} article(s) not stored: {values.get('dvcrawl/cause/storage')}",
            file=sys.stderr,
        )
        status = EXIT_FAILED
    return status


def _run(args: argparse.Namespace, preparer: Any) -> Any:
    """Prepare and store every archive's responses; the run's counters."""
    # The workers start on the first archive while this process reads its settings and opens
    # and checks the database. A bad DVCRAWL_TOPIC_FILE, or a database that takes no writes,
    # still ends the command with one line before anything is stored (issue 10).
    first = _prepared(preparer, args.warcs[0])
    from dvcrawl.pipelines import Chain, CounterStats  # Scrapy's package: a sixth of a second
    from dvcrawl.progress import display, progress_wanted
    from dvcrawl.warc import WarcError

    settings = project_settings(args.db)
    # One writer in a tight loop: large transactions are safe here and much faster.
    settings.set("DVCRAWL_COMMIT_EVERY", 200, priority="cmdline")
    configured_topic(settings)
    preparer.score_with(settings.get("DVCRAWL_TOPIC_FILE") or None)
    stats = CounterStats()
    check_database(settings.get("DVCRAWL_DB_URL"), writable=True)
    with (
        Chain(settings, stats) as chain,
        display(progress_wanted(quiet=args.quiet)) as shown,
    ):
        for index, path in enumerate(args.warcs):
            task = shown.add(Path(path).name)
            prepared = first if index == 0 else _prepared(preparer, path)
            try:
                for response, page in prepared:
                    _store(response, page, chain, stats)
                    if shown.enabled:
                        shown.show(task, _counts(stats), rate_of="responses")
            except WarcError as exc:
                raise UserError(str(exc)) from None
            shown.show(task, _counts(stats), rate_of="responses")
    return stats


def _prepared(preparer: Any, path: str) -> Iterator[tuple[Any, Any]]:
    """The archive's responses, prepared (`dvcrawl.importing.Preparer.prepared`)."""
    from dvcrawl.warc import WarcError, iter_responses

    try:
        return preparer.prepared(iter_responses(path))
    except WarcError as exc:
        raise UserError(str(exc)) from None


def _store(response: Any, page: Any, chain: Any, stats: Any) -> None:
    """Run one prepared response through the chain (validate -> dedup -> store)."""
    from dvcrawl.items import FetchedArticle

    stats.inc_value("dvcrawl/import/responses")
    if page.error is not None:
        stats.inc_value("dvcrawl/import/failed")
        if not stats.get_value("dvcrawl/cause/import"):
            stats.set_value("dvcrawl/cause/import", f"{response.url}: {page.error}")
        logger.error("%s: not extracted: %s", response.url, page.error)
        return
    if page.skipped or page.article is None:
        stats.inc_value("dvcrawl/import/skipped")
        return
    for problem in page.problems:
        stats.inc_value(f"dvcrawl/decoding/{problem.kind}")
        logger.warning("%s: %s", response.url, problem.detail)
    archived = page.archived
    item = FetchedArticle(
        article=page.article,
        fetched_at=response.date or datetime.now(UTC),
        etag=None if archived else response.header("ETag"),
        last_modified=None if archived else response.header("Last-Modified"),
        fingerprint=page.fingerprint,
        relevance=page.relevance,
    )
    if archived:
        item.archive_url = response.url
        item.archived_at = archived.archived_at
    chain.process(item)


def _counts(stats: Any) -> dict[str, int]:
    """What the progress line shows: responses read, articles stored, responses skipped."""
    values = stats.get_stats()
    return {
        "responses": int(values.get("dvcrawl/import/responses", 0)),
        "articles": sum(
            int(values.get(f"dvcrawl/articles/{kind}", 0))
            for kind in ("new", "updated", "unchanged")
        ),
        "skipped": int(values.get("dvcrawl/import/skipped", 0))
        + int(values.get("dvcrawl/dropped/not_article", 0)),
    }
