"""Full-text search index, topic relevance of articles, and the list that scored them.

``articles.relevance`` (0-1, `dvcrawl.topic`) with its index and the one-row ``topic_lists``
table; the search index of `dvcrawl.search` (SQLite: two FTS5 tables reading the text of
``articles``, kept by triggers; PostgreSQL: two generated ``tsvector`` columns with GIN
indexes), filled with the articles already stored. A later change to the index is a new
revision that drops and rebuilds it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the relevance column, the topic list table and the search index."""
    from dvcrawl.search import install_search_index

    op.add_column("articles", sa.Column("relevance", sa.Float(), nullable=True))
    op.create_index("ix_articles_relevance", "articles", ["relevance"])
    op.create_table(
        "topic_lists",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    install_search_index(op.get_bind())


def downgrade() -> None:
    """Drop the search index, the topic list table and the relevance column."""
    from dvcrawl.search import drop_search_index

    drop_search_index(op.get_bind())
    op.drop_table("topic_lists")
    op.drop_index("ix_articles_relevance", table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("relevance")
