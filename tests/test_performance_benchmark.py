"""The measuring parts of benchmarks/performance.py (not its numbers: those are not tested)."""

from __future__ import annotations

import sys

from benchmarks.performance import Run, _median_run, merged, timed

OLD = """| what | dvcrawl | baseline | ratio |
|---|---|---|---|
| extraction, site modules (84 gold pages) | 4.51 ms/page | trafilatura 10.35 ms/page | 2.3× faster |
| `import --jobs 1`, 2000-response portal archive | 98 pages/s | plain loop 70 pages/s | 1.4× faster |
| dedup, per new article, 10,000 stored | 2.47 ms median | | copies found 200/200 |
| dedup, per new article, 100,000 stored | 2.53 ms median | | copies found 200/200 |"""


def test_a_command_reports_its_own_peak_memory_not_the_benchmarks() -> None:
    # Linux carries the peak RSS over fork and exec: a tiny command started straight from a
    # large process reported the large process's size.
    ballast = b"x" * (300 * 2**20)
    run = timed([sys.executable, "-c", "print('small')"])
    assert run.output.strip() == "small"
    assert run.peak_mb < 150, run.peak_mb
    assert len(ballast) == 300 * 2**20


def test_writing_some_sections_keeps_the_rows_of_the_others() -> None:
    new = [
        "| dedup, per new article, 10,000 stored | 3.00 ms median | | copies found 200/200 |",
        "| crawl on replay (`crawl --replay --full`) | 70 pages/s | `scrapy bench` 120 pages/s | 0.58× its rate |",
    ]
    table = merged(OLD, new, {"dedup", "crawl"}).splitlines()
    assert table[:2] == ["| what | dvcrawl | baseline | ratio |", "|---|---|---|---|"]
    assert table[2:] == [OLD.splitlines()[2], OLD.splitlines()[3], *new], (
        "extraction and import kept in their places, the old dedup rows replaced (100,000 too)"
    )


def test_an_import_command_is_reported_by_its_median_run() -> None:
    # One slow run (a neighbour's load on a shared machine) decided the ratio when each
    # command ran once.
    runs = [Run(9.0, 9.0, 100, "a"), Run(7.0, 7.1, 101, "b"), Run(7.5, 7.4, 102, "c")]
    median = _median_run(runs)
    assert (median.seconds, median.output) == (7.5, "c")
    assert median.all_seconds == [9.0, 7.0, 7.5]
    assert _median_run(runs[:2]).seconds == 7.0, "of an even number, the lower middle run"
