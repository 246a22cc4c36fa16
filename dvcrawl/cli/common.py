"""What every command shares: exit codes, the one-line error, argument types, settings.

Each command lives in its own module of this package (``dvcrawl/cli/<command>.py``) with a
``register(commands)`` function that adds its parser; this module holds only what two or more
commands use.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from datetime import date
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUSY = 75  # EX_TEMPFAIL: another crawl of the site is running; try again later

#: Larger files are not pages a portal serves; refusing them keeps memory bounded.
MAX_PAGE_BYTES = 50 * 1024 * 1024


class UserError(Exception):
    """A mistake in what the user asked for: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the contract for bad input)."""

    def error(self, message: str) -> NoReturn:
        """Print one line and exit with status 2."""
        print(f"dvcrawl: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


# --- options several commands take -----------------------------------------------------------


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db URL``."""
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: $DVCRAWL_DB_URL or SQLite under storage/)",
    )


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    """``-v``/``-vv`` and ``-q``."""
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")


def add_corpus_filters(parser: argparse.ArgumentParser) -> None:
    """``--site S`` (repeatable), ``--since D``, ``--until D``: which articles to read."""
    parser.add_argument(
        "--site", action="append", default=[], metavar="S", help="only this site (repeatable)"
    )
    parser.add_argument(
        "--since", type=iso_date, metavar="D", help="published on or after D (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--until", type=iso_date, metavar="D", help="published on or before D (YYYY-MM-DD)"
    )


def add_topic_options(parser: argparse.ArgumentParser) -> None:
    """``--topic NAME`` and ``--min-relevance X``: keep the articles relevant to the topic."""
    parser.add_argument(
        "--topic",
        metavar="NAME",
        help="keep articles relevant to this topic (the list in use: danvan by default)",
    )
    parser.add_argument(
        "--min-relevance",
        type=unit_interval,
        metavar="X",
        help="with --topic: the least relevance kept, 0-1 (default: the list's threshold)",
    )


