"""The same paths on PostgreSQL (any SQLAlchemy URL works; SQLite and PostgreSQL are tested).

Run by .ci/run against a server it starts on loopback; skipped where no server is given.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import FAST, Runner, report
from tests.support.fixture_sites import routes
from tests.support.server import FixtureServer
from tests.support.synthetic_site import SyntheticSite
from tests.test_dedup import (
    EXACT_URL,
    NEAR_URL,
    ORIGINAL,
    ORIGINAL_URL,
    build_archive,
    exact_copy,
    near_copy,
)


def query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_crawl_twice_status_and_export(
    dvcrawl: Runner, pg_url: str, thanhuytphcm_warc: Path, tmp_path: Path
) -> None:
    first = dvcrawl("crawl", "thanhuytphcm", "--db", pg_url, "--replay", str(thanhuytphcm_warc))
    second = dvcrawl("crawl", "thanhuytphcm", "--db", pg_url, "--replay", str(thanhuytphcm_warc))
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert report(second.stdout)["thanhuytphcm"]["article req"] == "0"
    assert query(pg_url, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(4, 4)]
    assert query(pg_url, "SELECT outcome FROM crawl_runs ORDER BY id") == [
        ("finished",),
        ("finished",),
    ]
    assert dvcrawl("status", "--db", pg_url).returncode == 0
    out = tmp_path / "corpus.parquet"
    assert dvcrawl("export", "--format", "parquet", "--db", pg_url, "-o", str(out)).returncode == 0
    import pyarrow.parquet as pq

    assert pq.read_table(out).num_rows == 4


def test_copies_across_portals(dvcrawl: Runner, pg_url: str, tmp_path: Path) -> None:
    archive = build_archive(
        tmp_path / "copies.warc.gz",
        (ORIGINAL_URL, ORIGINAL.read_bytes()),
        (EXACT_URL, exact_copy()),
        (NEAR_URL, near_copy()),
    )
    assert dvcrawl("import", str(archive), "--db", pg_url).returncode == 0
    rows = dict(query(pg_url, "SELECT canonical_url, duplicate_of FROM articles"))
    assert rows == {ORIGINAL_URL: None, EXACT_URL: ORIGINAL_URL, NEAR_URL: ORIGINAL_URL}
    exported = dvcrawl("export", "--format", "jsonl", "--db", pg_url, "-o", "-").stdout.splitlines()
    assert [json.loads(line)["canonical_url"] for line in exported] == [ORIGINAL_URL]


def test_incremental_runs_and_concurrent_writers(
    dvcrawl: Runner, pg_url: str, tls_dir: Path
) -> None:
    site = SyntheticSite(per_page=5)
    site.publish(12)
    with FixtureServer(site.routes() | routes("danvan"), tls_dir) as server:
        # Two crawls of two sites write into one database at once, both through the loopback
        # server; a small delay per request keeps both running long enough to overlap.
        paced = [*FAST, "-s", "DOWNLOAD_DELAY=0.2", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False"]
        other = dvcrawl.popen("crawl", "danvan", "--db", pg_url, *paced, env=server.env())
        first = dvcrawl("crawl", "thanhuytphcm", "--db", pg_url, *paced, env=server.env())
        _, other_err = other.communicate(timeout=120)
        assert first.returncode == 0, first.stdout + first.stderr
        assert other.returncode == 0, other_err
        site.publish(3)
        server.routes = site.routes()
        before = len(server.hits)
        third = dvcrawl("crawl", "thanhuytphcm", "--db", pg_url, *FAST, env=server.env())
        assert third.returncode == 0, third.stdout + third.stderr
        assert sum("/tin-tuc/" in hit.url for hit in server.hits[before:]) == 3
    assert query(
        pg_url,
        "SELECT site, count(*), count(DISTINCT canonical_url) FROM articles "
        "GROUP BY site ORDER BY site",
    ) == [("danvan", 3, 3), ("thanhuytphcm", 15, 15)]
    runs = query(
        pg_url, "SELECT site, outcome, new, started_at, finished_at FROM crawl_runs ORDER BY id"
    )
    assert sorted((site, outcome, new) for site, outcome, new, _, _ in runs) == [
        ("danvan", "finished", 3),
        ("thanhuytphcm", "finished", 3),
        ("thanhuytphcm", "finished", 12),
    ]
    danvan = next(run for run in runs if run[0] == "danvan")
    first_run = next(run for run in runs if run[0] == "thanhuytphcm")
    assert danvan[3] < first_run[4] and first_run[3] < danvan[4], (
        "the two writers did not overlap in time"
    )


def test_an_archive_run_and_its_resumption(dvcrawl: Runner, pg_url: str) -> None:
    from tests.support.wayback_archives import thanhxuan_captures
    from tests.support.wayback_server import FakeWayback

    with FakeWayback(thanhxuan_captures()) as archive:
        arguments = ("crawl", "hanoi_thanhxuan", "--source", "wayback", "--db", pg_url)
        quick = ("-s", "DVCRAWL_WAYBACK_DELAY=0")
        first = dvcrawl(*arguments, *quick, env=archive.env())
        assert first.returncode == 0, first.stdout + first.stderr
        read = len(archive.capture_hits())
        second = dvcrawl(*arguments, *quick, env=archive.env())
        assert second.returncode == 0, second.stdout + second.stderr
        assert len(archive.capture_hits()) == read  # nothing read twice
    assert query(
        pg_url, "SELECT count(*), count(archive_url), count(DISTINCT canonical_url) FROM articles"
    ) == [(6, 6, 6)]
    assert query(pg_url, "SELECT count(*) FROM archive_captures") == [(read - 1,)]
    assert query(pg_url, "SELECT DISTINCT source FROM crawl_runs") == [("wayback",)]


def test_two_writers_recording_the_topic_list_together_both_go_on(pg_url: str) -> None:
    # Two workers started at once on a new database both score and both record the topic
    # list: the second's insert meets the first's row (seen as a crawl failing at its start).
    from sqlalchemy import event

    from dvcrawl.db import init_db, make_engine
    from dvcrawl.topic import load_topic, refresh_scores

    topic = load_topic()
    engine = make_engine(pg_url, writer=True)
    init_db(engine)
    other = create_engine(pg_url)

    def record_first(connection, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TOPIC_LISTS"):
            with other.begin() as first:
                first.execute(
                    text(
                        "INSERT INTO topic_lists (name, digest, scored_at) VALUES (:n, :d, now())"
                    ),
                    {"n": topic.name, "d": topic.digest},
                )

    event.listen(engine, "before_cursor_execute", record_first)
    try:
        refresh_scores(engine, topic)
    finally:
        event.remove(engine, "before_cursor_execute", record_first)
        other.dispose()
    assert query(pg_url, "SELECT name, digest FROM topic_lists") == [(topic.name, topic.digest)]
    engine.dispose()
