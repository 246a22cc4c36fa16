"""Schema migrations (Alembic): new databases, databases of earlier versions, and the commands.

The schema the migrations build must be the schema the models describe: a model changed
without its migration fails here, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from dvcrawl import dedup
from dvcrawl.db import (
    DatabaseError,
    DatabaseNeedsUpgrade,
    head_revision,
    init_db,
    make_engine,
    schema_revision,
)
from dvcrawl.db.models import Base
from dvcrawl.search import is_search_index_object
from tests.conftest import Runner
from tests.support.fixture_sites import FIXTURES

TEXT = (FIXTURES / "thanhuytphcm" / "article_cu_chi_nong_thon_moi.json").read_text(encoding="utf-8")


def context(connection) -> MigrationContext:
    """A migration context that compares what the models describe (not the search index)."""
    return MigrationContext.configure(
        connection,
        opts={"include_name": lambda name, type_, parents: not is_search_index_object(name)},
    )


def schema_differences(url: str) -> list:
    engine = make_engine(url, writer=True)
    try:
        assert init_db(engine) == "created"
        with engine.connect() as connection:
            return compare_metadata(context(connection), Base.metadata)
    finally:
        engine.dispose()


def test_the_migrations_build_the_schema_the_models_describe(tmp_path: Path) -> None:
    assert schema_differences(f"sqlite:///{tmp_path / 'new.sqlite3'}") == []


def test_the_migrations_build_the_schema_the_models_describe_on_postgresql(pg_url: str) -> None:
    assert schema_differences(pg_url) == []


# --- databases made by dvcrawl 0.1, which versioned its schema by hand ----------------------

#: The DDL of dvcrawl 0.1's schema 1 (articles and their versions, before deduplication), as
#: its ``Base.metadata.create_all`` wrote it.
SCHEMA_1 = """
CREATE TABLE articles (id INTEGER NOT NULL, canonical_url VARCHAR(2048) NOT NULL,
  url VARCHAR(2048) NOT NULL, site VARCHAR(64) NOT NULL, title TEXT, sapo TEXT, text TEXT,
  author TEXT, published_at VARCHAR(40), published_raw TEXT, images JSON NOT NULL,
  language VARCHAR(8) NOT NULL, extractor VARCHAR(64) NOT NULL, schema_version INTEGER NOT NULL,
  content_hash VARCHAR(64) NOT NULL, duplicate_of VARCHAR(2048), similarity FLOAT,
  first_seen_at DATETIME NOT NULL, fetched_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  http_etag VARCHAR(256), http_last_modified VARCHAR(64), PRIMARY KEY (id),
  UNIQUE (canonical_url));
CREATE TABLE article_versions (id INTEGER NOT NULL, article_id INTEGER NOT NULL,
  content_hash VARCHAR(64) NOT NULL, title TEXT, text TEXT, fetched_at DATETIME NOT NULL,
  replaced_at DATETIME NOT NULL, PRIMARY KEY (id),
  FOREIGN KEY(article_id) REFERENCES articles (id) ON DELETE CASCADE);
CREATE TABLE schema_info (id INTEGER NOT NULL PRIMARY KEY, version INTEGER NOT NULL,
  created_at DATETIME NOT NULL);
INSERT INTO schema_info VALUES (1, 1, '2026-01-01 00:00:00');
INSERT INTO articles VALUES (1, 'https://thanhuytphcm.vn/tin-tuc/a-1491800001',
  'https://thanhuytphcm.vn/tin-tuc/a-1491800001', 'thanhuytphcm', 'Bài một', NULL, :text, NULL,
  NULL, NULL, '[]', 'vi', 'thanhuytphcm/v1', 1, 'h', NULL, NULL, '2026-01-01 00:00:00',
  '2026-01-01 00:00:00', '2026-01-01 00:00:00', NULL, NULL);
INSERT INTO article_versions VALUES (1, 1, 'h0', 'Bài một', 'cũ', '2025-12-01 00:00:00',
  '2026-01-01 00:00:00');
"""

#: Schema 3 added LSH bands, crawl runs and backfill cursors (tables only).
SCHEMA_3 = """
CREATE TABLE lsh_bands (article_id INTEGER NOT NULL, band SMALLINT NOT NULL, key BIGINT NOT NULL,
  PRIMARY KEY (article_id, band),
  FOREIGN KEY(article_id) REFERENCES articles (id) ON DELETE CASCADE);
