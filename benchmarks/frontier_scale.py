"""Pages per second of one, two and three workers on one site through the shared frontier.

A synthetic thanhuytphcm-like site (tests/support/synthetic_site.py: 100 articles with
distinct texts, 10 per listing page) behind the loopback fixture server, a redis-server
started here from the binary on PATH, and one fresh database per measurement. Politeness is
off (no delay, no AutoThrottle, 8 downloads at once per portal over all workers), so the
numbers are the crawler's own cost: download, extraction, deduplication and storage.

The server holds every robots.txt request until all workers have joined the run (they are
registered in Redis), so a worker's Python start is not measured as a worker doing nothing.
Pages per second is every request the server answered over the time from that moment to
the last answer (idle exits are outside it too); the median of `--repeat` runs. The request
counts show that every page was requested once over all workers (robots.txt once per worker).

Run: ``.venv/bin/python benchmarks/frontier_scale.py [--workers 1 2 3] [--articles 100]
[--pg-admin postgresql+psycopg://postgres@127.0.0.1:PORT/postgres]`` (about a minute; with
--pg-admin each measurement also runs on a fresh PostgreSQL database).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.server import FixtureServer  # noqa: E402
from tests.support.synthetic_site import SyntheticSite  # noqa: E402

IMPOLITE = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s",
    "DVCRAWL_REDIS_PREFETCH=4",
]


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("no redis-server on PATH (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    return server, f"redis://127.0.0.1:{port}/0"


def fresh_database(folder: Path, pg_admin: str | None, label: str) -> str:
    if not pg_admin:
        return f"sqlite:///{folder / f'{label}.sqlite3'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"dvcrawl_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(pg_admin).set(database=name).render_as_string(hide_password=False)


def measure(
    workers: int, articles: int, redis_url: str, db_url: str, folder: Path, tls: Path
) -> dict[str, float]:
    site = SyntheticSite(per_page=10)
    site.publish(articles)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DVCRAWL_") and k.lower() not in {"http_proxy", "https_proxy"}
    }
    env |= {"DVCRAWL_STORAGE_DIR": str(folder / "storage"), "PYTHONPATH": str(ROOT)}
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    # robots.txt is every worker's first request: held until all have joined.
    joined = threading.Event()
    routes = site.routes()
    robots = routes[next(url for url in routes if url.endswith("/robots.txt"))]
    robots.before = lambda: joined.wait(120)
    args = [sys.executable, "-m", "dvcrawl", "crawl", "thanhuytphcm", "--db", db_url]
    args += ["--redis", redis_url, "--idle-exit", "1", "-s", f"DVCRAWL_REDIS_PREFIX={prefix}"]
    args += ["-s", "DVCRAWL_REDIS_HEARTBEAT=0.2", *IMPOLITE]
    import redis

    client = redis.Redis.from_url(redis_url)
    with FixtureServer(routes, tls) as server:
        env |= server.env()
        processes = [
            subprocess.Popen(args, env=env, cwd=folder, stdout=subprocess.PIPE, text=True)
            for _ in range(workers)
        ]
        while client.hlen(f"{prefix}:thanhuytphcm:workers") < workers:
            time.sleep(0.01)
        released = time.monotonic()
        joined.set()
        outputs = [process.communicate(timeout=600)[0] for process in processes]
    client.close()
    if any(process.returncode for process in processes):
        raise SystemExit("a worker failed:\n" + "\n".join(outputs))
    hits = [hit for hit in server.hits if hit.method == "GET"]
    span = max(hit.answered or hit.at for hit in hits) - released
    counts = Counter(hit.url for hit in hits)
    pages = [url for url in counts if not url.endswith("/robots.txt")]
    return {
        "requests": len(hits),
        "pages": len(pages),
        "robots": sum(n for url, n in counts.items() if url.endswith("/robots.txt")),
        "repeated": sum(1 for url in pages if counts[url] > 1),
        "seconds": span,
        "per_second": len(hits) / span,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg-admin", help="also measure on PostgreSQL (an admin URL)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        (folder / "tls").mkdir()
        redis, redis_url = start_redis(folder)
        try:
            backends = ["sqlite"] + (["postgresql"] if options.pg_admin else [])
            print("database    workers  requests  pages  robots.txt  repeated  seconds  pages/s")
            for backend in backends:
                for workers in options.workers:
                    runs = []
                    for attempt in range(options.repeat):
                        label = f"{backend}{workers}x{attempt}"
                        admin = options.pg_admin if backend == "postgresql" else None
                        db_url = fresh_database(folder, admin, label)
                        runs.append(
                            measure(
                                workers, options.articles, redis_url, db_url, folder, folder / "tls"
                            )
                        )
                    result = sorted(runs, key=lambda run: run["per_second"])[len(runs) // 2]
                    print(
                        f"{backend:<10}  {workers:>7}  {result['requests']:>8}  "
                        f"{result['pages']:>5}  {result['robots']:>10}  {result['repeated']:>8}  "
                        f"{result['seconds']:>7.2f}  {result['per_second']:>7.1f}",
                        flush=True,
                    )
        finally:
            redis.terminate()
            redis.wait()


if __name__ == "__main__":
    main()
