"""The retry and robots.txt settings, provoked through the engine and the loopback server.

dvcrawl/settings.py sets values a mutation tool cannot change (module constants); each one
that decides whether a page is fetched is pinned here by a crawl whose outcome depends on it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from dvcrawl import settings
from tests.conftest import FAST, Runner, report
from tests.support.server import FixtureServer, Route
from tests.support.synthetic_site import SyntheticSite


def stored_urls(db_url: str) -> set[str]:
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        return {row[0] for row in connection.execute("SELECT canonical_url FROM articles")}
    finally:
        connection.close()


def test_each_retried_status_is_retried_three_times_and_no_more(
    dvcrawl: Runner, tls_dir: Path, db_url: str
) -> None:
    site = SyntheticSite(per_page=12)
    articles = site.publish(11)
    routes = site.routes()
    # One article per status in RETRY_HTTP_CODES, each failing RETRY_TIMES times and then
    # served; one failing once more than that; one answering a status that is never retried.
    faults: dict[str, tuple[int, int]] = {}
    for article, status in zip(articles, settings.RETRY_HTTP_CODES, strict=False):
        faults[article.url] = (status, settings.RETRY_TIMES)
    faults[articles[8].url] = (503, settings.RETRY_TIMES + 1)
    faults[articles[9].url] = (403, 1)
    for url, (status, count) in faults.items():
        routes[url] = replace(
            routes[url], fault="error_then_ok", fault_count=count, fault_status=status
        )
    assert settings.RETRY_TIMES == 3 and len(settings.RETRY_HTTP_CODES) == 8
    with FixtureServer(routes, tls_dir) as server:
        # A 429 pauses the portal before each retry (10, 20, 40 s by default): shortened here.
        fast_429 = ["-s", "DVCRAWL_BACKOFF_429=0.05"]
        result = dvcrawl(
            "crawl", "thanhuytphcm", "--db", db_url, *FAST, *fast_429, env=server.env()
        )
        requested = server.urls()
    hits = {url: requested.count(url) for url in faults}
    assert hits == {
        **{article.url: 4 for article in articles[:8]},
        articles[8].url: 4,
        articles[9].url: 1,
    }, result.stdout + result.stderr
    lost = {articles[8].url, articles[9].url}
    assert stored_urls(db_url) == {article.url for article in articles} - lost
    assert report(result.stdout)["thanhuytphcm"]["errors"] == "1"


def test_robots_txt_is_obeyed(dvcrawl: Runner, tls_dir: Path, db_url: str) -> None:
    site = SyntheticSite(per_page=5)
    articles = site.publish(3)
    routes = site.routes()
    hidden = articles[1].url.removeprefix("https://thanhuytphcm.vn")
    routes["https://thanhuytphcm.vn/robots.txt"] = Route(
        body=f"User-agent: *\nDisallow: {hidden}\n".encode(),
        headers=[("Content-Type", "text/plain")],
    )
    assert settings.ROBOTSTXT_OBEY is True
    with FixtureServer(routes, tls_dir) as server:
        result = dvcrawl("crawl", "thanhuytphcm", "--db", db_url, *FAST, env=server.env())
        requested = server.urls()
    assert result.returncode == 0, result.stdout + result.stderr
    assert requested[0] == "https://thanhuytphcm.vn/robots.txt"
    assert articles[1].url not in requested
    assert stored_urls(db_url) == {articles[0].url, articles[2].url}


def test_connection_faults_are_retried_and_slow_bodies_wait(
    dvcrawl: Runner, tls_dir: Path, db_url: str
) -> None:
    # The loopback server's other faults: a reset connection and a server that never answers
    # are retried RETRY_TIMES times and then counted as errors; a slow body is waited for.
    site = SyntheticSite(per_page=5)
    reset, hang, slow, plain = site.publish(4)
    routes = site.routes()
    routes[reset.url] = replace(routes[reset.url], fault="reset")
    routes[hang.url] = replace(routes[hang.url], fault="hang")
    routes[slow.url] = replace(routes[slow.url], fault="slow")
    with FixtureServer(routes, tls_dir) as server:
        result = dvcrawl(
            "crawl",
            "thanhuytphcm",
            "--db",
            db_url,
            *FAST,
            "-s",
            "DOWNLOAD_TIMEOUT=1",
            env=server.env(),
        )
        requested = server.urls()
    attempts = settings.RETRY_TIMES + 1
    assert [requested.count(a.url) for a in (hang, slow, plain)] == [attempts, 1, 1]
    # Twisted itself sends a request again, once, when a reused connection was reset before
    # any answer, so each of Scrapy's attempts reaches the server once or twice.
    assert attempts <= requested.count(reset.url) <= 2 * attempts
    assert stored_urls(db_url) == {slow.url, plain.url}, result.stdout + result.stderr
    assert report(result.stdout)["thanhuytphcm"]["errors"] == "2"
