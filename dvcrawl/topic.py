"""Topic relevance: how much an article is about công tác dân vận, from 0 to 1.

The topic is data, a TOML file of weighted terms (``dvcrawl/topics/danvan.toml``, shipped with
the package and documented in its header); ``DVCRAWL_TOPIC_FILE`` points at one's own. Every
stored article carries its score in ``articles.relevance``; the database also keeps the name
and hash of the list that scored them (``topic_lists``, one row), so another list, or the same
file edited, rescores the corpus the next time dvcrawl opens it (`refresh_scores`).

Matching compares `dvcrawl.extract.text.fingerprint_text` keys: case, punctuation and the
old/new tone-mark placement are ignored, every other diacritic counts.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from dvcrawl.extract.text import fingerprint_text

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: The topic shipped with dvcrawl.
DEFAULT_TOPIC = "danvan"
#: Environment variable naming one's own topic file.
TOPIC_FILE_ENV = "DVCRAWL_TOPIC_FILE"


class TopicError(ValueError):
    """A topic file that cannot be read or is not a valid topic list."""


@dataclass(frozen=True)
class Term:
    """A word or phrase of the topic and its weight."""

    text: str
    weight: float
    key: str

    @functools.cached_property
    def needle(self) -> str:
        """The term as `spaced_key` writes it."""
        return spaced_key(self.key)

    @functools.cached_property
    def first_word(self) -> str:
        """The term's first word: a key without it as a word cannot hold the term."""
        return self.key.split()[0]

    def count(self, spaced: str) -> int:
        """Occurrences of the term as whole words in a `spaced_key` key."""
        return spaced.count(self.needle)


def spaced_key(key: str) -> str:
    """A `fingerprint_text` key with two spaces between words and one at each end.

    Each word then owns the spaces around it, so ``str.count`` finds whole-word occurrences
    side by side ("dân vận dân vận" holds "dân vận" twice), at C speed.

    >>> spaced_key("dân vận")
    ' dân  vận '
    """
    return _spaced(key.split())


def _spaced(words: list[str]) -> str:
    return " " + "  ".join(words) + " "


@dataclass(frozen=True)
class Topic:
    """A weighted term list and the rule that turns matches into a 0-1 relevance."""

    name: str
    description: str
    terms: tuple[Term, ...]
    threshold: float
    scale: float
    max_count: int
    title_bonus: float
    digest: str

    def points(self, title: str | None, text: str | None) -> float:
        """The article's points: each term's weight times its capped count, plus title bonus."""
        title_words = fingerprint_text(title or "").split()
        body_words = fingerprint_text(text or "").split()
        title_key = _spaced(title_words)
        body_key = _spaced(body_words)
        # Most terms are absent from an article: a term whose first word is not a word of the
        # article is skipped before its two searches of the text (issue 11: 120 searches of
        # a whole article each time otherwise).
        present = set(title_words).union(body_words)
        total = 0.0
        for term in self.terms:
            if term.first_word not in present:
                continue
            in_title = term.count(title_key)
            count = min(in_title + term.count(body_key), self.max_count)
            if count:
                total += term.weight * count
                if in_title:
                    total += term.weight * self.title_bonus
        return total

    def score(self, title: str | None, text: str | None) -> float:
        """Relevance between 0 and 1 (three decimals): ``1 - exp(-points / scale)``."""
        return round(1.0 - math.exp(-self.points(title, text) / self.scale), 3)

    def matched_terms(self, title: str | None, text: str | None) -> list[str]:
        """The terms found in an article (to explain a score)."""
        key = spaced_key(f"{fingerprint_text(title or '')} {fingerprint_text(text or '')}")
        return [term.text for term in self.terms if term.count(key)]


