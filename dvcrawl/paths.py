"""Where dvcrawl keeps its data by default: the storage folder and the SQLite database in it.

Apart from `dvcrawl.db` so that the Scrapy settings module, which every command loads, does
not import SQLAlchemy to learn two paths (a fifth of a second at each start; issue 11).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The runtime data folder when ``$DVCRAWL_STORAGE_DIR`` is not set.
DEFAULT_STORAGE_DIR = "storage"


def storage_dir() -> Path:
    """The runtime data folder: ``$DVCRAWL_STORAGE_DIR``, else ``./storage``."""
    return Path(os.environ.get("DVCRAWL_STORAGE_DIR") or DEFAULT_STORAGE_DIR)


def default_db_url() -> str:
    """``$DVCRAWL_DB_URL``, else SQLite at ``<storage>/dvcrawl.sqlite3``."""
    return os.environ.get("DVCRAWL_DB_URL") or f"sqlite:///{storage_dir() / 'dvcrawl.sqlite3'}"
