"""Writes that fail: rolled back at once, retried when transient, reported in one line."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import dvcrawl.db as db_module
from dvcrawl.db import (
    ArticleStore,
    DatabaseUnwritable,
    StorageError,
    check_writable,
    describe_db_error,
    init_db,
    is_transient,
    make_engine,
    sqlite_path,
)
from dvcrawl.db.models import ArticleRow
from dvcrawl.extract.text import content_hash
from dvcrawl.items import Article

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def article(n: int, extractor: str | None = "t/v1") -> Article:
    url = f"https://thanhuytphcm.vn/tin-tuc/bai-{n}-14918{n:05d}"
    return Article(
        url=url,
        canonical_url=url,
        site="thanhuytphcm",
        is_article=True,
        title=f"Bài {n}",
        text=f"Đoạn văn của bài số {n}.",
        extractor=extractor,  # type: ignore[arg-type]
    )


def save(store: ArticleStore, record: Article) -> str:
    return store.save(record, content_hash=content_hash(record.text), fetched_at=T0).outcome


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()
    return url


def hold_lock(url: str) -> sqlite3.Connection:
    """Another process's writer: holds the database's write lock until rolled back."""
    connection = sqlite3.connect(url.removeprefix("sqlite:///").split("?")[0], isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    return connection


def count(url: str) -> int:
    connection = sqlite3.connect(url.removeprefix("sqlite:///").split("?")[0])
    try:
        return connection.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        connection.close()


def test_a_lock_released_during_the_backoff_is_retried(db: str) -> None:
    engine = make_engine(f"{db}?timeout=0.1", writer=True)
    lock = hold_lock(db)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        lock.execute("ROLLBACK")  # the other writer finishes while we wait

    store = ArticleStore(engine, batch_size=1, retry_delay=0.5, sleep=sleep)
    assert save(store, article(1)) == "new"
    assert waits == [0.5] and store.retried == 1
    store.close()
    engine.dispose()
    lock.close()
    assert count(db) == 1


def test_a_lock_held_throughout_gives_up_and_leaves_the_session_usable(db: str) -> None:
    engine = make_engine(f"{db}?timeout=0.1", writer=True)
    lock = hold_lock(db)
    waits: list[float] = []
    store = ArticleStore(engine, batch_size=1, retries=3, retry_delay=0.5, sleep=waits.append)
    with pytest.raises(StorageError) as failure:
        save(store, article(1))
    assert failure.value.description == "database is locked: database is locked"
    assert waits == [0.5, 1.0, 2.0], "backoff doubles"
    lock.execute("ROLLBACK")
    lock.close()
    # Issue 10: every later write used to fail with PendingRollbackError.
    assert save(store, article(2)) == "new"
    store.close()
    engine.dispose()
    assert count(db) == 1


def test_a_permanent_failure_in_a_batch_reports_what_was_rolled_back(db: str) -> None:
    engine = make_engine(db, writer=True)
    store = ArticleStore(engine, batch_size=3, sleep=lambda _: pytest.fail("not transient"))
    assert save(store, article(1)) == "new"
    assert save(store, article(2)) == "new"
    with pytest.raises(StorageError) as failure:
        save(store, article(3, extractor=None))  # NOT NULL: a bug, never retried
    assert failure.value.description.startswith("database error: NOT NULL constraint failed")
    assert failure.value.lost == ["new", "new"]
    assert save(store, article(4)) == "new"
    store.close()
    engine.dispose()
    with Session(make_engine(db)) as session:
        urls = session.scalars(select(ArticleRow.canonical_url)).all()
    assert [u.split("/")[-1] for u in urls] == ["bai-4-1491800004"]


def test_read_only_is_found_by_the_write_probe_and_is_not_transient(db: str) -> None:
    read_only = f"sqlite:///file:{db.removeprefix('sqlite:///')}?mode=ro&uri=true"
    engine = make_engine(read_only, writer=True)
    init_db(engine)  # reading the schema works
    with pytest.raises(DatabaseUnwritable, match="^database is read-only: attempt to write"):
        check_writable(engine)
    with pytest.raises(OperationalError) as failure, engine.begin() as connection:
        connection.execute(text("DELETE FROM articles"))
    assert not is_transient(failure.value)
    assert describe_db_error(failure.value).startswith("database is read-only")
    engine.dispose()
    check_writable(make_engine(db, writer=True))  # a writable one passes


def test_readers_do_not_create_folders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'x.sqlite3'}"
    make_engine(url, create=False).dispose()
    assert not (tmp_path / "a").exists()
    make_engine(url).dispose()
    assert (tmp_path / "a" / "b").is_dir()
    assert sqlite_path("sqlite:///file:/x/y.db?mode=ro&uri=true") is None
    assert sqlite_path("postgresql://u@h/db") is None


def test_ctrl_c_in_the_middle_of_a_write_rolls_the_batch_back(db: str) -> None:
    # Ctrl-C lands anywhere: inside a write, the transaction holds half an article. The
    # batch is given up as a kill would leave it, and closing the store afterwards used to
    # fail with PendingRollbackError (a traceback instead of "dvcrawl: interrupted").
    engine = make_engine(db, writer=True)
    store = ArticleStore(engine, batch_size=2)
    assert save(store, article(1)) == "new"
    assert save(store, article(2)) == "new"  # the first batch, committed
    assert save(store, article(3)) == "new"
    insert = db_module._INSERT_ARTICLE.insert

    def interrupted(connection, values):
        insert(connection, values)  # the row is written, its index not yet
        raise KeyboardInterrupt

    db_module._INSERT_ARTICLE.insert = interrupted  # type: ignore[method-assign]
    try:
        with pytest.raises(KeyboardInterrupt):
            save(store, article(4))
    finally:
        del db_module._INSERT_ARTICLE.insert
    store.close()
    engine.dispose()
    assert count(db) == 2