CREATE TABLE crawl_runs (id INTEGER NOT NULL PRIMARY KEY, site VARCHAR(64) NOT NULL,
  mode VARCHAR(16) NOT NULL, pid INTEGER NOT NULL, host VARCHAR(255) NOT NULL,
  started_at DATETIME NOT NULL, finished_at DATETIME, outcome VARCHAR(16) NOT NULL,
  finish_reason VARCHAR(64), pages_fetched INTEGER NOT NULL, article_requests INTEGER NOT NULL,
  new INTEGER NOT NULL, updated INTEGER NOT NULL, unchanged INTEGER NOT NULL,
  duplicates INTEGER NOT NULL, errors INTEGER NOT NULL, stats JSON NOT NULL, checks JSON NOT NULL);
CREATE TABLE crawl_cursors (site VARCHAR(64) NOT NULL, listing VARCHAR(2048) NOT NULL,
  next_url VARCHAR(2048), page INTEGER NOT NULL, done_at DATETIME, updated_at DATETIME NOT NULL,
  PRIMARY KEY (site, listing));
INSERT INTO crawl_runs VALUES (1, 'thanhuytphcm', 'incremental', 1, 'h', '2026-01-02 00:00:00',
  '2026-01-02 00:01:00', 'finished', 'finished', 3, 1, 1, 0, 0, 0, 0, '{}', '[]');
