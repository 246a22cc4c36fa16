"""Duplicate detection: exact copies by content hash, near copies by MinHash LSH.

Portals republish each other's articles: a city committee story reappears on district and
Front portals with another lead, another dateline prefix, a paragraph cut or added, a byline
or a few "Tin khác" lines attached. Those copies are recorded, never dropped: each keeps its
row with ``duplicate_of`` pointing to the first copy and the measured similarity.

How:

* Text is compared on its fingerprint (`dvcrawl.extract.text.fingerprint_text`: NFC, tone
  marks unified, case and punctuation folded), cut into word shingles (`SHINGLE_WORDS`).
* Exact copies share the SHA-256 of the fingerprint (``content_hash``).
* Near copies are found with MinHash signatures (datasketch's scheme, `NUM_PERM`
  permutations: `signature`) and locality-sensitive hashing in bands. The bands live in the
  database (``lsh_bands``, indexed on band and key), written in the same transaction as the
  article, so the index survives across runs, a scheduled run recognizes a copy of an
  article stored months ago, and the cost of checking a new article is a few indexed lookups
  however large the corpus grows.
* Candidates are verified on the real shingle sets of both texts, and called duplicates when
  `is_near_duplicate` says so. Thresholds were measured on a labelled set
  (benchmarks/dedup_quality.py, results in the README). What verification needs is stored
  with each article (``article_sketches``: the 32-bit hashes of its shingles, the MinHash's
  own input, and the hashes of its names and numbers), so a candidate costs two set
  intersections of integers, never a re-reading of its text (issue 11: templated reports
  have a hundred candidates each). Names and numbers are compared first: a report from the
  same template fails there and its shingles are never loaded.
* Shingles alone cannot tell a repost from another event written from the same template:
  two wards' "Dân vận khéo" reports that differ only in names, places and figures share half
  their shingles. A repost keeps the names and numbers of its story; a templated report of
  another event does not. So a near copy must also share most of its proper names and
  numbers (`entities`) with the original.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import methodcaller
from typing import TYPE_CHECKING, Any

import numpy as np

from dvcrawl.extract.text import fingerprint_text, unify_tone_marks

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from dvcrawl.db import DriverStatement

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
#: text needs before the rule applies (a short note may name nobody). Reports written from one
#: template share their institutions' names ("Ban Dân vận", "Ban Thường vụ", "Phó Bí thư") and
#: the years of their plan, up to half of their names and numbers; a copy shares 80% or more
#: (benchmarks/dedup_quality.py). Half was the threshold until two hand-written reports of
#: other events, at exactly half, were taken for copies.
ENTITY_THRESHOLD = 0.6
MIN_ENTITIES = 3

#: Capital letters of the Latin script (Vietnamese's among them). A range such as "À-Ỹ" also
#: holds the small letters between (đ, ư, ạ...), which made "được đăng" and "đồng chí" names.
_CAPITALS = (
    "A-Z"
    + "".join(char for char in map(chr, range(0xC0, 0x24F + 1)) if char.isupper())
    + "".join(char for char in map(chr, range(0x1E00, 0x1EFF + 1)) if char.isupper())
)
_NAME = re.compile(rf"(?<!\w)[{_CAPITALS}]\w*(?:\s+[{_CAPITALS}]\w*)+")
_NUMBER = re.compile(r"\d+(?:[.,/-]\d+)*")


def shingles(text: str | None) -> frozenset[str]:
    """Word shingles of the text's fingerprint (a text shorter than a shingle is one shingle)."""
    return _shingles_of(fingerprint_text(text or ""))


def _shingles_of(key: str) -> frozenset[str]:
    words = key.split()
    if len(words) <= SHINGLE_WORDS:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(
        " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
    )


def entities(text: str | None) -> frozenset[str]:
    """Proper names (two or more capitalized words) and numbers of a text, tone marks unified."""
    text = unify_tone_marks(text or "")
    return frozenset(map(str.casefold, _NAME.findall(text))).union(_NUMBER.findall(text))


