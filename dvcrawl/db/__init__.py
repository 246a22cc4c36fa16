"""Database access: the URL, the engine, the schema, and the article store.

Any SQLAlchemy URL works; SQLite (the default, a file under ``storage/``) and PostgreSQL are
tested. SQLite runs in WAL mode with a busy timeout, so an export or ``dvcrawl status`` can read
while a crawl writes, and two writers wait for each other instead of failing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from dvcrawl.db.models import ArticleRow, ArticleVersion, Base, LshBand, SchemaInfo
from dvcrawl.items import SCHEMA_VERSION, Article

#: Version of the database schema. 1: articles and versions; 2: LSH bands for deduplication;
#: 3: crawl runs and backfill cursors (new tables only).
DB_SCHEMA_VERSION = 3

#: Where runtime data goes when neither DVCRAWL_STORAGE_DIR nor a URL says otherwise.
DEFAULT_STORAGE_DIR = "storage"
#: Seconds a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT = 60


class DatabaseError(RuntimeError):
    """A database URL that cannot be used, or a database dvcrawl cannot work with."""


def storage_dir() -> Path:
    """The runtime data folder: ``$DVCRAWL_STORAGE_DIR``, else ``./storage``."""
    return Path(os.environ.get("DVCRAWL_STORAGE_DIR") or DEFAULT_STORAGE_DIR)


def default_db_url() -> str:
    """``$DVCRAWL_DB_URL``, else SQLite at ``<storage>/dvcrawl.sqlite3``."""
    return os.environ.get("DVCRAWL_DB_URL") or f"sqlite:///{storage_dir() / 'dvcrawl.sqlite3'}"


def make_engine(url: str, *, writer: bool = False) -> Engine:
    """Create an engine for `url`, creating the SQLite file's folder if needed.

    Args:
        url: any SQLAlchemy database URL.
        writer: on SQLite, start every transaction with ``BEGIN IMMEDIATE``. A deferred
            transaction that reads, then writes, fails at once ("database is locked", no
            waiting) when another process wrote in between; one that takes the write lock at
            its start waits its turn instead.

    Raises:
        DatabaseError: if the URL is malformed or names a driver that is not installed.

    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {url!r}") from exc
    is_sqlite = parsed.get_backend_name() == "sqlite"
    options: dict[str, Any] = {}
    if is_sqlite:
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT}
    try:
        engine = create_engine(url, **options)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use database URL {url!r}: {exc}") from exc
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLAlchemy's documented recipe: pysqlite no longer begins transactions itself (it
        # would not for DDL, and never IMMEDIATE); the engine does, at the start of each one.
        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql(begin))
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    # NORMAL is durable in WAL mode except for the last transactions before a power loss;
    # a killed process loses nothing that was committed.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_db(engine: Engine) -> None:
    """Create missing tables, bring an older schema up to date, refuse a newer one.

    Safe when several processes open a new database at once (two cron jobs, `crawl` beside
    `import`): on PostgreSQL an advisory lock serializes the schema work; on SQLite, whose
    writers queue on the database lock, a process that lost the race to create a table
    simply finds it there on its next attempt.

    Raises:
        DatabaseError: if the database was created by a newer dvcrawl, or cannot be reached.

    """
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError, OperationalError

    for attempt in range(6):
        try:
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(2026112201)"))
                Base.metadata.create_all(connection)
                with Session(bind=connection) as session:
                    _check_schema(session)
            return
        except DatabaseError:
            raise
        except DBAPIError as exc:
            message = str(exc.orig).lower()
            if attempt < 5 and any(race in message for race in _SCHEMA_RACES):
                time.sleep(0.05 * (attempt + 1))
                continue
            if isinstance(exc, OperationalError):
                raise DatabaseError(f"cannot open the database: {exc.orig}") from exc
            raise


# What another process creating the same schema at the same moment looks like.
_SCHEMA_RACES = (
    "already exists",
    "schema has changed",
    "database is locked",
    "unique constraint",
    "duplicate key",
)


def _check_schema(session: Session) -> None:
    info = session.scalar(select(SchemaInfo).limit(1))
    if info is None:
        # A fixed id: two processes creating the database at once cannot both add a row.
        session.add(SchemaInfo(id=1, version=DB_SCHEMA_VERSION, created_at=utcnow()))
        session.flush()
        return
    if info.version > DB_SCHEMA_VERSION:
        raise DatabaseError(
            f"the database has schema version {info.version}; this dvcrawl knows {DB_SCHEMA_VERSION}: upgrade dvcrawl"
        )
    if info.version < 2:
        _index_bands(session)
    info.version = DB_SCHEMA_VERSION
    session.flush()


