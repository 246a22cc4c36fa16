"""``dvcrawl schedule``: run ``dvcrawl crawl`` now and every interval until stopped."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from typing import Any

from dvcrawl.cli.common import (
    EXIT_BUSY,
    EXIT_OK,
    EXIT_USAGE,
    UserError,
    interval,
    positive_int,
)


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
    parser.set_defaults(handler=run, db=None)  # `dvcrawl --db URL schedule ...` passes it on


def run(args: argparse.Namespace) -> int:
    """Run crawls now and every interval, one at a time, until stopped.

    The crawl arguments are checked before the first run (an unknown site is a one-line error,
    status 2, not a loop of failing crawls). A crawl that exits with status 2 (bad input) ends
    the loop with status 2. On SIGTERM/Ctrl-C the loop ends with the status of the last crawl
    that ran to its end (0 if none did): a schedule whose crawls were failing does not look
    healthy when it is stopped.
    """
    import signal
    import subprocess
    import threading

    from dvcrawl.cli import build_parser
    from dvcrawl.cli.crawl import choose_sites
    from dvcrawl.lock import Busy, lock_for
    from dvcrawl.paths import default_db_url, storage_dir

    crawl_args = [a for a in args.crawl_args if a != "--"]
    if not crawl_args:
        raise UserError("say what to crawl, e.g. `dvcrawl schedule --every 6h --all`")
    if getattr(args, "db", None) and "--db" not in crawl_args:
        crawl_args += ["--db", args.db]
    crawl = build_parser().parse_args(["crawl", *crawl_args])  # a usage error exits here
    choose_sites(crawl)
    db = crawl.db or default_db_url()
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
    status = EXIT_OK  # of the last crawl that ran to its end
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
            if code == EXIT_USAGE:
                print("dvcrawl: the crawl arguments are wrong; stopping", file=sys.stderr)
                return EXIT_USAGE
            if not stopping.is_set():
                status = code
            if args.runs and runs >= args.runs:
                break
            stopping.wait(max(0.0, args.every - (time.monotonic() - started)))
    finally:
        lock.release()
    return status
