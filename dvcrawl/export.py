"""Corpus export: JSON Lines, CSV and Parquet, one row per stored article.

Rows are the Article record plus ``id``, ``fetched_at``, ``content_hash``, ``duplicate_of``,
``schema_version`` and ``relevance`` (the topic score, `dvcrawl.topic`); records read from a web
archive add their provenance, ``archive_url`` (the capture's address) and ``archived_at`` (the
capture time), null for pages fetched live. Duplicates are left
out unless asked for; ``min_relevance`` keeps the articles about the topic. A file export is
written to a temporary name and renamed when complete, so an interrupted export never leaves
a half-written file behind.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dvcrawl.db.models import ArticleRow
from dvcrawl.items import ARTICLE_KEYS

FORMATS = ("jsonl", "csv", "parquet")
EXPORT_KEYS: tuple[str, ...] = (
    "id",
    *ARTICLE_KEYS,
    "fetched_at",
    "content_hash",
    "duplicate_of",
    "schema_version",
    "relevance",
    "archive_url",
    "archived_at",
)


@dataclass
class CorpusFilter:
    """Which articles an export or a search takes.

    The options ``--site``, ``--since``, ``--until``, ``--include-duplicates``, ``--min-relevance``.
    """

    sites: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    include_duplicates: bool = False
    min_relevance: float | None = None


def iter_rows(engine: Engine, where: CorpusFilter, *, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Export rows in id order, streamed from the database in batches."""
    with Session(engine) as session:
        query = _where(select(ArticleRow), where).order_by(ArticleRow.id)
        for row in session.scalars(query.execution_options(yield_per=batch)):
            yield row_to_dict(row)


def count_rows(engine: Engine, where: CorpusFilter) -> int:
    """How many rows an export with this filter writes."""
    with Session(engine) as session:
        return int(session.scalar(_where(select(func.count(ArticleRow.id)), where)) or 0)


def _where(query: Any, where: CorpusFilter) -> Any:
    if where.sites:
        query = query.where(ArticleRow.site.in_(where.sites))
    if where.since:
        query = query.where(ArticleRow.published_at >= where.since.isoformat())
    if where.until:
        # published_at is "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS+07:00": both sort as text, and
        # every value of the `until` day sorts below the next day.
        query = query.where(ArticleRow.published_at < (where.until + timedelta(days=1)).isoformat())
    if not where.include_duplicates:
        query = query.where(ArticleRow.duplicate_of.is_(None))
    if where.min_relevance is not None:
        query = query.where(ArticleRow.relevance >= where.min_relevance)
    return query


def row_to_dict(row: ArticleRow) -> dict[str, Any]:
    """The export form of a stored article."""
    return {
        "id": row.id,
        "url": row.url,
        "canonical_url": row.canonical_url,
        "site": row.site,
        "is_article": True,
        "title": row.title,
        "sapo": row.sapo,
        "text": row.text,
        "author": row.author,
        "published_at": row.published_at,
        "published_raw": row.published_raw,
        "images": row.images or [],
        "language": row.language,
        "extractor": row.extractor,
        "fetched_at": row.fetched_at.isoformat() if row.fetched_at else None,
        "content_hash": row.content_hash,
        "duplicate_of": row.duplicate_of,
        "schema_version": row.schema_version,
        "relevance": row.relevance,
        "archive_url": row.archive_url,
        "archived_at": _iso(row.archived_at),
    }


def _iso(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 with its offset (SQLite returns it without: it is UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def export(
    engine: Engine,
    where: CorpusFilter,
    fmt: str,
    output: str,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the selected rows to `output` (a path, or "-" for stdout); return the row count.

    `progress(rows written so far)` is called after each row.
    """
    rows = iter_rows(engine, where)
    if progress is not None:
        rows = _counted(rows, progress)
    if output == "-":
        if fmt == "parquet":
            raise ValueError("Parquet is a binary format: give a file with -o")
        return _WRITERS[fmt](rows, sys.stdout)
    target = Path(output)
    if not target.parent.is_dir():
        # A mistyped folder must not be created silently (issue 10): the user would look for
        # the file elsewhere.
        raise FileNotFoundError(2, "no such folder", str(target.parent))
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        if fmt == "parquet":
            os.close(handle)
            count = _write_parquet(rows, Path(temporary))
        else:
            with open(handle, "w", encoding="utf-8", newline="") as stream:
                count = _WRITERS[fmt](rows, stream)
        # mkstemp creates the file 0600; an export is an ordinary file, made as the umask says.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _counted(
    rows: Iterator[dict[str, Any]], progress: Callable[[int], None]
) -> Iterator[dict[str, Any]]:
    for done, row in enumerate(rows, 1):
        yield row
        progress(done)


def _write_jsonl(rows: Iterator[dict[str, Any]], stream: TextIO) -> int:
    count = 0
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def _write_csv(rows: Iterator[dict[str, Any]], stream: TextIO) -> int:
    writer = csv.DictWriter(stream, fieldnames=EXPORT_KEYS)
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({**row, "images": json.dumps(row["images"], ensure_ascii=False)})
        count += 1
    return count


def _write_parquet(rows: Iterator[dict[str, Any]], path: Path, *, batch: int = 1000) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    image = pa.struct([("url", pa.string()), ("caption", pa.string())])
    types = {
        "id": pa.int64(),
        "is_article": pa.bool_(),
        "schema_version": pa.int32(),
        "relevance": pa.float64(),
        "images": pa.list_(image),
    }
    schema = pa.schema([(key, types.get(key, pa.string())) for key in EXPORT_KEYS])
    count = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                count += len(chunk)
                chunk = []
        if chunk or count == 0:
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            count += len(chunk)
    return count


_WRITERS = {"jsonl": _write_jsonl, "csv": _write_csv}
