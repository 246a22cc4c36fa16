"""What deduplication verifies a candidate with, stored with each article.

``article_sketches`` holds, per article, the hashes of its text's shingles and of its names and
numbers (`dvcrawl.dedup.Sketch`), so a near-duplicate candidate is verified without reading
and normalizing its text again (issue 11). The articles already stored get theirs here, from
their text, a thousand at a time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Articles read, sketched and written per round while filling the table.
CHUNK = 1000


def upgrade() -> None:
    """Create the sketch table and sketch every stored article."""
    op.create_table(
        "article_sketches",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("shingles", sa.LargeBinary(), nullable=False),
        sa.Column("entities", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id"),
    )
    fill_sketches(op.get_bind())


def fill_sketches(connection: sa.Connection) -> int:
    """Sketch every article that has none; return how many were sketched."""
    from dvcrawl.dedup import sketch_of

    articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("text", sa.Text))
    sketches = sa.table(
        "article_sketches",
        sa.column("article_id", sa.Integer),
        sa.column("shingles", sa.LargeBinary),
        sa.column("entities", sa.LargeBinary),
    )
    done = 0
    last = 0
    while True:
        rows = connection.execute(
            sa.select(articles.c.id, articles.c.text)
            .where(articles.c.id > last)
            .order_by(articles.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return done
        values = []
        for row in rows:
            sketch = sketch_of(row.text)
            values.append(
                {
                    "article_id": row.id,
                    "shingles": sketch.shingles_bytes(),
                    "entities": sketch.entities_bytes(),
                }
            )
        connection.execute(sa.insert(sketches), values)
        done += len(values)
        last = rows[-1].id


def downgrade() -> None:
    """Drop the sketches (deduplication then has nothing to verify stored articles with)."""
    op.drop_table("article_sketches")