def key_shingle_hashes(key: str) -> np.ndarray:
    """`shingle_hashes` of a fingerprint's shingles, without building the shingles as text.

    The same array as ``shingle_hashes(_shingles_of(key))``: the words are encoded once and
    joined into shingles as bytes, and each shingle is hashed by C calls chained with ``map``
    (issue 11: the Python loop over some 400 shingles per article, an encode, a slice and an
    ``int.from_bytes`` each, cost about as much as the rest of the fingerprint).
    """
    words = list(map(str.encode, key.split()))
    if len(words) <= SHINGLE_WORDS:
        items: Iterable[bytes] = [b" ".join(words)] if words else []
    else:
        items = map(b" ".join, zip(*(words[i:] for i in range(SHINGLE_WORDS)), strict=False))
    digests = b"".join(map(_DIGEST, map(hashlib.sha1, items)))
    return np.unique(np.frombuffer(digests, dtype=_SHA1_PREFIX)["prefix"])


_DIGEST = methodcaller("digest")
#: A SHA-1 digest read as its first four bytes, little-endian (datasketch's ``sha1_hash32``).
_SHA1_PREFIX = np.dtype([("prefix", "<u4"), ("rest", "V16")])


def shingle_hashes(items: Iterable[str]) -> np.ndarray:
    """The 32-bit hashes of shingles, sorted and distinct (``<u4``).

    The hash is the one the MinHash signature is computed from (datasketch's ``sha1_hash32``:
    the first four bytes of SHA-1, little-endian), so a stored sketch and the LSH bands
    describe the same set.
    """
    sha1 = hashlib.sha1
    return np.unique(
        np.fromiter(
            (int.from_bytes(sha1(item.encode("utf-8")).digest()[:4], "little") for item in items),
            dtype="<u4",
        )
    )


def entity_hashes(names: Iterable[str]) -> np.ndarray:
    """The 64-bit hashes of names and numbers, sorted and distinct (``<u8``)."""
    blake2b = hashlib.blake2b
    return np.unique(
        np.fromiter(
            (
                int.from_bytes(blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")
                for name in names
            ),
            dtype="<u8",
        )
    )


def signature(items: frozenset[str] | np.ndarray) -> np.ndarray:
    """The MinHash signature of a shingle set, or of its hashes (uint32, `NUM_PERM` values).

    datasketch's ``affine32`` scheme with seed 1, computed here in numpy: each hash is
    pre-mixed with the MurmurHash3 finalizer, then permuted by ``a * h + b`` modulo 2**32 (a
    odd); the signature is each permutation's minimum (2**32 - 1 for an empty set). Importing
    datasketch loads scipy, 80 MB in every process that deduplicates (issue 11); the values
    are datasketch's, checked against it by the tests, and they are a stored format (the LSH
    bands of every article).
    """
    hashes = items if isinstance(items, np.ndarray) else shingle_hashes(items)
    if not len(hashes):
        return np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    a, b = _permutations()
    mixed = _fmix32(hashes.astype(np.uint32)).reshape(-1, 1)
    return np.asarray((mixed * a + b).min(axis=0), dtype=np.uint32)


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (uint32 arithmetic wraps, as the hash intends)."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of each permutation, drawn as datasketch draws them for seed 1."""
    generator = np.random.RandomState(1)
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


#: (bands, rows per band) that datasketch's ``MinHashLSH`` picks for `LSH_THRESHOLD` and
#: `NUM_PERM` (equal weights on false positives and negatives); kept here so that
#: deduplicating needs no datasketch (see `signature`), checked against it by the tests.
BAND_SHAPE = (37, 3)


def band_shape() -> tuple[int, int]:
    """(bands, rows per band) of the LSH index (`BAND_SHAPE`)."""
    return BAND_SHAPE


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
    a: frozenset[str] | np.ndarray,
    b: frozenset[str] | np.ndarray,
    names_a: frozenset[str] | np.ndarray | None = None,
    names_b: frozenset[str] | np.ndarray | None = None,
) -> Similarity:
    """Shingle Jaccard and containment, size ratio, and the share of names and numbers shared.

    The last is the share of the smaller text's names and numbers found in the other, when
    both name sets are given and large enough. Sets are strings (`shingles`, `entities`) or
    their hashes (`shingle_hashes`, `entity_hashes`, as stored), both sides alike.
    """
    if not len(a) or not len(b):
        return Similarity(0.0, 0.0, 0.0)
    shared = _shared(a, b)
    smaller, larger = sorted((len(a), len(b)))
    return Similarity(
        shared / (len(a) + len(b) - shared),
        shared / smaller,
        smaller / larger,
        entity_overlap(names_a, names_b),
    )


