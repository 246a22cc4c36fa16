"""Scheduled, incremental crawls through the real engine and the loopback server.

Request counts are read from the server's log: what a portal would see.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dvcrawl.lock import lock_for
from tests.conftest import FAST, Runner, report
from tests.support.server import FixtureServer
from tests.support.synthetic_site import SyntheticSite


@pytest.fixture
def site() -> SyntheticSite:
    site = SyntheticSite(per_page=5)
    site.publish(12)  # pages of 5, 5, 2
    return site


@pytest.fixture
def server(site: SyntheticSite, tls_dir: Path) -> Iterator[FixtureServer]:
    with FixtureServer(site.routes(), tls_dir) as running:
        yield running


def crawl(
    dvcrawl: Runner, server: FixtureServer, db_url: str, *extra: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run one crawl; return the result and the URLs the server was asked for during it."""
    before = len(server.hits)
    result = dvcrawl("crawl", "thanhuytphcm", "--db", db_url, *FAST, *extra, env=server.env())
    return result, [hit.url for hit in server.hits[before:]]


def article_hits(urls: list[str]) -> list[str]:
    return [url for url in urls if "/tin-tuc/" in url]


def listing_hits(urls: list[str]) -> list[str]:
    return [url for url in urls if "/nhom-tin/" in url]


