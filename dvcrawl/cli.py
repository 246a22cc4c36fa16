"""The ``dvcrawl`` command (DESIGN.md, "Command line").

    dvcrawl sites
    dvcrawl crawl SITE... | --all  [--db URL] [--replay WARC...] [--start-url URL...] [--max-pages N]
    dvcrawl import WARC... [--db URL]
    dvcrawl extract FILE --url URL
    dvcrawl export --format jsonl|csv|parquet [--site S] [--since D] [--until D]
                   [--include-duplicates] [--db URL] -o PATH|-

Bad input gets one line on stderr and exit status 2; a crawl that failed exits with 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

#: Larger files are not pages a portal serves; refusing them keeps memory bounded.
MAX_PAGE_BYTES = 50 * 1024 * 1024


class UserError(Exception):
    """A mistake in what the user asked for: reported in one line, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except UserError as exc:
        print(f"dvcrawl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dvcrawl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `dvcrawl export -o - | head` closes the pipe early; that is not an error. Point
        # stdout at /dev/null so the interpreter's final flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the contract for bad input)."""

    def error(self, message: str) -> NoReturn:
        print(f"dvcrawl: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dvcrawl",
        description="Crawl Vietnamese party and government portals for articles about công tác dân vận.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    sites = commands.add_parser(
        "sites", help="list registered sites, their domains and entry points"
    )
    sites.set_defaults(handler=cmd_sites)

    crawl = commands.add_parser("crawl", help="crawl sites into the database")
    crawl.add_argument("sites", nargs="*", metavar="SITE", help="site ids (see `dvcrawl sites`)")
    crawl.add_argument("--all", action="store_true", help="crawl every enabled site")
    crawl.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: $DVCRAWL_DB_URL or SQLite under storage/)",
    )
    crawl.add_argument(
        "--replay", nargs="+", metavar="WARC", help="answer requests from these WARC files, offline"
    )
    crawl.add_argument(
        "--start-url", nargs="+", metavar="URL", help="start from these pages instead of the site's"
    )
    crawl.add_argument(
        "--max-pages", type=_positive_int, metavar="N", help="stop after N responses"
    )
    crawl.add_argument(
        "--full",
        action="store_true",
        help="backfill every listing to its last page (resumes a stopped backfill)",
    )
    crawl.add_argument(
        "--refresh",
        action="store_true",
        help="ask again for known articles, conditionally (only changed ones download)",
    )
    crawl.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Scrapy setting",
    )
    _add_verbosity(crawl)
    crawl.set_defaults(handler=cmd_crawl)

    status = commands.add_parser(
        "status", help="each site's last run, its health checks, and the corpus"
    )
    status.add_argument("--db", metavar="URL", help="database URL")
    status.set_defaults(handler=cmd_status)

    schedule = commands.add_parser(
        "schedule",
        help="crawl on a schedule until stopped (SIGTERM/Ctrl-C end it cleanly)",
        description="Run `dvcrawl crawl` now and then every INTERVAL; arguments after the options are passed to crawl.",
    )
    schedule.add_argument(
        "--every", required=True, type=_interval, metavar="INTERVAL", help="e.g. 30m, 6h, 1d"
    )
    schedule.add_argument(
        "--runs", type=_positive_int, metavar="N", help="stop after N runs (default: never)"
    )
    schedule.add_argument(
        "crawl_args", nargs=argparse.REMAINDER, metavar="CRAWL ARGS", help="e.g. --all, or sites"
    )
    schedule.set_defaults(handler=cmd_schedule)

    archive = commands.add_parser("import", help="run archived responses through extract -> store")
    archive.add_argument("warcs", nargs="+", metavar="WARC")
    archive.add_argument("--db", metavar="URL", help="database URL")
    _add_verbosity(archive)
    archive.set_defaults(handler=cmd_import)

    extract = commands.add_parser("extract", help="print the Article record of one stored page")
    extract.add_argument("file", metavar="FILE", help="an HTML file")
    extract.add_argument("--url", required=True, help="the URL the page was fetched from")
    extract.set_defaults(handler=cmd_extract)

    export = commands.add_parser("export", help="write the corpus to a file")
    export.add_argument("--format", required=True, choices=("jsonl", "csv", "parquet"))
    export.add_argument(
        "--site", action="append", default=[], metavar="S", help="only this site (repeatable)"
    )
    export.add_argument(
        "--since", type=_date, metavar="D", help="published on or after D (YYYY-MM-DD)"
    )
    export.add_argument(
        "--until", type=_date, metavar="D", help="published on or before D (YYYY-MM-DD)"
    )
    export.add_argument(
        "--include-duplicates", action="store_true", help="also export copies of earlier articles"
    )
    export.add_argument("--db", metavar="URL", help="database URL")
    export.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="output file, or - for stdout"
    )
    export.set_defaults(handler=cmd_export)
    return parser