def entity_overlap(
    names_a: frozenset[str] | np.ndarray | None, names_b: frozenset[str] | np.ndarray | None
) -> float | None:
    """Share of the smaller set of names and numbers found in the other (None: too few)."""
    if names_a is None or names_b is None or min(len(names_a), len(names_b)) < MIN_ENTITIES:
        return None
    return _shared(names_a, names_b) / min(len(names_a), len(names_b))


def _shared(a: Any, b: Any) -> int:
    """Members two sets share: Python sets, or sorted distinct arrays of hashes."""
    if isinstance(a, np.ndarray):
        return int(np.intersect1d(a, b, assume_unique=True).size)
    return len(a & b)


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
    """What deduplication knows of one text.

    Attributes:
        content_hash: SHA-256 of the text's fingerprint (exact copies).
        shingles: the hashes of its shingles (`shingle_hashes`).
        signature: the MinHash signature.
        keys: one LSH key per band.
        entities: the hashes of its names and numbers (`entity_hashes`).

    """

    content_hash: str
    shingles: np.ndarray
    signature: np.ndarray
    keys: list[int]
    entities: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="<u8"))

    def sketch(self) -> Sketch:
        """What is stored with the article for verification."""
        return Sketch(self.shingles, self.entities)


@dataclass(frozen=True)
class Sketch:
    """What verifying a candidate needs of a stored text (``article_sketches``)."""

    shingles: np.ndarray
    entities: np.ndarray

    def shingles_bytes(self) -> bytes:
        """The shingle hashes as stored: little-endian 32-bit, ascending."""
        return self.shingles.astype("<u4").tobytes()

    def entities_bytes(self) -> bytes:
        """The name and number hashes as stored: little-endian 64-bit, ascending."""
        return self.entities.astype("<u8").tobytes()


def shingles_from_bytes(data: bytes) -> np.ndarray:
    """Stored shingle hashes as an array (`Sketch.shingles_bytes`)."""
    return np.frombuffer(data, dtype="<u4")


def entities_from_bytes(data: bytes) -> np.ndarray:
    """Stored name and number hashes as an array (`Sketch.entities_bytes`)."""
    return np.frombuffer(data, dtype="<u8")


def fingerprint(text: str | None) -> Fingerprint:
    """Hash, shingles, MinHash signature, LSH band keys, names and numbers of a text."""
    key = fingerprint_text(text or "")
    hashes = key_shingle_hashes(key)
    values = signature(hashes)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return Fingerprint(digest, hashes, values, band_keys(values), entity_hashes(entities(text)))


def sketch_of(text: str | None) -> Sketch:
    """The sketch of a text (for articles stored without one)."""
    return Sketch(key_shingle_hashes(fingerprint_text(text or "")), entity_hashes(entities(text)))


@dataclass(frozen=True)
class Match:
    """The first stored copy a new text duplicates."""

    canonical_url: str
    similarity: float


