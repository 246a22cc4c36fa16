"""Cost of deduplicating a new article as the corpus grows: 10k and 100k stored articles.

Builds a SQLite corpus of synthetic but distinct Vietnamese articles (a word-bigram model
trained on the gold texts, so shingles are as unique as real prose, formulaic phrases
included), then times the full per-article path of a crawl, fingerprint -> find -> store,
for 400 new articles (half new texts, half copies of stored ones), at each size. Memory is
the process's peak RSS, which should not grow with the corpus: the LSH index is in the
database, not in memory.

Run: ``.venv/bin/python benchmarks/dedup_scale.py [--sizes 10000 100000]`` (about 4 minutes for
both sizes on one core).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from benchmarks.dedup_quality import gold_texts  # noqa: E402
from dvcrawl import dedup  # noqa: E402
from dvcrawl.db import ArticleStore, init_db, make_engine  # noqa: E402
from dvcrawl.db.models import ArticleRow, ArticleSketch, LshBand  # noqa: E402
from dvcrawl.items import SCHEMA_VERSION, Article  # noqa: E402


class Babbler:
    """A word-bigram model of the gold texts that writes new, distinct articles."""

    def __init__(self, texts: list[str], rng: random.Random):
        self.rng = rng
        self.next: dict[str, list[str]] = defaultdict(list)
        self.starts: list[str] = []
        for text in texts:
            for paragraph in text.split("\n\n"):
                words = paragraph.split()
                if len(words) > 5:
                    self.starts.append(words[0])
                for a, b in zip(words, words[1:], strict=False):
                    self.next[a].append(b)

    def paragraph(self, length: int) -> str:
        word = self.rng.choice(self.starts)
        words = [word]
        while len(words) < length:
            followers = self.next.get(word)
            word = self.rng.choice(followers) if followers else self.rng.choice(self.starts)
            words.append(word)
        return " ".join(words)

    def article(self) -> str:
        return "\n\n".join(
            self.paragraph(self.rng.randint(40, 90)) for _ in range(self.rng.randint(4, 7))
        )


def grow(engine, babbler: Babbler, start: int, count: int) -> None:
    """Add `count` articles with their bands and sketches, in bulk (not the thing measured)."""
    now = datetime.now(UTC)
    with engine.connect() as connection:
        first_id = (connection.execute(select(func.max(ArticleRow.id))).scalar() or 0) + 1
    for offset in range(0, count, 2000):
        rows, bands, sketches = [], [], []
        for number in range(start + offset, start + min(offset + 2000, count)):
            article_id = first_id + number - start
            text = babbler.article()
            print_ = dedup.fingerprint(text)
            rows.append(
                {
                    "id": article_id,
                    "canonical_url": f"https://bench.example/a/{number}",
                    "url": f"https://bench.example/a/{number}",
                    "site": "bench",
                    "title": f"Bài {number}",
                    "text": text,
                    "images": [],
                    "language": "vi",
                    "extractor": "bench",
                    "schema_version": SCHEMA_VERSION,
                    "content_hash": print_.content_hash,
                    "first_seen_at": now,
                    "fetched_at": now,
                    "updated_at": now,
                }
            )
            bands += [
                {"article_id": article_id, "band": band, "key": key}
                for band, key in enumerate(print_.keys)
            ]
            sketch = print_.sketch()
            sketches.append(
                {
                    "article_id": article_id,
                    "shingles": sketch.shingles_bytes(),
                    "entities": sketch.entities_bytes(),
                }
            )
        with engine.begin() as connection:
            connection.execute(insert(ArticleRow), rows)
            connection.execute(insert(LshBand), bands)
            connection.execute(insert(ArticleSketch), sketches)


def measure(
    engine, babbler: Babbler, size: int, rng: random.Random, samples: int = 400
) -> tuple[float, float, str]:
    """Time `samples` new articles (half reposts); print and return (median ms, p95 ms, found)."""
    store = ArticleStore(engine, batch_size=20)
    finder = dedup.Deduplicator(store.session)
    timings, found = [], 0
    now = datetime.now(UTC)
    for number in range(samples):
        if number % 2:
            text = None
            while text is None:
                row = store.session.get(ArticleRow, rng.randint(1, size))
                text = (
                    row.text
                    if row is not None and row.site == "bench" and "/new/" not in row.url
                    else None
                )
            text = "ĐTO - " + text.split("\n\n", 1)[-1] + "\n\nMinh Anh"  # a repost
        else:
            text = babbler.article()
        url = f"https://bench.example/new/{size}/{number}"
        started = time.perf_counter()
        print_ = dedup.fingerprint(text)
        match = finder.find(url, print_)
        record = Article(
            url=url, canonical_url=url, site="bench", is_article=True, title="x", text=text
        )
        store.save(
            record,
            content_hash=print_.content_hash,
            fetched_at=now,
            duplicate_of=match.canonical_url if match else None,
            similarity=match.similarity if match else None,
            band_keys=print_.keys,
            sketch=print_.sketch(),
        )
        timings.append(time.perf_counter() - started)
        found += match is not None
    store.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    median = statistics.median(timings) * 1000
    p95 = sorted(timings)[int(len(timings) * 0.95)] * 1000
    print(
        f"{size:>7} stored: {median:6.2f} ms median, {p95:6.2f} ms p95 per new article; copies found {found}/{samples // 2}; peak RSS {rss:.0f} MB"
    )
    return median, p95, f"{found}/{samples // 2}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    rng = random.Random(7)
    babbler = Babbler(list(gold_texts().values()), rng)
    bands, rows = dedup.band_shape()
    print(
        f"MinHash {dedup.NUM_PERM} permutations, {bands} bands of {rows} rows, {dedup.SHINGLE_WORDS}-word shingles"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scale.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        init_db(engine)
        stored = 0
        for size in sorted(args.sizes):
            started = time.perf_counter()
            grow(engine, babbler, stored, size - stored)
            stored = size
            built = time.perf_counter() - started
            print(
                f"built {size} articles in {built:.0f} s; database {path.stat().st_size / 2**20:.0f} MB"
            )
            measure(engine, babbler, size, rng)
        engine.dispose()


if __name__ == "__main__":
    main()