def _add_verbosity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _interval(value: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", value)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not an interval (like 30m, 6h, 1d): {value!r}")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _log_level(args: argparse.Namespace) -> str:
    if args.quiet:
        return "ERROR"
    return {0: "WARNING", 1: "INFO"}.get(args.verbose, "DEBUG")


def _settings(db: str | None = None) -> Any:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "dvcrawl.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    if db:
        settings.set("DVCRAWL_DB_URL", db, priority="cmdline")
    return settings


def _check_database(url: str) -> None:
    from dvcrawl.db import DatabaseError, init_db, make_engine

    try:
        engine = make_engine(url, writer=True)
        try:
            init_db(engine)
        finally:
            engine.dispose()
    except DatabaseError as exc:
        raise UserError(str(exc)) from None


# --- commands --------------------------------------------------------------------------------


def cmd_sites(args: argparse.Namespace) -> int:
    """Print the registered sites."""
    from dvcrawl.sites import SITES

    for site in SITES.values():
        state = "" if site.enabled else "  (disabled: archival)"
        print(f"{site.id}{state}\n  {site.name}\n  domains: {', '.join(site.domains)}")
        for url in site.start_urls:
            print(f"  start:   {url}")
    return EXIT_OK


EXIT_BUSY = 75  # EX_TEMPFAIL: another crawl of the site is running; try again later


def cmd_crawl(args: argparse.Namespace) -> int:
    """Crawl the chosen sites through the Scrapy engine and report what was stored."""
    from dvcrawl.sites import SITES, UnknownSite, get_site, site_for_url

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
    for path in args.replay or []:
        if not Path(path).is_file():
            raise UserError(f"no such WARC file: {path}")

    settings = _settings(args.db)
    settings.set("LOG_LEVEL", _log_level(args), priority="cmdline")
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
    db_url = settings.get("DVCRAWL_DB_URL")
    _check_database(db_url)

    from scrapy.crawler import CrawlerProcess
    from scrapy.spiderloader import SpiderLoader

    from dvcrawl.db import storage_dir
    from dvcrawl.lock import Busy, lock_for
    from dvcrawl.warc import ReplayIndex, WarcError

    if args.replay:
        try:
            ReplayIndex(settings.getlist("DVCRAWL_REPLAY"))
        except WarcError as exc:
            raise UserError(str(exc)) from None
    locks = []
    try:
        for site in chosen:
            lock = lock_for(storage_dir(), db_url, site.id)
            lock.acquire()
            locks.append(lock)
    except Busy as busy:
        for lock in locks:
            lock.release()
        print(
            f"dvcrawl: another crawl of {site.id} into this database is running (pid {busy}); not starting",
            file=sys.stderr,
        )
        return EXIT_BUSY
    try:
        mode = "full" if args.full else "refresh" if args.refresh else "incremental"
        loader = SpiderLoader.from_settings(settings)
        _configure_logging(settings.get("LOG_LEVEL"), tracebacks=args.verbose >= 2)
        settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
        process = CrawlerProcess(settings)
        crawlers = []
        started = time.monotonic()
        for site in chosen:
            crawler = process.create_crawler(loader.load(site.id))
            process.crawl(crawler, start_url=start_urls.get(site.id), mode=mode)
            crawlers.append(crawler)
        process.start()
        elapsed = time.monotonic() - started
    finally:
        for lock in locks:
            lock.release()

    failed = print_report(
        [crawler.stats.get_stats() | {"site": crawler.spidercls.name} for crawler in crawlers]
    )
    print(f"done in {elapsed:.1f} s; database: {_redact(db_url)}")
    return EXIT_FAILED if failed else EXIT_OK


_REPORT_COLUMNS = (
    ("pages", "downloader/response_count"),
    ("article req", "dvcrawl/article_requests"),
    ("new", "dvcrawl/articles/new"),
    ("updated", "dvcrawl/articles/updated"),
    ("unchanged", "dvcrawl/articles/unchanged"),
    ("304", "dvcrawl/articles/not_modified"),
    ("duplicates", None),
    ("non-articles", "dvcrawl/dropped/not_article"),
    ("dead links", "dvcrawl/dead_links"),
    ("errors", None),
)


