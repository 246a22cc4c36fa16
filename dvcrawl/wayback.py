"""Web archives as a source: the Wayback Machine's CDX index and its raw captures.

A portal that went offline (the district portals after 1-7-2025) survives in web archives. An
archive run (``dvcrawl crawl SITE --source wayback``) reads it through two public interfaces of
the Wayback Machine, both under one base URL (``DVCRAWL_WAYBACK_URL``):

* the CDX index, ``<base>/cdx/search/cdx``: which captures of the site's hosts exist (per
  domain a prefix query for 200 HTML pages, identical consecutive captures collapsed by
  digest, and one for redirects, collapsed by URL key; ``output=json``, paged with a resume
  key; `site_queries`), parsed by `parse_cdx`;
* raw captures, ``<base>/web/<timestamp>id_/<original URL>``: the page as the archive received
  it, without the replay toolbar and without rewritten links (`capture_url`).

This module holds what is pure (queries, parsing, the choice of one capture per page in
`CapturePlan`) and the two downloader middlewares that make captures a download concern:

* `ArchiveResponseMiddleware` gives a capture's response its original URL back (after the
  archive's redirects were followed), so the spider, the extractors and the identity rules see
  the portal's page, and keeps the capture's address and time for the record's provenance;
* `ArchivePolitenessMiddleware` honours 429 Too Many Requests and Retry-After: it pauses the
  archive's download slot for the time asked, then retries.

`WaybackAddon` gives the archive's host its own download slot: one request at a time (its
robots.txt included), a fixed delay (``DVCRAWL_WAYBACK_DELAY``, 1 s), no random jitter and no
AutoThrottle, as the archive asks. Sites read from the archive in one process are read one
after another, and each crawl waits out the delay after the previous one's last request
(`wait_for_archive`).

Why not cdx-toolkit: it is synchronous (``requests`` and ``time.sleep`` would block Scrapy's
reactor), keeps its rate limits in module-level state, and its fetches would bypass the
engine's robots.txt, retries, download slot and WARC recording. The CDX queries here are
Scrapy requests like any other, and the JSON is parsed below.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import Settings

logger = logging.getLogger(__name__)

#: The Wayback Machine; ``DVCRAWL_WAYBACK_URL`` points elsewhere (a mirror, a test server).
DEFAULT_WAYBACK_URL = "https://web.archive.org"
#: The index fields asked for; the JSON's first row names them, and is what is read.
CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
#: Statuses worth reading: pages, and redirects that lead to one.
PAGE_STATUSES = frozenset({"200"})
REDIRECT_STATUSES = frozenset({"301", "302", "303", "307", "308"})
#: The index lists every capture of a host: images, scripts and style sheets are the bulk.
#: Redirect captures often carry no type ("unk").
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "unk"})
#: Server-side filters (Java regexes, whole-field match, all must hold); `CapturePlan`
#: applies the same rules again, for mirrors whose CDX servers ignore or spell filters otherwise.
HTML_FILTER = "mimetype:text/html|application/xhtml\\+xml|unk"
PAGE_FILTERS = ("statuscode:200", HTML_FILTER)
REDIRECT_FILTERS = ("statuscode:30[12378]", HTML_FILTER)
#: Rows per index request; the archive pages longer answers with a resume key.
CDX_PAGE_ROWS = 5000
#: Which capture of a page is read: the latest one (the page's last state, corrections
#: included) or the earliest (as first published).
PICKS = ("latest", "earliest")

# The scheme and host of the archive, any path prefix (a mirror's), then /web/<timestamp>id_/.
_CAPTURE_URL = re.compile(
    r"^https?://[^/?#]+(?:/[^?#]*?)?/web/(?P<timestamp>\d{1,14})id_/(?P<original>https?:/{1,2}.+)$",
    re.I,
)
_TIMESTAMP_BOUND = re.compile(r"\d{4}(?:\d{2}){0,5}")


class CdxError(ValueError):
    """An index answer that is not the CDX JSON format."""


@dataclass(frozen=True)
class Capture:
    """One row of the CDX index: a capture of one URL at one time."""

    timestamp: str
    original: str
    mimetype: str = "text/html"
    statuscode: str = "200"
    digest: str = ""
    urlkey: str = ""

    @property
    def is_page(self) -> bool:
        """A 200 HTML capture: the page itself."""
        return self.statuscode in PAGE_STATUSES and self.mimetype.lower() in HTML_TYPES

    @property
    def is_redirect(self) -> bool:
        """A 3xx capture: the page had moved when the archive came."""
        return self.statuscode in REDIRECT_STATUSES and self.mimetype.lower() in HTML_TYPES

    @property
    def is_revisit(self) -> bool:
        """A revisit record: "same payload as an earlier capture" (status ``-``)."""
        return self.mimetype.lower() == "warc/revisit" or self.statuscode == "-"


# --- addresses -------------------------------------------------------------------------------


def wayback_base(value: str | None) -> str:
    """The archive's base URL without a trailing slash.

    Raises:
        ValueError: if `value` is not an absolute http(s) URL.

    """
    base = (value or DEFAULT_WAYBACK_URL).strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query:
        raise ValueError(f"DVCRAWL_WAYBACK_URL must be an http(s) URL, not {value!r}")
    return base


def cdx_endpoint(base: str) -> str:
    """The CDX API of the archive at `base`."""
    return f"{base}/cdx/search/cdx"


def capture_url(base: str, timestamp: str, original: str) -> str:
    """The raw capture (``id_``: no toolbar, links as the portal wrote them)."""
    return f"{base}/web/{timestamp}id_/{original}"


def parse_capture_url(url: str) -> tuple[str, str] | None:
    """``(timestamp, original URL)`` of a raw capture's address, or None for other URLs."""
    match = _CAPTURE_URL.match(url)
    if match is None:
        return None
    original = match.group("original")
    # A path normalizer may have folded "https://" into "https:/".
    original = re.sub(r"^(https?):/(?!/)", r"\1://", original, flags=re.I)
    return match.group("timestamp"), original


