"""Validate: only complete articles go on; the rest is counted, not stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem
from scrapy.settings import BaseSettings

from dvcrawl.items import Article, FetchedArticle, NotModified

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from dvcrawl.pipelines import Stats

#: Fields without which a record is not worth storing.
REQUIRED = ("url", "canonical_url", "site", "title", "text")


class ValidatePipeline:
    """Drop non-articles (listings, error pages) and records missing a required field.

    Also counts the field coverage of every extracted page for the health checks.

    Stats: ``dvcrawl/dropped/not_article``, ``dvcrawl/dropped/missing_<field>``,
    ``dvcrawl/extracted/{pages,articles,with_title,with_date,fallback}``.
    """

    def __init__(self, settings: BaseSettings, stats: Stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        """Build the pipeline (Scrapy component protocol)."""
        return cls(crawler.settings, crawler.stats)

    def process_item(self, item: FetchedArticle | NotModified) -> FetchedArticle | NotModified:
        """Pass `item` on, or raise DropItem saying why not."""
        if not isinstance(item, FetchedArticle):
            return item  # NotModified, CaptureDone: nothing to check
        article = item.article
        self._count(article)
        if not article.is_article:
            self.stats.inc_value("dvcrawl/dropped/not_article")
            raise DropItem(f"not an article: {article.url}", log_level="DEBUG")
        for name in REQUIRED:
            if not getattr(article, name):
                self.stats.inc_value(f"dvcrawl/dropped/missing_{name}")
                raise DropItem(f"no {name}: {article.url}", log_level="WARNING")
        return item

    def _count(self, article: Article) -> None:
        """Field coverage of the pages extracted, for the health checks (`dvcrawl.health`)."""
        self.stats.inc_value("dvcrawl/extracted/pages")
        if not article.is_article:
            return
        self.stats.inc_value("dvcrawl/extracted/articles")
        if article.title:
            self.stats.inc_value("dvcrawl/extracted/with_title")
        if article.published_at:
            self.stats.inc_value("dvcrawl/extracted/with_date")
        # "+fallback" may be followed by "+data" (the page's app data read after the markup).
        if "+fallback" in article.extractor:
            self.stats.inc_value("dvcrawl/extracted/fallback")
        if article.extractor.endswith("+data"):
            self.stats.inc_value("dvcrawl/extracted/from_data")
