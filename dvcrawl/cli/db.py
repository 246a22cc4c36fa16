"""``dvcrawl db upgrade``: bring a database's schema up to this dvcrawl's (Alembic migrations)."""

from __future__ import annotations

import argparse
from typing import Any

from dvcrawl.cli.common import (
    EXIT_OK,
    UserError,
    add_db_option,
    configured_topic,
    project_settings,
    redact,
    rescore,
)


def register(commands: Any) -> None:
    """Add the command's parser."""
    parser = commands.add_parser("db", help="database maintenance: schema migrations")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", parser_class=type(parser))
    upgrade = actions.add_parser(
        "upgrade",
        help="apply the schema migrations (adopts databases made by earlier versions)",
        description=(
            "Apply every schema migration the database lacks, in one transaction. A database "
            "made by dvcrawl 0.1 (hand-versioned schema) is adopted. Safe to run while nothing "
            "else writes; a crawl that starts meanwhile waits for it."
        ),
    )
    add_db_option(upgrade)
    upgrade.set_defaults(handler=run_upgrade)
    parser.set_defaults(handler=lambda args: parser.error("name an action: upgrade"))


def run_upgrade(args: argparse.Namespace) -> int:
    """Upgrade the schema and say what was done."""
    from dvcrawl.db import DatabaseError, head_revision, init_db, make_engine, sqlite_path

    settings = project_settings(args.db)
    url = settings.get("DVCRAWL_DB_URL")
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise UserError(f"no database at {path} (a crawl creates one at the newest schema)")
    try:
        engine = make_engine(url, writer=True, create=False)
        try:
            done = init_db(engine, upgrade=True)
            # Topic relevance is part of the schema's promise: scored now, not at first use.
            scored = rescore(engine, configured_topic(settings), quiet=True)
        finally:
            engine.dispose()
    except DatabaseError as exc:
        raise UserError(str(exc)) from None
    if done == "current":
        print(f"{redact(url)}: already at schema revision {head_revision()}")
    else:
        print(f"{redact(url)}: {done}")
    if scored:
        print(f"{redact(url)}: topic relevance scored for {scored} articles")
    return EXIT_OK
