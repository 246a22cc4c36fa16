"""The archive mode of `PortalSpider`: a portal read from the Wayback Machine (``--source wayback``).

Navigation in an archive differs from navigation on a live portal in one way: the archive's
index (`dvcrawl.wayback`) says which pages exist, so listings are not needed to find article
URLs. A run:

1. asks the index for every capture under each of the site's domains (one query per domain,
   paged with the index's resume key) and keeps one capture per page (`CapturePlan`: a 200
   capture before a redirect capture, the latest by default);
2. reads the chosen capture of every page whose URL has the site's article shape (declared, or
   learned from earlier runs), and of every listing page;
3. on each captured listing, finds the article links the usual way (`dvcrawl.navigation`: the
   declared shape, learned shapes, the teaser structure) and reads the captures of those the
   URL shape missed;
4. follows a redirect capture only when the page it leads to has no capture of its own in the
   index (otherwise that capture is read, once), and never out of the archive or the portal.

Each capture is requested in raw form (``<timestamp>id_``) and answered, through
`dvcrawl.wayback.ArchiveResponseMiddleware`, under the page's original URL, so the site's
extractor, the identity rules, deduplication and the store see the portal's page. Captures
already read by earlier runs are skipped (`dvcrawl.state.ArchiveProgress`): a run stopped
after days resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from dvcrawl.items import CaptureDone, CaptureRef
from dvcrawl.state import ArchiveProgress
from dvcrawl.urls import InvalidURL, canonicalize, path_and_query
from dvcrawl.urlshapes import matches_any
from dvcrawl.wayback import (
    PICKS,
    REDIRECT_STATUSES,
    Capture,
    CapturePlan,
    CdxError,
    CdxQuery,
    archive_delay,
    capture_url,
    check_timestamp_bound,
    parse_capture_url,
    parse_cdx,
    request_meta,
    site_queries,
    wait_for_archive,
    wayback_base,
)

if TYPE_CHECKING:
    from dvcrawl.sites import Site

#: Request priorities: the index first, then articles, then listings (whose links only add
#: pages the URL shape missed).
_INDEX_PRIORITY, _ARTICLE_PRIORITY, _LISTING_PRIORITY = 20, 10, 0


class ArchiveSource:
    """Archive mode, mixed into `PortalSpider` (which provides the attributes used here)."""

    site: ClassVar[Site]
    source: str
    mode: str
    custom_start_urls: list[str]
    learned_shapes: list[str]
    _requested: set[str]
    state: Any
    crawler: Any
    logger: Any

    def archive_init(self, capture_from: str | None, capture_to: str | None) -> None:
        """Check the archive arguments (``source``, ``capture_from``, ``capture_to``).

        Raises:
            ValueError: for arguments an archive run cannot take, or bounds that are no date.

        """
        if self.source != "wayback":
            if capture_from or capture_to:
                raise ValueError("capture_from and capture_to are for source=wayback")
            return
        if self.mode != "incremental":
            raise ValueError(
                f"source=wayback reads every page once; mode={self.mode} is for live runs"
            )
        if self.custom_start_urls:
            raise ValueError("source=wayback reads the archive's index, not start URLs")
        self.capture_from = check_timestamp_bound(capture_from) if capture_from else None
        self.capture_to = check_timestamp_bound(capture_to) if capture_to else None
        if self.capture_from and self.capture_to:
            width = max(len(self.capture_from), len(self.capture_to))
            if self.capture_from.ljust(width, "0") > self.capture_to.ljust(width, "9"):
                raise ValueError(
                    f"capture_from {self.capture_from} is after capture_to {self.capture_to}"
                )
        self._cdx_pending = 0
        self._cdx_failures: list[str] = []

    # --- the index -----------------------------------------------------------------------

    def archive_wait(self) -> float:
        """Seconds to wait before the first request (see `dvcrawl.wayback.wait_for_archive`)."""
        settings = self.crawler.settings
        return wait_for_archive(settings.get("DVCRAWL_WAYBACK_URL"), archive_delay(settings))

    def archive_start(self) -> Iterator[scrapy.Request]:
        """The index queries of the site's domains."""
        settings = self.crawler.settings
        self.archive_base = wayback_base(settings.get("DVCRAWL_WAYBACK_URL"))
        # Never leave the archive: a page's meta refresh or a capture's redirect that points to
        # the live portal is filtered as offsite.
        self.allowed_domains = [urlsplit(self.archive_base).hostname or ""]
        pick = settings.get("DVCRAWL_WAYBACK_PICK") or "latest"
        if pick not in PICKS:
            raise ValueError(
                f"DVCRAWL_WAYBACK_PICK must be one of {', '.join(PICKS)}, not {pick!r}"
            )
        self.read_listings = settings.getbool("DVCRAWL_WAYBACK_LISTINGS", True)
        self.archive_plan = CapturePlan(pick=pick)
        self.archive_progress = (
            self.state.state.archive_progress(self.site.id)
            if self.state is not None
            else ArchiveProgress()
        )
        queries = site_queries(
            self.site.domains,
            subdomains=self.site.include_subdomains,
            since=self.capture_from,
            until=self.capture_to,
            pick=pick,
        )
        stats = self.crawler.stats
        stats.set_value("dvcrawl/wayback/base", self.archive_base)
        stats.set_value("dvcrawl/wayback/cdx_queries", len(queries))
        stats.set_value("dvcrawl/wayback/cdx_failed", 0)
        self._cdx_pending = len(queries)
        for query in queries:
            yield self._cdx_request(query)

    def _cdx_request(self, query: CdxQuery, resume_key: str | None = None) -> scrapy.Request:
        meta = request_meta("index")
        meta["dvcrawl_cdx"] = query
        return scrapy.Request(
            query.request_url(self.archive_base, resume_key),
            callback=self.parse_cdx,
            errback=self.on_cdx_error,
            meta=meta,
            priority=_INDEX_PRIORITY,
        )

    def parse_cdx(self, response: Response) -> Iterator[Any]:
        """One page of the index: note each capture, then ask for the next page or read."""
        query: CdxQuery = response.meta["dvcrawl_cdx"]
        stats = self.crawler.stats
        try:
            captures, resume_key = parse_cdx(response.body)
        except CdxError as exc:
            yield from self._cdx_failed(f"{exc} ({response.url})")
            return
        stats.inc_value("dvcrawl/wayback/cdx_pages")
        stats.inc_value("dvcrawl/wayback/cdx_rows", len(captures))
        for capture in captures:
            try:
                canonical = canonicalize(capture.original)
            except InvalidURL:
                stats.inc_value("dvcrawl/wayback/unusable_rows")
                continue
            if not self._same_portal(capture.original):
                stats.inc_value("dvcrawl/wayback/other_hosts")
                continue
            self.archive_plan.add(capture, canonical)
        if resume_key:
            yield self._cdx_request(query, resume_key)
            return
        yield from self._cdx_query_done()

    def on_cdx_error(self, failure: Any) -> Iterator[Any]:
        """An index query that failed after retries: the run goes on and fails its health check."""
        from scrapy.exceptions import IgnoreRequest
        from scrapy.spidermiddlewares.httperror import HttpError

        if failure.check(HttpError):
            response = failure.value.response
            detail = response.body[:200].decode("utf-8", "replace").strip().splitlines()
            reason = f"HTTP {response.status}" + (f": {detail[0]}" if detail else "")
        elif failure.check(IgnoreRequest):
            reason = "forbidden by the archive's robots.txt"
        else:
            reason = failure.getErrorMessage()
        yield from self._cdx_failed(f"{reason} ({failure.request.url})")

    def _cdx_failed(self, reason: str) -> Iterator[Any]:
        stats = self.crawler.stats
        stats.inc_value("dvcrawl/wayback/cdx_failed")
        self._cdx_failures.append(reason)
        stats.set_value("dvcrawl/wayback/cdx_error", reason)
        # Pages the query would have listed are lost: the run's verdict says so (dvcrawl.outcome).
        stats.inc_value("dvcrawl/errors/archive_index")
        stats.set_value("dvcrawl/cause/error", f"the archive's index could not be read: {reason}")
        self.logger.error("the archive's index could not be read: %s", reason)
        yield from self._cdx_query_done()

    def _cdx_query_done(self) -> Iterator[Any]:
        self._cdx_pending -= 1
        if self._cdx_pending == 0:
            yield from self._read_plan()

    # --- captures ------------------------------------------------------------------------

    def _read_plan(self) -> Iterator[scrapy.Request]:
        """Request the chosen capture of every article page and listing the index lists."""
        plan = self.archive_plan
        stats = self.crawler.stats
        stats.set_value("dvcrawl/wayback/pages", len(plan))
        stats.set_value("dvcrawl/wayback/unusable_rows", plan.unusable)
        starts = {_canonical(url) for url in self.site.start_urls}
        for canonical, capture in plan:
            path = path_and_query(canonical)
            if self.site.is_article_url(path) or matches_any(self.learned_shapes, path):
                kind = "article"
            elif self.read_listings and (self.site.is_listing_url(path) or canonical in starts):
                kind = "listing"
            else:
                continue
            stats.inc_value(f"dvcrawl/wayback/selected/{kind}")
            yield from self._read_capture(canonical, capture, kind)

    def _read_capture(
        self, canonical: str, capture: Capture, kind: str
    ) -> Iterator[scrapy.Request]:
        """The capture's request, unless this run or an earlier one has read the page."""
        if canonical in self._requested:
            return
        skip = self.archive_progress.needs(
            canonical, capture.timestamp, capture.original, capture.digest
        )
        if skip is not None:
            self.crawler.stats.inc_value(f"dvcrawl/wayback/skipped/{skip}")
            return
        self._requested.add(canonical)
        ref = CaptureRef(
            site=self.site.id,
            timestamp=capture.timestamp,
            original_url=capture.original,
            canonical_url=canonical,
            digest=capture.digest or None,
            status=capture.statuscode,
        )
        url = capture_url(self.archive_base, capture.timestamp, capture.original)
        yield self._capture_request(url, ref, kind, redirect=capture.is_redirect)

    def _capture_request(
        self, url: str, ref: CaptureRef, kind: str, *, redirect: bool = False
    ) -> scrapy.Request:
        meta = request_meta("capture")
        meta["dvcrawl_capture"] = ref
        meta["dvcrawl_kind"] = kind
        if redirect:
            # Read where it leads before going there: the target may have its own capture.
            meta["dont_redirect"] = True
            meta["handle_httpstatus_list"] = sorted(int(status) for status in REDIRECT_STATUSES)
            callback = self.parse_capture_redirect
        else:
            callback = self.parse_capture_listing if kind == "listing" else self.parse_article
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            meta=meta,
            priority=_LISTING_PRIORITY if kind == "listing" else _ARTICLE_PRIORITY,
        )

    def parse_capture_listing(self, response: Response) -> Iterator[Any]:
        """A captured listing: read the captures of article links the URL shape missed."""
        if not isinstance(response, TextResponse) or self._challenged(response):
            return
        yield from self.capture_done(response.request, "listing")
        stats = self.crawler.stats
        found = self.article_links(response)
        stats.inc_value("dvcrawl/listing_pages")
        stats.inc_value("dvcrawl/article_links", len(found))
        for link in found:
            stats.inc_value(f"dvcrawl/article_links/{link.evidence}")
            canonical = _canonical(link.url)
            capture = self.archive_plan.get(canonical)
            if capture is None:
                if canonical not in self._requested:
                    stats.inc_value("dvcrawl/wayback/links_not_archived")
                continue
            yield from self._read_capture(canonical, capture, "article")

    def parse_capture_redirect(self, response: Response) -> Iterator[Any]:
        """A redirect capture: read the page it leads to, once, inside the archive and portal."""
        kind = response.meta.get("dvcrawl_kind", "article")
        if response.status not in {int(status) for status in REDIRECT_STATUSES}:
            # The archive served the page itself.
            parse = self.parse_capture_listing if kind == "listing" else self.parse_article
            yield from parse(response)
            return
        stats = self.crawler.stats
        stats.inc_value("dvcrawl/article_requests")
        stats.inc_value("dvcrawl/wayback/redirects")
        yield from self.capture_done(response.request, "redirect")
        location = response.headers.get("Location")
        archived = response.meta.get("dvcrawl_archived") or {}
        here = archived.get("archive_url") or response.request.url
        target = urljoin(here, location.decode("latin-1")) if location else ""
        parsed = parse_capture_url(target) if target.startswith(self.archive_base) else None
        if parsed is None:
            stats.inc_value("dvcrawl/wayback/redirects_out_of_archive")
            self.logger.info("redirect capture leads out of the archive: %s -> %s", here, target)
            return
        timestamp, original = parsed
        if not self._same_portal(original):
            stats.inc_value("dvcrawl/wayback/redirects_off_portal")
            self.logger.info("redirect capture leads off the portal: %s -> %s", here, original)
            return
        canonical = _canonical(original)
        own = self.archive_plan.get(canonical)
        if own is not None and own.is_page:
            yield from self._read_capture(canonical, own, kind)
            return
        if canonical in self._requested:
            return
        skip = self.archive_progress.needs(canonical, timestamp, original, "")
        if skip is not None:
            stats.inc_value(f"dvcrawl/wayback/skipped/{skip}")
            return
        self._requested.add(canonical)
        # The index does not list the target: the archive serves its capture nearest in time.
        ref = CaptureRef(self.site.id, timestamp, original, canonical)
        yield self._capture_request(target, ref, kind)

    # --- outcomes ------------------------------------------------------------------------

    def capture_ref(self, request: scrapy.Request | None) -> CaptureRef | None:
        """The index entry of the capture a request read, or None for a live request."""
        if request is None:
            return None
        ref = request.meta.get("dvcrawl_capture")
        return ref if isinstance(ref, CaptureRef) else None

    def capture_done(self, request: scrapy.Request | None, outcome: str) -> Iterator[CaptureDone]:
        """For a capture that gave no article: the item that records it as read."""
        ref = self.capture_ref(request)
        if ref is not None:
            yield CaptureDone(capture=ref, outcome=outcome)

    if TYPE_CHECKING:  # provided by PortalSpider

        def _same_portal(self, url: str) -> bool: ...
        def _challenged(self, response: TextResponse) -> bool: ...
        def article_links(self, response: TextResponse) -> list[Any]:
            """Provided by PortalSpider."""

        def parse_article(self, response: Response) -> Iterator[Any]:
            """Provided by PortalSpider."""

        def on_error(self, failure: Any) -> Iterator[Any]:
            """Provided by PortalSpider."""


def _canonical(url: str) -> str:
    try:
        return canonicalize(url)
    except InvalidURL:
        return url
