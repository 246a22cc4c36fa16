"""Web archives as a source: provenance of articles, the source of runs, captures read.

``articles.archive_url`` and ``articles.archived_at`` (the capture a record was read from; null
for pages fetched from the portal), ``crawl_runs.source`` ("live" or "wayback"; the runs
already recorded were live), and the ``archive_captures`` table of the captures archive runs
have read (`dvcrawl.wayback`, issue 13). Columns are only added, so SQLite keeps its tables
(and the search index's triggers on ``articles``) instead of copying them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the provenance columns, the runs' source and the captures table."""
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("archive_url", sa.String(length=2048), nullable=True))
        batch.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="live")
        )
    op.create_table(
        "archive_captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("archive", sa.String(length=16), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.String(length=14), nullable=False),
        sa.Column("original_url", sa.String(length=2048), nullable=False),
        sa.Column("canonical_url", sa.String(length=2048), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "archive", "timestamp", "original_url", name="uq_archive_captures_capture"
        ),
    )
    op.create_index("ix_archive_captures_site", "archive_captures", ["site"])
    op.create_index("ix_archive_captures_canonical_url", "archive_captures", ["canonical_url"])


def downgrade() -> None:
    """Drop the captures table, the runs' source and the provenance columns.

    Dropping a column makes SQLite copy the table, which would lose the search index's
    triggers on ``articles``: the index is dropped first and built again after.
    """
    from dvcrawl.search import drop_search_index, install_search_index

    op.drop_index("ix_archive_captures_canonical_url", table_name="archive_captures")
    op.drop_index("ix_archive_captures_site", table_name="archive_captures")
    op.drop_table("archive_captures")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("source")
    drop_search_index(op.get_bind())
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("archived_at")
        batch.drop_column("archive_url")
    install_search_index(op.get_bind())