@dataclass(frozen=True)
class ArchivedPage:
    """What a raw capture's address says: the page's original URL and the capture time."""

    original_url: str
    archived_at: datetime


def archived_page(url: str) -> ArchivedPage | None:
    """The original URL and capture time of a raw capture's address, or None for other URLs."""
    parsed = parse_capture_url(url)
    if parsed is None:
        return None
    try:
        return ArchivedPage(parsed[1], parse_timestamp(parsed[0]))
    except ValueError:
        return None


def parse_timestamp(timestamp: str) -> datetime:
    """A CDX timestamp (4 to 14 digits, ``yyyyMMddhhmmss``, UTC) as a datetime.

    Raises:
        ValueError: if it is not one.

    """
    if not (4 <= len(timestamp) <= 14 and timestamp.isdigit()):
        raise ValueError(f"not a capture timestamp: {timestamp!r}")
    # A shorter timestamp is the start of its period: "2024" is 2024-01-01 00:00:00.
    digits = timestamp + "0101000000"[len(timestamp) - 4 :]
    return datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def check_timestamp_bound(value: str) -> str:
    """A ``--from``/``--to`` bound: ``YYYY``, ``YYYYMM``, ``YYYYMMDD`` (up to seconds).

    Raises:
        ValueError: if it is not such a date.

    """
    value = value.strip()
    if not _TIMESTAMP_BOUND.fullmatch(value):
        raise ValueError(f"not a date (YYYY, YYYYMM or YYYYMMDD): {value!r}")
    try:
        parse_timestamp(value)
    except ValueError:
        raise ValueError(f"not a date (YYYY, YYYYMM or YYYYMMDD): {value!r}") from None
    return value


# --- the index -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CdxQuery:
    """One index query: the captures under a host (or a domain and its subdomains)."""

    url: str
    match_type: str = "prefix"  # "prefix": the host's paths; "domain": subdomains too
    filters: tuple[str, ...] = PAGE_FILTERS
    collapse: str = "digest"
    since: str | None = None
    until: str | None = None
    limit: int = CDX_PAGE_ROWS

    def params(self, resume_key: str | None = None) -> list[tuple[str, str]]:
        """The query string's parameters, in a stable order."""
        params = [("url", self.url), ("matchType", self.match_type), ("output", "json")]
        params.append(("fl", ",".join(CDX_FIELDS)))
        params += [("filter", rule) for rule in self.filters]
        params.append(("collapse", self.collapse))
        if self.since:
            params.append(("from", self.since))
        if self.until:
            params.append(("to", self.until))
        params += [("limit", str(self.limit)), ("showResumeKey", "true")]
        if resume_key:
            params.append(("resumeKey", resume_key))
        return params

    def request_url(self, base: str, resume_key: str | None = None) -> str:
        """The index URL of this query (of the page after `resume_key`)."""
        return f"{cdx_endpoint(base)}?{urlencode(self.params(resume_key))}"


