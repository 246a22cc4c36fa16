"""The ``dvcrawl`` command: one module per command in this package.

    dvcrawl sites
    dvcrawl crawl SITE... | --all  [--db URL] [--replay WARC...] [--start-url URL...] [--max-pages N]
    dvcrawl import WARC... [--db URL]
    dvcrawl extract FILE --url URL
    dvcrawl export --format jsonl|csv|parquet [--site S] [--since D] [--until D]
                   [--include-duplicates] [--topic T [--min-relevance X]] [--db URL] -o PATH|-
    dvcrawl status [--db URL]
    dvcrawl schedule --every 6h [--runs N] CRAWL-ARGS...
    dvcrawl search QUERY [--site S] [--since D] [--until D] [--limit N] [--format table|jsonl]
                   [--topic T [--min-relevance X]] [--db URL]
    dvcrawl stats [--site S] [--by month|week] [--format table|csv|json] [--plot FILE.png]
                  [--db URL]

Bad input gets one line on stderr and exit status 2; a crawl that failed exits with 1.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

from dvcrawl.cli import (
    crawl,
    db,
    export,
    extract,
    import_warc,
    schedule,
    search,
    sites,
    stats,
    status,
)
from dvcrawl.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Parser, UserError

#: The commands, in the order `dvcrawl --help` lists them.
COMMANDS: tuple[ModuleType, ...] = (
    sites,
    crawl,
    status,
    schedule,
    import_warc,
    extract,
    export,
    search,
    stats,
    db,
)


def build_parser() -> Parser:
    """The argument parser of every command."""
    parser = Parser(
        prog="dvcrawl",
        description="Crawl Vietnamese party and government portals for articles about công tác dân vận.",
    )
    parser.add_argument(
        "--version",
        action=_PrintVersion,
        help="print the versions dvcrawl runs with, and its tree walks, and exit",
    )
    # Accepted before the command too (`dvcrawl --db URL status`), for commands that use it.
    parser.add_argument("--db", dest="global_db", metavar="URL", help="database URL")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    for module in COMMANDS:
        module.register(commands)
    return parser


def version_line() -> str:
    """The version line: dvcrawl's, the versions it runs with, and the tree walks in use.

    The compiled walks are built at install for the lxml installed then: after an upgrade of
    lxml, or on a machine without a C compiler, extraction runs the Python walks (the same
    records, slower), and this line says so and why.
    """
    import platform
    from importlib.metadata import version

    import lxml

    from dvcrawl import __version__
    from dvcrawl.extract import compiled

    walks = "compiled" if compiled.module is not None else f"Python ({compiled.IMPLEMENTATION})"
    return (
        f"dvcrawl {__version__} (Python {platform.python_version()}, Scrapy {version('scrapy')}, "
        f"lxml {lxml.__version__}, SQLAlchemy {version('sqlalchemy')}); tree walks: {walks}"
    )


class _PrintVersion(argparse.Action):
    """``--version``: `version_line`, then exit."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(version_line())
        parser.exit()


def run() -> NoReturn:
    """The ``dvcrawl`` program: `main`, then exit with its status.

    The objects left at exit are frozen out of the garbage collector first: the interpreter's
    last collection walks every object of Scrapy, SQLAlchemy and Alembic, about 0.13 s of
    every command, on one core while a parallel import's workers have finished (issue 11).
    The commands close their databases and files themselves; what is left is freed by the
    process's exit.
    """
    status = main()
    gc.freeze()
    sys.exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.global_db:
        if not hasattr(args, "db"):
            parser.error(f"--db is not an option of `dvcrawl {argv_command(args)}`")
        if args.db and args.db != args.global_db:
            parser.error("--db is given twice, with different URLs")
        args.db = args.global_db
    from dvcrawl.errors import DatabaseUnwritable

    try:
        return int(args.handler(args))
    except UserError as exc:
        print(f"dvcrawl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseUnwritable as exc:
        # Not a mistake in the command: the machine's state. Status 1, so cron mails it.
        print(f"dvcrawl: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("dvcrawl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `dvcrawl export -o - | head` closes the pipe early; that is not an error. Point
        # stdout at /dev/null so the interpreter's final flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def argv_command(args: object) -> str:
    """The name of the command `args` were parsed for."""
    handler = getattr(args, "handler", None)
    module = getattr(handler, "__module__", "") or ""
    return module.rsplit(".", 1)[-1].replace("import_warc", "import")


__all__ = ["COMMANDS", "UserError", "build_parser", "main", "run"]
