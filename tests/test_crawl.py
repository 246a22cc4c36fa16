"""End to end: the real Scrapy engine crawls the fixture site into a temporary SQLite file.

Two ways in, both through the full engine (scheduler, robots.txt, redirects, pipelines):
the loopback fixture server (HTTP proxy with TLS, 127.0.0.1 only) and replay from a WARC.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dvcrawl.warc import iter_responses
from tests.conftest import FAST, Runner, report
from tests.support.server import FixtureServer

ARTICLES = {
    "https://thanhuytphcm.vn/tin-tuc/quan-3-quan-triet-tuyen-truyen-va-trien-khai-cac-quy-dinh-moi-ve-cong-tac-dan-van-cua-he-thong-chinh-tri-1491893215",
    "https://thanhuytphcm.vn/tin-tuc/quan-binh-thanh-tuyen-duong-45-mo-hinh-dan-van-kheo-tieu-bieu-nam-2023-1491905588",
    "https://thanhuytphcm.vn/tin-tuc/tp-hcm-phat-huy-vai-tro-to-dan-van-trong-van-hanh-chinh-quyen-dia-phuong-hai-cap-1491923415",
    "https://thanhuytphcm.vn/tin-tuc/huyen-cu-chi-ra-mat-mo-hinh-dan-van-kheo-trong-xay-dung-nong-thon-moi-nang-cao-1491897342",
}


def rows(db_url: str) -> list[dict]:
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute("SELECT * FROM articles ORDER BY id")]
    finally:
        connection.close()


def test_loopback_crawl_stores_each_article_once(
    dvcrawl: Runner, db_url: str, thanhuytphcm_server: FixtureServer
) -> None:
    result = dvcrawl("crawl", "thanhuytphcm", "--db", db_url, *FAST, env=thanhuytphcm_server.env())
    assert result.returncode == 0, result.stderr
    row = report(result.stdout)["thanhuytphcm"]
    assert (row["new"], row["dead links"], row["result"]) == ("4", "1", "ok")

    stored = rows(db_url)
    assert {row["canonical_url"] for row in stored} == ARTICLES
    assert all(row["title"] and row["text"] and row["site"] == "thanhuytphcm" for row in stored)
    by_url = {row["canonical_url"]: row for row in stored}
    quan3 = by_url[next(u for u in ARTICLES if "quan-3" in u)]
    assert quan3["published_at"] == "2022-06-10" and quan3["author"] == "Hà Hiền"
    assert "Ý kiến bạn đọc" not in quan3["text"] and "Tin khác" not in quan3["text"]

    requested = thanhuytphcm_server.urls()
    # robots.txt was read, and it forbids the archive section the menu links to.
    assert "https://thanhuytphcm.vn/robots.txt" in requested
    assert not any("luu-tru" in url for url in requested)
    # Articles linked from the home page's other sections and the sidebar are not ours.
    assert not any(
        "thanh-uy-tp-hcm-hop-phien" in url or "thong-bao-ket-luan" in url for url in requested
    )
    # One article linked under two domains and with tracking parameters is fetched once.
    assert sum("quan-binh-thanh" in url for url in requested) == 1
    # The www. link was redirected and the target fetched (a redirect is not a duplicate).
    assert (
        "https://thanhuytphcm.vn/tin-tuc/huyen-cu-chi-ra-mat-mo-hinh-dan-van-kheo-trong-xay-dung-nong-thon-moi-nang-cao-1491897342"
        in requested
    )
    # Polite identity: the User-Agent names the project and a contact URL.
    user_agent = thanhuytphcm_server.hits[-1].headers["user-agent"]
    assert user_agent.startswith("dvcrawl/") and "https://" in user_agent


def test_second_crawl_creates_no_duplicates(
    dvcrawl: Runner, db_url: str, thanhuytphcm_server: FixtureServer
) -> None:
    for _ in range(2):
        result = dvcrawl(
            "crawl", "thanhuytphcm", "--db", db_url, *FAST, env=thanhuytphcm_server.env()
        )
        assert result.returncode == 0, result.stderr
    # The second run knows the four articles: it reads robots.txt, the home page and the first
    # listing page (all known), and fetches no article at all.
    row = report(result.stdout)["thanhuytphcm"]
    assert (row["new"], row["pages"], row["article req"]) == ("0", "3", "0")
    stored = rows(db_url)
    assert len(stored) == 4 and len({row["canonical_url"] for row in stored}) == 4


def test_crawl_writes_a_warc_that_replays_and_imports_to_the_same_rows(
    dvcrawl: Runner, tmp_path: Path, thanhuytphcm_server: FixtureServer
) -> None:
    live_db = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    result = dvcrawl("crawl", "thanhuytphcm", "--db", live_db, *FAST, env=thanhuytphcm_server.env())
    assert result.returncode == 0, result.stderr
    archives = list((tmp_path / "storage" / "warc").glob("thanhuytphcm-*.warc.gz"))
    assert len(archives) == 1, "one finished archive per crawl, no .open file left"
    archived = list(iter_responses(archives[0]))
    assert len(archived) == len(thanhuytphcm_server.urls())
    assert {r.status for r in archived} == {200, 301, 404}

    replay_db = f"sqlite:///{tmp_path / 'replay.sqlite3'}"
    replayed = dvcrawl("crawl", "thanhuytphcm", "--db", replay_db, "--replay", str(archives[0]))
    assert replayed.returncode == 0, replayed.stderr
    assert "not archived 0" in replayed.stdout

    import_db = f"sqlite:///{tmp_path / 'import.sqlite3'}"
    imported = dvcrawl("import", str(archives[0]), "--db", import_db)
    assert imported.returncode == 0, imported.stderr

    def key(db: str) -> list[tuple]:
        return sorted(
            (r["canonical_url"], r["title"], r["text"], r["published_at"], r["author"])
            for r in rows(db)
        )

    assert key(live_db) == key(replay_db) == key(import_db)
    assert len(key(live_db)) == 4


def test_replay_crawl_from_fixture_warc(
    dvcrawl: Runner, db_url: str, thanhuytphcm_warc: Path
) -> None:
    for _ in range(2):
        result = dvcrawl(
            "crawl", "thanhuytphcm", "--db", db_url, "--replay", str(thanhuytphcm_warc)
        )
        assert result.returncode == 0, result.stderr
    assert {row["canonical_url"] for row in rows(db_url)} == ARTICLES
    assert not (Path(dvcrawl.workdir) / "storage" / "warc").exists(), "a replay archives nothing"


def test_start_url_and_max_pages(dvcrawl: Runner, db_url: str, thanhuytphcm_warc: Path) -> None:
    listing = "https://thanhuytphcm.vn/nhom-tin/dan-van-1197604650?page=2"
    result = dvcrawl(
        "crawl", "--start-url", listing, "--db", db_url, "--replay", str(thanhuytphcm_warc)
    )
    assert result.returncode == 0, result.stderr
    # Page 2 links Củ Chi (via a redirect), Bình Thạnh, and a dead link.
    assert len(rows(db_url)) == 2

    limited = f"sqlite:///{Path(dvcrawl.workdir) / 'limited.sqlite3'}"
    result = dvcrawl(
        "crawl",
        "thanhuytphcm",
        "--max-pages",
        "3",
        "--db",
        limited,
        "--replay",
        str(thanhuytphcm_warc),
    )
    assert result.returncode == 0, result.stderr
    assert len(rows(limited)) < 4


def test_export_jsonl_round_trip(
    dvcrawl: Runner, db_url: str, thanhuytphcm_warc: Path, tmp_path: Path
) -> None:
    assert (
        dvcrawl(
            "crawl", "thanhuytphcm", "--db", db_url, "--replay", str(thanhuytphcm_warc)
        ).returncode
        == 0
    )
    out = tmp_path / "corpus.jsonl"
    result = dvcrawl("export", "--format", "jsonl", "--db", db_url, "-o", str(out))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["canonical_url"] for r in records} == ARTICLES
    assert all(
        r["schema_version"] == 1 and r["duplicate_of"] is None and r["content_hash"]
        for r in records
    )
    since = dvcrawl(
        "export", "--format", "jsonl", "--db", db_url, "--since", "2024-01-01", "-o", "-"
    )
    assert len(since.stdout.splitlines()) == 2
    until = dvcrawl(
        "export", "--format", "jsonl", "--db", db_url, "--until", "2022-06-10", "-o", "-"
    )
    assert len(until.stdout.splitlines()) == 1


SITE_DIRS = sorted(p.parent.name for p in (Path(__file__).parent / "fixtures").glob("*/site.json"))


@pytest.mark.parametrize("site", SITE_DIRS)
def test_every_fixture_site_crawls_to_its_golden_articles(
    site: str, dvcrawl: Runner, tmp_path: Path
) -> None:
    """Navigation per portal: from the site's first start page to every golden article, once."""
    from dvcrawl.sites import get_site
    from tests.support.fixture_sites import build_warc, expected_articles, load_responses

    archive = build_warc(tmp_path / f"{site}.warc.gz", site)
    db = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    start = get_site(site).start_urls[0]
    for _ in range(2):
        result = dvcrawl("crawl", site, "--start-url", start, "--db", db, "--replay", str(archive))
        assert result.returncode == 0, result.stdout + result.stderr
    served = {response.url for response in load_responses(site) if response.status == 200}
    goldens = [
        record
        for _, record in expected_articles(site)
        if record["url"] in served or record["canonical_url"] in served
    ]
    expected = {record["canonical_url"] for record in goldens}
    stored = rows(db)
    assert {row["canonical_url"] for row in stored} == expected
    assert len(stored) == len(expected)
    by_url = {row["canonical_url"]: row for row in stored}
    for record in goldens:
        row = by_url[record["canonical_url"]]
        assert (row["title"], row["text"], row["published_at"]) == (
            record["title"],
            record["text"],
            record["published_at"],
        )
