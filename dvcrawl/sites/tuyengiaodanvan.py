"""tuyengiaodanvan.vn: Ban Tuyên giáo và Dân vận Trung ương (the 2025 merger), a Next.js site.

The server sends the article as JSON in ``<script id="__NEXT_DATA__">`` (``props.pageProps.blog``:
title, description, content as an HTML string, publishDate in UTC, author); the visible markup
may be an empty shell filled in by the browser (as a public crawler of the portal found). So the
extractor reads the JSON, runs the embedded HTML through the shared stripper, and falls back to
the markup only when the JSON is missing. Listings carry their items in the same JSON
(``props.pageProps.blogs``); their pager is script-driven, so the spider asks for
``&page=N`` itself.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from dvcrawl.extract.base import Extractor
from dvcrawl.extract.compose import compose_embedded
from dvcrawl.extract.embedded import as_article, parsed_script, walk
from dvcrawl.extract.page import Page
from dvcrawl.extract.selectors import SelectorExtractor
from dvcrawl.items import Article
from dvcrawl.sites.base import Site

NAMES = ("Ban Tuyên giáo và Dân vận Trung ương", "Ban Tuyên giáo và Dân vận")

_MARKUP = SelectorExtractor(
    name="tuyengiaodanvan/v1+markup",
    body="article .content, .blog-content, .post-content, article",
    title="h1",
    site_names=NAMES,
)


def next_data(page: Page) -> dict[str, Any]:
    """The page's ``__NEXT_DATA__`` JSON, or an empty dict."""
    script = page.root.find(".//script[@id='__NEXT_DATA__']")
    data = parsed_script(script) if script is not None else None
    return data if isinstance(data, dict) else {}


def _is_blog(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("title"), str)
        and isinstance(item.get("content"), str)
        and "<" in item["content"]
        and any(item.get(key) for key in ("publishDate", "createdAt", "slug"))
    )


def find_blog(page: Page) -> dict[str, Any] | None:
    """The article object in the page's data, wherever the app nests it.

    The data is found by shape (title, HTML content, a date or slug), not by path: the site has
    already moved it once (``props.pageProps.blog`` to ``props.pageProps.data.blog``), and
    related-article lists carry no ``content``.
    """
    return next((item for item in walk(next_data(page)) if _is_blog(item)), None)


def article_url(base: str, item: dict[str, Any]) -> str | None:
    """The URL of a blog item: ``/blogs/<slug>``, the id appended when the slug lacks it."""
    slug = item.get("slug")
    if not isinstance(slug, str) or not slug:
        return None
    ident = item.get("id") or item.get("_id")
    if isinstance(ident, str) and ident and not slug.endswith(ident):
        slug = f"{slug}-{ident}"
    return urljoin(base, f"/blogs/{slug}")


def _is_teaser(item: Any) -> bool:
    return isinstance(item, dict) and bool(item.get("slug")) and bool(item.get("title"))


def listing_links(page: Page) -> list[str]:
    """Article URLs of a category page, from its embedded JSON (lists of items with a slug)."""
    urls: list[str] = []
    for item in walk(next_data(page)):
        if isinstance(item, list) and item and all(_is_teaser(e) for e in item):
            urls.extend(url for e in item if (url := article_url(page.url, e)))
    return list(dict.fromkeys(urls))


class TuyengiaodanvanV1(Extractor):
    """Articles from the embedded Next.js data."""

    name = "tuyengiaodanvan/v1"

    def extract(self, page: Page, site_id: str) -> Article:
        """Extract from ``props.pageProps.blog``, or from the markup when it is absent."""
        blog = as_article(find_blog(page))
        if blog is None:
            return _MARKUP.extract(page, site_id)
        return compose_embedded(page, site_id, self.name, blog)


_CATEGORY = "https://tuyengiaodanvan.vn/blogs/category/type/{type}?&categoryId={id}"

SITE = Site(
    id="tuyengiaodanvan",
    name=NAMES[0],
    domains=("tuyengiaodanvan.vn",),
    # The dân vận categories, from a public crawler's configuration [tgdv-selenium].
    start_urls=(
        _CATEGORY.format(type="tin-tuc-su-kien", id="67f4cbf848ad87279a8a7695"),
        _CATEGORY.format(type="chi-dao-dinh-huong", id="67f4d38460777e499c87d272"),
        _CATEGORY.format(type="nghien-cuu-trao-doi", id="67f4d34160777e499c87d26d"),
        _CATEGORY.format(type="nghien-cuu-trao-doi", id="67f4d35760777e499c87d26f"),
    ),
    article_url=r"^/blogs/(?!category/)[a-z0-9-]+$",
    listing_url=r"^/blogs/category/",
    extractors=(TuyengiaodanvanV1(),),
    pagination_query="page={page}&size=10",  # [tgdv-selenium]
    listing_links=listing_links,
)
