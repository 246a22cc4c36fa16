"""Crawl state in the database, in process: runs, outcomes, history, known articles, cursors,
and the extension that records a run and its health checks when the spider closes.

The same paths run end to end in tests/test_incremental.py and tests/test_health.py; these
tests reach each rule directly, so a change to one of them fails here (docs/testing.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dvcrawl import health, state
from dvcrawl.db import ArticleStore, utcnow
from dvcrawl.db.models import ArticleRow, CrawlRun
from dvcrawl.extract.text import content_hash
from dvcrawl.items import Article, CaptureRef
from dvcrawl.state import ArchiveProgress, CrawlState, CrawlStateExtension


@pytest.fixture
def crawl_state(db_url: str):
    opened = CrawlState(db_url)
    yield opened
    opened.close()


def store_article(
    db_url: str,
    url: str,
    *,
    etag: str | None = None,
    when=None,
    site: str = "thanhuytphcm",
    archived_at: datetime | None = None,
    capture: CaptureRef | None = None,
) -> None:
    from dvcrawl.db import init_db, make_engine

    engine = make_engine(db_url, writer=True)
    init_db(engine)
    store = ArticleStore(engine, batch_size=1)
    record = Article(
        url=url,
        canonical_url=url,
        site=site,
        is_article=True,
        title="Tiêu đề",
        text=f"Nội dung của {url}.",
        extractor="t/v1",
    )
    store.save(
        record,
        content_hash=content_hash(record.text),
        fetched_at=when or utcnow(),
        etag=etag,
        last_modified="Tue, 01 Oct 2024 00:00:00 GMT" if etag else None,
        archive_url=f"https://web.archive.org/web/2024id_/{url}" if archived_at else None,
        archived_at=archived_at,
        capture=capture,
    )
    store.close()
    engine.dispose()


def run_row(crawl_state: CrawlState, run_id: int) -> CrawlRun:
    with Session(crawl_state.reader) as session:
        row = session.get(CrawlRun, run_id)
        assert row is not None
        session.expunge(row)
        return row


# --- runs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        ("finished", "finished"),
        ("shutdown", "interrupted"),
        ("closespider_pagecount", "stopped"),
        ("closespider_timeout", "stopped"),
        ("closespider_itemcount", "stopped"),
        ("cancelled", "failed"),
        ("spider_error", "failed"),
    ],
)
def test_finish_reason_gives_the_outcome(
    crawl_state: CrawlState, reason: str, outcome: str
) -> None:
    run_id = crawl_state.start_run("thanhuytphcm", "incremental")
    run = crawl_state.finish_run(run_id, reason=reason, stats={}, checks=[])
    assert (run.outcome, run.finish_reason) == (outcome, reason)


def test_a_run_is_recorded_with_its_counters_and_checks(crawl_state: CrawlState) -> None:
    before = utcnow()
    run_id = crawl_state.start_run("danvan", "refresh")
    started = run_row(crawl_state, run_id)
    assert (started.site, started.mode, started.outcome, started.pid) == (
        "danvan",
        "refresh",
        "running",
        os.getpid(),
    )
    assert started.finished_at is None
    stats = {
        "downloader/response_count": 17,
        "dvcrawl/article_requests": 12,
        "dvcrawl/articles/new": 9,
        "dvcrawl/articles/updated": 2,
        "dvcrawl/articles/unchanged": 1,
        "dvcrawl/duplicates/exact": 3,
        "dvcrawl/duplicates/near": 4,
        "dvcrawl/errors/http_503": 5,
        "spider_exceptions/ValueError": 1,
        "start_time": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "log_count/ERROR": None,
        "rate": 1.5,
        "items": [1, 2],
    }
    checks = [health.CheckResult("error_rate", False, "6 failed of 17 requests")]
    crawl_state.finish_run(run_id, reason="finished", stats=stats, checks=checks)
    run = run_row(crawl_state, run_id)
    # Pages lost to errors fail the run, with its cause (issue 10: never "ok" with data missing).
    assert (run.outcome, run.finish_reason, run.cause) == (
        "failed",
        "finished",
        "6 pages lost; last: http_503 (5), ValueError raised in the spider (a bug: see the log)",
    )
    assert run.finished_at is not None and run.finished_at.replace(tzinfo=UTC) >= before
    assert (run.pages_fetched, run.article_requests) == (17, 12)
    assert (run.new, run.updated, run.unchanged, run.duplicates, run.errors) == (9, 2, 1, 7, 6)
    assert run.stats == {
        **{k: v for k, v in stats.items() if k not in {"start_time", "items"}},
        "start_time": "2026-01-02T03:04:05+00:00",
        "items": "[1, 2]",
    }
    assert run.checks == [{"name": "error_rate", "ok": False, "detail": "6 failed of 17 requests"}]


def test_empty_counters_are_zero(crawl_state: CrawlState) -> None:
    for stats in ({}, {"dvcrawl/articles/new": None, "dvcrawl/article_requests": 0}):
        run_id = crawl_state.start_run("danvan", "incremental")
        run = crawl_state.finish_run(run_id, reason="finished", stats=stats, checks=[])
        assert (run.pages_fetched, run.article_requests, run.errors) == (0, 0, 0)
    run_id = crawl_state.start_run("danvan", "incremental")
    stats = {"dvcrawl/articles/new": None, "downloader/response_count": None}
    run = crawl_state.finish_run(run_id, reason="finished", stats=stats, checks=[])
    assert (run.pages_fetched, run.new, run.updated, run.unchanged, run.duplicates) == (
        0,
        0,
        0,
        0,
        0,
    )


def test_last_run_is_the_newest_of_the_site(crawl_state: CrawlState) -> None:
    assert crawl_state.last_run("danvan") is None
    first = crawl_state.start_run("danvan", "incremental")
    other_site = crawl_state.start_run("mttq_hanoi", "incremental")
    second = crawl_state.start_run("danvan", "full")
    assert crawl_state.last_run("danvan").id == second
    assert crawl_state.last_run("danvan", before=second).id == first
    assert crawl_state.last_run("mttq_hanoi").id == other_site
    assert crawl_state.last_run("danvan", before=first).id == second


@pytest.fixture
def crawler_process(tmp_path: Path):
    """A live process whose command line names dvcrawl, like a running crawl."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "dvcrawl", "crawl"], cwd=tmp_path
    )
    wait_for_exec(process.pid, b"dvcrawl")
    yield process.pid
    process.kill()
    process.wait()


