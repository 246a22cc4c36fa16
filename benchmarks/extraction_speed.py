"""Extraction speed: dvcrawl against trafilatura on the gold pages, in one process.

Run: ``.venv/bin/python benchmarks/extraction_speed.py [--rounds N]``. Each system extracts every
gold page once to warm up, then N times; the median per-page time of the rounds is printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.eval.score import SYSTEMS, load_gold  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pages = load_gold()
    kilobytes = sum(len(p.html.encode("utf-8")) for p in pages) / len(pages) / 1024
    print(f"{len(pages)} pages, {kilobytes:.0f} KB on average")
    for name, system in SYSTEMS.items():
        for page in pages:
            system(page)
        rounds = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            for page in pages:
                system(page)
            rounds.append((time.perf_counter() - started) / len(pages))
        median = statistics.median(rounds)
        print(f"{name:12} {median * 1000:6.1f} ms/page  {1 / median:6.0f} pages/s")


if __name__ == "__main__":
    main()
