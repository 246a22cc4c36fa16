"""The article store: one row per canonical URL, history for changed articles, WAL SQLite."""

from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

import dvcrawl.db as db_module
from dvcrawl.db import ArticleStore, init_db, make_engine
from dvcrawl.db.models import ArticleRow, ArticleVersion
from dvcrawl.extract.text import content_hash
from dvcrawl.items import Article

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 2, 1, tzinfo=UTC)


def article(
    text: str = "Đoạn một.\n\nĐoạn hai.", url: str = "https://thanhuytphcm.vn/tin-tuc/a-1491871594"
) -> Article:
    return Article(
        url=url,
        canonical_url=url,
        site="thanhuytphcm",
        is_article=True,
        title="Tiêu đề",
        text=text,
        extractor="t/v1",
    )


def save(store: ArticleStore, record: Article, when: datetime) -> str:
    return store.save(record, content_hash=content_hash(record.text), fetched_at=when).outcome


def test_new_unchanged_updated_with_history(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    init_db(engine)
    store = ArticleStore(engine, batch_size=1)
    assert save(store, article(), T0) == "new"
    assert save(store, article(), T1) == "unchanged"
    # Tone-mark spelling and spacing changes are not a new version.
    assert save(store, article("Đoạn  một.\n\nĐoạn hai."), T1) == "unchanged"
    assert save(store, article("Đoạn một, đã sửa.\n\nĐoạn hai."), T1) == "updated"
    store.close()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ArticleRow)) == 1
        versions = session.scalars(select(ArticleVersion)).all()
        assert len(versions) == 1 and versions[0].text == "Đoạn  một.\n\nĐoạn hai."
        row = session.scalar(select(ArticleRow))
        assert row.first_seen_at.replace(tzinfo=UTC) == T0 and row.text.startswith(
            "Đoạn một, đã sửa."
        )
    engine.dispose()


