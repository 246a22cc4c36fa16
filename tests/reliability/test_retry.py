"""Retry-After, backoff on 429, and the faults retries already survived (issue 10, item 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from tests.reliability.conftest import FaultLab
from tests.support.server import Route


def gaps(crawl, url: str) -> list[float]:
    """Seconds between successive requests for `url`."""
    times = [hit.at for hit in crawl.hits if hit.url == url]
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


def test_retry_after_seconds_is_honoured(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[2]
    page = routes[article.url]
    routes[article.url] = Route(
        body=page.body,
        headers=page.headers,
        fault="error_then_ok",
        fault_count=1,
        fault_status=429,
        fault_headers=[("Retry-After", "2")],
    )
    crawl = lab.crawl(routes)
    assert crawl.returncode == 0, crawl.output
    assert len(gaps(crawl, article.url)) == 1 and gaps(crawl, article.url)[0] >= 2.0
    assert crawl.stats["dvcrawl/retry_after/waited"] == 1
    lab.record("5a", "429 with Retry-After", "one article answers 429, Retry-After: 2", crawl)


def test_retry_after_as_a_date_is_honoured(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[0]
    page = routes[article.url]
    route = Route(
        body=page.body,
        headers=page.headers,
        fault="error_then_ok",
        fault_count=1,
        fault_status=503,
    )

    def three_seconds_from_now() -> None:
        when = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
        route.fault_headers = [("Retry-After", when)]

    route.before = three_seconds_from_now
    routes[article.url] = route
    crawl = lab.crawl(routes)
    assert crawl.returncode == 0, crawl.output
    # An HTTP date has whole seconds: the wait is at least 2 s of the 3 asked for.
    assert gaps(crawl, article.url)[0] >= 2.0
    lab.record(
        "5b",
        "503 with Retry-After date",
        "one article answers 503, Retry-After: an HTTP date 3 s ahead",
        crawl,
    )


def test_a_persistent_429_is_an_error_not_a_dead_link(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[1]
    routes[article.url] = Route(
        status=429, body=b"Too Many Requests", headers=[("Retry-After", "1")]
    )
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1
    assert crawl.row["dead links"] == "0" and crawl.row["errors"] == "1"
    assert crawl.cause == f"1 page lost; last: 429 Too Many Requests from {article.url}"
    assert len([u for u in crawl.urls() if u == article.url]) == 4  # RETRY_TIMES = 3
    lab.record("5c", "persistent 429", "one article always answers 429, Retry-After: 1", crawl)


def test_a_retry_after_beyond_the_bound_is_not_waited_for(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[1]
    routes[article.url] = Route(status=503, body=b"down", headers=[("Retry-After", "3600")])
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1
    assert [u for u in crawl.urls() if u == article.url] == [article.url]
    assert crawl.cause == (
        f"1 page lost; last: 503 Service Unavailable from {article.url} "
        "(asked to wait 3600 s, more than DVCRAWL_RETRY_AFTER_MAX)"
    )
    lab.record("5d", "Retry-After of an hour", "one article answers 503, Retry-After: 3600", crawl)


def test_429_without_retry_after_backs_off(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[3]
    page = routes[article.url]
    routes[article.url] = Route(
        body=page.body, headers=page.headers, fault="error_then_ok", fault_count=2, fault_status=429
    )
    crawl = lab.crawl(routes, "-s", "DVCRAWL_BACKOFF_429=0.5")
    assert crawl.returncode == 0, crawl.output
    first, second = gaps(crawl, article.url)
    assert first >= 0.5 and second >= 1.0, "the pause doubles"
    lab.record(
        "5e",
        "429 without Retry-After",
        "one article answers 429 twice (backoff 0.5 s, doubling)",
        crawl,
    )


def test_a_burst_of_5xx_is_survived(lab: FaultLab) -> None:
    routes = lab.routes()
    for article in lab.site.articles:
        page = routes[article.url]
        routes[article.url] = Route(
            body=page.body, headers=page.headers, fault="error_then_ok", fault_count=2
        )
    crawl = lab.crawl(routes)
    assert crawl.returncode == 0, crawl.output
    assert crawl.stats["retry/count"] == 10
    lab.record("5f", "5xx burst", "every article answers 503 twice, then the page", crawl)


def test_a_reset_connection_is_retried(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[0]
    page = routes[article.url]
    routes[article.url] = Route(body=page.body, headers=page.headers, fault="reset", fault_count=2)
    crawl = lab.crawl(routes)
    assert crawl.returncode == 0, crawl.output
    lab.record("5g", "connection reset", "one article's connection is reset twice", crawl)


def test_a_connection_reset_every_time_is_an_error(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[0]
    routes[article.url] = Route(fault="reset")
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1
    assert crawl.cause.startswith("1 page lost; last: ")
    assert crawl.cause.endswith(article.url)
    lab.record("5h", "connection reset, always", "one article's connection is always reset", crawl)
