"""``dvcrawl export``: the corpus to JSON Lines, CSV or Parquet."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dvcrawl.cli.common import (
    EXIT_OK,
    UserError,
    add_db_option,
    check_database,
    iso_date,
    project_settings,
)


def register(commands: Any) -> None:
    """Add the command's parser."""
    parser = commands.add_parser("export", help="write the corpus to a file")
    parser.add_argument("--format", required=True, choices=("jsonl", "csv", "parquet"))
    parser.add_argument(
        "--site", action="append", default=[], metavar="S", help="only this site (repeatable)"
    )
    parser.add_argument(
        "--since", type=iso_date, metavar="D", help="published on or after D (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--until", type=iso_date, metavar="D", help="published on or before D (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--include-duplicates", action="store_true", help="also export copies of earlier articles"
    )
    add_db_option(parser)
    parser.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="output file, or - for stdout"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the corpus to a file or stdout."""
    from dvcrawl.db import DatabaseError, make_engine
    from dvcrawl.export import ExportFilter, export

    if args.since and args.until and args.since > args.until:
        raise UserError("--since is after --until")
    if args.format == "parquet" and args.output == "-":
        raise UserError("Parquet is a binary format: give a file with -o")
    settings = project_settings(args.db)
    url = settings.get("DVCRAWL_DB_URL")
    check_database(url, existing=True)
    try:
        engine = make_engine(url, create=False)
    except DatabaseError as exc:
        raise UserError(str(exc)) from None
    try:
        _check_sites(engine, args.site)
    except UserError:
        engine.dispose()
        raise
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
        where = f" {exc.filename}" if exc.filename and exc.filename != args.output else ""
        raise UserError(f"cannot write {args.output}: {exc.strerror}{where}") from None
    finally:
        engine.dispose()
    if args.output != "-":
        print(f"exported {count} articles to {args.output}", file=sys.stderr)
    return EXIT_OK


def _check_sites(engine: Any, sites: list[str]) -> None:
    """Refuse a site that is neither registered nor in the database (a typo exports nothing)."""
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
