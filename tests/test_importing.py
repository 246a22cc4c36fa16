"""``dvcrawl import --jobs N``: extraction on N processes, the same rows as on one.

The archive is the speed benchmark's (benchmarks/portal_archive.py): the gold pages, then
the same pages republished (exact copies), reposted with a few words changed (near copies)
and reused as templates for other events, with a few responses that are not pages. Which
copy is the original depends on the order of the archive, so any reordering of duplicate
decisions or writes shows in the rows.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.portal_archive import build
from tests.conftest import Runner


def stored(db_url: str) -> dict[str, list]:
    """Everything an import writes, in the order written (times of the write left out)."""
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    connection.row_factory = sqlite3.Row
    try:
        articles = [dict(row) for row in connection.execute("SELECT * FROM articles ORDER BY id")]
        for article in articles:
            del article["updated_at"]
        return {
            "articles": articles,
            "bands": connection.execute(
                "SELECT article_id, band, key FROM lsh_bands ORDER BY article_id, band"
            ).fetchall(),
            "sketches": connection.execute(
                "SELECT article_id, shingles, entities FROM article_sketches ORDER BY article_id"
            ).fetchall(),
        }
    finally:
        connection.close()


def run_patched(dvcrawl: Runner, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``dvcrawl ARGS`` run by `code`, which changes something in the process first."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=dvcrawl.workdir,
        env=dvcrawl.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def portal_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("archive") / "portal.warc.gz", pages=260)


@pytest.fixture(scope="module")
def long_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("long") / "long.warc.gz", pages=1500)


def test_two_processes_store_what_one_process_stores(
    dvcrawl: Runner, tmp_path: Path, portal_archive: Path
) -> None:
    results = {}
    for jobs in (1, 2):
        db_url = f"sqlite:///{tmp_path / f'jobs{jobs}.sqlite3'}"
        result = dvcrawl("import", str(portal_archive), "--jobs", str(jobs), "--db", db_url, "-q")
        assert result.returncode == 0, result.stderr
        summary = result.stdout.rsplit(";", 1)[0]  # the time taken differs
        results[jobs] = (summary, stored(db_url))
    assert results[2] == results[1]
    summary, rows = results[1]
    assert "responses 260" in summary and "skipped 5" in summary, summary
    # Enough of every kind for the comparison to mean something.
    duplicates = [row for row in rows["articles"] if row["duplicate_of"] is not None]
    exact = [row for row in duplicates if row["similarity"] == 1.0]
    assert len(rows["articles"]) > 150 and len(exact) >= 5 and len(duplicates) > len(exact)
    assert len(rows["sketches"]) == len(rows["articles"])


#: A topic list of its own (the portal pages' usual words), so that a score from the wrong
#: list (the shipped one) shows.
OWN_TOPIC = """
name = "own"
scale = 3.0
terms = [
  { text = "nhân dân", weight = 2 },
  { text = "hội nghị", weight = 1 },
  { text = "phường", weight = 1 },
]
"""


def test_two_processes_score_with_the_configured_list(
    dvcrawl: Runner, tmp_path: Path, portal_archive: Path
) -> None:
    # The first batches go to the workers before the command has read the list's name from
    # its settings (issue 11): the store scores those, the workers the rest.
    from dvcrawl.topic import load_topic

    topic_file = tmp_path / "own.toml"
    topic_file.write_text(OWN_TOPIC, encoding="utf-8")
    topic = load_topic(topic_file)
    env = {"DVCRAWL_TOPIC_FILE": str(topic_file)}
    rows = {}
    for jobs in (1, 2):
        db_url = f"sqlite:///{tmp_path / f'jobs{jobs}.sqlite3'}"
        result = dvcrawl(
            "import", str(portal_archive), "--jobs", str(jobs), "--db", db_url, "-q", env=env
        )
        assert result.returncode == 0, result.stderr
        rows[jobs] = stored(db_url)["articles"]
    assert rows[2] == rows[1]
    scores = [row["relevance"] for row in rows[2]]
    assert scores == [topic.score(row["title"], row["text"]) for row in rows[2]]
    assert len(set(scores)) > 10, "the list scores too few articles apart to tell"


def test_responses_handed_out_before_the_list_is_known_are_left_to_the_store(
    tmp_path: Path, long_archive: Path
) -> None:
    from dvcrawl.importing import AHEAD, BATCH, Preparer
    from dvcrawl.topic import load_topic
    from dvcrawl.warc import iter_responses

    topic_file = tmp_path / "own.toml"
    topic_file.write_text(OWN_TOPIC, encoding="utf-8")
    topic = load_topic(topic_file)
    with Preparer(2) as preparer:
        results = preparer.prepared(iter_responses(str(long_archive)))
        preparer.score_with(str(topic_file))
        pages = [page for _, page in results]
    early, late = pages[: AHEAD * 2 * BATCH], pages[AHEAD * 2 * BATCH :]
    assert all(page.relevance is None for page in early)
    scored = [page for page in late if page.fingerprint is not None]
    assert len(scored) > 100
    assert all(
        page.relevance == topic.score(page.article.title, page.article.text) for page in scored
    )


#: Runs ``dvcrawl``, printing which heavy packages are loaded when the workers start.
_LOADED_AT_FORK = """
import runpy, sys
from concurrent.futures import process
launch = process.ProcessPoolExecutor._launch_processes
def launched(self):
    loaded = sorted(m for m in ("scrapy", "sqlalchemy", "alembic", "dvcrawl.extraction") if m in sys.modules)
    print("loaded at fork:", loaded, file=sys.stderr)
    return launch(self)
