"""``dvcrawl search``: full-text search of titles and texts, best first, with a snippet."""

from __future__ import annotations

import argparse
import json
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
    positive_int,
    print_table,
)


def register(commands: Any) -> None:
    """Add the command's parser."""
    parser = commands.add_parser(
        "search",
        help="search titles and texts (with or without diacritics)",
        description=(
            'Search the corpus. Without diacritics a word matches any diacritics ("dan van '
            'kheo" finds "Dân vận khéo"); with diacritics it matches them, old and new '
            'tone-mark placement alike (hoà = hòa). "..." is a phrase, word* a prefix.'
        ),
    )
    parser.add_argument("query", metavar="QUERY", help='words, "a phrase", prefix*')
    add_corpus_filters(parser)
    parser.add_argument(
        "--limit", type=positive_int, default=20, metavar="N", help="at most N hits (default 20)"
    )
    parser.add_argument("--format", choices=("table", "jsonl"), default="table")
    parser.add_argument(
        "--include-duplicates", action="store_true", help="also show copies of earlier articles"
    )
    add_topic_options(parser)
    add_db_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the best hits for the query."""
    from dvcrawl.search import SearchError, search

    if args.since and args.until and args.since > args.until:
        raise UserError("--since is after --until")
    settings, engine = open_database(args.db, existing=True)
    try:
        where = corpus_filter(args, settings, engine)
        try:
            hits = search(engine, args.query, where, limit=args.limit)
        except SearchError as exc:
            raise UserError(str(exc)) from None
    finally:
        engine.dispose()
    if args.format == "jsonl":
        for hit in hits:
            sys.stdout.write(json.dumps(hit.to_dict(), ensure_ascii=False) + "\n")
        return EXIT_OK
    if not hits:
        print(f"no article matches {args.query!r}", file=sys.stderr)
        return EXIT_OK
    rows = [
        [
            f"{hit.score:.3g}",
            hit.site,
            (hit.published_at or "-")[:10],
            _cut(hit.title or "-", 70),
        ]
        for hit in hits
    ]
    print_table(["score", "site", "published", "title"], rows)
    print()
    for number, hit in enumerate(hits, 1):
        print(f"{number}. {hit.title or '-'}\n   {hit.url}\n   {hit.snippet}\n")
    return EXIT_OK


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
