"""`PortalSpider`: navigation for any portal declared in `dvcrawl.sites`.

A spider only navigates; what a page says is the extractor's business.

* Start pages: when the site declares ``follow_link_text``, a start page is a menu: only its
  section links whose text matches are followed (the "Dân vận" section is found, not
  hard-coded). Otherwise a start page is a listing.
* Listing pages: article links are followed, except those in sidebars, menus and "hot news"
  boxes; pagination is followed up to the site's depth. The next page is found the way a
  reader finds it: ``rel=next``, a "Trang sau"/"»" link, or the link numbered one more than
  the current page.
* Article pages: the extractor turns the response into an Article record.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response, TextResponse

from dvcrawl.extract import extract_article
from dvcrawl.extract.boilerplate import CHROME_CLASS
from dvcrawl.extract.text import clean_line
from dvcrawl.items import FetchedArticle
from dvcrawl.sites import Site
from dvcrawl.urls import InvalidURL, canonicalize, path_and_query, strip_host

_NEXT_TEXTS = {
    "trang sau", "sau", "tiếp", "trang tiếp", "tiếp theo", "xem tiếp", "next", "»", "›", ">",
    ">>", "→", "trang kế", "kế tiếp",
}  # fmt: skip
_PAGE_PARAM = re.compile(r"^(?:page|p|trang|pageindex|pagenum|pg|.*_cur)$", re.IGNORECASE)
_PAGE_PATH = re.compile(r"(?:/trang-|/page/|/p|-p|/trang/)(\d+)(?:\.\w+)?/?$", re.IGNORECASE)


class PortalSpider(scrapy.Spider):
    """Crawl one portal's sections for articles.

    Arguments (``-a name=value`` with ``scrapy crawl``):
        start_url: replace the site's start pages with these (comma-separated); a URL that
            looks like an article is extracted directly, any other is read as a listing.
    """

    site: ClassVar[Site]

    def __init__(self, *args: Any, start_url: str | list[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.allowed_domains = list(self.site.domains)
        if isinstance(start_url, str):
            start_url = [u for u in start_url.split(",") if u.strip()]
        self.custom_start_urls: list[str] = list(start_url or [])

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """The site's start pages (or the ones given on the command line)."""
        if self.custom_start_urls:
            menus = (
                {_canonical(u) for u in self.site.start_urls}
                if self.site.follow_link_text
                else set()
            )
            for url in self.custom_start_urls:
                if self.site.is_article_url(path_and_query(url)):
                    yield self._request(url, self.parse_article)
                elif _canonical(url) in menus:
                    yield self._request(url, self.parse_start, page=1)
                else:
                    yield self._request(url, self.parse_listing, page=_page_number(url))
            return
        callback = self.parse_start if self.site.follow_link_text else self.parse_listing
        for url in self.site.start_urls:
            yield self._request(url, callback, page=1)

    def parse_start(self, response: Response) -> Iterator[scrapy.Request]:
        """A menu page: follow the section links the site asks for."""
        if not isinstance(response, TextResponse):
            return
        seen: set[str] = set()
        for link in response.css("a[href]"):
            url = response.urljoin(link.attrib["href"])
            text = clean_line(" ".join(link.css("::text").getall()) or link.attrib.get("title", ""))
            if url in seen or not self._same_portal(url):
                continue
            if self.site.is_listing_url(path_and_query(url)) and self.site.follows_link_text(text):
                seen.add(url)
                yield self._request(url, self.parse_listing, page=_page_number(url))

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """A listing page: follow article links and the next page."""
        if not isinstance(response, TextResponse):
            return
        page = response.meta.get("dvcrawl_page", 1)
        articles = list(self.article_links(response))
        self.crawler.stats.inc_value("dvcrawl/listing_pages")
        for url in articles:
            yield self._request(url, self.parse_article)
        next_url = self.next_page(response, page)
        if next_url is None and self.site.pagination_query and articles:
            next_url = _with_query(response.url, self.site.pagination_query.format(page=page + 1))
        limit = self.crawler.settings.getint(
            "DVCRAWL_MAX_LISTING_PAGES", self.site.max_listing_pages
        )
        if next_url and page < min(limit, self.site.max_listing_pages):
            yield self._request(next_url, self.parse_listing, page=page + 1)

    def parse_article(self, response: Response) -> Iterator[FetchedArticle]:
        """An article page: extract the record."""
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("dvcrawl/not_html")
            return
        article = extract_article(response.text, response.url, fetched_at=datetime.now(UTC))
        yield FetchedArticle(
            article=article,
            fetched_at=datetime.now(UTC),
            etag=_header(response, "ETag"),
            last_modified=_header(response, "Last-Modified"),
        )

    # --- navigation helpers -------------------------------------------------------------

    def article_links(self, response: TextResponse) -> Iterator[str]:
        """Article URLs on a listing page, outside sidebars and menus, in page order."""
        found: list[str] = []
        fallback: list[str] = []
        for anchor in response.selector.root.iter("a"):
            href = anchor.get("href")
            if not href:
                continue
            url = response.urljoin(href.strip())
            if not self._same_portal(url) or not self.site.is_article_url(path_and_query(url)):
                continue
            fallback.append(url)
            if not _in_chrome(anchor):
                found.append(url)
        if self.site.listing_links is not None:
            from dvcrawl.extract.page import Page

            for url in self.site.listing_links(Page(response.text, response.url)):
                if self._same_portal(url) and self.site.is_article_url(path_and_query(url)):
                    found.append(url)
        # A portal whose listing sits in a box named like a sidebar still gets crawled.
        yield from dict.fromkeys(found or fallback)

    def next_page(self, response: TextResponse, page: int) -> str | None:
        """The URL of the listing's next page, or None on the last page."""
        numbered: str | None = None
        for link in response.css("a[href]"):
            href = link.attrib["href"].strip()
            if not href or href.startswith(("javascript:", "#")):
                continue
            url = response.urljoin(href)
            if not self._same_portal(url) or url == response.url:
                continue
            rel = (link.attrib.get("rel") or "").lower()
            text = clean_line(" ".join(link.css("::text").getall())).lower()
            title = (link.attrib.get("title") or "").lower()
            is_next = "next" in rel.split() or text in _NEXT_TEXTS or title in _NEXT_TEXTS
            # A next link never points back; one whose page number cannot be read is trusted.
            if is_next and (_page_number(url) > page or not _has_page_marker(url)):
                return url
            if text == str(page + 1) and numbered is None:
                numbered = url
        return numbered

    def _same_portal(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return self.site.claims_host(strip_host(host))

    def _request(self, url: str, callback: Any, *, page: int | None = None) -> scrapy.Request:
        meta: dict[str, Any] = {"download_slot": self.site.id}
        if page is not None:
            meta["dvcrawl_page"] = page
        return scrapy.Request(url, callback=callback, meta=meta, errback=self.on_error)

    def on_error(self, failure: Any) -> None:
        """Count failed requests by kind; the crawl goes on.

        A page robots.txt forbids is not an error; a 4xx page is a dead link; anything else
        (5xx after retries, timeouts, resets, DNS) is an error.
        """
        from scrapy.exceptions import IgnoreRequest
        from scrapy.spidermiddlewares.httperror import HttpError

        url = failure.request.url
        if failure.check(HttpError):
            status = failure.value.response.status
            if 400 <= status < 500:
                self.crawler.stats.inc_value("dvcrawl/dead_links")
                self.logger.info("dead link (%d): %s", status, url)
                return
            self.crawler.stats.inc_value(f"dvcrawl/errors/http_{status}")
        elif failure.check(IgnoreRequest):
            self.crawler.stats.inc_value("dvcrawl/skipped/ignored")
            return
        else:
            self.crawler.stats.inc_value(f"dvcrawl/errors/{type(failure.value).__name__}")
        self.logger.warning("%s: %s", url, failure.getErrorMessage())


def _page_number(url: str) -> int:
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        if _PAGE_PARAM.match(key) and value.isdigit():
            return int(value)
    match = _PAGE_PATH.search(parts.path)
    return int(match.group(1)) if match else 1


def _canonical(url: str) -> str:
    try:
        return canonicalize(url)
    except InvalidURL:
        return url


def _with_query(url: str, extra: str) -> str:
    """`url` with the parameters of `extra` set (replacing existing values of the same names)."""
    parts = urlsplit(url)
    updates = parse_qsl(extra, keep_blank_values=True)
    names = {name for name, _ in updates}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(query + updates)))


def _has_page_marker(url: str) -> bool:
    parts = urlsplit(url)
    return any(_PAGE_PARAM.match(key) for key, _ in parse_qsl(parts.query)) or bool(
        _PAGE_PATH.search(parts.path)
    )


def _in_chrome(anchor: Any) -> bool:
    """Whether a link sits in a sidebar, menu, footer or "hot news" box."""
    for node in anchor.iterancestors():
        if node.tag in {"nav", "footer", "header", "aside"}:
            return True
        names = f"{node.get('class', '')} {node.get('id', '')}".strip()
        if names and CHROME_CLASS.search(names):
            return True
    return False


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
