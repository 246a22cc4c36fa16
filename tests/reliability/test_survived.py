"""Faults the crawler already survived before issue 10, kept in the table: two writers on one
SQLite file, kill -9 in the middle of crawls, archives cut short."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from tests.conftest import Runner
from tests.reliability.conftest import FaultLab
from tests.reliability.ledger import Row, outcome, record
from tests.support.fixture_sites import build_warc, expected_articles, load_responses
from tests.support.server import FixtureServer


def test_two_writers_on_one_sqlite_file(dvcrawl: Runner, tmp_path: Path) -> None:
    archive = build_warc(tmp_path / "two.warc.gz", "thanhuytphcm", "danvan", "baodongthap")
    db = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    processes = [
        dvcrawl.popen("crawl", site, "--db", db, "--replay", str(archive))
        for site in ("thanhuytphcm", "danvan", "baodongthap")
    ]
    codes = []
    for process in processes:
        process.communicate(timeout=180)
        codes.append(process.returncode)
    assert codes == [0, 0, 0]
    connection = sqlite3.connect(db.removeprefix("sqlite:///"))
    stored = {
        row[0]: (row[1], row[2])
        for row in connection.execute("SELECT canonical_url, title, text FROM articles")
    }
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()
    expected = {}
    for site in ("thanhuytphcm", "danvan", "baodongthap"):
        served = {response.url for response in load_responses(site)}
        for _, golden in expected_articles(site):
            if golden["url"] in served or golden["canonical_url"] in served:
                expected[golden["canonical_url"]] = (golden["title"], golden["text"])
    wrong = sum(1 for url, row in stored.items() if expected.get(url) != row)
    assert wrong == 0 and set(stored) == set(expected)
    record(
        Row(
            "0a",
            "three writers on one SQLite file",
            "three crawls of three sites into one new database at the same moment",
            outcome(0, None),
            f"{len(stored)} of {len(expected)} articles",
            0,
            wrong,
        )
    )


def test_kill_9_three_times_then_a_clean_run(lab: FaultLab) -> None:
    lab.site.publish(25)  # 30 articles on 6 listing pages
    slow = ["-s", "DOWNLOAD_DELAY=0.05", "-s", "AUTOTHROTTLE_ENABLED=False"]
    with FixtureServer(lab.routes(), lab.tls_dir) as server:
        for kill in range(3):
            process = lab.dvcrawl.popen(
                "crawl", "thanhuytphcm", "--db", lab.db_url, *slow, env=server.env()
            )
            target = len(server.hits) + 6 + 4 * kill
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(server.hits) < target:
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=30)
        killed_with = (
            sqlite3.connect(lab.db_url.removeprefix("sqlite:///"))
            .execute("SELECT count(*) FROM articles")
            .fetchone()[0]
        )
        crawl = lab.crawl(None, server=server)
    assert crawl.returncode == 0, crawl.output
    connection = sqlite3.connect(lab.db_url.removeprefix("sqlite:///"))
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    outcomes = [r[0] for r in connection.execute("SELECT outcome FROM crawl_runs ORDER BY id")]
    connection.close()
    assert outcomes == ["interrupted"] * 3 + ["finished"]
    assert killed_with < 30, "the kills must land before the end"
    lab.record(
        "0b",
        "kill -9, three times",
        "three crawls of 30 articles killed with SIGKILL mid-run, then one run to the end",
        crawl,
    )


def test_an_archive_cut_short(dvcrawl: Runner, tmp_path: Path, thanhuytphcm_warc: Path) -> None:
    from dvcrawl.warc import iter_responses

    data = thanhuytphcm_warc.read_bytes()
    cut = tmp_path / "killed.warc.gz.open"
    cut.write_bytes(data[: int(len(data) * 0.8)])
    complete = list(iter_responses(cut))
    db = f"sqlite:///{tmp_path / 'cut.sqlite3'}"
    result = dvcrawl("import", str(cut), "--db", db)
    assert result.returncode == 0, result.stderr
    assert f"is cut short after {len(complete)} responses; the rest is lost" in result.stderr
    reference = f"sqlite:///{tmp_path / 'whole.sqlite3'}"
    assert dvcrawl("import", str(thanhuytphcm_warc), "--db", reference).returncode == 0

    def rows(url: str) -> dict:
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return {
                r[0]: (r[1], r[2])
                for r in connection.execute("SELECT canonical_url, title, text FROM articles")
            }
        finally:
            connection.close()

    got, whole = rows(db), rows(reference)
    wrong = sum(1 for url, row in got.items() if whole.get(url) != row)
    # What the cut archive still holds: the articles among its complete records.
    from dvcrawl.urls import canonicalize

    held = {canonicalize(response.url) for response in complete} & set(whole)
    assert wrong == 0 and set(got) == held and got
    record(
        Row(
            "0c",
            "archive cut short",
            "`dvcrawl import` of a WARC cut at 80% (a killed crawl's `.open` file)",
            "0 (the cut is reported on stderr; nothing after it can be read)",
            f"{len(got)} of {len(held)} articles in its complete records "
            f"({len(whole)} in the whole archive)",
            0,
            wrong,
        )
    )
