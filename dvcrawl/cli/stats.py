"""``dvcrawl stats``: articles per site and month or week, copies, field coverage, last runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dvcrawl.cli.common import (
    EXIT_OK,
    UserError,
    add_db_option,
    check_sites,
    open_database,
    print_table,
)


def register(commands: Any) -> None:
    """Add the command's parser."""
    parser = commands.add_parser(
        "stats", help="articles per site and month or week, copies, field coverage, last runs"
    )
    parser.add_argument(
        "--site", action="append", default=[], metavar="S", help="only this site (repeatable)"
    )
    parser.add_argument("--by", choices=("month", "week"), default="month")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument(
        "--plot", metavar="FILE.png", help="also draw articles per month per site to a PNG file"
    )
    add_db_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the statistics (and draw the plot)."""
    from dvcrawl.stats import corpus_stats

    if args.plot:
        if not args.plot.lower().endswith(".png"):
            raise UserError(
                f"--plot writes a PNG file: give a name ending in .png, not {args.plot!r}"
            )
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UserError("stats --plot needs matplotlib: pip install 'dvcrawl[plot]'") from None
    if args.plot and not Path(args.plot).parent.is_dir():
        # A mistyped folder is not created silently: the plot would be looked for elsewhere.
        raise UserError(f"cannot write {args.plot}: no such folder {Path(args.plot).parent}")
    _settings, engine = open_database(args.db, existing=True)
    try:
        check_sites(engine, args.site)
        stats = corpus_stats(engine, by=args.by, sites=tuple(args.site))
        monthly = stats if args.by == "month" else None
        if args.plot and monthly is None:
            monthly = corpus_stats(engine, by="month", sites=tuple(args.site))
    finally:
        engine.dispose()
    if args.format == "json":
        print(stats.to_json())
    elif args.format == "csv":
        sys.stdout.write(stats.to_csv())
    else:
        print_summary(stats)
    if args.plot and monthly is not None:
        from dvcrawl.stats import plot

        target = Path(args.plot)
        try:
            plot(monthly, target)
        except OSError as exc:
            raise UserError(f"cannot write {args.plot}: {exc.strerror}") from None
        print(f"plot written to {args.plot}", file=sys.stderr)
    return EXIT_OK


def print_summary(stats: Any) -> None:
    """The two tables: one row per site, then articles per period and site."""
    if not stats.sites:
        print("no articles stored yet")
        return
    header = [
        "site",
        "articles",
        "copies",
        "title",
        "date",
        "author",
        "first",
        "last",
        "last ok run",
    ]
    rows = [
        [
            site.site,
            str(site.articles),
            str(site.duplicates),
            f"{site.coverage(site.with_title):.0%}",
            f"{site.coverage(site.with_date):.0%}",
            f"{site.coverage(site.with_author):.0%}",
            site.first_published or "-",
            site.last_published or "-",
            site.last_successful_run or "never",
        ]
        for site in stats.sites
    ]
    print_table(header, rows, numeric_from=1)
    print()
    names = [site.site for site in stats.sites]
    period_rows = []
    for period in stats.periods():
        counts = [site.periods.get(period, 0) for site in stats.sites]
        period_rows.append([period, *(str(n) if n else "." for n in counts), str(sum(counts))])
    print_table([stats.by, *names, "total"], period_rows, numeric_from=1)
