"""Names in the stored sketches read with capital letters only.

Until this revision, deduplication took any word starting with a letter from "À" to "Ỹ" for a
capitalized one, small letters included ("được đăng", "đồng để" were names), so the names
and numbers kept in ``article_sketches`` were read by another rule than a new article's. A
copy is compared with its original on these names: every stored article's are read again
here, from its text, a thousand at a time.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: Articles read and rewritten per round.
CHUNK = 1000


def upgrade() -> None:
    """Read every stored article's names and numbers again."""
    refresh_names(op.get_bind())


def refresh_names(connection: sa.Connection) -> int:
    """Rewrite the names and numbers of every sketch; return how many were rewritten."""
    from dvcrawl.dedup import entities, entity_hashes

    articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("text", sa.Text))
    sketches = sa.table(
        "article_sketches",
        sa.column("article_id", sa.Integer),
        sa.column("entities", sa.LargeBinary),
    )
    done = 0
    last = 0
    while True:
        rows = connection.execute(
            sa.select(articles.c.id, articles.c.text)
            .join(sketches, sketches.c.article_id == articles.c.id)
            .where(articles.c.id > last)
            .order_by(articles.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return done
        connection.execute(
            sa.update(sketches)
            .where(sketches.c.article_id == sa.bindparam("id"))
            .values(entities=sa.bindparam("names")),
            [
                {"id": row.id, "names": entity_hashes(entities(row.text)).astype("<u8").tobytes()}
                for row in rows
            ],
        )
        done += len(rows)
        last = rows[-1].id


def downgrade() -> None:
    """Nothing to undo: the names read by the earlier rule are not kept."""
