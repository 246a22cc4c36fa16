"""Database schema (SQLAlchemy 2.x). The same tables on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every dvcrawl table."""


class ArticleRow(Base):
    """One article, identified by its canonical URL.

    Holds the Article record's fields plus what the crawl knows about the page: when it was
    first and last fetched, its HTTP validators, and the hash of its normalized text.
    """

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    site: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    sapo: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[str | None] = mapped_column(String(40), index=True)
    published_raw: Mapped[str | None] = mapped_column(Text)
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8), default="vi")
    extractor: Mapped[str] = mapped_column(String(64))
    schema_version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(2048), index=True)
    similarity: Mapped[float | None] = mapped_column(Float)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    http_etag: Mapped[str | None] = mapped_column(String(256))
    http_last_modified: Mapped[str | None] = mapped_column(String(64))
    #: How much the article is about the topic, 0-1 (`dvcrawl.topic`); null until scored.
    relevance: Mapped[float | None] = mapped_column(Float, index=True)
    # Provenance of a record read from a web archive (`dvcrawl.wayback`): the capture's address
    # and time. Null for a page fetched from the portal; a live fetch clears them.
    archive_url: Mapped[str | None] = mapped_column(String(2048))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ArticleVersion(Base):
    """An earlier content of an article that changed after publication."""

    __tablename__ = "article_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replaced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LshBand(Base):
    """One LSH band key of an article's MinHash signature (`dvcrawl.dedup`).

    Written with the article in one transaction; looked up by (band, key) to find candidate
    near-duplicates among every stored article without loading them.
    """

    __tablename__ = "lsh_bands"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger)


class ArticleSketch(Base):
    """What verifying a near-duplicate candidate needs of an article's text (`dvcrawl.dedup`).

    The hashes of its shingles (little-endian 32-bit, ascending: the MinHash's own input) and
    of its names and numbers (64-bit). Written with the article and its bands, in one
    transaction, whenever its text is new or changed; a candidate is then verified without
    reading and normalizing its text again (issue 11).
    """

    __tablename__ = "article_sketches"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    shingles: Mapped[bytes] = mapped_column(LargeBinary)
    entities: Mapped[bytes] = mapped_column(LargeBinary)


class CrawlRun(Base):
    """One crawl of one site: when, how it ended, what it did, and how its health checks went.

    A run is inserted as "running" when it starts; a run killed outright stays so until the
    next run of the site finds its process gone and records it as "interrupted".
    """

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    #: "live" (the portal) or "wayback" (the web archive).
    source: Mapped[str] = mapped_column(String(16), default="live", server_default="live")
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    finish_reason: Mapped[str | None] = mapped_column(String(64))
    #: Why a failed run failed, in one line ("unreachable: DNS lookup failed for hanoi.gov.vn").
    cause: Mapped[str | None] = mapped_column(Text)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    article_requests: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class CrawlCursor(Base):
    """How far a full backfill of one listing has come, so that a killed backfill resumes."""

    __tablename__ = "crawl_cursors"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    listing: Mapped[str] = mapped_column(String(2048), primary_key=True)
    next_url: Mapped[str | None] = mapped_column(String(2048))
    page: Mapped[int] = mapped_column(Integer, default=1)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UrlShape(Base):
    """An article URL shape learned from a site's articles that miss its declared pattern.

    Recomputed from the stored articles whenever a run stores such an article (`dvcrawl.urlshapes`);
    later runs follow links of these shapes as article links.
    """

    __tablename__ = "url_shapes"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    pattern: Mapped[str] = mapped_column(String(1024), primary_key=True)
    articles: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RobotsCopy(Base):
    """The last robots.txt a host answered (RFC 9309 section 2.4: a cached copy may be used).

    When a later robots.txt request fails (5xx, network error), the crawl obeys this copy
    instead of stopping; without one, the host counts as fully disallowed. A 4xx answer is
    stored too, as an empty body: "no robots.txt" is a valid last answer (allow all).
    """

    __tablename__ = "robots_copies"

    origin: Mapped[str] = mapped_column(String(512), primary_key=True)  # https://host[:port]
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TopicList(Base):
    """The topic list that scored the stored relevances (`dvcrawl.topic`): one row.

    Another name or hash when dvcrawl opens the database means another list, or the same file
    edited: every article is scored again.
    """

    __tablename__ = "topic_lists"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ArchiveCapture(Base):
    """A capture of a web archive that an archive run has read, and what it gave.

    An archive run skips the captures listed here, so a run stopped after days resumes where it
    stopped. A capture that gave an article is recorded in the article's own transaction; a
    killed run loses neither, and never records one without the other.
    """

    __tablename__ = "archive_captures"
    __table_args__ = (
        UniqueConstraint(
            "archive", "timestamp", "original_url", name="uq_archive_captures_capture"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    archive: Mapped[str] = mapped_column(String(16), default="wayback")
    site: Mapped[str] = mapped_column(String(64), index=True)
    timestamp: Mapped[str] = mapped_column(String(14))
    original_url: Mapped[str] = mapped_column(String(2048))
    canonical_url: Mapped[str] = mapped_column(String(2048), index=True)
    digest: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(8))
    #: "stored" (an article row was written), "not_article", "dropped", "listing", "redirect",
    #: "dead" (the archive answered 4xx), "not_html".
    outcome: Mapped[str] = mapped_column(String(16))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SchemaInfo(Base):
    """One row: when the database was made, and the last hand-kept schema version (4).

    The schema's version is Alembic's revision (``alembic_version``) since dvcrawl 0.2; this
    row stays for the write probe (`dvcrawl.db.check_writable`) and the creation time.
    """

    __tablename__ = "schema_info"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


Index("ix_articles_site_published", ArticleRow.site, ArticleRow.published_at)
Index("ix_lsh_bands_key", LshBand.key, LshBand.band)
