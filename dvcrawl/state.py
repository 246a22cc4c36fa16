"""Crawl state in the database: runs, known articles, backfill cursors.

`CrawlState` is what makes a scheduled crawl cheap and safe:

* which article URLs are already stored (and their HTTP validators), so a run fetches only
  what is new, and ``--refresh`` asks conditionally for the rest;
* one ``crawl_runs`` row per run and site, inserted as "running" at the start; a run killed
  outright (``kill -9``, power loss) is found by the next run of the site and recorded as
  "interrupted", and that next run then walks the listings to their full depth instead of
  stopping at the first page of known articles, so nothing the killed run missed is lost;
* a cursor per listing for ``--full`` backfills, saved after every listing page, so a
  backfill of a portal's whole archive resumes where it stopped;
* for archive runs (``--source wayback``), which captures were already read
  (`ArchiveProgress`), so a run stopped after days resumes where it stopped.

`CrawlStateExtension` opens it for a crawl, records the run, and when the spider closes runs
the health checks (`dvcrawl.health`) and records the run's verdict (`dvcrawl.outcome`). A
database that cannot be written stops the crawl before any page is fetched.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dvcrawl import health, urlshapes
from dvcrawl.db import (
    DatabaseError,
    check_writable,
    describe_db_error,
    init_db,
    make_engine,
    utcnow,
)
from dvcrawl.db.models import ArchiveCapture, ArticleRow, CrawlCursor, CrawlRun, UrlShape
from dvcrawl.outcome import DATABASE_ERROR, Verdict, judge
from dvcrawl.urls import path_and_query

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class CrawlState:
    """Database access for crawl runs, known articles and backfill cursors."""

    def __init__(self, db_url: str):
        # Writes take SQLite's write lock when they begin; reads never do, so a lookup during
        # a crawl never waits on the store's open transaction in the same thread.
        self.engine = make_engine(db_url, writer=True)
        self.reader = make_engine(db_url)
        init_db(self.engine)

    def check_writable(self) -> None:
        """Raise `DatabaseError` now if the database accepts no writes."""
        check_writable(self.engine)

    def close(self) -> None:
        """Release the database."""
        self.engine.dispose()
        self.reader.dispose()

    # --- runs ----------------------------------------------------------------------------

    def recover_interrupted(
        self, site: str, *, alive: Callable[[str, int], bool] | None = None
    ) -> int:
        """Record the site's runs left "running" by a process that is gone; return how many.

        Args:
            site: the site id.
            alive: whether the worker on (host, pid) is alive elsewhere (a shared frontier's
                heartbeat); without it a run on another host counts as gone.

        """
        host = socket.gethostname()
        with Session(self.engine) as session, session.begin():
            stale = session.scalars(
                select(CrawlRun).where(CrawlRun.site == site, CrawlRun.outcome == "running")
            ).all()
            count = 0
            for run in stale:
                if run.host == host and _process_alive(run.pid):
                    continue
                if alive is not None and alive(run.host, run.pid):
                    continue
                run.outcome = "interrupted"
                run.finish_reason = "killed"
                count += 1
            return count

    def last_run(
        self, site: str, *, before: int | None = None, source: str | None = None
    ) -> CrawlRun | None:
        """The site's most recent run (other than run `before`; of `source` if given)."""
        with Session(self.reader, expire_on_commit=False) as session:
            query = select(CrawlRun).where(CrawlRun.site == site)
            if source is not None:
                query = query.where(CrawlRun.source == source)
            if before is not None:
                query = query.where(CrawlRun.id != before)
            return session.scalar(query.order_by(CrawlRun.id.desc()).limit(1))

    def start_run(
        self, site: str, mode: str, source: str = "live", *, stats: dict[str, Any] | None = None
    ) -> int:
        """Insert a "running" run row, committed at once; return its id.

        `stats` are stored with the row from the start (a shared run's id, so that
        ``dvcrawl status`` can gather a running worker with the others).
        """
        with Session(self.engine) as session, session.begin():
            run = CrawlRun(
                site=site,
                mode=mode,
                source=source,
                pid=os.getpid(),
                host=socket.gethostname(),
                started_at=utcnow(),
                outcome="running",
                stats=dict(stats or {}),
            )
            session.add(run)
            session.flush()
            return run.id

    def finish_run(
        self,
        run_id: int,
        *,
        reason: str,
        stats: dict[str, Any],
        checks: list[health.CheckResult],
        verdict: Verdict | None = None,
    ) -> CrawlRun:
        """Record how the run ended (`dvcrawl.outcome.judge`), its counters and health checks."""
        verdict = verdict or judge(stats, reason)
        counters = {
            key: int(stats.get(f"dvcrawl/articles/{key}", 0) or 0)
            for key in ("new", "updated", "unchanged")
        }
        duplicates = int(stats.get("dvcrawl/duplicates/exact", 0) or 0) + int(
            stats.get("dvcrawl/duplicates/near", 0) or 0
        )
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            run = session.get(CrawlRun, run_id)
            assert run is not None
            run.finished_at = utcnow()
            run.outcome = verdict.outcome
            run.cause = verdict.cause
            run.finish_reason = reason
            run.pages_fetched = int(stats.get("downloader/response_count", 0) or 0)
            run.article_requests = int(stats.get("dvcrawl/article_requests", 0) or 0)
            run.new, run.updated, run.unchanged = (
                counters["new"],
                counters["updated"],
                counters["unchanged"],
            )
            run.duplicates = duplicates
            # Pages lost and articles not stored: the report's "errors" column.
            run.errors = health.error_count(stats) + int(
                stats.get("dvcrawl/storage/failed", 0) or 0
            )
            run.stats = {key: _jsonable(value) for key, value in stats.items()}
            run.checks = [check.as_dict() for check in checks]
            return run

    def history(self, site: str) -> tuple[datetime | None, datetime | None]:
        """(newest article first seen, first live run started) for the site.

        Archive runs are not the portal's history: a portal read from an archive for weeks and
        then crawled live for the first time is judged from that first live run on.
        """
        with Session(self.reader) as session:
            newest = session.scalar(
                select(func.max(ArticleRow.first_seen_at)).where(ArticleRow.site == site)
            )
            first = session.scalar(
                select(func.min(CrawlRun.started_at)).where(
                    CrawlRun.site == site, CrawlRun.source == "live"
                )
            )
        return _aware(newest), _aware(first)

    # --- known articles ------------------------------------------------------------------

    def known(self, canonical_urls: list[str]) -> dict[str, tuple[str | None, str | None]]:
        """Articles fetched from their portal among `canonical_urls`: URL -> (ETag, Last-Modified).

        An article read from a web archive is not known to a live crawl: the portal's page is
        fetched once and replaces the archive's copy in place.
        """
        if not canonical_urls:
            return {}
        with Session(self.reader) as session:
            rows = session.execute(
                select(
                    ArticleRow.canonical_url, ArticleRow.http_etag, ArticleRow.http_last_modified
                ).where(
                    ArticleRow.canonical_url.in_(canonical_urls), ArticleRow.archive_url.is_(None)
                )
            ).all()
        return {row.canonical_url: (row.http_etag, row.http_last_modified) for row in rows}

    # --- archive runs ---------------------------------------------------------------------

    def archive_progress(self, site: str) -> ArchiveProgress:
        """What earlier archive runs of a site have read, and the site's stored articles."""
        progress = ArchiveProgress()
        with Session(self.reader) as session:
            for row in session.execute(
                select(ArchiveCapture.timestamp, ArchiveCapture.original_url,
                       ArchiveCapture.canonical_url, ArchiveCapture.digest)
                .where(ArchiveCapture.site == site)
            ):  # fmt: skip
                progress.read.add((row.timestamp, row.original_url))
                if row.digest:
                    progress.digests.setdefault(row.canonical_url, set()).add(row.digest)
            for row in session.execute(
                select(ArticleRow.canonical_url, ArticleRow.archived_at)
                .where(ArticleRow.site == site)
            ):  # fmt: skip
                # A page fetched from the portal has no capture time (and no archive URL).
                progress.stored[row.canonical_url] = _aware(row.archived_at)
        return progress

    # --- learned URL shapes ---------------------------------------------------------------

    def learned_shapes(self, site: str) -> list[UrlShape]:
        """The article URL shapes learned for a site, most supported first."""
        with Session(self.reader, expire_on_commit=False) as session:
            return list(
                session.scalars(
                    select(UrlShape)
                    .where(UrlShape.site == site)
                    .order_by(UrlShape.articles.desc(), UrlShape.pattern)
                )
            )

    def learn_shapes(self, site: str, declared: Callable[[str], bool]) -> list[UrlShape]:
        """Relearn a site's URL shapes from its stored articles that miss the declared pattern.

        Args:
            site: the site id.
            declared: whether a URL's path and query has the declared article shape.

        """
        with Session(self.reader) as session:
            urls = session.scalars(
                select(ArticleRow.canonical_url).where(ArticleRow.site == site)
            ).all()
        outside = [path for path in map(path_and_query, urls) if not declared(path)]
        shapes = {shape.pattern: shape.articles for shape in urlshapes.learn_shapes(outside)}
        now = utcnow()
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            known = {
                row.pattern: row
                for row in session.scalars(select(UrlShape).where(UrlShape.site == site))
            }
            for pattern, row in known.items():
                if pattern not in shapes:
                    session.delete(row)
            for pattern, count in shapes.items():
                row = known.get(pattern)
                if row is None:
                    row = UrlShape(site=site, pattern=pattern, first_seen_at=now)
                    session.add(row)
                if row.articles != count or row.last_seen_at is None:
                    row.last_seen_at = now
                row.articles = count
        return self.learned_shapes(site)

    # --- backfill cursors ----------------------------------------------------------------

    def cursor(self, site: str, listing: str) -> CrawlCursor | None:
        """The backfill cursor of a listing, if a backfill of it was started."""
        with Session(self.reader, expire_on_commit=False) as session:
            return session.get(CrawlCursor, (site, listing))

    def save_cursor(self, site: str, listing: str, *, next_url: str | None, page: int) -> None:
        """Remember the next page of a listing's backfill (None: the backfill is complete)."""
        with Session(self.engine) as session, session.begin():
            cursor = session.get(CrawlCursor, (site, listing))
            if cursor is None:
                cursor = CrawlCursor(site=site, listing=listing, updated_at=utcnow())
                session.add(cursor)
            cursor.next_url = next_url
            cursor.page = page
            cursor.updated_at = utcnow()
            cursor.done_at = utcnow() if next_url is None else None

    def reset_cursor(self, site: str, listing: str) -> None:
        """Forget a completed backfill so that a new one starts from the first page."""
        with Session(self.engine) as session, session.begin():
            session.execute(
                update(CrawlCursor)
                .where(CrawlCursor.site == site, CrawlCursor.listing == listing)
                .values(next_url=None, page=1, done_at=None, updated_at=utcnow())
            )


