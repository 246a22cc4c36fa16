"""Pure extraction: stored HTML + URL -> `Article`. No Scrapy engine here.

`extract_article` is the one entry point: the spider, `dvcrawl extract` and `dvcrawl import`
all call it, so a page gives the same record however it arrives.
"""

from __future__ import annotations

from datetime import datetime

from dvcrawl.extract.generic import GenericExtractor
from dvcrawl.extract.page import NotHTML, Page, decode_html
from dvcrawl.items import Article
from dvcrawl.urls import path_and_query

GENERIC = GenericExtractor()


def extract_article(html: str, url: str, *, fetched_at: datetime | None = None) -> Article:
    """Extract the Article record of one page.

    The portal is chosen by URL; the first extractor version that accepts the page is used.
    A page whose URL does not have the shape of the portal's article URLs is never an
    article, whatever its content (listing pages carry lead paragraphs too).

    Args:
        html: the page, decoded (see `decode_html`).
        url: the URL it was fetched from.
        fetched_at: when it was fetched; later dates are rejected as future dates.

    Raises:
        dvcrawl.urls.InvalidURL: if `url` is not an absolute http(s) URL.

    """
    # Imported here: site modules import the extraction toolkit, so the registry cannot be
    # imported while this package initializes.
    from dvcrawl.sites import site_for_url

    page = Page(html, url, fetched_at)
    site = site_for_url(url)
    if site is None:
        return GENERIC.extract(page, "generic")
    extractor = next((e for e in site.extractors if e.applies(page)), site.extractors[-1])
    article = extractor.extract(page, site.id)
    if not site.is_article_url(path_and_query(url)):
        article.is_article = False
    return article


__all__ = ["NotHTML", "Page", "decode_html", "extract_article"]