class Deduplicator:
    """Finds the first stored copy of a text: in the database, and among this run's recent items.

    Reads only; the store writes each article's hash, bands and sketch with its row. Items of
    the current run are also kept (the last `recent_limit`), because a batch not yet committed
    is invisible to other database connections; they are indexed by hash and by band, so
    looking among them costs the same however many there are.

    Reads run on a session's connection, or on a connection given. The caller ends the read
    transaction after each lookup (rollback), so that later commits are seen. On SQLite, given
    a connection, the reads run outside any transaction (`DriverStatement`), each seeing
    every commit made before it: no BEGIN and ROLLBACK per article (issue 11).
    """

    def __init__(self, session: Session | Connection, *, recent_limit: int = 2000):
        self.session = session
        self.recent_limit = recent_limit
        self._recent: OrderedDict[str, tuple[Fingerprint, str | None]] = OrderedDict()
        self._by_hash: dict[str, list[str]] = {}
        self._by_band: dict[tuple[int, int], list[str]] = {}
        self._order: dict[str, int] = {}  # when each recent item was remembered
        self._remembered = 0

    def find(self, canonical_url: str, print_: Fingerprint) -> Match | None:
        """The first copy of `print_` other than `canonical_url` itself, or None."""
        exact = self._exact(canonical_url, print_)
        if exact is not None:
            return exact
        best: Match | None = None
        best_score = 0.0  # unrounded: compared with the rounded one, a later equal copy won
        for url, origin, sketch in self._candidates(canonical_url, print_):
            if (origin or url) == canonical_url:
                continue  # a copy of this very article, stored while it was away
            overlap = entity_overlap(print_.entities, sketch.entities)
            if overlap is not None and overlap < ENTITY_THRESHOLD:
                continue  # another event from the same template: its shingles are not needed
            similarity = compare(
                print_.shingles, sketch.shingles(), print_.entities, sketch.entities
            )
            if is_near_duplicate(similarity) and (best is None or similarity.score > best_score):
                best = Match(origin or url, round(similarity.score, 4))
                best_score = similarity.score
        return best

    def remember(self, canonical_url: str, print_: Fingerprint, duplicate_of: str | None) -> None:
        """Keep an item of this run for the rest of the run."""
        if canonical_url in self._recent:
            self._forget(canonical_url)
        self._recent[canonical_url] = (print_, duplicate_of)
        self._remembered += 1
        self._order[canonical_url] = self._remembered
        self._by_hash.setdefault(print_.content_hash, []).append(canonical_url)
        for band in enumerate(print_.keys):
            self._by_band.setdefault(band, []).append(canonical_url)
        while len(self._recent) > self.recent_limit:
            self._forget(next(iter(self._recent)))

    def _forget(self, canonical_url: str) -> None:
        print_, _ = self._recent.pop(canonical_url)
        del self._order[canonical_url]
        _unlist(self._by_hash, print_.content_hash, canonical_url)
        for band in enumerate(print_.keys):
            _unlist(self._by_band, band, canonical_url)

    def _exact(self, canonical_url: str, print_: Fingerprint) -> Match | None:
        # The first remembered item with this hash, in the order they were remembered.
        for url in self._by_hash.get(print_.content_hash, ()):
            origin = self._recent[url][1]
            if url != canonical_url and origin != canonical_url:
                return Match(origin or url, 1.0)
        rows = self._read(_reads().exact, hash=print_.content_hash, url=canonical_url)
        if not rows:
            return None
        url, duplicate_of = rows[0]
        if duplicate_of == canonical_url:
            return None
        return Match(duplicate_of or url, 1.0)

    def _candidates(
        self, canonical_url: str, print_: Fingerprint
    ) -> list[tuple[str, str | None, _Candidate]]:
        """(url, its original, its sketch) of every stored text sharing an LSH band.

        This run's items first, in the order they were remembered; then stored articles in
        the order they were stored.
        """
        found: dict[str, tuple[str | None, _Candidate]] = {}
        near = {url for band in enumerate(print_.keys) for url in self._by_band.get(band, ())}
        near.discard(canonical_url)
        for url in sorted(near, key=self._order.__getitem__):
            other, origin = self._recent[url]
            found[url] = (origin, _Candidate(other.entities, other.shingles))
        wanted = set(enumerate(print_.keys))
        # Looked up by key alone (an index every database uses well; row-value IN lists are
        # not, on SQLite), then kept only where the band matches too.
        hits = self._read(_reads().band_hits, keys=print_.keys)
        ids = sorted({article_id for article_id, band, key in hits if (band, key) in wanted})
        rows: Sequence[Any] = ()
        if ids:
            # Names and numbers first (a few bytes each); shingles only for candidates that
            # pass them (`_Candidate.shingles`).
            rows = self._read(_reads().candidate_rows, ids=ids, url=canonical_url)
        for article_id, url, duplicate_of, names in rows:
            if url in found:
                continue
            if names is None:
                # Stored without a sketch (written by another program): made from its text.
                sketch = sketch_of(self._text(article_id))
                candidate = _Candidate(sketch.entities, sketch.shingles)
            else:
                candidate = _Candidate(
                    entities_from_bytes(names), article_id=article_id, reader=self._connection
                )
            found[url] = (duplicate_of, candidate)
        return [(url, origin, candidate) for url, (origin, candidate) in found.items()]

    def _text(self, article_id: int) -> str | None:
        from sqlalchemy import select

        from dvcrawl.db.models import ArticleRow

        return self.session.scalar(select(ArticleRow.text).where(ArticleRow.id == article_id))

    def _connection(self) -> Connection:
        """The connection reads run on: the session's, or the one given."""
        from sqlalchemy.orm import Session

        if isinstance(self.session, Session):
            return self.session.connection()
        return self.session

    def _read(self, statement: DriverStatement, **values: Any) -> list[tuple[Any, ...]]:
        """The rows of a prepared read (SQL, not ORM: issue 11)."""
        return statement.rows(self._connection(), values)


