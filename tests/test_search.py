"""Full-text search on a corpus built from the fixture sites through the real import chain.

Every result set is compared with a brute-force reading of the stored titles and texts, so
the index (FTS5 or PostgreSQL) is checked against what the articles really say.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest

import dvcrawl.search
from dvcrawl.db import init_db, make_engine
from dvcrawl.extract.text import unify_tone_marks
from dvcrawl.search import CorpusFilter, SearchError, search
from tests.conftest import FIXTURE_SITES, Runner, copy_db
from tests.support.fixture_sites import FIXTURES, build_warc

# --- a brute-force reading of the corpus ------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFC", text or ""))


def _bare(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("đ", "d")


def _toned(word: str) -> str:
    return unify_tone_marks(word.casefold())


def stored(db: Path) -> list[dict]:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        return [
            dict(row)
            for row in connection.execute(
                "SELECT canonical_url, site, title, text, published_at, duplicate_of FROM articles"
            )
        ]


def brute(rows: list[dict], terms: list[str], *, accented: bool) -> set[str]:
    """Articles whose title or text holds every term (a term of several words: in order)."""
    key = _toned if accented else _bare
    found = set()
    for row in rows:
        if row["duplicate_of"]:
            continue
        fields = [[key(w) for w in _words(row[name])] for name in ("title", "text")]
        ok = True
        for term in terms:
            wanted = [key(w) for w in _words(term)]
            if not any(
                field[i : i + len(wanted)] == wanted
                for field in fields
                for i in range(len(field) - len(wanted) + 1)
            ):
                ok = False
                break
        if ok:
            found.add(row["canonical_url"])
    return found


@pytest.fixture(scope="module")
def engine(corpus_db: Path):
    engine = make_engine(f"sqlite:///{corpus_db}")
    yield engine
    engine.dispose()


def hits(engine, query: str, **where) -> set[str]:
    return {hit.canonical_url for hit in search(engine, query, CorpusFilter(**where), limit=1000)}


# --- queries ----------------------------------------------------------------------------------


def test_the_corpus_holds_every_fixture_site(corpus_db: Path) -> None:
    sites = {row["site"] for row in stored(corpus_db)}
    assert sites == set(FIXTURE_SITES)


def test_a_query_without_diacritics_matches_any_diacritics(engine, corpus_db: Path) -> None:
    found = hits(engine, "dan van kheo")
    assert found == brute(stored(corpus_db), ["dan", "van", "kheo"], accented=False)
    titles = {r["canonical_url"] for r in stored(corpus_db) if "Dân vận khéo" in r["title"]}
    assert len(titles) >= 10 and titles <= found


def test_d_in_an_unaccented_query_also_matches_đ(engine, corpus_db: Path) -> None:
    rows = stored(corpus_db)
    found = hits(engine, "doan ket")
    assert found == brute(rows, ["doan", "ket"], accented=False)
    # Only the "d"/"đ" reading finds them: the index keeps "đoàn" apart from "doan".
    with_đ = {r["canonical_url"] for r in rows if "đoàn kết" in (r["text"] or "").casefold()}
    assert with_đ and with_đ <= found


def test_a_query_with_diacritics_keeps_them(engine, corpus_db: Path) -> None:
    rows = stored(corpus_db)
    hoa_grave, hoa_acute = hits(engine, "hòa"), hits(engine, "hóa")
    assert hoa_grave == brute(rows, ["hòa"], accented=True)
    assert hoa_acute == brute(rows, ["hóa"], accented=True)
    assert hoa_grave and hoa_acute and hoa_grave != hoa_acute
    assert hits(engine, "hoa") == brute(rows, ["hoa"], accented=False)
    assert hits(engine, "hoa") >= hoa_grave | hoa_acute  # unaccented: every spelling
    # "đ" typed is "đ" kept: "đan" is not "dan".
    assert hits(engine, "đan") == brute(rows, ["đan"], accented=True)


def test_old_and_new_tone_placement_are_one_spelling(engine, corpus_db: Path) -> None:
    old_style = (
        "https://baodongthap.vn/chinh-tri/tap-trung-quan-triet-sau-sac-quy-che-cong-tac-dan-van"
    )
    new, old = hits(engine, '"cụ thể hóa"'), hits(engine, '"cụ thể hoá"')
    assert new == old == brute(stored(corpus_db), ["cụ thể hóa"], accented=True)
    assert any(url.startswith(old_style) for url in new)  # printed "cụ thể hoá"
    assert len(new) >= 2  # and others printed "cụ thể hóa"
    assert hits(engine, "uỷ ban") == hits(engine, "ủy ban")
    assert hits(engine, '"cụ thể hòa"') == set()


def test_a_phrase_needs_its_words_in_order(engine, corpus_db: Path) -> None:
    rows = stored(corpus_db)
    phrase = hits(engine, '"dân vận khéo"')
    assert phrase == brute(rows, ["dân vận khéo"], accented=True)
    assert hits(engine, '"dan van kheo"') == brute(rows, ["dan van kheo"], accented=False)
    assert hits(engine, '"khéo dân vận"') == brute(rows, ["khéo dân vận"], accented=True)
    assert len(hits(engine, "khéo dân vận")) > len(hits(engine, '"khéo dân vận"'))


def with_prefix(rows: list[dict], prefix: str) -> set[str]:
    return {
        r["canonical_url"]
        for r in rows
        if not r["duplicate_of"]
        and any(_bare(w).startswith(prefix) for w in _words(f"{r['title']} {r['text']}"))
    }


def test_a_prefix(engine, corpus_db: Path) -> None:
    assert hits(engine, "giam*") == with_prefix(stored(corpus_db), "giam")


def test_filters_by_site_and_date(engine, corpus_db: Path) -> None:
    from datetime import date

    rows = {r["canonical_url"]: r for r in stored(corpus_db)}
    everything = hits(engine, "dan van")
    by_site = hits(engine, "dan van", sites=("baodongthap", "danvan"))
    assert by_site == {u for u in everything if rows[u]["site"] in {"baodongthap", "danvan"}}
    dated = hits(engine, "dan van", since=date(2023, 1, 1), until=date(2024, 12, 31))
    assert dated == {
        u
        for u in everything
        if rows[u]["published_at"] and "2023-01-01" <= rows[u]["published_at"][:10] <= "2024-12-31"
    }
    assert dated and dated < everything
    # The bounds are whole days, for a bare date and for a date with its time alike.
    quan3 = "https://thanhuytphcm.vn/tin-tuc/quan-3-quan-triet-tuyen-truyen-va-trien-khai-cac-quy-dinh-moi-ve-cong-tac-dan-van-cua-he-thong-chinh-tri-1491893215"
    assert rows[quan3]["published_at"] == "2022-06-10"
    assert quan3 in hits(engine, "dan van", until=date(2022, 6, 10))
    assert quan3 not in hits(engine, "dan van", until=date(2022, 6, 9))
    assert quan3 in hits(engine, "dan van", since=date(2022, 6, 10))
    assert quan3 not in hits(engine, "dan van", since=date(2022, 6, 11))
    timed = next(
        u for u, r in rows.items() if len(r["published_at"] or "") > 10 and u in everything
    )
    day = date.fromisoformat(rows[timed]["published_at"][:10])
    assert timed in hits(engine, "dan van", since=day, until=day)


def test_results_are_ranked_and_limited(engine) -> None:
    results = search(engine, "dân vận khéo", limit=3)
    assert len(results) == 3
    assert [h.score for h in results] == sorted((h.score for h in results), reverse=True)
    # A title match weighs more than the same words in the text alone.
    assert all("Dân vận khéo" in (hit.title or "") for hit in results)


def test_bad_queries() -> None:
    with pytest.raises(SearchError):
        dvcrawl.search.parse_query(' " " - ')
    # Every "d" of an unaccented phrase doubles its spellings; past the cap, a clear error.
    with pytest.raises(SearchError, match="too many spellings"):
        dvcrawl.search.fts5_expression(dvcrawl.search.parse_query('"' + "dd " * 5 + '"'))


# --- the command ------------------------------------------------------------------------------


def test_search_command_jsonl_and_table(dvcrawl: Runner, corpus_db: Path) -> None:
    db = f"sqlite:///{corpus_db}"
    result = dvcrawl(
        "search", "dan van kheo", "--site", "baodongthap", "--format", "jsonl", "--db", db
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records and all(r["site"] == "baodongthap" for r in records)
    assert set(records[0]) == {
        "canonical_url",
        "url",
        "site",
        "title",
        "published_at",
        "snippet",
        "score",
        "relevance",
    }
    assert all("**" in r["snippet"] for r in records)
    assert re.search(r"\*\*Dân\*\* \*\*vận\*\* \*\*khéo\*\*", records[0]["snippet"])
    table = dvcrawl("search", "dan van kheo", "--limit", "2", "--db", db)
    assert table.returncode == 0, table.stderr
    assert table.stdout.startswith("score") and "1. " in table.stdout and "3. " not in table.stdout


def test_search_command_bad_input(dvcrawl: Runner, corpus_db: Path, tmp_path: Path) -> None:
    from tests.test_cli import one_line_error

    db = f"sqlite:///{corpus_db}"
    assert "nothing to search for" in one_line_error(dvcrawl("search", '""', "--db", db))
    assert "--since is after --until" in one_line_error(
        dvcrawl("search", "x", "--since", "2024-02-01", "--until", "2024-01-01", "--db", db)
    )
    assert "must be at least 1" in one_line_error(
        dvcrawl("search", "x", "--limit", "0", "--db", db)
    )
    assert "unknown site 'danvann'" in one_line_error(
        dvcrawl("search", "x", "--site", "danvann", "--db", db)
    )
    missing = tmp_path / "missing.sqlite3"
    assert "no database at" in one_line_error(
        dvcrawl("search", "x", "--db", f"sqlite:///{missing}")
    )
    assert not missing.exists()
    empty = dvcrawl("search", "xylophone", "--db", db)
    assert empty.returncode == 0 and "no article matches" in empty.stderr


# --- the index stays right --------------------------------------------------------------------


def integrity(db: Path) -> None:
    """FTS5's own check that the index matches the articles table (raises if not); rank 1
    compares an external-content index with the content itself."""
    with sqlite3.connect(db) as connection:
        for table in ("articles_fts", "articles_fts_accents"):
            connection.execute(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)")


def test_the_index_is_built_for_an_existing_database(
    dvcrawl: Runner, corpus_db: Path, tmp_path: Path
) -> None:
    target = tmp_path / "old.sqlite3"
    url = copy_db(corpus_db, target)
    # A database from before search (schema revision 0001): no index, no triggers, no scores.
    with sqlite3.connect(target) as connection:
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'articles_fts%' AND type = 'trigger'"
        ).fetchall():
            connection.execute(f"DROP TRIGGER {name}")
        connection.execute("DROP TABLE articles_fts")
        connection.execute("DROP TABLE articles_fts_accents")
        connection.execute("DROP TABLE topic_lists")
        connection.execute("DROP INDEX ix_articles_relevance")
        connection.execute("ALTER TABLE articles DROP COLUMN relevance")
        # ... from before dedup sketches (revision 0004) and web archives (revision 0003),
        # which came after search.
        connection.execute("DROP TABLE article_sketches")
        connection.execute("DROP TABLE archive_captures")
        for table, column in (
            ("articles", "archive_url"),
            ("articles", "archived_at"),
            ("crawl_runs", "source"),
        ):
            connection.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    refused = dvcrawl("search", "dan van kheo", "--db", url)
    assert refused.returncode == 2 and "dvcrawl db upgrade" in refused.stderr, refused.stderr
    upgraded = dvcrawl("db", "upgrade", "--db", url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "topic relevance scored for" in upgraded.stdout  # the new column, filled at once
    with sqlite3.connect(target) as connection:
        assert connection.execute(
            "SELECT count(*) FROM articles WHERE relevance IS NULL"
        ).fetchone() == (0,)
        # Every stored article was sketched for deduplication too.
        assert connection.execute(
            "SELECT count(*) FROM articles WHERE id NOT IN (SELECT article_id FROM article_sketches)"
        ).fetchone() == (0,)
    result = dvcrawl("search", "dan van kheo", "--format", "jsonl", "--limit", "100", "--db", url)
    assert result.returncode == 0, result.stderr
    found = {json.loads(line)["canonical_url"] for line in result.stdout.splitlines()}
    assert found == brute(stored(target), ["dan", "van", "kheo"], accented=False)
    integrity(target)


def test_the_index_follows_an_update_a_copy_and_a_deletion(
    dvcrawl: Runner, corpus_db: Path, tmp_path: Path
) -> None:
    target = tmp_path / "live.sqlite3"
    url = copy_db(corpus_db, target)
    page = FIXTURES / "thanhuytphcm" / "article_cu_chi_nong_thon_moi.html"
    page_url = "https://thanhuytphcm.vn/tin-tuc/huyen-cu-chi-ra-mat-mo-hinh-dan-van-kheo-trong-xay-dung-nong-thon-moi-nang-cao-1491897342"
    canonical = page_url
    html = page.read_text(encoding="utf-8")
    assert "nông thôn mới nâng cao" in html
    # "Vĩnh" is in this article only; after the update it is in none (the index must forget
    # the words an update removes, not only learn the new ones).
    changed = html.replace("nông thôn mới nâng cao", "kinh tế tuần hoàn ven sông").replace(
        "Phước Vĩnh An", "Phước Thạnh"
    )
    copy_url = "https://phuong-moi.example.vn/tin-tuc/cu-chi-dan-van-kheo.html"
    from tests.test_dedup import build_archive

    archive = build_archive(
        tmp_path / "update.warc.gz",
        (page_url, changed.encode("utf-8")),
        (copy_url, changed.encode("utf-8")),
    )
    result = dvcrawl("import", str(archive), "--db", url)
    assert result.returncode == 0, result.stderr
    assert "updated 1" in result.stdout
    before = make_engine(f"sqlite:///{corpus_db}")
    try:
        assert hits(before, "vĩnh") == hits(before, "vinh") == {canonical}
    finally:
        before.dispose()
    engine = make_engine(url)
    try:
        assert hits(engine, "vĩnh") == hits(engine, "vinh") == set()
        assert canonical in hits(engine, '"kinh tế tuần hoàn"')
        assert canonical not in hits(engine, '"nông thôn mới nâng cao"')
        # The copy is indexed, and kept out of results unless asked for.
        copies = {u for u in hits(engine, '"tuan hoan ven song"', include_duplicates=True)}
        assert copies == {
            canonical,
            "https://phuong-moi.example.vn/tin-tuc/cu-chi-dan-van-kheo.html",
        }
        assert hits(engine, '"tuan hoan ven song"') == {canonical}
    finally:
        engine.dispose()
    integrity(target)
    # Another program deletes a row with plain SQL: the triggers need nothing from dvcrawl.
    with sqlite3.connect(target) as connection:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("DELETE FROM articles WHERE canonical_url = ?", (copy_url,))
        connection.execute(
            "UPDATE articles SET title = 'Tiêu đề mới' WHERE canonical_url = ?", (canonical,)
        )
    engine = make_engine(url)
    try:
        assert hits(engine, '"tuan hoan ven song"', include_duplicates=True) == {canonical}
        assert hits(engine, '"tiêu đề mới"') == {canonical}
    finally:
        engine.dispose()
    integrity(target)


def _article(url: str, text: str):
    from dvcrawl.items import Article

    return Article(
        url=url, canonical_url=url, site="thanhuytphcm", is_article=True, title="Tin",
        text=text, extractor="t/v1",
    )  # fmt: skip


def test_a_batch_indexes_its_articles_at_its_end_and_other_writers_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch of several articles defers their indexing to its commit (one statement per
    # index instead of a flush of FTS5's pending terms at every statement). Within it an
    # article may be written twice (an archive holding two fetches of one page), and an
    # article of an earlier batch may change: the index must end as if written one by one.
    from sqlalchemy.exc import OperationalError

    import dvcrawl.db as db_module
    from dvcrawl.db import ArticleStore
    from dvcrawl.extract.text import content_hash

    target = tmp_path / "batch.sqlite3"
    engine = make_engine(f"sqlite:///{target}", writer=True)
    init_db(engine)
    store = ArticleStore(engine, batch_size=4, sleep=lambda _: None)

    def save(url: str, text: str) -> str:
        record = _article(url, text)
        when = datetime.now(UTC)
        return store.save(record, content_hash=content_hash(text), fetched_at=when).outcome

    first, second, third = (f"https://thanhuytphcm.vn/tin-tuc/bai-{n}-149180000{n}" for n in "123")
    assert save(first, "Hội nghị dân vận khéo ở phường Bến Nghé.") == "new"
    with sqlite3.connect(target) as reader:  # the batch is open: nothing of it is seen
        assert reader.execute("SELECT count(*) FROM search_deferred").fetchone() == (0,)
    inside = store.session.connection()  # within the batch, its article is not indexed yet
    assert inside.exec_driver_sql("SELECT count(*) FROM search_deferred").scalar() == 1
    assert (
        inside.exec_driver_sql(
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'nghe'"
        ).scalar()
        == 0
    )
    assert save(first, "Hội nghị dân vận khéo ở phường Tân Định.") == "updated"
    assert save(second, "Mô hình nông thôn mới ở xã Phước Vĩnh An.") == "new"
    store.commit()
    integrity(target)
    assert hits(engine, "ben nghe") == set() and hits(engine, "tan dinh") == {first}
    # The next batch changes an article of the first, with a transient failure on the way
    # (the batch is rolled back and replayed, and defers again).
    insert = db_module._INSERT_ARTICLE.insert
    calls: list[object] = []

    def flaky(connection, values):
        calls.append(values)
        if len(calls) == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return insert(connection, values)

    monkeypatch.setattr(db_module._INSERT_ARTICLE, "insert", flaky)
    assert save(second, "Mô hình kinh tế tuần hoàn ở xã Phước Thạnh.") == "updated"
    assert save(third, "Tổ dân vận khéo ở ấp Mỹ Khánh.") == "new"
    store.close()
    assert store.retried == 1
    integrity(target)
    assert hits(engine, "phuoc vinh an") == set() and hits(engine, "phuoc thanh") == {second}
    assert hits(engine, "my khanh") == {third}
    # Another program's writes are indexed by the triggers at once: no deferring row was
    # ever committed.
    with sqlite3.connect(target) as other:
        assert other.execute("SELECT count(*) FROM search_deferred").fetchone() == (0,)
        other.execute(
            "UPDATE articles SET text = 'Đoàn thanh niên ở Củ Chi.' WHERE canonical_url = ?",
            (third,),
        )
    assert hits(engine, "cu chi") == {third} and hits(engine, "my khanh") == set()
    integrity(target)
    engine.dispose()


def test_datasette_finds_the_search_index(corpus_db: Path) -> None:
    pytest.importorskip("datasette", reason="datasette is not installed (not a dependency)")
    from datasette.utils import detect_fts

    with sqlite3.connect(corpus_db) as connection:
        assert detect_fts(connection, "articles") == "articles_fts"


def test_a_fresh_database_has_the_index_before_its_first_article(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}", writer=True)
    try:
        init_db(engine)
        with engine.connect() as connection:
            names = {
                row[0]
                for row in connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE name LIKE 'articles_fts%'"
                )
            }
        assert {
            "articles_fts",
            "articles_fts_accents",
            "articles_fts_ai",
            "articles_fts_au",
        } <= names
    finally:
        engine.dispose()


# --- PostgreSQL -------------------------------------------------------------------------------


def test_search_on_postgresql(
    dvcrawl: Runner, pg_url: str, corpus_db: Path, tmp_path: Path
) -> None:
    archive = build_warc(tmp_path / "fixtures.warc.gz", *FIXTURE_SITES)
    result = dvcrawl("import", str(archive), "--db", pg_url)
    assert result.returncode == 0, result.stderr
    rows = stored(corpus_db)  # the same pages, so the same articles
    engine = make_engine(pg_url)
    try:
        for query, terms, accented in (
            ("dan van kheo", ["dan", "van", "kheo"], False),
            ("doan ket", ["doan", "ket"], False),
            ("hòa", ["hòa"], True),
            ("hóa", ["hóa"], True),
            ('"cụ thể hoá"', ["cụ thể hóa"], True),
            ('"dân vận khéo"', ["dân vận khéo"], True),
            ('"dan van kheo"', ["dan van kheo"], False),
        ):
            assert hits(engine, query) == brute(rows, terms, accented=accented), query
        assert hits(engine, "giam*") == with_prefix(rows, "giam")
        from datetime import date

        sites = {r["canonical_url"]: r["site"] for r in rows}
        everything = hits(engine, "dan van")
        assert hits(engine, "dan van", sites=("danvan",)) == {
            u for u in everything if sites[u] == "danvan"
        }
        published = {r["canonical_url"]: r["published_at"] or "" for r in rows}
        assert hits(engine, "dan van", until=date(2022, 6, 10)) == {
            u for u in everything if published[u] and published[u][:10] <= "2022-06-10"
        }
        assert hits(engine, "dan van", min_relevance=0.99) < everything
        ranked = search(engine, "dân vận khéo", limit=3)
        assert all("Dân vận khéo" in (hit.title or "") for hit in ranked)
        assert "**" in ranked[0].snippet
    finally:
        engine.dispose()
    # The generated columns follow an update made by plain SQL.
    from sqlalchemy import text

    writer = make_engine(pg_url)
    try:
        with writer.begin() as connection:
            connection.execute(
                text(
                    "UPDATE articles SET title = 'Tiêu đề mới' WHERE site = 'danvan' AND id = (SELECT min(id) FROM articles WHERE site = 'danvan')"
                )
            )
        assert len(hits(writer, '"tiêu đề mới"')) == 1
        assert len(hits(writer, '"tieu de moi"')) == 1
    finally:
        writer.dispose()
