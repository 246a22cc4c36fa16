"""The item pipelines in process: validate -> dedup -> store, as `dvcrawl import` chains them.

Each pipeline's rule and counter is reached directly (the crawl tests reach them through the
engine in a child process, where a mutation check cannot see them; docs/testing.md).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from scrapy.exceptions import DropItem
from scrapy.settings import Settings

from dvcrawl import settings as project_settings
from dvcrawl.extract.text import content_hash
from dvcrawl.items import Article, CaptureDone, CaptureRef, FetchedArticle, NotModified
from dvcrawl.pipelines import Chain, CounterStats
from dvcrawl.pipelines.dedup import DedupPipeline
from dvcrawl.pipelines.store import StorePipeline
from dvcrawl.pipelines.validate import REQUIRED, ValidatePipeline

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
TEXT = (
    "Chiều 28/2, Ban Dân vận Quận ủy Bình Thạnh tổ chức hội nghị tổng kết phong trào thi đua "
    "Dân vận khéo năm 2023, tuyên dương 45 mô hình tiêu biểu.\n\nCác mô hình tập trung vào "
    "chỉnh trang đô thị, giữ gìn trật tự an toàn giao thông và chăm lo an sinh xã hội tại "
    "các phường trên địa bàn quận."
)


def article(url: str = "https://thanhuytphcm.vn/tin-tuc/a-1491871594", **changes) -> Article:
    fields = {
        "url": url,
        "canonical_url": url,
        "site": "thanhuytphcm",
        "is_article": True,
        "title": "Bình Thạnh tuyên dương 45 mô hình dân vận khéo",
        "text": TEXT,
        "published_at": "2024-02-28",
        "extractor": "thanhuytphcm/v1",
    } | changes
    return Article(**fields)


def item(**changes) -> FetchedArticle:
    return FetchedArticle(article=article(**changes), fetched_at=WHEN, etag='"e1"')


def settings(db_url: str) -> Settings:
    values = Settings()
    values.setmodule(project_settings)
    values.set("DVCRAWL_DB_URL", db_url)
    return values


# --- validate ----------------------------------------------------------------------------------


def test_validate_counts_field_coverage_and_passes_articles() -> None:
    stats = CounterStats()
    pipeline = ValidatePipeline(Settings(), stats)
    full = item()
    assert pipeline.process_item(full) is full
    assert pipeline.process_item(item(published_at=None, extractor="generic/v1+fallback"))
    assert pipeline.process_item(item(extractor="news/v2+fallback+data"))
    assert stats.get_stats() == {
        "dvcrawl/extracted/pages": 3,
        "dvcrawl/extracted/articles": 3,
        "dvcrawl/extracted/with_title": 3,
        "dvcrawl/extracted/with_date": 2,
        "dvcrawl/extracted/fallback": 2,
        "dvcrawl/extracted/from_data": 1,
    }


def test_validate_drops_non_articles_quietly() -> None:
    stats = CounterStats()
    with pytest.raises(DropItem, match="not an article") as dropped:
        ValidatePipeline(Settings(), stats).process_item(item(is_article=False))
    assert dropped.value.log_level == "DEBUG"
    assert stats.get_stats() == {"dvcrawl/extracted/pages": 1, "dvcrawl/dropped/not_article": 1}


@pytest.mark.parametrize("name", REQUIRED)
def test_validate_drops_records_missing_a_required_field(name: str) -> None:
    stats = CounterStats()
    with pytest.raises(DropItem, match=f"no {name}") as dropped:
        ValidatePipeline(Settings(), stats).process_item(item(**{name: ""}))
    assert dropped.value.log_level == "WARNING"
    assert stats.get_value(f"dvcrawl/dropped/missing_{name}") == 1


def test_validate_passes_not_modified_without_counting() -> None:
    stats = CounterStats()
    unchanged = NotModified("https://thanhuytphcm.vn/tin-tuc/a-1491871594", WHEN)
    assert ValidatePipeline(Settings(), stats).process_item(unchanged) is unchanged
    assert stats.get_stats() == {}


# --- the chain: dedup and store ------------------------------------------------------------------


def rows(db_url: str) -> list[tuple]:
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        return connection.execute(
            "SELECT canonical_url, duplicate_of, similarity, content_hash, http_etag "
            "FROM articles ORDER BY id"
        ).fetchall()
    finally:
        connection.close()


def test_chain_runs_the_pipelines_in_order_and_stores_copies_pointed(db_url: str) -> None:
    stats = CounterStats()
    original = "https://thanhuytphcm.vn/tin-tuc/a-1491871594"
    copy = "https://danvan.vn/Home/Tin-hoat-dong/Ban-dan-van/1/a"
    near = "https://mttqhanoi.org.vn/tin-tuc/a-1.html"
    with Chain(settings(db_url), stats) as chain:
        assert [type(p).__name__ for p in chain.pipelines] == [
            "ValidatePipeline",
            "DedupPipeline",
            "StorePipeline",
            "UrlShapePipeline",
        ]
        stored = chain.process(item(url=original))
        assert stored is not None and stored.duplicate_of is None
        assert stored.content_hash == content_hash(TEXT) and stored.band_keys
        assert chain.process(item(url=copy)).duplicate_of == original
        edited = TEXT.replace("tổ chức hội nghị", "đã long trọng tổ chức hội nghị").replace(
            "các phường trên địa bàn quận", "nhiều phường, khu phố"
        )
        near_item = chain.process(item(url=near, text=edited))
        assert near_item.duplicate_of == original and 0.5 <= near_item.similarity < 1
        assert chain.process(item(url=original)) is not None  # the same article again
        assert chain.process(item(is_article=False)) is None
        unchanged = NotModified(original, WHEN)
        assert chain.process(unchanged) is unchanged
    assert stats.get_stats() == {
        "dvcrawl/extracted/pages": 5,
        "dvcrawl/extracted/articles": 4,
        "dvcrawl/extracted/with_title": 4,
        "dvcrawl/extracted/with_date": 4,
        "dvcrawl/dropped/not_article": 1,
        "dvcrawl/duplicates/exact": 1,
        "dvcrawl/duplicates/near": 1,
        "dvcrawl/articles/new": 3,
        "dvcrawl/articles/unchanged": 1,
        "dvcrawl/articles/not_modified": 1,
        # the two copies are filed under thanhuytphcm at URLs of other portals
        "dvcrawl/articles/outside_declared_shape": 2,
    }
    stored_rows = rows(db_url)
    assert [(r[0], r[1], r[4]) for r in stored_rows] == [
        (original, None, '"e1"'),
        (copy, original, '"e1"'),
        (near, original, '"e1"'),
    ]
    assert stored_rows[1][2] == 1.0 and 0.5 <= stored_rows[2][2] < 1
    assert stored_rows[0][3] == content_hash(TEXT)


def test_a_later_run_finds_copies_stored_by_an_earlier_one(db_url: str) -> None:
    first, second = CounterStats(), CounterStats()
    with Chain(settings(db_url), first) as chain:
        chain.process(item())
    with Chain(settings(db_url), second) as chain:
        copy = chain.process(item(url="https://danvan.vn/Home/Tin-hoat-dong/Ban-dan-van/1/a"))
    assert copy.duplicate_of == "https://thanhuytphcm.vn/tin-tuc/a-1491871594"
    assert second.get_value("dvcrawl/duplicates/exact") == 1


def test_store_hashes_text_itself_when_dedup_did_not(db_url: str) -> None:
    stats = CounterStats()
    store = StorePipeline(settings(db_url), stats)
    assert store.batch_size == 1
    store.open_spider()
    store.process_item(item())
    store.close_spider()
    assert rows(db_url)[0][3] == content_hash(TEXT)
    assert stats.get_stats() == {"dvcrawl/articles/new": 1}


def test_store_batch_size_comes_from_settings(db_url: str) -> None:
    values = settings(db_url)
    values.set("DVCRAWL_COMMIT_EVERY", 200)
    store = StorePipeline(values, CounterStats())
    assert store.batch_size == 200
    store.open_spider()
    store.process_item(item())
    assert rows(db_url) == [], "the batch is not committed before it is full"
    store.close_spider()
    assert len(rows(db_url)) == 1
    unset = Settings({"DVCRAWL_DB_URL": db_url})
    assert StorePipeline(unset, CounterStats()).batch_size == 20


def test_pipelines_refuse_items_before_open(db_url: str) -> None:
    for pipeline in (
        StorePipeline(settings(db_url), CounterStats()),
        DedupPipeline(settings(db_url), CounterStats()),
    ):
        with pytest.raises(AssertionError, match="^open_spider was not called$"):
            pipeline.process_item(item())
        pipeline.close_spider()  # closing what never opened is harmless


def test_counter_stats() -> None:
    stats = CounterStats()
    stats.inc_value("a")
    stats.inc_value("a", 2)
    stats.inc_value("b", 1, start=10)
    assert stats.get_value("a") == 3 and stats.get_value("b") == 11
    assert stats.get_value("c") is None and stats.get_value("c", 0) == 0
    assert stats.get_stats() == {"a": 3, "b": 11}
    assert stats.get_stats() is not stats.values


def test_pipelines_are_built_from_the_crawler(db_url: str) -> None:
    from scrapy.utils.test import get_crawler

    postgres = "postgresql+psycopg://dvcrawl@127.0.0.1/corpus"
    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": postgres, "DVCRAWL_COMMIT_EVERY": 7})
    for cls in (ValidatePipeline, DedupPipeline, StorePipeline):
        pipeline = cls.from_crawler(crawler)
        assert pipeline.stats is crawler.stats
    assert DedupPipeline.from_crawler(crawler).url == postgres
    store = StorePipeline.from_crawler(crawler)
    assert (store.url, store.batch_size) == (postgres, 7)


def test_a_crawl_on_sqlite_commits_every_article_whatever_the_setting(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # `dvcrawl crawl` refuses a larger batch on SQLite; `scrapy crawl` (Scrapyd) reaches the
    # store with it, and a batch held open would stall the crawl's other writers for 60 s.
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url, "DVCRAWL_COMMIT_EVERY": 7})
    with caplog.at_level("WARNING", logger="dvcrawl.pipelines.store"):
        store = StorePipeline.from_crawler(crawler)
    assert store.batch_size == 1
    assert [r.getMessage() for r in caplog.records] == [
        "DVCRAWL_COMMIT_EVERY=7 on SQLite: the crawl's other writers would wait on the store's "
        "open transaction (60 s each); use 1, or a PostgreSQL database: committing every "
        "article instead"
    ]
    # The import's chain is no crawl: one writer, large transactions.
    values = Settings({"DVCRAWL_DB_URL": db_url, "DVCRAWL_COMMIT_EVERY": 200})
    assert StorePipeline(values, CounterStats()).batch_size == 200


def write_lock_taken_at_begin(engine, path: str) -> bool:
    """Whether a transaction of `engine` holds SQLite's write lock from its first statement."""
    with engine.connect() as connection:
        connection.begin()
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        else:
            other.execute("ROLLBACK")
            return False
        finally:
            other.close()


