"""dvcrawl's speed against its baselines, in one run: extraction, import, deduplication, crawl, export.

* **Extraction** (the gold pages, 16 KB on average, one process): milliseconds per page for
  dvcrawl's `extract_article` (pages of covered portals, read by their site module, and
  pages of uncovered ones, read by the generic extractor), trafilatura's ``bare_extraction``
  and lxml's parse alone; site-module pages are also timed apart when the module found the
  body where its declaration says (selectors, embedded JSON), without the structural pass. Every system reads every page once to warm up, then ``--rounds``
  times; the median round is reported.
* **Import** (a WARC of ``--pages`` realistic portal pages, `benchmarks/portal_archive.py`:
  republished, reposted and same-template pages, as a portal's archive holds): pages per
  second and peak RSS of ``dvcrawl import --jobs 1`` and ``--jobs N`` (N: the machine's
  cores), and of the plain loop the issue compares with (warcio -> trafilatura -> sqlite3,
  a commit every 200 rows), each in its own process. The three commands take turns
  ``--import-rounds`` times (3) and each one's median run is reported. CPU is the user +
  system time of the command and its workers: with cores to spare, ``--jobs N`` takes about
  CPU / N.
* **Deduplication** (`benchmarks/dedup_scale.py`): fingerprint + lookup + store per new
  article at each corpus size.
* **Crawl** (the whole pipeline: Scrapy engine, spider, extraction, deduplication, store):
  ``dvcrawl crawl thanhuytphcm --replay WARC --full`` of a synthetic thanhuytphcm portal of
  ``--crawl-articles`` distinct articles (tests/support/synthetic_site.py, 10 per listing
  page, every listing page read), against ``scrapy bench`` (Scrapy's own benchmark, run
  outside the project with Scrapy's defaults). Both rates are responses over Scrapy's
  ``elapsed_time_seconds``; the crawl's rate with its start-up is shown too. The crawl is
  also run on a quarter of the portal, to compare peak memory.
* **Export**: peak RSS of ``dvcrawl export --format jsonl`` and ``--format parquet`` of a
  corpus of each of ``--export-sizes`` articles (dedup_scale's generated articles).

Every command runs in its own process, started from a small launcher that reports its
rusage: Linux carries a process's peak RSS over fork and exec, so a command started
straight from this (large) process would report this process's size as its own peak.

Run: ``.venv/bin/python benchmarks/performance.py [--pages 2000] [--dedup-sizes 10000 100000]
[--crawl-articles 1000] [--export-sizes 2000 10000] [--import-rounds 3] [--only SECTION ...]
[--skip SECTION ...] [--write-readme]`` (sections: extraction, import, dedup, crawl, export; about 3 minutes with
the defaults on two cores, 7 with ``--dedup-sizes 10000 100000``). ``--write-readme``
replaces the rows of the sections run in the table of README.md's "Performance" section
and keeps the others.

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
from dataclasses import dataclass, field
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


def extraction(rounds: int) -> dict[str, float | str]:
    """Milliseconds per page: dvcrawl (site pages, generic pages, all), trafilatura, lxml.

    "walks" says whether the tree walks ran compiled (`dvcrawl.extract.compiled`).
    """
    import lxml.html

    from dvcrawl.extract import compiled
    from dvcrawl.extraction import extract_article
    from tests.eval.score import load_gold, trafilatura_system

    pages = load_gold()

    def dvcrawl(page) -> None:
        extract_article(page.html, page.gold["url"])

    def parse(page) -> None:
        lxml.html.document_fromstring(page.html)

    extractors = [extract_article(p.html, p.gold["url"]).extractor for p in pages]
    generic = [p for p, name in zip(pages, extractors, strict=True) if name in GENERIC]
    site = [p for p, name in zip(pages, extractors, strict=True) if name not in GENERIC]
    declared = [
        p
        for p, name in zip(pages, extractors, strict=True)
        if name not in GENERIC and body_is_declared(name)
    ]
    python_site = python_generic = None
    if compiled.module is not None:
        # The same pages with the Python walks, as an install without a C compiler runs.
        from dvcrawl.extract import boilerplate, page, region

        users = (region, page, boilerplate)
        for module in users:
            module.compiled = None
        try:
            python_site = _median_round(dvcrawl, site, rounds) * 1000
            python_generic = _median_round(dvcrawl, generic, rounds) * 1000
        finally:
            for module in users:
                module.compiled = compiled.module
    return {
        "python site": python_site,
        "python generic": python_generic,
        "walks": compiled.IMPLEMENTATION,
        "pages": len(pages),
        "site pages": len(site),
        "generic pages": len(generic),
        "declared pages": len(declared),
        "dvcrawl": _median_round(dvcrawl, pages, rounds) * 1000,
        "dvcrawl site": _median_round(dvcrawl, site, rounds) * 1000,
        "dvcrawl generic": _median_round(dvcrawl, generic, rounds) * 1000,
        "dvcrawl declared": _median_round(dvcrawl, declared, rounds) * 1000,
        "trafilatura": _median_round(trafilatura_system, pages, rounds) * 1000,
        "trafilatura site": _median_round(trafilatura_system, site, rounds) * 1000,
        "trafilatura generic": _median_round(trafilatura_system, generic, rounds) * 1000,
        "trafilatura declared": _median_round(trafilatura_system, declared, rounds) * 1000,
        "lxml": _median_round(parse, pages, rounds) * 1000,
        "lxml site": _median_round(parse, site, rounds) * 1000,
        "lxml declared": _median_round(parse, declared, rounds) * 1000,
    }


def body_is_declared(extractor_name: str | None) -> bool:
    """Whether a site module found the page's body where the portal's declaration says.

    Selectors that matched, or the embedded JSON of a script-built portal; not a site module
    that reads its portal by structure (markup unknown) or whose selectors missed
    (``+fallback``): those run the generic content-region pass.
    """
    from dvcrawl.extract.selectors import SelectorExtractor
    from dvcrawl.sites import SITES
    from dvcrawl.sites.tuyengiaodanvan import TuyengiaodanvanV1

    for site in SITES.values():
        for extractor in site.extractors:
            if extractor.name == extractor_name:
                return bool(
                    isinstance(extractor, SelectorExtractor) and extractor.body
                ) or isinstance(extractor, TuyengiaodanvanV1)
    return False


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
    #: For a median run: the wall times of all its runs, in the order they ran.
    all_seconds: list[float] = field(default_factory=list)


#: Starts the measured command from a small process and reports its rusage. Linux carries a
#: process's peak RSS over fork and exec, so a command started from this benchmark's own
#: process (which holds the gold pages, a synthetic site or a corpus) would report this
#: process's size as its own peak; started from here it reports its own.
_LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    out.write(f"{seconds} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed(command: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Run:
    """Run `command`; its wall and CPU time and its largest process's peak RSS."""
    with tempfile.NamedTemporaryFile("r", suffix=".rusage") as report:
        process = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, report.name, *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
            env=env,
            check=False,
        )
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{process.stdout}")
        seconds, cpu, peak_kb = (float(value) for value in report.read().split())
    return Run(seconds, cpu, peak_kb / 1024, process.stdout)


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


