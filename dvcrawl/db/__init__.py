"""Database access: the URL, the engine, the schema, and the article store.

Any SQLAlchemy URL works; SQLite (the default, a file under ``storage/``) and PostgreSQL are
tested. SQLite runs in WAL mode with a busy timeout, so an export or ``dvcrawl status`` can read
while a crawl writes, and two writers wait for each other instead of failing.

A write that fails is rolled back at once, so one failure never leaves the session unusable;
transient failures (a lock held past the busy timeout, a full disk, a lost connection) are
retried with backoff, and what still fails is reported as a `StorageError` with a one-line
description (`describe_db_error`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session

from dvcrawl.db.models import (
    ArchiveCapture,
    ArticleRow,
    ArticleSketch,
    ArticleVersion,
    LshBand,
    SchemaInfo,
)
from dvcrawl.errors import DatabaseError, DatabaseUnwritable
from dvcrawl.items import SCHEMA_VERSION, Article, CaptureRef

if TYPE_CHECKING:
    from dvcrawl.dedup import Sketch
    from dvcrawl.topic import Topic

_ARTICLES = ArticleRow.__table__
_VERSIONS = ArticleVersion.__table__
_BANDS = LshBand.__table__
_SKETCHES = ArticleSketch.__table__
# The statements `ArticleStore` runs for every article, built once (`DriverStatement`, defined
# below, runs them on SQLite's own cursor: issue 11).
_STORED = select(_ARTICLES.c.id, _ARTICLES.c.content_hash, _ARTICLES.c.title).where(
    _ARTICLES.c.canonical_url == bindparam("canonical_url")
)
#: What an article's earlier version keeps, read only when its text changed.
_PREVIOUS = select(_ARTICLES.c.text, _ARTICLES.c.fetched_at).where(
    _ARTICLES.c.id == bindparam("id")
)

logger = logging.getLogger(__name__)


#: Seconds a SQLite writer waits for another writer's lock before giving up (a URL may set
#: its own: ``sqlite:///path?timeout=5``).
SQLITE_BUSY_TIMEOUT = 60.0
#: A failed write is tried again this many times, after 0.5, 1, 2, 4 s (``ArticleStore``).
STORE_RETRIES = 4
STORE_RETRY_DELAY = 0.5


def database_error(exc: BaseException) -> DatabaseError:
    """The `DatabaseError` (or `DatabaseUnwritable`) for a failure, described in one line."""
    description = describe_db_error(exc)
    unwritable = description.startswith(_UNWRITABLE) and not description.startswith("cannot open")
    return (DatabaseUnwritable if unwritable else DatabaseError)(description)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases, ``:memory:`` and ``file:`` URIs)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database
    if (
        parsed.get_backend_name() != "sqlite"
        or not database
        or database == ":memory:"
        or parsed.query.get("uri") in ("true", "1")
    ):
        return None
    return Path(database).expanduser()


def make_engine(url: str, *, writer: bool = False, create: bool = True) -> Engine:
    """Create an engine for `url`.

    Args:
        url: any SQLAlchemy database URL.
        writer: on SQLite, start every transaction with ``BEGIN IMMEDIATE``. A deferred
            transaction that reads, then writes, fails at once ("database is locked", no
            waiting) when another process wrote in between; one that takes the write lock at
            its start waits its turn instead.
        create: create the SQLite file's folder if missing (a crawl creates its database;
            commands that only read must not create folders for a mistyped path).

    Raises:
        DatabaseError: if the URL is malformed or names a driver that is not installed.

    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {url!r}") from exc
    is_sqlite = parsed.get_backend_name() == "sqlite"
    options: dict[str, Any] = {}
    busy_timeout = SQLITE_BUSY_TIMEOUT
    if is_sqlite:
        path = sqlite_path(url)
        if path is not None and create:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            busy_timeout = float(parsed.query.get("timeout", SQLITE_BUSY_TIMEOUT))
        except (TypeError, ValueError):
            raise DatabaseError(f"not a number of seconds: timeout in {url!r}") from None
        options["connect_args"] = {"timeout": busy_timeout}
    try:
        engine = create_engine(url, **options)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use database URL {url!r}: {exc}") from exc
    if is_sqlite:
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_timeout=busy_timeout))
        # SQLAlchemy's documented recipe: pysqlite no longer begins transactions itself (it
        # would not for DDL, and never IMMEDIATE); the engine does, at the start of each one.
        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql(begin))
    return engine