@dataclass(frozen=True)
class _Reads:
    exact: DriverStatement
    band_hits: DriverStatement
    candidate_rows: DriverStatement
    shingles: DriverStatement


@functools.cache
def _reads() -> _Reads:
    """The reads of every lookup, built once.

    Through the ORM, then through SQLAlchemy's execution, they cost more than the lookups
    themselves (issue 11: dedup is the main process's work during `import --jobs`); on SQLite
    they run on the driver's cursor (`DriverStatement`). Built on first use: fingerprinting,
    all that import's worker processes do here, needs no SQLAlchemy, and the command's
    serial start is shorter without it.
    """
    from sqlalchemy import bindparam, select

    from dvcrawl.db import DriverStatement
    from dvcrawl.db.models import ArticleRow, ArticleSketch, LshBand

    articles = ArticleRow.__table__
    return _Reads(
        exact=DriverStatement(
            select(articles.c.canonical_url, articles.c.duplicate_of)
            .where(
                articles.c.content_hash == bindparam("hash"),
                articles.c.canonical_url != bindparam("url"),
            )
            .order_by(articles.c.id)
            .limit(1)
        ),
        band_hits=DriverStatement(
            select(LshBand.article_id, LshBand.band, LshBand.key).where(
                LshBand.key.in_(bindparam("keys", expanding=True))
            )
        ),
        candidate_rows=DriverStatement(
            select(
                articles.c.id,
                articles.c.canonical_url,
                articles.c.duplicate_of,
                ArticleSketch.entities,
            )
            .outerjoin(ArticleSketch, ArticleSketch.article_id == articles.c.id)
            .where(
                articles.c.id.in_(bindparam("ids", expanding=True)),
                articles.c.canonical_url != bindparam("url"),
            )
            .order_by(articles.c.id)
        ),
        shingles=DriverStatement(
            select(ArticleSketch.shingles).where(ArticleSketch.article_id == bindparam("id"))
        ),
    )


class _Candidate:
    """A candidate's sketch: its names and numbers now, its shingles when first asked for."""

    def __init__(
        self,
        entities: np.ndarray,
        shingles: np.ndarray | None = None,
        *,
        article_id: int | None = None,
        reader: Callable[[], Connection] | None = None,
    ):
        self.entities = entities
        self._shingles = shingles
        self._article_id = article_id
        self._reader = reader

    def shingles(self) -> np.ndarray:
        """The candidate's shingle hashes (read from the database the first time)."""
        if self._shingles is None:
            assert self._reader is not None and self._article_id is not None
            rows = _reads().shingles.rows(self._reader(), {"id": self._article_id})
            self._shingles = shingles_from_bytes(rows[0][0] if rows and rows[0][0] else b"")
        return self._shingles


def _unlist(index: dict[Any, list[str]], key: Any, value: str) -> None:
    values = index.get(key)
    if values is not None:
        values.remove(value)
        if not values:
            del index[key]
