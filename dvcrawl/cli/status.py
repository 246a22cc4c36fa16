"""``dvcrawl status``: each site's last run, its health checks, the corpus, learned URL shapes."""

from __future__ import annotations

import argparse
from typing import Any

from dvcrawl.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_db_option,
    check_database,
    print_table,
    project_settings,
)


def register(commands: Any) -> None:
    """Add the command's parser."""
    parser = commands.add_parser(
        "status", help="each site's last run, its health checks, and the corpus"
    )
    add_db_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print each site's last run, its failed health checks, and the size of the corpus.

    Below the table: the cause of every last run that failed or was interrupted, and every
    failed health check, one line each. Exit status 1 if there is any.
    """
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from dvcrawl.db import make_engine
    from dvcrawl.db.models import ArticleRow, CrawlRun, UrlShape
    from dvcrawl.sites import SITES

    settings = project_settings(args.db)
    url = settings.get("DVCRAWL_DB_URL")
    check_database(url, existing=True)
    engine = make_engine(url, create=False)
    header = [
        "site",
        "source",
        "last run (UTC)",
        "result",
        "new",
        "updated",
        "articles",
        "copies",
        "outside shape",
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
            sources: dict[str, list[str]] = {}
            for site, source in session.execute(
                select(CrawlRun.site, CrawlRun.source).distinct().order_by(CrawlRun.source)
            ):
                sources.setdefault(site, []).append(source)
            # One row per site and source: an archive run's outcome and checks show like a
            # live run's, and neither hides the other.
            pairs = [
                (site_id, source) for site_id in sites for source in sources.get(site_id) or [None]
            ]
            for site, source in pairs:
                run = (
                    session.scalar(
                        select(CrawlRun)
                        .where(CrawlRun.site == site, CrawlRun.source == source)
                        .order_by(CrawlRun.id.desc())
                        .limit(1)
                    )
                    if source
                    else None
                )
                failed_checks = [c for c in (run.checks or []) if not c.get("ok")] if run else []
                if run is not None and run.outcome in {"failed", "interrupted"}:
                    failing = True
                    # The run's cause in one line ("unreachable: DNS lookup failed for ...").
                    problems.append(f"{site}: {run.outcome}: {run.cause or run.finish_reason}")
                failing |= bool(failed_checks)
                label = site if source in (None, "live") else f"{site} ({source})"
                problems += [f"{label}: {c['name']}: {c['detail']}" for c in failed_checks]
                rows.append(
                    [
                        site,
                        source or "-",
                        run.started_at.strftime("%Y-%m-%d %H:%M") if run else "never",
                        run.outcome if run else "-",
                        str(run.new) if run else "-",
                        str(run.updated) if run else "-",
                        str(counts.get(site, 0)),
                        str(copies.get(site, 0)),
                        str((run.stats or {}).get("dvcrawl/articles/outside_declared_shape", 0))
                        if run
                        else "-",
                        (newest.get(site) or "-")[:10],
                        ("FAIL: " + ", ".join(c["name"] for c in failed_checks))
                        if failed_checks
                        else ("ok" if run else "-"),
                    ]
                )
            shapes = session.scalars(select(UrlShape).order_by(UrlShape.site, UrlShape.pattern))
            learned: dict[str, list[UrlShape]] = {}
            for shape in shapes:
                learned.setdefault(shape.site, []).append(shape)
    finally:
        engine.dispose()
    print_table(header, rows)
    for problem in problems:
        print(problem)
    for site_id, site_shapes in learned.items():
        declared = SITES[site_id].article_url if site_id in SITES else "-"
        print(f"{site_id}: article URL shape declared {declared}")
        for shape in site_shapes:
            print(
                f"{site_id}: article URL shape learned  {shape.pattern} ({shape.articles} "
                f"articles, last seen {shape.last_seen_at:%Y-%m-%d})"
            )
    return EXIT_FAILED if failing else EXIT_OK
