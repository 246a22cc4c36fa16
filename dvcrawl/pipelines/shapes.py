"""URL shapes: count stored articles whose URL misses the site's declared article pattern."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.settings import BaseSettings

from dvcrawl.items import FetchedArticle, NotModified
from dvcrawl.sites import SITES
from dvcrawl.urls import path_and_query

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from dvcrawl.pipelines import Stats


class UrlShapePipeline:
    """Count the stored articles outside the declared URL shape (issue 8: the page decides).

    The declaration is a guess; an article under another URL form is stored all the same, and
    counted so that the run report, ``dvcrawl status`` and the learned shapes
    (`dvcrawl.state.CrawlStateExtension`) can tell the maintainer.

    Stats: ``dvcrawl/articles/outside_declared_shape``.
    """

    def __init__(self, settings: BaseSettings, stats: Stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UrlShapePipeline:
        """Build the pipeline (Scrapy component protocol)."""
        return cls(crawler.settings, crawler.stats)

    def process_item(self, item: FetchedArticle | NotModified) -> FetchedArticle | NotModified:
        """Count the item if its site declares another URL shape for articles."""
        if isinstance(item, FetchedArticle):
            site = SITES.get(item.article.site)
            if site is not None and not site.is_article_url(path_and_query(item.article.url)):
                self.stats.inc_value("dvcrawl/articles/outside_declared_shape")
        return item
