"""How a crawl of one site ended, and why, in one line: the verdict cron mails.

dvcrawl runs unattended; its promise is exit status 1 whenever something went wrong. A run
therefore ends "failed" whenever data may be missing, with a one-line cause shown in the report,
logged, and stored with the run (``crawl_runs.cause``, shown by ``dvcrawl status``):

* the database could not be written (found before any page is fetched, or at an article);
* the portal could not be reached at all: not one answer that was not an error (DNS failure,
  refused or timed-out connections, a proxy that cannot reach the host, 5xx to everything);
* robots.txt could not be read and no earlier copy is stored, so pages were not fetched
  (RFC 9309), or robots.txt forbids every start page;
* pages were lost after retries: 5xx, 429, timeouts, cut-short answers, answers larger than
  ``DOWNLOAD_MAXSIZE``, redirect loops, redirects off the portal;
* responses could not be written to the WARC archive (a full disk).

A run that reached the end with none of these is "finished"; ``--max-pages`` and Scrapy's other
limits end it "stopped"; SIGTERM/Ctrl-C "interrupted". Failed health checks (`dvcrawl.health`)
are reported beside the verdict and fail the command too.

The counters the verdict reads are kept by `NetworkLedgerMiddleware` (every answer and network
failure, robots.txt included), the spider's ``on_error``, the robots.txt middleware
(`dvcrawl.robots`) and the store pipeline.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dvcrawl import health

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

#: Finish reasons of a run that walked everything it meant to.
CLEAN_REASONS = frozenset({"finished"})
#: Finish reasons of a run that ended on the user's request or limit, not by failure.
STOPPED_REASONS = frozenset(
    {"closespider_pagecount", "closespider_timeout", "closespider_itemcount"}
)
#: The finish reason of a run closed because its database could not be written.
DATABASE_ERROR = "database_error"
#: The finish reason of a worker whose shared frontier (Redis) could not be used.
FRONTIER_ERROR = "frontier_unreachable"


@dataclass(frozen=True)
class Verdict:
    """How a run ended: "finished", "stopped", "interrupted" or "failed", and why (one line)."""

    outcome: str
    cause: str | None = None


def judge(stats: dict[str, Any], reason: str) -> Verdict:
    """The verdict of a run from its Scrapy stats and finish reason (see the module docstring)."""

    def count(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    if reason == DATABASE_ERROR:
        return Verdict("failed", f"{stats.get('dvcrawl/cause/database')}: nothing fetched")
    if reason == FRONTIER_ERROR:
        return Verdict("failed", str(stats.get("dvcrawl/cause/frontier") or "Redis failed"))
    if reason == "shutdown":
        return Verdict("interrupted", "stopped by a signal (SIGTERM or Ctrl-C) before the end")
    if count("dvcrawl/storage/failed"):
        lost = count("dvcrawl/storage/failed")
        return Verdict(
            "failed",
            f"{stats.get('dvcrawl/cause/storage')} ({lost} {_plural(lost, 'article')} not stored)",
        )
    network = str(stats.get("dvcrawl/cause/network") or "")
    blocked_by_status = count("dvcrawl/robots/blocked") and network[:3].isdigit()
    if count("dvcrawl/net/failed") and not count("dvcrawl/net/answered") and not blocked_by_status:
        # Nothing but network failures: the portal (or the network) is down. When robots.txt
        # answered with an error status, that is the clearer cause (below).
        return Verdict("failed", f"unreachable: {network}")
    if count("dvcrawl/robots/blocked"):
        blocked = count("dvcrawl/robots/blocked")
        return Verdict(
            "failed",
            f"{stats.get('dvcrawl/cause/robots')}: {blocked} {_plural(blocked, 'page')} "
            "not fetched (RFC 9309)",
        )
    starts = count("dvcrawl/start_pages")
    if starts and count("dvcrawl/robots/forbidden_start") >= starts:
        return Verdict(
            "failed", f"robots.txt forbids every start page ({starts}) to our user agent"
        )
    errors = health.error_count(stats)
    if errors:
        return Verdict(
            "failed",
            f"{errors} {_plural(errors, 'page')} lost; last: "
            f"{stats.get('dvcrawl/cause/error') or _spider_error(stats)}",
        )
    if count("dvcrawl/archive/failed"):
        missing = count("dvcrawl/archive/failed")
        return Verdict(
            "failed",
            f"the archive misses {missing} {_plural(missing, 'response')}: "
            f"{stats.get('dvcrawl/cause/archive')}",
        )
    if reason in CLEAN_REASONS:
        return Verdict("finished")
    if reason in STOPPED_REASONS:
        return Verdict("stopped")
    return Verdict("failed", f"stopped: {reason}")


def _spider_error(stats: dict[str, Any]) -> str:
    """The errors by kind, when none left its description (a callback that raised: a bug)."""
    kinds = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("dvcrawl/errors/")}
    parts = [f"{kind} ({int(v)})" for kind, v in sorted(kinds.items())]
    names = {
        k.split("/", 1)[1]
        for k in stats
        if k.startswith("spider_exceptions/") and k.count("/") == 1
    }
    if names:
        parts.append(f"{', '.join(sorted(names))} raised in the spider (a bug: see the log)")
    return ", ".join(parts)


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


# --- one-line descriptions of failures ------------------------------------------------------


def describe_status(status: int) -> str:
    """``503 Service Unavailable``."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def describe_response(response: Response) -> str:
    """``503 Service Unavailable from https://host/path``."""
    return f"{describe_status(response.status)} from {response.url}"


