"""Search latency as the corpus grows: 10k and 100k articles in SQLite (FTS5).

Builds a corpus of synthetic but distinct Vietnamese articles (the word-bigram model of
benchmarks/dedup_scale.py, trained on the gold texts) spread over 13 sites and seven years,
inserted through the articles table so the search triggers index them as a crawl would. Then
times `dvcrawl.search.search` (the query, ranking, the 20 best rows and their snippets) for
queries of each kind: without diacritics (with "d" read as "d" or "đ"), with diacritics, a
phrase, a prefix, a rare name, and with site and date filters.

Run: ``.venv/bin/python benchmarks/search_scale.py [--sizes 10000 100000]`` (about 3 minutes
for both sizes on one core, mostly building the corpus; `--keep FILE` keeps the corpus, and a
later run with the same FILE only times the queries).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from benchmarks.dedup_quality import gold_texts  # noqa: E402
from benchmarks.dedup_scale import Babbler  # noqa: E402
from dvcrawl.db import init_db, make_engine  # noqa: E402
from dvcrawl.db.models import ArticleRow  # noqa: E402
from dvcrawl.items import SCHEMA_VERSION  # noqa: E402
from dvcrawl.search import CorpusFilter, search  # noqa: E402

SITES = [f"site{n:02d}" for n in range(13)]
QUERIES: list[tuple[str, dict]] = [
    ("dan van kheo", {}),
    ('"dân vận khéo"', {}),
    ("hòa giải", {}),
    ("doan ket toan dan", {}),
    ('"giai phong mat bang"', {}),
    ("người có uy tín", {}),
    ("giam*", {}),
    ("Mù Cang Chải", {}),
    ("dan van kheo", {"sites": ("site03",)}),
    ("dan van kheo", {"since": date(2024, 1, 1), "until": date(2024, 12, 31)}),
]


def grow(engine, babbler: Babbler, rng: random.Random, start: int, count: int) -> None:
    """Add `count` articles through the articles table (the triggers index them)."""
    now = datetime.now(UTC)
    first_day = date(2019, 1, 1)
    with engine.connect() as connection:
        first_id = (connection.execute(select(func.max(ArticleRow.id))).scalar() or 0) + 1
    for offset in range(0, count, 2000):
        rows = []
        for number in range(start + offset, start + min(offset + 2000, count)):
            published = first_day + timedelta(days=rng.randrange(7 * 365))
            rows.append(
                {
                    "id": first_id + number - start,
                    "canonical_url": f"https://bench.example/a/{number}",
                    "url": f"https://bench.example/a/{number}",
                    "site": rng.choice(SITES),
                    "title": babbler.paragraph(rng.randint(8, 16)),
                    "text": babbler.article(),
                    "published_at": f"{published.isoformat()}T08:00:00+07:00",
                    "images": [],
                    "language": "vi",
                    "extractor": "bench",
                    "schema_version": SCHEMA_VERSION,
                    "content_hash": f"{number:064x}",
                    "first_seen_at": now,
                    "fetched_at": now,
                    "updated_at": now,
                }
            )
        with engine.begin() as connection:
            connection.execute(insert(ArticleRow), rows)


def measure(engine, size: int, repeats: int = 15) -> None:
    """Print the median and p95 latency of each query."""
    print(f"| query | filters | hits (limit 20) | median ms | p95 ms |  ({size} articles)")
    everything = []
    for query, where in QUERIES:
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            hits = search(engine, query, CorpusFilter(**where), limit=20)
            timings.append((time.perf_counter() - started) * 1000)
        everything += timings
        timings.sort()
        filters = ", ".join(f"{k}={v}" for k, v in where.items()) or "-"
        print(
            f"| `{query}` | {filters} | {len(hits)} | {statistics.median(timings):.1f} | "
            f"{timings[int(len(timings) * 0.95) - 1]:.1f} |"
        )
    everything.sort()
    print(
        f"all queries: median {statistics.median(everything):.1f} ms, "
        f"p95 {everything[int(len(everything) * 0.95) - 1]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--keep", type=Path, metavar="FILE", help="build the corpus in FILE and keep it (reused)"
    )
    args = parser.parse_args()
    if args.keep:
        engine = make_engine(f"sqlite:///{args.keep}", writer=True)
        init_db(engine)
        with engine.connect() as connection:
            stored = connection.execute(select(func.count(ArticleRow.id))).scalar() or 0
        rng = random.Random(11)
        babbler = Babbler(list(gold_texts().values()), rng)
        for size in sorted(args.sizes):
            if size > stored:
                grow(engine, babbler, rng, stored, size - stored)
                stored = size
        measure(engine, stored)
        engine.dispose()
        return
    rng = random.Random(11)
    babbler = Babbler(list(gold_texts().values()), rng)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "search.sqlite3"
        engine = make_engine(f"sqlite:///{path}", writer=True)
        init_db(engine)
        stored = 0
        for size in sorted(args.sizes):
            started = time.perf_counter()
            grow(engine, babbler, rng, stored, size - stored)
            stored = size
            built = time.perf_counter() - started
            files = [path, path.with_name(path.name + "-wal")]
            megabytes = sum(f.stat().st_size for f in files if f.exists()) / 2**20
            print(
                f"built {size} articles (search index included) in {built:.0f} s; "
                f"database and log {megabytes:.0f} MB"
            )
            measure(engine, size)
        engine.dispose()


if __name__ == "__main__":
    main()