def load_topic(path: str | os.PathLike[str] | None = None) -> Topic:
    """Read a topic file: `path`, else ``$DVCRAWL_TOPIC_FILE``, else the shipped dân vận list.

    Raises:
        TopicError: if the file is missing, is not TOML, or lacks terms.

    """
    chosen = path or os.environ.get(TOPIC_FILE_ENV)
    if chosen:
        try:
            raw = Path(chosen).read_bytes()
        except OSError as exc:
            raise TopicError(f"cannot read topic file {chosen}: {exc.strerror}") from None
        where = str(chosen)
    else:
        raw = resources.files("dvcrawl.topics").joinpath(f"{DEFAULT_TOPIC}.toml").read_bytes()
        where = f"the shipped {DEFAULT_TOPIC} list"
    try:
        data = tomllib.loads(raw.decode("utf-8"))
        terms = tuple(
            Term(text=str(t["text"]), weight=float(t["weight"]), key=fingerprint_text(t["text"]))
            for t in data["terms"]
        )
        topic = Topic(
            name=str(data["name"]),
            description=str(data.get("description", "")),
            terms=terms,
            threshold=float(data.get("threshold", 0.5)),
            scale=float(data.get("scale", 6.0)),
            max_count=int(data.get("max_count", 3)),
            title_bonus=float(data.get("title_bonus", 2)),
            digest=hashlib.sha256(raw).hexdigest(),
        )
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise TopicError(f"{where} is not a valid topic list: {exc}") from None
    if not topic.terms or any(not t.key for t in topic.terms):
        raise TopicError(f"{where} is not a valid topic list: a term is empty or there are none")
    if topic.scale <= 0 or not 0 <= topic.threshold <= 1:
        raise TopicError(f"{where} is not a valid topic list: scale > 0 and 0 <= threshold <= 1")
    return topic


def refresh_scores(
    engine: Engine,
    topic: Topic,
    *,
    batch: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Score the articles that need it; return how many were scored.

    Every article is rescored when the stored list differs from `topic` (another file, or the
    file changed); otherwise only articles without a score (stored by a writer that does not
    score, or before scoring existed). Commits every `batch` articles, so a long rescoring
    never holds the write lock for long. `progress(done, total)` is called after each batch.
    """
    # Imported here: scoring alone (the import workers, the crawl's pipeline) needs no
    # SQLAlchemy, and the command's start is shorter without it (issue 11).
    from sqlalchemy import delete, select, update
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from dvcrawl.db import utcnow
    from dvcrawl.db.models import ArticleRow, TopicList

    with Session(engine) as session:
        # One row: the list that scored the stored relevances. Another list (another name, or
        # the same file edited) means every score is stale.
        stored = session.scalars(select(TopicList)).all()
        rescore_all = [(row.name, row.digest) for row in stored] != [(topic.name, topic.digest)]
        wanted = select(ArticleRow.id)
        if not rescore_all:
            wanted = wanted.where(ArticleRow.relevance.is_(None))
        ids = list(session.scalars(wanted.order_by(ArticleRow.id)))
        session.rollback()
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            rows = session.execute(
                select(ArticleRow.id, ArticleRow.title, ArticleRow.text).where(
                    ArticleRow.id.in_(chunk)
                )
            ).all()
            session.execute(
                update(ArticleRow),
                [{"id": row.id, "relevance": topic.score(row.title, row.text)} for row in rows],
            )
            session.commit()
            if progress:
                progress(min(start + batch, len(ids)), len(ids))
        if rescore_all:
            session.execute(delete(TopicList))
            session.add(TopicList(name=topic.name, digest=topic.digest, scored_at=utcnow()))
            try:
                session.commit()
            except IntegrityError:
                # Two writers opening one new database together (workers started at once on
                # PostgreSQL) both score and both record the list; the second record is the
                # first's twin, not a failure. Another list recorded meanwhile still is.
                session.rollback()
                recorded = [(row.name, row.digest) for row in session.scalars(select(TopicList))]
                if recorded != [(topic.name, topic.digest)]:
                    raise
        return len(ids)