class ArchiveProgress:
    """What an archive run needs to know to read each capture once, across runs.

    Attributes:
        read: ``(timestamp, original URL)`` of every capture read before (with any outcome).
        digests: payload digests already read, by canonical URL.
        stored: the site's stored articles: canonical URL -> capture time of the archive copy
            stored, or None for a page fetched from the portal itself.

    """

    def __init__(self) -> None:
        self.read: set[tuple[str, str]] = set()
        self.digests: dict[str, set[str]] = {}
        self.stored: dict[str, datetime | None] = {}

    def needs(self, canonical: str, timestamp: str, original: str, digest: str) -> str | None:
        """Why a capture need not be read (a stat name), or None if it must be.

        Not read again: a capture read before; a page stored from the portal itself (the
        portal's page is the better copy); a page stored from a capture at least as recent;
        a capture whose payload was read before under another timestamp. A newer capture with
        other content is read, and updates the stored article in place.
        """
        from dvcrawl.wayback import parse_timestamp

        if (timestamp, original) in self.read:
            return "read_before"
        if canonical in self.stored:
            stored_at = self.stored[canonical]
            if stored_at is None:
                return "stored_live"
            if stored_at >= parse_timestamp(timestamp):
                return "stored_newer"
        if digest and digest in self.digests.get(canonical, ()):
            return "same_digest"
        return None