def site_queries(
    domains: Iterable[str],
    *,
    subdomains: bool,
    since: str | None = None,
    until: str | None = None,
    pick: str = "latest",
) -> list[CdxQuery]:
    """The index queries that list a site's captures: pages and redirects of each domain.

    The archive's URL keys drop the scheme and ``www.``, so ``host/`` with a prefix match covers
    ``http``, ``https`` and ``www.`` at once.

    Pages (200): identical consecutive captures are collapsed by digest; the earliest of a run
    is kept, and its payload is the run's payload. (``pick="earliest"``: collapsing by URL key
    keeps each URL's first capture.) Collapsing compares adjacent rows whatever their URL, so a
    page whose payload equals the previous URL's last capture loses its row; such a page is a
    byte-identical copy, which deduplication would only have marked as one.

    Redirects (3xx) get a query of their own, collapsed by URL key: redirect captures mostly
    have the same (empty) payload, so collapsing them by digest would keep one redirect of a
    whole run of URLs and lose the pages the others lead to.
    """
    queries = []
    for domain in domains:
        url = domain if subdomains else f"{domain}/"
        match_type = "domain" if subdomains else "prefix"
        page_collapse = "urlkey" if pick == "earliest" else "digest"
        for filters, collapse in ((PAGE_FILTERS, page_collapse), (REDIRECT_FILTERS, "urlkey")):
            queries.append(CdxQuery(url, match_type, filters, collapse, since=since, until=until))
    return queries


