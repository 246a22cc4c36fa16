"""Deduplicate: mark copies of articles already stored, never drop them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.settings import BaseSettings

from dvcrawl.db import make_engine
from dvcrawl.dedup import Deduplicator, fingerprint
from dvcrawl.items import FetchedArticle, NotModified

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from sqlalchemy import Connection, Engine

    from dvcrawl.pipelines import Stats


class DedupPipeline:
    """Fingerprint each article and point copies to the first stored copy (`dvcrawl.dedup`).

    The item goes on either way, with ``duplicate_of`` and ``similarity`` set for copies; the
    store writes them. Reads the database through its own connection, at most one short
    transaction per item (none on SQLite: see `Deduplicator`), so it sees every batch the
    store has committed.

    Stats: ``dvcrawl/duplicates/exact``, ``dvcrawl/duplicates/near``.
    """

    def __init__(self, settings: BaseSettings, stats: Stats):
        self.url = settings.get("DVCRAWL_DB_URL")
        self.stats = stats
        self.engine: Engine | None = None
        self.connection: Connection | None = None
        self.deduplicator: Deduplicator | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        """Build the pipeline (Scrapy component protocol)."""
        return cls(crawler.settings, crawler.stats)

    def open_spider(self) -> None:
        """Open the database (creating or upgrading the schema if needed)."""
        from dvcrawl.pipelines.store import open_schema

        schema = make_engine(self.url, writer=True)  # creating tables writes
        try:
            open_schema(schema, self.stats)
        finally:
            schema.dispose()
        self.engine = make_engine(self.url)
        self.connection = self.engine.connect()
        self.deduplicator = Deduplicator(self.connection)

    def close_spider(self) -> None:
        """Release the database."""
        if self.connection is not None:
            self.connection.close()
        if self.engine is not None:
            self.engine.dispose()

    def process_item(self, item: FetchedArticle | NotModified) -> FetchedArticle | NotModified:
        """Set the item's fingerprints and, for a copy, the first copy it duplicates."""
        if not isinstance(item, FetchedArticle):
            return item  # NotModified, CaptureDone: nothing to check
        assert self.deduplicator is not None and self.connection is not None, (
            "open_spider was not called"
        )
        article = item.article
        print_ = item.fingerprint or fingerprint(article.text)
        item.content_hash = print_.content_hash
        item.band_keys = print_.keys
        item.sketch = print_.sketch()
        try:
            match = self.deduplicator.find(article.canonical_url, print_)
        finally:
            self.connection.rollback()  # end the read snapshot: later batches must be visible
        if match is not None:
            item.duplicate_of = match.canonical_url
            item.similarity = match.similarity
            self.stats.inc_value(
                f"dvcrawl/duplicates/{'exact' if match.similarity >= 1.0 else 'near'}"
            )
        self.deduplicator.remember(article.canonical_url, print_, item.duplicate_of)
        return item
