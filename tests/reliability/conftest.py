"""Fault injection through the real downloader: a crawl in a child process, a synthetic
thanhuytphcm-like site behind the loopback proxy (tests/support/server.py), and the verdict
every fault must end in: all articles stored correctly, or exit status 1 with a one-line
cause. Never "ok" with articles missing.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAST, Runner, report
from tests.reliability.ledger import Row, outcome, record
from tests.support.server import FixtureServer, Hit, Route
from tests.support.synthetic_site import HOST, SyntheticSite

SITE = "thanhuytphcm"
ROBOTS = f"{HOST}/robots.txt"


@dataclass
class Crawl:
    """One crawl's result as a user sees it, and what it left in the database."""

    result: subprocess.CompletedProcess[str]
    hits: list[Hit]
    stored: dict[str, tuple[str, str]] = field(default_factory=dict)  # url -> (title, text)
    run: dict | None = None  # the crawl_runs row

    @property
    def returncode(self) -> int:
        return self.result.returncode

    @property
    def row(self) -> dict[str, str]:
        return report(self.result.stdout)[SITE]

    @property
    def notes(self) -> list[str]:
        """The lines under the report table about the site, other than archive and replay."""
        prefix = f"{SITE}: "
        return [
            line[len(prefix) :]
            for line in self.result.stdout.splitlines()
            if line.startswith(prefix)
            and not line[len(prefix) :].startswith(("archive ", "replayed "))
        ]

    @property
    def cause(self) -> str | None:
        return self.notes[0] if self.notes else None

    @property
    def stats(self) -> dict:
        return (self.run or {}).get("stats") or {}

    def urls(self, method: str = "GET") -> list[str]:
        return [hit.url for hit in self.hits if hit.method == method]

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


def read_db(db_url: str) -> tuple[dict[str, tuple[str, str]], dict | None]:
    """(stored articles by URL, the last crawl run as a dict)."""
    path = db_url.removeprefix("sqlite:///").split("?")[0].removeprefix("file:")
    if not Path(path).exists():
        return {}, None
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
        stored = (
            {
                r["canonical_url"]: (r["title"], r["text"])
                for r in connection.execute("SELECT canonical_url, title, text FROM articles")
            }
            if "articles" in tables
            else {}
        )
        run = None
        if "crawl_runs" in tables:
            last = connection.execute(
                "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if last is not None:
                run = dict(last)
                run["stats"] = json.loads(run["stats"] or "{}")
        return stored, run
    finally:
        connection.close()


class FaultLab:
    """Crawls of a synthetic site with faults injected into its routes."""

    def __init__(self, dvcrawl: Runner, tls_dir: Path, tmp_path: Path):
        self.dvcrawl = dvcrawl
        self.tls_dir = tls_dir
        self.tmp_path = tmp_path
        self.db_url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
        self.site = SyntheticSite(per_page=5)
        self.site.publish(5)
        self.process: subprocess.Popen[str] | None = None  # the crawl running now

    def routes(self) -> dict[str, Route]:
        return self.site.routes()

    def crawl(
        self,
        routes: dict[str, Route] | None = None,
        *extra: str,
        db_url: str | None = None,
        env: dict[str, str] | None = None,
        server: FixtureServer | None = None,
        prefix: tuple[str, ...] = (),
        timeout: float = 180,
        on_log: Callable[[str], None] | None = None,
    ) -> Crawl:
        """Crawl the site (through `server`, or a new one serving `routes`).

        `on_log` is called with every line the crawl writes to stderr, as it writes it, so a
        fault can end exactly when the crawl has noticed it.
        """
        db_url = db_url or self.db_url
        args = (db_url, extra, env, prefix, timeout, on_log)
        if server is not None:
            return self._crawl(server, *args)
        with FixtureServer(routes if routes is not None else self.routes(), self.tls_dir) as own:
            return self._crawl(own, *args)

    def _crawl(
        self,
        server: FixtureServer,
        db_url: str,
        extra: tuple[str, ...],
        env: dict[str, str] | None,
        prefix: tuple[str, ...],
        timeout: float,
        on_log: Callable[[str], None] | None,
    ) -> Crawl:
        before = len(server.hits)
        command = [*prefix, sys.executable, "-m", "dvcrawl", "crawl", SITE, "--db", db_url]
        command += [*FAST, *extra]
        # A child process: a fault can act on it while it runs (`self.process`).
        self.process = subprocess.Popen(
            command,
            cwd=self.dvcrawl.workdir,
            env={**self.dvcrawl.env, **server.env(), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out: list[str] = []
        err: list[str] = []

        def read(stream: Any, lines: list[str], watch: Callable[[str], None] | None) -> None:
            for line in stream:
                lines.append(line)
                if watch is not None:
                    watch(line)

        readers = [
            threading.Thread(target=read, args=(self.process.stdout, out, None), daemon=True),
            threading.Thread(target=read, args=(self.process.stderr, err, on_log), daemon=True),
        ]
        for reader in readers:
            reader.start()
        try:
            self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            for reader in readers:
                reader.join(10)
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
        result = subprocess.CompletedProcess(
            command, self.process.returncode, "".join(out), "".join(err)
        )
        stored, run = read_db(db_url)
        return Crawl(result, list(server.hits[before:]), stored, run)

    # --- the verdict --------------------------------------------------------------------------

    def expected(self) -> dict[str, tuple[str, str]]:
        return {article.url: (article.title, article.text) for article in self.site.articles}

    def judge(self, crawl: Crawl) -> tuple[int, int, int]:
        """(stored correctly, lost silently, stored wrong) against the site's articles."""
        expected = self.expected()
        right = sum(1 for url, record in crawl.stored.items() if expected.get(url) == record)
        wrong = len(crawl.stored) - right
        missing = len(expected) - right
        lost_silently = missing if crawl.returncode == 0 else 0
        return right, lost_silently, wrong

    def record(
        self, key: str, fault: str, injected: str, crawl: Crawl, *, vary: str | None = None
    ) -> None:
        """Check the promise (stored correctly, or exit 1 with a cause) and write the row.

        `vary` is a regular expression for the parts of the cause that depend on timing (how
        many responses a 3-second fault caught); they are shown as "…" in the table.
        """
        right, lost_silently, wrong = self.judge(crawl)
        assert "Traceback" not in crawl.output, crawl.output
        assert wrong == 0, crawl.stored
        assert lost_silently == 0, crawl.output
        if crawl.returncode != 0:
            assert crawl.returncode == 1 and crawl.cause, crawl.output
        total = len(self.site.articles)
        record(
            Row(
                key,
                fault,
                injected,
                outcome(
                    crawl.returncode,
                    None
                    if crawl.returncode == 0
                    else re.sub(vary, "…", crawl.cause)
                    if vary and crawl.cause
                    else crawl.cause,
                ),
                f"{right} of {total} articles",
                lost_silently,
                wrong,
            )
        )


@pytest.fixture
def lab(dvcrawl: Runner, tls_dir: Path, tmp_path: Path) -> FaultLab:
    return FaultLab(dvcrawl, tls_dir, tmp_path)


@pytest.fixture
def no_network() -> Iterator[tuple[str, ...]]:
    """A command prefix that runs a process with no network at all (its own empty network
    namespace: no interface is up, so no packet can leave, and every DNS lookup fails at once).
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare(1) is not installed")
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no user namespaces here: {probe.stderr.decode().strip()}")
    yield (unshare, "-rn")