def importing(pages: int, jobs: int, folder: Path, rounds: int) -> dict[str, Run]:
    """Import the same archive with one job, `jobs` jobs and the plain loop, `rounds` times.

    The commands take turns (plain, one job, `jobs` jobs, then again) and each one's median
    run is kept: a neighbour's load on a shared machine then touches every command alike
    instead of deciding one command's number (single runs of the same code varied by 15%).
    Every run imports into a new database.
    """
    from benchmarks.portal_archive import build

    warc = build(folder / "portal.warc.gz", pages)
    python = sys.executable

    def command(label: str, db: Path) -> list[str]:
        if label == "plain":
            return [python, __file__, "--plain-loop", str(warc), str(db)]
        n = label.split()[1]
        return [
            python,
            "-m",
            "dvcrawl",
            "import",
            str(warc),
            "--jobs",
            n,
            "-q",
            "--db",
            f"sqlite:///{db}",
        ]

    labels = ["plain", *(f"jobs {n}" for n in sorted({1, jobs}))]
    measured: dict[str, list[Run]] = {label: [] for label in labels}
    for round_number in range(rounds):
        for label in labels:
            db = folder / f"{label.replace(' ', '')}-{round_number}.sqlite3"
            measured[label].append(timed(command(label, db)))
            db.unlink()
    return {label: _median_run(runs) for label, runs in measured.items()}


