"""Store: upsert articles into the database by canonical URL, in batched transactions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.settings import BaseSettings

from dvcrawl.db import ArticleStore, init_db, make_engine
from dvcrawl.extract.text import content_hash
from dvcrawl.items import FetchedArticle, NotModified

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from sqlalchemy import Engine

    from dvcrawl.pipelines import Stats


class StorePipeline:
    """Write each article to the database (``DVCRAWL_DB_URL``).

    The engine is opened when the spider opens and disposed when it closes. Re-running a
    crawl updates rows in place: never a second row for one canonical URL.

    Stats: ``dvcrawl/articles/new``, ``…/updated``, ``…/unchanged``.
    """

    def __init__(self, settings: BaseSettings, stats: Stats):
        self.url = settings.get("DVCRAWL_DB_URL")
        self.batch_size = settings.getint("DVCRAWL_COMMIT_EVERY", 20)
        self.stats = stats
        self.engine: Engine | None = None
        self.store: ArticleStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        """Build the pipeline (Scrapy component protocol)."""
        return cls(crawler.settings, crawler.stats)

    def open_spider(self) -> None:
        """Open the database and create missing tables."""
        self.engine = make_engine(self.url, writer=True)
        init_db(self.engine)
        self.store = ArticleStore(self.engine, batch_size=self.batch_size)

    def close_spider(self) -> None:
        """Commit the last batch and release the database."""
        if self.store is not None:
            self.store.close()
        if self.engine is not None:
            self.engine.dispose()

    def process_item(self, item: FetchedArticle | NotModified) -> FetchedArticle | NotModified:
        """Insert or update the article's row (or note that it was confirmed unchanged)."""
        assert self.store is not None, "open_spider was not called"
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
        )
        self.stats.inc_value(f"dvcrawl/articles/{result.outcome}")
        return item
