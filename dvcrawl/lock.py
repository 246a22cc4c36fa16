"""Locks that keep crawls of one site into one database from overlapping.

A cron entry that fires while the previous crawl still runs, or a ``dvcrawl schedule`` loop
beside a manual run, would otherwise fetch every new article twice and race on the rows.
The locks are ``flock`` locks on files under ``<storage>/locks/``: the kernel releases them
when the process dies, even after ``kill -9``, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import IO


class Busy(RuntimeError):
    """Another process holds the lock."""


class FileLock:
    """A non-blocking lock on a file; the holder's pid is written into it.

    Exclusive by default. Shared locks (workers of one shared frontier, `dvcrawl.frontier`)
    admit each other and keep exclusive holders out, and the other way round.
    """

    def __init__(self, path: Path, *, shared: bool = False):
        self.path = path
        self.shared = shared
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock.

        Raises:
            Busy: naming the pid of the process that holds it.

        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise Busy(holder) from None
        if not self.shared:
            # Shared holders leave the file alone: it names the last exclusive holder, or none.
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Give the lock back."""
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_for(storage: Path, db_url: str, name: str, *, shared: bool = False) -> FileLock:
    """The lock of `name` (a site id, or "schedule") for one database."""
    digest = hashlib.sha1(db_url.encode("utf-8")).hexdigest()[:12]
    return FileLock(storage / "locks" / f"{name}-{digest}.lock", shared=shared)
