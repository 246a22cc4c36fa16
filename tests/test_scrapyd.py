"""Scrapyd for real: deploy the project with scrapyd-client, run a replayed crawl through the
HTTP API on loopback, find the articles in the database (docs/deployment.md).

Scrapyd runs as its own process, and each job in a child process it starts, from the egg
scrapyd-deploy built: warnings are errors there too, except the one Scrapyd's runner causes
itself by importing pkg_resources.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_crawl import ARTICLES

pytest.importorskip("scrapyd")
BIN = Path(sys.executable).parent
#: Scrapyd's runner imports pkg_resources, which warns; the runner is not ours.
WARNINGS = "error,ignore:pkg_resources is deprecated as an API:UserWarning"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(
    port: int, endpoint: str, data: dict[str, str] | list[tuple[str, str]] | None = None
) -> dict:
    url = f"http://127.0.0.1:{port}/{endpoint}"
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=30) as answer:
        return json.loads(answer.read())


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[tuple[int, Path, str]]:
    """A Scrapyd on loopback: (port, its folder, the database its jobs write)."""
    if not (BIN / "scrapyd").exists() or not (BIN / "scrapyd-deploy").exists():
        pytest.skip("scrapyd and scrapyd-client are not installed (pip install -e '.[test]')")
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\neggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\n"
        f"dbs_dir = {home / 'dbs'}\nitems_dir =\nmax_proc = 1\npoll_interval = 0.2\n",
        encoding="utf-8",
    )
    db_url = f"sqlite:///{tmp_path / 'scrapyd.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVCRAWL_")}
    env.pop("PYTHONPATH", None)  # the jobs run the deployed egg
    env |= {
        "DVCRAWL_DB_URL": db_url,
        "DVCRAWL_STORAGE_DIR": str(tmp_path / "storage"),
        "PYTHONWARNINGS": WARNINGS,
    }
    server = subprocess.Popen(
        [str(BIN / "scrapyd")],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                call(port, "daemonstatus.json")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "no scrapyd"
                time.sleep(0.1)
        yield port, home, db_url
    finally:
        server.terminate()
        server.wait(timeout=20)


def project_copy(target: Path, port: int) -> Path:
    """The project as a user's checkout has it, its deploy target on the test's port."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "dvcrawl", target / "dvcrawl", ignore=ignore)
    for name in ("setup.py", "scrapy.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, target / name)
    config = (target / "scrapy.cfg").read_text(encoding="utf-8")
    config, count = re.subn(
        r"(?m)^url = http://127\.0\.0\.1:6800/$", f"url = http://127.0.0.1:{port}/", config
    )
    assert count == 1, "scrapy.cfg has a [deploy:local] target on 127.0.0.1:6800"
    (target / "scrapy.cfg").write_text(config, encoding="utf-8")
    return target


def test_deploy_with_scrapyd_client_and_crawl_through_the_http_api(
    scrapyd: tuple[int, Path, str], tmp_path: Path, thanhuytphcm_warc: Path
) -> None:
    port, home, db_url = scrapyd
    project = project_copy(tmp_path / "checkout", port)
    # The egg is built by `setup.py bdist_egg`, whose deprecation warnings are setuptools' own;
    # the deploy then lists the spiders inside Scrapyd, under its warnings-as-errors.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONWARNINGS"}}
    deployed = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "local", "-p", "dvcrawl"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    answer = json.loads(deployed.stdout[deployed.stdout.index("{") :])
    assert answer["status"] == "ok" and answer["spiders"] >= 10, answer

    # The egg carries what dvcrawl reads at run time besides its modules.
    [egg] = (home / "eggs" / "dvcrawl").glob("*.egg")
    names = set(zipfile.ZipFile(egg).namelist())
    assert {
        "dvcrawl/db/migrations/script.py.mako",
        "dvcrawl/db/migrations/env.py",
        "dvcrawl/db/migrations/versions/0001_baseline.py",
        "dvcrawl/topics/danvan.toml",
    } <= names
    assert "settings = dvcrawl.settings" in zipfile.ZipFile(egg).read(
        "EGG-INFO/entry_points.txt"
    ).decode("utf-8")

    assert "thanhuytphcm" in call(port, "listspiders.json?project=dvcrawl")["spiders"]
    job = call(
        port,
        "schedule.json",
        [
            ("project", "dvcrawl"),
            ("spider", "thanhuytphcm"),
            ("setting", f"DVCRAWL_REPLAY={thanhuytphcm_warc}"),
        ],
    )
    assert job["status"] == "ok", job
    deadline = time.monotonic() + 120
    while True:
        jobs = call(port, "listjobs.json?project=dvcrawl")
        if any(entry["id"] == job["jobid"] for entry in jobs["finished"]):
            break
        assert time.monotonic() < deadline, jobs
        time.sleep(0.3)

    log = (home / "logs" / "dvcrawl" / "thanhuytphcm" / f"{job['jobid']}.log").read_text("utf-8")
    assert "Traceback" not in log and "Spider closed (finished)" in log, log[-3000:]
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as connection:
        stored = {row[0] for row in connection.execute("SELECT canonical_url FROM articles")}
        runs = connection.execute("SELECT site, outcome FROM crawl_runs").fetchall()
    assert stored == ARTICLES
    assert runs == [("thanhuytphcm", "finished")]
