"""``dvcrawl schedule``: run ``dvcrawl crawl`` now and every interval until stopped."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from typing import Any

from dvcrawl.cli.common import EXIT_BUSY, EXIT_OK, UserError, interval, positive_int


def register(commands: Any) -> None:
    """Add the command's parser."""
    parser = commands.add_parser(
        "schedule",
        help="crawl on a schedule until stopped (SIGTERM/Ctrl-C end it cleanly)",
        description="Run `dvcrawl crawl` now and then every INTERVAL; arguments after the options are passed to crawl.",
    )
    parser.add_argument(
        "--every", required=True, type=interval, metavar="INTERVAL", help="e.g. 30m, 6h, 1d"
    )
    parser.add_argument(
        "--runs", type=positive_int, metavar="N", help="stop after N runs (default: never)"
    )
    parser.add_argument(
        "crawl_args", nargs=argparse.REMAINDER, metavar="CRAWL ARGS", help="e.g. --all, or sites"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run crawls now and every interval, one at a time, until stopped."""
    import signal
    import subprocess
    import threading

    from dvcrawl.db import default_db_url, storage_dir
    from dvcrawl.lock import Busy, lock_for

    crawl_args = [a for a in args.crawl_args if a != "--"]
    if not crawl_args:
        raise UserError("say what to crawl, e.g. `dvcrawl schedule --every 6h --all`")
    db = (
        next((crawl_args[i + 1] for i, a in enumerate(crawl_args[:-1]) if a == "--db"), None)
        or default_db_url()
    )
    lock = lock_for(storage_dir(), db, "schedule")
    try:
        lock.acquire()
    except Busy as busy:
        print(
            f"dvcrawl: a schedule for this database is already running (pid {busy})",
            file=sys.stderr,
        )
        return EXIT_BUSY
    stopping = threading.Event()
    child: list[subprocess.Popen[bytes]] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.set()
        for process in child:
            process.send_signal(signal.SIGTERM)  # Scrapy finishes in-flight work and closes cleanly

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runs = 0
    try:
        while not stopping.is_set():
            started = time.monotonic()
            process = subprocess.Popen([sys.executable, "-m", "dvcrawl", "crawl", *crawl_args])
            child.append(process)
            code = process.wait()
            child.clear()
            runs += 1
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
            print(
                f"{stamp} UTC: crawl run {runs} exited with status {code}",
                file=sys.stderr,
                flush=True,
            )
            if args.runs and runs >= args.runs:
                break
            stopping.wait(max(0.0, args.every - (time.monotonic() - started)))
    finally:
        lock.release()
    return EXIT_OK