UPDATE schema_info SET version = 3;
"""


def legacy_database(path: Path, version: int) -> str:
    """A database as dvcrawl 0.1 left it at hand-kept schema `version` (1 or 3)."""
    import json

    text_of_article = json.loads(TEXT)["text"]
    connection = sqlite3.connect(path)
    for script in (SCHEMA_1, SCHEMA_3)[: 1 if version == 1 else 2]:
        for statement in filter(str.strip, script.split(";")):
            connection.execute(statement, {"text": text_of_article} if ":text" in statement else {})
    if version == 3:
        connection.executemany(
            "INSERT INTO lsh_bands VALUES (1, ?, ?)",
            enumerate(dedup.fingerprint(text_of_article).keys),
        )
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


@pytest.mark.parametrize("version", [1, 3])
def test_an_earlier_database_is_refused_until_upgraded_then_adopted_with_its_rows(
    tmp_path: Path, version: int
) -> None:
    url = legacy_database(tmp_path / "old.sqlite3", version)
    engine = make_engine(url, writer=True)
    with pytest.raises(DatabaseNeedsUpgrade, match=f"an earlier dvcrawl's schema {version}"):
        init_db(engine)
    assert schema_revision(engine) is None  # refused, untouched
    assert init_db(engine, upgrade=True).startswith(f"adopted (schema {version})")
    assert schema_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT title FROM articles")).scalars().all() == ["Bài một"]
        assert connection.execute(text("SELECT count(*) FROM article_versions")).scalar() == 1
        # Schema 1 had no LSH bands: the adoption indexed the stored article for dedup.
        bands = connection.execute(text("SELECT count(*) FROM lsh_bands")).scalar()
        assert bands == dedup.band_shape()[0]
        runs = connection.execute(text("SELECT site, cause FROM crawl_runs")).all()
        assert runs == ([("thanhuytphcm", None)] if version == 3 else [])
        tables = set(
            connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars()
        )
        assert {"url_shapes", "robots_copies", "alembic_version"} <= tables
        assert connection.execute(text("SELECT version FROM schema_info")).scalar() == 4
        differences = compare_metadata(context(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_a_database_of_a_newer_dvcrawl_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    engine = make_engine(url, writer=True)
    init_db(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseError, match="revision 9999, newer than this dvcrawl knows"):
        init_db(engine, upgrade=True)
    engine.dispose()


def test_commands_say_when_the_database_needs_upgrading(dvcrawl: Runner, tmp_path: Path) -> None:
    url = legacy_database(tmp_path / "old.sqlite3", 3)
    for command in (
        ["status", "--db", url],
        ["export", "--format", "jsonl", "-o", "-", "--db", url],
        ["crawl", "thanhuytphcm", "--db", url, "--replay", str(tmp_path / "none.warc.gz")],
    ):
        if command[0] == "crawl":
            (tmp_path / "none.warc.gz").write_bytes(b"")
        result = dvcrawl(*command)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, (command, result.stderr)
        assert "needs upgrading" in lines[0] and "dvcrawl db upgrade" in lines[0], lines[0]
    upgraded = dvcrawl("db", "upgrade", "--db", url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "adopted (schema 3)" in upgraded.stdout
    again = dvcrawl("db", "upgrade", "--db", url)
    assert f"already at schema revision {head_revision()}" in again.stdout
    status = dvcrawl("status", "--db", url)
    assert status.returncode in (0, 1) and "needs upgrading" not in status.stderr


def test_upgrade_needs_an_existing_database(dvcrawl: Runner, tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "db.sqlite3"
    result = dvcrawl("db", "upgrade", "--db", f"sqlite:///{missing}")
    assert result.returncode == 2 and "no database at" in result.stderr
    assert not missing.parent.exists()


def test_a_new_database_is_made_at_the_newest_revision_by_any_command(
    dvcrawl: Runner, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    before = datetime.now(UTC)
    engine = make_engine(url, writer=True)
    assert init_db(engine) == "created"
    assert init_db(engine) == "current"
    assert schema_revision(engine) == head_revision()
    with engine.connect() as connection:
        created = connection.execute(text("SELECT created_at FROM schema_info")).scalar()
    engine.dispose()
    assert str(created)[:4] == str(before.year)


# --- revision 0003: web archives (issue 13) ------------------------------------------------------


def migrate(engine, revision: str, *, down: bool = False) -> None:
    """Bring `engine`'s database to `revision` (up, or down), as `dvcrawl db upgrade` runs them."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "dvcrawl.db:migrations")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_a_database_before_web_archives_is_upgraded_with_its_rows(tmp_path: Path) -> None:
    import json

    from dvcrawl.search import search

    url = f"sqlite:///{tmp_path / 'r2.sqlite3'}"
    engine = make_engine(url, writer=True)
    migrate(engine, "0002")
    text_of_article = json.loads(TEXT)["text"]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO articles (id, canonical_url, url, site, title, text, images, "
                "language, extractor, schema_version, content_hash, first_seen_at, fetched_at, "
                "updated_at, relevance) VALUES (1, :url, :url, 'thanhuytphcm', 'Bài một', :text, "
                "'[]', 'vi', 'thanhuytphcm/v1', 1, 'h', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 0.9)"
            ),
            {"url": "https://thanhuytphcm.vn/tin-tuc/a-1491800001", "text": text_of_article},
        )
        connection.execute(
            text(
                "INSERT INTO crawl_runs (id, site, mode, pid, host, started_at, outcome, "
                "pages_fetched, article_requests, new, updated, unchanged, duplicates, errors, "
                "stats, checks) VALUES (1, 'thanhuytphcm', 'incremental', 1, 'h', "
                "'2026-01-02 00:00:00', 'finished', 3, 1, 1, 0, 0, 0, 0, '{}', '[]')"
            )
        )
    assert schema_revision(engine) == "0002"
    with pytest.raises(DatabaseNeedsUpgrade, match="it has revision 0002"):
        init_db(engine)
    assert init_db(engine, upgrade=True) == f"upgraded from 0002 to {head_revision()}"
    with engine.connect() as connection:
        article = connection.execute(
            text("SELECT title, relevance, archive_url, archived_at FROM articles")
        ).all()
        assert article == [("Bài một", 0.9, None, None)]
        assert connection.execute(text("SELECT site, source FROM crawl_runs")).all() == [
            ("thanhuytphcm", "live")
        ]
        assert connection.execute(text("SELECT count(*) FROM archive_captures")).scalar() == 0
        assert compare_metadata(context(connection), Base.metadata) == []
    # The search index kept its triggers: the stored article is found, and so is a new one.
    assert [hit.title for hit in search(engine, "Củ Chi")] == ["Bài một"]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE articles SET title = 'Bài một, sửa', archive_url = 'https://w/web/1id_/x'")
        )
    assert [hit.title for hit in search(engine, "sửa")] == ["Bài một, sửa"]
    # And back: the columns and the table go, the rows and the search index stay.
    migrate(engine, "0002", down=True)
    with engine.connect() as connection:
        columns = {row[1] for row in connection.exec_driver_sql("PRAGMA table_info(articles)")}
        tables = set(
            connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars()
        )
    assert "archive_url" not in columns and "archive_captures" not in tables
    assert [hit.title for hit in search(engine, "Củ Chi")] == ["Bài một, sửa"]
    engine.dispose()


