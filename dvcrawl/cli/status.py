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
    from dvcrawl.state import shared_run_of

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
    rows, problems, notes, failing = [], [], [], False
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
                recent = (
                    list(
                        session.scalars(
                            select(CrawlRun)
                            .where(CrawlRun.site == site, CrawlRun.source == source)
                            .order_by(CrawlRun.id.desc())
                            .limit(_SHARED_RUN_WINDOW)
                        )
                    )
                    if source
                    else []
                )
                run = recent[0] if recent else None
                shared = shared_run_of(recent)
                label = site if source in (None, "live") else f"{site} ({source})"
                if shared is not None:
                    # Workers of a shared frontier: the run as a whole (dvcrawl.frontier).
                    started, outcome, cause = shared.started_at, shared.outcome, shared.cause
                    new, updated, stats = shared.new, shared.updated, shared.stats
                    failed_checks = _shared_checks(session, site, shared, settings)
                    notes.append(f"{label}: {shared.describe()}")
                elif run is not None:
                    started, outcome, cause = run.started_at, run.outcome, run.cause
                    new, updated, stats = run.new, run.updated, run.stats or {}
                    failed_checks = [c for c in (run.checks or []) if not c.get("ok")]
                else:
                    failed_checks = []
                if run is not None and outcome in {"failed", "interrupted"}:
                    failing = True
                    # The run's cause in one line ("unreachable: DNS lookup failed for ...").
                    problems.append(f"{label}: {outcome}: {cause or run.finish_reason}")
                failing |= bool(failed_checks)
                problems += [f"{label}: {c['name']}: {c['detail']}" for c in failed_checks]
                rows.append(
                    [
                        site,
                        source or "-",
                        started.strftime("%Y-%m-%d %H:%M") if run else "never",
                        outcome if run else "-",
                        str(new) if run else "-",
                        str(updated) if run else "-",
                        str(counts.get(site, 0)),
                        str(copies.get(site, 0)),
                        str(int(stats.get("dvcrawl/articles/outside_declared_shape", 0) or 0))
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
    for note in notes:
        print(note)
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


#: Runs read back to find every worker of the newest shared run of a site.
_SHARED_RUN_WINDOW = 200


def _shared_checks(session: Any, site: str, shared: Any, settings: Any) -> list[dict[str, Any]]:
    """The failed health checks of a shared run.

    Once it is over, the checks run on the workers' counters added up, as one process doing
    all the work would have been checked; while it runs, each worker's own failed checks.
    """
    from sqlalchemy import func, select

    from dvcrawl import health
    from dvcrawl.db.models import ArticleRow, CrawlRun
    from dvcrawl.sites import SITES
    from dvcrawl.state import _aware

    if shared.outcome == "running" or shared.finished_at is None:
        seen: dict[str, dict[str, Any]] = {}
        for run in shared.runs:
            for check in run.checks or []:
                if not check.get("ok"):
                    seen.setdefault(check["name"], check)
        return list(seen.values())
    newest = session.scalar(
        select(func.max(ArticleRow.first_seen_at)).where(ArticleRow.site == site)
    )
    first = session.scalar(select(func.min(CrawlRun.started_at)).where(CrawlRun.site == site))
    checks = health.run_checks(
        shared.stats,
        newest_article=_aware(newest),
        first_run=_aware(first),
        now=_aware(shared.finished_at),
        limits=health.thresholds(settings, SITES[site].health if site in SITES else None),
    )
    return [check.as_dict() for check in checks if not check.ok]