def test_writers_take_the_lock_when_they_begin(db_url: str, monkeypatch) -> None:
    from dvcrawl.pipelines import dedup as dedup_pipeline

    path = db_url.removeprefix("sqlite:///")
    store = StorePipeline(settings(db_url), CounterStats())
    store.open_spider()
    assert write_lock_taken_at_begin(store.engine, path)
    store.close_spider()
    # The dedup pipeline only reads during the crawl, but creates the schema as a writer.
    engines = []
    real = dedup_pipeline.make_engine
    monkeypatch.setattr(
        dedup_pipeline,
        "make_engine",
        lambda url, **kw: engines.append(kw) or real(url, **kw),
    )
    pipeline = DedupPipeline(settings(db_url), CounterStats())
    pipeline.open_spider()
    assert engines == [{"writer": True}, {}]
    assert not write_lock_taken_at_begin(pipeline.engine, path)
    pipeline.close_spider()


def test_store_commits_each_article_and_keeps_validators_and_bands(db_url: str) -> None:
    from dvcrawl.dedup import fingerprint

    store = StorePipeline(settings(db_url), CounterStats())
    store.open_spider()
    store.process_item(item(url="https://danvan.vn/a", text="Bài gốc, đã sửa sau khi đăng."))
    fetched = item()
    fetched.last_modified = "Tue, 01 Oct 2024 00:00:00 GMT"
    fetched.band_keys = fingerprint(TEXT).keys
    fetched.duplicate_of, fetched.similarity = "https://danvan.vn/a", 0.75
    store.process_item(fetched)
    assert len(rows(db_url)) == 2, "committed at once (DVCRAWL_COMMIT_EVERY = 1)"
    later = datetime(2026, 4, 1, tzinfo=UTC)
    store.process_item(NotModified(fetched.article.canonical_url, later))
    store.close_spider()
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        row = connection.execute(
            "SELECT http_last_modified, duplicate_of, similarity, fetched_at FROM articles "
            "WHERE canonical_url = ?",
            (fetched.article.canonical_url,),
        ).fetchone()
        bands = connection.execute("SELECT count(*) FROM lsh_bands").fetchone()[0]
    finally:
        connection.close()
    assert row[:3] == ("Tue, 01 Oct 2024 00:00:00 GMT", "https://danvan.vn/a", 0.75)
    assert row[3].startswith("2026-04-01"), "a 304 records the new fetch time"
    assert bands == len(fetched.band_keys) > 0