def parse_cdx(body: bytes | str) -> tuple[list[Capture], str | None]:
    """The captures of one index answer (``output=json``) and its resume key, if any.

    The answer is a JSON list of rows: the field names first, then one row per capture, then
    (when more rows remain) an empty row and a row holding the resume key. An empty answer
    (no capture) is ``[]`` or nothing at all.

    Raises:
        CdxError: if the answer is not in that format.

    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text.strip():
        return [], None
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CdxError(f"not a CDX JSON answer: {text[:80]!r}") from exc
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise CdxError(f"not a CDX JSON answer: {text[:80]!r}")
    if not rows:
        return [], None
    header = [str(name) for name in rows[0]]
    missing = {"timestamp", "original"} - set(header)
    if missing:
        raise CdxError(f"the CDX answer has no {', '.join(sorted(missing))} field: {header}")
    resume_key = None
    body_rows = rows[1:]
    if len(body_rows) >= 2 and body_rows[-2] == [] and len(body_rows[-1]) == 1:
        resume_key = str(body_rows[-1][0])
        body_rows = body_rows[:-2]
    captures = []
    for row in body_rows:
        if len(row) != len(header):
            if row:
                raise CdxError(f"a CDX row with {len(row)} fields for {len(header)} names")
            continue
        values = dict(zip(header, (str(value) for value in row), strict=True))
        captures.append(
            Capture(
                timestamp=values["timestamp"],
                original=values["original"],
                mimetype=values.get("mimetype", "text/html"),
                statuscode=values.get("statuscode", "200"),
                digest=values.get("digest", ""),
                urlkey=values.get("urlkey", ""),
            )
        )
    return captures, resume_key


@dataclass
class CapturePlan:
    """One capture per page (canonical URL): which one an archive run reads.

    A page captured fifty times is read once. Captures of the same page under several
    spellings (``http``/``https``, ``www.``, Liferay's ``?redirect=`` link forms) share its
    canonical URL and compete for it. A 200 capture beats a redirect capture; among equals the
    latest wins (``pick="earliest"``: the earliest). Revisit records, error captures and
    non-HTML captures are never chosen, whatever the index returned.
    """

    pick: str = "latest"
    pages: dict[str, Capture] = field(default_factory=dict)
    rows: int = 0
    unusable: int = 0

    def add(self, capture: Capture, canonical: str) -> bool:
        """Consider one index row; True if it is now the page's chosen capture."""
        self.rows += 1
        if capture.is_revisit or not (capture.is_page or capture.is_redirect):
            self.unusable += 1
            return False
        try:
            parse_timestamp(capture.timestamp)
        except ValueError:
            self.unusable += 1  # no capture address can be made of it
            return False
        current = self.pages.get(canonical)
        if current is None or self._better(capture, current):
            self.pages[canonical] = capture
            return True
        return False

    def _better(self, capture: Capture, current: Capture) -> bool:
        if capture.is_page != current.is_page:
            return capture.is_page
        if self.pick == "earliest":
            return capture.timestamp < current.timestamp
        return capture.timestamp > current.timestamp

    def get(self, canonical: str) -> Capture | None:
        """The chosen capture of a page, if the archive has one."""
        return self.pages.get(canonical)

    def __iter__(self) -> Iterator[tuple[str, Capture]]:
        return iter(sorted(self.pages.items()))

    def __len__(self) -> int:
        return len(self.pages)


# --- downloader middlewares and the add-on ------------------------------------------------------


def is_archive_request(request: Request) -> bool:
    """Whether a request goes to the web archive (index query or capture)."""
    return bool(request.meta.get("dvcrawl_archive"))


class ArchiveResponseMiddleware:
    """Downloader middleware: a capture's response, under the page's original URL.

    Runs after the archive's redirects were followed (its priority is below the redirect
    middleware's), so the final address says which capture was served: its timestamp is the
    capture time. The response keeps its body and gets the original URL back; the capture's
    address and time go to ``request.meta["dvcrawl_archived"]`` for the record's provenance.
    The WARC recorder, nearer to the network, has already stored the response under the
    address it was fetched from.
    """

    def process_response(self, request: Request, response: Response) -> Response:
        """Rename a capture's response to the original URL."""
        if request.meta.get("dvcrawl_archive") != "capture":
            return response
        page = archived_page(response.url)
        if page is None:
            return response
        request.meta["dvcrawl_archived"] = {
            "archive_url": response.url,
            "archived_at": page.archived_at,
        }
        return response.replace(url=page.original_url, flags=[*response.flags, "wayback"])


#: When this process last heard from each archive host (monotonic clock): a crawl that starts
#: after another one waits out the delay from there.
_LAST_ANSWER: dict[str, float] = {}


def archive_host(base: str | None) -> str | None:
    """The host of the archive at `base` (its download slot), or None for a bad URL."""
    try:
        return urlsplit(wayback_base(base)).hostname
    except ValueError:
        return None


def wait_for_archive(base: str | None, delay: float) -> float:
    """Seconds a new crawl must wait before its first request to the archive at `base`."""
    host = archive_host(base)
    last = _LAST_ANSWER.get(host) if host else None
    if last is None:
        return 0.0
    return max(0.0, last + delay - monotonic())


class ArchivePolitenessMiddleware:
    """Downloader middleware: 429 and Retry-After from the archive pause the archive's slot.

    The Wayback Machine answers 429 when asked too fast and blocks addresses that keep asking.
    A 429 (or a 503 with Retry-After) pauses every request to the archive for the time asked,
    or, without Retry-After, for ``DVCRAWL_WAYBACK_BACKOFF`` seconds doubled at each repeat
    (at most ``DVCRAWL_WAYBACK_MAX_WAIT``), then the request is retried, up to
    ``DVCRAWL_WAYBACK_MAX_RETRIES`` times. Scrapy's own retry would ask again at once.

    The pause is set when the response arrives (the ``response_downloaded`` signal), before
    the downloader hands the slot its next request: a request queued behind the refused one
    would otherwise leave at once whenever the archive took longer to answer than the delay.
    The middleware also notes when the archive last answered (`wait_for_archive`).
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.host = archive_host(settings.get("DVCRAWL_WAYBACK_URL"))
        self.backoff = settings.getfloat("DVCRAWL_WAYBACK_BACKOFF", 60.0)
        self.max_wait = settings.getfloat("DVCRAWL_WAYBACK_MAX_WAIT", 3600.0)
        self.max_retries = settings.getint("DVCRAWL_WAYBACK_MAX_RETRIES", 10)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePolitenessMiddleware:
        """Build the middleware and listen for responses as they arrive."""
        from scrapy import signals

        middleware = cls(crawler)
        crawler.signals.connect(middleware.response_downloaded, signal=signals.response_downloaded)
        return middleware

    def _from_archive(self, request: Request) -> bool:
        return bool(self.host) and urlsplit(request.url).hostname == self.host

    def process_request(self, request: Request) -> None:
        """Keep AutoThrottle off the archive's slot, robots.txt included (see `request_meta`)."""
        if self._from_archive(request):
            request.meta.setdefault("autothrottle_dont_adjust_delay", True)

    def response_downloaded(self, response: Response, request: Request, **_: Any) -> None:
        """A response from the archive: note the time; pause the slot if it asks to slow down."""
        if not self._from_archive(request):
            return
        assert self.host is not None
        _LAST_ANSWER[self.host] = monotonic()
        if response.status not in (429, 503):
            return
        wait = retry_after(response.headers.get("Retry-After"))
        if wait is None:
            if response.status == 503:
                return  # an outage, not a request to slow down: the usual retries
            wait = self.backoff * 2 ** int(request.meta.get("retry_times", 0))
        wait = min(wait, self.max_wait)
        self.pause(request, wait)
        request.meta["dvcrawl_archive_paused"] = wait
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("dvcrawl/wayback/throttled")
        stats.inc_value("dvcrawl/wayback/throttled_seconds", wait, start=0.0)
        logger.warning(
            "the archive answered %d: pausing requests to it for %.0f s", response.status, wait
        )

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """Retry an archive request that was answered 429 (or 503 with Retry-After)."""
        if request.meta.pop("dvcrawl_archive_paused", None) is None or not is_archive_request(
            request
        ):
            return response
        from scrapy.downloadermiddlewares.retry import get_retry_request

        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=f"archive {response.status}",
            max_retry_times=self.max_retries,
        )
        return retry or response

    def pause(self, request: Request, seconds: float) -> None:
        """Hold back the request's download slot for `seconds`.

        The downloader waits ``delay`` after a slot's last request before the next one; moving
        the last request's time forward holds every queued request back. The archive's slot
        always has a delay (`WaybackAddon`), without which the downloader would not look.
        """
        engine = self.crawler.engine
        if engine is None:
            return
        key = request.meta.get("download_slot") or urlsplit(request.url).hostname
        slot = engine.downloader.slots.get(key)
        if slot is not None:
            slot.lastseen = max(slot.lastseen, monotonic() + seconds)


