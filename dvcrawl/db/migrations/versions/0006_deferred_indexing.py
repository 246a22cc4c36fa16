"""Search index triggers that let a batch of writes index its new articles at its end.

SQLite only: the triggers of the two FTS5 indexes skip the articles of a batch that defers
its indexing (a row in ``search_deferred``, never committed), which `dvcrawl.search.
index_deferred` indexes in one statement per index before the commit. The index is dropped
and rebuilt, as every change to it is (revision 0002). PostgreSQL's index is unchanged.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Rebuild the SQLite search index with the deferring triggers."""
    from dvcrawl.search import drop_search_index, install_search_index

    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    drop_search_index(connection)
    install_search_index(connection)


def downgrade() -> None:
    """Rebuild the SQLite search index with the triggers of revision 0005."""
    from dvcrawl.search import FOLDED_TABLE, drop_search_index, install_search_index

    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    drop_search_index(connection)
    if not install_search_index(connection):
        return
    connection.exec_driver_sql("DROP TABLE search_deferred")
    for table in (FOLDED_TABLE, "articles_fts_accents"):
        for suffix in ("ai", "ad", "au"):
            sql = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                (f"{table}_{suffix}",),
            ).scalar()
            connection.exec_driver_sql(f"DROP TRIGGER {table}_{suffix}")
            condition = sql[sql.index(" WHEN ") : sql.index(" BEGIN ")]
            connection.exec_driver_sql(sql.replace(condition, ""))