def test_the_chain_closes_its_pipelines(db_url: str) -> None:
    values = settings(db_url)
    values.set("DVCRAWL_COMMIT_EVERY", 200)
    stats = CounterStats()
    with Chain(values, stats) as chain:
        assert chain.stats is stats
        chain.process(item())
        assert rows(db_url) == []
    assert len(rows(db_url)) == 1, "the last batch is committed when the chain closes"


def test_articles_outside_the_declared_url_shape_are_counted() -> None:
    from scrapy.utils.test import get_crawler

    from dvcrawl.pipelines.shapes import UrlShapePipeline

    crawler = get_crawler()
    pipeline = UrlShapePipeline.from_crawler(crawler)
    assert pipeline.stats is crawler.stats
    stats = CounterStats()
    pipeline = UrlShapePipeline(Settings(), stats)
    declared = item()
    assert pipeline.process_item(declared) is declared
    assert stats.get_stats() == {}
    pipeline.process_item(item(url="https://thanhuytphcm.vn/bai-viet/a.html?utm_source=x"))
    pipeline.process_item(item(url="https://example.vn/a.html", site="generic"))
    pipeline.process_item(NotModified("https://thanhuytphcm.vn/bai-viet/b.html", WHEN))
    assert stats.get_stats() == {"dvcrawl/articles/outside_declared_shape": 1}