def _median_run(runs: list[Run]) -> Run:
    """The run of median wall time (the lower middle one of an even number)."""
    ordered = sorted(runs, key=lambda run: run.seconds)
    median = ordered[(len(ordered) - 1) // 2]
    median.all_seconds = [run.seconds for run in runs]
    return median


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


# --- the crawl pipeline on replay, against scrapy bench ---------------------------------------


def synthetic_portal(path: Path, articles: int) -> tuple[Path, int]:
    """A WARC of a thanhuytphcm-like portal with `articles` distinct articles; (path, responses).

    The site is tests/support/synthetic_site.py's (the portal's whole chrome, 10 articles per
    listing page); each article's text is a new one written by dedup_scale's word model, so
    every article is new to the store, as on a first crawl of a real portal.
    """
    from benchmarks.dedup_quality import gold_texts
    from benchmarks.dedup_scale import Babbler
    from dvcrawl.warc import ArchivedResponse, write_warc
    from tests.support.synthetic_site import SyntheticSite

    babbler = Babbler(list(gold_texts().values()), random.Random(11))
    site = SyntheticSite(per_page=10)
    for article in site.publish(articles):
        article.paragraphs = [article.paragraphs[0], *babbler.article().split("\n\n")]
    routes = site.routes()
    write_warc(
        path,
        (
            ArchivedResponse(url, route.status, list(route.headers), route.body, None)
            for url, route in routes.items()
        ),
    )
    return path, len(routes)


@dataclass
class CrawlRate:
    """Responses of a crawl, its spider's elapsed time (Scrapy's stat) and the whole command."""

    responses: int
    seconds: float
    run: Run
    stored: int = 0  # new articles stored (dvcrawl's report)

    @property
    def per_second(self) -> float:
        return self.responses / self.seconds

    @property
    def per_second_wall(self) -> float:
        return self.responses / self.run.seconds


PROXIES = {"http_proxy", "https_proxy", "all_proxy"}


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without dvcrawl's or Scrapy's settings, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DVCRAWL_", "SCRAPY_")) and key.lower() not in PROXIES
    }
    return env | extra


def replay_crawl(articles: int, folder: Path) -> CrawlRate:
    """`dvcrawl crawl thanhuytphcm --replay --full` of a synthetic portal, into a new database.

    ``--full`` reads every listing page to the last; a replay has no download delay.
    """
    warc, responses = synthetic_portal(folder / f"synthetic-portal-{articles}.warc.gz", articles)
    db = f"sqlite:///{folder / f'crawl-{articles}.sqlite3'}"
    command = [sys.executable, "-m", "dvcrawl", "crawl", "thanhuytphcm", "--replay", str(warc)]
    command += ["--full", "--db", db, "-q"]
    env = _clean_env(DVCRAWL_STORAGE_DIR=str(folder / "storage"), PYTHONPATH=str(ROOT))
    run = timed(command, env=env)
    replayed = re.search(r"thanhuytphcm: replayed (\d+), not archived (\d+)", run.output)
    header = re.search(r"^site\s+result\s+.*$", run.output, re.M)
    row = re.search(r"^thanhuytphcm\s+ok\s+.*$", run.output, re.M)
    if not replayed or not header or not row or int(replayed[2]) or int(replayed[1]) != responses:
        raise SystemExit(
            f"the replay crawl did not read the whole archive ({responses}):\n{run.output}"
        )
    # The report's columns are separated by two spaces or more ("article req" is one column).
    columns = dict(zip(re.split(r"\s{2,}", header[0].strip()), row[0].split(), strict=False))
    return CrawlRate(int(replayed[1]), float(columns["seconds"]), run, int(columns["new"]))