class CrawlStateExtension:
    """Scrapy extension: records the run, and its verdict and health checks at the end.

    Other components reach it with ``crawler.get_extension(CrawlStateExtension)``.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.db_url: str = crawler.settings.get("DVCRAWL_DB_URL")
        self.state: CrawlState | None = None
        # A database that cannot be opened must not crash the crawler's construction: the
        # failure is kept and reported when the spider opens, before any request.
        self._open_error: Exception | None = None
        try:
            self.state = CrawlState(self.db_url)
        except (DatabaseError, SQLAlchemyError) as exc:
            self._open_error = exc
        self.run_id: int | None = None
        self.previous: CrawlRun | None = None
        self.checks: list[health.CheckResult] = []
        self.verdict: Verdict | None = None
        # With a shared frontier (dvcrawl.frontier): the run this worker joined.
        self.frontier: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlStateExtension:
        """Create the extension and connect it to the spider's signals."""
        from scrapy import signals

        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    @property
    def previous_was_complete(self) -> bool:
        """Whether the site's previous run walked everything and lost nothing.

        Only then may known pages end paging: a run that lost pages to errors, or was killed,
        may have left articles behind on deeper listing pages.
        """
        if self.frontier is not None and self.frontier.run is not None:
            # Every worker of a shared run pages alike: the frontier decided once, for all.
            return bool(self.frontier.run.previous_complete)
        return self.previous is not None and self.previous.outcome == "finished"

    def database_previous_complete(self, site: str) -> bool:
        """Whether the site's last run in the database was complete (a new shared run asks)."""
        if self.state is None:
            return False
        previous = self.state.last_run(site)
        return previous is not None and previous.outcome == "finished"

    def record_dead_workers(self, site: str) -> None:
        """Workers of the shared run died: record their runs as interrupted now."""
        if self.state is None or self.frontier is None:
            return
        try:
            self.state.recover_interrupted(site, alive=self._worker_alive)
        except SQLAlchemyError as exc:
            logger.error("%s: %s", site, describe_db_error(exc))

    def _worker_alive(self, host: str, pid: int) -> bool:
        from dvcrawl.frontier import worker_id

        try:
            return bool(self.frontier.alive(worker_id(host, pid)))
        except Exception:  # Redis failed: assume alive rather than mark a live run interrupted
            return True

    def spider_opened(self, spider: Any) -> None:
        """Recover interrupted runs and start this one; stop at once if the database is unusable.

        Raises:
            CloseSpider: when the database cannot be written (before any request is sent).

        """
        from scrapy.exceptions import CloseSpider

        from dvcrawl.frontier import frontier_of

        self.frontier = frontier_of(self.crawler)
        shared = (
            {"dvcrawl/frontier/run": self.frontier.run.id}
            if self.frontier is not None and self.frontier.run is not None
            else {}
        )
        try:
            if self.state is None:
                raise self._open_error or DatabaseError("the database could not be opened")
            self.state.check_writable()
            recovered = self.state.recover_interrupted(
                spider.name, alive=self._worker_alive if self.frontier is not None else None
            )
            source = getattr(spider, "source", "live")
            self.previous = self.state.last_run(spider.name, source=source)
            self.run_id = self.state.start_run(
                spider.name, getattr(spider, "mode", "incremental"), source, stats=shared
            )
        except (DatabaseError, SQLAlchemyError) as exc:
            cause = str(exc) if isinstance(exc, DatabaseError) else describe_db_error(exc)
            self.crawler.stats.set_value("dvcrawl/cause/database", cause)
            logger.error("%s: %s; nothing will be fetched", spider.name, cause)
            raise CloseSpider(DATABASE_ERROR) from None
        if recovered:
            logger.warning(
                "%s: %d earlier run(s) were interrupted; walking listings to full depth",
                spider.name,
                recovered,
            )
        self.crawler.stats.set_value("dvcrawl/run_id", self.run_id)

    def spider_closed(self, spider: Any, reason: str) -> None:
        """Learn URL shapes, run the health checks, judge the run, and record it."""
        stats = self.crawler.stats
        if self.state is not None and self.run_id is not None:
            try:
                self._learn_url_shapes(spider)
                newest, first = self.state.history(spider.name)
                if getattr(spider, "source", "live") != "live":
                    # An archive holds what a portal published once: silence is what it is.
                    newest = first = None
                self.checks = health.run_checks(
                    stats.get_stats(),
                    newest_article=newest,
                    first_run=first,
                    now=utcnow(),
                    limits=health.thresholds(
                        self.crawler.settings,
                        getattr(getattr(spider, "site", None), "health", None),
                    ),
                )
            except SQLAlchemyError as exc:
                logger.error("%s: health checks not run: %s", spider.name, describe_db_error(exc))
        failed = [check for check in self.checks if not check.ok]
        for check in failed:
            logger.error("%s: health check %s failed: %s", spider.name, check.name, check.detail)
        stats.set_value("dvcrawl/health_failed", len(failed))
        self.verdict = judge(stats.get_stats(), reason)
        if self.state is not None and self.run_id is not None:
            try:
                self.state.finish_run(
                    self.run_id,
                    reason=reason,
                    stats=stats.get_stats(),
                    checks=self.checks,
                    verdict=self.verdict,
                )
            except SQLAlchemyError as exc:
                # The run stays "running" in the database and is recovered as interrupted.
                problem = f"the run could not be recorded: {describe_db_error(exc)}"
                self.verdict = Verdict("failed", self.verdict.cause or problem)
        stats.set_value("dvcrawl/outcome", self.verdict.outcome)
        if self.frontier is not None and self.verdict.outcome == "failed":
            # The shared run lost something: the next run must not stop at known pages.
            try:
                self.frontier.mark_incomplete()
            except Exception as exc:  # Redis gone: the run row says "failed" all the same
                logger.error("%s: could not mark the shared run incomplete: %s", spider.name, exc)
        if self.verdict.cause:
            stats.set_value("dvcrawl/cause", self.verdict.cause)
            log = logger.warning if self.verdict.outcome == "interrupted" else logger.error
            log("%s: %s", spider.name, self.verdict.cause)
        if self.state is not None:
            self.state.close()

    def _learn_url_shapes(self, spider: Any) -> None:
        """Learn URL shapes when this run stored articles outside the declared shape, and warn.

        Such articles were found by their listing's structure and kept because their content
        says they are articles; the warning gives the maintainer the pattern to declare.
        """
        site = getattr(spider, "site", None)
        stats = self.crawler.stats
        outside = int(stats.get_value("dvcrawl/articles/outside_declared_shape", 0) or 0)
        if site is None or not outside:
            return
        shapes = self.state.learn_shapes(site.id, site.is_article_url)
        learned = "; ".join(f"{shape.pattern} ({shape.articles} articles)" for shape in shapes)
        stats.set_value("dvcrawl/url_shapes/learned", learned)
        logger.warning(
            "%s: %d article(s) stored outside the declared URL shape %s; learned: %s "
            "(update the site's article_url)",
            spider.name,
            outside,
            site.article_url,
            learned or "-",
        )


