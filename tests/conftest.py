"""Shared test fixtures: the command line in a subprocess, temporary databases, the loopback
fixture server and WARC archives built from tests/fixtures.

Crawls run in child processes (`python -m dvcrawl`), as a user runs them: each gets a fresh
Twisted reactor, and a test can kill one for real.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fixture_sites import build_warc, routes
from tests.support.server import FixtureServer

ROOT = Path(__file__).resolve().parent.parent


class Runner:
    """Runs ``python -m dvcrawl`` with an isolated storage folder and optional proxy."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key.lower() not in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
            and not key.startswith("DVCRAWL_")
        }
        self.env["DVCRAWL_STORAGE_DIR"] = str(workdir / "storage")
        self.env["PYTHONPATH"] = str(ROOT)

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dvcrawl", *args],
            cwd=self.workdir,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "dvcrawl", *args],
            cwd=self.workdir,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def dvcrawl(tmp_path: Path) -> Runner:
    """The `dvcrawl` command, run in a child process inside a temporary folder."""
    return Runner(tmp_path)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A SQLite database URL in a temporary folder."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


@pytest.fixture
def thanhuytphcm_server(tls_dir: Path) -> Iterator[FixtureServer]:
    """The thanhuytphcm.vn fixture site behind the loopback proxy."""
    with FixtureServer(routes("thanhuytphcm"), tls_dir) as server:
        yield server


@pytest.fixture(scope="session")
def thanhuytphcm_warc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A WARC archive of the whole thanhuytphcm.vn fixture site."""
    return build_warc(tmp_path_factory.mktemp("warc") / "thanhuytphcm.warc.gz", "thanhuytphcm")


def report(stdout: str) -> dict[str, dict[str, str]]:
    """The crawl report table, by site and column (`dvcrawl.cli.crawl.print_report`)."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    header_index = next(i for i, line in enumerate(lines) if line.startswith("site "))
    header = re.split(r"\s{2,}", lines[header_index].strip())
    table: dict[str, dict[str, str]] = {}
    for line in lines[header_index + 1 :]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) != len(header):
            break
        table[cells[0]] = dict(zip(header, cells, strict=True))
    return table


#: Settings that make a loopback crawl fast: the politeness delay is for real portals.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the server named by DVCRAWL_TEST_PG_URL (.ci/run starts one
    on loopback); the test is skipped when no server is given."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = os.environ.get("DVCRAWL_TEST_PG_URL")
    if not admin_url:
        pytest.skip("no PostgreSQL server: set DVCRAWL_TEST_PG_URL (.ci/run starts one)")
    name = f"dvcrawl_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a Redis server on loopback: DVCRAWL_TEST_REDIS_URL (.ci/run starts one), else a
    redis-server started here from the binary on PATH; the test is skipped when there is none."""
    import shutil
    import socket
    import time

    given = os.environ.get("DVCRAWL_TEST_REDIS_URL")
    if given:
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no Redis: install redis-server (.ci/run does) or set DVCRAWL_TEST_REDIS_URL")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The test Redis; each test's crawls use their own key prefix (`redis_prefix`)."""
    return redis_server


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of the test's own (``-s DVCRAWL_REDIS_PREFIX=...``): tests never share keys."""
    import uuid

    return f"test-{uuid.uuid4().hex[:10]}"


#: Fixtures that run dvcrawl in a child process or need a PostgreSQL or Redis server.
CHILD_PROCESS_FIXTURES = {"dvcrawl", "pg_url", "archived", "redis_server", "redis_url"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under mutmut (docs/testing.md), leave out tests that run dvcrawl in a child process.

    mutmut maps each mutant to the tests that call the mutated function in the test process;
    a crawl in a child process is invisible to it, so those tests would only cost time.
    """
    if "MUTANT_UNDER_TEST" not in os.environ:
        return
    kept = [item for item in items if not CHILD_PROCESS_FIXTURES & set(item.fixturenames)]
    dropped = [item for item in items if CHILD_PROCESS_FIXTURES & set(item.fixturenames)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


#: The fixture sites with a site.json (every portal of tests/fixtures).
FIXTURE_SITES = tuple(
    sorted(p.parent.name for p in (ROOT / "tests" / "fixtures").glob("*/site.json"))
)


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite corpus of every fixture site's pages, built by `dvcrawl import` (the real
    extract -> validate -> dedup -> store chain). Read-only: copy it with `copy_db` to write."""
    folder = tmp_path_factory.mktemp("corpus")
    archive = build_warc(folder / "fixtures.warc.gz", *FIXTURE_SITES)
    database = folder / "corpus.sqlite3"
    result = Runner(folder)("import", str(archive), "--db", f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    return database


def copy_db(source: Path, target: Path) -> str:
    """A writable copy of a SQLite database (through SQLite's backup API); its URL."""
    import sqlite3

    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    return f"sqlite:///{target}"
