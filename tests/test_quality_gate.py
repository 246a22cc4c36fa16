"""The quality gate: dvcrawl on the hand-written gold set, against pinned floors.

The table with trafilatura beside dvcrawl is printed by ``python -m tests.eval.score``.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from tests.eval.score import (
    FLOORS,
    PageScore,
    by_site,
    dvcrawl_system,
    evaluate,
    failures,
    load_gold,
    summarize,
)
from tests.support.gold_rules import record_problems

#: What the project committed to (issue 3); floors.json may only be above these.
MINIMUMS = {
    "body_f1_overall": 0.98,
    "body_f1_per_site": 0.95,
    "exact_match": 0.80,
    "date_accuracy": 1.0,
    "title_accuracy": 0.98,
    "non_article_rejection": 1.0,
}

PAGES = load_gold()
FLOOR = json.loads(FLOORS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scores() -> list[PageScore]:
    return evaluate(PAGES, {"dvcrawl": dvcrawl_system})["dvcrawl"]


def test_floors_are_not_lowered() -> None:
    for key, minimum in MINIMUMS.items():
        assert FLOOR[key] >= minimum, f"{key} floor {FLOOR[key]} is below the committed {minimum}"
    assert FLOOR["leaks"] == 0


def test_gold_set_covers_every_portal_and_enough_pages() -> None:
    from dvcrawl.sites import SITES

    articles = [p for p in PAGES if p.gold["is_article"]]
    assert len(articles) >= 40
    assert sum(1 for p in PAGES if not p.gold["is_article"]) >= 8
    # A portal is measured by the gate's pages or by its golden files (compared field by field).
    from tests.support.fixture_sites import FIXTURES, expected_articles

    covered = {p.gold["site"] for p in articles} | {
        record["site"]
        for folder in FIXTURES.iterdir()
        if folder.is_dir()
        for _, record in expected_articles(folder.name)
        if record["is_article"]
    }
    assert set(SITES) <= covered, f"sites without gold pages: {set(SITES) - covered}"
    generic_hosts = {
        urlsplit(p.gold["url"]).hostname for p in articles if p.gold["site"] == "generic"
    }
    assert len(generic_hosts) >= 3


def test_gold_records_follow_the_text_rules() -> None:
    """Every gold record against its page (tests/support/gold_rules.py), all offenders at once."""
    problems = [
        f"{page.group}/{page.name}: {problem}"
        for page in PAGES
        for problem in record_problems(page.gold, page.html, complete=False)
    ]
    assert not problems, "\n".join(problems)


def test_body_f1(scores: list[PageScore]) -> None:
    overall = summarize(scores)
    assert overall.f1 >= FLOOR["body_f1_overall"], "\n".join(failures(scores))
    for site, summary in by_site(scores).items():
        if summary.articles:
            assert summary.f1 >= FLOOR["body_f1_per_site"], (
                f"{site}: {summary.f1:.3f}\n" + "\n".join(failures(scores))
            )


def test_exact_match(scores: list[PageScore]) -> None:
    assert summarize(scores).exact >= FLOOR["exact_match"], "\n".join(failures(scores))


def test_dates(scores: list[PageScore]) -> None:
    assert summarize(scores).date >= FLOOR["date_accuracy"], "\n".join(
        f for f in failures(scores) if ": date " in f
    )


def test_titles(scores: list[PageScore]) -> None:
    assert summarize(scores).title >= FLOOR["title_accuracy"], "\n".join(
        f for f in failures(scores) if ": title " in f
    )


def test_authors(scores: list[PageScore]) -> None:
    assert summarize(scores).author >= FLOOR["author_accuracy"], "\n".join(
        f for f in failures(scores) if ": author " in f
    )


def test_no_boilerplate_leaks(scores: list[PageScore]) -> None:
    assert summarize(scores).leaks <= FLOOR["leaks"], "\n".join(
        f for f in failures(scores) if ": leak " in f
    )


def test_every_non_article_is_rejected(scores: list[PageScore]) -> None:
    assert summarize(scores).rejected >= FLOOR["non_article_rejection"], "\n".join(
        f for f in failures(scores) if "rejected" in f
    )


def test_every_cms_family_has_gold_pages_that_carry_its_fingerprint() -> None:
    from dvcrawl.extract.families import FAMILIES, family_of
    from dvcrawl.extract.page import Page

    for family in FAMILIES:
        pages = [p for p in PAGES if p.group == f"cms_{family.name}"]
        assert len(pages) >= 2, f"no gold pages for the {family.name} family"
        for page in pages:
            found = family_of(Page(page.html, page.gold["url"]))
            assert found is family, f"{page.group}/{page.name}: {found and found.name}"
