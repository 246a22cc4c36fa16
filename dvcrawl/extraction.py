"""One page -> one Article record: the portal chosen by URL, its extractor chosen by the page.

`extract_article` is the one entry point: the spider, ``dvcrawl extract`` and ``dvcrawl import``
all call it, so a page gives the same record however it arrives. It sits above both the
extraction toolkit (`dvcrawl.extract`, which knows no portal) and the site registry
(`dvcrawl.sites`, whose declarations use the toolkit).
"""

from __future__ import annotations

from datetime import datetime

from dvcrawl.extract.compose import or_embedded
from dvcrawl.extract.generic import GenericExtractor
from dvcrawl.extract.page import Page
from dvcrawl.items import Article
from dvcrawl.sites import site_for_url
from dvcrawl.urls import canonicalize

GENERIC = GenericExtractor()


def extract_article(html: str, url: str, *, fetched_at: datetime | None = None) -> Article:
    """Extract the Article record of one page.

    The portal is chosen by URL; the first extractor version that accepts the page is used.
    Whether the page is an article is decided by its content (headline, body, date, the
    page's structure), never by the shape of its URL: a portal's URL forms are partly guessed,
    and a real article under an unexpected URL must not be lost.

    Args:
        html: the page, decoded (see `dvcrawl.extract.decode_html`).
        url: the URL it was fetched from.
        fetched_at: when it was fetched; later dates are rejected as future dates.

    Raises:
        dvcrawl.urls.InvalidURL: if `url` is not an absolute http(s) URL.

    """
    canonical = canonicalize(url)
    page = Page(html, url, fetched_at)
    site = site_for_url(url)
    with page.reading():
        if site is None:
            article = GENERIC.extract(page, "generic")
        else:
            extractor = next((e for e in site.extractors if e.applies(page)), site.extractors[-1])
            article = extractor.extract(page, site.id)
        article = or_embedded(page, article.site, article)
    # The toolkit canonicalizes without the registry; alias domains fold here.
    article.canonical_url = canonical
    return article


__all__ = ["extract_article"]