def _sqlite_pragmas(connection: Any, _record: Any, *, busy_timeout: float) -> None:
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    # NORMAL is durable in WAL mode except for the last transactions before a power loss;
    # a killed process loses nothing that was committed.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class DatabaseNeedsUpgrade(DatabaseError):
    """A database whose schema is older than this dvcrawl's: ``dvcrawl db upgrade`` brings it up."""


#: The Alembic revision a database made by the hand-versioned dvcrawl 0.1 is adopted into.
BASELINE_REVISION = "0001"


def init_db(engine: Engine, *, upgrade: bool = False) -> str:
    """Make sure the database has this dvcrawl's schema; return what was done.

    A new database is created at the newest revision (``"created"``); a current one is left
    alone (``"current"``). An older one, or one made by the hand-versioned dvcrawl 0.1, is
    upgraded (adopted) only when `upgrade` is true (``dvcrawl db upgrade``): every other command
    stops with `DatabaseNeedsUpgrade`, whose one line says what to run.

    Safe when several processes open a new database at once (two cron jobs, `crawl` beside
    `import`): the schema work runs in one transaction that holds the database's write lock
    (SQLite) or an advisory lock (PostgreSQL); the second process finds the schema made.

    Raises:
        DatabaseNeedsUpgrade: the schema is older and `upgrade` is false.
        DatabaseError: the database was upgraded by a newer dvcrawl, or cannot be reached.

    """
    from sqlalchemy.exc import OperationalError

    if _at_shipped_head(engine):
        return "current"
    for attempt in range(6):
        try:
            return _init_schema(engine, upgrade=upgrade)
        except DatabaseError:
            raise
        except DBAPIError as exc:
            message = str(exc.orig).lower()
            if attempt < 5 and any(race in message for race in _SCHEMA_RACES):
                time.sleep(0.05 * (attempt + 1))
                continue
            if isinstance(exc, OperationalError):
                raise database_error(exc) from exc
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _init_schema(engine: Engine, *, upgrade: bool) -> str:
    from alembic.runtime.migration import MigrationContext

    with _schema_connection(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(2026112201)"))
        current = MigrationContext.configure(connection).get_current_revision()
        head, known = _revisions()
        if current == head:
            return "current"
        if current is not None and current not in known:
            raise DatabaseError(
                f"the database is at schema revision {current}, newer than this dvcrawl "
                f"knows (newest: {head}): upgrade dvcrawl"
            )
        tables = set(inspect(connection).get_table_names())
        fresh = current is None and not tables & {"articles", "schema_info"}
        legacy = _legacy_version(connection) if current is None and not fresh else None
        if not fresh and not upgrade:
            was = (
                f"revision {current}"
                if current is not None
                else f"an earlier dvcrawl's schema {legacy}"
            )
            raise DatabaseNeedsUpgrade(
                f"the database needs upgrading (it has {was}; this dvcrawl needs revision "
                f"{head}): run `dvcrawl db upgrade` once, with the same --db"
            )
        _upgrade(connection)
        if fresh:
            return "created"
        if current is None:
            return f"adopted (schema {legacy}) and upgraded to {head}"
        return f"upgraded from {current} to {head}"


@contextlib.contextmanager
def _schema_connection(engine: Engine) -> Iterator[Any]:
    """A connection in one transaction for schema work.

    On SQLite, foreign keys are off while it runs: Alembic alters a SQLite table by copying it
    and dropping the original, which would cascade to the rows that refer to it.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _migrations_location())
    return config


@functools.cache
def _migrations_location() -> str:
    """Where Alembic finds the migrations: the package folder, or a copy of it on disk.

    Alembic reads revision files from a folder. Installed normally, the package's folder is
    one; deployed to Scrapyd, dvcrawl runs from a zipped egg, and Python 3.11 cannot give a
    folder inside a zip as a path, so the migrations are copied out once per process (into a
    temporary folder removed at exit).
    """
    import atexit
    import shutil
    import tempfile
    from importlib import resources

    folder = resources.files("dvcrawl.db").joinpath("migrations")
    if isinstance(folder, Path) and folder.is_dir():
        return "dvcrawl.db:migrations"
    target = Path(tempfile.mkdtemp(prefix="dvcrawl-migrations-"))
    atexit.register(shutil.rmtree, target, True)

    def copy(source: Any, destination: Path) -> None:
        destination.mkdir(exist_ok=True)
        for entry in source.iterdir():
            if entry.is_dir():
                if entry.name != "__pycache__":
                    copy(entry, destination / entry.name)
            elif not entry.name.endswith(".pyc"):
                (destination / entry.name).write_bytes(entry.read_bytes())

    copy(folder, target / "migrations")
    return str(target / "migrations")


def _at_shipped_head(engine: Engine) -> bool:
    """Whether the database is at the newest shipped revision, known without Alembic.

    Every command opens the database this way, and nearly always finds it current: importing
    Alembic and reading its revision files to learn that cost about 0.15 s of each command's
    start (issue 11). Anything unexpected (no version table, another revision, an error) is
    left to `_init_schema`, which decides and reports as before. On SQLite the version is read
    outside a transaction: a read takes no write lock and waits for none.
    """
    head = _shipped_head()
    if head is None:
        return False
    query = "SELECT version_num FROM alembic_version"
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite" and connection.dialect.driver == "pysqlite":
                driver = connection.connection.driver_connection
                found = [row[0] for row in driver.execute(query).fetchall()]  # type: ignore[union-attr]
            else:
                found = list(connection.exec_driver_sql(query).scalars())
                connection.rollback()
    except (DBAPIError, sqlite3.Error):
        return False
    return found == [head]


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


@functools.cache
def _shipped_head() -> str | None:
    """The newest revision of the shipped migrations, read from their files without Alembic.

    The revision that no other names as its ``down_revision``; None when the files do not say
    it plainly (then Alembic decides). Checked against Alembic's own reading by the tests.
    """
    from importlib import resources

    revisions: set[str] = set()
    parents: set[str] = set()
    versions = resources.files("dvcrawl.db").joinpath("migrations", "versions")
    for entry in versions.iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("__"):
            continue
        fields = dict(_REVISION_LINE.findall(entry.read_text(encoding="utf-8")))
        revision = _literal(fields.get("revision"))
        if revision is None:
            return None
        revisions.add(revision)
        parent = fields.get("down_revision")
        if parent is None:
            return None
        if parent != "None":
            named = _literal(parent)
            if named is None:
                return None
            parents.add(named)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _literal(value: str | None) -> str | None:
    """The string of a one-string Python literal ("0004" or '0004'), else None."""
    if value and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner if inner and not any(q in inner for q in "\"'") else None
    return None


@functools.cache
def _revisions() -> tuple[str, frozenset[str]]:
    """(the newest revision, every revision) of the migrations shipped with this dvcrawl."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    assert head is not None, "dvcrawl/db/migrations has no revision"
    return head, frozenset(rev.revision for rev in script.walk_revisions())


def _upgrade(connection: Any) -> None:
    from alembic import command

    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _legacy_version(connection: Any) -> int | None:
    if "schema_info" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT max(version) FROM schema_info")).scalar()


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision of the database (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest schema revision this dvcrawl knows."""
    return _revisions()[0]


# What another process creating the same schema at the same moment looks like.
_SCHEMA_RACES = (
    "already exists",
    "schema has changed",
    "database is locked",
    "unique constraint",
    "duplicate key",
)


def check_writable(engine: Engine) -> None:
    """Fail now, before any page is fetched, if the database accepts no writes.

    Writes one row's value back unchanged and rolls back: a read-only file, a read-only
    PostgreSQL user or transaction, a locked or full database all fail here.

    Raises:
        DatabaseUnwritable: with a one-line description (`describe_db_error`).

    """
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                connection.execute(update(SchemaInfo).values(version=SchemaInfo.version))
            finally:
                transaction.rollback()
    except DBAPIError as exc:
        raise database_error(exc) from exc


# What a failed write says, lower-cased, and how to read it: (fragment, description, transient).
_DB_FAILURES: tuple[tuple[str, str, bool], ...] = (
    ("readonly database", "database is read-only", False),
    ("read-only transaction", "database is read-only", False),
    ("permission denied", "no permission to write the database", False),
    ("database is locked", "database is locked", True),
    ("database table is locked", "database is locked", True),
    ("could not obtain lock", "database is locked", True),
    ("deadlock detected", "database is locked", True),
    ("could not serialize", "database is locked", True),
    ("disk is full", "disk is full", True),
    ("no space left on device", "disk is full", True),
    ("disk i/o error", "disk I/O error", True),
    ("unable to open database file", "cannot open the database file", True),
    ("server closed the connection", "database connection lost", True),
    ("connection refused", "database connection lost", True),
    ("terminating connection", "database connection lost", True),
    # Two writers inserting the same new article at once: trying again finds the other's row.
    ("unique constraint", "another writer stored the same row at the same moment", True),
    ("duplicate key", "another writer stored the same row at the same moment", True),
)


_UNWRITABLE = (
    "database is read-only",
    "no permission",
    "database is locked",
    "disk is full",
    "disk I/O error",
)


def describe_db_error(exc: BaseException) -> str:
    """A database failure in one line: "database is read-only: attempt to write a readonly database"."""
    original = getattr(exc, "orig", None) or exc
    detail = (str(original).strip().splitlines() or [type(original).__name__])[0]
    lowered = detail.lower()
    for fragment, description, _ in _DB_FAILURES:
        if fragment in lowered:
            return f"{description}: {detail}"
    return f"database error: {detail}"


def is_transient(exc: BaseException) -> bool:
    """Whether trying the same write again a little later may succeed."""
    if getattr(exc, "connection_invalidated", False):
        return True
    original = getattr(exc, "orig", None) or exc
    lowered = str(original).lower()
    return any(transient for fragment, _, transient in _DB_FAILURES if fragment in lowered)


class DriverStatement:
    """A statement run on SQLite's own cursor, compiled once (SQLAlchemy's path elsewhere).

    SQLAlchemy's execution of a compiled statement costs some 50-150 µs (more when extraction
    has just run and its caches are cold), several times SQLite's own work for an indexed
    lookup; deduplication makes three or four such reads per article and the LSH index takes
    37 rows per article (issue 11). On SQLite through its standard driver, the statement's SQL
    is rendered once per number of values in its IN lists and run on the driver's cursor, in
    the transaction of the SQLAlchemy connection given. Values are converted by the column
    types' own bind processors, as SQLAlchemy converts them (dates, JSON); the rows read are
    the driver's, so a SELECT must read only columns that need no conversion (integers, text,
    bytes). Other databases and drivers run the statement through SQLAlchemy, with the same
    results. Errors are raised as SQLAlchemy's (`DBAPIError`), as through SQLAlchemy.
    """

    def __init__(self, statement: Any):
        self.statement = statement
        self._compiled: dict[tuple[str, ...] | None, _Compiled] = {}
        self._texts: dict[tuple[int, ...], str] = {}

    @staticmethod
    def applies(connection: Connection) -> bool:
        """Whether `connection` is SQLite's standard driver (where the fast path runs)."""
        return connection.dialect.name == "sqlite" and connection.dialect.driver == "pysqlite"

    def rows(self, connection: Connection, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of a SELECT, as tuples in the order of its columns."""
        if not self.applies(connection) or any(
            isinstance(value, list | tuple) and not value for value in values.values()
        ):
            return [tuple(row) for row in connection.execute(self.statement, values)]
        sql, params = self._bound(connection, values)
        driver = connection.connection.driver_connection
        try:
            return driver.execute(sql, params).fetchall()  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc

    def insert_many(
        self, connection: Connection, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        """Run an INSERT for each row (values in the order of `columns`)."""
        if not rows:
            return
        if not self.applies(connection):
            connection.execute(
                self.statement, [dict(zip(columns, row, strict=True)) for row in rows]
            )
            return
        sql, names, _, _, processors = self._compiled_for(connection, columns)
        if names != list(columns):
            order = [columns.index(name) for name in names]
            rows = [tuple(row[i] for i in order) for row in rows]
        if any(processors):
            rows = [_processed(row, processors) for row in rows]
        driver = connection.connection.driver_connection
        try:
            driver.executemany(sql, rows)  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, rows, exc, sqlite3.Error) from exc

    def insert(self, connection: Connection, values: dict[str, Any]) -> int:
        """Run an INSERT of one row; the new row's primary key."""
        columns = tuple(values)
        if self.applies(connection):
            sql, names, _, _, processors = self._compiled_for(connection, columns)
            # Only when the statement takes exactly the values given: a column left out
            # would take a default that SQLAlchemy computes, not the driver.
            if len(names) == len(columns) and set(names) == set(columns):
                params = _processed(tuple(values[name] for name in names), processors)
                driver = connection.connection.driver_connection
                try:
                    return int(driver.execute(sql, params).lastrowid)  # type: ignore[union-attr]
                except sqlite3.Error as exc:
                    raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc
        return int(connection.execute(self.statement, values).inserted_primary_key[0])

    def _compiled_for(
        self, connection: Connection, columns: tuple[str, ...] | None = None
    ) -> _Compiled:
        """The statement compiled for `connection`'s database (see `_Compiled`)."""
        found = self._compiled.get(columns)
        if found is None:
            dialect = connection.dialect
            compiled = self.statement.compile(
                dialect=dialect, column_keys=list(columns) if columns else None
            )
            names = list(compiled.positiontup or ())
            found = self._compiled[columns] = (
                compiled.string,
                names,
                dict(compiled.params),
                frozenset(p.key for p in compiled.binds.values() if p.expanding),
                [
                    compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                    for name in names
                ],
            )
        return found

    def _bound(self, connection: Connection, values: dict[str, Any]) -> tuple[str, list[Any]]:
        """The SQL with its IN lists spelled out, and the values in the order of its marks."""
        sql, names, defaults, expanding, processors = self._compiled_for(connection)
        params: list[Any] = []
        counts: list[int] = []
        for name, processor in zip(names, processors, strict=True):
            value = values[name] if name in values else defaults[name]
            if name in expanding:
                params.extend(value if processor is None else map(processor, value))
                counts.append(len(value))
            else:
                params.append(value if processor is None else processor(value))
        if not expanding:
            return sql, params
        key = tuple(counts)
        text = self._texts.get(key)
        if text is None:
            text = sql
            for name, count in zip((n for n in names if n in expanding), counts, strict=True):
                text = text.replace(f"__[POSTCOMPILE_{name}]", ", ".join("?" * count), 1)
            if len(self._texts) < 256:
                self._texts[key] = text
        return text, params


#: A compiled `DriverStatement`: its SQL, the names of its marks in order, the statement's own
#: values (a LIMIT), the names of its IN lists, and each mark's bind processor (or None).
_Compiled = tuple[str, list[str], dict[str, Any], frozenset[str], list[Callable[[Any], Any] | None]]


def _processed(row: tuple[Any, ...], processors: list[Any]) -> tuple[Any, ...]:
    """A row's values converted by the column types' bind processors."""
    return tuple(
        value if processor is None else processor(value)
        for value, processor in zip(row, processors, strict=True)
    )


_SELECT_STORED = DriverStatement(_STORED)
_INSERT_ARTICLE = DriverStatement(insert(_ARTICLES))
#: The LSH index's rows of a batch: 37 per article, integers and bytes (`DriverStatement`).
_INSERT_BANDS = DriverStatement(insert(_BANDS))
_INSERT_SKETCHES = DriverStatement(insert(_SKETCHES))


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


@dataclass
class StoreResult:
    """What storing one article did: "new", "updated" or "unchanged"."""

    outcome: str
    row_id: int


class StorageError(RuntimeError):
    """Articles that could not be written, after the transient failures were retried.

    Attributes:
        description: the cause in one line ("database is read-only: ...").
        lost: the outcomes ("new", "updated", "unchanged", "touched") of the earlier writes of
            the same batch that were rolled back with the failed one, so that counters made
            when they were flushed can be taken back.

    """

    def __init__(self, description: str, lost: list[str]):
        super().__init__(description)
        self.description = description
        self.lost = lost


@dataclass
class _Batch:
    """The writes of the open transaction, kept so that a failed transaction can be replayed."""

    operations: list[Callable[[], Any]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    #: LSH bands and sketches of the batch's articles by article id, written together just
    #: before the commit (one statement per table, not one per article).
    index_rows: dict[int, tuple[list[int], Sketch | None]] = field(default_factory=dict)
    #: Whether the transaction defers the search indexing of its articles to its end.
    deferring: bool = False


class ArticleStore:
    """Reads and writes articles in one session, committing in batches.

    A batch is one transaction: a crawl killed mid-batch leaves the database as it was after
    the previous batch, never a half-written row; the lost articles are simply not known yet
    and are fetched again by the next run.

    A write or commit that fails is rolled back at once (the session stays usable). When the
    failure is transient (`is_transient`), the whole batch is replayed after 0.5, 1, 2, 4 s;
    otherwise, or when the retries are spent, the batch is dropped and `StorageError` says
    why and what was lost.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        batch_size: int = 20,
        retries: int = STORE_RETRIES,
        retry_delay: float = STORE_RETRY_DELAY,
        sleep: Callable[[float], None] = time.sleep,
        topic: Topic | None = None,
    ):
        self.engine = engine
        self.batch_size = batch_size
        self.retries = retries
        self.retry_delay = retry_delay
        self.retried = 0  # writes that succeeded only when tried again
        self._sleep = sleep
        #: Scores each saved article's relevance (`dvcrawl.topic`); None leaves it null.
        self.topic = topic
        self.session = Session(engine, autoflush=True, expire_on_commit=False)
        self._batch = _Batch()
        #: Whether the database's search index defers a batch's indexing (asked once).
        self._defers: bool | None = None

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
        archive_url: str | None = None,
        archived_at: datetime | None = None,
        capture: CaptureRef | None = None,
        sketch: Sketch | None = None,
        relevance: float | None = None,
    ) -> StoreResult:
        """Insert or update the row of `article` (by canonical URL).

        An article whose text changed keeps its earlier content in `article_versions`; an
        unchanged article only has its fetch time and validators refreshed. `duplicate_of`
        applies to new rows only: an article keeps the identity it was first stored with.
        `band_keys` and `sketch` (from `dvcrawl.dedup`) are stored with new and changed texts,
        in the same transaction as the row. `relevance` is the article's topic relevance
        when it was computed already (by ``dvcrawl import``'s workers); otherwise the store's
        `topic` scores it.

        A page read from a web archive carries its provenance (`archive_url`, `archived_at`)
        and the index entry of its capture (`capture`), recorded in the same transaction; a
        page fetched from the portal clears the provenance of a row first read from an archive.

        Raises:
            StorageError: if the write failed for good (see the class docstring).

        """
        operation = partial(
            self._save,
            article,
            content_hash=content_hash,
            fetched_at=fetched_at,
            duplicate_of=duplicate_of,
            similarity=similarity,
            etag=etag,
            last_modified=last_modified,
            band_keys=band_keys,
            archive_url=archive_url,
            archived_at=archived_at,
            capture=capture,
            sketch=sketch,
            relevance=relevance,
        )
        result: StoreResult = self._write(operation)
        return result

    def _save(
        self,
        article: Article,
        *,
        content_hash: str,
        fetched_at: datetime,
        duplicate_of: str | None,
        similarity: float | None,
        etag: str | None,
        last_modified: str | None,
        band_keys: list[int] | None,
        archive_url: str | None,
        archived_at: datetime | None,
        capture: CaptureRef | None,
        sketch: Sketch | None,
        relevance: float | None,
    ) -> StoreResult:
        # SQL statements, not ORM objects: a flush of the unit of work per article cost more
        # than extracting it (issue 11). They bypass the session's autoflush: flushed here.
        self.session.flush()
        connection = self.session.connection()
        self._defer_indexing(connection)
        found = _SELECT_STORED.rows(connection, {"canonical_url": article.canonical_url})
        row = found[0] if found else None
        fields: dict[str, Any] = {
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
            "archive_url": archive_url,
            "archived_at": archived_at,
            "fetched_at": fetched_at,
            "http_etag": etag,
            "http_last_modified": last_modified,
        }
        if relevance is not None:
            fields["relevance"] = relevance
        elif self.topic is not None:
            fields["relevance"] = self.topic.score(article.title, article.text)
        now = utcnow()
        if row is None:
            fields.setdefault("relevance", None)
            if duplicate_of is not None and not self._stored(duplicate_of):
                # The first copy's write failed for good (its run fails and says so), so
                # this copy would point at no row and be hidden from exports in its place:
                # it is stored as the original; the next run fetches the other again and
                # marks whichever comes second.
                logger.warning(
                    "%s: its first copy %s is not stored; stored as an original",
                    article.canonical_url,
                    duplicate_of,
                )
                duplicate_of = similarity = None
            row_id = _INSERT_ARTICLE.insert(
                connection,
                {
                    "canonical_url": article.canonical_url,
                    "duplicate_of": duplicate_of,
                    "similarity": similarity,
                    "first_seen_at": fetched_at,
                    "updated_at": now,
                    **fields,
                },
            )
            self._replace_bands(row_id, band_keys, sketch, fresh=True)
            self._captured(capture)
            return StoreResult(outcome="new", row_id=row_id)
        row_id, stored_hash, stored_title = row
        changed = stored_hash != content_hash or stored_title != article.title
        if stored_hash != content_hash:
            self._replace_bands(row_id, band_keys, sketch, fresh=False)
            previous = self.session.execute(_PREVIOUS, {"id": row_id}).one()
            self.session.execute(
                insert(_VERSIONS).values(
                    article_id=row_id,
                    content_hash=stored_hash,
                    title=stored_title,
                    text=previous.text,
                    fetched_at=previous.fetched_at,
                    replaced_at=now,
                )
            )
        if changed:
            fields["updated_at"] = now
        self.session.execute(update(_ARTICLES).where(_ARTICLES.c.id == row_id).values(**fields))
        self._captured(capture)
        return StoreResult(outcome="updated" if changed else "unchanged", row_id=row_id)

    def _stored(self, canonical_url: str) -> bool:
        """Whether a row for `canonical_url` exists, written in this batch or before."""
        return bool(
            _SELECT_STORED.rows(self.session.connection(), {"canonical_url": canonical_url})
        )

    def _captured(self, capture: CaptureRef | None) -> None:
        """Record the archive capture an article was read from, with the article."""
        if capture is not None:
            self._record_capture(capture, "stored")
            self.session.flush()

    def touch(self, canonical_url: str, fetched_at: datetime) -> None:
        """Record that a stored article was fetched again and found unchanged (HTTP 304).

        Raises:
            StorageError: if the write failed for good.

        """
        self._write(partial(self._touch, canonical_url, fetched_at))

    def _touch(self, canonical_url: str, fetched_at: datetime) -> StoreResult | None:
        row_id = self.session.execute(
            update(_ARTICLES)
            .where(_ARTICLES.c.canonical_url == canonical_url)
            .values(fetched_at=fetched_at)
            .returning(_ARTICLES.c.id)
        ).scalar()
        if row_id is None:
            return None
        return StoreResult(outcome="touched", row_id=row_id)

    def _write(self, operation: Callable[[], StoreResult | None]) -> StoreResult | None:
        """Run one write in the open batch; commit when the batch is full; retry or raise."""
        self._batch.operations.append(operation)
        attempt = 0
        while True:
            try:
                if attempt == 0:
                    result = operation()
                else:
                    # The transaction was rolled back: replay every write of the batch.
                    results = [step() for step in self._batch.operations]
                    self._batch.outcomes = [r.outcome for r in results[:-1] if r is not None]
                    result = results[-1]
                if len(self._batch.operations) >= self.batch_size:
                    self._commit_batch()
                elif result is not None:
                    self._batch.outcomes.append(result.outcome)
                if attempt:
                    self.retried += 1
                return result
            except DBAPIError as exc:
                attempt = self._failed(exc, attempt)
            except BaseException:
                self._interrupted()
                raise

    def _failed(self, exc: DBAPIError, attempt: int) -> int:
        """Roll back after a failed write; wait before the next attempt, or give up."""
        self.session.rollback()
        self._batch.index_rows.clear()  # rebuilt when the batch is replayed
        self._batch.deferring = False
        description = describe_db_error(exc)
        if not is_transient(exc) or attempt >= self.retries:
            lost = self._batch.outcomes
            self._batch = _Batch()
            raise StorageError(description, lost) from exc
        delay = self.retry_delay * 2**attempt
        logger.warning("%s; trying again in %.1f s", description, delay)
        self._sleep(delay)
        return attempt + 1

    def record_capture(self, capture: CaptureRef, outcome: str) -> None:
        """Record an archive capture that was read and gave no article (`CaptureDone`).

        Raises:
            StorageError: if the write failed for good.

        """
        self._write(partial(self._record_capture_alone, capture, outcome))

    def _record_capture_alone(self, capture: CaptureRef, outcome: str) -> None:
        self._record_capture(capture, outcome)
        self.session.flush()
        return None  # no article: nothing to take back from the counters if it is lost

    def _record_capture(self, capture: CaptureRef, outcome: str) -> None:
        row = self.session.scalar(
            select(ArchiveCapture).where(
                ArchiveCapture.archive == "wayback",
                ArchiveCapture.timestamp == capture.timestamp,
                ArchiveCapture.original_url == capture.original_url,
            )
        )
        if row is None:
            row = ArchiveCapture(
                archive="wayback",
                site=capture.site,
                timestamp=capture.timestamp,
                original_url=capture.original_url,
            )
            self.session.add(row)
        row.canonical_url = capture.canonical_url
        row.digest = capture.digest
        row.status = capture.status
        row.outcome = outcome
        row.fetched_at = utcnow()

    def _replace_bands(
        self,
        article_id: int,
        band_keys: list[int] | None,
        sketch: Sketch | None,
        *,
        fresh: bool,
    ) -> None:
        if band_keys is None:
            return
        if not fresh:
            self.session.execute(delete(_BANDS).where(_BANDS.c.article_id == article_id))
            self.session.execute(delete(_SKETCHES).where(_SKETCHES.c.article_id == article_id))
        # Written with the rest of the batch (`_write_index`), in its transaction.
        self._batch.index_rows[article_id] = (band_keys, sketch)

    def _commit_batch(self) -> None:
        """Write what the batch keeps for its end, commit it, and start the next one."""
        self._write_index()
        if self._batch.deferring:
            from dvcrawl.search import index_deferred

            index_deferred(self.session.connection())
        self.session.commit()
        self._batch = _Batch()

    def _defer_indexing(self, connection: Connection) -> None:
        """Defer the search indexing of a batch of several articles to its end (SQLite)."""
        if self.batch_size <= 1 or self._batch.deferring:
            return
        from dvcrawl.search import defer_indexing, defers_indexing

        if self._defers is None:
            self._defers = defers_indexing(connection)
        if self._defers:
            defer_indexing(connection)
            self._batch.deferring = True

    def _write_index(self) -> None:
        """Write the batch's LSH bands and sketches: one statement per table."""
        rows = self._batch.index_rows
        if not rows:
            return
        bands = [
            (article_id, band, key)
            for article_id, (keys, _) in rows.items()
            for band, key in enumerate(keys)
        ]
        sketches = [
            (article_id, sketch.shingles_bytes(), sketch.entities_bytes())
            for article_id, (_, sketch) in rows.items()
            if sketch is not None
        ]
        connection = self.session.connection()
        _INSERT_BANDS.insert_many(connection, ("article_id", "band", "key"), bands)
        _INSERT_SKETCHES.insert_many(connection, ("article_id", "shingles", "entities"), sketches)
        rows.clear()

    def commit(self) -> None:
        """Commit the current batch (replayed and retried like a write when it fails).

        Raises:
            StorageError: if the commit failed for good; the batch is lost.

        """
        attempt = 0
        while self._batch.operations:
            try:
                if attempt:
                    for step in self._batch.operations:
                        step()
                self._commit_batch()
                if attempt:
                    self.retried += 1
            except DBAPIError as exc:
                attempt = self._failed(exc, attempt)
            except BaseException:
                self._interrupted()
                raise

    def _interrupted(self) -> None:
        """Give up the batch after Ctrl-C (or another exception) in the middle of a write.

        Its transaction is rolled back, as a killed process would leave it, and the session
        stays usable: closing the store afterwards commits nothing half-written.
        """
        self.session.rollback()
        self._batch = _Batch()

    def close(self) -> None:
        """Commit what is pending and release the session."""
        try:
            self.commit()
        finally:
            self.session.close()
