"""The database's errors, in a module of their own.

The command line catches `DatabaseUnwritable` around every command. Defined in `dvcrawl.db`,
catching it imported SQLAlchemy and the models before any command ran: a quarter of a
second before ``dvcrawl import --jobs N`` could start its workers (issue 11), and before
commands that never open a database.
"""

from __future__ import annotations


class DatabaseError(RuntimeError):
    """A database URL that cannot be used, or a database dvcrawl cannot work with."""


class DatabaseUnwritable(DatabaseError):
    """A database that can be opened but takes no writes: read-only, locked, full."""
