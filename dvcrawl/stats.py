"""Corpus statistics: articles per site and month or week, copies, field coverage, last runs.

One grouped query (site x publication day) feeds every view, so the numbers of the table, the
CSV, the JSON and the plot are the same numbers.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from dvcrawl.db.models import ArticleRow, CrawlRun

#: The period of articles without a publication date.
UNDATED = "undated"
PERIODS = ("month", "week")


@dataclass
class SiteStats:
    """One site's numbers. Articles are originals (copies of earlier articles are apart)."""

    site: str
    articles: int = 0
    duplicates: int = 0
    with_title: int = 0
    with_date: int = 0
    with_author: int = 0
    first_published: str | None = None
    last_published: str | None = None
    last_successful_run: str | None = None
    periods: dict[str, int] = field(default_factory=dict)

    def coverage(self, count: int) -> float:
        """A share of the site's stored rows (originals and copies), 0-1."""
        total = self.articles + self.duplicates
        return round(count / total, 3) if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "site": self.site,
            "articles": self.articles,
            "duplicates": self.duplicates,
            "coverage": {
                "title": self.coverage(self.with_title),
                "date": self.coverage(self.with_date),
                "author": self.coverage(self.with_author),
            },
            "first_published": self.first_published,
            "last_published": self.last_published,
            "last_successful_run": self.last_successful_run,
            "periods": dict(sorted(self.periods.items())),
        }


