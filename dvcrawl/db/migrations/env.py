"""The Alembic environment: migrations run on the connection `dvcrawl.db` hands over.

dvcrawl runs its migrations itself (`dvcrawl.db.init_db`), inside the transaction that also
holds the schema lock, so the connection always comes in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from dvcrawl.db.models import Base
from dvcrawl.search import is_search_index_object

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run dvcrawl's migrations with `dvcrawl db upgrade`, not the alembic command"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite alters tables by copying them; batch mode writes the copy for it.
    render_as_batch=True,
    compare_type=True,
    # The search index (FTS5 tables and triggers, tsvector columns) is made by a migration,
    # not described by the models.
    include_name=lambda name, type_, parents: not is_search_index_object(name),
)
with context.begin_transaction():
    context.run_migrations()