def retry_after(value: bytes | str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class WaybackAddon:
    """Scrapy add-on: the archive host's download slot (one request at a time, a fixed delay).

    The slot is the archive's host name, the downloader's default key, so the robots.txt
    request shares it. ``DVCRAWL_WAYBACK_DELAY`` seconds between requests (the Wayback Machine
    asks for about one per second), no random jitter (it would go below the delay half the
    time). A replay contacts no archive and runs without delay, but the slot keeps a tiny one
    so that a pause (`ArchivePolitenessMiddleware.pause`) still holds.
    """

    def update_settings(self, settings: Settings) -> None:
        """Add the archive's slot to ``DOWNLOAD_SLOTS``."""
        host = archive_host(settings.get("DVCRAWL_WAYBACK_URL"))
        if host is None:
            return  # `dvcrawl crawl --source wayback` says what is wrong with the URL
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        slots.setdefault(host, {"concurrency": 1, "delay": archive_delay(settings), "jitter": 0.0})
        settings.set("DOWNLOAD_SLOTS", slots, priority=settings.getpriority("DOWNLOAD_SLOTS") or 0)


def archive_delay(settings: Settings) -> float:
    """Seconds between two requests to the archive (at least 10 ms, see `WaybackAddon`)."""
    if settings.getlist("DVCRAWL_REPLAY"):
        return 0.01
    return max(settings.getfloat("DVCRAWL_WAYBACK_DELAY"), 0.01)


def request_meta(kind: str) -> dict[str, Any]:
    """The meta of an archive request: its own politeness, no Referer.

    AutoThrottle would raise the archive's delay to the portals' ``DOWNLOAD_DELAY`` (2 s);
    the archive's own signals (429, Retry-After) govern instead. The Referer of a capture
    request would be a portal URL, which tells the archive nothing.
    """
    return {
        "dvcrawl_archive": kind,
        "autothrottle_dont_adjust_delay": True,
        "referrer_policy": "no-referrer",
    }
