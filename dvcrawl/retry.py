"""Retries that listen to the server and never hold a page for minutes.

`PoliteRetryMiddleware` replaces Scrapy's RetryMiddleware (same ``RETRY_*`` settings) and adds:

* **Retry-After** on 429 and 503 (seconds or an HTTP date) is honoured: nothing more is sent
  to the portal (its whole download slot) until then. A wait longer than
  ``DVCRAWL_RETRY_AFTER_MAX`` (120 s) is not waited for: the page counts as lost and the
  run fails with the reason, instead of a crawl that stalls for an hour.
* **Backoff on 429** without Retry-After: the portal's slot pauses 10, 20, 40 s
  (``DVCRAWL_BACKOFF_429``) before each retry.
* **A time budget per page** (``DVCRAWL_PAGE_TIME_BUDGET``, 75 s): a failed attempt is
  retried only if another full ``DOWNLOAD_TIMEOUT`` still fits in the budget, so a server that
  drips its answer a byte at a time costs one page at most two timeouts, not four.
"""

from __future__ import annotations

import logging
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future

from dvcrawl.db import utcnow
from dvcrawl.outcome import describe_status

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

#: Longest Retry-After that is waited for, in seconds.
RETRY_AFTER_MAX = 120.0
#: First pause after a 429 without Retry-After, doubled at each retry.
BACKOFF_429 = 10.0
#: Seconds one page may take over all its attempts.
PAGE_TIME_BUDGET = 75.0


def retry_after(value: bytes | str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date), or None.

    >>> retry_after(b"120")
    120.0
    >>> retry_after("soon") is None
    True
    """
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, (when - utcnow()).total_seconds())


class PoliteRetryMiddleware(RetryMiddleware):
    """Scrapy's retries plus Retry-After, 429 backoff and a time budget (module docstring).

    Stats: ``dvcrawl/retry_after/waited`` (pauses honoured), ``dvcrawl/retry_after/refused``
    (waits longer than the maximum), ``dvcrawl/retry/out_of_time`` (retries skipped because the
    page's time budget was spent).
    """

    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.max_wait = settings.getfloat("DVCRAWL_RETRY_AFTER_MAX", RETRY_AFTER_MAX)
        self.backoff = settings.getfloat("DVCRAWL_BACKOFF_429", BACKOFF_429)
        self.budget = settings.getfloat("DVCRAWL_PAGE_TIME_BUDGET", PAGE_TIME_BUDGET)
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT", 180)
        self._paused: dict[str, float] = {}  # download slot -> monotonic time it may resume

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PoliteRetryMiddleware:
        """Build the middleware (Scrapy component protocol)."""
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    async def process_request(self, request: Request) -> None:
        """Hold the request while its portal is paused by a Retry-After or a 429 backoff."""
        request.meta.setdefault("dvcrawl_first_try", monotonic())
        wait = self._paused.get(self._slot(request), 0.0) - monotonic()
        if wait > 0:
            from twisted.internet import reactor
            from twisted.internet.task import deferLater

            await maybe_deferred_to_future(deferLater(reactor, wait))  # type: ignore[arg-type]

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """Retry a retryable status, after the pause the server asked for."""
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = None
        if response.status in (429, 503):
            wait = retry_after(response.headers.get(b"Retry-After"))
        if wait is None and response.status == 429:
            wait = self.backoff * 2 ** request.meta.get("retry_times", 0)
        stats = self.crawler.stats
        if wait is not None:
            if wait > self.max_wait:
                stats.inc_value("dvcrawl/retry_after/refused")
                request.meta["dvcrawl_refused_wait"] = wait
                logger.warning(
                    "%s answered %s and asked to wait %.0f s, more than DVCRAWL_RETRY_AFTER_MAX (%.0f s); giving up on it",
                    request.url,
                    describe_status(response.status),
                    wait,
                    self.max_wait,
                )
                return response
            slot = self._slot(request)
            self._paused[slot] = max(self._paused.get(slot, 0.0), monotonic() + wait)
            stats.inc_value("dvcrawl/retry_after/waited")
            logger.info("%s: pausing %s for %.1f s", describe_status(response.status), slot, wait)
        return self._retry(request, describe_status(response.status)) or response

    def process_exception(
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        """Retry a network failure if another attempt still fits in the page's time budget."""
        if isinstance(exception, self.exceptions_to_retry) and not request.meta.get("dont_retry"):
            spent = monotonic() - request.meta.get("dvcrawl_first_try", monotonic())
            timeout = request.meta.get("download_timeout", self.timeout)
            if spent + timeout > self.budget:
                self.crawler.stats.inc_value("dvcrawl/retry/out_of_time")
                logger.warning(
                    "%s: not retried, %.0f s spent and another attempt may take %.0f s (DVCRAWL_PAGE_TIME_BUDGET %.0f s)",
                    request.url,
                    spent,
                    timeout,
                    self.budget,
                )
                return None
        return super().process_exception(request, exception)

    def _slot(self, request: Request) -> str:
        downloader = getattr(getattr(self.crawler, "engine", None), "downloader", None)
        if downloader is None:
            return str(request.meta.get("download_slot", ""))
        return str(downloader.get_slot_key(request))
