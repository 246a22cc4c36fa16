"""Alembic migrations of dvcrawl's database (run through `dvcrawl.db.init_db`, ``dvcrawl db upgrade``).

Each schema change is one revision file in ``versions/``, named ``NNNN_<what>.py`` with
``revision = "NNNN"`` and ``down_revision`` the revision before it; docs/deployment.md says how
to write one.
"""