# --- revision 0004: dedup sketches (issue 11) -------------------------------------------------


def test_an_older_database_gets_its_articles_sketched_on_upgrade(tmp_path: Path) -> None:
    # Issue 11: deduplication verifies stored candidates from their sketches; articles stored
    # before the sketches existed get theirs when the database is upgraded.
    from dvcrawl.db import ArticleStore
    from dvcrawl.items import Article

    url = f"sqlite:///{tmp_path / 'before-sketches.sqlite3'}"
    engine = make_engine(url, writer=True)
    init_db(engine)
    texts = {
        f"https://thanhuytphcm.vn/tin-tuc/bai-{n}-14918{n:05d}": f"Bài {n}: tổng kết năm 202{n}."
        for n in range(3)
    }
    texts[next(iter(texts))] = json.loads(TEXT)["text"]
    store = ArticleStore(engine)
    for url_, body in texts.items():
        print_ = dedup.fingerprint(body)
        record = Article(
            url=url_, canonical_url=url_, site="thanhuytphcm", is_article=True, title="t", text=body
        )
        store.save(
            record,
            content_hash=print_.content_hash,
            fetched_at=datetime.now(UTC),
            band_keys=print_.keys,
        )
    store.close()
    # Back to the revision before the sketches (what a database of that dvcrawl holds).
    migrate(engine, "0003", down=True)
    assert schema_revision(engine) == "0003"
    assert init_db(engine, upgrade=True) == f"upgraded from 0003 to {head_revision()}"
    with engine.connect() as connection:
        stored = dict(
            connection.execute(
                text(
                    "SELECT a.canonical_url, s.shingles FROM articles a"
                    " JOIN article_sketches s ON s.article_id = a.id"
                )
            ).all()
        )
        entities = connection.execute(text("SELECT entities FROM article_sketches")).scalars()
        assert sorted(len(value) // 8 for value in entities) == sorted(
            len(dedup.entities(body)) for body in texts.values()
        )
    engine.dispose()
    assert stored == {url_: dedup.sketch_of(body).shingles_bytes() for url_, body in texts.items()}
    assert all(stored.values())


# --- revision 0005: names read with capital letters only ------------------------------------


def test_an_upgrade_reads_the_stored_articles_names_again(tmp_path: Path) -> None:
    # The names kept in the sketches were read by a rule that took small accented letters for
    # capitals ("được đăng"); a copy is compared with its original on them, so the stored ones
    # are read again by the new rule.
    from dvcrawl.db import ArticleStore
    from dvcrawl.items import Article

    url = f"sqlite:///{tmp_path / 'old-names.sqlite3'}"
    engine = make_engine(url, writer=True)
    init_db(engine)
    body = json.loads(TEXT)["text"]
    store = ArticleStore(engine)
    print_ = dedup.fingerprint(body)
    record = Article(
        url="https://thanhuytphcm.vn/tin-tuc/bai-1491800001",
        canonical_url="https://thanhuytphcm.vn/tin-tuc/bai-1491800001",
        site="thanhuytphcm",
        is_article=True,
        title="t",
        text=body,
    )
    store.save(
        record,
        content_hash=print_.content_hash,
        fetched_at=datetime.now(UTC),
        band_keys=print_.keys,
        sketch=print_.sketch(),
    )
    store.close()
    old_rule = dedup.entity_hashes(["được đăng", "đồng để", *dedup.entities(body)])
    migrate(engine, "0004", down=True)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE article_sketches SET entities = :old"),
            {"old": old_rule.astype("<u8").tobytes()},
        )
    assert init_db(engine, upgrade=True) == f"upgraded from 0004 to {head_revision()}"
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT entities FROM article_sketches")).scalar_one()
    engine.dispose()
    assert stored == dedup.entity_hashes(dedup.entities(body)).astype("<u8").tobytes()
    assert stored != old_rule.astype("<u8").tobytes()


