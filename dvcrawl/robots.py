"""robots.txt as RFC 9309 says, with the last good copy of each host kept in the database.

Scrapy's own middleware reads a robots.txt that answered 5xx, or could not be fetched at all,
as "allow everything". RFC 9309 (section 2.3.1) says the opposite:

* 2xx: obey the file;
* 4xx ("unavailable"): no rules, crawl everything;
* 5xx or a network failure ("unreachable"): complete disallow. A crawler may keep obeying a
  copy it read earlier (section 2.4); dvcrawl keeps the last answer of each host in the
  ``robots_copies`` table and uses it, with a warning. Without a copy, nothing on the host is
  fetched and the run fails with the reason (`dvcrawl.outcome`).

429 Too Many Requests is read as unreachable too: the server is saying it is overloaded, not
that it has no rules (Google's crawler does the same).

A robots.txt that forbids every start page of the site is logged and fails the run: it is
either a mistake on the portal's side or a decision the user must hear about, never a quiet
run with nothing in it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dvcrawl.db import describe_db_error, make_engine, utcnow
from dvcrawl.db.models import RobotsCopy
from dvcrawl.outcome import describe_exception, describe_status

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser
    from sqlalchemy import Engine

logger = logging.getLogger(__name__)


class RobotsForbidden(IgnoreRequest):
    """robots.txt forbids the page to our user agent."""


class RobotsUnreachable(IgnoreRequest):
    """robots.txt of the host could not be read and no earlier copy is stored."""


class _DisallowAll:
    """The rules of a host whose robots.txt is unreachable: nothing may be fetched."""

    def __init__(self, cause: str):
        self.cause = cause

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


class RobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with RFC 9309's error handling and a cached copy.

    Stats: ``dvcrawl/robots/cached_copy`` (hosts obeyed from the stored copy),
    ``dvcrawl/robots/unreachable`` (hosts with neither), ``dvcrawl/robots/blocked`` (pages not
    fetched because of it), ``dvcrawl/robots/forbidden`` (pages robots.txt forbids),
    ``dvcrawl/cause/robots``.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.db_url: str | None = crawler.settings.get("DVCRAWL_DB_URL")
        self._engine: Engine | None = None
        self._schemes: dict[str, str] = {}  # netloc -> scheme of the first request there

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsMiddleware:
        """Build the middleware and release its database when the spider closes."""
        from scrapy import signals

        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_closed(self) -> None:
        """Release the database."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # --- rules ----------------------------------------------------------------------------

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        """Let the request through, or raise `RobotsForbidden` / `RobotsUnreachable`."""
        if rp is None:
            return
        if isinstance(rp, _DisallowAll):
            self._stats.inc_value("dvcrawl/robots/blocked")
            raise RobotsUnreachable(rp.cause)
        useragent = self._robotstxt_useragent or request.headers.get(
            b"User-Agent", self._default_useragent
        )
        if not rp.allowed(request.url, useragent):
            self._stats.inc_value("robotstxt/forbidden")
            self._stats.inc_value("dvcrawl/robots/forbidden")
            if request.meta.get("dvcrawl_start"):
                self._stats.inc_value("dvcrawl/robots/forbidden_start")
            raise RobotsForbidden("Forbidden by robots.txt")

    async def robot_parser(self, request: Request) -> RobotParser | None:
        """The rules for the request's host (fetched once per host)."""
        url = urlparse_cached(request)
        self._schemes.setdefault(url.netloc, url.scheme)
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        origin = f"{self._schemes.get(netloc, 'https')}://{netloc}"
        if response.status >= 500 or response.status == 429:
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            self._unreachable(origin, netloc, describe_status(response.status))
            return
        if 200 <= response.status < 300:
            body = response.body
        else:
            # 4xx, or a redirect chain that did not end (RFC 9309 2.3.1.2): no rules.
            body = b""
            response = response.replace(body=body)
        self._save_copy(origin, response.status, body)
        await super()._parse_robots(response, netloc, request)
        parser = self._parsers.get(netloc)
        if parser is not None and not isinstance(parser, _DisallowAll):
            self._warn_if_everything_forbidden(parser, origin)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):
            # The robots.txt request itself was filtered (say, redirected off the site): no
            # answer to obey, as Scrapy does.
            super()._robots_error(exc, netloc)
            return
        from scrapy import Request

        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        origin = f"{self._schemes.get(netloc, 'https')}://{netloc}"
        self._unreachable(origin, netloc, describe_exception(exc, Request(f"{origin}/robots.txt")))

    def _unreachable(self, origin: str, netloc: str, what: str) -> None:
        """robots.txt failed: obey the stored copy, or disallow the whole host."""
        copy = self._load_copy(origin)
        deferred = self._parsers[netloc]
        if copy is not None:
            status, body, fetched_at = copy
            parser: Any = build_from_crawler(self._parserimpl, self.crawler, body.encode("utf-8"))
            logger.warning(
                "robots.txt of %s could not be read (%s); obeying the copy of %s",
                netloc,
                what,
                fetched_at.strftime("%Y-%m-%d"),
            )
            self._stats.inc_value("dvcrawl/robots/cached_copy")
        else:
            cause = (
                f"robots.txt of {netloc} could not be read ({what}) and no earlier copy is stored"
            )
            parser = _DisallowAll(cause)
            logger.error("%s: nothing will be fetched from %s (RFC 9309)", cause, netloc)
            self._stats.inc_value("dvcrawl/robots/unreachable")
            self._stats.set_value("dvcrawl/cause/robots", cause)
        self._parsers[netloc] = parser
        if hasattr(deferred, "callback"):
            deferred.callback(parser)

    def _warn_if_everything_forbidden(self, parser: Any, origin: str) -> None:
        useragent = self._robotstxt_useragent or self._default_useragent
        spider = self.crawler.spider
        starts = [
            url
            for url in getattr(getattr(spider, "site", None), "start_urls", ()) or ()
            if _origin(url) == origin
        ] or [f"{origin}/"]
        if not any(parser.allowed(url, useragent) for url in starts):
            logger.warning(
                "robots.txt of %s forbids %s to our user agent",
                origin,
                "every start page" if len(starts) > 1 else starts[0],
            )

    # --- the stored copies ----------------------------------------------------------------

    def _engine_or_none(self) -> Engine | None:
        if self._engine is None and self.db_url:
            self._engine = make_engine(self.db_url, writer=True)
        return self._engine

    def _save_copy(self, origin: str, status: int, body: bytes) -> None:
        try:
            engine = self._engine_or_none()
            if engine is None:
                return
            with Session(engine) as session, session.begin():
                row = session.get(RobotsCopy, origin) or RobotsCopy(origin=origin)
                row.status = status
                row.body = body.decode("utf-8", "replace")
                row.fetched_at = utcnow()
                session.add(row)
        except SQLAlchemyError as exc:
            # The crawl goes on; only the fallback for a later failure is missing.
            logger.warning(
                "cannot keep a copy of %s/robots.txt: %s", origin, describe_db_error(exc)
            )

    def _load_copy(self, origin: str) -> tuple[int, str, Any] | None:
        try:
            engine = self._engine_or_none()
            if engine is None:
                return None
            with Session(engine) as session:
                row = session.get(RobotsCopy, origin)
                return (row.status, row.body, row.fetched_at) if row is not None else None
        except SQLAlchemyError as exc:
            logger.warning(
                "cannot read the copy of %s/robots.txt: %s", origin, describe_db_error(exc)
            )
            return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
