"""``dvcrawl import --jobs N``: extraction on N processes, the same rows as on one.

The archive is the speed benchmark's (benchmarks/portal_archive.py): the gold pages, then
the same pages republished (exact copies), reposted with a few words changed (near copies)
and reused as templates for other events, with a few responses that are not pages. Which
copy is the original depends on the order of the archive, so any reordering of duplicate
decisions or writes shows in the rows.
"""

from __future__ import annotations

import sqlite3
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


@pytest.fixture(scope="module")
def portal_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("archive") / "portal.warc.gz", pages=260)


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


def test_jobs_must_be_a_positive_number(
    dvcrawl: Runner, tmp_path: Path, portal_archive: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = dvcrawl("import", str(portal_archive), "--jobs", "0", "--db", db_url)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "dvcrawl: error: --jobs must be at least 1, not 0"
    ], result.stderr