# --- the current schema is recognized without Alembic (issue 11) ----------------------------


def test_the_newest_revision_read_from_the_files_is_alembics() -> None:
    from dvcrawl.db import _revisions, _shipped_head

    assert _shipped_head() == _revisions()[0] == head_revision()


def test_a_current_database_is_opened_without_importing_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'current.sqlite3'}"
    script = (
        "import sys; from dvcrawl.db import init_db, make_engine; "
        f"print(init_db(make_engine({url!r}, writer=True)), 'alembic' in sys.modules)"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert [run.stdout.split() for run in runs] == [["created", "True"], ["current", "False"]]


@pytest.mark.parametrize(
    ("stamp", "raised"),
    [("0003", "needs upgrading"), ("9999", "newer than this dvcrawl knows")],
)
def test_a_database_at_another_revision_is_left_to_alembic(
    tmp_path: Path, stamp: str, raised: str
) -> None:
    # The fast path says "current" only for the newest revision; anything else is decided and
    # reported by Alembic, as before.
    engine = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}", writer=True)
    assert init_db(engine) == "created"
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": stamp})
    with pytest.raises(DatabaseError, match=raised):
        init_db(engine)
    engine.dispose()


# --- revision 0006: a batch's search indexing at its end (issue 11) ------------------------------


def test_revision_0006_rebuilds_the_index_with_deferring_triggers_and_back(tmp_path: Path) -> None:
    import json

    from dvcrawl.search import search

    target = tmp_path / "r5.sqlite3"
    url = f"sqlite:///{target}"
    engine = make_engine(url, writer=True)
    migrate(engine, "0005")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO articles (id, canonical_url, url, site, title, text, images, "
                "language, extractor, schema_version, content_hash, first_seen_at, fetched_at, "
                "updated_at) VALUES (1, :url, :url, 'thanhuytphcm', 'Bài một', :text, '[]', 'vi', "
                "'thanhuytphcm/v1', 1, 'h', '2026-01-01 00:00:00', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00')"
            ),
            {
                "url": "https://thanhuytphcm.vn/tin-tuc/a-1491800001",
                "text": json.loads(TEXT)["text"],
            },
        )

    def triggers() -> dict[str, str]:
        with sqlite3.connect(target) as connection:
            return dict(
                connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            )

    def check() -> None:
        with sqlite3.connect(target) as connection:
            for table in ("articles_fts", "articles_fts_accents"):
                connection.execute(
                    f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)"
                )
        assert [hit.canonical_url for hit in search(engine, "dan van")] == [
            "https://thanhuytphcm.vn/tin-tuc/a-1491800001"
        ]

    # The triggers as dvcrawl built them before revision 0006 (a migration builds the index
    # with today's code, so a database of that time is remade here by hand).
    with sqlite3.connect(target) as connection:
        connection.execute("DROP TABLE search_deferred")
        for table in ("articles_fts", "articles_fts_accents"):
            insert = (
                f"INSERT INTO {table}(rowid, title, text) VALUES (new.id, new.title, new.text);"
            )
            delete = (
                f"INSERT INTO {table}({table}, rowid, title, text) "
                "VALUES ('delete', old.id, old.title, old.text);"
            )
            for suffix, event, body in (
                ("ai", "INSERT", insert),
                ("ad", "DELETE", delete),
                ("au", "UPDATE OF title, text", f"{delete} {insert}"),
            ):
                connection.execute(f"DROP TRIGGER {table}_{suffix}")
                connection.execute(
                    f"CREATE TRIGGER {table}_{suffix} AFTER {event} ON articles BEGIN {body} END"
                )
    before = triggers()
    assert len(before) == 6 and not any(" WHEN " in sql for sql in before.values())
    migrate(engine, "0006")
    after = triggers()
    assert set(after) == set(before) and all("search_deferred" in sql for sql in after.values())
    check()
    migrate(engine, "0005", down=True)
    assert triggers() == before
    with sqlite3.connect(target) as connection:
        assert connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'search_deferred'"
        ).fetchone() == (0,)
    check()
    engine.dispose()