@dataclass
class CorpusStats:
    """Every site's numbers, by month or by ISO week."""

    by: str
    sites: list[SiteStats]

    def periods(self) -> list[str]:
        """Every period with an article, in order (undated last)."""
        found = {period for site in self.sites for period in site.periods}
        return sorted(found - {UNDATED}) + ([UNDATED] if UNDATED in found else [])

    def to_json(self) -> str:
        """The JSON document."""
        totals = SiteStats(site="all")
        for site in self.sites:
            totals.articles += site.articles
            totals.duplicates += site.duplicates
            totals.with_title += site.with_title
            totals.with_date += site.with_date
            totals.with_author += site.with_author
            for period, count in site.periods.items():
                totals.periods[period] = totals.periods.get(period, 0) + count
        document = {
            "by": self.by,
            "sites": [site.to_dict() for site in self.sites],
            "total": {
                key: value
                for key, value in totals.to_dict().items()
                if key not in {"site", "last_successful_run", "first_published", "last_published"}
            },
        }
        return json.dumps(document, ensure_ascii=False, indent=2)

    def to_csv(self) -> str:
        """One row per site and period: ``site,period,articles``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["site", "period", "articles"])
        for site in self.sites:
            for period in sorted(site.periods, key=lambda p: (p == UNDATED, p)):
                writer.writerow([site.site, period, site.periods[period]])
        return buffer.getvalue()


def period_of(day: str | None, by: str) -> str:
    """The month (``2024-03``) or ISO week (``2024-W09``) of a ``YYYY-MM-DD`` date."""
    if not day:
        return UNDATED
    try:
        parsed = date.fromisoformat(day[:10])
    except ValueError:
        return UNDATED
    if by == "month":
        return f"{parsed:%Y-%m}"
    year, week, _ = parsed.isocalendar()
    return f"{year}-W{week:02d}"


def corpus_stats(engine: Engine, *, by: str = "month", sites: tuple[str, ...] = ()) -> CorpusStats:
    """Count the stored articles per site and period (`by`: "month" or "week")."""
    if by not in PERIODS:
        raise ValueError(f"by must be one of {PERIODS}")
    day = func.substr(ArticleRow.published_at, 1, 10).label("day")
    original = ArticleRow.duplicate_of.is_(None)

    def present(column: Any) -> Any:
        return func.sum(case((func.coalesce(column, "") != "", 1), else_=0))

    query = select(
        ArticleRow.site,
        day,
        func.sum(case((original, 1), else_=0)).label("articles"),
        func.sum(case((original, 0), else_=1)).label("duplicates"),
        present(ArticleRow.title).label("with_title"),
        present(ArticleRow.published_at).label("with_date"),
        present(ArticleRow.author).label("with_author"),
    ).group_by(ArticleRow.site, day)
    runs = select(CrawlRun.site, func.max(CrawlRun.finished_at)).where(
        CrawlRun.outcome == "finished"
    )
    if sites:
        query = query.where(ArticleRow.site.in_(sites))
        runs = runs.where(CrawlRun.site.in_(sites))
    found: dict[str, SiteStats] = {}
    with Session(engine) as session:
        for row in session.execute(query):
            site = found.setdefault(row.site, SiteStats(site=row.site))
            site.articles += int(row.articles or 0)
            site.duplicates += int(row.duplicates or 0)
            site.with_title += int(row.with_title or 0)
            site.with_date += int(row.with_date or 0)
            site.with_author += int(row.with_author or 0)
            if row.articles:
                period = period_of(row.day, by)
                site.periods[period] = site.periods.get(period, 0) + int(row.articles)
            if row.day and period_of(row.day, by) != UNDATED:
                site.first_published = min(filter(None, [site.first_published, row.day]))
                site.last_published = max(filter(None, [site.last_published, row.day]))
        for site_id, finished in session.execute(runs.group_by(CrawlRun.site)):
            if finished is None:
                continue
            site = found.setdefault(site_id, SiteStats(site=site_id))
            site.last_successful_run = _utc(finished)
    ordered = sorted(found.values(), key=lambda s: (-s.articles, s.site))
    return CorpusStats(by=by, sites=ordered)


def _utc(moment: datetime) -> str:
    # SQLite gives naive datetimes back; dvcrawl writes them in UTC.
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def plot(stats: CorpusStats, path: Path) -> None:
    """Draw articles per month per site to a PNG file (`figure`).

    Raises:
        ImportError: if matplotlib is not installed.

    """
    figure(stats).savefig(path, format="png")


def figure(stats: CorpusStats) -> Any:
    """A matplotlib figure of articles per month per site: one small panel per site, busiest first.

    Panels rather than one line per site keep 10 or more portals readable: each site has its
    own scale (a portal of 20 articles a month is not flattened by one of 500) and its name
    above its panel instead of a colour in a legend.

    Raises:
        ImportError: if matplotlib is not installed.

    """
    # The Agg canvas draws without a display (cron, servers), and without pyplot's global state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    if stats.by != "month":
        raise ValueError("the plot is drawn from monthly statistics")
    sites = [site for site in stats.sites if any(p != UNDATED for p in site.periods)]
    columns = 1 if len(sites) <= 1 else 2 if len(sites) <= 4 else 3
    rows = max(1, math.ceil(len(sites) / columns))
    drawing = Figure(figsize=(4.2 * columns, 1.9 * rows + 0.8), dpi=100, layout="constrained")
    FigureCanvasAgg(drawing)
    months = [p for p in stats.periods() if p != UNDATED]
    axes = drawing.subplots(rows, columns, sharex=True, squeeze=False)
    start = _month_start(months[0]) if months else date.today()
    end = _month_start(months[-1]) if months else date.today()
    for index, axis in enumerate(axes.flat):
        if index >= len(sites):
            axis.set_visible(False)
            continue
        site = sites[index]
        dated = {p: n for p, n in site.periods.items() if p != UNDATED}
        axis.bar(
            [_month_start(p) for p in dated],
            list(dated.values()),
            width=25,
            align="edge",
            color="#3a6ea5",
        )
        undated = site.periods.get(UNDATED, 0)
        label = f"{site.site} ({sum(dated.values())}" + (
            f", {undated} undated)" if undated else ")"
        )
        axis.set_title(label, fontsize=9, loc="left")
        axis.tick_params(labelsize=8)
        axis.set_xlim(start - timedelta(days=5), end + timedelta(days=35))
        axis.yaxis.get_major_locator().set_params(integer=True)
        locator = AutoDateLocator()
        axis.xaxis.set_major_locator(locator)
        axis.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        if index + columns >= len(sites):
            # The lowest panel of its column: dates under it, even when the row below is empty.
            axis.xaxis.set_tick_params(labelbottom=True)
    if not sites:
        axes.flat[0].set_visible(True)
        axes.flat[0].text(0.5, 0.5, "no dated articles", ha="center", va="center")
    drawing.suptitle("Articles per month and site", fontsize=11)
    return drawing


def _month_start(period: str) -> date:
    return date.fromisoformat(f"{period}-01")