def _index_bands(session: Session) -> None:
    """Schema 1 -> 2: compute the LSH bands of articles stored before deduplication existed."""
    from dvcrawl.dedup import fingerprint

    rows = session.execute(
        select(ArticleRow.id, ArticleRow.text).where(~ArticleRow.id.in_(select(LshBand.article_id)))
    ).all()
    for row in rows:
        keys = fingerprint(row.text).keys
        session.add_all(
            LshBand(article_id=row.id, band=band, key=key) for band, key in enumerate(keys)
        )


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


@dataclass
class StoreResult:
    """What storing one article did: "new", "updated" or "unchanged"."""

    outcome: str
    row_id: int


class ArticleStore:
    """Reads and writes articles in one session, committing in batches.

    A batch is one transaction: a crawl killed mid-batch leaves the database as it was after
    the previous batch, never a half-written row; the lost articles are simply not known yet
    and are fetched again by the next run.
    """

    def __init__(self, engine: Engine, *, batch_size: int = 20):
        self.engine = engine
        self.batch_size = batch_size
        self.session = Session(engine, autoflush=True, expire_on_commit=False)
        self._pending = 0

    def get(self, canonical_url: str) -> ArticleRow | None:
        """The stored row for a canonical URL, if any."""
        return self.session.scalar(
            select(ArticleRow).where(ArticleRow.canonical_url == canonical_url)
        )

    def save(
        self,
        article: Article,
        *,
        content_hash: str,
        fetched_at: datetime,
        duplicate_of: str | None = None,
        similarity: float | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        band_keys: list[int] | None = None,
    ) -> StoreResult:
        """Insert or update the row of `article` (by canonical URL).

        An article whose text changed keeps its earlier content in `article_versions`; an
        unchanged article only has its fetch time and validators refreshed. `duplicate_of`
        applies to new rows only: an article keeps the identity it was first stored with.
        `band_keys` (from `dvcrawl.dedup`) are stored with new and changed texts, in the same
        transaction as the row.
        """
        row = self.get(article.canonical_url)
        fields = {
            "url": article.url,
            "site": article.site,
            "title": article.title,
            "sapo": article.sapo,
            "text": article.text,
            "author": article.author,
            "published_at": article.published_at,
            "published_raw": article.published_raw,
            "images": article.images,
            "language": article.language,
            "extractor": article.extractor,
            "schema_version": SCHEMA_VERSION,
            "content_hash": content_hash,
        }
        now = utcnow()
        if row is None:
            row = ArticleRow(
                canonical_url=article.canonical_url,
                duplicate_of=duplicate_of,
                similarity=similarity,
                first_seen_at=fetched_at,
                fetched_at=fetched_at,
                updated_at=now,
                http_etag=etag,
                http_last_modified=last_modified,
                **fields,
            )
            self.session.add(row)
            self.session.flush()
            self._replace_bands(row.id, band_keys)
            outcome = "new"
        else:
            changed = row.content_hash != content_hash or row.title != article.title
            if row.content_hash != content_hash:
                self._replace_bands(row.id, band_keys)
                self.session.add(
                    ArticleVersion(
                        article_id=row.id,
                        content_hash=row.content_hash,
                        title=row.title,
                        text=row.text,
                        fetched_at=row.fetched_at,
                        replaced_at=now,
                    )
                )
            for key, value in fields.items():
                setattr(row, key, value)
            row.fetched_at = fetched_at
            row.http_etag = etag
            row.http_last_modified = last_modified
            if changed:
                row.updated_at = now
            outcome = "updated" if changed else "unchanged"
        self.session.flush()
        self._pending += 1
        if self._pending >= self.batch_size:
            self.commit()
        return StoreResult(outcome=outcome, row_id=row.id)

    def touch(self, canonical_url: str, fetched_at: datetime) -> None:
        """Record that a stored article was fetched again and found unchanged (HTTP 304)."""
        row = self.get(canonical_url)
        if row is not None:
            row.fetched_at = fetched_at
            self._pending += 1
            if self._pending >= self.batch_size:
                self.commit()

    def _replace_bands(self, article_id: int, band_keys: list[int] | None) -> None:
        if band_keys is None:
            return
        self.session.execute(delete(LshBand).where(LshBand.article_id == article_id))
        self.session.add_all(
            LshBand(article_id=article_id, band=band, key=key) for band, key in enumerate(band_keys)
        )

    def commit(self) -> None:
        """Commit the current batch."""
        self.session.commit()
        self._pending = 0

    def close(self) -> None:
        """Commit what is pending and release the session."""
        try:
            self.commit()
        finally:
            self.session.close()