# --- web-archive captures ------------------------------------------------------------------------

CAPTURE = CaptureRef(
    site="thanhuytphcm",
    timestamp="20240315103000",
    original_url="http://www.thanhuytphcm.vn/tin-tuc/a-1491871594",
    canonical_url="https://thanhuytphcm.vn/tin-tuc/a-1491871594",
    digest="DIGEST1",
    status="200",
)
ARCHIVE_URL = f"https://web.archive.org/web/20240315103000id_/{CAPTURE.original_url}"


def archived_item(**changes) -> FetchedArticle:
    return FetchedArticle(
        article=article(**changes),
        fetched_at=WHEN,
        archive_url=ARCHIVE_URL,
        archived_at=datetime(2024, 3, 15, 10, 30, tzinfo=UTC),
        capture=CAPTURE,
    )


def captures(db_url: str) -> list[tuple]:
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        return connection.execute(
            "SELECT archive, site, timestamp, original_url, canonical_url, digest, status, outcome "
            "FROM archive_captures ORDER BY id"
        ).fetchall()
    finally:
        connection.close()


def provenance(db_url: str) -> list[tuple]:
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        return connection.execute(
            "SELECT archive_url, archived_at, http_etag FROM articles"
        ).fetchall()
    finally:
        connection.close()


def test_validate_and_dedup_pass_a_capture_that_gave_no_article_untouched(db_url: str) -> None:
    done = CaptureDone(CAPTURE, "listing")
    stats = CounterStats()
    assert ValidatePipeline(Settings(), stats).process_item(done) is done
    dedup = DedupPipeline(settings(db_url), stats)
    dedup.open_spider()
    assert dedup.process_item(done) is done
    dedup.close_spider()
    assert stats.get_stats() == {}


def test_an_archived_article_and_its_capture_are_stored_in_one_transaction(db_url: str) -> None:
    values = settings(db_url)
    values.set("DVCRAWL_COMMIT_EVERY", 2)
    store = StorePipeline(values, CounterStats())
    store.open_spider()
    store.process_item(archived_item())
    assert rows(db_url) == [] and captures(db_url) == [], "neither before the commit"
    store.process_item(CaptureDone(replace(CAPTURE, timestamp="20240101000000"), "redirect"))
    assert len(rows(db_url)) == 1
    assert [row[2:] for row in captures(db_url)] == [
        ("20240315103000", CAPTURE.original_url, CAPTURE.canonical_url, "DIGEST1", "200", "stored"),
        (
            "20240101000000",
            CAPTURE.original_url,
            CAPTURE.canonical_url,
            "DIGEST1",
            "200",
            "redirect",
        ),
    ]
    assert captures(db_url)[0][:2] == ("wayback", "thanhuytphcm")
    assert provenance(db_url) == [(ARCHIVE_URL, "2024-03-15 10:30:00.000000", None)]
    # Read again (a later run, other content): one capture row, its outcome updated.
    store.process_item(archived_item(text=TEXT + "\n\nMột đoạn mới."))
    store.close_spider()
    assert len(captures(db_url)) == 2 and len(rows(db_url)) == 1


