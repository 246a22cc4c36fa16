"""``dvcrawl crawl``: crawl sites through the Scrapy engine into the database, then report."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

from dvcrawl.cli.common import (
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_OK,
    UserError,
    add_db_option,
    add_verbosity,
    check_database,
    configure_logging,
    configured_topic,
    log_level,
    positive_float,
    positive_int,
    print_table,
    project_settings,
    redact,
)


def register(commands: Any) -> None:
    """Add the command's parser."""
    parser = commands.add_parser("crawl", help="crawl sites into the database")
    parser.add_argument("sites", nargs="*", metavar="SITE", help="site ids (see `dvcrawl sites`)")
    parser.add_argument("--all", action="store_true", help="crawl every enabled site")
    add_db_option(parser)
    parser.add_argument(
        "--replay", nargs="+", metavar="WARC", help="answer requests from these WARC files, offline"
    )
    parser.add_argument(
        "--start-url", nargs="+", metavar="URL", help="start from these pages instead of the site's"
    )
    parser.add_argument(
        "--max-pages", type=positive_int, metavar="N", help="stop after N responses"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="backfill every listing to its last page (resumes a stopped backfill)",
    )
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="ask again for known articles, conditionally (only changed ones download)",
    )
    parser.add_argument(
        "--source",
        choices=("live", "wayback"),
        default="live",
        help="live: the portals (default); wayback: their captures in the web archive at "
        "$DVCRAWL_WAYBACK_URL (default https://web.archive.org)",
    )
    parser.add_argument(
        "--from",
        dest="capture_from",
        type=capture_bound,
        metavar="YYYY[MM[DD]]",
        help="with --source wayback: only captures made on or after this date",
    )
    parser.add_argument(
        "--to",
        dest="capture_to",
        type=capture_bound,
        metavar="YYYY[MM[DD]]",
        help="with --source wayback: only captures made on or before this date",
    )
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="be one worker of a crawl shared through this Redis (redis://host:port/db; "
        "default: $DVCRAWL_REDIS_URL, else one process)",
    )
    parser.add_argument(
        "--idle-exit",
        type=positive_float,
        metavar="SECONDS",
        help="with --redis: stop once the shared frontier has been empty this long "
        "(default: wait for work)",
    )
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Scrapy setting",
    )
    add_verbosity(parser)
    parser.set_defaults(handler=run)


def choose_sites(args: argparse.Namespace) -> tuple[list[Any], dict[str, list[str]]]:
    """The sites a crawl command line names, and its start URLs per site.

    ``dvcrawl schedule`` checks its crawl arguments with this before the first run.

    Raises:
        UserError: for unknown sites, URLs no site serves, conflicting options, missing WARCs.

    """
    from dvcrawl.sites import SITES, UnknownSite, get_site, site_for_url

    if args.all and args.sites:
        # Either reading is plausible (only these, or these too); neither may be guessed.
        raise UserError(
            f"give site names or --all, not both (got --all and {' '.join(args.sites)})"
        )
    try:
        chosen = [get_site(site_id) for site_id in args.sites]
    except UnknownSite as exc:
        raise UserError(str(exc)) from None
    if args.all:
        chosen += [site for site in SITES.values() if site.enabled and site not in chosen]
    start_urls: dict[str, list[str]] = {}
    for url in args.start_url or []:
        site = site_for_url(url) if url.startswith(("http://", "https://")) else None
        if site is None:
            raise UserError(f"no registered site serves {url!r}")
        start_urls.setdefault(site.id, []).append(url)
        if site not in chosen:
            chosen.append(site)
    if not chosen:
        raise UserError("name at least one site (see `dvcrawl sites`), or use --all")
    if args.full and args.refresh:
        raise UserError("--full and --refresh cannot be combined")
    wayback = args.source == "wayback"
    if not wayback and (args.capture_from or args.capture_to):
        raise UserError("--from and --to select archive captures: add --source wayback")
    if wayback:
        for flag, given in (("--full", args.full), ("--refresh", args.refresh)):
            if given:
                raise UserError(
                    f"{flag} is for live runs; --source wayback reads every captured page once"
                )
        if args.start_url:
            raise UserError(
                "--start-url is for live runs; --source wayback reads the archive's index"
            )
        if args.capture_from and args.capture_to and _after(args.capture_from, args.capture_to):
            raise UserError(f"--from {args.capture_from} is after --to {args.capture_to}")
    for path in args.replay or []:
        if not Path(path).is_file():
            raise UserError(f"no such WARC file: {path}")
    return chosen, start_urls