def describe_exception(exception: BaseException, request: Request) -> str:
    """A download failure in one line, naming the host (and the proxy, when one was used).

    Scrapy wraps Twisted's errors in its own classes (``scrapy.exceptions``); both are known
    here, so the description does not depend on the download handler.
    """
    from scrapy.core.downloader.handlers.http11 import TunnelError
    from scrapy.exceptions import (
        CannotResolveHostError,
        DownloadCancelledError,
        DownloadConnectionRefusedError,
        DownloadFailedError,
        DownloadTimeoutError,
        ResponseDataLossError,
    )
    from twisted.internet import error as tx

    host = urlsplit(request.url).hostname or request.url
    proxy = _proxy(request)
    name = type(exception).__name__
    if isinstance(exception, CannotResolveHostError | tx.DNSLookupError):
        return f"DNS lookup failed for {host}"
    if isinstance(exception, TunnelError):
        match = re.search(r"'status': (\d+), 'reason': b?'([^']*)'", str(exception))
        answer = f"{match.group(1)} {match.group(2)}" if match else "no tunnel"
        return f"the proxy {proxy} could not connect to {host} ({answer})"
    if isinstance(exception, DownloadConnectionRefusedError | tx.ConnectionRefusedError):
        if proxy:
            return f"connection refused by the proxy {proxy} (for {host})"
        return f"connection refused by {host}"
    if isinstance(exception, DownloadTimeoutError | tx.TimeoutError):
        timeout = request.meta.get("download_timeout")
        within = f" within {timeout:g} s" if isinstance(timeout, int | float) else ""
        return f"no complete answer from {host}{within}"
    if isinstance(exception, ResponseDataLossError):
        return f"the answer from {host} was cut short (fewer bytes than its Content-Length)"
    if isinstance(exception, DownloadCancelledError):
        if "maxsize" in str(exception).lower() or "max size" in str(exception).lower():
            return f"the answer from {host} is larger than DOWNLOAD_MAXSIZE"
        return f"the download from {host} was cancelled"
    text = str(exception)
    if isinstance(exception, DownloadFailedError) or "Failure" in text:
        # "[<twisted.python.failure.Failure OpenSSL.SSL.Error: [...]>]": keep the inner class.
        inner = re.findall(r"Failure ([\w.]+)", text)
        kind = inner[-1].rsplit(".", 1)[-1] if inner else name
        if "SSL" in text or "TLS" in text:
            return f"TLS handshake with {host} failed ({kind})"
        if kind in {"ConnectionLost", "ConnectionDone", "_DataLoss"}:
            return f"the connection to {host} was closed before a complete answer"
        return f"the download from {host} failed ({kind})"
    if isinstance(exception, tx.ConnectionLost | tx.ConnectionDone):
        return f"the connection to {host} was closed before a complete answer"
    if isinstance(exception, tx.ConnectError):
        return f"cannot connect to {proxy or host} ({name})"
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{name} for {host}: {first}" if first else f"{name} for {host}"