def test_a_live_fetch_clears_the_archive_provenance(db_url: str) -> None:
    store = StorePipeline(settings(db_url), CounterStats())
    store.open_spider()
    store.process_item(archived_item())
    store.process_item(item())
    store.close_spider()
    assert provenance(db_url) == [(None, None, '"e1"')]


def test_a_dropped_capture_is_recorded_as_read(db_url: str) -> None:
    from scrapy import signals
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(settings_dict={"DVCRAWL_DB_URL": db_url})
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    listing = archived_item(is_article=False)
    untitled = archived_item(title=None)
    untitled.capture = replace(CAPTURE, timestamp="20240401000000")
    crawler.signals.send_catch_log(
        signals.item_dropped, item=listing, response=None, exception=DropItem("x"), spider=None
    )
    # Called directly, so that a mistake in the handler is not caught by the signal.
    for dropped in (untitled, item(is_article=False), NotModified("https://a.vn/x", WHEN)):
        store.item_dropped(item=dropped, response=None, exception=DropItem("x"), spider=None)
    store.close_spider()
    assert [(row[2], row[7]) for row in captures(db_url)] == [
        ("20240315103000", "not_article"),
        ("20240401000000", "dropped"),
    ]
    assert rows(db_url) == []


def failing_store(db_url: str, monkeypatch, method: str) -> tuple[StorePipeline, CounterStats]:
    """A store pipeline whose `method` fails for good, as a read-only database would."""
    from dvcrawl.db import StorageError

    stats = CounterStats()
    store = StorePipeline(settings(db_url), stats)
    store.open_spider()

    def fail(*args, **kwargs):
        raise StorageError("database is read-only: attempt to write a readonly database", [])

    monkeypatch.setattr(store.store, method, fail)
    return store, stats


def test_a_capture_that_cannot_be_recorded_loses_no_article(
    db_url: str, monkeypatch, caplog
) -> None:
    from dvcrawl.pipelines.store import NotStored

    store, stats = failing_store(db_url, monkeypatch, "record_capture")
    with pytest.raises(NotStored, match="^not stored: database is read-only"):
        store.process_item(CaptureDone(CAPTURE, "listing"))
    assert stats.get_value("dvcrawl/storage/failed") == 0, "no article was lost"
    assert stats.get_value("dvcrawl/cause/storage") == (
        "database is read-only: attempt to write a readonly database"
    )
    assert caplog.messages[-1] == (
        f"not stored: {CAPTURE.original_url}: database is read-only: attempt to write a "
        "readonly database"
    )
    # A dropped capture whose record fails: the same, from the signal handler.
    caplog.clear()
    store.item_dropped(item=archived_item(is_article=False), exception=DropItem("x"))
    assert caplog.messages == [
        f"not stored: {CAPTURE.original_url}: database is read-only: attempt to write a "
        "readonly database"
    ]
    assert stats.get_value("dvcrawl/storage/failed") == 0
    store.close_spider()


def test_an_archived_article_the_store_could_not_write_is_read_again(
    db_url: str, monkeypatch, caplog
) -> None:
    from dvcrawl.pipelines.store import NotStored

    store, stats = failing_store(db_url, monkeypatch, "save")
    fetched = archived_item()
    with pytest.raises(NotStored) as dropped:
        store.process_item(fetched)
    assert stats.get_value("dvcrawl/storage/failed") == 1
    assert caplog.messages[-1].startswith(f"not stored: {fetched.article.url}: database is")
    # The engine then signals the drop: the capture must not be recorded as read.
    monkeypatch.undo()
    store.item_dropped(item=fetched, exception=dropped.value)
    store.close_spider()
    assert captures(db_url) == [] and rows(db_url) == []
