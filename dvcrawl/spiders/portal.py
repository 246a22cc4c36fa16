"""`PortalSpider`: navigation for any portal declared in `dvcrawl.sites`.

A spider only navigates; what a page says is the extractor's business.

* Start pages: when the site declares ``follow_link_text``, a start page is a menu: only its
  section links whose text matches are followed (the "Dân vận" section is found, not
  hard-coded). Otherwise a start page is a listing.
* Listing pages: article links are followed, except those in sidebars, menus and "hot news"
  boxes: links of the declared article shape, of shapes learned from earlier articles, and links
  that head the listing's teasers whatever their shape (`dvcrawl.navigation`); pagination is
  followed up to the site's depth. The next page is found the way a
  reader finds it: ``rel=next``, a "Trang sau"/"»" link, or the link numbered one more than
  the current page.
* Article pages: the extractor turns the response into an Article record; whether the page is
  an article is the page's business, not the URL's.

With ``source="wayback"`` the same spider reads the portal from a web archive instead
(`dvcrawl.spiders.archive`): the archive's index replaces the listings as the source of
article URLs, and each page is fetched as a raw capture under its original URL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.utils.asyncio import sleep

from dvcrawl.extract.page import NotHTML, Page, decode_page
from dvcrawl.extract.text import clean_line
from dvcrawl.extraction import extract_article
from dvcrawl.health import looks_like_challenge
from dvcrawl.items import Article, FetchedArticle, NotModified
from dvcrawl.navigation import DECLARED, LEARNED, STRUCTURE, ArticleLink
from dvcrawl.navigation import article_links as find_article_links
from dvcrawl.sites import Site
from dvcrawl.spiders.archive import ArchiveSource
from dvcrawl.state import CrawlStateExtension
from dvcrawl.urls import InvalidURL, canonicalize, path_and_query, strip_host
from dvcrawl.urlshapes import matches_any

#: A learned URL shape is trusted for navigation once this many stored articles have it.
LEARNED_SHAPE_MIN_ARTICLES = 2
#: Request priorities by link evidence: the declared shape first, breaking ties.
_PRIORITY = {DECLARED: 10, LEARNED: 9, STRUCTURE: 8}

_NEXT_TEXTS = {
    "trang sau", "sau", "tiếp", "trang tiếp", "tiếp theo", "xem tiếp", "next", "»", "›", ">",
    ">>", "→", "trang kế", "kế tiếp",
}  # fmt: skip
_PAGE_PARAM = re.compile(r"^(?:page|p|trang|pageindex|pagenum|pg|.*_cur)$", re.IGNORECASE)
_PAGE_PATH = re.compile(r"(?:/trang-|/page/|/p|-p|/trang/)(\d+)(?:\.\w+)?/?$", re.IGNORECASE)


class PortalSpider(ArchiveSource, scrapy.Spider):
    """Crawl one portal's sections for articles, fetching only what is new.

    Arguments (``-a name=value`` with ``scrapy crawl``):
        start_url: replace the site's start pages with these (comma-separated); a URL that
            looks like an article is extracted directly, any other is read as a listing.
        mode: "incremental" (default): known articles are not fetched, and paging stops at the
            first listing page whose articles are all known, unless the previous run of the
            site did not finish (it may have left articles behind on deeper pages);
            "refresh": known articles are asked for again with conditional requests
            (If-None-Match / If-Modified-Since), so only changed ones are downloaded;
            "full": a backfill of every listing to its last page, resumed where the previous
            backfill stopped.
        source: "live" (default): the portal itself; "wayback": the portal's captures in the
            web archive at ``DVCRAWL_WAYBACK_URL`` (`dvcrawl.spiders.archive`).
        capture_from, capture_to: with ``source="wayback"``, only captures made in this
            period (``YYYY``, ``YYYYMM`` or ``YYYYMMDD``, inclusive).
    """

    site: ClassVar[Site]
    MODES: ClassVar[tuple[str, ...]] = ("incremental", "refresh", "full")
    SOURCES: ClassVar[tuple[str, ...]] = ("live", "wayback")

    def __init__(
        self,
        *args: Any,
        start_url: str | list[str] | None = None,
        mode: str = "incremental",
        source: str = "live",
        capture_from: str | None = None,
        capture_to: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {', '.join(self.MODES)}, not {mode!r}")
        if source not in self.SOURCES:
            raise ValueError(f"source must be one of {', '.join(self.SOURCES)}, not {source!r}")
        self.mode = mode
        self.source = source
        self.allowed_domains = list(self.site.domains)
        if isinstance(start_url, str):
            start_url = [u for u in start_url.split(",") if u.strip()]
        self.custom_start_urls: list[str] = list(start_url or [])
        self.archive_init(capture_from, capture_to)
        self.state: CrawlStateExtension | None = None
        # Article URLs requested in this run (canonical), and backfill progress per listing.
        self._requested: set[str] = set()
        self._backfills: dict[str, BackfillProgress] = {}
        # Article URL shapes learned from earlier runs (dvcrawl.urlshapes), loaded at start.
        self.learned_shapes: list[str] = []

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> PortalSpider:
        """Build the spider (Scrapy protocol) and watch requests dropped as duplicates."""
        from scrapy import signals

        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """The site's start pages (or the ones given on the command line).

        Start requests are marked (``dvcrawl_start``) and counted: a run whose every start page
        robots.txt forbids fails instead of ending quietly empty (`dvcrawl.outcome`). An
        archive run's start requests are its index queries.
        """
        if self.source == "wayback":
            # After another site's archive crawl in this process: the archive's delay holds.
            wait = self.archive_wait()
            if wait > 0:
                await sleep(wait)
        for request in self._start_requests():
            request.meta["dvcrawl_start"] = True
            self.crawler.stats.inc_value("dvcrawl/start_pages")
            yield request

    def _start_requests(self) -> Iterator[scrapy.Request]:
        self.state = self.crawler.get_extension(CrawlStateExtension)
        if self.state is not None:
            self.learned_shapes = [
                shape.pattern
                for shape in self.state.state.learned_shapes(self.site.id)
                if shape.articles >= LEARNED_SHAPE_MIN_ARTICLES
            ]
        if self.source == "wayback":
            yield from self.archive_start()
            return
        if self.custom_start_urls:
            menus = (
                {_canonical(u) for u in self.site.start_urls}
                if self.site.follow_link_text
                else set()
            )
            for url in self.custom_start_urls:
                if _canonical(url) in menus:
                    yield self._request(url, self.parse_start, page=1)
                elif self.site.is_listing_url(path_and_query(url)):
                    yield self._listing_start(url)
                else:
                    # Neither a menu nor a declared listing: the page says what it is.
                    yield self._request(url, self.parse_page, page=1)
            return
        for url in self.site.start_urls:
            if self.site.follow_link_text:
                yield self._request(url, self.parse_start, page=1)
            else:
                yield self._listing_start(url)

    def parse_start(self, response: Response) -> Iterator[scrapy.Request]:
        """A menu page: follow the section links the site asks for."""
        if not isinstance(response, TextResponse) or self._challenged(response):
            return
        seen: set[str] = set()
        for link in response.css("a[href]"):
            url = response.urljoin(link.attrib["href"])
            text = clean_line(" ".join(link.css("::text").getall()) or link.attrib.get("title", ""))
            if url in seen or not self._same_portal(url):
                continue
            if self.site.is_listing_url(path_and_query(url)) and self.site.follows_link_text(text):
                seen.add(url)
                yield self._listing_start(url)

    def parse_page(self, response: Response) -> Iterator[Any]:
        """A start page given on the command line: an article if its content says so, else a listing."""
        if not isinstance(response, TextResponse) or self._challenged(response):
            return
        article = self._article_of(response)
        if article is not None and article.is_article:
            self.crawler.stats.inc_value("dvcrawl/article_requests")
            yield self._fetched(article, response)
        else:
            yield from self.parse_listing(response)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """A listing page: request the articles not stored yet, then the next page."""
        if not isinstance(response, TextResponse) or self._challenged(response):
            return
        page = response.meta.get("dvcrawl_page", 1)
        listing = response.meta.get("dvcrawl_listing") or _canonical(response.url)
        found = self.article_links(response)
        links = [link.url for link in found]
        stats = self.crawler.stats
        stats.inc_value("dvcrawl/listing_pages")
        stats.inc_value("dvcrawl/article_links", len(links))
        for link in found:
            stats.inc_value(f"dvcrawl/article_links/{link.evidence}")
        canonical = {url: _canonical(url) for url in links}
        known = self.state.state.known(list(set(canonical.values()))) if self.state else {}
        requests = []
        for link in found:
            url = link.url
            if canonical[url] in self._requested:
                continue  # linked from an earlier page of this run
            self._requested.add(canonical[url])
            validators = known.get(canonical[url])
            meta = {"page": page, "listing": listing, "evidence": link.evidence}
            if validators is None:
                request = self._request(url, self.parse_article, **meta)
                # A shared frontier skips it if another worker stored the article first (one
                # that died before saying it was done: its requests are handed out again).
                request.meta["dvcrawl_new_article"] = canonical[url]
                requests.append(request)
            elif self.mode == "refresh":
                requests.append(self._conditional(url, *validators, **meta))
            else:
                stats.inc_value("dvcrawl/articles/skipped_known")

        next_url = self.next_page(response, page)
        if next_url is None and self.site.pagination_query and links:
            next_url = _with_query(response.url, self.site.pagination_query.format(page=page + 1))
        if self.mode == "full":
            limit = self.crawler.settings.getint("DVCRAWL_FULL_MAX_PAGES", 10000)
        else:
            limit = min(
                self.crawler.settings.getint("DVCRAWL_MAX_LISTING_PAGES", 20),
                self.site.max_listing_pages,
            )
        # Known articles end the paging of an incremental run, but only after a complete
        # previous run: after a killed one, deeper pages may hold what it left behind.
        all_known = bool(links) and all(canonical[url] in known for url in links)
        stop_at_known = (
            self.mode == "incremental"
            and self.state is not None
            and self.state.previous_was_complete
        )
        follow = bool(next_url) and page < limit and not (stop_at_known and all_known)
        if stop_at_known and all_known and next_url:
            stats.inc_value("dvcrawl/listings_stopped_at_known")
        if self.mode == "full":
            progress = self._progress(listing)
            progress.listed(
                page, response.url, [r.url for r in requests], next_url if follow else None
            )
            self._save_cursor(listing)
        yield from requests
        if follow and next_url:
            yield self._request(next_url, self.parse_listing, page=page + 1, listing=listing)

    def parse_article(self, response: Response) -> Iterator[FetchedArticle | NotModified]:
        """An article page: extract the record (or confirm it has not changed)."""
        stats = self.crawler.stats
        stats.inc_value("dvcrawl/article_requests", 1 + len(response.meta.get("redirect_urls", [])))
        self._article_done(response.request)
        if response.status == 304:
            yield NotModified(canonical_url=_canonical(response.url), fetched_at=datetime.now(UTC))
            return
        if not isinstance(response, TextResponse):
            stats.inc_value("dvcrawl/not_html")
            yield from self.capture_done(response.request, "not_html")
            return
        if self._challenged(response):
            return
        article = self._article_of(response)
        if article is not None:
            yield self._fetched(article, response)
        else:
            yield from self.capture_done(response.request, "not_html")

    def _article_of(self, response: TextResponse) -> Article | None:
        """The page's Article record, decoded as `dvcrawl import` and `dvcrawl extract` do.

        One decoding path (issue 10: NUL bytes and a declared charset the bytes contradict
        gave different text on the two paths); what decoding repaired is counted and logged.
        None for bytes that are no HTML page.
        """
        stats = self.crawler.stats
        try:
            decoded = decode_page(response.body, _header(response, "Content-Type"))
        except NotHTML as exc:
            stats.inc_value("dvcrawl/not_html")
            self.logger.info("%s: %s", response.url, exc)
            return None
        for problem in decoded.problems:
            stats.inc_value(f"dvcrawl/decoding/{problem.kind}")
            self.logger.warning("%s: %s", response.url, problem.detail)
        return extract_article(decoded.text, response.url, fetched_at=datetime.now(UTC))

    def _fetched(self, article: Any, response: Response) -> FetchedArticle:
        archived = response.meta.get("dvcrawl_archived")
        if archived is not None:
            # A capture: the archive's validators say nothing about the portal's page.
            return FetchedArticle(
                article=article,
                fetched_at=datetime.now(UTC),
                archive_url=archived["archive_url"],
                archived_at=archived["archived_at"],
                capture=self.capture_ref(response.request),
            )
        return FetchedArticle(
            article=article,
            fetched_at=datetime.now(UTC),
            etag=_header(response, "ETag"),
            last_modified=_header(response, "Last-Modified"),
        )

    # --- navigation helpers -------------------------------------------------------------

    def article_links(self, response: TextResponse) -> list[ArticleLink]:
        """Article links on a listing page, outside sidebars and menus, in page order.

        Links of the declared article shape, of shapes learned from earlier articles, and links
        heading the listing's teasers whatever their shape (`dvcrawl.navigation`). Links in
        sidebars, menus and "hot news" boxes are never followed, even when nothing else is
        found: they lead to other sections' articles, and a listing that yields no link is
        what a redesign looks like, which the health checks must see (``listing_links``).
        """
        page = Page(response.text, response.url)
        found = find_article_links(
            page,
            same_portal=self._same_portal,
            declared=lambda url: self.site.is_article_url(path_and_query(url)),
            learned=lambda url: matches_any(self.learned_shapes, path_and_query(url)),
            is_listing=lambda url: self.site.is_listing_url(path_and_query(url)),
        )
        if self.site.listing_links is not None:
            seen = {link.url for link in found}
            for url in self.site.listing_links(page):
                if url not in seen and self._same_portal(url):
                    seen.add(url)
                    found.append(ArticleLink(url, DECLARED))
        return found

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

    def _request(
        self,
        url: str,
        callback: Any,
        *,
        page: int | None = None,
        listing: str | None = None,
        evidence: str = DECLARED,
    ) -> scrapy.Request:
        meta: dict[str, Any] = {"download_slot": self.site.id}
        if page is not None:
            meta["dvcrawl_page"] = page
        if listing is not None:
            meta["dvcrawl_listing"] = listing
        # Articles before further listing pages: each listing page is finished before the next
        # is read, so a stopped run leaves little behind and a backfill cursor moves steadily.
        # Among articles, the declared shape first, then learned shapes, then teaser links.
        priority = _PRIORITY[evidence] if callback == self.parse_article else 0
        return scrapy.Request(
            url, callback=callback, meta=meta, errback=self.on_error, priority=priority
        )

    def _listing_start(self, url: str) -> scrapy.Request:
        """The first request of a listing; a backfill resumes from its saved cursor."""
        listing = _canonical(url)
        if self.mode == "full" and self.state is not None:
            cursor = self.state.state.cursor(self.name, listing)
            if cursor is not None and cursor.done_at is None and cursor.next_url:
                self.logger.info("resuming the backfill of %s at page %d", listing, cursor.page)
                return self._request(
                    cursor.next_url, self.parse_listing, page=cursor.page, listing=listing
                )
            if cursor is not None:
                self.state.state.reset_cursor(self.name, listing)
        return self._request(url, self.parse_listing, page=_page_number(url), listing=listing)

    def _conditional(
        self, url: str, etag: str | None, last_modified: str | None, **meta: Any
    ) -> scrapy.Request:
        """A request for a known article that the server may answer with 304 Not Modified."""
        request = self._request(url, self.parse_article, **meta)
        request.meta["handle_httpstatus_list"] = [304]
        if etag:
            request.headers["If-None-Match"] = etag
        if last_modified:
            request.headers["If-Modified-Since"] = last_modified
        return request

    def _progress(self, listing: str) -> BackfillProgress:
        """The backfill progress of a listing: this process's, or a shared frontier's."""
        if listing not in self._backfills:
            from dvcrawl.frontier import SharedBackfillProgress, frontier_of

            frontier = frontier_of(self.crawler)
            self._backfills[listing] = (
                SharedBackfillProgress(frontier, listing)  # type: ignore[assignment]
                if frontier is not None
                else BackfillProgress()
            )
        return self._backfills[listing]

    def _article_done(self, request: scrapy.Request | None) -> None:
        """An article request of a backfill got its answer: the cursor may move on.

        The listing named the first URL of a redirect chain; with a shared frontier, another
        worker may have read the listing page.
        """
        from dvcrawl.frontier import frontier_of

        if request is None or self.mode != "full":
            return
        listing = request.meta.get("dvcrawl_listing")
        if not listing:
            return
        shared = frontier_of(self.crawler) is not None
        progress = self._progress(listing) if shared else self._backfills.get(listing)
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        if progress is not None and progress.done(request.meta.get("dvcrawl_page", 0), url):
            self._save_cursor(listing)

    def request_dropped(self, request: scrapy.Request) -> None:
        """An article request dropped as already seen is answered elsewhere in this run."""
        if request.callback == self.parse_article:
            self._article_done(request)

    def _save_cursor(self, listing: str) -> None:
        if self.state is None:
            return
        next_url, page = self._progress(listing).cursor()
        self.state.state.save_cursor(self.name, listing, next_url=next_url, page=page)

    def _challenged(self, response: TextResponse) -> bool:
        """Count and skip 2xx pages that are bot challenges or maintenance notices."""
        if not looks_like_challenge(response.text):
            return False
        self.crawler.stats.inc_value("dvcrawl/challenge_pages")
        self.logger.warning("bot challenge or maintenance page at %s", response.url)
        return True

    def on_error(self, failure: Any) -> Iterator[Any]:
        """Count failed requests by kind; the crawl goes on.

        A page robots.txt forbids is not an error, nor is a 4xx page (a dead link), except 429.
        Anything else is a page lost, counted under ``dvcrawl/errors/<kind>`` with its cause in
        one line (``dvcrawl/cause/error``) for the run's verdict (`dvcrawl.outcome`): 5xx and
        429 after retries, network failures, answers larger than ``DOWNLOAD_MAXSIZE``,
        redirect loops, redirects off the portal.
        """
        from scrapy.exceptions import IgnoreRequest
        from scrapy.spidermiddlewares.httperror import HttpError

        from dvcrawl.outcome import describe_exception, describe_response
        from dvcrawl.robots import RobotsForbidden, RobotsUnreachable

        request = failure.request
        url = request.url
        stats = self.crawler.stats
        if request.callback == self.parse_article:
            stats.inc_value("dvcrawl/article_requests")
            self._article_done(request)
        if failure.check(HttpError):
            response = failure.value.response
            status = response.status
            if 400 <= status < 500 and status != 429:
                stats.inc_value("dvcrawl/dead_links")
                self.logger.info("dead link (%d): %s", status, url)
                # A capture the archive cannot serve will not be served next time either.
                yield from self.capture_done(failure.request, "dead")
                return
            kind, cause = f"http_{status}", describe_response(response)
            refused = response.meta.get("dvcrawl_refused_wait")
            if refused:
                cause += f" (asked to wait {refused:.0f} s, more than DVCRAWL_RETRY_AFTER_MAX)"
        elif failure.check(RobotsForbidden):
            stats.inc_value("dvcrawl/skipped/robots")
            return
        elif failure.check(RobotsUnreachable):
            return  # counted by the robots.txt middleware; the run's verdict names it
        elif failure.check(IgnoreRequest):
            # (Redirects off the portal are counted by dvcrawl.outcome.NetworkLedgerMiddleware:
            # Scrapy drops them before any errback.)
            message = str(failure.value)
            if "max redirections" in message:
                kind, cause = "redirect_loop", f"more than REDIRECT_MAX_TIMES redirects: {url}"
            elif "DOWNLOAD_MAXSIZE" in message:
                kind, cause = "too_large", f"larger than DOWNLOAD_MAXSIZE once decompressed: {url}"
            else:
                stats.inc_value("dvcrawl/skipped/ignored")
                return
        else:
            kind = type(failure.value).__name__
            cause = f"{describe_exception(failure.value, request)}: {url}"
        stats.inc_value(f"dvcrawl/errors/{kind}")
        stats.set_value("dvcrawl/cause/error", cause)
        self.logger.warning("%s", cause)


def _page_number(url: str) -> int:
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        if _PAGE_PARAM.match(key) and value.isdigit():
            return int(value)
    match = _PAGE_PATH.search(parts.path)
    return int(match.group(1)) if match else 1


class BackfillProgress:
    """Which listing pages of a backfill are fully done, for a cursor that loses nothing.

    The cursor is the first page with an article still waiting for its answer: a backfill
    stopped (or killed) there resumes there, so articles listed on a page whose requests never
    completed are requested again. With every page done it is the next page to read, or None
    when the listing has no further page (the backfill is complete).
    """

    def __init__(self) -> None:
        self.pages: dict[int, tuple[str, set[str]]] = {}
        self.last_page = 0
        self.next_url: str | None = None

    def listed(self, page: int, url: str, articles: list[str], next_url: str | None) -> None:
        """A listing page was read: these article requests are now outstanding."""
        self.pages[page] = (url, set(articles))
        if page >= self.last_page:
            self.last_page, self.next_url = page, next_url

    def done(self, page: int, url: str) -> bool:
        """An article request of `page` was answered; True if that changes the cursor."""
        entry = self.pages.get(page)
        if entry is None or url not in entry[1]:
            return False
        entry[1].discard(url)
        return not entry[1]

    def cursor(self) -> tuple[str | None, int]:
        """(URL to resume from, its page number); (None, n) once the listing is complete."""
        for page in sorted(self.pages):
            url, outstanding = self.pages[page]
            if outstanding:
                return url, page
        return self.next_url, self.last_page + 1


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


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