def wait_for_exec(pid: int, word: bytes) -> None:
    """Until the child's command line is its own (right after fork it is still pytest's)."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    for _ in range(200):
        if word in cmdline.read_bytes():
            return
        time.sleep(0.01)


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_runs_of_a_dead_process_are_interrupted_and_live_ones_kept(
    crawl_state: CrawlState, crawler_process: int
) -> None:
    gone = dead_pid()
    live = crawl_state.start_run("danvan", "incremental")
    killed = crawl_state.start_run("danvan", "incremental")
    elsewhere = crawl_state.start_run("danvan", "incremental")
    other_site = crawl_state.start_run("mttq_hanoi", "incremental")
    with Session(crawl_state.engine) as session, session.begin():
        for run_id, pid in ((live, crawler_process), (killed, gone), (other_site, gone)):
            session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(pid=pid))
        # A live pid on another machine sharing the database proves nothing about that run.
        session.execute(
            update(CrawlRun)
            .where(CrawlRun.id == elsewhere)
            .values(host="another-host", pid=crawler_process)
        )
    assert crawl_state.recover_interrupted("danvan") == 2
    outcomes = {
        run_id: (run_row(crawl_state, run_id).outcome, run_row(crawl_state, run_id).finish_reason)
        for run_id in (live, killed, elsewhere, other_site)
    }
    assert outcomes == {
        live: ("running", None),
        killed: ("interrupted", "killed"),
        elsewhere: ("interrupted", "killed"),
        other_site: ("running", None),
    }
    assert crawl_state.recover_interrupted("danvan") == 0


def test_a_process_is_alive_only_if_it_is_a_crawler(crawler_process: int, tmp_path: Path) -> None:
    assert state._process_alive(crawler_process)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "scrapy"])
    plain = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    wait_for_exec(other.pid, b"scrapy")
    wait_for_exec(plain.pid, b"time.sleep")
    try:
        assert state._process_alive(other.pid)
        assert not state._process_alive(plain.pid), "a reused pid of another program"
    finally:
        for process in (other, plain):
            process.kill()
            process.wait()
    assert not state._process_alive(dead_pid())


def test_history_is_newest_article_and_first_run(crawl_state: CrawlState, db_url: str) -> None:
    assert crawl_state.history("thanhuytphcm") == (None, None)
    first = crawl_state.start_run("thanhuytphcm", "incremental")
    crawl_state.start_run("thanhuytphcm", "incremental")
    crawl_state.start_run("danvan", "incremental")
    old, new = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)
    store_article(db_url, "https://thanhuytphcm.vn/tin-tuc/a-1491871594", when=old)
    store_article(db_url, "https://thanhuytphcm.vn/tin-tuc/b-1491871595", when=new)
    newest, started = crawl_state.history("thanhuytphcm")
    assert newest == new and newest.tzinfo is not None
    assert started == run_row(crawl_state, first).started_at.replace(tzinfo=UTC)
    assert crawl_state.history("danvan")[0] is None


def test_known_articles_and_their_validators(crawl_state: CrawlState, db_url: str) -> None:
    a = "https://thanhuytphcm.vn/tin-tuc/a-1491871594"
    b = "https://thanhuytphcm.vn/tin-tuc/b-1491871595"
    store_article(db_url, a, etag='"v1"')
    store_article(db_url, b)
    assert crawl_state.known([]) == {}
    assert crawl_state.known([a, b, "https://thanhuytphcm.vn/tin-tuc/c-1"]) == {
        a: ('"v1"', "Tue, 01 Oct 2024 00:00:00 GMT"),
        b: (None, None),
    }


def test_backfill_cursor_saves_completes_and_resets(crawl_state: CrawlState) -> None:
    listing = "https://danvan.vn/Home/Tin-hoat-dong"
    assert crawl_state.cursor("danvan", listing) is None
    crawl_state.save_cursor("danvan", listing, next_url=f"{listing}?page=3", page=3)
    cursor = crawl_state.cursor("danvan", listing)
    assert (cursor.next_url, cursor.page, cursor.done_at) == (f"{listing}?page=3", 3, None)
    crawl_state.save_cursor("danvan", listing, next_url=f"{listing}?page=4", page=4)
    assert crawl_state.cursor("danvan", listing).page == 4
    crawl_state.save_cursor("danvan", listing, next_url=None, page=9)
    done = crawl_state.cursor("danvan", listing)
    assert (done.next_url, done.page) == (None, 9) and done.done_at is not None
    assert crawl_state.cursor("mttq_hanoi", listing) is None
    crawl_state.reset_cursor("danvan", listing)
    reset = crawl_state.cursor("danvan", listing)
    assert (reset.next_url, reset.page, reset.done_at) == (None, 1, None)


def test_naive_times_are_read_as_utc() -> None:
    naive = datetime(2025, 1, 1, 12, 0)
    assert state._aware(naive) == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    aware = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert state._aware(aware) is aware
    assert state._aware(None) is None


# --- the extension -----------------------------------------------------------------------------


class FakeSite:
    health = {"max_silent_days": 30}


class FakeSpider:
    name = "danvan"
    mode = "full"
    site = FakeSite()


def test_the_extension_records_a_run_and_its_failed_checks(db_url: str, caplog) -> None:
    crawler = get_crawler(
        settings_dict={"DVCRAWL_DB_URL": db_url, "DVCRAWL_HEALTH_MAX_ERROR_RATE": "0.1"}
    )
    crawler.stats.open_spider()
    extension = CrawlStateExtension.from_crawler(crawler)
    spider = FakeSpider()
    # A run of the site killed earlier, by a process that is gone.
    killed = extension.state.start_run("danvan", "incremental")
    with Session(extension.state.engine) as session, session.begin():
        session.execute(update(CrawlRun).where(CrawlRun.id == killed).values(pid=dead_pid()))
    assert not extension.previous_was_complete, "no previous run known before opening"
    extension.spider_opened(spider)
    assert extension.previous is not None and extension.previous.id == killed
    assert not extension.previous_was_complete, "an interrupted run did not walk everything"
    assert caplog.messages == [
        "danvan: 1 earlier run(s) were interrupted; walking listings to full depth"
    ]
    assert crawler.stats.get_value("dvcrawl/run_id") == extension.run_id
    for key, value in {
        "downloader/request_count": 10,
        "dvcrawl/errors/http_503": 2,
        "dvcrawl/articles/new": 3,
    }.items():
        crawler.stats.set_value(key, value)
    extension.spider_closed(spider, "finished")
    assert [check.name for check in extension.checks if not check.ok] == ["error_rate"]
    assert caplog.messages[-2:] == [
        "danvan: health check error_rate failed: 2 failed of 10 requests (maximum 10%)",
        "danvan: 2 pages lost; last: http_503 (2)",
    ]
    assert crawler.stats.get_value("dvcrawl/health_failed") == 1

    reader = CrawlState(db_url)
    try:
        runs = reader.reader
        with Session(runs) as session:
            rows = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
            assert [(r.outcome, r.mode) for r in rows] == [
                ("interrupted", "incremental"),
                ("failed", "full"),
            ]
            assert rows[1].stats["dvcrawl/health_failed"] == 1
            assert rows[1].errors == 2
        # The pages lost may have listed articles: the next run walks everything.
        second = CrawlStateExtension(crawler)
        second.spider_opened(spider)
        assert not second.previous_was_complete
        crawler.stats.set_value("dvcrawl/errors/http_503", 0)
        second.spider_closed(spider, "finished")
        # A run that lost nothing is complete.
        third = CrawlStateExtension(crawler)
        third.spider_opened(spider)
        assert third.previous_was_complete
        third.state.close()
    finally:
        reader.close()


def test_the_extension_uses_the_site_and_settings_thresholds(db_url: str) -> None:
    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url})
    crawler.stats.open_spider()
    extension = CrawlStateExtension(crawler)
    spider = FakeSpider()
    extension.spider_opened(spider)
    # A site that has published (20 days ago) and was first crawled 40 days ago: silent for
    # 20 days, which the default (7) calls silence and this site's own limit (30) does not.
    with Session(extension.state.engine) as session, session.begin():
        session.execute(update(CrawlRun).values(started_at=utcnow() - timedelta(days=40)))
    store_article(
        db_url, "http://danvan.vn/Home/a/1/b", when=utcnow() - timedelta(days=20), site="danvan"
    )
    extension.spider_closed(spider, "finished")
    silence = next(check for check in extension.checks if check.name == "new_articles")
    assert silence.ok and "limit 30" in silence.detail


def test_closing_a_spider_that_never_opened_records_nothing(db_url: str) -> None:
    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url})
    extension = CrawlStateExtension(crawler)
    extension.spider_closed(FakeSpider(), "finished")
    assert extension.checks == []
    assert extension.state.last_run("danvan") is None
    extension.state.close()


def test_resetting_a_cursor_touches_only_that_listing_of_that_site(
    crawl_state: CrawlState,
) -> None:
    one, two = "http://danvan.vn/a", "http://danvan.vn/b"
    for site, listing in (("danvan", one), ("danvan", two), ("mttq_hanoi", one)):
        crawl_state.save_cursor(site, listing, next_url=f"{listing}?page=5", page=5)
    before = crawl_state.cursor("danvan", one).updated_at
    crawl_state.reset_cursor("danvan", one)
    reset = crawl_state.cursor("danvan", one)
    assert (reset.next_url, reset.page, reset.done_at) == (None, 1, None)
    assert reset.updated_at > before
    for site, listing in (("danvan", two), ("mttq_hanoi", one)):
        assert crawl_state.cursor(site, listing).page == 5


def test_a_process_that_cannot_be_inspected_counts_as_alive(monkeypatch) -> None:
    # Another user's process (kill -0 is refused), an unreadable or missing /proc entry
    # (not Linux): a run is only recorded as interrupted when its process is surely gone.
    def refused(pid: int, signal: int) -> None:
        raise PermissionError

    with monkeypatch.context() as patch:
        patch.setattr(state.os, "kill", refused)
        assert state._process_alive(12345)

    pid = os.getpid()

    def unreadable(self: Path) -> bytes:
        raise OSError("permission denied")

    with monkeypatch.context() as patch:
        patch.setattr(Path, "read_bytes", unreadable)
        assert state._process_alive(pid)
    with monkeypatch.context() as patch:
        patch.setattr(Path, "exists", lambda self: False)
        assert state._process_alive(pid)


def test_a_command_line_that_is_not_utf8_is_read(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", b"\xff\xfe", "dvcrawl"]
    )
    try:
        wait_for_exec(process.pid, b"dvcrawl")
        assert state._process_alive(process.pid)
    finally:
        process.kill()
        process.wait()


class BareSpider:
    """A spider with no mode and no site declaration (a plain Scrapy spider)."""

    name = "danvan"


def test_a_bare_spider_runs_incremental_with_default_thresholds(db_url: str) -> None:
    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url})
    crawler.stats.open_spider()
    extension = CrawlStateExtension(crawler)
    extension.spider_opened(BareSpider())
    extension.spider_closed(BareSpider(), "finished")
    reader = CrawlState(db_url)
    try:
        run = reader.last_run("danvan")
        assert (run.mode, run.outcome) == ("incremental", "finished")
        assert {check["name"] for check in run.checks} == {"challenge_pages"}
    finally:
        reader.close()


def test_crawl_state_writes_as_a_writer(db_url: str) -> None:
    from tests.test_pipelines import write_lock_taken_at_begin

    opened = CrawlState(db_url)
    try:
        path = db_url.removeprefix("sqlite:///")
        assert write_lock_taken_at_begin(opened.engine, path)
        assert not write_lock_taken_at_begin(opened.reader, path)
    finally:
        opened.close()


# --- learned URL shapes ----------------------------------------------------------------------


def declared_tin_tuc(path: str) -> bool:
    return path.startswith("/tin-tuc/")


def test_shapes_are_learned_from_articles_outside_the_declared_shape(
    crawl_state: CrawlState, db_url: str
) -> None:
    for url in (
        "https://thanhuytphcm.vn/tin-tuc/a-1491871594",  # declared: not learned from
        "https://thanhuytphcm.vn/dan-van/hoi-nghi-so-ket-cong-tac.htm",
        "https://thanhuytphcm.vn/dan-van/to-dan-van-phuong-ben-thanh.htm",
        "https://thanhuytphcm.vn/chi-tiet.aspx?id=12",
    ):
        store_article(db_url, url)
    store_article(db_url, "http://danvan.vn/chi-tiet.aspx?id=5", site="danvan")
    assert crawl_state.learned_shapes("thanhuytphcm") == []
    shapes = crawl_state.learn_shapes("thanhuytphcm", declared_tin_tuc)
    assert [(s.site, s.pattern, s.articles) for s in shapes] == [
        ("thanhuytphcm", r"^/dan-van/[a-z0-9]+(?:-[a-z0-9]+)+\.htm$", 2),
        ("thanhuytphcm", r"^/chi-tiet\.aspx\?id=\d+$", 1),
    ]
    first = {s.pattern: (s.first_seen_at, s.last_seen_at) for s in shapes}
    assert all(seen and last for seen, last in first.values())
    # Relearning: an unchanged count keeps its dates, a new count moves last_seen, a shape
    # no stored article has any more is forgotten.
    store_article(db_url, "https://thanhuytphcm.vn/dan-van/ra-mat-to-dan-van-kieu-mau.htm")
    with Session(crawl_state.engine) as session, session.begin():
        session.query(ArticleRow).filter(ArticleRow.canonical_url.contains("aspx")).delete()
    again = crawl_state.learn_shapes("thanhuytphcm", declared_tin_tuc)
    assert [(s.pattern, s.articles) for s in again] == [
        (r"^/dan-van/[a-z0-9]+(?:-[a-z0-9]+)+\.htm$", 3)
    ]
    pattern = again[0].pattern
    assert again[0].first_seen_at == first[pattern][0]
    assert again[0].last_seen_at > first[pattern][1]
    unchanged = crawl_state.learn_shapes("thanhuytphcm", declared_tin_tuc)
    assert unchanged[0].last_seen_at == again[0].last_seen_at
    assert crawl_state.learned_shapes("danvan") == []


class ShapedSite:
    id = "thanhuytphcm"
    article_url = r"^/tin-tuc/"
    health = None

    @staticmethod
    def is_article_url(path: str) -> bool:
        return declared_tin_tuc(path)


class ShapedSpider:
    name = "thanhuytphcm"
    site = ShapedSite()


def test_the_extension_learns_shapes_only_when_articles_missed_the_declared_one(
    db_url: str, caplog
) -> None:
    # Counted outside the shape, but nothing stored outside it: nothing learned, and said so.
    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url})
    crawler.stats.open_spider()
    crawler.stats.set_value("dvcrawl/articles/outside_declared_shape", 1)
    extension = CrawlStateExtension(crawler)
    extension.spider_opened(ShapedSpider())
    extension.spider_closed(ShapedSpider(), "finished")
    assert caplog.messages == [
        "thanhuytphcm: 1 article(s) stored outside the declared URL shape ^/tin-tuc/; "
        "learned: - (update the site's article_url)"
    ]
    caplog.clear()

    store_article(db_url, "https://thanhuytphcm.vn/dan-van/hoi-nghi-so-ket-cong-tac.htm")
    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url})
    crawler.stats.open_spider()
    extension = CrawlStateExtension(crawler)
    extension.spider_opened(ShapedSpider())
    extension.spider_closed(ShapedSpider(), "finished")
    assert crawler.stats.get_value("dvcrawl/url_shapes/learned") is None
    assert not any("outside the declared URL shape" in m for m in caplog.messages)

    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url})
    crawler.stats.open_spider()
    crawler.stats.set_value("dvcrawl/articles/outside_declared_shape", 1)
    extension = CrawlStateExtension(crawler)
    extension.spider_opened(ShapedSpider())
    extension.spider_closed(ShapedSpider(), "finished")
    learned = r"^/dan-van/[a-z0-9]+(?:-[a-z0-9]+)+\.htm$ (1 articles)"
    assert crawler.stats.get_value("dvcrawl/url_shapes/learned") == learned
    store_article(db_url, "https://thanhuytphcm.vn/chi-tiet.aspx?id=12")
    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url})
    crawler.stats.open_spider()
    crawler.stats.set_value("dvcrawl/articles/outside_declared_shape", 1)
    extension = CrawlStateExtension(crawler)
    extension.spider_opened(ShapedSpider())
    extension.spider_closed(ShapedSpider(), "finished")
    # Two shapes of one article each: in the order of their patterns.
    learned = r"^/chi-tiet\.aspx\?id=\d+$ (1 articles); " + learned
    assert crawler.stats.get_value("dvcrawl/url_shapes/learned") == learned
    assert (
        f"thanhuytphcm: 1 article(s) stored outside the declared URL shape ^/tin-tuc/; "
        f"learned: {learned} (update the site's article_url)"
    ) in caplog.messages
    # A spider without a site declaration learns nothing, whatever it counted.
    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url})
    crawler.stats.open_spider()
    crawler.stats.set_value("dvcrawl/articles/outside_declared_shape", 3)
    extension = CrawlStateExtension(crawler)
    extension.spider_opened(BareSpider())
    extension.spider_closed(BareSpider(), "finished")
    assert crawler.stats.get_value("dvcrawl/url_shapes/learned") is None


# --- archive runs ----------------------------------------------------------------------------


def test_articles_read_from_an_archive_are_not_known_to_a_live_crawl(
    crawl_state: CrawlState, db_url: str
) -> None:
    live = "https://thanhuytphcm.vn/tin-tuc/a-1491871594"
    archived = "https://thanhuytphcm.vn/tin-tuc/b-1491871595"
    store_article(db_url, live)
    store_article(db_url, archived, archived_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert set(crawl_state.known([live, archived])) == {live}
    assert crawl_state.known([archived]) == {}


def test_archive_runs_are_no_live_history(crawl_state: CrawlState) -> None:
    crawl_state.start_run("thanhuytphcm", "incremental")  # another site's live run
    archive_run = crawl_state.start_run("danvan", "incremental", "wayback")
    assert crawl_state.history("danvan") == (None, None)
    live_run = crawl_state.start_run("danvan", "incremental")
    assert crawl_state.history("danvan")[1] == run_row(crawl_state, live_run).started_at.replace(
        tzinfo=UTC
    )
    assert crawl_state.last_run("danvan", source="wayback").id == archive_run
    assert crawl_state.last_run("danvan", source="live").id == live_run
    assert crawl_state.last_run("danvan").id == live_run
    assert run_row(crawl_state, archive_run).source == "wayback"


def test_archive_progress_is_what_was_read_and_stored(crawl_state: CrawlState, db_url: str) -> None:
    site = "hanoi_thanhxuan"
    host = "https://thanhxuan.hanoi.gov.vn"
    read = CaptureRef(site, "20240315103000", f"{host}/a?redirect=x", f"{host}/a", "D1", "200")
    store_article(
        db_url, f"{host}/a", site=site, archived_at=datetime(2024, 3, 15, tzinfo=UTC), capture=read
    )
    store_article(db_url, f"{host}/live", site=site)
    store_article(db_url, "https://danvan.vn/Home/a/1/b", site="danvan")
    progress = crawl_state.archive_progress(site)
    assert progress.read == {("20240315103000", f"{host}/a?redirect=x")}
    assert progress.digests == {f"{host}/a": {"D1"}}
    assert progress.stored == {f"{host}/a": datetime(2024, 3, 15, tzinfo=UTC), f"{host}/live": None}
    assert crawl_state.archive_progress("danvan").read == set()


def test_what_an_archive_run_reads_again() -> None:
    progress = ArchiveProgress()
    progress.read.add(("20240101000000", "https://a.vn/1?redirect=x"))
    progress.stored["https://a.vn/live"] = None
    progress.stored["https://a.vn/old"] = datetime(2024, 1, 1, tzinfo=UTC)
    progress.digests["https://a.vn/old"] = {"SAME"}
    needs = progress.needs
    assert (
        needs("https://a.vn/1", "20240101000000", "https://a.vn/1?redirect=x", "") == "read_before"
    )
    # The same page under another capture key is not "read before".
    assert needs("https://a.vn/1", "20240101000001", "https://a.vn/1?redirect=x", "") is None
    assert needs("https://a.vn/1", "20240101000000", "https://a.vn/1", "") is None
    assert needs("https://a.vn/live", "20250101000000", "https://a.vn/live", "X") == "stored_live"
    assert needs("https://a.vn/old", "20231201000000", "https://a.vn/old", "X") == "stored_newer"
    assert needs("https://a.vn/old", "20240101000000", "https://a.vn/old", "X") == "stored_newer"
    assert needs("https://a.vn/old", "20240601000000", "https://a.vn/old", "SAME") == "same_digest"
    # A newer capture with other content is read: it updates the stored article in place.
    assert needs("https://a.vn/old", "20240601000000", "https://a.vn/old", "OTHER") is None
    assert needs("https://a.vn/old", "20240601000000", "https://a.vn/old", "") is None
    assert needs("https://a.vn/new", "20240601000000", "https://a.vn/new", "SAME") is None


class ArchiveSpider(FakeSpider):
    source = "wayback"
    mode = "incremental"


def test_the_extension_records_an_archive_run_without_the_silence_check(db_url: str) -> None:
    for spider, silence_checked in ((FakeSpider(), True), (ArchiveSpider(), False)):
        crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url})
        crawler.stats.open_spider()
        extension = CrawlStateExtension(crawler)
        extension.spider_opened(spider)
        # The site published 60 days ago and was first crawled 90 days ago (live).
        with Session(extension.state.engine) as session, session.begin():
            session.execute(update(CrawlRun).values(started_at=utcnow() - timedelta(days=90)))
        store_article(
            db_url, "http://danvan.vn/Home/a/1/b", when=utcnow() - timedelta(days=60), site="danvan"
        )
        extension.spider_closed(spider, "finished")
        names = {check.name for check in extension.checks}
        assert ("new_articles" in names) == silence_checked, spider
    reader = CrawlState(db_url)
    try:
        with Session(reader.reader) as session:
            sources = session.scalars(select(CrawlRun.source).order_by(CrawlRun.id)).all()
        assert sources == ["live", "wayback"]
    finally:
        reader.close()


def test_a_live_run_follows_the_last_live_run_not_an_archive_run(db_url: str) -> None:
    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url})
    crawler.stats.open_spider()
    extension = CrawlStateExtension(crawler)
    live = extension.state.start_run("danvan", "incremental")
    extension.state.finish_run(live, reason="finished", stats={}, checks=[])
    archive = extension.state.start_run("danvan", "incremental", "wayback")
    extension.state.finish_run(archive, reason="closespider_pagecount", stats={}, checks=[])
    extension.spider_opened(FakeSpider())
    assert extension.previous.id == live and extension.previous_was_complete
    archive_extension = CrawlStateExtension(crawler)
    archive_extension.spider_opened(ArchiveSpider())
    assert archive_extension.previous.id == archive
    extension.state.close()
    archive_extension.state.close()