def print_report(runs: list[dict[str, Any]]) -> bool:
    """Print one table row per site crawled, then every failed health check; True if any failed."""
    from dvcrawl.health import error_count

    header = ["site", "result", *(name for name, _ in _REPORT_COLUMNS), "seconds"]
    rows, notes, failed = [], [], False
    for stats in runs:
        reason = stats.get("finish_reason", "unknown")
        problems = []
        if reason not in {"finished", "closespider_pagecount"}:
            problems.append(f"stopped: {reason}")
        if stats.get("dvcrawl/health_failed"):
            problems.append(f"{stats['dvcrawl/health_failed']} health checks failed")
        failed |= bool(problems)
        values = []
        for name, key in _REPORT_COLUMNS:
            if name == "duplicates":
                value = int(stats.get("dvcrawl/duplicates/exact", 0) or 0) + int(
                    stats.get("dvcrawl/duplicates/near", 0) or 0
                )
            elif name == "errors":
                value = error_count(stats)
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
        if stats.get("dvcrawl/warc_file"):
            notes.append(f"{stats['site']}: archive {stats['dvcrawl/warc_file']}")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                cell.rjust(width) if i > 1 else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    for note in notes:
        print(note)
    return failed


class _ShortFormatter(logging.Formatter):
    """One line per log record: a cron mail shows what failed, not Twisted's call stack."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved


def _configure_logging(level: str, *, tracebacks: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter if tracebacks else _ShortFormatter
    handler.setFormatter(
        formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    # The level sits on the handler: Scrapy resets the root logger's level when it starts.
    handler.setLevel(level)
    logging.getLogger().handlers[:] = [handler]


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def cmd_import(args: argparse.Namespace) -> int:
    """Run archived responses through the same validate -> store chain as a crawl."""
    from dvcrawl.extract import NotHTML, decode_html, extract_article
    from dvcrawl.items import FetchedArticle
    from dvcrawl.pipelines import Chain, CounterStats
    from dvcrawl.urls import InvalidURL
    from dvcrawl.warc import WarcError, iter_responses

    _configure_logging(_log_level(args), tracebacks=args.verbose >= 2)
    for path in args.warcs:
        if not Path(path).is_file():
            raise UserError(f"no such WARC file: {path}")
    settings = _settings(args.db)
    # One writer in a tight loop: large transactions are safe here and much faster.
    settings.set("DVCRAWL_COMMIT_EVERY", 200, priority="cmdline")
    _check_database(settings.get("DVCRAWL_DB_URL"))
    stats = CounterStats()
    started = time.monotonic()
    with Chain(settings, stats) as chain:
        for path in args.warcs:
            try:
                for response in iter_responses(path):
                    stats.inc_value("dvcrawl/import/responses")
                    content_type = response.header("Content-Type") or ""
                    if response.status != 200 or (
                        content_type and "html" not in content_type.lower()
                    ):
                        stats.inc_value("dvcrawl/import/skipped")
                        continue
                    try:
                        html = decode_html(response.body, content_type)
                        article = extract_article(html, response.url, fetched_at=response.date)
                    except (NotHTML, InvalidURL):
                        stats.inc_value("dvcrawl/import/skipped")
                        continue
                    chain.process(
                        FetchedArticle(
                            article=article,
                            fetched_at=response.date or datetime.now(UTC),
                            etag=response.header("ETag"),
                            last_modified=response.header("Last-Modified"),
                        )
                    )
            except WarcError as exc:
                raise UserError(str(exc)) from None
    values = stats.get_stats()
    print(
        f"imported {len(args.warcs)} archive(s): responses {values.get('dvcrawl/import/responses', 0)}, "
        f"articles new {values.get('dvcrawl/articles/new', 0)}, updated {values.get('dvcrawl/articles/updated', 0)}, "
        f"unchanged {values.get('dvcrawl/articles/unchanged', 0)}, "
        f"non-articles {values.get('dvcrawl/dropped/not_article', 0)}, "
        f"skipped {values.get('dvcrawl/import/skipped', 0)}; {time.monotonic() - started:.1f} s"
    )
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    """Print the Article record of one stored page as JSON."""
    from dvcrawl.extract import NotHTML, decode_html, extract_article
    from dvcrawl.urls import InvalidURL, canonicalize

    try:
        canonicalize(args.url)
    except InvalidURL as exc:
        raise UserError(str(exc)) from None
    path = Path(args.file)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise UserError(f"{path} is a directory, not an HTML file")
        if size > MAX_PAGE_BYTES:
            raise UserError(
                f"{path} is {size // (1024 * 1024)} MB; pages over {MAX_PAGE_BYTES // (1024 * 1024)} MB are refused"
            )
        body = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except PermissionError:
        raise UserError(f"cannot read {path}: permission denied") from None
    try:
        html = decode_html(body)
    except NotHTML as exc:
        raise UserError(f"{path}: {exc}") from None
    article = extract_article(html, args.url)
    tail = html[-4096:].lower()
    if "</html>" not in tail and "</body>" not in tail:
        print(
            f"dvcrawl: warning: {path} looks truncated (no closing </html>); fields may be incomplete",
            file=sys.stderr,
        )
    print(json.dumps(article.to_dict(), ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Write the corpus to a file or stdout."""
    from dvcrawl.db import DatabaseError, make_engine
    from dvcrawl.export import ExportFilter, export

    if args.since and args.until and args.since > args.until:
        raise UserError("--since is after --until")
    if args.format == "parquet" and args.output == "-":
        raise UserError("Parquet is a binary format: give a file with -o")
    settings = _settings(args.db)
    url = settings.get("DVCRAWL_DB_URL")
    _check_database(url)
    try:
        engine = make_engine(url)
    except DatabaseError as exc:
        raise UserError(str(exc)) from None
    where = ExportFilter(
        sites=tuple(args.site),
        since=args.since,
        until=args.until,
        include_duplicates=args.include_duplicates,
    )
    try:
        count = export(engine, where, args.format, args.output)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror}") from None
    finally:
        engine.dispose()
    if args.output != "-":
        print(f"exported {count} articles to {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """Print each site's last run, its failed health checks, and the size of the corpus."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from dvcrawl.db import make_engine
    from dvcrawl.db.models import ArticleRow, CrawlRun
    from dvcrawl.sites import SITES

    settings = _settings(args.db)
    url = settings.get("DVCRAWL_DB_URL")
    _check_database(url)
    engine = make_engine(url)
    header = [
        "site",
        "last run (UTC)",
        "result",
        "new",
        "updated",
        "articles",
        "copies",
        "newest article",
        "health",
    ]
    rows, problems, failing = [], [], False
    try:
        with Session(engine) as session:
            counts = dict(
                session.execute(
                    select(ArticleRow.site, func.count()).group_by(ArticleRow.site)
                ).all()
            )
            copies = dict(
                session.execute(
                    select(ArticleRow.site, func.count())
                    .where(ArticleRow.duplicate_of.is_not(None))
                    .group_by(ArticleRow.site)
                ).all()
            )
            newest = dict(
                session.execute(
                    select(ArticleRow.site, func.max(ArticleRow.published_at)).group_by(
                        ArticleRow.site
                    )
                ).all()
            )
            sites = list(SITES) + sorted(str(site) for site in set(counts) - set(SITES))
            for site in sites:
                run = session.scalar(
                    select(CrawlRun)
                    .where(CrawlRun.site == site)
                    .order_by(CrawlRun.id.desc())
                    .limit(1)
                )
                failed_checks = [c for c in (run.checks or []) if not c.get("ok")] if run else []
                if run is not None and run.outcome in {"failed", "interrupted"}:
                    failing = True
                failing |= bool(failed_checks)
                problems += [f"{site}: {c['name']}: {c['detail']}" for c in failed_checks]
                rows.append(
                    [
                        site,
                        run.started_at.strftime("%Y-%m-%d %H:%M") if run else "never",
                        run.outcome if run else "-",
                        str(run.new) if run else "-",
                        str(run.updated) if run else "-",
                        str(counts.get(site, 0)),
                        str(copies.get(site, 0)),
                        (newest.get(site) or "-")[:10],
                        ("FAIL: " + ", ".join(c["name"] for c in failed_checks))
                        if failed_checks
                        else ("ok" if run else "-"),
                    ]
                )
    finally:
        engine.dispose()
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    for problem in problems:
        print(problem)
    return EXIT_FAILED if failing else EXIT_OK


def cmd_schedule(args: argparse.Namespace) -> int:
    """Run crawls now and every interval, one at a time, until stopped."""
    import signal
    import subprocess
    import threading

    from dvcrawl.db import default_db_url, storage_dir
    from dvcrawl.lock import Busy, lock_for

    crawl_args = [a for a in args.crawl_args if a != "--"]
    if not crawl_args:
        raise UserError("say what to crawl, e.g. `dvcrawl schedule --every 6h --all`")
    db = (
        next((crawl_args[i + 1] for i, a in enumerate(crawl_args[:-1]) if a == "--db"), None)
        or default_db_url()
    )
    lock = lock_for(storage_dir(), db, "schedule")
    try:
        lock.acquire()
    except Busy as busy:
        print(
            f"dvcrawl: a schedule for this database is already running (pid {busy})",
            file=sys.stderr,
        )
        return EXIT_BUSY
    stopping = threading.Event()
    child: list[subprocess.Popen[bytes]] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.set()
        for process in child:
            process.send_signal(signal.SIGTERM)  # Scrapy finishes in-flight work and closes cleanly

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runs = 0
    try:
        while not stopping.is_set():
            started = time.monotonic()
            process = subprocess.Popen([sys.executable, "-m", "dvcrawl", "crawl", *crawl_args])
            child.append(process)
            code = process.wait()
            child.clear()
            runs += 1
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
            print(
                f"{stamp} UTC: crawl run {runs} exited with status {code}",
                file=sys.stderr,
                flush=True,
            )
            if args.runs and runs >= args.runs:
                break
            stopping.wait(max(0.0, args.every - (time.monotonic() - started)))
    finally:
        lock.release()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