def _check_commit_batch(settings: Any) -> None:
    """Refuse a commit batch that would make a crawl's writers wait on SQLite's lock.

    The rule is the store's (`dvcrawl.pipelines.store.crawl_batch_problem`), which under
    ``scrapy crawl`` commits every article instead; here it is refused before any work.
    """
    from dvcrawl.pipelines.store import crawl_batch_problem

    value = settings.get("DVCRAWL_COMMIT_EVERY")
    try:
        batch = int(value)
    except (TypeError, ValueError):
        raise UserError(f"DVCRAWL_COMMIT_EVERY must be a whole number, not {value!r}") from None
    problem = crawl_batch_problem(batch, settings.get("DVCRAWL_DB_URL", ""))
    if problem:
        raise UserError(problem)


def run(args: argparse.Namespace) -> int:
    """Crawl the chosen sites through the Scrapy engine and report what was stored."""
    from dvcrawl.db import DatabaseUnwritable

    chosen, start_urls = choose_sites(args)
    wayback = args.source == "wayback"
    settings = project_settings(args.db)
    settings.set("LOG_LEVEL", log_level(args), priority="cmdline")
    if args.replay:
        settings.set(
            "DVCRAWL_REPLAY", [str(Path(p).resolve()) for p in args.replay], priority="cmdline"
        )
    if args.max_pages:
        settings.set("CLOSESPIDER_PAGECOUNT", args.max_pages, priority="cmdline")
    for assignment in args.set:
        name, sep, value = assignment.partition("=")
        if not sep or not name:
            raise UserError(f"-s takes NAME=VALUE, not {assignment!r}")
        settings.set(name, value, priority="cmdline")
    if args.redis:
        settings.set("DVCRAWL_REDIS_URL", args.redis, priority="cmdline")
    redis_url = settings.get("DVCRAWL_REDIS_URL") or ""
    if args.idle_exit is not None:
        if not redis_url:
            raise UserError("--idle-exit needs a shared frontier (--redis URL)")
        settings.set("DVCRAWL_REDIS_IDLE_EXIT", args.idle_exit, priority="cmdline")
    if redis_url and wayback:
        # The archive asks for one request at a time from everyone, and an archive run already
        # resumes where it stopped: many workers would gain nothing (docs/web-archives.md).
        raise UserError(
            "--source wayback runs in one process: drop --redis (or unset DVCRAWL_REDIS_URL)"
        )
    if redis_url:
        from dvcrawl.frontier import FrontierError, check_url, connect

        problem = check_url(redis_url)
        if problem:
            raise UserError(problem)
        try:
            connect(redis_url).close()
        except FrontierError as exc:
            # Not the user's input but the machine's state, like an unwritable database.
            print(f"dvcrawl: {exc}", file=sys.stderr)
            return EXIT_FAILED
    db_url = settings.get("DVCRAWL_DB_URL")
    _check_commit_batch(settings)
    # A database that takes no writes is not bad input: each site's run stops before fetching
    # anything, and the report gives the cause (exit status 1).
    with contextlib.suppress(DatabaseUnwritable):
        check_database(db_url, writable=True)
    configured_topic(settings)  # a bad DVCRAWL_TOPIC_FILE is a one-line error, before any work

    from dvcrawl.progress import progress_wanted

    if progress_wanted(quiet=args.quiet):
        settings.set("DVCRAWL_PROGRESS", True, priority="cmdline")
    if wayback:
        from dvcrawl.wayback import PICKS, wayback_base

        try:
            wayback_base(settings.get("DVCRAWL_WAYBACK_URL"))
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if settings.get("DVCRAWL_WAYBACK_PICK") not in PICKS:
            raise UserError(
                f"DVCRAWL_WAYBACK_PICK must be one of {', '.join(PICKS)}, "
                f"not {settings.get('DVCRAWL_WAYBACK_PICK')!r}"
            )

    from scrapy.crawler import CrawlerProcess
    from scrapy.spiderloader import SpiderLoader

    from dvcrawl.lock import Busy, lock_for
    from dvcrawl.paths import storage_dir
    from dvcrawl.warc import ReplayIndex, WarcError

    if args.replay:
        try:
            ReplayIndex(settings.getlist("DVCRAWL_REPLAY"))
        except WarcError as exc:
            raise UserError(str(exc)) from None
    locks = []
    try:
        for site in chosen:
            # Workers of a shared frontier crawl one site together: they share the lock, and a
            # crawl in one process (which takes it alone) waits for none of them to overlap.
            lock = lock_for(storage_dir(), db_url, site.id, shared=bool(redis_url))
            lock.acquire()
            locks.append(lock)
    except Busy as busy:
        for lock in locks:
            lock.release()
        kind = "a crawl in one process" if redis_url else "another crawl"
        print(
            f"dvcrawl: {kind} of {site.id} into this database is running (pid {busy}); not starting",
            file=sys.stderr,
        )
        return EXIT_BUSY
    try:
        mode = "full" if args.full else "refresh" if args.refresh else "incremental"
        loader = SpiderLoader.from_settings(settings)
        configure_logging(settings.get("LOG_LEVEL"), tracebacks=args.verbose >= 2)
        settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
        process = CrawlerProcess(settings)
        crawlers: list[Any] = []
        started = time.monotonic()
        pending = list(chosen)

        def crawl_next(result: Any = None) -> Any:
            """Start the next site's crawl (all at once live; one after another from an archive)."""
            while pending:
                site = pending.pop(0)
                crawler = process.create_crawler(loader.load(site.id))
                crawlers.append(crawler)
                arguments: dict[str, Any] = {"start_url": start_urls.get(site.id), "mode": mode}
                if wayback:
                    arguments |= {
                        "source": "wayback",
                        "capture_from": args.capture_from,
                        "capture_to": args.capture_to,
                    }
                done = process.crawl(crawler, **arguments)
                if wayback:
                    # The archive is asked one request at a time, whatever the number of sites.
                    done.addBoth(crawl_next)
                    break
            return result

        crawl_next()
        process.start()
        elapsed = time.monotonic() - started
    finally:
        for lock in locks:
            lock.release()

    failed = print_report(
        [crawler.stats.get_stats() | {"site": crawler.spidercls.name} for crawler in crawlers]
    )
    if redis_url:
        from dvcrawl.frontier import redact_url

        for crawler in crawlers:
            stats = crawler.stats.get_stats()
            if stats.get("dvcrawl/frontier/run"):
                recovered = int(stats.get("dvcrawl/frontier/recovered", 0) or 0)
                print(
                    f"{crawler.spidercls.name}: worker {stats.get('dvcrawl/frontier/worker')} of "
                    f"run {stats['dvcrawl/frontier/run']}; "
                    + (f"took back {recovered} requests of stopped workers; " if recovered else "")
                    + f"{int(stats.get('dvcrawl/frontier/left_queued', 0) or 0)} requests left queued"
                )
        print(f"shared frontier: {redact_url(redis_url)}")
    print(f"done in {elapsed:.1f} s; database: {redact(db_url)}")
    return EXIT_FAILED if failed else EXIT_OK


