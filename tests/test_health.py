"""Health checks: each one provoked for real, through the engine and the loopback server."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dvcrawl.health import THRESHOLDS, CheckResult, looks_like_challenge, run_checks
from tests.conftest import FAST, Runner, report
from tests.support.server import FixtureServer, Route
from tests.support.synthetic_site import SyntheticSite, challenge_route, empty_article_route

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def failed(checks) -> set[str]:
    return {check.name for check in checks if not check.ok}


# --- the rules ---------------------------------------------------------------------------


def test_a_healthy_run_passes_every_check() -> None:
    stats = {
        "downloader/request_count": 20,
        "dvcrawl/listing_pages": 2,
        "dvcrawl/article_links": 10,
        "dvcrawl/extracted/pages": 10,
        "dvcrawl/extracted/articles": 10,
        "dvcrawl/extracted/with_title": 10,
        "dvcrawl/extracted/with_date": 9,
        "dvcrawl/article_requests": 11,
        "dvcrawl/articles/new": 10,
    }
    checks = run_checks(
        stats, newest_article=NOW - timedelta(days=1), first_run=NOW - timedelta(days=90), now=NOW
    )
    assert failed(checks) == set()
    assert {c.name for c in checks} >= {
        "new_articles",
        "listing_links",
        "article_rate",
        "title_coverage",
        "date_coverage",
        "error_rate",
        "requests_per_article",
        "challenge_pages",
    }


@pytest.mark.parametrize(
    ("change", "check"),
    [
        (
            {
                "dvcrawl/extracted/articles": 3,
                "dvcrawl/extracted/with_title": 3,
                "dvcrawl/extracted/with_date": 3,
            },
            "article_rate",
        ),
        ({"dvcrawl/extracted/with_date": 2}, "date_coverage"),
        ({"dvcrawl/extracted/with_title": 5}, "title_coverage"),
        ({"dvcrawl/extracted/fallback": 8}, "layout"),
        ({"dvcrawl/errors/http_503": 8}, "error_rate"),
        ({"dvcrawl/article_requests": 70}, "requests_per_article"),
        ({"dvcrawl/challenge_pages": 1}, "challenge_pages"),
        ({"dvcrawl/article_links": 0}, "listing_links"),
    ],
)
def test_each_symptom_fails_its_check(change: dict, check: str) -> None:
    stats = {
        "downloader/request_count": 20,
        "dvcrawl/listing_pages": 2,
        "dvcrawl/article_links": 10,
        "dvcrawl/extracted/pages": 10,
        "dvcrawl/extracted/articles": 10,
        "dvcrawl/extracted/with_title": 10,
        "dvcrawl/extracted/with_date": 10,
        "dvcrawl/article_requests": 10,
        "dvcrawl/articles/new": 10,
    } | change
    assert failed(
        run_checks(stats, newest_article=NOW, first_run=NOW - timedelta(days=30), now=NOW)
    ) == {check}


def test_silence_counts_only_for_sites_that_used_to_publish() -> None:
    old = NOW - timedelta(days=THRESHOLDS["max_silent_days"] + 3)
    assert failed(
        run_checks({}, newest_article=old, first_run=NOW - timedelta(days=60), now=NOW)
    ) == {"new_articles"}
    # Crawled for the first time a day ago: not a silence yet.
    assert (
        failed(run_checks({}, newest_article=old, first_run=NOW - timedelta(days=1), now=NOW))
        == set()
    )
    # Never stored anything: nothing to compare with.
    assert (
        failed(run_checks({}, newest_article=None, first_run=NOW - timedelta(days=60), now=NOW))
        == set()
    )


def test_challenge_pages_are_recognized_and_articles_are_not() -> None:
    assert looks_like_challenge(challenge_route().body.decode())
    assert looks_like_challenge(
        "<html><body><h1>Website đang bảo trì</h1><p>Xin quay lại sau.</p></body></html>"
    )
    article = (
        Path(__file__).parent / "fixtures" / "thanhuytphcm" / "article_quan3_quy_dinh_dan_van.html"
    ).read_text(encoding="utf-8")
    assert not looks_like_challenge(article)


def test_only_the_first_20_kb_are_read_for_challenges() -> None:
    phrase = "under maintenance"
    assert looks_like_challenge(" " * (20000 - len(phrase)) + phrase)
    assert not looks_like_challenge(" " * (20001 - len(phrase)) + phrase)


def test_a_challenge_page_is_short_in_words_whatever_its_markup() -> None:
    words = " ".join(["chữ"] * 395)
    assert looks_like_challenge(f"<h1>Website đang bảo trì</h1><p>{words}</p>")  # 399 words
    assert not looks_like_challenge(f"<h1>Website đang bảo trì</h1><p>{words} thêm</p>")
    # Scripts and styles (over several lines, in any case) and tags are not words.
    script = "<SCRIPT>\n" + " ".join(["var x = 1;"] * 200) + "\n</SCRIPT>"
    style = "<style>\n" + " ".join(["p { margin: 0 }"] * 200) + "\n</style>"
    markup = '<span class="a"></span>' * 500
    assert looks_like_challenge(f"{script}{style}<h1>Just a moment...</h1>{markup}")


# --- provoked through the engine -----------------------------------------------------------


@pytest.fixture
def site() -> SyntheticSite:
    site = SyntheticSite(per_page=5)
    site.publish(5)
    return site


def crawl(dvcrawl: Runner, server: FixtureServer, db_url: str, *extra: str):
    return dvcrawl(
        "crawl",
        "thanhuytphcm",
        "--db",
        db_url,
        *FAST,
        "-s",
        "RETRY_TIMES=0",
        *extra,
        env=server.env(),
    )


def status(dvcrawl: Runner, db_url: str):
    return dvcrawl("status", "--db", db_url)


def provoke(dvcrawl: Runner, tls_dir: Path, site: SyntheticSite, db_url: str, breakage) -> tuple:
    """A healthy first run, then the site breaks, then a second run: (second result, status)."""
    with FixtureServer(site.routes(), tls_dir) as server:
        first = crawl(dvcrawl, server, db_url)
        assert first.returncode == 0, first.stdout + first.stderr
        breakage(site)
        server.routes = site.routes()
        second = crawl(dvcrawl, server, db_url)
    return second, status(dvcrawl, db_url)


def assert_alarm(second, state, check: str) -> None:
    assert second.returncode == 1, second.stdout + second.stderr
    assert report(second.stdout)["thanhuytphcm"]["result"] == "FAILED"
    assert f"health check {check} failed" in second.stderr
    assert state.returncode == 1 and f"thanhuytphcm: {check}:" in state.stdout


def test_empty_layout(dvcrawl: Runner, tls_dir: Path, site: SyntheticSite, db_url: str) -> None:
    def redesign(site: SyntheticSite) -> None:
        for article in site.publish(6):
            site.article_route[article.number] = empty_article_route(article)

    assert_alarm(*provoke(dvcrawl, tls_dir, site, db_url, redesign), "article_rate")


def test_error_burst(dvcrawl: Runner, tls_dir: Path, site: SyntheticSite, db_url: str) -> None:
    def outage(site: SyntheticSite) -> None:
        for article in site.publish(6):
            site.article_route[article.number] = Route(status=503, body=b"Service Unavailable")

    assert_alarm(*provoke(dvcrawl, tls_dir, site, db_url, outage), "error_rate")


def test_bot_challenge(dvcrawl: Runner, tls_dir: Path, site: SyntheticSite, db_url: str) -> None:
    def firewall(site: SyntheticSite) -> None:
        for article in site.publish(6):
            site.article_route[article.number] = challenge_route()

    second, state = provoke(dvcrawl, tls_dir, site, db_url, firewall)
    assert_alarm(second, state, "challenge_pages")
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    assert connection.execute("SELECT count(*) FROM articles").fetchone() == (5,), (
        "challenge pages are never stored"
    )
    connection.close()


def test_listing_redesign(dvcrawl: Runner, tls_dir: Path, site: SyntheticSite, db_url: str) -> None:
    def redesign(site: SyntheticSite) -> None:
        site.broken_listing = True

    assert_alarm(*provoke(dvcrawl, tls_dir, site, db_url, redesign), "listing_links")


def test_redirect_chains_cost_too_many_requests(
    dvcrawl: Runner, tls_dir: Path, site: SyntheticSite, db_url: str
) -> None:
    with FixtureServer(site.routes(), tls_dir) as server:
        assert crawl(dvcrawl, server, db_url).returncode == 0
        new = site.publish(6)
        routes = site.routes()
        for article in new:
            # A portal that bounces every article through six redirects before serving it.
            page = routes[article.url]
            routes[article.url] = Route(status=301, headers=[("Location", f"{article.url}?hop=1")])
            for hop in range(1, 6):
                routes[f"{article.url}?hop={hop}"] = Route(
                    status=301, headers=[("Location", f"{article.url}?hop={hop + 1}")]
                )
            routes[f"{article.url}?hop=6"] = page
        server.routes = routes
        second = crawl(dvcrawl, server, db_url)
    assert_alarm(second, status(dvcrawl, db_url), "requests_per_article")


def test_a_site_gone_silent(
    dvcrawl: Runner, tls_dir: Path, site: SyntheticSite, db_url: str
) -> None:
    with FixtureServer(site.routes(), tls_dir) as server:
        assert crawl(dvcrawl, server, db_url).returncode == 0
        # Three weeks pass; the portal publishes nothing (or its listing no longer changes).
        connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        past = (datetime.now(UTC) - timedelta(days=21)).strftime("%Y-%m-%d %H:%M:%S")
        connection.execute("UPDATE articles SET first_seen_at = ?", (past,))
        connection.execute("UPDATE crawl_runs SET started_at = ?", (past,))
        connection.commit()
        connection.close()
        second = crawl(dvcrawl, server, db_url)
    assert_alarm(second, status(dvcrawl, db_url), "new_articles")


# --- each threshold at its boundary (mutation check, docs/testing.md) -----------------------
# Limits are read from THRESHOLDS, so a deliberate change of a limit keeps these tests; a
# changed comparison, counter or message fails them.


def checks_by_name(stats: dict, **history) -> dict:
    history = {"newest_article": None, "first_run": None, "now": NOW} | history
    return {check.name: check for check in run_checks(stats, **history)}


def test_silence_at_its_limit() -> None:
    limit = timedelta(days=THRESHOLDS["max_silent_days"])
    # First crawled exactly the limit ago: too soon to call anything silence.
    assert "new_articles" not in checks_by_name({}, newest_article=NOW, first_run=NOW - limit)
    first = NOW - limit - timedelta(seconds=1)
    at_limit = checks_by_name({}, newest_article=NOW - limit, first_run=first)["new_articles"]
    assert at_limit.ok and at_limit.detail == (
        f"newest article first seen {limit.days:.1f} days ago (limit {limit.days:g})"
    )
    # Five seconds past the limit is past it (a day is 86,400 seconds, not more).
    late = NOW - limit - timedelta(seconds=5)
    assert not checks_by_name({}, newest_article=late, first_run=first)["new_articles"].ok


def test_listing_pages_need_one_link() -> None:
    one = checks_by_name({"dvcrawl/listing_pages": 2, "dvcrawl/article_links": 1})
    assert one["listing_links"] == CheckResult(
        "listing_links", True, "1 article links on 2 listing pages"
    )


def test_coverage_rates_at_their_limits() -> None:
    sample = int(THRESHOLDS["min_sample"])
    # The article rate at exactly its minimum, on exactly the minimum sample.
    pages, articles = 5 * sample, 4 * sample
    assert articles / pages == THRESHOLDS["min_article_rate"]
    at_limit = checks_by_name(
        {"dvcrawl/extracted/pages": pages, "dvcrawl/extracted/articles": articles}
    )
    assert at_limit["article_rate"].ok
    assert at_limit["article_rate"].detail == (
        f"{articles}/{pages} article pages gave an article (80%, minimum 80%)"
    )
    small = checks_by_name({"dvcrawl/extracted/pages": sample, "dvcrawl/extracted/articles": 0})
    assert not small["article_rate"].ok, "the minimum sample is enough to judge"
    assert "article_rate" not in checks_by_name({"dvcrawl/extracted/pages": sample - 1})
    # Titles, dates and the fallback share at exactly their limits, on 20 articles.
    stats = {
        "dvcrawl/extracted/pages": 20,
        "dvcrawl/extracted/articles": 20,
        "dvcrawl/extracted/with_title": 19,
        "dvcrawl/extracted/with_date": 16,
        "dvcrawl/extracted/fallback": 10,
    }
    checks = checks_by_name(stats)
    assert [checks[name].ok for name in ("title_coverage", "date_coverage", "layout")] == [
        True,
        True,
        True,
    ]
    assert checks["title_coverage"].detail == "19/20 articles have a title (minimum 95%)"
    assert checks["date_coverage"].detail == "16/20 articles have a date (minimum 80%)"
    assert checks["layout"].detail == ("10/20 articles needed the generic fallback (maximum 50%)")
    assert "title_coverage" in checks_by_name({"dvcrawl/extracted/articles": sample})
    assert "title_coverage" not in checks_by_name({"dvcrawl/extracted/articles": sample - 1})


def test_error_rate_at_its_limit() -> None:
    requests = int(THRESHOLDS["min_requests_for_rates"])
    check = checks_by_name({"downloader/request_count": requests, "dvcrawl/errors/timeout": 1})
    assert check["error_rate"] == CheckResult(
        "error_rate", True, f"1 failed of {requests} requests (maximum 20%)"
    )
    assert "error_rate" not in checks_by_name({"downloader/request_count": requests - 1})


def test_requests_per_article_counts_every_kept_article() -> None:
    kept = {
        "dvcrawl/articles/new": 1,
        "dvcrawl/articles/updated": 2,
        "dvcrawl/articles/unchanged": 4,
        "dvcrawl/articles/not_modified": 8,
    }
    limit = THRESHOLDS["max_requests_per_article"]
    at_limit = checks_by_name({"dvcrawl/article_requests": int(15 * limit), **kept})
    assert at_limit["requests_per_article"] == CheckResult(
        "requests_per_article", True, "75 article requests for 15 articles (5.0 each, maximum 5)"
    )
    # No article kept at all: each request counts against one article.
    minimum = int(THRESHOLDS["min_requests_for_rates"])
    none_kept = checks_by_name({"dvcrawl/article_requests": minimum})
    assert none_kept["requests_per_article"].detail == (
        f"{minimum} article requests for 0 articles ({minimum:.1f} each, maximum 5)"
    )
    assert "requests_per_article" not in checks_by_name({"dvcrawl/article_requests": minimum - 1})


def test_challenge_detail() -> None:
    assert checks_by_name({"dvcrawl/challenge_pages": 2})["challenge_pages"] == CheckResult(
        "challenge_pages", False, "2 bot-challenge or maintenance pages"
    )


def test_thresholds_from_settings_and_sites() -> None:
    from scrapy.settings import Settings

    from dvcrawl.health import thresholds

    assert thresholds(None) == THRESHOLDS
    assert thresholds(None, {"max_silent_days": 30})["max_silent_days"] == 30
    settings = Settings({"DVCRAWL_HEALTH_MAX_ERROR_RATE": "0.5", "DVCRAWL_HEALTH_MIN_SAMPLE": ""})
    values = thresholds(settings, {"max_error_rate": 0.3})
    assert values["max_error_rate"] == 0.5, "settings override the site's own limit"
    assert values["min_sample"] == THRESHOLDS["min_sample"], "an empty setting is no override"


def test_an_archive_index_that_failed_fails_the_run() -> None:
    stats = {
        "dvcrawl/wayback/cdx_queries": 2,
        "dvcrawl/wayback/cdx_failed": 1,
        "dvcrawl/wayback/cdx_rows": 40,
        "dvcrawl/wayback/pages": 12,
        "dvcrawl/wayback/cdx_error": "HTTP 403: Blocked Site Error",
    }
    check = next(
        c
        for c in run_checks(stats, newest_article=None, first_run=None, now=NOW)
        if c.name == "archive_index"
    )
    assert not check.ok
    assert check.detail == (
        "1/2 index queries read: 40 captures listed, 12 pages; HTTP 403: Blocked Site Error"
    )
    read = run_checks(
        stats | {"dvcrawl/wayback/cdx_failed": 0}, newest_article=None, first_run=None, now=NOW
    )
    check = next(c for c in read if c.name == "archive_index")
    assert check.ok and check.detail == "2/2 index queries read: 40 captures listed, 12 pages"
    # A live run asks no index: no such check.
    assert "archive_index" not in {
        c.name for c in run_checks({}, newest_article=None, first_run=None, now=NOW)
    }
