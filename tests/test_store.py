"""The article store: one row per canonical URL, history for changed articles, WAL SQLite."""

from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

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
