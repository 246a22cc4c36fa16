"""dvcrawl's speed against its baselines, in one run: extraction, import, deduplication.

* **Extraction** (the gold pages, 16 KB on average, one process): milliseconds per page for
  dvcrawl's `extract_article` (pages of covered portals, read by their site module, and
  pages of uncovered ones, read by the generic extractor), trafilatura's ``bare_extraction``
  and lxml's parse alone. Every system reads every page once to warm up, then ``--rounds``
  times; the median round is reported.
* **Import** (a WARC of ``--pages`` realistic portal pages, `benchmarks/portal_archive.py`:
  republished, reposted and same-template pages, as a portal's archive holds): pages per
  second and peak RSS of ``dvcrawl import --jobs 1`` and ``--jobs N`` (N: the machine's
  cores), and of the plain loop the issue compares with (warcio -> trafilatura -> sqlite3,
  a commit every 200 rows), each in its own process. CPU is the user + system time of the
  command and its workers: with cores to spare, ``--jobs N`` takes about CPU / N.
* **Deduplication** (`benchmarks/dedup_scale.py`): fingerprint + lookup + store per new
  article at each corpus size.

Run: ``.venv/bin/python benchmarks/performance.py [--pages 2000] [--dedup-sizes 10000 100000]
[--write-readme]`` (about 3 minutes with the defaults on two cores; ``--write-readme``
replaces the table in README.md's "Performance" section).

The machine may be shared: compare the ratios of one run, and repeat.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

README = ROOT / "README.md"
TABLE_START = "<!-- performance table: benchmarks/performance.py --write-readme -->"
TABLE_END = "<!-- end of performance table -->"


# --- extraction ------------------------------------------------------------------------------


def _median_round(function, pages: list, rounds: int) -> float:
    """Median seconds per page over `rounds` rounds, after one warm-up round."""
    for page in pages:
        function(page)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for page in pages:
            function(page)
        times.append((time.perf_counter() - started) / len(pages))
    return statistics.median(times)


def extraction(rounds: int) -> dict[str, float]:
    """Milliseconds per page: dvcrawl (site pages, generic pages, all), trafilatura, lxml."""
    import lxml.html

    from dvcrawl.extraction import extract_article
    from tests.eval.score import load_gold, trafilatura_system

    pages = load_gold()

    def dvcrawl(page) -> None:
        extract_article(page.html, page.gold["url"])

    def parse(page) -> None:
        lxml.html.document_fromstring(page.html)

    generic = [p for p in pages if extract_article(p.html, p.gold["url"]).extractor in GENERIC]
    site = [p for p in pages if p not in generic]
    return {
        "pages": len(pages),
        "site pages": len(site),
        "generic pages": len(generic),
        "dvcrawl": _median_round(dvcrawl, pages, rounds) * 1000,
        "dvcrawl site": _median_round(dvcrawl, site, rounds) * 1000,
        "dvcrawl generic": _median_round(dvcrawl, generic, rounds) * 1000,
        "trafilatura": _median_round(trafilatura_system, pages, rounds) * 1000,
        "trafilatura site": _median_round(trafilatura_system, site, rounds) * 1000,
        "trafilatura generic": _median_round(trafilatura_system, generic, rounds) * 1000,
        "lxml": _median_round(parse, pages, rounds) * 1000,
        "lxml site": _median_round(parse, site, rounds) * 1000,
    }


#: What the generic extractor writes in ``extractor`` (pages of portals no site module covers).
GENERIC = {"generic/v1", None}


# --- import ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One command's wall time, CPU time (with its children) and peak RSS."""

    seconds: float
    cpu: float
    peak_mb: float
    output: str


