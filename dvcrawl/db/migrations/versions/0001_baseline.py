"""Baseline: the schema of dvcrawl 0.1 (hand-versioned schema 4), created or adopted.

A new database gets every table. A database made by an earlier dvcrawl, which versioned its
schema by hand in ``schema_info.version`` (1: articles; 2: LSH bands; 3: crawl runs and
cursors; 4: a run's cause and the robots.txt copies), is adopted: what it lacks is added
(tables, the ``crawl_runs.cause`` column, the LSH bands of articles stored before
deduplication existed), nothing it has is touched.

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: The hand-kept version of the last schema before Alembic, recorded in ``schema_info``.
LEGACY_VERSION = 4


def _tables() -> list[tuple[str, list[sa.SchemaItem], list[tuple[str, list[str]]]]]:
    """(table, columns and constraints, indexes) of the baseline schema, parents first."""
    return [
        (
            "articles",
            [
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("canonical_url", sa.String(length=2048), nullable=False),
                sa.Column("url", sa.String(length=2048), nullable=False),
                sa.Column("site", sa.String(length=64), nullable=False),
                sa.Column("title", sa.Text(), nullable=True),
                sa.Column("sapo", sa.Text(), nullable=True),
                sa.Column("text", sa.Text(), nullable=True),
                sa.Column("author", sa.Text(), nullable=True),
                sa.Column("published_at", sa.String(length=40), nullable=True),
                sa.Column("published_raw", sa.Text(), nullable=True),
                sa.Column("images", sa.JSON(), nullable=False),
                sa.Column("language", sa.String(length=8), nullable=False),
                sa.Column("extractor", sa.String(length=64), nullable=False),
                sa.Column("schema_version", sa.Integer(), nullable=False),
                sa.Column("content_hash", sa.String(length=64), nullable=False),
                sa.Column("duplicate_of", sa.String(length=2048), nullable=True),
                sa.Column("similarity", sa.Float(), nullable=True),
                sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("http_etag", sa.String(length=256), nullable=True),
                sa.Column("http_last_modified", sa.String(length=64), nullable=True),
                sa.PrimaryKeyConstraint("id"),
                sa.UniqueConstraint("canonical_url"),
            ],
            [
                ("ix_articles_content_hash", ["content_hash"]),
                ("ix_articles_duplicate_of", ["duplicate_of"]),
                ("ix_articles_published_at", ["published_at"]),
                ("ix_articles_site", ["site"]),
                ("ix_articles_site_published", ["site", "published_at"]),
            ],
        ),
        (
            "article_versions",
            [
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("article_id", sa.Integer(), nullable=False),
                sa.Column("content_hash", sa.String(length=64), nullable=False),
                sa.Column("title", sa.Text(), nullable=True),
                sa.Column("text", sa.Text(), nullable=True),
                sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
                sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
                sa.PrimaryKeyConstraint("id"),
            ],
            [("ix_article_versions_article_id", ["article_id"])],
        ),
        (
            "lsh_bands",
            [
                sa.Column("article_id", sa.Integer(), nullable=False),
                sa.Column("band", sa.SmallInteger(), nullable=False),
                sa.Column("key", sa.BigInteger(), nullable=False),
                sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
                sa.PrimaryKeyConstraint("article_id", "band"),
            ],
            [("ix_lsh_bands_key", ["key", "band"])],
        ),
        (
            "crawl_runs",
            [
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("site", sa.String(length=64), nullable=False),
                sa.Column("mode", sa.String(length=16), nullable=False),
                sa.Column("pid", sa.Integer(), nullable=False),
                sa.Column("host", sa.String(length=255), nullable=False),
                sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("outcome", sa.String(length=16), nullable=False),
                sa.Column("finish_reason", sa.String(length=64), nullable=True),
                sa.Column("cause", sa.Text(), nullable=True),
                sa.Column("pages_fetched", sa.Integer(), nullable=False),
                sa.Column("article_requests", sa.Integer(), nullable=False),
                sa.Column("new", sa.Integer(), nullable=False),
                sa.Column("updated", sa.Integer(), nullable=False),
                sa.Column("unchanged", sa.Integer(), nullable=False),
                sa.Column("duplicates", sa.Integer(), nullable=False),
                sa.Column("errors", sa.Integer(), nullable=False),
                sa.Column("stats", sa.JSON(), nullable=False),
                sa.Column("checks", sa.JSON(), nullable=False),
                sa.PrimaryKeyConstraint("id"),
            ],
            [("ix_crawl_runs_outcome", ["outcome"]), ("ix_crawl_runs_site", ["site"])],
        ),
        (
            "crawl_cursors",
            [
                sa.Column("site", sa.String(length=64), nullable=False),
                sa.Column("listing", sa.String(length=2048), nullable=False),
                sa.Column("next_url", sa.String(length=2048), nullable=True),
                sa.Column("page", sa.Integer(), nullable=False),
                sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
                sa.PrimaryKeyConstraint("site", "listing"),
            ],
            [],
        ),
        (
            "url_shapes",
            [
                sa.Column("site", sa.String(length=64), nullable=False),
                sa.Column("pattern", sa.String(length=1024), nullable=False),
                sa.Column("articles", sa.Integer(), nullable=False),
                sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
                sa.PrimaryKeyConstraint("site", "pattern"),
            ],
            [],
        ),
        (
            "robots_copies",
            [
                sa.Column("origin", sa.String(length=512), nullable=False),
                sa.Column("status", sa.Integer(), nullable=False),
                sa.Column("body", sa.Text(), nullable=False),
                sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
                sa.PrimaryKeyConstraint("origin"),
            ],
            [],
        ),
        (
            "schema_info",
            [
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("version", sa.Integer(), nullable=False),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                sa.PrimaryKeyConstraint("id"),
            ],
            [],
        ),
    ]


def upgrade() -> None:
    """Create the baseline schema, or complete an earlier dvcrawl's database to it."""
    connection = op.get_bind()
    inspector = sa.inspect(connection)
    existing = set(inspector.get_table_names())
    legacy = _legacy_version(connection) if "schema_info" in existing else None
    for name, items, indexes in _tables():
        if name not in existing:
            op.create_table(name, *items)
            for index, columns in indexes:
                op.create_index(index, name, columns)
            continue
        # Adopting an earlier database: columns and indexes later hand-kept versions added.
        columns = {column["name"] for column in inspector.get_columns(name)}
        for item in items:
            if isinstance(item, sa.Column) and item.name not in columns:
                op.add_column(name, item)
        have = {index["name"] for index in inspector.get_indexes(name)}
        for index, index_columns in indexes:
            if index not in have:
                op.create_index(index, name, index_columns)
    if legacy is not None and legacy < 2:
        _index_bands(connection)
    now = sa.func.current_timestamp()
    if legacy is None:
        op.execute(sa.insert(_schema_info()).values(id=1, version=LEGACY_VERSION, created_at=now))
    else:
        op.execute(sa.update(_schema_info()).values(version=LEGACY_VERSION))


def downgrade() -> None:
    """Drop every table (an empty database)."""
    for name, _, _ in reversed(_tables()):
        op.drop_table(name)


def _schema_info() -> sa.Table:
    return sa.table(
        "schema_info",
        sa.column("id", sa.Integer),
        sa.column("version", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )


def _legacy_version(connection: sa.Connection) -> int | None:
    return connection.execute(sa.text("SELECT max(version) FROM schema_info")).scalar()


def _index_bands(connection: sa.Connection) -> None:
    """Schema 1 -> 2: the LSH bands of articles stored before deduplication existed."""
    from dvcrawl.dedup import fingerprint

    rows = connection.execute(
        sa.text("SELECT id, text FROM articles WHERE id NOT IN (SELECT article_id FROM lsh_bands)")
    ).all()
    bands = sa.table(
        "lsh_bands",
        sa.column("article_id", sa.Integer),
        sa.column("band", sa.SmallInteger),
        sa.column("key", sa.BigInteger),
    )
    for row in rows:
        keys = fingerprint(row.text).keys
        if keys:
            connection.execute(
                sa.insert(bands),
                [{"article_id": row.id, "band": band, "key": key} for band, key in enumerate(keys)],
            )