process.ProcessPoolExecutor._launch_processes = launched
sys.argv[0] = "dvcrawl"
runpy.run_module("dvcrawl", run_name="__main__")
"""


def test_workers_start_before_the_main_process_loads_its_own_modules(
    dvcrawl: Runner, tmp_path: Path, portal_archive: Path
) -> None:
    # Start-up that one process runs alone, before the workers exist, is time the second core
    # is idle: it was a tenth of a 2,000-page import on two cores (issue 11).
    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = run_patched(
        dvcrawl, _LOADED_AT_FORK, "import", str(portal_archive), "--jobs", "2", "-q", "--db", db_url
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["loaded at fork: []"], result.stderr


def test_jobs_must_be_a_positive_number(
    dvcrawl: Runner, tmp_path: Path, portal_archive: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = dvcrawl("import", str(portal_archive), "--jobs", "0", "--db", db_url)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "dvcrawl: error: --jobs must be at least 1, not 0"
    ], result.stderr


def test_a_read_only_database_ends_the_import_with_one_line_and_nothing_stored(
    dvcrawl: Runner, tmp_path: Path, portal_archive: Path
) -> None:
    # The workers start on the archive before the database is checked (issue 11): the check
    # must still end the command, and the workers with it, before anything is stored.
    from dvcrawl.db import init_db, make_engine

    path = tmp_path / "db.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    assert init_db(engine) == "created"
    engine.dispose()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = dvcrawl("import", str(portal_archive), "--jobs", "2", "--db", read_only)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "read-only" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert stored(f"sqlite:///{path}")["articles"] == []


def test_a_bad_topic_list_ends_the_import_with_one_line_and_nothing_stored(
    dvcrawl: Runner, tmp_path: Path, portal_archive: Path
) -> None:
    # The workers have their first batches before the settings naming the list are read.
    path = tmp_path / "db.sqlite3"
    env = {"DVCRAWL_TOPIC_FILE": str(tmp_path / "missing.toml")}
    result = dvcrawl(
        "import", str(portal_archive), "--jobs", "2", "--db", f"sqlite:///{path}", env=env
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot read topic file" in lines[0], result.stderr
    assert not path.exists()


#: Runs ``dvcrawl`` with an extractor that raises on one page (`FAILING`), as a bug met on
#: one odd page would; forked workers inherit it.
_FAILING_EXTRACTOR = """
import runpy, sys
import dvcrawl.extraction as extraction
real = extraction.extract_article
def extract_article(html, url, **kwargs):
    if url == FAILING:
        raise RuntimeError("the extractor gave up\\non this page")
    return real(html, url, **kwargs)