def scrapy_bench(folder: Path) -> CrawlRate:
    """`scrapy bench`: Scrapy's own benchmark (a local server crawled for about 10 s)."""
    bench = folder / "scrapy-bench"
    bench.mkdir()
    # Outside the project and without SCRAPY_SETTINGS_MODULE: Scrapy's defaults, as anyone runs it.
    run = timed([sys.executable, "-m", "scrapy", "bench"], cwd=bench, env=_clean_env())
    count = re.search(r"'response_received_count': (\d+)", run.output)
    elapsed = re.search(r"'elapsed_time_seconds': ([\d.]+)", run.output)
    if not count or not elapsed:
        raise SystemExit(f"scrapy bench printed no final stats:\n{run.output}")
    return CrawlRate(int(count[1]), float(elapsed[1]), run)


def crawling(articles: int, folder: Path) -> dict[str, CrawlRate]:
    """The replay crawl of a portal of `articles` and of a quarter of it, and `scrapy bench`.

    Both rates are responses over Scrapy's own ``elapsed_time_seconds`` (spider opened to
    closed), so start-up is outside both; the command's wall time is kept beside it. The
    smaller portal shows whether the crawl's peak memory grows with the site.
    """
    return {
        "small": replay_crawl(max(1, articles // 4), folder),
        "dvcrawl": replay_crawl(articles, folder),
        "scrapy bench": scrapy_bench(folder),
    }


# --- export memory against corpus size -------------------------------------------------------


def export_memory(sizes: list[int], folder: Path) -> dict[int, dict[str, Run]]:
    """Peak RSS of `dvcrawl export` (jsonl, parquet) of a corpus of each size, in its own process.

    The corpus is dedup_scale's: distinct generated articles of about 2.5 KB of text each.
    """
    from benchmarks.dedup_quality import gold_texts
    from benchmarks.dedup_scale import Babbler, grow
    from dvcrawl.db import init_db, make_engine

    babbler = Babbler(list(gold_texts().values()), random.Random(13))
    db = f"sqlite:///{folder / 'export.sqlite3'}"
    engine = make_engine(db)
    init_db(engine)
    results: dict[int, dict[str, Run]] = {}
    stored = 0
    env = _clean_env(DVCRAWL_STORAGE_DIR=str(folder / "storage"), PYTHONPATH=str(ROOT))
    for size in sorted(sizes):
        grow(engine, babbler, stored, size - stored)
        stored = size
        results[size] = {}
        for fmt in ("jsonl", "parquet"):
            output = folder / f"export-{size}.{fmt}"
            command = [sys.executable, "-m", "dvcrawl", "export", "--format", fmt, "--db", db]
            run = timed([*command, "-o", str(output)], env=env)
            written = _rows_in(output, fmt)
            if written != size:
                raise SystemExit(f"export {fmt} wrote {written} rows of {size}:\n{run.output}")
            results[size][fmt] = run
    engine.dispose()
    return results


def _rows_in(path: Path, fmt: str) -> int:
    """Rows in an export file (so a run that silently wrote fewer is refused)."""
    if fmt == "parquet":
        import pyarrow.parquet

        return pyarrow.parquet.ParquetFile(path).metadata.num_rows
    with path.open(encoding="utf-8") as stream:
        return sum(1 for _ in stream)


# --- the table -------------------------------------------------------------------------------


def table(found: dict, pages: int, jobs: int) -> list[str]:
    """The README's table rows (Markdown) of the sections in `found`."""
    lines = []
    ex = found.get("extraction")
    if ex:
        lines += [
            f"| extraction, site modules ({ex['site pages']} gold pages; tree walks:"
            f" {ex.get('walks', 'compiled')}) | {ex['dvcrawl site']:.2f} ms/page"
            f" | trafilatura {ex['trafilatura site']:.2f} ms/page | {ex['trafilatura site'] / ex['dvcrawl site']:.1f}× faster |",
            f"| extraction, site modules | {ex['dvcrawl site']:.2f} ms/page | lxml parse alone"
            f" {ex['lxml site']:.2f} ms/page | {ex['dvcrawl site'] / ex['lxml site']:.1f}× the parse |",
            f"| extraction, site modules, body where declared ({ex['declared pages']} gold pages)"
            f" | {ex['dvcrawl declared']:.2f} ms/page | trafilatura {ex['trafilatura declared']:.2f}"
            f" ms/page; lxml parse {ex['lxml declared']:.2f} ms/page"
            f" | {ex['trafilatura declared'] / ex['dvcrawl declared']:.1f}× faster;"
            f" {ex['dvcrawl declared'] / ex['lxml declared']:.1f}× the parse |",
            f"| extraction, generic ({ex['generic pages']} gold pages) | {ex['dvcrawl generic']:.2f} ms/page"
            f" | trafilatura {ex['trafilatura generic']:.2f} ms/page | {ex['trafilatura generic'] / ex['dvcrawl generic']:.1f}× faster |",
            f"| extraction, all {ex['pages']} gold pages | {ex['dvcrawl']:.2f} ms/page"
            f" | trafilatura {ex['trafilatura']:.2f} ms/page | {ex['trafilatura'] / ex['dvcrawl']:.1f}× faster |",
        ]
        if ex.get("python site"):
            lines.append(
                f"| extraction without a C compiler (Python tree walks): site modules; generic"
                f" | {ex['python site']:.2f}; {ex['python generic']:.2f} ms/page"
                f" | trafilatura {ex['trafilatura site']:.2f}; {ex['trafilatura generic']:.2f} ms/page"
                f" | {ex['trafilatura site'] / ex['python site']:.1f}×;"
                f" {ex['trafilatura generic'] / ex['python generic']:.1f}× faster |"
            )
    runs = found.get("import")
    if runs:
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
    for size, (median, p95, copies) in found.get("dedup", {}).items():
        lines.append(
            f"| dedup, per new article, {size:,} stored | {median:.2f} ms median, {p95:.2f} ms p95"
            f" | | copies found {copies} |"
        )
    crawl = found.get("crawl")
    if crawl:
        ours, theirs = crawl["dvcrawl"], crawl["scrapy bench"]
        lines.append(
            f"| crawl on replay (`crawl --replay --full`), {found['crawl articles']:,}-article"
            f" synthetic portal, {ours.responses:,} responses | {ours.per_second:.0f} pages/s"
            f" ({ours.per_second_wall:.0f} with start-up)"
            f" | `scrapy bench` {theirs.per_second:.0f} pages/s"
            f" | {ours.per_second / theirs.per_second:.2f}× its rate |"
        )
        small = crawl["small"]
        lines.append(
            f"| crawl on replay, peak memory | {found['crawl articles']:,} articles"
            f" ({ours.stored:,} stored): {ours.run.peak_mb:.0f} MB"
            f" | {found['crawl articles'] // 4:,} articles ({small.stored:,} stored):"
            f" {small.run.peak_mb:.0f} MB | {ours.run.peak_mb / small.run.peak_mb:.2f}× the memory"
            f" for {ours.responses / small.responses:.1f}× the pages |"
        )
    exports = found.get("export")
    if exports:
        small, large = min(exports), max(exports)
        for fmt in ("jsonl", "parquet"):
            a, b = exports[small][fmt], exports[large][fmt]
            lines.append(
                f"| `export --format {fmt}`, peak memory | {large:,} articles: {b.peak_mb:.0f} MB"
                f" ({b.seconds:.1f} s) | {small:,} articles: {a.peak_mb:.0f} MB ({a.seconds:.1f} s)"
                f" | {b.peak_mb / a.peak_mb:.2f}× the memory for {large / small:.0f}× the rows |"
            )
    return lines


#: The sections, in the table's order, and how each one's rows begin.
SECTIONS = {
    "extraction": "| extraction",
    "import": "| `import",
    "dedup": "| dedup",
    "crawl": "| crawl",
    "export": "| `export",
}


def _section(row: str) -> str | None:
    return next((name for name, start in SECTIONS.items() if row.startswith(start)), None)


def merged(old: str, new_rows: list[str], measured: set[str]) -> str:
    """The table with the measured sections' rows replaced and the others' kept from `old`."""
    kept: dict[str, list[str]] = {name: [] for name in SECTIONS}
    for row in old.splitlines():
        name = _section(row)
        if name and name not in measured:
            kept[name].append(row)
    for row in new_rows:
        kept[_section(row) or "extraction"].append(row)
    header = ["| what | dvcrawl | baseline | ratio |", "|---|---|---|---|"]
    return "\n".join(header + [row for name in SECTIONS for row in kept[name]])


def write_readme(rows: list[str], measured: set[str]) -> str:
    """Replace the measured sections' rows of the table between the markers in README.md."""
    readme = README.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(TABLE_START) + r"\n(.*?)" + re.escape(TABLE_END), re.S)
    found = pattern.search(readme)
    if not found:
        raise SystemExit(f"README.md has no {TABLE_START} ... {TABLE_END} markers")
    text = merged(found[1], rows, measured)
    README.write_text(
        pattern.sub(lambda _: f"{TABLE_START}\n{text}\n{TABLE_END}", readme), encoding="utf-8"
    )
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="responses in the archive")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3, help="extraction rounds")
    parser.add_argument(
        "--import-rounds", type=int, default=3, help="runs of each import command (median kept)"
    )
    parser.add_argument("--dedup-sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument(
        "--crawl-articles", type=int, default=1000, help="articles of the replayed portal"
    )
    parser.add_argument(
        "--export-sizes", type=int, nargs=2, default=[2_000, 10_000], help="corpus sizes"
    )
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--skip", nargs="+", choices=SECTIONS, default=[], help="leave these out")
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help="write the rows of the sections run into README.md, keeping the others",
    )
    parser.add_argument("--plain-loop", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain_loop:
        plain_loop(*args.plain_loop)
        return
    sections = set(args.only or SECTIONS) - set(args.skip)
    found: dict = {}
    started = time.perf_counter()

    def done(what: str) -> None:
        print(f"{what} measured ({time.perf_counter() - started:.0f} s)", file=sys.stderr)

    if "extraction" in sections:
        found["extraction"] = extraction(args.rounds)
        done("extraction")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if "import" in sections:
            found["import"] = importing(args.pages, args.jobs, folder, args.import_rounds)
            done("import")
        if "dedup" in sections:
            with contextlib.redirect_stdout(sys.stderr):  # its own report, beside the others
                found["dedup"] = deduplication(args.dedup_sizes, folder)
            done("dedup")
        if "crawl" in sections:
            found["crawl"] = crawling(args.crawl_articles, folder)
            found["crawl articles"] = args.crawl_articles
            done("crawl")
        if "export" in sections:
            found["export"] = export_memory(args.export_sizes, folder)
            done("export")
    runs = {f"import {k}": v for k, v in found.get("import", {}).items()}
    runs |= {f"crawl {k}": v.run for k, v in found.get("crawl", {}).items()}
    for size, by_format in found.get("export", {}).items():
        runs |= {f"export {fmt} {size}": run for fmt, run in by_format.items()}
    for label, run in runs.items():
        summary = run.output.strip().splitlines()[-1] if run.output.strip() else ""
        each = (
            f" (runs: {', '.join(f'{s:.1f}' for s in run.all_seconds)} s)"
            if run.all_seconds
            else ""
        )
        print(
            f"{label}: {run.seconds:.1f} s{each}, CPU {run.cpu:.1f} s, peak {run.peak_mb:.0f} MB  {summary}",
            file=sys.stderr,
        )
    rows = table(found, args.pages, args.jobs)
    if args.write_readme:
        print(write_readme(rows, sections))
    else:
        print("\n".join(rows))


if __name__ == "__main__":
    main()