def _process_alive(pid: int) -> bool:
    """Whether `pid` is a running dvcrawl/Scrapy process on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            text = cmdline.read_bytes().replace(b"\x00", b" ").decode("utf-8", "replace")
        except OSError:
            return True
        return "dvcrawl" in text or "scrapy" in text
    return True


def _aware(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class SharedRun:
    """The runs of one site's workers on a shared frontier, read as one run.

    Outcome: "running" while a worker runs; "failed" if one failed; "finished" if one
    finished (it saw the frontier drained, so the work of workers that were stopped or died
    was done by the others); else the last worker's outcome.
    """

    id: str
    runs: tuple[CrawlRun, ...]
    outcome: str
    cause: str | None
    started_at: datetime
    finished_at: datetime | None
    #: The workers' counters added up: what one process doing all the work would have counted.
    stats: dict[str, Any]

    @property
    def new(self) -> int:
        """Articles stored for the first time, by all workers."""
        return sum(run.new or 0 for run in self.runs)

    @property
    def updated(self) -> int:
        """Articles updated, by all workers."""
        return sum(run.updated or 0 for run in self.runs)

    def describe(self) -> str:
        """``run 3f2a... by 3 workers: 2 finished, 1 interrupted``."""
        counts: dict[str, int] = {}
        for run in self.runs:
            counts[run.outcome] = counts.get(run.outcome, 0) + 1
        parts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
        return f"run {self.id} by {len(self.runs)} workers: {parts}"


def shared_run_of(runs: list[CrawlRun]) -> SharedRun | None:
    """The shared run of the newest of `runs` (newest first), or None if it ran alone.

    Workers of one shared run carry its id in their stats from the start
    (``dvcrawl/frontier/run``).
    """
    if not runs:
        return None
    run_id = (runs[0].stats or {}).get("dvcrawl/frontier/run")
    if not run_id:
        return None
    members = tuple(
        sorted(
            (run for run in runs if (run.stats or {}).get("dvcrawl/frontier/run") == run_id),
            key=lambda run: run.id,
        )
    )
    outcomes = [run.outcome for run in members]
    cause = None
    if "running" in outcomes:
        outcome = "running"
    elif "failed" in outcomes:
        outcome = "failed"
        failed = next(run for run in members if run.outcome == "failed")
        cause = f"worker {failed.host}:{failed.pid}: {failed.cause or failed.finish_reason}"
    elif "finished" in outcomes:
        outcome = "finished"
    else:
        outcome = members[-1].outcome
        cause = members[-1].cause or members[-1].finish_reason
    totals: dict[str, Any] = {}
    for run in members:
        for key, value in (run.stats or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    finished = [run.finished_at for run in members if run.finished_at is not None]
    return SharedRun(
        id=str(run_id),
        runs=members,
        outcome=outcome,
        cause=cause,
        started_at=min(run.started_at for run in members),
        finished_at=max(finished) if finished and outcome != "running" else None,
        stats=totals,
    )
