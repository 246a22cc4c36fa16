"""Live progress: drawn on a terminal (a real pseudo-terminal here), absent in pipes and cron."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

from tests.conftest import Runner

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_terminal(runner: Runner, *args: str, timeout: float = 120) -> tuple[int, str, str]:
    """Run `dvcrawl ARGS` with stderr on a pseudo-terminal; (status, stdout, terminal text)."""
    leader, follower = pty.openpty()
    out = runner.workdir / f"stdout-{len(list(runner.workdir.glob('stdout-*')))}.txt"
    with out.open("wb") as stdout_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "dvcrawl", *args],
            cwd=runner.workdir,
            env={**runner.env, "TERM": "xterm-256color", "COLUMNS": "160"},
            stdout=stdout_file,
            stderr=follower,
            stdin=subprocess.DEVNULL,
        )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], timeout)
        if not ready:
            process.kill()
            raise AssertionError("no output from the terminal in time")
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    status = process.wait(timeout=timeout)
    stdout = out.read_text(encoding="utf-8")
    return status, stdout, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_import_shows_progress_on_a_terminal_only(
    dvcrawl: Runner, db_url: str, thanhuytphcm_warc: Path
) -> None:
    status, stdout, terminal = on_terminal(
        dvcrawl, "import", str(thanhuytphcm_warc), "--db", db_url
    )
    assert status == 0, terminal
    assert "thanhuytphcm.warc.gz" in terminal
    assert re.search(r"responses \d+ · articles \d+ · skipped \d+ · [\d.,]+ responses/s", terminal)
    assert stdout.startswith("imported 1 archive(s)")
    # In a pipe (cron): the same summary, nothing on stderr.
    piped = dvcrawl("import", str(thanhuytphcm_warc), "--db", db_url)
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.startswith("imported 1 archive(s)")
    # -q on a terminal: no progress either.
    quiet_status, _, quiet = on_terminal(
        dvcrawl, "import", str(thanhuytphcm_warc), "--db", db_url, "-q"
    )
    assert quiet_status == 0 and "responses/s" not in quiet


def test_crawl_shows_pages_articles_errors_and_rate(
    dvcrawl: Runner, db_url: str, thanhuytphcm_warc: Path
) -> None:
    args = ("crawl", "thanhuytphcm", "--replay", str(thanhuytphcm_warc), "--db", db_url)
    status, stdout, terminal = on_terminal(dvcrawl, *args)
    assert status == 0, terminal
    assert re.search(
        r"thanhuytphcm .*pages \d+ · articles \d+ · errors \d+ · [\d.,]+ pages/s", terminal
    )
    assert "thanhuytphcm  ok" in stdout  # the report is unchanged, on stdout
    piped = dvcrawl(*args)
    assert piped.returncode == 0 and "pages/s" not in piped.stderr and "·" not in piped.stderr


def test_export_shows_progress_on_a_terminal_only(
    dvcrawl: Runner, db_url: str, thanhuytphcm_warc: Path, tmp_path: Path
) -> None:
    assert dvcrawl("import", str(thanhuytphcm_warc), "--db", db_url).returncode == 0
    target = tmp_path / "out.jsonl"
    status, _, terminal = on_terminal(
        dvcrawl, "export", "--format", "jsonl", "--db", db_url, "-o", str(target)
    )
    assert status == 0, terminal
    assert re.search(r"export jsonl .*articles 4 · [\d.,]+ articles/s", terminal)
    assert "exported 4 articles" in terminal
    piped = dvcrawl("export", "--format", "jsonl", "--db", db_url, "-o", str(target))
    assert piped.returncode == 0 and piped.stderr == f"exported 4 articles to {target}\n"
    # Exporting to stdout while stderr is a terminal: stdout holds the corpus and nothing else.
    status, stdout, _ = on_terminal(
        dvcrawl, "export", "--format", "jsonl", "--db", db_url, "-o", "-"
    )
    assert status == 0 and len(stdout.splitlines()) == 4
    assert all(line.startswith('{"id": ') for line in stdout.splitlines())
