"""What a newcomer's first runs ran into (issue 10, item 9): each fixed, each tested."""

from __future__ import annotations

import gzip
import os
import signal
import stat
import time
from pathlib import Path

from tests.conftest import Runner
from tests.reliability.conftest import FaultLab
from tests.support.server import Route


def one_line_error(result, status: int = 2) -> str:
    assert result.returncode == status, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dvcrawl: error: "), result.stderr
    return lines[0]


def test_a_failed_run_leaves_no_empty_archive(lab: FaultLab) -> None:
    crawl = lab.crawl({"https://example.org/": Route(body=b"<html></html>")})
    assert crawl.returncode == 1
    warc = Path(lab.dvcrawl.workdir) / "storage" / "warc"
    assert not warc.exists() or list(warc.iterdir()) == []


def test_status_on_a_missing_database_creates_nothing(dvcrawl: Runner, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "db.sqlite3"
    line = one_line_error(dvcrawl("status", "--db", f"sqlite:///{missing}"))
    assert f"no database at {missing}" in line
    assert not (tmp_path / "no").exists()


def test_export_refuses_a_missing_folder_and_respects_the_umask(
    dvcrawl: Runner, tmp_path: Path, thanhuytphcm_warc: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert (
        dvcrawl("crawl", "thanhuytphcm", "--db", db, "--replay", str(thanhuytphcm_warc)).returncode
        == 0
    )
    line = one_line_error(
        dvcrawl("export", "--format", "jsonl", "--db", db, "-o", str(tmp_path / "out" / "a.jsonl"))
    )
    assert f"no such folder {tmp_path / 'out'}" in line and not (tmp_path / "out").exists()
    for umask, mode in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        target = tmp_path / f"corpus-{umask:o}.jsonl"
        old = os.umask(umask)
        try:
            result = dvcrawl("export", "--format", "jsonl", "--db", db, "-o", str(target))
        finally:
            os.umask(old)
        assert result.returncode == 0, result.stderr
        assert stat.S_IMODE(target.stat().st_mode) == mode


def test_export_of_an_unknown_site_is_an_error(
    dvcrawl: Runner, tmp_path: Path, thanhuytphcm_warc: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert (
        dvcrawl("crawl", "thanhuytphcm", "--db", db, "--replay", str(thanhuytphcm_warc)).returncode
        == 0
    )
    line = one_line_error(
        dvcrawl("export", "--format", "jsonl", "--site", "nosuch", "--db", db, "-o", "-")
    )
    assert "unknown site 'nosuch'" in line and "thanhuytphcm" in line
    # A registered site with nothing stored is not an error: an empty export.
    empty = dvcrawl("export", "--format", "jsonl", "--site", "danvan", "--db", db, "-o", "-")
    assert empty.returncode == 0 and empty.stdout == ""


def test_db_works_before_the_command_too(
    dvcrawl: Runner, tmp_path: Path, thanhuytphcm_warc: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert (
        dvcrawl("--db", db, "crawl", "thanhuytphcm", "--replay", str(thanhuytphcm_warc)).returncode
        == 0
    )
    status = dvcrawl("--db", db, "status")
    assert status.returncode == 0 and "thanhuytphcm" in status.stdout
    assert (tmp_path / "x.sqlite3").exists() and not (
        tmp_path / "storage" / "dvcrawl.sqlite3"
    ).exists()
    assert "--db is not an option of `dvcrawl sites`" in one_line_error(
        dvcrawl("--db", db, "sites")
    )
    assert "given twice" in one_line_error(dvcrawl("--db", db, "status", "--db", f"{db}2"))


def test_crawl_all_with_a_site_is_refused(dvcrawl: Runner) -> None:
    assert "give site names or --all, not both" in one_line_error(
        dvcrawl("crawl", "--all", "thanhuytphcm")
    )


def test_schedule_checks_its_crawl_arguments_first(dvcrawl: Runner) -> None:
    started = time.monotonic()
    line = one_line_error(dvcrawl("schedule", "--every", "1s", "nosuch", timeout=60))
    assert "unknown site 'nosuch'" in line and time.monotonic() - started < 30


def test_schedule_stopped_after_failing_runs_exits_1(lab: FaultLab) -> None:
    from tests.support.server import FixtureServer

    # The proxy cannot reach the portal: every run fails.
    with FixtureServer(
        {"https://example.org/": Route(body=b"<html></html>")}, lab.tls_dir
    ) as server:
        process = lab.dvcrawl.popen(
            "schedule",
            "--every",
            "1s",
            "thanhuytphcm",
            "--db",
            lab.db_url,
            "-s",
            "RETRY_TIMES=0",
            env=server.env(),
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(server.hits) < 2:
                time.sleep(0.1)
            time.sleep(1.5)
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert "crawl run 1 exited with status 1" in err
    assert process.returncode == 1, err


def test_a_gzip_that_is_not_a_warc_is_one_line(dvcrawl: Runner, tmp_path: Path) -> None:
    import tarfile

    archive = tmp_path / "pages.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(Path(__file__), arcname="page.html")
    line = one_line_error(
        dvcrawl("import", str(archive), "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    )
    assert "is not a WARC file" in line
    page = tmp_path / "page.html.gz"
    page.write_bytes(gzip.compress(b"<!DOCTYPE html><html><body>x</body></html>"))
    assert "it does not start with a WARC record" in one_line_error(
        dvcrawl("import", str(page), "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    )
    # A record without a target URI (warcio raised AttributeError: a traceback).
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(
        gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\n\r\nHTTP/1.1 200 OK\r\n\r\nx")
    )
    assert "not a" in one_line_error(
        dvcrawl("import", str(broken), "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    )


def test_import_into_a_read_only_database_fails_before_reading(
    dvcrawl: Runner, tmp_path: Path, thanhuytphcm_warc: Path
) -> None:
    db = tmp_path / "x.sqlite3"
    assert dvcrawl("import", str(thanhuytphcm_warc), "--db", f"sqlite:///{db}").returncode == 0
    result = dvcrawl(
        "import", str(thanhuytphcm_warc), "--db", f"sqlite:///file:{db}?mode=ro&uri=true"
    )
    line = one_line_error(result, status=1)
    assert "database is read-only" in line