def _proxy(request: Request) -> str | None:
    proxy = request.meta.get("proxy")
    if not proxy:
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname


class NetworkLedgerMiddleware:
    """Downloader middleware: count the portal's answers and remember its last network failure.

    Sits closest to the network, so it sees every attempt (retries and robots.txt included)
    before any other middleware acts on it. A site none of whose requests got an answer other
    than an error (5xx, 429) or a replay miss is unreachable (`judge`).

    Stats: ``dvcrawl/net/answered``, ``dvcrawl/net/failed``, ``dvcrawl/cause/network``.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NetworkLedgerMiddleware:
        """Build the middleware (Scrapy component protocol) and watch dropped requests."""
        from scrapy import signals

        middleware = cls(crawler)
        crawler.signals.connect(middleware.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(middleware.request_scheduled, signal=signals.request_scheduled)
        return middleware

    def request_scheduled(self, request: Request) -> None:
        """A redirect off the portal is a page lost (the portal moved it, or gave it away).

        Scrapy's offsite filter drops such a request when it is scheduled, with no errback and
        no signal; this handler sees it first.
        """
        chain = request.meta.get("redirect_urls")
        spider = getattr(self.crawler, "spider", None)
        domains = getattr(spider, "allowed_domains", None)
        if not chain or not domains or request.dont_filter:
            return
        # By host name, as the offsite filter compares: a port (an archive on 127.0.0.1:8080,
        # issue 13) is no other site.
        host = (urlsplit(request.url).hostname or "").lower()
        if not any(host == d.lower() or host.endswith("." + d.lower()) for d in domains):
            cause = f"{chain[0]} redirects off the portal to {request.url}"
            self.stats.inc_value("dvcrawl/errors/redirect_offsite")
            self.stats.set_value("dvcrawl/cause/error", cause)
            logger.warning("%s", cause)

    def request_dropped(self, request: Request) -> None:
        """A redirect back to a page of its own chain is a loop: the page is lost.

        The duplicate filter drops the request that closes the loop before the redirect limit
        is reached, silently; this is the only place that sees it.
        """
        from dvcrawl.urls import InvalidURL, canonicalize

        chain = request.meta.get("redirect_urls") or []
        if not chain:
            return
        try:
            seen = {canonicalize(url) for url in chain}
            looped = canonicalize(request.url) in seen
        except InvalidURL:
            looped = request.url in chain
        if looped:
            self.stats.inc_value("dvcrawl/errors/redirect_loop")
            self.stats.set_value(
                "dvcrawl/cause/error", f"a redirect loop: {chain[0]} leads back to {request.url}"
            )
            logger.warning("a redirect loop: %s leads back to %s", chain[0], request.url)
        else:
            self.stats.inc_value("dvcrawl/skipped/redirect_to_known")

    def process_response(self, request: Request, response: Response) -> Response:
        """Count an answer, or remember an error answer as the last failure."""
        if response.status >= 500 or response.status == 429:
            self.stats.inc_value("dvcrawl/net/failed")
            self.stats.set_value("dvcrawl/cause/network", describe_response(response))
        elif "replay-missing" in response.flags:
            self.stats.inc_value("dvcrawl/net/failed")
            self.stats.set_value(
                "dvcrawl/cause/network", f"{response.url} is not in the replayed archives"
            )
        else:
            self.stats.inc_value("dvcrawl/net/answered")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Remember a network failure (and let the retry middleware handle it)."""
        from scrapy.exceptions import IgnoreRequest

        if isinstance(exception, IgnoreRequest):
            return
        self.stats.inc_value("dvcrawl/net/failed")
        self.stats.set_value("dvcrawl/cause/network", describe_exception(exception, request))