extraction.extract_article = extract_article
sys.argv[0] = "dvcrawl"
runpy.run_module("dvcrawl", run_name="__main__")
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_page_the_extractor_fails_on_is_reported_and_the_others_are_stored(
    dvcrawl: Runner, tmp_path: Path, portal_archive: Path, jobs: str
) -> None:
    from dvcrawl.warc import iter_responses

    whole = f"sqlite:///{tmp_path / 'whole.sqlite3'}"
    assert dvcrawl("import", str(portal_archive), "--db", whole, "-q").returncode == 0
    expected = stored(whole)["articles"]
    failing = expected[3]["url"]
    assert sum(1 for r in iter_responses(str(portal_archive)) if r.url == failing) == 1

    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    code = _FAILING_EXTRACTOR.replace("FAILING", repr(failing))
    result = run_patched(
        dvcrawl, code, "import", str(portal_archive), "--jobs", jobs, "-q", "--db", db_url
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "dvcrawl: error: 1 page(s) could not be extracted, the first: "
        f"{failing}: RuntimeError: the extractor gave up on this page"
    )
    assert "not extracted 1;" in result.stdout, result.stdout
    # Every other page is stored, as a whole run stores it (a duplicate of the failed page
    # now counts as the first copy, so duplicate marks may differ).
    kept = {row["url"] for row in stored(db_url)["articles"]}
    assert kept == {row["url"] for row in expected} - {failing}


# --- when the import is stopped -------------------------------------------------------------


def start_import(dvcrawl: Runner, archive: Path, db_url: str) -> subprocess.Popen[str]:
    """``dvcrawl import --jobs 2`` in its own process group (as a terminal runs a command)."""
    # Ctrl-C as at a terminal, even when this test runs in a background job of a shell
    # without job control, which starts everything with SIGINT ignored.
    interruptible = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "sys.argv[0] = 'dvcrawl'; runpy.run_module('dvcrawl', run_name='__main__')"
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            interruptible,
            "import",
            str(archive),
            "--jobs",
            "2",
            "--db",
            db_url,
        ],
        cwd=dvcrawl.workdir,
        env=dvcrawl.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def workers_of(process: subprocess.Popen[str], timeout: float = 30) -> list[int]:
    """The worker processes of an import, once they are running (Linux's /proc)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [int(pid) for pid in children.read_text().split()]
        if len(found) >= 2:
            return found
        time.sleep(0.05)
    raise AssertionError("the import started no workers")


def wait_for_articles(path: Path, timeout: float = 30) -> None:
    """Until an import has committed articles to the SQLite file at `path`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            connection = sqlite3.connect(path)
            try:
                if connection.execute("SELECT count(*) FROM articles").fetchone()[0]:
                    return
            except sqlite3.OperationalError:
                pass  # not created yet
            finally:
                connection.close()
        time.sleep(0.05)
    raise AssertionError("the import stored nothing")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_ctrl_c_stops_every_process_with_one_line(
    dvcrawl: Runner, tmp_path: Path, long_archive: Path
) -> None:
    # Ctrl-C reaches the whole process group. A worker interrupted mid-task used to die and
    # leave the main process waiting for its results forever.
    process = start_import(dvcrawl, long_archive, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    workers = workers_of(process)
    time.sleep(1)  # mid-archive
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["dvcrawl: interrupted"], stderr
    for pid in workers:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        ), "a worker outlived the import"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_a_killed_worker_is_reported_and_the_articles_before_it_are_stored(
    dvcrawl: Runner, tmp_path: Path, long_archive: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    process = start_import(dvcrawl, long_archive, db_url)
    worker = workers_of(process)[0]
    # Mid-archive: the workers start before the database is opened, so a kill at once would
    # find nothing stored and test no prefix.
    wait_for_articles(tmp_path / "db.sqlite3")
    os.kill(worker, signal.SIGKILL)  # as the kernel's out-of-memory killer
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "worker process ended without its results" in lines[0], stderr
    # What was stored is a prefix of the archive, stored as a whole run would store it.
    whole = tmp_path / "whole.sqlite3"
    assert (
        dvcrawl("import", str(long_archive), "--jobs", "1", "--db", f"sqlite:///{whole}").returncode
        == 0
    )
    cut, full = stored(db_url)["articles"], stored(f"sqlite:///{whole}")["articles"]
    assert len(cut) < len(full) and cut == full[: len(cut)]
