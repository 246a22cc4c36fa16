"""Answers that drip, stop short, never end, explode when decompressed, or go in circles
(issue 10, item 8, and the faults the crawler already survived)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.reliability.conftest import FaultLab
from tests.support.server import Route


def test_a_slow_drip_costs_a_bounded_time(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[1]
    page = routes[article.url]
    routes[article.url] = Route(body=page.body, headers=page.headers, fault="drip")
    # 2 s per attempt, 5 s per page: a second attempt fits, a third would not.
    crawl = lab.crawl(routes, "-s", "DOWNLOAD_TIMEOUT=2", "-s", "DVCRAWL_PAGE_TIME_BUDGET=5")
    assert crawl.returncode == 1
    assert crawl.urls().count(article.url) == 2
    assert crawl.cause == (
        f"1 page lost; last: no complete answer from thanhuytphcm.vn within 2 s: {article.url}"
    )
    assert crawl.stats["dvcrawl/retry/out_of_time"] == 1
    lab.record(
        "8a",
        "slow drip",
        "one article sends 16 bytes a second (timeout 2 s, budget 5 s per page)",
        crawl,
    )


def test_an_answer_cut_short_once_is_retried(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[2]
    page = routes[article.url]
    routes[article.url] = Route(
        body=page.body, headers=page.headers, fault="truncate", fault_count=1
    )
    crawl = lab.crawl(routes)
    assert crawl.returncode == 0, crawl.output
    lab.record(
        "8b", "truncated answer", "one article stops at half its Content-Length, once", crawl
    )


def test_an_answer_always_cut_short_names_the_cause(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[2]
    page = routes[article.url]
    routes[article.url] = Route(body=page.body, headers=page.headers, fault="truncate")
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1
    assert crawl.cause == (
        "1 page lost; last: the answer from thanhuytphcm.vn was cut short "
        f"(fewer bytes than its Content-Length): {article.url}"
    )
    # Never an empty reason in the log.
    assert "thanhuytphcm] WARNING: the answer from thanhuytphcm.vn was cut short" in crawl.output
    lab.record(
        "8c",
        "truncated answer, always",
        "one article always stops at half its Content-Length",
        crawl,
    )


def test_an_endless_body_is_refused_by_its_size(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[0]
    routes[article.url] = Route(
        fault="stream", size=200 * 1024 * 1024, headers=[("Content-Type", "text/html")]
    )
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1
    assert crawl.cause == (
        f"1 page lost; last: the answer from thanhuytphcm.vn is larger than DOWNLOAD_MAXSIZE: {article.url}"
    )
    lab.record("8d", "200 MB body", "one article announces and streams 200 MB", crawl)


@pytest.fixture(scope="session")
def gzip_bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """1 GiB of zeros, gzip-compressed to about 1 MB."""
    path = Path(tmp_path_factory.mktemp("bomb")) / "bomb.gz"
    with gzip.open(path, "wb", compresslevel=9) as handle:
        block = b"\0" * (1 << 20)
        for _ in range(1024):
            handle.write(block)
    return path.read_bytes()


def test_a_gzip_bomb_is_refused(lab: FaultLab, gzip_bomb: bytes) -> None:
    routes = lab.routes()
    article = lab.site.articles[0]
    routes[article.url] = Route(
        body=gzip_bomb, headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")]
    )
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1
    assert crawl.cause == (
        f"1 page lost; last: larger than DOWNLOAD_MAXSIZE once decompressed: {article.url}"
    )
    lab.record(
        "8e",
        "gzip bomb",
        f"one article is 1 GiB of zeros in {len(gzip_bomb) // 1024} KB of gzip",
        crawl,
    )


def test_a_redirect_loop_is_an_error(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[3]
    routes[article.url] = Route(status=302, headers=[("Location", f"{article.url}?v=2")])
    routes[f"{article.url}?v=2"] = Route(status=302, headers=[("Location", article.url)])
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1
    assert crawl.cause.startswith("1 page lost; last: a redirect loop: ")
    lab.record("8f", "redirect loop", "one article redirects to a copy that redirects back", crawl)


def test_a_redirect_off_the_portal_is_an_error(lab: FaultLab) -> None:
    routes = lab.routes()
    article = lab.site.articles[3]
    routes[article.url] = Route(status=301, headers=[("Location", "https://example.org/moved")])
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1
    assert crawl.cause == (
        f"1 page lost; last: {article.url} redirects off the portal to https://example.org/moved"
    )
    assert "https://example.org/moved" not in crawl.urls()
    lab.record("8g", "redirect off the portal", "one article redirects to another domain", crawl)


def test_two_links_redirecting_to_one_page_are_not_a_loop(lab: FaultLab) -> None:
    # A portal that merged two articles: both old URLs redirect to a new one.
    routes = lab.routes()
    first, second = lab.site.articles[0], lab.site.articles[1]
    merged = "https://thanhuytphcm.vn/tin-tuc/bai-viet-gop-1491959999"
    routes[merged] = routes[first.url]
    routes[first.url] = Route(status=301, headers=[("Location", merged)])
    routes[second.url] = Route(status=301, headers=[("Location", merged)])
    crawl = lab.crawl(routes)
    assert crawl.returncode == 0, crawl.output
    assert crawl.urls().count(merged) == 1 and merged in crawl.stored
    assert crawl.stats["dvcrawl/skipped/redirect_to_known"] == 1