def test_uncommitted_batch_is_not_visible_and_close_commits(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    store = ArticleStore(engine, batch_size=10)
    save(store, article(), T0)
    reader = make_engine(url)
    with reader.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM articles")).scalar() == 0
    store.close()
    with reader.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM articles")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    reader.dispose()
    engine.dispose()


# --- the dedup index is written per batch (issue 11) ----------------------------------------


def index_rows(engine) -> tuple[dict[str, int], dict[str, tuple[bytes, bytes]]]:
    """(bands per URL, sketch per URL) as stored."""
    from dvcrawl.db.models import ArticleSketch, LshBand

    with Session(engine) as session:
        bands = dict(
            session.execute(
                select(ArticleRow.canonical_url, func.count())
                .join(LshBand, LshBand.article_id == ArticleRow.id)
                .group_by(ArticleRow.canonical_url)
            ).all()
        )
        sketches = {
            row.canonical_url: (row.shingles, row.entities)
            for row in session.execute(
                select(
                    ArticleRow.canonical_url, ArticleSketch.shingles, ArticleSketch.entities
                ).join(ArticleSketch, ArticleSketch.article_id == ArticleRow.id)
            )
        }
    return bands, sketches


def save_indexed(store: ArticleStore, record: Article, when: datetime) -> str:
    from dvcrawl.dedup import fingerprint

    print_ = fingerprint(record.text)
    return store.save(
        record,
        content_hash=print_.content_hash,
        fetched_at=when,
        band_keys=print_.keys,
        sketch=print_.sketch(),
    ).outcome


def check_index(engine, texts: dict[str, str]) -> None:
    from dvcrawl.dedup import band_shape, fingerprint

    bands, sketches = index_rows(engine)
    assert bands == dict.fromkeys(texts, band_shape()[0])
    assert sketches == {
        url: (
            fingerprint(text).sketch().shingles_bytes(),
            fingerprint(text).sketch().entities_bytes(),
        )
        for url, text in texts.items()
    }


def test_bands_and_sketches_are_written_with_their_batch(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'i.sqlite3'}")
    init_db(engine)
    store = ArticleStore(engine, batch_size=3)
    urls = [f"https://thanhuytphcm.vn/tin-tuc/bai-{n}-14918{n:05d}" for n in range(4)]
    texts = {
        url: f"Bài số {n}: Ban Dân vận tổng kết năm 2023 tại phường {n}."
        for n, url in enumerate(urls)
    }
    for url in urls[:2]:
        assert save_indexed(store, article(texts[url], url), T0) == "new"
    assert index_rows(engine) == ({}, {}), "nothing is visible before the batch commits"
    # Changed within the batch: the index describes the last text.
    texts[urls[1]] += " Đã sửa."
    assert save_indexed(store, article(texts[urls[1]], urls[1]), T0) == "updated"
    check_index(engine, {url: texts[url] for url in urls[:2]})
    assert save_indexed(store, article(texts[urls[2]], urls[2]), T0) == "new"
    # Changed in a later batch: the committed rows are replaced, not added to.
    texts[urls[0]] += " Sửa lần nữa."
    assert save_indexed(store, article(texts[urls[0]], urls[0]), T1) == "updated"
    # Unchanged: the index stays.
    assert save_indexed(store, article(texts[urls[2]], urls[2]), T1) == "unchanged"
    store.close()
    check_index(engine, {url: texts[url] for url in urls[:3]})
    engine.dispose()


def test_a_replayed_batch_writes_its_index_once(pg_url: str, monkeypatch) -> None:
    # A transient failure in a batch rolls it back and replays it. On PostgreSQL the replayed
    # rows get new ids (sequences are not rolled back): bands kept for the old ids would
    # point to no article.
    from sqlalchemy.exc import OperationalError

    engine = make_engine(pg_url, writer=True)
    init_db(engine)
    store = ArticleStore(engine, batch_size=3, sleep=lambda _: None)
    insert = db_module._INSERT_ARTICLE.insert
    inserts: list[object] = []

    def flaky(connection, values):  # the second article's insert fails once
        inserts.append(values)
        if len(inserts) == 2:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return insert(connection, values)

    monkeypatch.setattr(db_module._INSERT_ARTICLE, "insert", flaky)
    texts = {
        f"https://thanhuytphcm.vn/tin-tuc/bai-{n}-14918{n:05d}": f"Bài {n} của Ban Dân vận."
        for n in range(3)
    }
    for url, body in texts.items():
        assert save_indexed(store, article(body, url), T0) == "new"
    assert store.retried == 1 and len(inserts) == 5
    store.close()
    check_index(engine, texts)
    engine.dispose()


# --- a copy never points at a row that is not there ------------------------------------------


def test_a_copy_whose_first_copy_was_not_stored_is_stored_as_the_original(tmp_path) -> None:
    # The dedup pipeline remembers the articles of the run before they are committed; when
    # the first copy's batch then fails for good, its copy arrives pointing at nothing, and
    # would be hidden from exports while the first copy is missing (issue 10: no silent loss).
    engine = make_engine(f"sqlite:///{tmp_path / 'd.sqlite3'}")
    init_db(engine)
    store = ArticleStore(engine, batch_size=10)
    first = "https://thanhuytphcm.vn/tin-tuc/a-1491871594"
    same_batch = "https://thanhuytphcm.vn/tin-tuc/b-1491871595"
    orphan = "https://thanhuytphcm.vn/tin-tuc/c-1491871596"
    lost = "https://thanhuytphcm.vn/tin-tuc/never-stored-1491871597"
    record = article()
    store.save(record, content_hash=content_hash(record.text), fetched_at=T0)
    for url, target in ((same_batch, first), (orphan, lost)):
        copy = article(url=url)
        store.save(
            copy,
            content_hash=content_hash(copy.text),
            fetched_at=T0,
            duplicate_of=target,
            similarity=1.0,
        )
    store.close()
    with Session(engine) as session:
        rows = {
            row.canonical_url: (row.duplicate_of, row.similarity)
            for row in session.scalars(select(ArticleRow))
        }
    # A first copy written earlier in the same, uncommitted batch counts as stored.
    assert rows == {first: (None, None), same_batch: (first, 1.0), orphan: (None, None)}
    engine.dispose()


def test_the_index_rows_written_on_sqlites_cursor_are_sqlalchemys(tmp_path) -> None:
    # The LSH bands and sketches of a batch go through `DriverStatement.insert_many` (issue 11):
    # the same rows as SQLAlchemy's executemany, whatever the order of the columns given.
    from sqlalchemy import insert

    from dvcrawl.db import DriverStatement
    from dvcrawl.db.models import ArticleSketch, LshBand

    bands = [(1, band, (2**63 - 1) - band * 7919) for band in range(37)]
    sketches = [(1, b"\x00\x01\x02\x03" * 5, b""), (2, b"", b"\xff" * 8)]
    tables = {}
    for way in ("driver", "sqlalchemy"):
        engine = make_engine(f"sqlite:///{tmp_path / way}.sqlite3")
        init_db(engine)
        with engine.connect() as connection:
            # No article rows: only the index tables are compared.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            connection.begin()
            if way == "driver":
                assert DriverStatement.applies(connection)
                DriverStatement(insert(LshBand)).insert_many(
                    connection, ("key", "article_id", "band"), [(k, a, b) for a, b, k in bands]
                )
                DriverStatement(insert(ArticleSketch)).insert_many(
                    connection, ("article_id", "shingles", "entities"), sketches
                )
            else:
                connection.execute(
                    insert(LshBand), [{"article_id": a, "band": b, "key": k} for a, b, k in bands]
                )
                connection.execute(
                    insert(ArticleSketch),
                    [{"article_id": a, "shingles": s, "entities": e} for a, s, e in sketches],
                )
            connection.commit()
        with engine.connect() as connection:
            tables[way] = [
                connection.exec_driver_sql(
                    f"SELECT *, typeof({column}) FROM {table} ORDER BY 1, 2"
                ).all()
                for table, column in (("lsh_bands", "key"), ("article_sketches", "shingles"))
            ]
        engine.dispose()
    assert tables["driver"] == tables["sqlalchemy"]
    assert len(tables["driver"][0]) == 37 and tables["driver"][0][-1][-1] == "integer"


def test_articles_written_on_sqlites_cursor_are_the_rows_sqlalchemy_writes(
    tmp_path, monkeypatch
) -> None:
    # The store's per-article lookup and insert run on SQLite's cursor (issue 11), with the
    # column types' own conversions (dates, JSON, floats): every column of every table the
    # same as through SQLAlchemy, for new, unchanged, updated and retitled articles, copies
    # and copies of articles that were never stored.
    from dataclasses import replace

    from dvcrawl.db import DriverStatement

    images = [{"src": "https://thanhuytphcm.vn/a.jpg", "caption": "Ảnh “một”"}]
    full = replace(
        article(),
        sapo="Sapo.",
        author="Tác giả",
        published_at="2026-01-01T08:00:00+07:00",
        published_raw="01/01/2026",
        images=images,
    )
    other = article("Một bài khác.", url="https://thanhuytphcm.vn/tin-tuc/b-1491871595")
    steps = [
        (full, T0, {}),
        (full, T1, {"etag": '"x"', "last_modified": "Thu, 01 Jan 2026 00:00:00 GMT"}),
        (replace(full, title="Tiêu đề mới"), T1, {"relevance": 0.25}),
        (replace(full, text="Đoạn một, đã sửa."), T1, {"archive_url": "https://web.archive.org/x"}),
        (other, T0, {"duplicate_of": full.canonical_url, "similarity": 0.8147}),
        (replace(other, canonical_url=other.url + "-2", url=other.url + "-2"), T0,
         {"duplicate_of": "https://thanhuytphcm.vn/never-stored", "similarity": 1.0,
          "archived_at": T1}),
    ]  # fmt: skip
    tables = {}
    for way in ("driver", "sqlalchemy"):
        if way == "sqlalchemy":
            monkeypatch.setattr(DriverStatement, "applies", staticmethod(lambda connection: False))
        engine = make_engine(f"sqlite:///{tmp_path / way}.sqlite3")
        init_db(engine)
        store = ArticleStore(engine, batch_size=2)
        outcomes = [
            store.save(
                record, content_hash=content_hash(record.text), fetched_at=when, **extra
            ).outcome
            for record, when, extra in steps
        ]
        assert outcomes == ["new", "unchanged", "updated", "updated", "new", "new"]
        store.close()
        with engine.connect() as connection:
            tables[way] = {
                table: connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1").all()
                for table in ("articles", "article_versions")
            }
            tables[way]["types"] = connection.exec_driver_sql(
                "SELECT typeof(images), typeof(fetched_at), typeof(archived_at), "
                "typeof(similarity), typeof(relevance), typeof(schema_version) FROM articles"
            ).all()
        engine.dispose()
    columns = ArticleRow.__table__.columns.keys()
    now_columns = {columns.index("updated_at")}  # the time of writing
    strip = [
        tuple(v for i, v in enumerate(row) if i not in now_columns)
        for way in ("driver", "sqlalchemy")
        for row in tables[way]["articles"]
    ]
    assert strip[: len(strip) // 2] == strip[len(strip) // 2 :]
    versions = {way: [row[:-1] for row in tables[way]["article_versions"]] for way in tables}
    assert versions["driver"] == versions["sqlalchemy"] and len(versions["driver"]) == 1
    assert tables["driver"]["types"] == tables["sqlalchemy"]["types"]
    assert tables["driver"]["articles"][0][columns.index("images")] == (
        '[{"src": "https://thanhuytphcm.vn/a.jpg", "caption": "\\u1ea2nh \\u201cm\\u1ed9t\\u201d"}]'
    )
