"""Abolished portals read back from a web archive (``crawl --source wayback``), end to end.

A loopback server answers like the Wayback Machine (`tests.support.wayback_server`): its CDX
API and raw captures, built from the fixture pages (`tests.support.wayback_archives`). Crawls
run through the real Scrapy engine in child processes, as a user runs them; request counts
and timings are read from the server's log.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse

from dvcrawl.warc import iter_responses
from dvcrawl.wayback import (
    ArchivedPage,
    ArchivePolitenessMiddleware,
    ArchiveResponseMiddleware,
    Capture,
    CapturePlan,
    CdxError,
    WaybackAddon,
    archive_host,
    archived_page,
    capture_url,
    check_timestamp_bound,
    parse_capture_url,
    parse_cdx,
    parse_timestamp,
    request_meta,
    retry_after,
    site_queries,
    wait_for_archive,
    wayback_base,
)
from tests.conftest import FAST, Runner, report
from tests.support.fixture_sites import build_warc, routes
from tests.support.server import FixtureServer
from tests.support.synthetic_site import SyntheticSite
from tests.support.wayback_archives import (
    B_EARLY_TITLE,
    BAD_PORT,
    C_OLD,
    D_OLD,
    D_URL,
    DEAD,
    E_URL,
    GONE,
    HANOI,
    IMAGE,
    LINK_TAIL,
    OFF_PORTAL,
    OTHER_PORTAL,
    OUT_OF_ARCHIVE,
    PDF,
    REMOVED,
    A,
    B,
    C,
    E,
    F,
    G,
    mirror_captures,
    synthetic_captures,
    thanhxuan_captures,
)
from tests.support.wayback_server import FakeWayback

SITE = "hanoi_thanhxuan"
#: No politeness delay against the loopback archive (the add-on keeps 10 ms).
QUICK = ["-s", "DVCRAWL_WAYBACK_DELAY=0"]


def query(db_url: str, sql: str, *args: object) -> list[tuple]:
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


def rows(db_url: str, site: str = SITE) -> dict[str, dict]:
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    connection.row_factory = sqlite3.Row
    try:
        found = connection.execute("SELECT * FROM articles WHERE site = ?", (site,)).fetchall()
        return {row["canonical_url"]: dict(row) for row in found}
    finally:
        connection.close()


def archive_crawl(
    runner: Runner, server: FakeWayback, db_url: str, *extra: str, site: str = SITE
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    before = len(server.hits)
    result = runner("crawl", site, "--source", "wayback", "--db", db_url, *extra, env=server.env())
    return result, [hit.path for hit in server.hits[before:]]


def capture_path(timestamp: str, url: str) -> str:
    return f"/web/{timestamp}id_/{url}"


# --- the index, captures and plans (no crawl) ---------------------------------------------------


def test_cdx_answers_are_read_by_their_header_row() -> None:
    body = json.dumps(
        [
            ["original", "timestamp", "statuscode", "mimetype", "digest", "urlkey", "length"],
            ["https://a.vn/x", "20240101000000", "200", "text/html", "AAA", "vn,a)/x", 1415],
            ["http://www.a.vn/y", "20240102000000", "301", "unk", "BBB", "vn,a)/y", "0"],
            [],
            ["https://a.vn/z", "20240103000000", "200", "text/html", "CCC", "vn,a)/z", "9"],
            [],
            ["vn,a)/z 20240103000000"],
        ]
    )
    captures, resume = parse_cdx(body.encode())
    assert captures == [
        Capture("20240101000000", "https://a.vn/x", "text/html", "200", "AAA", "vn,a)/x"),
        Capture("20240102000000", "http://www.a.vn/y", "unk", "301", "BBB", "vn,a)/y"),
        Capture("20240103000000", "https://a.vn/z", "text/html", "200", "CCC", "vn,a)/z"),
    ]
    assert resume == "vn,a)/z 20240103000000"
    assert captures[1].is_redirect and captures[0].is_page
    # Only the fields asked for: the others take the index's usual values.
    plain = json.dumps([["timestamp", "original"], ["20240101000000", "https://a.vn/x"]])
    assert parse_cdx(plain) == (
        [Capture("20240101000000", "https://a.vn/x", "text/html", "200", "", "")],
        None,
    )
    # A last page of nothing but a resume key; an empty answer, however spelled.
    assert parse_cdx('[["timestamp", "original"], [], ["k"]]') == ([], "k")
    one = '[["timestamp", "original"], ["20240101000000", "https://a.vn/x"], [], ["k"]]'
    assert parse_cdx(one) == ([Capture("20240101000000", "https://a.vn/x")], "k")
    assert parse_cdx(b"") == ([], None) and parse_cdx(b" \n") == ([], None)
    assert parse_cdx(b"[]") == ([], None)
    # Bytes that are not UTF-8 are replaced, not fatal.
    broken = b'[["timestamp", "original"], ["20240101000000", "https://a.vn/\xff"]]'
    assert parse_cdx(broken)[0][0].original == "https://a.vn/\ufffd"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>Blocked Site Error</body></html>", "^not a CDX JSON answer: '<html><body>"),
        (b'{"error": "no"}', "^not a CDX JSON answer"),
        (b'[["timestamp", "original"], "ab"]', "^not a CDX JSON answer"),
        (
            b'[["urlkey", "digest"], ["a", "b"]]',
            r"^the CDX answer has no original, timestamp field: \['urlkey', 'digest'\]$",
        ),
        (
            b'[["timestamp", "original"], ["20240101000000"]]',
            "^a CDX row with 1 fields for 2 names$",
        ),
    ],
)
def test_cdx_answers_that_are_not_the_format_are_errors(body: bytes, message: str) -> None:
    with pytest.raises(CdxError, match=message):
        parse_cdx(body)


def test_one_capture_per_page_and_never_a_revisit_an_error_or_an_image() -> None:
    page = "https://a.vn/tin/1"
    plan = CapturePlan()
    assert plan.add(Capture("20230101000000", page, statuscode="301"), page)
    assert plan.add(Capture("20230301000000", page), page)
    assert not plan.add(Capture("20230201000000", page + "?utm_source=x"), page)
    assert not plan.add(Capture("20230301000000", "http://a.vn/tin/1"), page), (
        "a tie keeps the first"
    )
    assert not plan.add(
        Capture("20240101000000", page, mimetype="warc/revisit", statuscode="-"), page
    )
    assert not plan.add(Capture("20240201000000", page, statuscode="404"), page)
    assert not plan.add(Capture("20240301000000", page, mimetype="image/jpeg"), page)
    assert not plan.add(Capture("20241399000000", page), page)  # no date: no capture address
    assert plan.get(page) == Capture("20230301000000", page)  # the latest 200 capture
    assert (plan.rows, plan.unusable, len(plan)) == (8, 4, 1)

    earliest = CapturePlan(pick="earliest")
    assert earliest.add(Capture("20230301000000", page), page)
    assert earliest.add(Capture("20230201000000", page), page)
    assert not earliest.add(Capture("20230201000000", "http://a.vn/tin/1"), page)
    assert not earliest.add(Capture("20230401000000", page), page)
    assert earliest.get(page) == Capture("20230201000000", page)
    assert earliest.get("https://a.vn/tin/2") is None
    # Read in the order of their URLs, whatever the order of the index.
    earliest.add(Capture("20230101000000", "https://a.vn/a"), "https://a.vn/a")
    assert [url for url, _ in earliest] == ["https://a.vn/a", page]

    moved = CapturePlan()
    moved.add(Capture("20240101000000", "https://a.vn/cu", statuscode="302"), "https://a.vn/cu")
    assert moved.get("https://a.vn/cu").is_redirect  # a redirect only when no page is captured


def test_index_queries_list_pages_by_digest_and_redirects_by_url() -> None:
    pages, redirects = site_queries(["thanhxuan.hanoi.gov.vn"], subdomains=False, since="2024")
    assert (pages.url, pages.match_type, pages.collapse) == (
        "thanhxuan.hanoi.gov.vn/",
        "prefix",
        "digest",
    )
    assert redirects.collapse == "urlkey" and "statuscode:30[12378]" in redirects.filters
    assert pages.params("k 1") == [
        ("url", "thanhxuan.hanoi.gov.vn/"),
        ("matchType", "prefix"),
        ("output", "json"),
        ("fl", "urlkey,timestamp,original,mimetype,statuscode,digest,length"),
        ("filter", "statuscode:200"),
        ("filter", "mimetype:text/html|application/xhtml\\+xml|unk"),
        ("collapse", "digest"),
        ("from", "2024"),
        ("limit", "5000"),
        ("showResumeKey", "true"),
        ("resumeKey", "k 1"),
    ]
    assert pages.request_url("https://web.archive.org").startswith(
        "https://web.archive.org/cdx/search/cdx?url=thanhxuan.hanoi.gov.vn%2F&matchType=prefix&"
    )
    params = parse_qs(urlsplit(pages.request_url("https://web.archive.org", "k 1")).query)
    assert params["resumeKey"] == ["k 1"] and len(params["filter"]) == 2
    bounded = site_queries(["a.vn", "b.vn"], subdomains=False, since="2023", until="202406")
    assert [(q.url, q.since, q.until) for q in bounded] == [
        ("a.vn/", "2023", "202406"),
        ("a.vn/", "2023", "202406"),
        ("b.vn/", "2023", "202406"),
        ("b.vn/", "2023", "202406"),
    ]
    assert ("to", "202406") in bounded[0].params() and "resumeKey" not in dict(bounded[0].params())
    domain = site_queries(["hanoi.gov.vn"], subdomains=True, pick="earliest")[0]
    assert (domain.url, domain.match_type, domain.collapse) == ("hanoi.gov.vn", "domain", "urlkey")


def test_capture_addresses() -> None:
    assert parse_capture_url(
        "https://web.archive.org/web/20240315103000id_/https://a.vn/x?id=1"
    ) == ("20240315103000", "https://a.vn/x?id=1")
    # A normalizer that folds double slashes in the path does not lose the scheme.
    assert parse_capture_url("http://127.0.0.1:8/web/2024id_/https:/a.vn/x") == (
        "2024",
        "https://a.vn/x",
    )
    assert parse_capture_url("http://127.0.0.1:8/web/2024id_/HTTPS:/a.vn/x") == (
        "2024",
        "HTTPS://a.vn/x",
    )
    # A mirror under a path of its own.
    assert parse_capture_url("https://m.org/wayback/web/2024id_/http://a.vn/") == (
        "2024",
        "http://a.vn/",
    )
    assert parse_capture_url("https://web.archive.org/web/20240315103000/https://a.vn/x") is None
    assert parse_capture_url("https://a.vn/web/guest/tin?id=1") is None
    assert parse_capture_url("https://a.vn/tin?u=/web/2024id_/https://b.vn/x") is None


@pytest.mark.parametrize("good", ["2024", "202403", "20240315", "20240315103000"])
def test_capture_bounds(good: str) -> None:
    assert check_timestamp_bound(good) == good


@pytest.mark.parametrize("bad", ["24", "2024-03", "202413", "20240230", "abcd", "2024031"])
def test_capture_bounds_that_are_no_dates(bad: str) -> None:
    with pytest.raises(ValueError, match=r"^not a date \(YYYY, YYYYMM or YYYYMMDD\): '"):
        check_timestamp_bound(bad)


def test_retry_after() -> None:
    assert retry_after(b"120") == 120.0 and retry_after(" 7 ") == 7.0
    assert retry_after(None) is None and retry_after(b"soon") is None
    later = datetime.fromtimestamp(datetime.now(UTC).timestamp() + 30, UTC)
    http_date = later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 25 <= retry_after(http_date) <= 31
    assert 25 <= retry_after(http_date.encode("latin-1")) <= 31
    # "-0000" (no zone said) is read as UTC; a date already past means now.
    assert 25 <= retry_after(later.strftime("%a, %d %b %Y %H:%M:%S -0000")) <= 31
    assert retry_after("Sun, 06 Nov 1994 08:49:37 GMT") == 0.0


# --- the middlewares and the add-on, in process ----------------------------------------------------

BASE = "http://127.0.0.1:8765"
ORIGINAL = "https://thanhxuan.hanoi.gov.vn/tin-tuc-su-kien/-/asset_publisher/x/content/y"


def archive_crawler(**settings: object):
    from scrapy import Spider
    from scrapy.core.downloader import Slot
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(Spider, {"DVCRAWL_WAYBACK_URL": BASE, **settings})
    crawler.spider = Spider.from_crawler(crawler, name="archive")
    crawler.stats.open_spider()
    slot = Slot(concurrency=1, delay=1.0, jitter=0.0)
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={"127.0.0.1": slot}))
    return crawler, slot


def capture_request(kind: str = "capture", **meta: object) -> Request:
    return Request(f"{BASE}/web/20240315103000id_/{ORIGINAL}", meta={**request_meta(kind), **meta})


def test_a_capture_comes_back_under_its_original_url() -> None:
    middleware = ArchiveResponseMiddleware()
    request = capture_request()
    # After the archive's redirect to the capture it has.
    final = f"{BASE}/web/20240316000000id_/{ORIGINAL}"
    response = HtmlResponse(final, body=b"<html></html>", request=request, flags=["cached"])
    renamed = middleware.process_response(request, response)
    assert renamed.url == ORIGINAL and renamed.flags == ["cached", "wayback"]
    assert renamed.body == response.body
    assert request.meta["dvcrawl_archived"] == {
        "archive_url": final,
        "archived_at": datetime(2024, 3, 16, tzinfo=UTC),
    }
    # An index answer, a live page and a capture address without a date stay as they are.
    index = Request(f"{BASE}/cdx/search/cdx?url=a", meta=request_meta("index"))
    answer = TextResponse(index.url, body=b"[]", request=index)
    assert middleware.process_response(index, answer) is answer
    live = Request(ORIGINAL)
    page = HtmlResponse(ORIGINAL, body=b"", request=live)
    assert middleware.process_response(live, page) is page
    odd = capture_request()
    nodate = HtmlResponse(f"{BASE}/web/20241399000000id_/{ORIGINAL}", body=b"", request=odd)
    assert middleware.process_response(odd, nodate) is nodate
    assert "dvcrawl_archived" not in odd.meta


def test_requests_to_the_archive_are_kept_from_autothrottle() -> None:
    crawler, _ = archive_crawler()
    middleware = ArchivePolitenessMiddleware.from_crawler(crawler)
    robots = Request(f"{BASE}/robots.txt")
    middleware.process_request(robots)
    assert robots.meta["autothrottle_dont_adjust_delay"] is True
    chosen = Request(f"{BASE}/web/x", meta={"autothrottle_dont_adjust_delay": False})
    middleware.process_request(chosen)
    assert chosen.meta["autothrottle_dont_adjust_delay"] is False
    portal = Request(ORIGINAL)
    middleware.process_request(portal)
    assert "autothrottle_dont_adjust_delay" not in portal.meta


def answered(middleware, request: Request, status: int, **headers: str) -> Request | TextResponse:
    response = TextResponse(request.url, status=status, headers=headers, request=request)
    middleware.response_downloaded(response=response, request=request, spider=None)
    return middleware.process_response(request, response)


def replace_meta(request: Request, **meta: object) -> Request:
    return request.replace(meta={**request.meta, **meta})


def test_a_429_pauses_the_archive_and_retries(caplog) -> None:
    crawler, slot = archive_crawler(DVCRAWL_WAYBACK_BACKOFF=10, DVCRAWL_WAYBACK_MAX_WAIT=100)
    middleware = ArchivePolitenessMiddleware.from_crawler(crawler)
    request = capture_request()
    before = time.monotonic()
    # A first refusal without Retry-After: the backoff itself.
    answered(middleware, capture_request(), 429)
    assert before + 10 <= slot.lastseen <= time.monotonic() + 10
    slot.lastseen = 0
    retry = answered(middleware, request, 429, **{"Retry-After": "30"})
    assert isinstance(retry, Request) and retry.url == request.url and retry.dont_filter
    assert retry.meta["retry_times"] == 1 and "dvcrawl_archive_paused" not in retry.meta
    assert before + 30 <= slot.lastseen <= time.monotonic() + 30
    # Without Retry-After: the backoff, doubled by each retry already made.
    slot.lastseen = 0
    again = answered(middleware, retry, 429)
    assert before + 20 <= slot.lastseen <= time.monotonic() + 20
    assert again.meta["retry_times"] == 2
    slot.lastseen = 0
    answered(middleware, again, 429)
    assert before + 40 <= slot.lastseen <= time.monotonic() + 40
    slot.lastseen = 0
    answered(middleware, replace_meta(again, retry_times=3), 429)
    assert before + 80 <= slot.lastseen <= time.monotonic() + 80
    # Capped, and a pause never shortens one in force.
    slot.lastseen = 0
    answered(middleware, capture_request(), 503, **{"Retry-After": "86400"})
    assert slot.lastseen <= time.monotonic() + 100
    held = slot.lastseen
    answered(middleware, capture_request(), 429, **{"Retry-After": "1"})
    assert slot.lastseen == held
    stats = crawler.stats.get_stats()
    assert stats["dvcrawl/wayback/throttled"] == 7
    assert stats["dvcrawl/wayback/throttled_seconds"] == 10 + 30 + 20 + 40 + 80 + 100 + 1
    assert stats["retry/reason_count/archive 429"] >= 3
    assert "the archive answered 429: pausing requests to it for 30 s" in caplog.messages
    # The slot a request went through is the one paused.
    other = SimpleNamespace(lastseen=0.0)
    crawler.engine.downloader.slots["archive-slot"] = other
    answered(middleware, capture_request(download_slot="archive-slot"), 429, **{"Retry-After": "5"})
    assert other.lastseen >= before + 5


def test_what_does_not_pause_the_archive() -> None:
    crawler, slot = archive_crawler()
    middleware = ArchivePolitenessMiddleware.from_crawler(crawler)
    for status, headers in ((503, {}), (200, {"Retry-After": "30"}), (404, {})):
        request = capture_request()
        response = answered(middleware, request, status, **headers)
        assert isinstance(response, TextResponse) and response.status == status
    # A portal's 429 is Scrapy's usual retry's business, not the archive's pause.
    portal = Request(ORIGINAL, meta={"download_slot": "127.0.0.1"})
    assert isinstance(answered(middleware, portal, 429, **{"Retry-After": "30"}), TextResponse)
    assert slot.lastseen == 0 and crawler.stats.get_value("dvcrawl/wayback/throttled") is None


def test_an_archive_that_keeps_refusing_is_given_up() -> None:
    crawler, _ = archive_crawler(DVCRAWL_WAYBACK_MAX_RETRIES=4, RETRY_TIMES=1)
    middleware = ArchivePolitenessMiddleware.from_crawler(crawler)
    request = capture_request()
    for _ in range(4):
        request = answered(middleware, request, 429, **{"Retry-After": "0"})
        assert isinstance(request, Request)
    final = answered(middleware, request, 429, **{"Retry-After": "0"})
    assert isinstance(final, TextResponse) and final.status == 429


def test_the_archive_politeness_defaults_are_the_projects() -> None:
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from dvcrawl import settings as project

    bare = ArchivePolitenessMiddleware(get_crawler(Spider))
    assert (
        (bare.backoff, bare.max_wait, bare.max_retries)
        == (
            project.DVCRAWL_WAYBACK_BACKOFF,
            project.DVCRAWL_WAYBACK_MAX_WAIT,
            project.DVCRAWL_WAYBACK_MAX_RETRIES,
        )
        == (60.0, 3600.0, 10)
    )
    assert (project.DVCRAWL_WAYBACK_DELAY, project.DVCRAWL_WAYBACK_PICK) == (1.0, "latest")


def test_the_next_crawl_waits_for_the_last_answer() -> None:
    from dvcrawl import wayback

    crawler, _ = archive_crawler()
    middleware = ArchivePolitenessMiddleware.from_crawler(crawler)
    wayback._LAST_ANSWER.pop("127.0.0.1", None)
    assert wait_for_archive(BASE, 5.0) == 0.0
    answered(middleware, Request(f"{BASE}/robots.txt"), 200)
    assert 4.5 < wait_for_archive(BASE, 5.0) <= 5.0
    assert wait_for_archive("https://another.archive.example", 5.0) == 0.0
    assert wait_for_archive("ftp://x", 5.0) == 0.0
    wayback._LAST_ANSWER["127.0.0.1"] = time.monotonic() - 60
    assert wait_for_archive(BASE, 5.0) == 0.0


def test_the_archive_slot_is_its_host_one_at_a_time() -> None:
    from scrapy.settings import Settings

    def slots(**values: object) -> dict:
        settings = Settings({"DVCRAWL_WAYBACK_DELAY": 1.5, **values})
        WaybackAddon().update_settings(settings)
        return settings.getdict("DOWNLOAD_SLOTS")

    assert slots() == {"web.archive.org": {"concurrency": 1, "delay": 1.5, "jitter": 0.0}}
    assert slots(DVCRAWL_WAYBACK_URL=BASE + "/") == {
        "127.0.0.1": {"concurrency": 1, "delay": 1.5, "jitter": 0.0}
    }
    # No delay asked for, or a replay: the slot keeps a tiny one, which a pause needs.
    assert slots(DVCRAWL_WAYBACK_DELAY=0)["web.archive.org"]["delay"] == 0.01
    assert slots(DVCRAWL_REPLAY=["a.warc.gz"])["web.archive.org"]["delay"] == 0.01
    assert slots(DVCRAWL_WAYBACK_URL="not a url") == {}
    mine = {"web.archive.org": {"concurrency": 2, "delay": 9}}
    assert slots(DOWNLOAD_SLOTS=mine) == mine
    # A user's slots given on the command line are kept, with their priority.
    settings = Settings({"DVCRAWL_WAYBACK_DELAY": 1.5})
    settings.set("DOWNLOAD_SLOTS", {"a.vn": {"delay": 5}}, priority="cmdline")
    WaybackAddon().update_settings(settings)
    assert settings.getdict("DOWNLOAD_SLOTS") == {
        "a.vn": {"delay": 5},
        "web.archive.org": {"concurrency": 1, "delay": 1.5, "jitter": 0.0},
    }
    assert settings.getpriority("DOWNLOAD_SLOTS") == 40
    fresh = Settings()
    WaybackAddon().update_settings(fresh)
    assert fresh.getpriority("DOWNLOAD_SLOTS") == 0, "the add-on raises no priority"
    assert request_meta("index") == {
        "dvcrawl_archive": "index",
        "autothrottle_dont_adjust_delay": True,
        "referrer_policy": "no-referrer",
    }


def test_archive_base_urls() -> None:
    assert wayback_base(None) == "https://web.archive.org"
    assert wayback_base(" http://127.0.0.1:8/ ") == "http://127.0.0.1:8"
    assert wayback_base("http://127.0.0.1:8/XX/") == "http://127.0.0.1:8/XX"
    for bad in ("ftp://x", "web.archive.org", "https://x/?a=1", "http://"):
        with pytest.raises(ValueError, match="DVCRAWL_WAYBACK_URL"):
            wayback_base(bad)
    assert archive_host("https://web.archive.org/") == "web.archive.org"
    assert archive_host("nope") is None
    assert capture_url("https://w.org", "2024", "https://a.vn/x?y=1") == (
        "https://w.org/web/2024id_/https://a.vn/x?y=1"
    )
    assert archived_page("https://w.org/web/20240315103000id_/https://a.vn/x") == ArchivedPage(
        "https://a.vn/x", datetime(2024, 3, 15, 10, 30, tzinfo=UTC)
    )
    assert archived_page("https://w.org/web/2024133id_/https://a.vn/x") is None
    assert parse_timestamp("2024") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_timestamp("202403") == datetime(2024, 3, 1, tzinfo=UTC)
    for bad in ("202", "202403151030001", "2024031510300012", "2024-03", "20x4", ""):
        with pytest.raises(ValueError, match="^not a capture timestamp: "):
            parse_timestamp(bad)


# --- the Thanh Xuân portal from the archive ------------------------------------------------------


@dataclass
class ArchiveRun:
    runner: Runner
    db_url: str
    server: FakeWayback
    first: subprocess.CompletedProcess[str]
    first_hits: list[str]
    second: subprocess.CompletedProcess[str]
    second_hits: list[str]
    status: subprocess.CompletedProcess[str]
    workdir: Path


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> ArchiveRun:
    """hanoi.gov.vn crawled (replayed) first, then the Thanh Xuân portal from the archive twice.

    Between the two archive runs the site's history is moved 30 days back: the second run
    finds nothing new, which on a live portal would be the silence alarm.
    """
    workdir = tmp_path_factory.mktemp("archive")
    runner = Runner(workdir)
    db_url = f"sqlite:///{workdir / 'corpus.sqlite3'}"
    hanoi = build_warc(workdir / "hanoi.warc.gz", "hanoi_gov")
    live = runner("crawl", "hanoi_gov", "--db", db_url, "--replay", str(hanoi))
    assert live.returncode == 0, live.stdout + live.stderr
    server = FakeWayback(thanhxuan_captures()).__enter__()
    first, first_hits = archive_crawl(runner, server, db_url, *QUICK)
    query(db_url, "SELECT 1")  # the database exists
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    with connection:
        connection.execute(
            "UPDATE crawl_runs SET started_at = datetime('now', '-30 days') WHERE site = ?", (SITE,)
        )
        connection.execute(
            "UPDATE articles SET first_seen_at = datetime('now', '-30 days') WHERE site = ?",
            (SITE,),
        )
    connection.close()
    second, second_hits = archive_crawl(runner, server, db_url, *QUICK)
    status = runner("status", "--db", db_url)
    server.__exit__()
    return ArchiveRun(
        runner, db_url, server, first, first_hits, second, second_hits, status, workdir
    )


def capture(timestamp: str, url: str, run: ArchiveRun) -> str:
    return f"{run.server.base}/web/{timestamp}id_/{url}"


def test_each_article_is_stored_once_with_its_own_title_date_and_provenance(
    archived: ArchiveRun,
) -> None:
    assert archived.first.returncode == 0, archived.first.stdout + archived.first.stderr
    stored = rows(archived.db_url)
    assert set(stored) == {A["url"], B["url"], C["url"], D_URL, E_URL, F["url"]}
    expected = {
        # page record, capture time, capture address (the spelling the archive captured)
        A["url"]: (A, "20240315103000", A["url"]),
        B["url"]: (B, "20231120020000", B["url"] + LINK_TAIL),
        C["url"]: (C, "20230701000000", C["url"].replace("https://", "http://")),
        E_URL: (E, "20240602000000", E_URL),
        F["url"]: (F, "20240520000000", F["url"].replace("https://", "http://www.")),
    }
    for url, (record, timestamp, captured) in expected.items():
        row = stored[url]
        assert (row["title"], row["published_at"], row["text"]) == (
            record["title"],
            record["published_at"],
            record["text"],
        ), url
        assert row["archive_url"] == capture(timestamp, captured, archived)
        assert row["archived_at"].startswith(
            datetime.strptime(timestamp, "%Y%m%d%H%M%S").strftime("%Y-%m-%d %H:%M:%S")
        )
        # Identity and extraction ran on the portal's URL, not on the archive's.
        assert row["url"].startswith("http") and "127.0.0.1" not in row["url"]
        assert row["http_etag"] is None
    # The republished hanoi.gov.vn article is found by the usual deduplication.
    copy = stored[D_URL]
    assert copy["duplicate_of"] == HANOI["url"] and copy["title"] == HANOI["title"]
    assert "Wayback Machine" not in "".join(row["text"] for row in stored.values())
    assert "1 listing links not archived" in archived.first.stdout  # the dead link on page 2
    table = report(archived.first.stdout)[SITE]
    assert (table["new"], table["duplicates"], table["non-articles"], table["result"]) == (
        "6",
        "1",
        "1",
        "ok",
    )


def test_each_capture_is_fetched_once_in_raw_form(archived: ArchiveRun) -> None:
    captures = [path for path in archived.first_hits if path.startswith("/web/")]
    assert len(captures) == len(set(captures))
    assert all(re.match(r"/web/\d{14}id_/https?://", path) for path in captures)
    assert captures, "the run read captures"
    expected = {
        capture_path("20240601080000", "https://thanhxuan.hanoi.gov.vn/tin-tuc-su-kien"),
        capture_path("20240315103000", A["url"]),
        capture_path("20231120020000", B["url"] + LINK_TAIL),
        capture_path("20230701000000", C["url"].replace("https://", "http://")),
        capture_path("20230615000000", C_OLD),
        capture_path("20251001000000", D_OLD),
        capture_path("20251001000000", D_URL),  # where the redirect points ...
        capture_path("20251002000000", D_URL),  # ... and the capture the archive has
        capture_path("20240102000000", REMOVED),
        capture_path("20240103000000", OFF_PORTAL),
        capture_path("20240520000000", F["url"].replace("https://", "http://www.")),
        capture_path("20240602000000", E_URL),
    }
    assert expected <= set(captures)
    assert len(captures) == len(expected) + 1  # and the second listing page
    # Never read: identical or older captures, the revisit record, the 404, the image.
    for never in ("20240229103000", "20240310103000", "20240401103000", "20231017030000"):
        assert not any(f"/web/{never}" in path for path in captures)
    assert not any(DEAD in path or IMAGE in path for path in captures)
    index = [path for path in archived.first_hits if path.startswith("/cdx/")]
    assert len(index) == 2 and all("output=json" in path for path in index)
    print(
        f"requests per stored article: {len(archived.first_hits)} requests "
        f"(robots.txt, {len(index)} index, {len(captures)} captures) for 6 articles"
    )


def test_redirects_404_and_non_articles_store_nothing_wrong(archived: ArchiveRun) -> None:
    outcomes = dict(query(archived.db_url, "SELECT original_url, outcome FROM archive_captures"))
    assert outcomes[C_OLD] == outcomes[D_OLD] == outcomes[OFF_PORTAL] == "redirect"
    assert outcomes[REMOVED] == "not_article"
    assert REMOVED not in rows(archived.db_url) and DEAD not in outcomes
    # The page behind D_OLD is not in the index: the archive served its nearest capture.
    assert rows(archived.db_url)[D_URL]["archived_at"].startswith("2025-10-02")
    stats = json.loads(
        query(archived.db_url, "SELECT stats FROM crawl_runs WHERE site = ? ORDER BY id", SITE)[0][
            0
        ]
    )
    assert stats["dvcrawl/wayback/redirects_off_portal"] == 1
    assert stats["dvcrawl/wayback/redirects"] == 3


def test_captured_listings_lead_to_articles_the_url_shape_misses(archived: ArchiveRun) -> None:
    assert rows(archived.db_url)[E_URL]["title"] == E["title"]
    stats = json.loads(
        query(archived.db_url, "SELECT stats FROM crawl_runs WHERE site = ? ORDER BY id", SITE)[0][
            0
        ]
    )
    assert stats["dvcrawl/article_links/structure"] >= 1
    assert stats["dvcrawl/listing_pages"] == 2


def test_a_second_run_reads_no_capture_and_is_not_silence(archived: ArchiveRun) -> None:
    second = archived.second
    assert second.returncode == 0, second.stdout + second.stderr
    assert [path for path in archived.second_hits if path.startswith("/web/")] == []
    assert len(archived.second_hits) == 3  # robots.txt and the two index queries
    assert report(second.stdout)[SITE]["new"] == "0"
    assert "health check" not in second.stderr
    assert query(archived.db_url, "SELECT count(*) FROM articles WHERE site = ?", SITE) == [(6,)]


def test_status_shows_the_archive_runs(archived: ArchiveRun) -> None:
    assert archived.status.returncode == 0, archived.status.stdout
    line = next(line for line in archived.status.stdout.splitlines() if line.startswith(SITE))
    assert line.split()[1:2] == ["wayback"] and "finished" in line
    assert (
        query(archived.db_url, "SELECT source, mode, outcome FROM crawl_runs WHERE site = ?", SITE)
        == [("wayback", "incremental", "finished")] * 2
    )


def test_exports_carry_the_provenance(archived: ArchiveRun) -> None:
    result = archived.runner("export", "--format", "jsonl", "-o", "-", "--db", archived.db_url)
    assert result.returncode == 0, result.stderr
    exported = {row["canonical_url"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert exported[A["url"]]["archive_url"].endswith(f"/web/20240315103000id_/{A['url']}")
    assert exported[A["url"]]["archived_at"] == "2024-03-15T10:30:00+00:00"
    assert exported[A["url"]]["published_at"] == A["published_at"]
    assert exported[HANOI["url"]]["archive_url"] is None  # fetched from the portal
    as_csv = archived.runner("export", "--format", "csv", "-o", "-", "--db", archived.db_url)
    header = next(csv.reader(io.StringIO(as_csv.stdout)))
    assert header[-2:] == ["archive_url", "archived_at"]


def test_the_warc_holds_the_captures_imports_and_replays(archived: ArchiveRun) -> None:
    warcs = sorted((archived.workdir / "storage" / "warc").glob(f"{SITE}-*.warc.gz"))
    assert len(warcs) == 2
    fetched = [response.url for response in iter_responses(warcs[0])]
    assert any("/cdx/search/cdx?" in url for url in fetched)
    assert capture("20240315103000", A["url"], archived) in fetched
    fresh = f"sqlite:///{archived.workdir / 'imported.sqlite3'}"
    result = archived.runner("import", str(warcs[0]), "--db", fresh)
    assert result.returncode == 0, result.stderr
    imported = rows(fresh)
    assert A["url"] in imported and imported[A["url"]]["title"] == A["title"]
    assert imported[A["url"]]["archive_url"] == capture("20240315103000", A["url"], archived)
    assert query(fresh, "SELECT count(*) FROM articles WHERE url LIKE '%127.0.0.1%'") == [(0,)]
    # The run replays offline, through the real engine, with the archive long gone.
    replayed = f"sqlite:///{archived.workdir / 'replayed.sqlite3'}"
    result = archived.runner(
        "crawl", SITE, "--source", "wayback", "--replay", str(warcs[0]), "--db", replayed,
        env=archived.server.env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(rows(replayed)) == set(rows(archived.db_url))


def test_a_live_crawl_replaces_the_archive_copy_in_place(
    archived: ArchiveRun, tmp_path: Path, tls_dir: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    shutil.copy(archived.db_url.removeprefix("sqlite:///"), db_url.removeprefix("sqlite:///"))
    runner = Runner(tmp_path)
    with FixtureServer(routes(SITE), tls_dir) as portal:
        result = runner("crawl", SITE, "--db", db_url, *FAST, env=portal.env())
    assert result.returncode == 0, result.stdout + result.stderr
    table = report(result.stdout)[SITE]
    assert table["new"] == "0" and int(table["updated"]) + int(table["unchanged"]) == 3
    stored = rows(db_url)
    assert len(stored) == 6
    for url in (A["url"], B["url"], C["url"]):
        assert stored[url]["archive_url"] is None and stored[url]["archived_at"] is None
    assert stored[E_URL]["archive_url"] is not None  # not on the live portal: still the archive's


# --- other archives, other settings ---------------------------------------------------------------


def test_a_mirror_that_answers_otherwise_stores_nothing_wrong(dvcrawl: Runner, db_url: str) -> None:
    with FakeWayback(mirror_captures(), loose=True) as server:
        result, hits = archive_crawl(dvcrawl, server, db_url, *QUICK)
    assert result.returncode == 0, result.stdout + result.stderr
    # The same pages as from the Wayback Machine, plus the page listed as a redirect.
    assert set(rows(db_url)) == {A["url"], B["url"], C["url"], D_URL, E_URL, F["url"], G["url"]}
    assert rows(db_url)[G["url"]]["title"] == G["title"]
    captures = [path for path in hits if path.startswith("/web/")]
    assert len(captures) == len(set(captures))
    # Never read, whatever the index lists: the revisit record, error and image captures,
    # another portal's pages, a URL that is no URL.
    assert not any("/web/20240401103000" in path for path in captures)
    for never in (DEAD, IMAGE, OTHER_PORTAL, BAD_PORT):
        assert not any(never in path for path in captures), never
    outcomes = dict(query(db_url, "SELECT original_url, outcome FROM archive_captures"))
    assert (outcomes[PDF], outcomes[GONE], outcomes[OUT_OF_ARCHIVE]) == (
        "not_html",
        "dead",
        "redirect",
    )
    stats = json.loads(query(db_url, "SELECT stats FROM crawl_runs")[0][0])
    assert stats["dvcrawl/wayback/redirects_out_of_archive"] == 1
    assert stats["dvcrawl/wayback/unusable_rows"] >= 5  # revisit, 404, image, bad port, ...


def test_earliest_captures_and_no_listings(dvcrawl: Runner, db_url: str) -> None:
    with FakeWayback(thanhxuan_captures()) as server:
        result, hits = archive_crawl(
            dvcrawl, server, db_url, *QUICK,
            "-s", "DVCRAWL_WAYBACK_PICK=earliest", "-s", "DVCRAWL_WAYBACK_LISTINGS=False",
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows(db_url)[B["url"]]["title"] == B_EARLY_TITLE
    assert rows(db_url)[B["url"]]["archived_at"].startswith("2023-10-17")
    assert all("collapse=urlkey" in path for path in hits if path.startswith("/cdx/"))
    # Without listings, the article only a listing leads to is not found.
    assert E_URL not in rows(db_url)
    assert not any(path.endswith("/tin-tuc-su-kien") for path in hits)


def test_captures_of_a_period(dvcrawl: Runner, db_url: str) -> None:
    with FakeWayback(thanhxuan_captures()) as server:
        result, hits = archive_crawl(
            dvcrawl, server, db_url, *QUICK, "--from", "2024", "--to", "202405"
        )
    assert result.returncode == 0, result.stdout + result.stderr
    # A (2024-03) and F (2024-05); E's only capture and the listing linking it are of June.
    assert set(rows(db_url)) == {A["url"], F["url"]}
    assert all("from=2024&to=202405" in path for path in hits if path.startswith("/cdx/"))


def test_a_failed_index_fails_the_run(dvcrawl: Runner, db_url: str) -> None:
    with FakeWayback(thanhxuan_captures()) as server:
        server.cdx_status = (
            403,
            b"org.archive.wayback.exception.AdministrativeAccessControlException: Blocked Site Error",
        )
        result, hits = archive_crawl(dvcrawl, server, db_url, *QUICK, "-s", "RETRY_TIMES=0")
    assert result.returncode == 1, result.stdout + result.stderr
    assert report(result.stdout)[SITE]["result"] == "FAILED"
    assert "health check archive_index failed" in result.stderr
    assert "Blocked Site Error" in result.stdout
    status = dvcrawl("status", "--db", db_url)
    assert status.returncode == 1 and f"{SITE} (wayback): archive_index:" in status.stdout


def test_an_archive_that_keeps_refusing_fails_the_run(dvcrawl: Runner, db_url: str) -> None:
    with FakeWayback(thanhxuan_captures()) as server:
        server.throttle["/cdx/search/cdx"] = (100, None, 429)
        result, hits = archive_crawl(
            dvcrawl, server, db_url, *QUICK, "-s", "RETRY_TIMES=0",
            "-s", "DVCRAWL_WAYBACK_BACKOFF=0.05", "-s", "DVCRAWL_WAYBACK_MAX_RETRIES=2",
        )  # fmt: skip
        times = [hit.time for hit in server.hits if hit.path.startswith("/cdx/")]
    assert result.returncode == 1 and "health check archive_index failed" in result.stderr
    assert len(times) == 6  # two queries, each asked three times
    # Each refusal pauses every request to the archive, the backoff doubling per retry.
    gaps = sorted(later - earlier for earlier, later in zip(times, times[1:], strict=False))
    assert all(
        gap >= wait - 0.01 for gap, wait in zip(gaps, (0.05, 0.05, 0.1, 0.1, 0.2), strict=True)
    )


def test_the_archive_is_asked_one_request_at_a_time_with_pauses_when_it_says_so(
    dvcrawl: Runner, db_url: str
) -> None:
    site = SyntheticSite(per_page=5)
    site.publish(4)
    archive = thanhxuan_captures() + synthetic_captures(site, ("20240101000000",))
    with FakeWayback(archive) as server:
        # The first index query: 429 without Retry-After (a backoff); the first capture of A:
        # 429 with Retry-After; a capture of the other site: 503 asking for an hour (capped).
        server.throttle["/cdx/search/cdx?url=thanhxuan"] = (1, None, 429)
        server.throttle[f"/web/20240315103000id_/{A['url']}"] = (1, "1", 429)
        server.throttle["/web/20240101000000id_/https://thanhuytphcm.vn/tin-tuc/"] = (
            1,
            "3600",
            503,
        )
        result = dvcrawl(
            "crawl", SITE, "thanhuytphcm", "--source", "wayback", "--db", db_url,
            "-s", "DVCRAWL_WAYBACK_DELAY=0.2", "-s", "DVCRAWL_WAYBACK_BACKOFF=0.5",
            "-s", "DVCRAWL_WAYBACK_MAX_WAIT=1",
            env=server.env(),
        )  # fmt: skip
        hits = list(server.hits)
        assert server.max_in_flight == 1
    assert result.returncode == 0, result.stdout + result.stderr
    assert A["url"] in rows(db_url) and len(rows(db_url, "thanhuytphcm")) == 4
    archive_hits = hits  # robots.txt included: it shares the archive's slot
    gaps = [
        later.time - earlier.time
        for earlier, later in zip(archive_hits, archive_hits[1:], strict=False)
    ]
    assert min(gaps) >= 0.2 - 0.03, gaps
    # AutoThrottle does not stretch the archive's delay to the portals' 2 s.
    assert sorted(gaps)[len(gaps) // 2] < 1.0, gaps
    throttled = [i for i, hit in enumerate(archive_hits) if hit.status in (429, 503)]
    assert len(throttled) == 3
    index_pause, capture_pause, capped_pause = (gaps[i] for i in throttled)
    assert index_pause >= 0.5 - 0.03 and capture_pause >= 1.0 - 0.03
    assert 1.0 - 0.03 <= capped_pause < 3.0
    # The sites were read one after the other, not interleaved.
    sites = [
        SITE if "thanhxuan" in hit.path else "thanhuytphcm"
        for hit in hits
        if hit.path != "/robots.txt"
    ]
    assert sites == sorted(sites, key=lambda name: name != SITE)
    assert f"{SITE}: archive" in result.stdout and "paused 2 times" in result.stdout
    assert "thanhuytphcm: archive" in result.stdout and "paused 1 times" in result.stdout


def test_a_killed_archive_run_resumes_where_it_stopped(
    dvcrawl: Runner, db_url: str, tmp_path: Path
) -> None:
    site = SyntheticSite(per_page=5)
    site.publish(30)
    captures = synthetic_captures(site, ("20240101000000", "20240201000000"))
    with FakeWayback(captures, latency=0.05) as server:
        process = dvcrawl.popen(
            "crawl", "thanhuytphcm", "--source", "wayback", "--db", db_url,
            "-s", "DVCRAWL_WAYBACK_DELAY=0.1", env=server.env(),
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(server.capture_hits()) < 14:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        first = server.capture_hits()
        stored_when_killed = query(db_url, "SELECT canonical_url, archive_url FROM articles")
        assert 0 < len(stored_when_killed) < 30, "the kill must land in the middle of the run"
        assert query(db_url, "PRAGMA integrity_check") == [("ok",)]
        assert list((tmp_path / "storage" / "warc").glob("*.warc.gz.open"))

        result, hits = archive_crawl(dvcrawl, server, db_url, *QUICK, site="thanhuytphcm")
    assert result.returncode == 0, result.stdout + result.stderr
    assert query(db_url, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [
        (30, 30)
    ]
    again = [path for path in hits if path.startswith("/web/")]
    # Nothing stored before the kill is read again; at most what was in flight is.
    for _, archive_url in stored_when_killed:
        assert urlsplit(archive_url).path not in again
    assert len(set(first) & set(again)) <= 2
    assert len(again) == len(set(again)), sorted(p for p in again if again.count(p) > 1)
    assert query(db_url, "SELECT outcome, source FROM crawl_runs ORDER BY id") == [
        ("interrupted", "wayback"),
        ("finished", "wayback"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "wayback", "--from", "2024-03"], "not a date"),
        (["--from", "2024"], "add --source wayback"),
        (["--source", "wayback", "--full"], "--full is for live runs"),
        (["--source", "wayback", "--refresh"], "--refresh is for live runs"),
        (["--source", "wayback", "--from", "2025", "--to", "2024"], "is after --to"),
        (["--source", "archive"], "invalid choice"),
        (["--source", "wayback", "--start-url", "https://thanhxuan.hanoi.gov.vn/"], "--start-url"),
        (["--source", "wayback", "-s", "DVCRAWL_WAYBACK_PICK=best"], "DVCRAWL_WAYBACK_PICK"),
        (["--source", "wayback", "--redis", "redis://127.0.0.1:9/0"], "runs in one process"),
    ],
)
def test_bad_archive_arguments_get_one_line(
    dvcrawl: Runner, db_url: str, args: list[str], message: str
) -> None:
    result = dvcrawl("crawl", SITE, "--db", db_url, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_bad_archive_url_gets_one_line(dvcrawl: Runner, db_url: str) -> None:
    result = dvcrawl(
        "crawl", SITE, "--source", "wayback", "--db", db_url, env={"DVCRAWL_WAYBACK_URL": "ftp://x"}
    )
    assert result.returncode == 2 and "DVCRAWL_WAYBACK_URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        {"source": "wayback", "mode": "full"},
        {"source": "wayback", "start_url": "https://thanhxuan.hanoi.gov.vn/"},
        {"source": "wayback", "capture_from": "2025", "capture_to": "2024"},
        {"source": "wayback", "capture_from": "2024-01"},
        {"capture_from": "2024"},
        {"source": "ftp"},
    ],
)
def test_the_spider_refuses_what_an_archive_run_cannot_do(arguments: dict) -> None:
    from dvcrawl.spiders.declared import HanoiThanhxuanSpider

    with pytest.raises(ValueError):
        HanoiThanhxuanSpider(**arguments)
