"""The item pipelines in process: validate -> dedup -> store, as `dvcrawl import` chains them.

Each pipeline's rule and counter is reached directly (the crawl tests reach them through the
engine in a child process, where a mutation check cannot see them; docs/testing.md).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from scrapy.exceptions import DropItem
from scrapy.settings import Settings

from dvcrawl import settings as project_settings
from dvcrawl.extract.text import content_hash
from dvcrawl.items import Article, FetchedArticle, NotModified
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
    assert stats.get_stats() == {
        "dvcrawl/extracted/pages": 2,
        "dvcrawl/extracted/articles": 2,
        "dvcrawl/extracted/with_title": 2,
        "dvcrawl/extracted/with_date": 1,
        "dvcrawl/extracted/fallback": 1,
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
        with pytest.raises(AssertionError, match="open_spider was not called"):
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
