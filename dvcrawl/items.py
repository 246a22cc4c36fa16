"""The Article record: one schema for `dvcrawl extract`, the database and exports.

The keys and their meaning are a contract (README, "The Article record"): users' scripts read
them, so they are extended, never renamed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dvcrawl.dedup import Fingerprint, Sketch

#: Bumped when the meaning of a stored field changes; exported with every row.
SCHEMA_VERSION = 1

#: Keys of the Article record, in the order they are printed and exported.
ARTICLE_KEYS: tuple[str, ...] = (
    "url",
    "canonical_url",
    "site",
    "is_article",
    "title",
    "sapo",
    "text",
    "author",
    "published_at",
    "published_raw",
    "images",
    "language",
    "extractor",
)


@dataclass
class Article:
    """One page as dvcrawl understands it.

    Attributes:
        url: the URL the page was fetched from.
        canonical_url: the normalized URL used as identity (see `dvcrawl.urls.canonicalize`).
        site: the site id from the registry, or ``"generic"``.
        is_article: false for listing, category, search and other non-article pages.
        title: the article's own headline, never the portal's name.
        sapo: the lead/summary paragraph when the page marks one.
        text: the body as a reader reads it: NFC, paragraphs separated by a blank line,
            starting with the lead, without title, dates, captions, byline or boilerplate.
        author: the byline as printed, with a leading "Theo " removed.
        published_at: ISO 8601 with +07:00 (``2024-02-28T16:38:00+07:00``), or a bare
            date (``2022-12-29``) when the page shows no time.
        published_raw: the date string as found on the page.
        images: ``{"url": str, "caption": str | None}`` for images inside the article.
        language: always ``"vi"``.
        extractor: the extractor and version that produced the record, e.g. ``"thanhuytphcm/v1"``.

    """

    url: str
    canonical_url: str
    site: str
    is_article: bool
    title: str | None = None
    sapo: str | None = None
    text: str | None = None
    author: str | None = None
    published_at: str | None = None
    published_raw: str | None = None
    images: list[dict[str, str | None]] = field(default_factory=list)
    language: str = "vi"
    extractor: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a plain dict with keys in contract order."""
        data = asdict(self)
        return {key: data[key] for key in ARTICLE_KEYS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """Build a record from a dict, ignoring keys that are not part of the record."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class CaptureRef:
    """The web-archive capture a page was read from, as the archive's index listed it.

    Attributes:
        site: the site the capture was read for.
        timestamp, original_url: the capture's key in the index (``yyyyMMddhhmmss``, UTC).
        canonical_url: the page's identity.
        digest, status: the index's payload digest and HTTP status of the capture.

    """

    site: str
    timestamp: str
    original_url: str
    canonical_url: str
    digest: str | None = None
    status: str | None = None


@dataclass
class FetchedArticle:
    """What a spider yields and the pipelines process: a record plus how it was fetched.

    Attributes:
        article: the extracted record.
        fetched_at: when the response arrived (UTC).
        etag, last_modified: the response's HTTP validators, kept for conditional requests.
        content_hash, band_keys, sketch: the text's fingerprints (set by the dedup pipeline).
        duplicate_of, similarity: the first stored copy of this text, if any, and how alike.
        archive_url, archived_at: for a page read from a web archive, the capture's address
            and time (the record's provenance; ``published_at`` still comes from the page).
        capture: the archive index's entry for that capture, recorded with the article.
        fingerprint: the text's `dvcrawl.dedup.Fingerprint`, when computed before the
            pipelines (by ``dvcrawl import``'s workers, in parallel); else the dedup
            pipeline computes it.
        relevance: the topic relevance, when computed before the pipelines; else the store
            scores it.

    """

    article: Article
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    band_keys: list[int] | None = None
    duplicate_of: str | None = None
    similarity: float | None = None
    archive_url: str | None = None
    archived_at: datetime | None = None
    capture: CaptureRef | None = None
    sketch: Sketch | None = None
    fingerprint: Fingerprint | None = None
    relevance: float | None = None


@dataclass
class CaptureDone:
    """An archive capture that was read and gave no article (a listing, a redirect, a 404).

    Recorded by the store so that a resumed archive run does not read it again.
    """

    capture: CaptureRef
    outcome: str


@dataclass
class NotModified:
    """A known article the server answered with 304 Not Modified (``--refresh``)."""

    canonical_url: str
    fetched_at: datetime
