"""The command line with bad input: one clear line on stderr, a sane exit status, nothing lost."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.support.fixture_sites import FIXTURES

CU_CHI = FIXTURES / "thanhuytphcm" / "article_cu_chi_nong_thon_moi.html"
CU_CHI_URL = "https://thanhuytphcm.vn/tin-tuc/huyen-cu-chi-ra-mat-mo-hinh-dan-van-kheo-trong-xay-dung-nong-thon-moi-nang-cao-1491897342"


def one_line_error(result, status: int = 2) -> str:
    assert result.returncode == status, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dvcrawl: error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def test_extract_prints_the_record(dvcrawl: Runner) -> None:
    result = dvcrawl("extract", str(CU_CHI), "--url", CU_CHI_URL)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["title"].startswith("Huyện Củ Chi ra mắt")
    assert record["published_at"] == "2023-03-05T10:15:00+07:00"


def test_extract_empty_file(dvcrawl: Runner, tmp_path: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    assert "the page is empty" in one_line_error(
        dvcrawl("extract", str(empty), "--url", CU_CHI_URL)
    )


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (gzip.compress(b"<html></html>", mtime=0), "gzip"),
        (b"\x00\x01\x02\x03binary\x00data" * 10, "binary"),
        (b"Lorem ipsum, plain text without any markup at all.\n" * 5, "no HTML markup"),
    ],
)
def test_extract_non_html(dvcrawl: Runner, tmp_path: Path, content: bytes, kind: str) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(content)
    line = one_line_error(dvcrawl("extract", str(path), "--url", CU_CHI_URL))
    assert "not an HTML page" in line and kind in line


def test_extract_windows_1258_page(dvcrawl: Runner) -> None:
    legacy = dvcrawl(
        "extract", str(FIXTURES / "bad_input" / "article_windows1258.html"), "--url", CU_CHI_URL
    )
    modern = dvcrawl("extract", str(CU_CHI), "--url", CU_CHI_URL)
    assert legacy.returncode == 0, legacy.stderr
    old, new = json.loads(legacy.stdout), json.loads(modern.stdout)
    assert old["title"] == new["title"]  # NFC after decoding the decomposed tone marks
    assert old["text"] == new["text"].replace("m²", "m2")
    assert old["published_at"] == new["published_at"] and old["author"] == new["author"]


def test_extract_truncated_page_warns_and_keeps_what_is_there(
    dvcrawl: Runner, tmp_path: Path
) -> None:
    html = CU_CHI.read_text(encoding="utf-8")
    cut = html[: html.index("Năm 2022, Nhân dân xã")]
    path = tmp_path / "truncated.html"
    path.write_text(cut, encoding="utf-8")
    result = dvcrawl("extract", str(path), "--url", CU_CHI_URL)
    assert result.returncode == 0
    assert "looks truncated" in result.stderr and "Traceback" not in result.stderr
    record = json.loads(result.stdout)
    assert record["title"].startswith("Huyện Củ Chi") and record["text"].startswith("Sáng 5/3")


@pytest.mark.parametrize(
    "url", ["not-a-url", "ftp://thanhuytphcm.vn/x", "/tin-tuc/x-1491897342", "https://"]
)
def test_extract_invalid_url(dvcrawl: Runner, url: str) -> None:
    assert "URL" in one_line_error(dvcrawl("extract", str(CU_CHI), "--url", url))


def test_extract_unknown_portal_uses_the_generic_extractor(dvcrawl: Runner) -> None:
    result = dvcrawl(
        "extract", str(CU_CHI), "--url", "https://danvan.example.vn/tin-tuc/abc-123.html"
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["site"] == "generic" and record["extractor"].startswith("generic/")
    assert record["title"].startswith("Huyện Củ Chi ra mắt")


def test_extract_missing_file_and_directory(dvcrawl: Runner, tmp_path: Path) -> None:
    assert "no such file" in one_line_error(
        dvcrawl("extract", str(tmp_path / "nope.html"), "--url", CU_CHI_URL)
    )
    assert "directory" in one_line_error(dvcrawl("extract", str(tmp_path), "--url", CU_CHI_URL))


def test_extract_huge_file_is_refused(dvcrawl: Runner, tmp_path: Path) -> None:
    huge = tmp_path / "huge.html"
    with huge.open("wb") as handle:
        handle.truncate(60 * 1024 * 1024)
    assert "refused" in one_line_error(dvcrawl("extract", str(huge), "--url", CU_CHI_URL))


def test_usage_errors_are_one_line(dvcrawl: Runner) -> None:
    one_line_error(dvcrawl("extract", str(CU_CHI)))  # --url missing
    one_line_error(dvcrawl("export", "--format", "xml", "-o", "-"))
    one_line_error(dvcrawl("export", "--format", "jsonl", "--since", "28/02/2024", "-o", "-"))
    one_line_error(dvcrawl("crawl", "thanhuytphcm", "--max-pages", "0"))


def test_crawl_bad_input(dvcrawl: Runner, tmp_path: Path, db_url: str) -> None:
    assert "unknown site 'nope'" in one_line_error(dvcrawl("crawl", "nope"))
    assert "name at least one site" in one_line_error(dvcrawl("crawl"))
    assert "no such WARC file" in one_line_error(
        dvcrawl("crawl", "thanhuytphcm", "--replay", str(tmp_path / "x.warc.gz"))
    )
    assert "no registered site" in one_line_error(
        dvcrawl("crawl", "--start-url", "https://example.org/")
    )
    assert (
        "database"
        in one_line_error(dvcrawl("crawl", "thanhuytphcm", "--db", "nosuchdb://x")).lower()
    )
    not_warc = tmp_path / "notes.warc.gz"
    not_warc.write_bytes(b"this is not a WARC file\n")
    assert "not a" in one_line_error(
        dvcrawl("crawl", "thanhuytphcm", "--db", db_url, "--replay", str(not_warc))
    )


def test_import_bad_and_cut_short_archives(
    dvcrawl: Runner, tmp_path: Path, db_url: str, thanhuytphcm_warc: Path
) -> None:
    not_warc = tmp_path / "page.warc"
    shutil.copy(CU_CHI, not_warc)
    assert "not a" in one_line_error(dvcrawl("import", str(not_warc), "--db", db_url))

    # A crawl killed while writing leaves a cut-short archive: its complete records count.
    data = thanhuytphcm_warc.read_bytes()
    cut = tmp_path / "killed.warc.gz.open"
    cut.write_bytes(data[: int(len(data) * 0.8)])
    result = dvcrawl("import", str(cut), "--db", db_url)
    assert result.returncode == 0, result.stderr
    assert "cut short" in result.stderr and "Traceback" not in result.stderr
    assert "articles new" in result.stdout


def test_export_bad_input(dvcrawl: Runner, db_url: str, tmp_path: Path) -> None:
    assert "binary" in one_line_error(
        dvcrawl("export", "--format", "parquet", "--db", db_url, "-o", "-")
    )
    assert "after" in one_line_error(
        dvcrawl(
            "export",
            "--format",
            "jsonl",
            "--since",
            "2024-02-01",
            "--until",
            "2024-01-01",
            "--db",
            db_url,
            "-o",
            "-",
        )
    )
    # Export never creates a database (issue 10); give it an empty one.
    from dvcrawl.db import init_db, make_engine

    engine = make_engine(db_url)
    init_db(engine)
    engine.dispose()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "cannot write" in one_line_error(
        dvcrawl("export", "--format", "csv", "--db", db_url, "-o", str(blocker / "out.csv"))
    )


def scrapy_crawl(
    dvcrawl: Runner, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``scrapy crawl`` as a Scrapy user runs it, in the project's settings."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", *args],
        cwd=dvcrawl.workdir,
        env={**dvcrawl.env, "SCRAPY_SETTINGS_MODULE": "dvcrawl.settings", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def replayed(db_url: str, warc: Path) -> list[str]:
    """``scrapy crawl`` arguments: thanhuytphcm replayed from `warc` into `db_url`."""
    return ["thanhuytphcm", "-s", f"DVCRAWL_DB_URL={db_url}", "-s", f"DVCRAWL_REPLAY={warc}"]


def test_scrapy_crawl_exits_1_with_the_cause_when_the_run_failed(
    dvcrawl: Runner, db_url: str, thanhuytphcm_warc: Path
) -> None:
    # Scrapy's own `crawl` exits 0 whenever the spider started; under cron or Scrapyd a portal
    # that could not be reached then looked like a good run.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens there
    failed = scrapy_crawl(
        dvcrawl,
        "thanhuytphcm",
        "-s",
        f"DVCRAWL_DB_URL={db_url}",
        env={"https_proxy": closed, "http_proxy": closed},
    )
    assert failed.returncode == 1, failed.stderr[-2000:]
    assert "thanhuytphcm: unreachable: connection refused by the proxy" in failed.stderr

    good = scrapy_crawl(dvcrawl, *replayed(db_url, thanhuytphcm_warc))
    assert good.returncode == 0, good.stderr[-2000:]
    assert not [line for line in good.stderr.splitlines() if line.startswith("thanhuytphcm: ")]


def test_scrapy_crawl_with_a_stalling_commit_batch_commits_every_article(
    dvcrawl: Runner, db_url: str, thanhuytphcm_warc: Path
) -> None:
    # Scrapyd runs `scrapy crawl`, which never sees `dvcrawl crawl`'s refusal below: the
    # store itself must not hold a transaction open across pages on SQLite.
    result = scrapy_crawl(
        dvcrawl, *replayed(db_url, thanhuytphcm_warc), "-s", "DVCRAWL_COMMIT_EVERY=20"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "DVCRAWL_COMMIT_EVERY=20 on SQLite" in result.stderr
    assert "committing every article instead" in result.stderr
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        assert connection.execute("SELECT count(*) FROM articles").fetchone()[0] > 0
    finally:
        connection.close()


def test_a_commit_batch_that_would_stall_a_crawl_on_sqlite_is_refused(
    dvcrawl: Runner, db_url: str
) -> None:
    # SQLite has one writer: a store holding its transaction across pages made the crawl's
    # other writers (run state, URL shapes, other sites) wait out the 60 s busy timeout; a
    # one-site replay of the sample archive took 60 s instead of 1.
    line = one_line_error(
        dvcrawl("crawl", "thanhuytphcm", "danvan", "--db", db_url, "-s", "DVCRAWL_COMMIT_EVERY=20")
    )
    assert line == (
        "dvcrawl: error: DVCRAWL_COMMIT_EVERY=20 on SQLite: the crawl's other writers would "
        "wait on the store's open transaction (60 s each); use 1, or a PostgreSQL database"
    )
    assert not Path(db_url.removeprefix("sqlite:///")).exists(), "refused before any work"
    for bad in ("0", "x"):
        assert "DVCRAWL_COMMIT_EVERY must be" in one_line_error(
            dvcrawl("crawl", "thanhuytphcm", "--db", db_url, "-s", f"DVCRAWL_COMMIT_EVERY={bad}")
        )
