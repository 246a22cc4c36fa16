"""Store: upsert articles into the database by canonical URL, in batched transactions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem
from scrapy.settings import BaseSettings

from dvcrawl.db import (
    STORE_RETRIES,
    STORE_RETRY_DELAY,
    ArticleStore,
    StorageError,
    init_db,
    make_engine,
)
from dvcrawl.extract.text import content_hash
from dvcrawl.items import CaptureDone, FetchedArticle, NotModified
from dvcrawl.topic import load_topic, refresh_scores

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from sqlalchemy import Engine

    from dvcrawl.pipelines import Stats

logger = logging.getLogger(__name__)


class StorePipeline:
    """Write each article to the database (``DVCRAWL_DB_URL``).

    The engine is opened when the spider opens and disposed when it closes. Re-running a
    crawl updates rows in place: never a second row for one canonical URL.

    A write that fails is retried when the failure is transient (`dvcrawl.db.ArticleStore`);
    an article that still cannot be written is counted, its cause kept for the run's verdict
    (`dvcrawl.outcome`), and dropped, and the next article is written as usual.

    Archive captures (`dvcrawl.wayback`) are recorded here too, in the store's transactions:
    with the article they gave, or alone (`CaptureDone`, or an item the validator dropped), so
    that what an archive run has read is known exactly as far as what it stored.

    Stats: ``dvcrawl/articles/new``, ``…/updated``, ``…/unchanged``, ``dvcrawl/storage/failed``
    (articles lost to a failed write), ``dvcrawl/storage/retried`` (written on a later try),
    ``dvcrawl/cause/storage`` (the last failure, one line).
    """

    def __init__(self, settings: BaseSettings, stats: Stats):
        self.url = settings.get("DVCRAWL_DB_URL")
        self.batch_size = settings.getint("DVCRAWL_COMMIT_EVERY", 20)
        self.retries = settings.getint("DVCRAWL_STORE_RETRIES", STORE_RETRIES)
        self.retry_delay = settings.getfloat("DVCRAWL_STORE_RETRY_DELAY", STORE_RETRY_DELAY)
        self.topic_file = settings.get("DVCRAWL_TOPIC_FILE") or None
        self.stats = stats
        self.engine: Engine | None = None
        self.store: ArticleStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        """Build the pipeline (Scrapy component protocol)."""
        from scrapy import signals

        pipeline = cls(crawler.settings, crawler.stats)
        problem = crawl_batch_problem(pipeline.batch_size, pipeline.url)
        if problem:
            # `dvcrawl crawl` refuses such a setting before it starts; `scrapy crawl` (Scrapyd)
            # has no such check, so the crawl goes on with a batch that cannot stall it.
            logger.warning("%s: committing every article instead", problem)
            pipeline.batch_size = 1
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    def item_dropped(self, item: object, exception: object = None, **_: object) -> None:
        """An archive capture whose page was no article (or an incomplete one) is read all the same.

        Not one the store itself failed to write: that page must be read again.
        """
        if isinstance(exception, NotStored):
            return
        if isinstance(item, FetchedArticle) and item.capture is not None and self.store is not None:
            outcome = "not_article" if not item.article.is_article else "dropped"
            try:
                self.store.record_capture(item.capture, outcome)
            except StorageError as error:
                self._lost(error, count=0)
                logger.error("not stored: %s: %s", item.capture.original_url, error.description)

    def open_spider(self) -> None:
        """Open the database and create missing tables."""
        self.engine = make_engine(self.url, writer=True)
        open_schema(self.engine, self.stats)
        self.store = ArticleStore(
            self.engine,
            batch_size=self.batch_size,
            retries=self.retries,
            retry_delay=self.retry_delay,
            topic=load_topic(self.topic_file),
        )
        # Articles stored before scoring existed, or scored by another list, are scored now so
        # every relevance in the database comes from one list.
        refresh_scores(self.engine, self.store.topic)

    def close_spider(self) -> None:
        """Commit the last batch and release the database."""
        try:
            if self.store is not None:
                self.store.close()
        except StorageError as error:
            self._lost(error, count=0)
        finally:
            if self.engine is not None:
                self.engine.dispose()

    def process_item(
        self, item: FetchedArticle | NotModified | CaptureDone
    ) -> FetchedArticle | NotModified | CaptureDone:
        """Insert or update the article's row (or note that it was confirmed unchanged)."""
        assert self.store is not None, "open_spider was not called"
        retried = self.store.retried
        try:
            if isinstance(item, CaptureDone):
                self.store.record_capture(item.capture, item.outcome)
                return item
            if isinstance(item, NotModified):
                self.store.touch(item.canonical_url, item.fetched_at)
                self.stats.inc_value("dvcrawl/articles/not_modified")
                return item
            article = item.article
            result = self.store.save(
                article,
                content_hash=item.content_hash or content_hash(article.text),
                fetched_at=item.fetched_at,
                etag=item.etag,
                last_modified=item.last_modified,
                duplicate_of=item.duplicate_of,
                similarity=item.similarity,
                band_keys=item.band_keys,
                archive_url=item.archive_url,
                archived_at=item.archived_at,
                capture=item.capture,
                sketch=item.sketch,
                relevance=item.relevance,
            )
        except StorageError as error:
            if isinstance(item, CaptureDone):
                url, count = item.capture.original_url, 0  # no article lost: read again later
            else:
                url = item.canonical_url if isinstance(item, NotModified) else item.article.url
                count = 1
            self._lost(error, count=count)
            logger.error("not stored: %s: %s", url, error.description)
            # Logged above in one line; Scrapy's own "Dropped" line would print the item.
            raise NotStored(f"not stored: {error.description}", log_level="DEBUG") from None
        finally:
            if self.store.retried > retried:
                self.stats.inc_value("dvcrawl/storage/retried", self.store.retried - retried)
        self.stats.inc_value(f"dvcrawl/articles/{result.outcome}")
        return item

    def _lost(self, error: StorageError, *, count: int) -> None:
        """Count articles lost to a failed write, taking back counters of rolled-back ones."""
        for outcome in error.lost:
            key = "not_modified" if outcome == "touched" else outcome
            self.stats.inc_value(f"dvcrawl/articles/{key}", -1)
        self.stats.inc_value("dvcrawl/storage/failed", count + len(error.lost))
        self.stats.set_value("dvcrawl/cause/storage", error.description)


