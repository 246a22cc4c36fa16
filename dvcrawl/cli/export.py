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
    check_database(url)
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
