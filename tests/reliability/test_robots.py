"""robots.txt per RFC 9309, with the last good copy kept in the database (issue 10, item 4)."""

from __future__ import annotations

import sqlite3

from tests.reliability.conftest import ROBOTS, FaultLab
from tests.support.server import Route
from tests.support.synthetic_site import HOST

#: The synthetic site's robots.txt forbids this section, which its home page links to.
FORBIDDEN = f"{HOST}/nhom-tin/luu-tru-"


def test_robots_5xx_without_a_copy_fetches_nothing(lab: FaultLab) -> None:
    routes = lab.routes()
    routes[ROBOTS] = Route(status=500, body=b"Internal Server Error")
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1
    assert set(crawl.urls()) == {ROBOTS}, "a server error on robots.txt is a complete disallow"
    assert crawl.cause == (
        "robots.txt of thanhuytphcm.vn could not be read (500 Internal Server Error) and no "
        "earlier copy is stored: 1 page not fetched (RFC 9309)"
    )
    lab.record("4a", "robots.txt 5xx, no copy", "robots.txt answers 500, first run", crawl)


def test_robots_5xx_with_a_stored_copy_obeys_the_copy(lab: FaultLab) -> None:
    first = lab.crawl()
    assert first.returncode == 0, first.output
    lab.site.publish(3)
    routes = lab.routes()
    routes[ROBOTS] = Route(status=503, body=b"Service Unavailable")
    crawl = lab.crawl(routes)
    assert crawl.returncode == 0, crawl.output
    assert (
        "robots.txt of thanhuytphcm.vn could not be read (503 Service Unavailable); obeying the copy of"
        in crawl.result.stderr
    )
    # The copy's rules still hold: the forbidden archive section is not fetched.
    assert not any(url.startswith(FORBIDDEN) for url in crawl.urls())
    assert crawl.stats["dvcrawl/robots/cached_copy"] == 1
    lab.record(
        "4b",
        "robots.txt 5xx, copy stored",
        "robots.txt answers 503 after a good run; 3 new articles",
        crawl,
    )


def test_robots_network_failure_is_a_complete_disallow(lab: FaultLab) -> None:
    routes = lab.routes()
    routes[ROBOTS] = Route(fault="reset")
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1 and crawl.stored == {}
    assert all(url == ROBOTS for url in crawl.urls())
    assert crawl.cause.startswith("unreachable: ")
    lab.record("4c", "robots.txt connection reset", "every robots.txt request is reset", crawl)


def test_robots_429_is_unreachable_not_missing(lab: FaultLab) -> None:
    # 429 is a 4xx, but it says "overloaded", not "no rules": complete disallow.
    routes = lab.routes()
    routes[ROBOTS] = Route(status=429, body=b"slow down", headers=[("Retry-After", "0")])
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1 and set(crawl.urls()) == {ROBOTS}
    assert "(429 Too Many Requests) and no earlier copy is stored" in crawl.cause


def test_robots_4xx_means_no_rules(lab: FaultLab) -> None:
    routes = lab.routes()
    routes[ROBOTS] = Route(status=404, body=b"Not Found")
    crawl = lab.crawl(routes)
    assert crawl.returncode == 0, crawl.output
    # With no robots.txt at all, the archive section is fair game (RFC 9309 2.3.1.3).
    assert any(url.startswith(FORBIDDEN) for url in crawl.urls())
    lab.record("4d", "no robots.txt", "robots.txt answers 404", crawl)


def test_a_robots_txt_that_forbids_everything_fails_the_run(lab: FaultLab) -> None:
    routes = lab.routes()
    routes[ROBOTS] = Route(
        body=b"User-agent: *\nDisallow: /\n", headers=[("Content-Type", "text/plain")]
    )
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1
    assert set(crawl.urls()) == {ROBOTS}
    assert (
        "robots.txt of https://thanhuytphcm.vn forbids https://thanhuytphcm.vn/ to our user agent"
        in crawl.result.stderr
    )
    assert crawl.cause == "robots.txt forbids every start page (1) to our user agent"
    lab.record("4e", "robots.txt forbids everything", "robots.txt says `Disallow: /`", crawl)


def test_the_copy_is_kept_per_host_and_replaced_by_a_newer_one(lab: FaultLab) -> None:
    assert lab.crawl().returncode == 0
    routes = lab.routes()
    routes[ROBOTS] = Route(
        body=b"User-agent: *\nDisallow: /tim-kiem\n", headers=[("Content-Type", "text/plain")]
    )
    assert lab.crawl(routes).returncode == 0
    connection = sqlite3.connect(lab.db_url.removeprefix("sqlite:///"))
    rows = connection.execute("SELECT origin, status, body FROM robots_copies").fetchall()
    connection.close()
    assert rows == [("https://thanhuytphcm.vn", 200, "User-agent: *\nDisallow: /tim-kiem\n")]
