"""``dvcrawl export``: the corpus to JSON Lines, CSV or Parquet."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dvcrawl.cli.common import (
    EXIT_OK,
    UserError,
    add_corpus_filters,
    add_db_option,
    add_topic_options,
    corpus_filter,
    open_database,
)


def register(commands: Any) -> None:
    """Add the command's parser."""
    parser = commands.add_parser("export", help="write the corpus to a file")
    parser.add_argument("--format", required=True, choices=("jsonl", "csv", "parquet"))
    add_corpus_filters(parser)
    parser.add_argument(
        "--include-duplicates", action="store_true", help="also export copies of earlier articles"
    )
    add_topic_options(parser)
    add_db_option(parser)
    parser.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="output file, or - for stdout"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the corpus to a file or stdout."""
    from dvcrawl.export import count_rows, export
    from dvcrawl.progress import display, progress_wanted

    if args.since and args.until and args.since > args.until:
        raise UserError("--since is after --until")
    if args.format == "parquet" and args.output == "-":
        raise UserError("Parquet is a binary format: give a file with -o")
    settings, engine = open_database(args.db, existing=True)
    try:
        where = corpus_filter(args, settings, engine)
        with display(progress_wanted()) as shown:
            total = count_rows(engine, where) if shown.enabled else 0
            task = shown.add(f"export {args.format}", total=total or 1)

            def progress(done: int) -> None:
                if done % 100 == 0 or done == total:
                    shown.show(task, {"articles": done}, completed=done, rate_of="articles")

            count = export(
                engine,
                where,
                args.format,
                args.output,
                progress=progress if shown.enabled else None,
            )
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
