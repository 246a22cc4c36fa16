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
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Scrapy setting",
    )
    _add_verbosity(crawl)
    crawl.set_defaults(handler=cmd_crawl)

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
        engine = make_engine(url)
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
    _check_database(settings.get("DVCRAWL_DB_URL"))

    from scrapy.crawler import CrawlerProcess
    from scrapy.spiderloader import SpiderLoader

    from dvcrawl.warc import ReplayIndex, WarcError

    if args.replay:
        try:
            ReplayIndex(settings.getlist("DVCRAWL_REPLAY"))
        except WarcError as exc:
            raise UserError(str(exc)) from None
    loader = SpiderLoader.from_settings(settings)
    _configure_logging(settings.get("LOG_LEVEL"), tracebacks=args.verbose >= 2)
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = CrawlerProcess(settings)
    crawlers = []
    started = time.monotonic()
    for site in chosen:
        crawler = process.create_crawler(loader.load(site.id))
        process.crawl(crawler, start_url=start_urls.get(site.id))
        crawlers.append(crawler)
    process.start()
    elapsed = time.monotonic() - started

    failed = False
    for crawler in crawlers:
        stats = crawler.stats.get_stats()
        reason = stats.get("finish_reason", "unknown")
        problem = None
        if reason not in {"finished", "closespider_pagecount"}:
            problem = f"stopped: {reason}"
        elif stats.get("log_count/ERROR"):
            problem = f"{stats['log_count/ERROR']} errors logged"
        failed |= problem is not None
        print(_report_line(crawler.spider.name, stats, problem))
    print(f"done in {elapsed:.1f} s; database: {_redact(settings.get('DVCRAWL_DB_URL'))}")
    return EXIT_FAILED if failed else EXIT_OK


def _report_line(name: str, stats: dict[str, Any], problem: str | None) -> str:
    def get(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    errors = sum(int(v) for k, v in stats.items() if k.startswith("dvcrawl/errors/"))
    errors += sum(
        int(v) for k, v in stats.items() if k.startswith("spider_exceptions/") and k.count("/") == 1
    )
    seconds = stats.get("elapsed_time_seconds", 0.0)
    parts = [
        f"{name}: {f'FAILED ({problem})' if problem else 'ok'}",
        f"pages fetched {get('downloader/response_count')}",
        f"articles new {get('dvcrawl/articles/new')}",
        f"updated {get('dvcrawl/articles/updated')}",
        f"unchanged {get('dvcrawl/articles/unchanged')}",
        f"non-articles {get('dvcrawl/dropped/not_article')}",
        f"dead links {get('dvcrawl/dead_links')}",
        f"errors {errors}",
        f"{seconds:.1f} s",
    ]
    if stats.get("dvcrawl/replay/hits") is not None or stats.get("dvcrawl/replay/missing"):
        parts.append(
            f"replayed {get('dvcrawl/replay/hits')}, not archived {get('dvcrawl/replay/missing')}"
        )
    if stats.get("dvcrawl/warc_file"):
        parts.append(f"archive {stats['dvcrawl/warc_file']}")
    return "; ".join(parts)


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


if __name__ == "__main__":
    sys.exit(main())
