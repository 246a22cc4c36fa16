"""``dvcrawl stats`` on the corpus imported from the fixture sites: the numbers against the golden
files, the three formats, the last successful run, and the plot."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from dvcrawl.db import make_engine
from dvcrawl.stats import corpus_stats, figure
from tests.conftest import FIXTURE_SITES, Runner, copy_db
from tests.support.fixture_sites import expected_articles, load_responses
from tests.test_cli import one_line_error


def golden() -> dict[str, list[dict]]:
    """The stored records of the corpus by site, read directly from the database file."""
    import sqlite3

    found: dict[str, list[dict]] = defaultdict(list)
    with sqlite3.connect(CORPUS[0]) as connection:
        connection.row_factory = sqlite3.Row
        for row in connection.execute("SELECT site, published_at, author, title FROM articles"):
            found[row["site"]].append(dict(row))
    return dict(found)


CORPUS: list[Path] = []


@pytest.fixture(autouse=True)
def _corpus(corpus_db: Path) -> None:
    CORPUS[:] = [corpus_db]


def test_every_fixture_site_is_in_the_corpus() -> None:
    records = golden()
    assert set(records) == set(FIXTURE_SITES)
    # The pages each site serves that have a golden file are stored.
    for site in FIXTURE_SITES:
        served = {response.url for response in load_responses(site)}
        with_golden = [r for _, r in expected_articles(site) if r["url"] in served]
        assert len(records[site]) >= len(with_golden) >= 1, site


def test_the_table_counts_what_the_golden_files_hold(dvcrawl: Runner, corpus_db: Path) -> None:
    result = dvcrawl("stats", "--db", f"sqlite:///{corpus_db}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "site",
        "articles",
        "copies",
        "title",
        "date",
        "author",
        "first",
        "last",
        "last",
        "ok",
        "run",
    ]
    rows = {line.split()[0]: line.split() for line in lines[1 : lines.index("")]}
    for site, records in golden().items():
        dates = sum(1 for r in records if r["published_at"]) / len(records)
        authors = sum(1 for r in records if r["author"]) / len(records)
        assert rows[site][1:3] == [str(len(records)), "0"], site
        assert rows[site][3:6] == ["100%", f"{dates:.0%}", f"{authors:.0%}"], site
        assert rows[site][-1] == "never"  # imported, never crawled
    # The second table: articles per month, one column per site, a total.
    months = lines[lines.index("") + 1 :]
    assert months[0].split()[0] == "month" and months[0].split()[-1] == "total"
    total = sum(int(line.split()[-1]) for line in months[1:])
    assert total == sum(len(records) for records in golden().values())


def test_csv_and_json_by_week(dvcrawl: Runner, corpus_db: Path) -> None:
    db = f"sqlite:///{corpus_db}"
    result = dvcrawl("stats", "--by", "week", "--format", "csv", "--db", db)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    expected: Counter[tuple[str, str]] = Counter()
    for site, records in golden().items():
        for record in records:
            if not record["published_at"]:
                expected[(site, "undated")] += 1
                continue
            year, week, _ = date.fromisoformat(record["published_at"][:10]).isocalendar()
            expected[(site, f"{year}-W{week:02d}")] += 1
    assert {(r["site"], r["period"]): int(r["articles"]) for r in rows} == dict(expected)
    document = json.loads(
        dvcrawl("stats", "--format", "json", "--site", "danvan", "--db", db).stdout
    )
    assert document["by"] == "month" and [s["site"] for s in document["sites"]] == ["danvan"]
    months: dict[str, int] = defaultdict(int)
    for record in golden()["danvan"]:
        months[(record["published_at"] or "undated")[:7]] += 1
    assert "undated" in months  # a danvan page prints no date
    assert document["sites"][0]["periods"] == dict(sorted(months.items()))
    assert document["total"]["articles"] == len(golden()["danvan"])


def test_copies_and_the_last_successful_run(
    dvcrawl: Runner, corpus_db: Path, tmp_path: Path, thanhuytphcm_warc: Path
) -> None:
    from tests.test_dedup import build_archive

    url = copy_db(corpus_db, tmp_path / "runs.sqlite3")
    page = Path(__file__).parent / "fixtures" / "danvan" / "article_he_thong_dan_van_thu_do.html"
    copy = build_archive(
        tmp_path / "copy.warc.gz",
        ("https://phuong-moi.example.vn/tin-tuc/he-thong-dan-van.html", page.read_bytes()),
    )
    assert dvcrawl("import", str(copy), "--db", url).returncode == 0
    crawled = dvcrawl("crawl", "thanhuytphcm", "--replay", str(thanhuytphcm_warc), "--db", url)
    assert crawled.returncode == 0, crawled.stderr
    document = json.loads(dvcrawl("stats", "--format", "json", "--db", url).stdout)
    sites = {s["site"]: s for s in document["sites"]}
    assert sites["generic"]["duplicates"] == 1 and sites["generic"]["articles"] == 0
    assert document["total"]["duplicates"] == 1
    assert sites["thanhuytphcm"]["last_successful_run"].startswith(str(date.today().year))
    assert sites["danvan"]["last_successful_run"] is None


def test_the_plot_has_a_panel_per_site(dvcrawl: Runner, corpus_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "monthly.png"
    result = dvcrawl(
        "stats", "--by", "week", "--plot", str(target), "--db", f"sqlite:///{corpus_db}"
    )
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(target) as image:
        assert image.format == "PNG"
        width, height = image.size
    # 13 portals: a grid of 3 columns and 5 rows of panels, each readable on its own.
    assert len(FIXTURE_SITES) >= 10
    assert (width, height) == (1260, 1030)
    engine = make_engine(f"sqlite:///{corpus_db}")
    try:
        stats = corpus_stats(engine, by="month")
    finally:
        engine.dispose()
    drawn = figure(stats)
    titles = [axis.get_title(loc="left") for axis in drawn.axes if axis.get_visible()]
    assert [t.split(" (")[0] for t in titles] == [s.site for s in stats.sites]
    assert titles[0] == f"{stats.sites[0].site} ({stats.sites[0].articles})"
    # The lowest panel of each column carries the dates, even above an empty grid cell.
    drawn.canvas.draw()
    visible = [axis for axis in drawn.axes if axis.get_visible()]
    lowest = visible[-3:]  # 13 panels in 3 columns: the last three close their columns
    assert all(any(label.get_text() for label in axis.get_xticklabels()) for axis in lowest)
    assert not any(
        label.get_visible() and label.get_text() for label in visible[0].get_xticklabels()
    )


def test_plot_mistakes(dvcrawl: Runner, corpus_db: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{corpus_db}"
    assert "give a name ending in .png" in one_line_error(
        dvcrawl("stats", "--plot", str(tmp_path / "x.pdf"), "--db", db)
    )
    # A mistyped folder is refused, not created.
    assert "no such folder" in one_line_error(
        dvcrawl("stats", "--plot", str(tmp_path / "nowhere" / "x.png"), "--db", db)
    )
    assert not (tmp_path / "nowhere").exists()
    assert "unknown site 'danvann'" in one_line_error(
        dvcrawl("stats", "--site", "danvann", "--db", db)
    )
    assert "no database at" in one_line_error(
        dvcrawl("stats", "--db", f"sqlite:///{tmp_path / 'missing.sqlite3'}")
    )
    # Without matplotlib (it is an extra): how to install it, in one line.
    blocker = tmp_path / "blocker" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
    env = {"PYTHONPATH": f"{blocker.parent}:{dvcrawl.env['PYTHONPATH']}"}
    line = one_line_error(dvcrawl("stats", "--plot", str(tmp_path / "x.png"), "--db", db, env=env))
    assert "pip install 'dvcrawl[plot]'" in line
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(("by", "expected"), [("month", "2024-02"), ("week", "2024-W09")])
def test_periods(by: str, expected: str) -> None:
    from dvcrawl.stats import UNDATED, period_of

    assert period_of("2024-02-28T16:38:00+07:00", by) == expected
    assert period_of(None, by) == UNDATED == period_of("28/02/2024", by)