def timed(command: list[str]) -> Run:
    """Run `command`; its wall and CPU time and its largest process's peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
    )
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output)


def plain_loop(warc: Path, db: Path) -> None:
    """The baseline: warcio -> trafilatura -> sqlite3, a commit every 200 rows."""
    import sqlite3

    import trafilatura
    from warcio.archiveiterator import ArchiveIterator

    connection = sqlite3.connect(db)
    connection.execute("CREATE TABLE articles (url TEXT PRIMARY KEY, title TEXT, text TEXT)")
    pending = 0
    with warc.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            content_type = record.http_headers.get_header("Content-Type") or ""
            if record.http_headers.get_statuscode() != "200" or "html" not in content_type:
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            html = record.content_stream().read().decode("utf-8", "replace")
            result = trafilatura.bare_extraction(html, url=url, with_metadata=True)
            if result is None or not result.text:
                continue
            connection.execute(
                "INSERT OR REPLACE INTO articles VALUES (?, ?, ?)", (url, result.title, result.text)
            )
            pending += 1
            if pending >= 200:
                connection.commit()
                pending = 0
    connection.commit()
    connection.close()


def importing(pages: int, jobs: int, folder: Path) -> dict[str, Run]:
    """Import the same archive with one job, `jobs` jobs and the plain loop."""
    from benchmarks.portal_archive import build

    warc = build(folder / "portal.warc.gz", pages)
    python = sys.executable
    runs = {}
    for label, command in (
        ("plain", [python, __file__, "--plain-loop", str(warc), str(folder / "plain.sqlite3")]),
        *(
            (
                f"jobs {n}",
                [
                    python,
                    "-m",
                    "dvcrawl",
                    "import",
                    str(warc),
                    "--jobs",
                    str(n),
                    "-q",
                    "--db",
                    f"sqlite:///{folder / f'jobs{n}.sqlite3'}",
                ],
            )
            for n in sorted({1, jobs})
        ),
    ):
        runs[label] = timed(command)
    return runs


# --- deduplication ---------------------------------------------------------------------------


def deduplication(sizes: list[int], folder: Path) -> dict[int, tuple[float, float, str]]:
    """(median ms, p95 ms, copies found) per new article at each corpus size."""
    from benchmarks.dedup_quality import gold_texts
    from benchmarks.dedup_scale import Babbler, grow, measure
    from dvcrawl.db import init_db, make_engine

    rng = random.Random(7)
    babbler = Babbler(list(gold_texts().values()), rng)
    engine = make_engine(f"sqlite:///{folder / 'dedup.sqlite3'}")
    init_db(engine)
    results = {}
    stored = 0
    for size in sorted(sizes):
        grow(engine, babbler, stored, size - stored)
        stored = size
        results[size] = measure(engine, babbler, size, rng)
    engine.dispose()
    return results


# --- the table -------------------------------------------------------------------------------


def table(found: dict, pages: int, jobs: int) -> str:
    """The README's table (Markdown)."""
    ex = found["extraction"]
    lines = [
        "| what | dvcrawl | baseline | ratio |",
        "|---|---|---|---|",
        f"| extraction, site modules ({ex['site pages']} gold pages) | {ex['dvcrawl site']:.2f} ms/page"
        f" | trafilatura {ex['trafilatura site']:.2f} ms/page | {ex['trafilatura site'] / ex['dvcrawl site']:.1f}× faster |",
        f"| extraction, site modules | {ex['dvcrawl site']:.2f} ms/page | lxml parse alone"
        f" {ex['lxml site']:.2f} ms/page | {ex['dvcrawl site'] / ex['lxml site']:.1f}× the parse |",
        f"| extraction, generic ({ex['generic pages']} gold pages) | {ex['dvcrawl generic']:.2f} ms/page"
        f" | trafilatura {ex['trafilatura generic']:.2f} ms/page | {ex['trafilatura generic'] / ex['dvcrawl generic']:.1f}× faster |",
        f"| extraction, all {ex['pages']} gold pages | {ex['dvcrawl']:.2f} ms/page"
        f" | trafilatura {ex['trafilatura']:.2f} ms/page | {ex['trafilatura'] / ex['dvcrawl']:.1f}× faster |",
    ]
    runs = found["import"]
    plain = runs["plain"]

    def rate(run: Run) -> float:
        return pages / run.seconds

    one = runs["jobs 1"]
    lines.append(
        f"| `import --jobs 1`, {pages}-response portal archive | {rate(one):.0f} pages/s,"
        f" {one.peak_mb:.0f} MB | plain loop {rate(plain):.0f} pages/s, {plain.peak_mb:.0f} MB"
        f" | {plain.seconds / one.seconds:.1f}× faster |"
    )
    if jobs > 1:
        many = runs[f"jobs {jobs}"]
        lines.append(
            f"| `import --jobs {jobs}` | {rate(many):.0f} pages/s, {many.peak_mb:.0f} MB per process"
            f" (CPU {many.cpu:.0f} s) | `--jobs 1` {rate(one):.0f} pages/s (CPU {one.cpu:.0f} s)"
            f" | {one.seconds / many.seconds:.2f}× faster |"
        )
    for size, (median, p95, copies) in found["dedup"].items():
        lines.append(
            f"| dedup, per new article, {size:,} stored | {median:.2f} ms median, {p95:.2f} ms p95"
            f" | | copies found {copies} |"
        )
    return "\n".join(lines)


def write_readme(text: str) -> None:
    """Replace the table between the markers in README.md."""
    readme = README.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(TABLE_START) + r".*?" + re.escape(TABLE_END), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README.md has no {TABLE_START} ... {TABLE_END} markers")
    README.write_text(
        pattern.sub(lambda _: f"{TABLE_START}\n{text}\n{TABLE_END}", readme), encoding="utf-8"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="responses in the archive")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3, help="extraction rounds")
    parser.add_argument("--dedup-sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--plain-loop", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain_loop:
        plain_loop(*args.plain_loop)
        return
    found: dict = {}
    started = time.perf_counter()
    found["extraction"] = extraction(args.rounds)
    print(f"extraction measured ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        found["import"] = importing(args.pages, args.jobs, folder)
        print(f"import measured ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        with contextlib.redirect_stdout(sys.stderr):  # its own report, beside the others
            found["dedup"] = deduplication(args.dedup_sizes, folder)
    for label, run in found["import"].items():
        summary = run.output.strip().splitlines()[-1] if run.output.strip() else ""
        print(
            f"{label}: {run.seconds:.1f} s, CPU {run.cpu:.1f} s, peak {run.peak_mb:.0f} MB  {summary}",
            file=sys.stderr,
        )
    text = table(found, args.pages, args.jobs)
    print(text)
    if args.write_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
