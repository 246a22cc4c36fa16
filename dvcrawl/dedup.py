"""Duplicate detection: exact copies by content hash, near copies by MinHash LSH.

Portals republish each other's articles: a city committee story reappears on district and
Front portals with another lead, another dateline prefix, a paragraph cut or added, a byline
or a few "Tin khác" lines attached. Those copies are recorded, never dropped: each keeps its
row with ``duplicate_of`` pointing to the first copy and the measured similarity.

How:

* Text is compared on its fingerprint (`dvcrawl.extract.text.fingerprint_text`: NFC, tone
  marks unified, case and punctuation folded), cut into word shingles (`SHINGLE_WORDS`).
* Exact copies share the SHA-256 of the fingerprint (``content_hash``).
* Near copies are found with MinHash signatures (datasketch, `NUM_PERM` permutations) and
  locality-sensitive hashing in bands. The bands live in the database (``lsh_bands``, indexed
  on band and key), written in the same transaction as the article, so the index survives
  across runs, a scheduled run recognizes a copy of an article stored months ago, and the
  cost of checking a new article is a few indexed lookups however large the corpus grows.
* Candidates are verified on the real shingle sets of both texts (recomputed from stored
  text), and called duplicates when `is_near_duplicate` says so. Thresholds were measured on
  a labelled set (benchmarks/dedup_quality.py, results in the README).
* Shingles alone cannot tell a repost from another event written from the same template:
  two wards' "Dân vận khéo" reports that differ only in names, places and figures share half
  their shingles. A repost keeps the names and numbers of its story; a templated report of
  another event does not. So a near copy must also share most of its proper names and
  numbers (`entities`) with the original.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from dvcrawl.db.models import ArticleRow, LshBand
from dvcrawl.extract.text import fingerprint_text, unify_tone_marks

#: Words per shingle: long enough that formulaic phrases of meeting reports ("Tham dự hội
#: nghị có các đồng chí") do not make distinct reports look alike, short enough that a copy
#: with edits keeps most of its shingles.
SHINGLE_WORDS = 5
#: MinHash permutations: 128 gives a standard error of about 0.044 on a Jaccard estimate.
NUM_PERM = 128
#: The Jaccard similarity around which LSH bands are tuned to return candidates (recall
#: first: verification on the real shingle sets removes false candidates).
LSH_THRESHOLD = 0.3
#: Verification thresholds (see `is_near_duplicate`).
JACCARD_THRESHOLD = 0.5
CONTAINMENT_THRESHOLD = 0.8
MIN_SIZE_RATIO = 0.4
#: Share of the smaller text's names and numbers the larger must contain, and how many each
#: text needs before the rule applies (a short note may name nobody).
ENTITY_THRESHOLD = 0.5
MIN_ENTITIES = 3

_NAME = re.compile(r"(?<!\w)[A-ZĐÀ-Ỹ]\w*(?:\s+[A-ZĐÀ-Ỹ]\w*)+")
_NUMBER = re.compile(r"\d+(?:[.,/-]\d+)*")


def shingles(text: str | None) -> frozenset[str]:
    """Word shingles of the text's fingerprint (a text shorter than a shingle is one shingle)."""
    words = fingerprint_text(text or "").split()
    if len(words) <= SHINGLE_WORDS:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(
        " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
    )


def entities(text: str | None) -> frozenset[str]:
    """Proper names (two or more capitalized words) and numbers of a text, tone marks unified."""
    text = unify_tone_marks(text or "")
    return frozenset(
        {m.group(0).casefold() for m in _NAME.finditer(text)} | set(_NUMBER.findall(text))
    )


def signature(items: frozenset[str]) -> np.ndarray:
    """The MinHash signature of a shingle set (uint32, `NUM_PERM` values)."""
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")
    if items:
        minhash.update_batch([item.encode("utf-8") for item in items])
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