def positive_int(value: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def positive_float(value: str) -> float:
    """An argparse type: a number of seconds above 0."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError("must be a number above 0")
    return number


def unit_interval(value: str) -> float:
    """An argparse type: a number from 0 to 1."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return number


def interval(value: str) -> float:
    """An argparse type: ``30m``, ``6h``, ``1d`` (or seconds) as seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", value)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not an interval (like 30m, 6h, 1d): {value!r}")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def iso_date(value: str) -> date:
    """An argparse type: ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


# --- settings, database, logging -------------------------------------------------------------


def log_level(args: argparse.Namespace) -> str:
    """The log level that ``-q``/``-v``/``-vv`` ask for (quiet by default: warnings)."""
    if args.quiet:
        return "ERROR"
    return {0: "WARNING", 1: "INFO"}.get(args.verbose, "DEBUG")


def project_settings(db: str | None = None) -> Any:
    """The project's Scrapy settings, with ``--db`` applied."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "dvcrawl.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    if db:
        settings.set("DVCRAWL_DB_URL", db, priority="cmdline")
    return settings


def check_database(url: str, *, writable: bool = False, existing: bool = False) -> None:
    """Open the database once (creating or upgrading its schema).

    Args:
        url: the database URL.
        writable: also check that it accepts writes (`DatabaseUnusable` if not).
        existing: a SQLite file must already exist (commands that only read must not
            create a database, or its folders, at a mistyped path).

    Raises:
        UserError: for a URL that cannot be used or a SQLite file that does not exist.
        dvcrawl.db.DatabaseUnwritable: for a database that takes no writes (when `writable`):
            not the user's input but the machine's state, so the command fails (status 1).

    """
    from dvcrawl.db import (
        DatabaseError,
        DatabaseUnwritable,
        check_writable,
        init_db,
        make_engine,
        sqlite_path,
    )

    path = sqlite_path(url)
    if existing and path is not None and not path.is_file():
        raise UserError(f"no database at {path} (give --db, or run a crawl first)")
    try:
        engine = make_engine(url, writer=True, create=not existing)
        try:
            init_db(engine)
            if writable:
                check_writable(engine)
        finally:
            engine.dispose()
    except DatabaseUnwritable as exc:
        if writable:
            raise
        raise UserError(str(exc)) from None
    except DatabaseError as exc:
        raise UserError(str(exc)) from None


def open_database(db: str | None, *, existing: bool = False) -> tuple[Any, Any]:
    """The project settings and an engine on the database, its schema created or updated first.

    With `existing`, a SQLite file must already exist (a command that only reads must not
    create a database at a mistyped path). A database that cannot be used is a `UserError`.
    """
    from dvcrawl.db import DatabaseError, make_engine

    settings = project_settings(db)
    url = settings.get("DVCRAWL_DB_URL")
    check_database(url, existing=existing)
    try:
        return settings, make_engine(url, create=not existing)
    except DatabaseError as exc:
        raise UserError(str(exc)) from None


def check_sites(engine: Any, sites: list[str]) -> None:
    """Refuse a site that is neither registered nor in the database (a typo reads nothing)."""
    if not sites:
        return
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from dvcrawl.db.models import ArticleRow
    from dvcrawl.sites import SITES

    with Session(engine) as session:
        stored = set(session.scalars(select(ArticleRow.site).distinct()))
    unknown = [site for site in sites if site not in SITES and site not in stored]
    if unknown:
        known = ", ".join(sorted(set(SITES) | stored))
        raise UserError(f"unknown site {unknown[0]!r} (known: {known})")


def configured_topic(settings: Any) -> Any:
    """The topic list in use (``DVCRAWL_TOPIC_FILE``, else the shipped one).

    A file that cannot be read or is not a topic list is a `UserError`.
    """
    from dvcrawl.topic import TopicError, load_topic

    try:
        return load_topic(settings.get("DVCRAWL_TOPIC_FILE") or None)
    except TopicError as exc:
        raise UserError(str(exc)) from None


def corpus_filter(args: argparse.Namespace, settings: Any, engine: Any) -> Any:
    """The articles the options of export and search select (`dvcrawl.export.CorpusFilter`).

    ``--site``, ``--since``, ``--until``, ``--include-duplicates``, ``--topic``/``--min-relevance``.

    Raises:
        UserError: a site that is neither registered nor in the database.

    """
    from dvcrawl.export import CorpusFilter

    check_sites(engine, args.site)
    return CorpusFilter(
        sites=tuple(args.site),
        since=args.since,
        until=args.until,
        include_duplicates=args.include_duplicates,
        min_relevance=relevance_floor(args, settings, engine),
    )


def relevance_floor(args: argparse.Namespace, settings: Any, engine: Any) -> float | None:
    """The least relevance ``--topic``/``--min-relevance`` keep, or None without them.

    Scores the articles that need it first (a changed list, articles stored unscored), with
    progress on a terminal, so the filter never reads a stale or missing score.
    """
    if args.topic is None and args.min_relevance is None:
        return None
    topic = configured_topic(settings)
    if args.topic is not None and args.topic != topic.name:
        raise UserError(
            f"unknown topic {args.topic!r}: the topic list in use is {topic.name!r} "
            "(set DVCRAWL_TOPIC_FILE to use another list)"
        )
    rescore(engine, topic, quiet=getattr(args, "quiet", False))
    return args.min_relevance if args.min_relevance is not None else topic.threshold


def rescore(engine: Any, topic: Any, *, quiet: bool = False) -> int:
    """Score the articles that need it (`dvcrawl.topic.refresh_scores`), with progress."""
    from dvcrawl.progress import display, progress_wanted
    from dvcrawl.topic import refresh_scores

    with display(progress_wanted(quiet=quiet)) as shown:
        task = shown.add(f"scoring {topic.name}", total=100)
        return refresh_scores(
            engine,
            topic,
            progress=lambda done, total: shown.show(
                task, {"articles": done}, completed=done / max(total, 1) * 100, rate_of="articles"
            ),
        )


class _ShortFormatter(logging.Formatter):
    """One line per log record: a cron mail shows what failed, not Twisted's call stack."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved


def configure_logging(level: str, *, tracebacks: bool) -> None:
    """Log to stderr at `level`, one line per record unless `tracebacks`."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter if tracebacks else _ShortFormatter
    handler.setFormatter(
        formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    # The level sits on the handler: Scrapy resets the root logger's level when it starts.
    handler.setLevel(level)
    logging.getLogger().handlers[:] = [handler]


def redact(url: str) -> str:
    """A database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def print_table(
    header: list[str], rows: list[list[str]], *, numeric_from: int | None = None
) -> None:
    """Print rows under a header in aligned columns (columns from `numeric_from` right-aligned)."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [
            cell.rjust(width)
            if numeric_from is not None and i >= numeric_from
            else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
