"""Several `dvcrawl crawl --redis` workers crawl one site through one Redis and one database.

Real processes, the real Scrapy engine, a real redis-server on loopback (skipped without one):
the loopback fixture server records every request with its start and the moment its answer
was written, so overlapping requests to the portal would show.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dvcrawl.frontier import Frontier, connect
from dvcrawl.warc import ArchivedResponse, write_warc
from tests.conftest import Runner, report
from tests.support.server import FixtureServer, Hit
from tests.support.synthetic_site import HOST, SyntheticSite

#: A polite delay that the test can see in the server's log and still finish quickly.
DELAY = 0.1


def worker_args(db_url: str, redis_url: str, prefix: str, *extra: str) -> list[str]:
    return [
        "crawl",
        "thanhuytphcm",
        "--db",
        db_url,
        "--redis",
        redis_url,
        "--idle-exit",
        "1",
        "-s",
        f"DVCRAWL_REDIS_PREFIX={prefix}",
        "-s",
        "DVCRAWL_REDIS_HEARTBEAT=0.2",
        "-s",
        "DVCRAWL_REDIS_WORKER_TIMEOUT=2",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        *extra,
    ]


@contextlib.contextmanager
def all_joined(redis_url: str, prefix: str, count: int) -> Iterator[None]:
    """Hold the portal's lease until `count` workers have joined the run, so that none
    downloads anything before the others are there (however slowly Python starts)."""
    client = connect(redis_url)
    barrier = Frontier(client, "thanhuytphcm", worker="test-barrier", prefix=prefix)
    client.set(barrier.key("alive:test-barrier"), 1, px=120_000)
    assert barrier.acquire_portal("hold", slots=1) == 0
    try:
        yield
        deadline = time.monotonic() + 60
        while client.hlen(barrier.key("workers")) < count:
            assert time.monotonic() < deadline, "the workers did not all join"
            time.sleep(0.02)
    finally:
        barrier.release_portal("hold", started_ago=0.0, delay=0.0)
        client.delete(barrier.key("alive:test-barrier"))
        client.close()


def finish(workers: list[subprocess.Popen[str]], timeout: float = 120) -> list[tuple[int, str]]:
    results = []
    for process in workers:
        out, err = process.communicate(timeout=timeout)
        results.append((process.returncode, out + err))
    return results


def articles(db_url: str) -> list[str]:
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as connection:
        return [row[0] for row in connection.execute("SELECT canonical_url FROM articles")]


def article_count(db_url: str) -> int:
    try:
        return len(articles(db_url))
    except sqlite3.Error:
        return 0


def assert_polite(hits: list[Hit], delay: float) -> None:
    """No two requests to the portal at once, and starts at least half the delay apart
    (Scrapy randomizes the delay between 0.5 and 1.5 times the setting)."""
    timeline = sorted((hit for hit in hits if hit.method == "GET"), key=lambda hit: hit.at)
    for before, after in zip(timeline, timeline[1:], strict=False):
        assert before.answered is not None and after.at > before.answered, (
            f"{after.url} started before the answer to {before.url} was written"
        )
        assert after.at - before.at >= delay * 0.5 - 0.005, (
            f"{after.url} came {after.at - before.at:.3f} s after {before.url}"
        )


@pytest.mark.parametrize("count", [2, 3])
def test_workers_split_one_site_politely_and_fetch_each_article_once(
    count: int,
    dvcrawl: Runner,
    tmp_path: Path,
    tls_dir: Path,
    redis_url: str,
    redis_prefix: str,
) -> None:
    site = SyntheticSite(per_page=5)
    site.publish(30)
    db_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    args = worker_args(db_url, redis_url, redis_prefix, "-s", f"DOWNLOAD_DELAY={DELAY}")
    with FixtureServer(site.routes(), tls_dir) as server:
        with all_joined(redis_url, redis_prefix, count):
            workers = [dvcrawl.popen(*args, env=server.env()) for _ in range(count)]
        results = finish(workers)
    assert all(code == 0 for code, _ in results), results
    rows = [report(output)["thanhuytphcm"] for _, output in results]

    # Every article stored once, and requested once over all workers.
    stored = articles(db_url)
    assert sorted(stored) == sorted(a.url for a in site.articles)
    requested = Counter(server.urls())
    assert all(requested[a.url] == 1 for a in site.articles), requested
    assert sum(int(row["new"]) for row in rows) == 30
    assert sum(int(row["article req"]) for row in rows) == 30
    # Listing pages too; only robots.txt is read by each worker (each obeys it itself).
    assert all(n == 1 for url, n in requested.items() if not url.endswith("/robots.txt"))
    assert requested[f"{HOST}/robots.txt"] <= count
    # The work was split: more than one worker stored articles.
    assert sum(int(row["new"]) > 0 for row in rows) >= 2, rows
    assert_polite(server.hits, DELAY)

    # The run as a whole: one row, every worker named under the table.
    status = dvcrawl("status", "--db", db_url)
    assert status.returncode == 0, status.stdout + status.stderr
    line = next(line for line in status.stdout.splitlines() if line.startswith("thanhuytphcm "))
    assert line.split()[1] == "live" and line.split()[4:7] == ["finished", "30", "0"], line
    assert f"by {count} workers: {count} finished" in status.stdout


def test_workers_replaying_an_archive_store_each_article_once(
    dvcrawl: Runner, tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    site = SyntheticSite(per_page=5)
    site.publish(20)
    archive = write_warc(
        tmp_path / "site.warc.gz",
        [
            ArchivedResponse(url, route.status, list(route.headers), route.body, datetime.now(UTC))
            for url, route in site.routes().items()
        ],
    )
    db_url = f"sqlite:///{tmp_path / 'replay.sqlite3'}"
    # Replay drops the delay; a small one lets both workers take turns at the portal.
    args = worker_args(
        db_url, redis_url, redis_prefix, "--replay", str(archive), "-s", "DOWNLOAD_DELAY=0.05"
    )
    with all_joined(redis_url, redis_prefix, 2):
        workers = [dvcrawl.popen(*args) for _ in range(2)]
    results = finish(workers)
    assert all(code == 0 for code, _ in results), results
    rows = [report(output)["thanhuytphcm"] for _, output in results]
    assert sorted(articles(db_url)) == sorted(a.url for a in site.articles)
    assert sum(int(row["new"]) for row in rows) == 20
    assert all(int(row["new"]) > 0 for row in rows), rows
    assert sum(int(row["article req"]) for row in rows) == 20
    # Each replayed response once over both workers, robots.txt once per worker.
    replayed = [int(output.split("replayed ")[1].split(",")[0]) for _, output in results]
    assert sum(replayed) == len(site.routes()) - 1 + 2


def test_a_killed_worker_loses_nothing_and_another_finishes_its_work(
    dvcrawl: Runner,
    tmp_path: Path,
    tls_dir: Path,
    redis_url: str,
    redis_prefix: str,
) -> None:
    site = SyntheticSite(per_page=5)
    site.publish(30)
    db_url = f"sqlite:///{tmp_path / 'kill.sqlite3'}"
    args = worker_args(db_url, redis_url, redis_prefix, "-s", f"DOWNLOAD_DELAY={DELAY}")
    with FixtureServer(site.routes(), tls_dir) as server:
        with all_joined(redis_url, redis_prefix, 2):
            victim = dvcrawl.popen(*args, env=server.env())
            survivor = dvcrawl.popen(*args, env=server.env())
        deadline = time.monotonic() + 60
        while article_count(db_url) < 8:
            assert time.monotonic() < deadline and victim.poll() is None, "no progress"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=10)
        [(code, output)] = finish([survivor])
    assert code == 0, output
    # Every article stored once; only what the victim held at its death was fetched again.
    stored = articles(db_url)
    assert sorted(stored) == sorted(a.url for a in site.articles)
    requested = Counter(server.urls())
    twice = [a.url for a in site.articles if requested[a.url] > 1]
    assert all(requested[a.url] in (1, 2) for a in site.articles)
    assert len(twice) <= 2, twice  # DVCRAWL_REDIS_PREFETCH requests at most
    assert_polite(server.hits, DELAY)

    status = dvcrawl("status", "--db", db_url)
    assert status.returncode == 0, status.stdout + status.stderr
    # The run as a whole finished: the survivor saw the frontier drained. (The victim's
    # counters died with it: "new" counts the survivor's articles.)
    assert "by 2 workers: 1 finished, 1 interrupted" in status.stdout
    line = next(line for line in status.stdout.splitlines() if line.startswith("thanhuytphcm "))
    assert line.split()[4] == "finished", line
    assert "back in the queue" in output and "took back" in output


def test_a_backfill_by_two_workers_completes_its_cursor(
    dvcrawl: Runner, tmp_path: Path, tls_dir: Path, redis_url: str, redis_prefix: str
) -> None:
    """Articles listed by one worker and answered by the other still move the cursor."""
    site = SyntheticSite(per_page=5)
    site.publish(20)
    db_url = f"sqlite:///{tmp_path / 'full.sqlite3'}"
    args = worker_args(db_url, redis_url, redis_prefix, "--full", "-s", "DOWNLOAD_DELAY=0.05")
    with FixtureServer(site.routes(), tls_dir) as server:
        with all_joined(redis_url, redis_prefix, 2):
            workers = [dvcrawl.popen(*args, env=server.env()) for _ in range(2)]
        results = finish(workers)
    assert all(code == 0 for code, _ in results), results
    rows = [report(output)["thanhuytphcm"] for _, output in results]
    assert sum(int(row["new"]) > 0 for row in rows) == 2, rows
    assert len(articles(db_url)) == 20
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as connection:
        cursors = connection.execute("SELECT next_url, done_at FROM crawl_cursors").fetchall()
    assert len(cursors) == 1 and cursors[0][0] is None and cursors[0][1] is not None, cursors


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        # No server there: the machine's state, not the user's input (exit 1, one line).
        (["--redis", "redis://127.0.0.1:1/0"], 1, "cannot use Redis at redis://127.0.0.1:1/0"),
        (["--redis", "http://127.0.0.1:6379"], 2, "not a Redis URL"),
        (["--redis", "redis://127.0.0.1:6379/crawl"], 2, "must be a number"),
        (["--idle-exit", "5"], 2, "--idle-exit needs a shared frontier"),
    ],
)
def test_a_worker_that_cannot_join_says_why_in_one_line(
    dvcrawl: Runner, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    db_url = f"sqlite:///{tmp_path / 'none.sqlite3'}"
    result = dvcrawl("crawl", "thanhuytphcm", "--db", db_url, *args, env={"DVCRAWL_REDIS_URL": ""})
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
