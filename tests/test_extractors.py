"""Golden files: each stored page gives exactly its reviewed record, field by field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dvcrawl.extraction import extract_article
from dvcrawl.items import ARTICLE_KEYS
from dvcrawl.sites import SITES
from tests.support.fixture_sites import FIXTURES, expected_articles
from tests.support.gold_rules import record_problems

GOLDEN = [
    pytest.param(html, record, id=f"{html.parent.name}/{html.stem}")
    for site_dir in sorted(
        p for p in FIXTURES.iterdir() if (p / "site.json").exists() or list(p.glob("*.json"))
    )
    for html, record in expected_articles(site_dir.name)
]


@pytest.mark.parametrize(("html", "expected"), GOLDEN)
def test_golden_record(html: Path, expected: dict) -> None:
    article = extract_article(html.read_text(encoding="utf-8"), expected["url"]).to_dict()
    differences = [
        f"{field}: expected {expected[field]!r}, extracted {article[field]!r}"
        for field in ARTICLE_KEYS
        if article[field] != expected.get(field)
    ]
    assert not differences, "\n".join(differences)


def test_golden_files_are_complete_records_of_their_pages() -> None:
    """Every golden file against its page (tests/support/gold_rules.py), all offenders at once."""
    problems = [
        f"{html.parent.name}/{html.name}: {problem}"
        for html, expected in (g.values for g in GOLDEN)
        for problem in (
            record_problems(expected, html.read_text(encoding="utf-8"), complete=True)
            if html.exists()
            else ["no stored page beside the record"]
        )
    ]
    assert not problems, "\n".join(problems)


def test_every_site_has_golden_files() -> None:
    covered = {html.parent.name for html, _ in (g.values for g in GOLDEN)}
    assert set(SITES) <= covered


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("home.html", "https://thanhuytphcm.vn/"),
        ("listing_dan_van_page1.html", "https://thanhuytphcm.vn/nhom-tin/dan-van-1197604650"),
        (
            "listing_dan_van_page2.html",
            "https://thanhuytphcm.vn/nhom-tin/dan-van-1197604650?page=2",
        ),
    ],
)
def test_thanhuytphcm_non_articles(name: str, url: str) -> None:
    html = (FIXTURES / "thanhuytphcm" / name).read_text(encoding="utf-8")
    assert extract_article(html, url).is_article is False


def test_header_weekday_date_is_never_the_published_date() -> None:
    # The page header prints the day of the visit (19/8/2022); the article is from 10/6/2022.
    html = (FIXTURES / "thanhuytphcm" / "article_quan3_quy_dinh_dan_van.html").read_text(
        encoding="utf-8"
    )
    url = json.loads(
        (FIXTURES / "thanhuytphcm" / "article_quan3_quy_dinh_dan_van.json").read_text()
    )["url"]
    record = extract_article(html, url)
    assert record.published_at == "2022-06-10"
    # Without the upload date in the image path there is no date at all, rather than a wrong one.
    stripped = html.replace("/res/news/2022/06/10-06-2022-", "/res/news/lead-")
    assert extract_article(stripped, url).published_at is None


def test_extraction_is_pure_and_repeatable() -> None:
    html = (FIXTURES / "thanhuytphcm" / "article_binh_thanh_dan_van_kheo.html").read_text(
        encoding="utf-8"
    )
    url = "https://hcmcpv.org.vn/tin-tuc/quan-binh-thanh-tuyen-duong-45-mo-hinh-dan-van-kheo-tieu-bieu-nam-2023-1491905588"
    assert extract_article(html, url) == extract_article(html, url)


def test_the_record_checks_catch_a_wrong_record() -> None:
    html = FIXTURES / "thanhuytphcm" / "article_quan3_quy_dinh_dan_van.html"
    record = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
    page = html.read_text(encoding="utf-8")
    assert record_problems(record, page, complete=True) == []
    paragraphs = record["text"].split("\n\n")
    wrong = {
        **record,
        "text": "\n\n".join([record["title"], *paragraphs, record["author"], "Một đoạn bịa."]),
        "images": [{"url": "https://thanhuytphcm.vn/a.jpg", "caption": paragraphs[1]}],
        "published_at": "2099-01-01",
    }
    problems = record_problems(wrong, page, complete=True)
    assert problems == [
        "paragraph not printed on the page: 'Một đoạn bịa.'",
        "the title is repeated as the first paragraph",
        "the byline 'Hà Hiền' is left in the text",
        f"the caption {paragraphs[1][:40]!r} is left in the text",
        "published_at '2099-01-01' is in the future",
    ]
    assert record_problems({**record, "published_at": "2022-06-11"}, page, complete=True) == [
        "published_at '2022-06-11' is not printed on the page"
    ]
    reordered = {key: record[key] for key in reversed(record)}
    assert record_problems(reordered, page, complete=True) == [
        f"keys {list(reordered)} are not the record's keys in order"
    ]