def query(db_url: str, sql: str) -> list[tuple]:
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_first_second_and_k_new_runs(
    dvcrawl: Runner, server: FixtureServer, site: SyntheticSite, db_url: str
) -> None:
    first, urls = crawl(dvcrawl, server, db_url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(article_hits(urls)) == 12 and len(listing_hits(urls)) == 3
    assert query(db_url, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [
        (12, 12)
    ]

    second, urls = crawl(dvcrawl, server, db_url)
    assert second.returncode == 0, second.stdout + second.stderr
    # Unchanged site: robots.txt, the home page, the first listing page. No article at all.
    assert article_hits(urls) == [] and listing_hits(urls) == [site.listing_url(1)]
    assert report(second.stdout)["thanhuytphcm"]["article req"] == "0"

    new = site.publish(3)
    server.routes = site.routes()
    third, urls = crawl(dvcrawl, server, db_url)
    assert third.returncode == 0, third.stdout + third.stderr
    # k = 3 new articles: the listing pages up to the first page of known ones, plus k.
    assert sorted(article_hits(urls)) == sorted(a.url for a in new)
    assert listing_hits(urls) == [site.listing_url(1), site.listing_url(2)]
    assert report(third.stdout)["thanhuytphcm"]["new"] == "3"
    assert query(db_url, "SELECT count(*) FROM articles") == [(15,)]


def test_refresh_downloads_only_changed_articles(
    dvcrawl: Runner, server: FixtureServer, site: SyntheticSite, db_url: str
) -> None:
    assert crawl(dvcrawl, server, db_url)[0].returncode == 0
    changed = site.articles[7]
    site.edit(changed, "Cập nhật: Ban Dân vận Thành ủy sẽ tổ chức sơ kết mô hình vào quý IV.")
    server.routes = site.routes()
    before = len(server.hits)
    result, urls = crawl(dvcrawl, server, db_url, "--refresh")
    assert result.returncode == 0, result.stdout + result.stderr
    requests = server.hits[before:]
    conditional = [
        hit for hit in requests if "/tin-tuc/" in hit.url and "if-none-match" in hit.headers
    ]
    assert len(conditional) == 12
    row = report(result.stdout)["thanhuytphcm"]
    assert (row["updated"], row["304"], row["new"]) == ("1", "11", "0")
    text = query(db_url, f"SELECT text FROM articles WHERE canonical_url = '{changed.url}'")[0][0]
    assert text.endswith("sơ kết mô hình vào quý IV.")
    assert query(db_url, "SELECT count(*) FROM article_versions") == [(1,)]


def test_a_killed_crawl_loses_and_duplicates_nothing(
    dvcrawl: Runner, tls_dir: Path, db_url: str, tmp_path: Path
) -> None:
    site = SyntheticSite(per_page=5)
    site.publish(30)
    with FixtureServer(site.routes(), tls_dir) as server:
        # Every article is its own transaction (DVCRAWL_COMMIT_EVERY = 1: larger batches stall
        # a crawl's other writers on SQLite, and `crawl` refuses them there).
        slow = ["-s", "DOWNLOAD_DELAY=0.1", "-s", "AUTOTHROTTLE_ENABLED=False"]
        process = dvcrawl.popen("crawl", "thanhuytphcm", "--db", db_url, *slow, env=server.env())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(article_hits(server.urls())) < 14:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)  # no cleanup of any kind
        process.communicate(timeout=30)
        stored_when_killed = query(db_url, "SELECT count(*) FROM articles")[0][0]
        assert 0 < stored_when_killed < 30, "the kill must land in the middle of the crawl"
        assert query(db_url, "SELECT outcome FROM crawl_runs") == [("running",)]
        assert query(db_url, "PRAGMA integrity_check") == [("ok",)]
        assert list((tmp_path / "storage" / "warc").glob("*.warc.gz.open")), (
            "the killed crawl's archive is kept"
        )

        result = dvcrawl("crawl", "thanhuytphcm", "--db", db_url, *FAST, env=server.env())
        assert result.returncode == 0, result.stdout + result.stderr
    assert query(db_url, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [
        (30, 30)
    ]
    assert query(
        db_url, "SELECT count(*) FROM articles WHERE title IS NULL OR text IS NULL OR text = ''"
    ) == [(0,)]
    assert query(db_url, "SELECT outcome, finish_reason FROM crawl_runs ORDER BY id") == [
        ("interrupted", "killed"),
        ("finished", "finished"),
    ]


def test_full_backfill_resumes_where_it_stopped(
    dvcrawl: Runner, tls_dir: Path, db_url: str
) -> None:
    site = SyntheticSite(per_page=5)
    site.publish(30)  # 6 listing pages
    with FixtureServer(site.routes(), tls_dir) as server:
        slow = ["-s", "CONCURRENT_REQUESTS=1", "--max-pages", "9"]
        first, urls = crawl(dvcrawl, server, db_url, "--full", *slow)
        assert first.returncode == 0, first.stdout + first.stderr
        walked = listing_hits(urls)
        assert 1 <= len(walked) < 6
        cursor = query(db_url, "SELECT next_url, page, done_at FROM crawl_cursors")
        assert len(cursor) == 1 and cursor[0][2] is None

        second, urls = crawl(dvcrawl, server, db_url, "--full")
        assert second.returncode == 0, second.stdout + second.stderr
        resumed = listing_hits(urls)
        assert resumed[0] == cursor[0][0] and site.listing_url(1) not in resumed
        assert query(db_url, "SELECT count(*) FROM articles") == [(30,)]
        assert query(db_url, "SELECT count(*) FROM crawl_cursors WHERE done_at IS NOT NULL") == [
            (1,)
        ]

        third, urls = crawl(dvcrawl, server, db_url, "--full")
        assert listing_hits(urls)[0] == site.listing_url(1), "a completed backfill starts over"
        assert article_hits(urls) == []


def test_runs_never_overlap(dvcrawl: Runner, db_url: str, thanhuytphcm_warc: Path) -> None:
    lock = lock_for(Path(dvcrawl.env["DVCRAWL_STORAGE_DIR"]), db_url, "thanhuytphcm")
    lock.acquire()
    try:
        result = dvcrawl(
            "crawl", "thanhuytphcm", "--db", db_url, "--replay", str(thanhuytphcm_warc)
        )
    finally:
        lock.release()
    assert result.returncode == 75 and "another crawl of thanhuytphcm" in result.stderr
    assert (
        dvcrawl(
            "crawl", "thanhuytphcm", "--db", db_url, "--replay", str(thanhuytphcm_warc)
        ).returncode
        == 0
    )


def test_schedule_runs_repeatedly_and_stops_cleanly_on_sigterm(
    dvcrawl: Runner, db_url: str, thanhuytphcm_warc: Path
) -> None:
    def finished_runs() -> int:
        # The first crawl creates the file before its tables: not finished yet (issue 10).
        try:
            return query(db_url, "SELECT count(*) FROM crawl_runs WHERE outcome = 'finished'")[0][0]
        except sqlite3.OperationalError:
            return 0

    process = dvcrawl.popen(
        "schedule",
        "--every",
        "1s",
        "thanhuytphcm",
        "--db",
        db_url,
        "--replay",
        str(thanhuytphcm_warc),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and finished_runs() < 2:
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        # Never leave the loop running into other tests.
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    # The first runs ran to their end; the one SIGTERM reached (if any) shut down gracefully.
    assert "crawl run 1 exited with status 0" in err and "crawl run 2 exited" in err
    outcomes = {row[0] for row in query(db_url, "SELECT outcome FROM crawl_runs")}
    assert outcomes <= {"finished", "interrupted"} and "running" not in outcomes
    assert query(db_url, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(4, 4)]


def test_crawl_all_reports_every_enabled_site(dvcrawl: Runner, db_url: str, tmp_path: Path) -> None:
    from dvcrawl.sites import SITES
    from tests.support.fixture_sites import build_warc

    sites = [site for site in SITES.values() if site.enabled]
    archive = build_warc(tmp_path / "all.warc.gz", *(s.id for s in sites))
    result = dvcrawl("crawl", "--all", "--db", db_url, "--replay", str(archive), timeout=300)
    table = report(result.stdout)
    assert set(table) == {s.id for s in sites}
    assert all(int(row["new"]) > 0 for row in table.values())


def test_two_crawls_open_a_new_sqlite_database_at_once(
    dvcrawl: Runner, db_url: str, tmp_path: Path
) -> None:
    from tests.support.fixture_sites import build_warc

    archive = build_warc(tmp_path / "two.warc.gz", "thanhuytphcm", "danvan")
    one = dvcrawl.popen("crawl", "thanhuytphcm", "--db", db_url, "--replay", str(archive))
    two = dvcrawl.popen("crawl", "danvan", "--db", db_url, "--replay", str(archive))
    (_, err_one), (_, err_two) = one.communicate(timeout=120), two.communicate(timeout=120)
    assert one.returncode == 0 and two.returncode == 0, err_one + err_two
    assert query(db_url, "SELECT site, count(*) FROM articles GROUP BY site ORDER BY site") == [
        ("danvan", 3),
        ("thanhuytphcm", 4),
    ]


def test_a_backfill_whose_article_redirects_completes(
    dvcrawl: Runner, db_url: str, thanhuytphcm_warc: Path
) -> None:
    """The fixture's page 2 links an article through a www. redirect: its answer comes back
    for the redirect's target, and must still count for the URL the listing gave."""
    result = dvcrawl(
        "crawl", "thanhuytphcm", "--full", "--db", db_url, "--replay", str(thanhuytphcm_warc)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert query(db_url, "SELECT next_url, done_at IS NOT NULL FROM crawl_cursors") == [(None, 1)]