@lru_cache(maxsize=1)
def band_shape() -> tuple[int, int]:
    """(bands, rows per band) that datasketch picks for `LSH_THRESHOLD` and `NUM_PERM`."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    return lsh.b, lsh.r


def band_keys(values: np.ndarray) -> list[int]:
    """One 63-bit key per LSH band of a signature (fits a signed BIGINT in any database)."""
    bands, rows = band_shape()
    keys = []
    for band in range(bands):
        digest = hashlib.blake2b(
            values[band * rows : (band + 1) * rows].tobytes(), digest_size=8
        ).digest()
        keys.append(int.from_bytes(digest, "big") >> 1)
    return keys


@dataclass(frozen=True)
class Similarity:
    """How alike two texts are."""

    jaccard: float
    containment: float
    size_ratio: float
    entities: float | None = None

    @property
    def score(self) -> float:
        """The similarity recorded with a duplicate: Jaccard, or containment for trimmed copies."""
        return max(self.jaccard, self.containment if self.size_ratio >= MIN_SIZE_RATIO else 0.0)


def compare(
    a: frozenset[str],
    b: frozenset[str],
    names_a: frozenset[str] | None = None,
    names_b: frozenset[str] | None = None,
) -> Similarity:
    """Shingle Jaccard and containment, size ratio, and the share of names and numbers shared.

    The last is the share of the smaller text's names and numbers found in the other, when
    both name sets are given and large enough.
    """
    if not a or not b:
        return Similarity(0.0, 0.0, 0.0)
    shared = len(a & b)
    smaller, larger = sorted((len(a), len(b)))
    overlap = None
    if (
        names_a is not None
        and names_b is not None
        and min(len(names_a), len(names_b)) >= MIN_ENTITIES
    ):
        overlap = len(names_a & names_b) / min(len(names_a), len(names_b))
    return Similarity(
        shared / (len(a) + len(b) - shared), shared / smaller, smaller / larger, overlap
    )


def is_near_duplicate(similarity: Similarity) -> bool:
    """Whether two texts are one article.

    Either most of their shingles are shared (a repost with a new lead, another dateline or a
    few edits), or the shorter is almost wholly inside the longer and not tiny beside it (a
    trimmed or expanded repost; a short item quoted inside a long roundup is not a copy of
    it); and in both cases they name the same people, places and figures.
    """
    alike = similarity.jaccard >= JACCARD_THRESHOLD or (
        similarity.containment >= CONTAINMENT_THRESHOLD and similarity.size_ratio >= MIN_SIZE_RATIO
    )
    return alike and (similarity.entities is None or similarity.entities >= ENTITY_THRESHOLD)


@dataclass
class Fingerprint:
    """What deduplication knows of one text."""

    content_hash: str
    shingles: frozenset[str]
    signature: np.ndarray
    keys: list[int]
    entities: frozenset[str] = frozenset()


def fingerprint(text: str | None) -> Fingerprint:
    """Hash, shingles, MinHash signature, LSH band keys, names and numbers of a text."""
    items = shingles(text)
    values = signature(items)
    digest = hashlib.sha256(fingerprint_text(text or "").encode("utf-8")).hexdigest()
    return Fingerprint(digest, items, values, band_keys(values), entities(text))


@dataclass(frozen=True)
class Match:
    """The first stored copy a new text duplicates."""

    canonical_url: str
    similarity: float


class Deduplicator:
    """Finds the first stored copy of a text: in the database, and among this run's recent items.

    Reads only; the store writes each article's hash and bands with its row. Items of the
    current run are also kept (the last `recent_limit`), because a batch not yet committed is
    invisible to other database connections.
    """

    def __init__(self, session: Session, *, recent_limit: int = 2000):
        self.session = session
        self.recent_limit = recent_limit
        self._recent: OrderedDict[str, tuple[Fingerprint, str | None]] = OrderedDict()

    def find(self, canonical_url: str, print_: Fingerprint) -> Match | None:
        """The first copy of `print_` other than `canonical_url` itself, or None."""
        exact = self._exact(canonical_url, print_)
        if exact is not None:
            return exact
        best: Match | None = None
        best_score = 0.0  # unrounded: compared with the rounded one, a later equal copy won
        for url, origin, other, names in self._candidates(canonical_url, print_):
            if (origin or url) == canonical_url:
                continue  # a copy of this very article, stored while it was away
            similarity = compare(print_.shingles, other, print_.entities, names)
            if is_near_duplicate(similarity) and (best is None or similarity.score > best_score):
                best = Match(origin or url, round(similarity.score, 4))
                best_score = similarity.score
        return best

    def remember(self, canonical_url: str, print_: Fingerprint, duplicate_of: str | None) -> None:
        """Keep an item of this run for the rest of the run."""
        self._recent[canonical_url] = (print_, duplicate_of)
        self._recent.move_to_end(canonical_url)
        while len(self._recent) > self.recent_limit:
            self._recent.popitem(last=False)

    def _exact(self, canonical_url: str, print_: Fingerprint) -> Match | None:
        for url, (other, origin) in self._recent.items():
            if (
                url != canonical_url
                and other.content_hash == print_.content_hash
                and origin != canonical_url
            ):
                return Match(origin or url, 1.0)
        row = self.session.execute(
            select(ArticleRow.canonical_url, ArticleRow.duplicate_of)
            .where(
                ArticleRow.content_hash == print_.content_hash,
                ArticleRow.canonical_url != canonical_url,
            )
            .order_by(ArticleRow.id)
            .limit(1)
        ).first()
        if row is None or row.duplicate_of == canonical_url:
            return None
        return Match(row.duplicate_of or row.canonical_url, 1.0)

    def _candidates(
        self, canonical_url: str, print_: Fingerprint
    ) -> list[tuple[str, str | None, frozenset[str], frozenset[str]]]:
        """(url, its original, shingles, names) of every stored text sharing an LSH band."""
        found: dict[str, tuple[str | None, frozenset[str], frozenset[str]]] = {}
        keys = set(print_.keys)
        for url, (other, origin) in self._recent.items():
            if url != canonical_url and keys.intersection(other.keys):
                found[url] = (origin, other.shingles, other.entities)
        wanted = set(enumerate(print_.keys))
        # Looked up by key alone (an index every database uses well; row-value IN lists are
        # not, on SQLite), then kept only where the band matches too.
        hits = self.session.execute(
            select(LshBand.article_id, LshBand.band, LshBand.key).where(
                LshBand.key.in_(print_.keys)
            )
        ).all()
        ids = sorted({hit.article_id for hit in hits if (hit.band, hit.key) in wanted})
        rows: Sequence[Any] = ()
        if ids:
            rows = self.session.execute(
                select(ArticleRow.canonical_url, ArticleRow.duplicate_of, ArticleRow.text)
                .where(ArticleRow.id.in_(ids), ArticleRow.canonical_url != canonical_url)
                .order_by(ArticleRow.id)
            ).all()
        for row in rows:
            if row.canonical_url not in found:
                found[row.canonical_url] = (
                    row.duplicate_of,
                    shingles(row.text),
                    entities(row.text),
                )
        return [(url, origin, other, names) for url, (origin, other, names) in found.items()]