_REPORT_COLUMNS = (
    ("pages", "downloader/response_count"),
    ("article req", "dvcrawl/article_requests"),
    ("new", "dvcrawl/articles/new"),
    ("updated", "dvcrawl/articles/updated"),
    ("unchanged", "dvcrawl/articles/unchanged"),
    ("304", "dvcrawl/articles/not_modified"),
    ("outside shape", "dvcrawl/articles/outside_declared_shape"),
    ("duplicates", None),
    ("non-articles", "dvcrawl/dropped/not_article"),
    ("dead links", "dvcrawl/dead_links"),
    ("errors", None),
)


def capture_bound(value: str) -> str:
    """An argparse type: a ``--from``/``--to`` date of archive captures."""
    from dvcrawl.wayback import check_timestamp_bound

    try:
        return check_timestamp_bound(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _after(since: str, until: str) -> bool:
    width = max(len(since), len(until))
    return since.ljust(width, "0") > until.ljust(width, "9")


def run_problems(stats: dict[str, Any]) -> list[str]:
    """Why a site's run failed, one line each (empty: it did not).

    The run's verdict (`dvcrawl.outcome`) as the crawl-state extension recorded it in the
    stats, judged here from the stats when the extension did not run; a stop other than
    ``--max-pages``; failed health checks.
    """
    from dvcrawl.outcome import judge

    reason = stats.get("finish_reason", "unknown")
    outcome = stats.get("dvcrawl/outcome")
    cause = stats.get("dvcrawl/cause")
    if outcome is None:
        verdict = judge(stats, reason)
        outcome, cause = verdict.outcome, verdict.cause
    problems = []
    if cause:
        problems.append(str(cause))
    elif outcome == "stopped" and reason != "closespider_pagecount":
        problems.append(f"stopped: {reason}")
    if stats.get("dvcrawl/health_failed"):
        problems.append(f"{stats['dvcrawl/health_failed']} health checks failed")
    return problems


def print_report(runs: list[dict[str, Any]]) -> bool:
    """Print a row per site, then each failure's cause; True if anything failed.

    A failed run's cause and every failed health check (`run_problems`) are printed under
    the table.
    """
    from dvcrawl.health import error_count

    header = ["site", "result", *(name for name, _ in _REPORT_COLUMNS), "seconds"]
    rows, notes, failed = [], [], False
    for stats in runs:
        problems = run_problems(stats)
        failed |= bool(problems)
        values = []
        for name, key in _REPORT_COLUMNS:
            if name == "duplicates":
                value = int(stats.get("dvcrawl/duplicates/exact", 0) or 0) + int(
                    stats.get("dvcrawl/duplicates/near", 0) or 0
                )
            elif name == "errors":
                value = error_count(stats) + int(stats.get("dvcrawl/storage/failed", 0) or 0)
            else:
                value = int(stats.get(key, 0) or 0)
            values.append(str(value))
        rows.append(
            [
                stats["site"],
                "FAILED" if problems else "ok",
                *values,
                f"{stats.get('elapsed_time_seconds', 0.0):.1f}",
            ]
        )
        notes += [f"{stats['site']}: {problem}" for problem in problems]
        if stats.get("dvcrawl/replay/hits") is not None or stats.get("dvcrawl/replay/missing"):
            notes.append(
                f"{stats['site']}: replayed {int(stats.get('dvcrawl/replay/hits', 0) or 0)}, "
                f"not archived {int(stats.get('dvcrawl/replay/missing', 0) or 0)}"
            )
        if stats.get("dvcrawl/articles/outside_declared_shape"):
            notes.append(
                f"{stats['site']}: {int(stats['dvcrawl/articles/outside_declared_shape'])} articles "
                f"outside the declared URL shape; learned: {stats.get('dvcrawl/url_shapes/learned') or '-'}"
                " (update the site's article_url)"
            )
        if stats.get("dvcrawl/wayback/base"):
            notes.append(f"{stats['site']}: {_archive_note(stats)}")
        if stats.get("dvcrawl/warc_file"):
            notes.append(f"{stats['site']}: archive {stats['dvcrawl/warc_file']}")
    print_table(header, rows, numeric_from=2)
    for note in notes:
        print(note)
    return failed


def _archive_note(stats: dict[str, Any]) -> str:
    """What an archive run found in the archive's index and what it read."""
    get = lambda key: int(stats.get(f"dvcrawl/wayback/{key}", 0) or 0)  # noqa: E731
    skipped = sum(
        int(value or 0)
        for key, value in stats.items()
        if key.startswith("dvcrawl/wayback/skipped/")
    )
    note = (
        f"archive {stats['dvcrawl/wayback/base']}: {get('cdx_rows')} captures listed in "
        f"{get('cdx_pages')} index pages, {get('pages')} pages; selected "
        f"{get('selected/article')} article and {get('selected/listing')} listing pages, "
        f"{skipped} of them read before; {get('redirects')} redirect captures followed"
    )
    if get("links_not_archived"):
        note += f", {get('links_not_archived')} listing links not archived"
    if get("throttled"):
        waited = float(stats.get("dvcrawl/wayback/throttled_seconds", 0) or 0)
        note += f"; paused {get('throttled')} times ({waited:.0f} s) at the archive's request"
    if get("cdx_failed"):
        note += (
            f"; {get('cdx_failed')} index queries FAILED: {stats.get('dvcrawl/wayback/cdx_error')}"
        )
    return note