def crawl_batch_problem(batch: int, url: str | None) -> str | None:
    """Why a crawl cannot commit every `batch` articles to the database at `url` (or None).

    SQLite has one writer. A crawl's store holding a transaction open across pages makes its
    other writers (the run's state, learned URL shapes, the other sites of a live run, all in
    one thread) wait for the busy timeout: a one-site replay took 60 s instead of 1 with a
    batch of 20 (`dvcrawl.settings.DVCRAWL_COMMIT_EVERY`). Other databases take the batch.
    ``dvcrawl import`` has no other writer and is not a crawl.
    """
    if batch < 1:
        return f"DVCRAWL_COMMIT_EVERY must be 1 or more, not {batch}"
    if batch > 1 and (url or "").startswith("sqlite"):
        return (
            f"DVCRAWL_COMMIT_EVERY={batch} on SQLite: the crawl's other writers would wait on "
            "the store's open transaction (60 s each); use 1, or a PostgreSQL database"
        )
    return None


class NotStored(DropItem):
    """An item the store could not write (its cause is in the run's verdict)."""


def open_schema(engine: Engine, stats: Stats) -> None:
    """`init_db`, but a database that cannot be used stops the crawl with its cause."""
    from scrapy.exceptions import CloseSpider

    from dvcrawl.db import DatabaseError
    from dvcrawl.outcome import DATABASE_ERROR

    try:
        init_db(engine)
    except DatabaseError as exc:
        stats.set_value("dvcrawl/cause/database", str(exc))
        raise CloseSpider(DATABASE_ERROR) from None
