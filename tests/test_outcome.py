"""The run's verdict and the one-line descriptions of failures (dvcrawl/outcome.py)."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.core.downloader.handlers.http11 import TunnelError
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)

from dvcrawl.outcome import Verdict, describe_exception, describe_status, judge
from dvcrawl.retry import retry_after

HEALTHY = {
    "downloader/request_count": 10,
    "dvcrawl/net/failed": 0,
    "dvcrawl/net/answered": 10,
    "dvcrawl/start_pages": 1,
}


def test_a_clean_run_is_finished_and_limits_are_stopped() -> None:
    assert judge(HEALTHY, "finished") == Verdict("finished")
    assert judge(HEALTHY, "closespider_pagecount") == Verdict("stopped")
    assert judge(HEALTHY, "shutdown").outcome == "interrupted"
    assert judge(HEALTHY, "memusage_exceeded") == Verdict("failed", "stopped: memusage_exceeded")


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        (
            {
                "dvcrawl/net/answered": 0,
                "dvcrawl/net/failed": 4,
                "dvcrawl/cause/network": "DNS lookup failed for x.vn",
            },
            "unreachable: DNS lookup failed for x.vn",
        ),
        (
            {
                "dvcrawl/storage/failed": 2,
                "dvcrawl/cause/storage": "database is locked: database is locked",
            },
            "database is locked: database is locked (2 articles not stored)",
        ),
        (
            {
                "dvcrawl/robots/blocked": 3,
                "dvcrawl/cause/robots": "robots.txt of x.vn could not be read (500 Internal Server Error) and no earlier copy is stored",
            },
            "robots.txt of x.vn could not be read (500 Internal Server Error) and no earlier copy is stored: 3 pages not fetched (RFC 9309)",
        ),
        (
            {"dvcrawl/robots/forbidden_start": 1},
            "robots.txt forbids every start page (1) to our user agent",
        ),
        (
            {"dvcrawl/errors/http_503": 1, "dvcrawl/cause/error": "503 Service Unavailable from u"},
            "1 page lost; last: 503 Service Unavailable from u",
        ),
        (
            {"spider_exceptions/KeyError": 2},
            "2 pages lost; last: KeyError raised in the spider (a bug: see the log)",
        ),
        (
            {
                "dvcrawl/archive/failed": 1,
                "dvcrawl/cause/archive": "File too large (u not archived)",
            },
            "the archive misses 1 response: File too large (u not archived)",
        ),
    ],
)
def test_each_loss_fails_the_run_with_its_cause(change: dict, cause: str) -> None:
    assert judge(HEALTHY | change, "finished") == Verdict("failed", cause)


def test_the_database_error_comes_first() -> None:
    stats = HEALTHY | {"dvcrawl/cause/database": "database is read-only: x"}
    assert judge(stats, "database_error") == Verdict(
        "failed", "database is read-only: x: nothing fetched"
    )


def test_robots_answering_an_error_status_is_named_rather_than_unreachable() -> None:
    stats = {
        "downloader/request_count": 4,
        "dvcrawl/net/answered": 0,
        "dvcrawl/net/failed": 4,
        "dvcrawl/cause/network": "503 Service Unavailable from https://x.vn/robots.txt",
        "dvcrawl/robots/blocked": 1,
        "dvcrawl/cause/robots": "robots.txt of x.vn could not be read (503 Service Unavailable) and no earlier copy is stored",
    }
    assert judge(stats, "finished").cause.startswith("robots.txt of x.vn could not be read")
    # A network failure, though, is the clearer cause: the host is not there at all.
    stats["dvcrawl/cause/network"] = "DNS lookup failed for x.vn"
    assert judge(stats, "finished").cause == "unreachable: DNS lookup failed for x.vn"


def test_a_site_that_answered_nothing_but_made_no_request_is_not_unreachable() -> None:
    assert judge({"dvcrawl/start_pages": 0}, "finished") == Verdict("finished")


REQUEST = Request("https://hanoi.gov.vn/tin-tuc/a", meta={"download_timeout": 30})
PROXIED = Request("https://hanoi.gov.vn/", meta={"proxy": "http://127.0.0.1:3128"})


@pytest.mark.parametrize(
    ("exception", "request_", "text"),
    [
        (CannotResolveHostError("x"), REQUEST, "DNS lookup failed for hanoi.gov.vn"),
        (DownloadConnectionRefusedError("x"), REQUEST, "connection refused by hanoi.gov.vn"),
        (
            DownloadConnectionRefusedError("x"),
            PROXIED,
            "connection refused by the proxy 127.0.0.1:3128 (for hanoi.gov.vn)",
        ),
        (
            TunnelError(
                "Could not open CONNECT tunnel with proxy 127.0.0.1:3128 [{'status': 502, 'reason': b'Bad Gateway'}]"
            ),
            PROXIED,
            "the proxy 127.0.0.1:3128 could not connect to hanoi.gov.vn (502 Bad Gateway)",
        ),
        (DownloadTimeoutError("x"), REQUEST, "no complete answer from hanoi.gov.vn within 30 s"),
        (
            ResponseDataLossError(),
            REQUEST,
            "the answer from hanoi.gov.vn was cut short (fewer bytes than its Content-Length)",
        ),
        (
            DownloadCancelledError(
                "Expected to receive 209715200 bytes which is larger than download max size (20971520) in request <GET x>."
            ),
            REQUEST,
            "the answer from hanoi.gov.vn is larger than DOWNLOAD_MAXSIZE",
        ),
        (
            DownloadFailedError(
                "[<twisted.python.failure.Failure twisted.internet.error.ConnectionLost: Connection to the other side was lost in a non-clean fashion.>]"
            ),
            REQUEST,
            "the connection to hanoi.gov.vn was closed before a complete answer",
        ),
        (
            DownloadFailedError(
                "[<twisted.python.failure.Failure OpenSSL.SSL.Error: [('SSL routines', '', 'wrong version number')]>]"
            ),
            REQUEST,
            "TLS handshake with hanoi.gov.vn failed (Error)",
        ),
        (ValueError(""), REQUEST, "ValueError for hanoi.gov.vn"),
    ],
)
def test_failures_are_described_in_one_nonempty_line(
    exception: Exception, request_: Request, text: str
) -> None:
    assert describe_exception(exception, request_) == text


def test_statuses_are_named() -> None:
    assert describe_status(429) == "429 Too Many Requests"
    assert describe_status(599) == "HTTP 599"


def test_retry_after_reads_seconds_and_dates() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    assert retry_after(b"120") == 120.0
    assert retry_after(" 7 ") == 7.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("-5") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=100), usegmt=True)
    assert 95 <= retry_after(later) <= 100
    earlier = format_datetime(datetime.now(UTC) - timedelta(seconds=100), usegmt=True)
    assert retry_after(earlier) == 0.0


def test_the_error_rate_counts_a_page_tried_four_times_once() -> None:
    from datetime import UTC, datetime

    from dvcrawl.health import run_checks

    # 5 pages, 2 of them failed after 3 retries each: 2 of 5, not 2 of 11 requests.
    stats = {"downloader/request_count": 11, "retry/count": 6, "dvcrawl/errors/http_503": 2}
    now = datetime(2026, 11, 22, tzinfo=UTC)
    checks = {c.name: c for c in run_checks(stats, newest_article=None, first_run=None, now=now)}
    assert not checks["error_rate"].ok
    assert checks["error_rate"].detail == "2 failed of 5 requests (maximum 20%)"


@pytest.mark.parametrize(
    ("message", "description", "transient"),
    [
        ("attempt to write a readonly database", "database is read-only", False),
        ("cannot execute INSERT in a read-only transaction", "database is read-only", False),
        ("permission denied for table articles", "no permission to write the database", False),
        ("database is locked", "database is locked", True),
        ("deadlock detected", "database is locked", True),
        ("could not serialize access due to concurrent update", "database is locked", True),
        ("database or disk is full", "disk is full", True),
        ('could not extend file "base/1/2": No space left on device', "disk is full", True),
        ("disk I/O error", "disk I/O error", True),
        ("unable to open database file", "cannot open the database file", True),
        ("server closed the connection unexpectedly", "database connection lost", True),
        (
            "UNIQUE constraint failed: articles.canonical_url",
            "another writer stored the same row at the same moment",
            True,
        ),
        (
            'duplicate key value violates unique constraint "articles_canonical_url_key"',
            "another writer stored the same row at the same moment",
            True,
        ),
        ("NOT NULL constraint failed: articles.extractor", "database error", False),
    ],
)
def test_database_failures_are_named_and_classified(
    message: str, description: str, transient: bool
) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from dvcrawl.db import describe_db_error, is_transient

    error = OperationalError("INSERT ...", {}, sqlite3.OperationalError(message + "\nDETAIL: more"))
    assert describe_db_error(error) == f"{description}: {message}"
    assert is_transient(error) is transient


def test_errors_without_a_description_are_listed_by_kind() -> None:
    stats = HEALTHY | {"dvcrawl/errors/http_503": 2, "dvcrawl/errors/redirect_loop": 1}
    assert judge(stats, "finished") == Verdict(
        "failed", "3 pages lost; last: http_503 (2), redirect_loop (1)"
    )


def test_without_the_ledger_no_site_is_called_unreachable() -> None:
    # Stats of a crawl without NetworkLedgerMiddleware: nothing says the portal was down.
    assert judge({"downloader/request_count": 10}, "finished") == Verdict("finished")


def test_a_redirect_is_off_the_portal_by_host_name_whatever_the_port() -> None:
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from dvcrawl.outcome import NetworkLedgerMiddleware

    crawler = get_crawler(Spider)
    crawler.spider = Spider.from_crawler(crawler, name="archive")
    crawler.spider.allowed_domains = ["127.0.0.1", "thanhxuan.hanoi.gov.vn"]
    crawler.stats.open_spider()
    ledger = NetworkLedgerMiddleware.from_crawler(crawler)
    first = "http://127.0.0.1:8080/web/20251001000000id_/https://a.vn/x"
    for url in (
        "http://127.0.0.1:8080/web/20251002000000id_/https://a.vn/x",  # the archive's own port
        "https://www.thanhxuan.hanoi.gov.vn/x",  # a subdomain
    ):
        ledger.request_scheduled(Request(url, meta={"redirect_urls": [first]}))
    assert crawler.stats.get_value("dvcrawl/errors/redirect_offsite") is None
    ledger.request_scheduled(Request("https://hanoi.gov.vn/x", meta={"redirect_urls": [first]}))
    assert crawler.stats.get_value("dvcrawl/errors/redirect_offsite") == 1
    assert crawler.stats.get_value("dvcrawl/cause/error") == (
        f"{first} redirects off the portal to https://hanoi.gov.vn/x"
    )
