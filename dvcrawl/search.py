"""Full-text search over the corpus: SQLite FTS5, or PostgreSQL's full-text search.

Vietnamese readers type queries with or without diacritics, so the search takes either:

* a query **without diacritics** matches any diacritics: "dan van kheo" finds "Dân vận khéo",
  and "d" also matches "đ";
* a query **with diacritics** (any letter of it, "đ" included) matches them as typed, with the
  old and new tone-mark placement taken as one spelling (hoà = hòa, thuý = thúy, uỷ = ủy) and
  every other mark kept apart (hòa ≠ hóa ≠ hoa);
* ``"…"`` is a phrase (its words in that order, next to each other); every other word is
  required somewhere in the title or the text; ``word*`` is a prefix.

**SQLite** keeps two FTS5 indexes of ``articles`` (title and text), both *external content*
tables over the articles table itself, so the text is stored once:

* ``articles_fts``, tokenizer ``unicode61 remove_diacritics 2``: marks are folded away, so a
  query without diacritics matches every spelling. The tokenizer keeps "đ" apart from "d"
  (U+0111 has no decomposition), so each "d" of an unaccented query word is searched as
  "d" or "đ" (``("dan" OR "đan")``).
* ``articles_fts_accents``, tokenizer ``unicode61 remove_diacritics 0``: marks are kept, so
  a query with diacritics matches them exactly; a query word in an open syllable with a tone
  (hòa, thúy, ủy) is searched in both placements (``("hòa" OR "hoà")``), the equivalence being
  `dvcrawl.extract.text.unify_tone_marks`.

Triggers on ``articles`` (insert, delete, update of title or text) keep both indexes in step
with every writer: a crawl, ``dvcrawl import``, a deduplication update, the ``sqlite3`` shell.
A batch of dvcrawl's own writes may defer its new articles' indexing to its end, in one
statement (`defer_indexing`), which no other connection ever sees.
They are plain SQL (no function that only dvcrawl's connections know), so any SQLite client,
Datasette included, can read and write the database. ``articles_fts`` is declared with
``content="articles"``, which is how Datasette recognises a table's search index.

**PostgreSQL** has two generated ``tsvector`` columns on ``articles`` with GIN indexes, from
the ``simple`` configuration (no stemming, no stop words): ``search_folded`` over the text with
every Vietnamese letter folded to its base letter ("đ" to "d") by ``translate()``, and
``search_accents`` over the text lower-cased with its marks. ``translate()`` is used rather than
the ``unaccent`` extension because a generated column needs an immutable expression and
``unaccent`` is neither immutable nor always installed.

Relevance is BM25 (SQLite, title weighted 4x) or ``ts_rank_cd`` (PostgreSQL, title weight A);
the snippet is cut from the text around the best cluster of matched words, which are marked
``**like this**``.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text

from dvcrawl.export import CorpusFilter
from dvcrawl.extract.text import unify_tone_marks

#: The one-row table of a batch that defers its indexing (`defer_indexing`).
DEFERRED_TABLE = "search_deferred"
#: The FTS5 table with folded diacritics (the one Datasette uses).
FOLDED_TABLE = "articles_fts"
#: The FTS5 table that keeps diacritics.
ACCENTS_TABLE = "articles_fts_accents"
#: Variants one query term may expand to ("d" or "đ", two tone placements), at most.
MAX_VARIANTS = 256
#: Words in a snippet.
SNIPPET_WORDS = 24
#: Marks around a matched word in a snippet.
MARK = "**"


class SearchError(ValueError):
    """A query that cannot be searched, or a database without a search index."""


# --- Vietnamese letters ------------------------------------------------------------------------

_BASES = "aăâeêioôơuưy"
_TONE_MARKS = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
#: Every precomposed Vietnamese vowel (lower case), e.g. "ậ", and "đ".
VIETNAMESE_LETTERS = (
    "".join(unicodedata.normalize("NFC", base + mark) for base in _BASES for mark in _TONE_MARKS)
    + "đ"
)
# Word characters as FTS5's unicode61 tokenizer sees them: letters, digits and marks; "_" and
# punctuation separate words.
_WORD = re.compile(r"[^\W_]+")


def fold(word: str) -> str:
    """Lower case without any mark, "đ" as "d": what an unaccented query word stands for.

    >>> fold("Đảng Thanh Hoá")
    'dang thanh hoa'
    """
    decomposed = unicodedata.normalize("NFD", word.casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return stripped.replace("đ", "d")


#: Vietnamese letters (both cases) to their lower-case base letter, for `str.translate`.
_FOLD_TABLE = str.maketrans(
    {
        form: fold(letter)
        for letter in VIETNAMESE_LETTERS
        for form in (letter, letter.upper())
        if form != fold(letter)
    }
)


@functools.lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """`fold` for one word of an article, fast: a translation table for Vietnamese letters."""
    folded = word.translate(_FOLD_TABLE).lower()
    return folded if folded.isascii() else fold(word)


@functools.lru_cache(maxsize=65536)
def tone_key(word: str) -> str:
    """One word lower-cased, its tone mark in the new placement (hoà -> hòa)."""
    return unify_tone_marks(word.casefold())


def has_diacritics(query: str) -> bool:
    """Whether any letter of `query` carries a mark (or is "đ")."""
    return fold(query) != unicodedata.normalize("NFC", query).casefold()


def tone_variants(word: str) -> list[str]:
    """`word` (lower case) in the new and the old tone-mark placement, new first.

    >>> tone_variants("hoà")
    ['hòa', 'hoà']
    >>> tone_variants("hóa"), tone_variants("hoàn")
    (['hóa', 'hoá'], ['hoàn'])
    """
    new = unify_tone_marks(unicodedata.normalize("NFC", word.casefold()))
    decomposed = unicodedata.normalize("NFD", new)
    # The inverse of unify_tone_marks: the mark moves from the first vowel of an open
    # oa/oe/uy syllable back to the second. Kept only if unify_tone_marks maps it back.
    old = unicodedata.normalize(
        "NFC",
        re.sub(
            r"(?<!q)(o)([\u0300\u0301\u0303\u0309\u0323])([ae])$|(?<!q)(u)([\u0300\u0301\u0303\u0309\u0323])(y)$",
            lambda m: (
                (m.group(1) or m.group(4)) + (m.group(3) or m.group(6)) + (m.group(2) or m.group(5))
            ),
            decomposed,
        ),
    )
    if old != new and unify_tone_marks(old) == new:
        return [new, old]
    return [new]


def d_variants(word: str) -> list[str]:
    """A folded word with each "d" read as "d" or "đ".

    >>> d_variants("dan")
    ['dan', 'đan']
    """
    positions = [i for i, char in enumerate(word) if char == "d"]
    variants = []
    for choice in itertools.product("dđ", repeat=len(positions)):
        letters = list(word)
        for position, letter in zip(positions, choice, strict=True):
            letters[position] = letter
        variants.append("".join(letters))
    return variants


# --- queries -------------------------------------------------------------------------------


@dataclass
class Term:
    """One required part of a query: a word, or a phrase of words in order."""

    words: list[str]
    prefix: bool = False


@dataclass
class Query:
    """A parsed query: its terms and whether it is matched with its diacritics."""

    terms: list[Term]
    accented: bool
    raw: str = ""
    _variants: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def word_variants(self, word: str) -> list[str]:
        """The spellings one query word is searched as."""
        if word not in self._variants:
            self._variants[word] = tone_variants(word) if self.accented else d_variants(fold(word))
        return self._variants[word]

    def term_variants(self, term: Term) -> list[list[str]]:
        """Every spelling of a term, as lists of words (the product of its words' variants)."""
        choices = [self.word_variants(word) for word in term.words]
        count = 1
        for choice in choices:
            count *= len(choice)
        if count > MAX_VARIANTS:
            raise SearchError(
                f"the phrase {' '.join(term.words)!r} has too many spellings to search "
                "(type its diacritics, or split it)"
            )
        return [list(words) for words in itertools.product(*choices)]


def parse_query(query: str) -> Query:
    """Parse a user's query: words, ``"phrases"``, ``prefix*``.

    Raises:
        SearchError: if the query has no word to search.

    """
    normalized = unicodedata.normalize("NFC", query).translate(
        str.maketrans({"“": '"', "”": '"', "„": '"'})
    )
    terms: list[Term] = []
    for match in re.finditer(r'"([^"]*)"?|([^\s"]+)', normalized):
        phrase, bare = match.group(1), match.group(2)
        source = phrase if phrase is not None else bare
        words = [word.casefold() for word in _WORD.findall(source)]
        if not words:
            continue
        prefix = bare is not None and bare.rstrip().endswith("*")
        terms.append(Term(words=words, prefix=prefix))
    if not terms:
        raise SearchError(f"nothing to search for in {query!r}")
    return Query(terms=terms, accented=has_diacritics(normalized), raw=query)


def fts5_expression(query: Query) -> str:
    """The FTS5 MATCH expression of a parsed query (for the table its mode searches).

    >>> fts5_expression(parse_query('"dan van" kheo'))
    '("dan van" OR "đan van") AND "kheo"'
    """
    parts = []
    for term in query.terms:
        star = "*" if term.prefix else ""
        spellings = [f'"{" ".join(words)}"{star}' for words in query.term_variants(term)]
        parts.append(spellings[0] if len(spellings) == 1 else f"({' OR '.join(spellings)})")
    # FTS5 joins two phrases by an implicit AND, but not a parenthesized group: say it.
    return " AND ".join(parts)


def tsquery_expression(query: Query) -> str:
    """The PostgreSQL ``to_tsquery('simple', …)`` text of a parsed query.

    >>> tsquery_expression(parse_query('"hoà bình"'))
    "(('hòa' | 'hoà') <-> 'bình')"
    """
    parts = []
    for term in query.terms:
        words = []
        for index, word in enumerate(term.words):
            star = ":*" if term.prefix and index == len(term.words) - 1 else ""
            # The folded column has "d" for "đ" already: one spelling when unaccented.
            spellings = tone_variants(word) if query.accented else [fold(word)]
            options = [f"'{spelling}'{star}" for spelling in spellings]
            words.append(options[0] if len(options) == 1 else f"({' | '.join(options)})")
        parts.append(words[0] if len(words) == 1 else f"({' <-> '.join(words)})")
    return " & ".join(parts)


# --- snippets ------------------------------------------------------------------------------


def word_matcher(query: Query) -> Callable[[str], bool]:
    """Whether a word of an article is one the query matched (for highlighting)."""
    if query.accented:
        wanted = {
            (unify_tone_marks(w), t.prefix and i == len(t.words) - 1)
            for t in query.terms
            for i, w in enumerate(t.words)
        }

        key = tone_key
    else:
        wanted = {
            (fold(w), t.prefix and i == len(t.words) - 1)
            for t in query.terms
            for i, w in enumerate(t.words)
        }
        key = fold_word
    exact = {w for w, prefix in wanted if not prefix}
    prefixes = tuple(w for w, prefix in wanted if prefix)
    # An article repeats its words: each distinct word is folded once per search.
    seen: dict[str, bool] = {}

    def matches(word: str) -> bool:
        found = seen.get(word)
        if found is None:
            form = key(word)
            found = form in exact or (bool(prefixes) and form.startswith(prefixes))
            seen[word] = found
        return found

    return matches


def make_snippet(text: str | None, query: Query, *, words: int = SNIPPET_WORDS) -> str:
    """A stretch of `text` around the densest cluster of matched words, which are marked.

    >>> make_snippet("Phong trào Dân vận khéo ở cơ sở.", parse_query("dan van"), words=4)
    '…trào **Dân** **vận** khéo…'
    """
    tokens = (text or "").split()
    if not tokens:
        return ""
    matches = word_matcher(query)
    hits = [any(matches(w) for w in _WORD.findall(token)) for token in tokens]
    best_start, best_count = 0, -1
    count = sum(hits[:words])
    for start in range(max(1, len(tokens) - words + 1)):
        if start:
            count += (hits[start + words - 1] if start + words - 1 < len(hits) else 0) - hits[
                start - 1
            ]
        if count > best_count:
            best_start, best_count = start, count
    # Start one word before the first hit of the window, so the hit has some context.
    first_hit = next(
        (i for i in range(best_start, best_start + words) if i < len(hits) and hits[i]), None
    )
    if first_hit is not None and first_hit > best_start + 1:
        best_start = first_hit - 1
    best_start = max(0, min(best_start, len(tokens) - words))
    window = tokens[best_start : best_start + words]
    marked = []
    for token in window:
        pieces = re.split(r"([^\W_]+)", token)
        marked.append(
            "".join(
                f"{MARK}{p}{MARK}" if p and _WORD.fullmatch(p) and matches(p) else p for p in pieces
            )
        )
    prefix = "…" if best_start > 0 else ""
    suffix = "…" if best_start + words < len(tokens) else ""
    return prefix + " ".join(marked) + suffix


# --- the index -----------------------------------------------------------------------------


def _sqlite_index_ddl() -> list[str]:
    statements = [
        # content="articles" (double quotes) is what Datasette's detect_fts looks for.
        f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FOLDED_TABLE} USING fts5(
            title, text, content="articles", content_rowid="id",
            tokenize="unicode61 remove_diacritics 2")""",
        f"""CREATE VIRTUAL TABLE IF NOT EXISTS {ACCENTS_TABLE} USING fts5(
            title, text, content='articles', content_rowid='id',
            tokenize='unicode61 remove_diacritics 0')""",
        # One row while a batch of writes defers its indexing (`defer_indexing`); never a
        # committed one.
        f"CREATE TABLE IF NOT EXISTS {DEFERRED_TABLE} (last_id INTEGER NOT NULL)",
    ]
    # The articles a deferring batch writes (ids above its last_id) are indexed at its end;
    # the others as always.
    new_row = f"NOT EXISTS (SELECT 1 FROM {DEFERRED_TABLE})"
    old_row = f"NOT EXISTS (SELECT 1 FROM {DEFERRED_TABLE} WHERE old.id > last_id)"
    for table in (FOLDED_TABLE, ACCENTS_TABLE):
        insert = f"INSERT INTO {table}(rowid, title, text) VALUES (new.id, new.title, new.text);"
        delete = (
            f"INSERT INTO {table}({table}, rowid, title, text) "
            f"VALUES ('delete', old.id, old.title, old.text);"
        )
        statements += [
            f"CREATE TRIGGER IF NOT EXISTS {table}_ai AFTER INSERT ON articles "
            f"WHEN {new_row} BEGIN {insert} END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_ad AFTER DELETE ON articles "
            f"WHEN {old_row} BEGIN {delete} END",
            # Only a change of what is indexed touches the index, not a refreshed fetch time.
            f"CREATE TRIGGER IF NOT EXISTS {table}_au AFTER UPDATE OF title, text ON articles "
            f"WHEN {old_row} BEGIN {delete} {insert} END",
        ]
    return statements


def defers_indexing(connection: Connection) -> bool:
    """Whether the database's search index can defer a batch's indexing (`defer_indexing`)."""
    if connection.dialect.name != "sqlite":
        return False
    found = connection.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (DEFERRED_TABLE,)
    ).scalar()
    return found == 1


def defer_indexing(connection: Connection) -> None:
    """Index the articles this transaction writes at its end (`index_deferred`), not one by one.

    SQLite; call it first in a write transaction. Each article's insert would otherwise write both FTS5 indexes, and FTS5 writes its
    pending terms out at every later statement of the transaction (at each statement
    savepoint): a batch of 200 articles wrote 400 small index segments and merged them
    (a third of ``dvcrawl import``'s writing, issue 11). The row that says so is never
    committed, so no other connection sees it: their writes are indexed by the triggers as
    always. Articles written earlier and changed or deleted in the batch are indexed at once.
    """
    connection.exec_driver_sql(
        f"INSERT INTO {DEFERRED_TABLE}(last_id) SELECT coalesce(max(id), 0) FROM articles"
    )


def index_deferred(connection: Connection) -> None:
    """Index the articles written since `defer_indexing`, in one statement per index."""
    for table in (FOLDED_TABLE, ACCENTS_TABLE):
        connection.exec_driver_sql(
            f"INSERT INTO {table}(rowid, title, text) SELECT id, title, text FROM articles "
            f"WHERE id > (SELECT last_id FROM {DEFERRED_TABLE})"
        )
    connection.exec_driver_sql(f"DELETE FROM {DEFERRED_TABLE}")


def _pg_translation(*, folded: bool) -> tuple[str, str]:
    """``translate()`` arguments: Vietnamese letters to lower case (folded: to base letters)."""
    source, target = [], []
    for letter in VIETNAMESE_LETTERS:
        base = fold(letter) if folded else letter
        for form in (letter, letter.upper()):
            if form != base:
                source.append(form)
                target.append(base)
    return "".join(source), "".join(target)


def _pg_vector(*, folded: bool) -> str:
    source, target = _pg_translation(folded=folded)

    def column(name: str, weight: str) -> str:
        return (
            f"setweight(to_tsvector('simple'::regconfig, "
            f"translate(coalesce({name}, ''), '{source}', '{target}')), '{weight}')"
        )

    return f"{column('title', 'A')} || {column('text', 'B')}"


def _pg_index_ddl() -> list[str]:
    statements = []
    for name, folded in (("search_folded", True), ("search_accents", False)):
        statements += [
            f"ALTER TABLE articles ADD COLUMN IF NOT EXISTS {name} tsvector "
            f"GENERATED ALWAYS AS ({_pg_vector(folded=folded)}) STORED",
            f"CREATE INDEX IF NOT EXISTS ix_articles_{name} ON articles USING gin ({name})",
        ]
    return statements


def has_search_index(connection: Connection) -> bool:
    """Whether the database has its search index."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        found = connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name IN (?, ?)",
            (FOLDED_TABLE, ACCENTS_TABLE),
        ).scalar()
        return found == 2
    if dialect == "postgresql":
        found = connection.execute(
            text(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'articles' "
                "AND column_name IN ('search_folded', 'search_accents') "
                "AND table_schema = current_schema()"
            )
        ).scalar()
        return found == 2
    return False


def install_search_index(connection: Connection) -> bool:
    """Create the search index and its triggers if missing, and fill it; True if it was built.

    Safe to call on every start: it does nothing when the index exists. On a database other
    than SQLite and PostgreSQL, and on a SQLite built without FTS5, it does nothing (search
    then says why it cannot run).
    """
    dialect = connection.dialect.name
    if dialect not in {"sqlite", "postgresql"} or has_search_index(connection):
        return False
    if dialect == "sqlite":
        if not sqlite_has_fts5(connection):
            return False
        for statement in _sqlite_index_ddl():
            connection.exec_driver_sql(statement)
        # Index the articles stored before the index existed (a database of an earlier dvcrawl).
        for table in (FOLDED_TABLE, ACCENTS_TABLE):
            connection.exec_driver_sql(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
    else:
        for statement in _pg_index_ddl():
            connection.execute(text(statement))
    return True


def drop_search_index(connection: Connection) -> None:
    """Remove the search index, its triggers or generated columns (a migration's downgrade)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        for table in (FOLDED_TABLE, ACCENTS_TABLE):
            for suffix in ("ai", "ad", "au"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {DEFERRED_TABLE}")
    elif dialect == "postgresql":
        for name in ("search_folded", "search_accents"):
            connection.execute(text(f"DROP INDEX IF EXISTS ix_articles_{name}"))
            connection.execute(text(f"ALTER TABLE articles DROP COLUMN IF EXISTS {name}"))


def is_search_index_object(name: str | None) -> bool:
    """Whether a table, column or index name belongs to the search index, not to the models.

    Schema comparisons (tests/test_migrations.py, Alembic's autogenerate) leave them out.
    """
    return bool(name) and (
        name.startswith(
            (FOLDED_TABLE, DEFERRED_TABLE, "search_folded", "search_accents", "ix_articles_search_")
        )
    )


def sqlite_has_fts5(connection: Connection) -> bool:
    """Whether this SQLite library was built with FTS5."""
    options = {row[0] for row in connection.exec_driver_sql("PRAGMA compile_options")}
    return "ENABLE_FTS5" in options


# --- searching -----------------------------------------------------------------------------


@dataclass
class Hit:
    """One search result."""

    canonical_url: str
    url: str
    site: str
    title: str | None
    published_at: str | None
    snippet: str
    score: float
    relevance: float | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON Lines form of a hit."""
        return {
            "canonical_url": self.canonical_url,
            "url": self.url,
            "site": self.site,
            "title": self.title,
            "published_at": self.published_at,
            "snippet": self.snippet,
            "score": self.score,
            "relevance": self.relevance,
        }


def _filters(where: CorpusFilter, params: dict[str, Any]) -> list[str]:
    clauses = []
    if where.sites:
        clauses.append("a.site IN :sites")
        params["sites"] = list(where.sites)
    if where.since:
        clauses.append("a.published_at >= :since")
        params["since"] = where.since.isoformat()
    if where.until:
        # "YYYY-MM-DD" and "YYYY-MM-DDTHH:MM:SS+07:00" both sort below the next day.
        clauses.append("a.published_at < :until")
        params["until"] = (where.until + timedelta(days=1)).isoformat()
    if not where.include_duplicates:
        clauses.append("a.duplicate_of IS NULL")
    if where.min_relevance is not None:
        clauses.append("a.relevance >= :min_relevance")
        params["min_relevance"] = where.min_relevance
    return clauses


def search(
    engine: Engine, query: str, where: CorpusFilter | None = None, *, limit: int = 20
) -> list[Hit]:
    """The `limit` best articles for `query`, best first.

    Raises:
        SearchError: if the query is empty, or the database has no search index (another
            database than SQLite or PostgreSQL, or a SQLite without FTS5).

    """
    parsed = parse_query(query)
    where = where or CorpusFilter()
    params: dict[str, Any] = {"limit": limit}
    clauses = _filters(where, params)
    with engine.connect() as connection:
        dialect = connection.dialect.name
        if not has_search_index(connection):
            if dialect == "sqlite" and not sqlite_has_fts5(connection):
                raise SearchError("this Python's SQLite was built without FTS5: search needs it")
            if dialect not in {"sqlite", "postgresql"}:
                raise SearchError(f"search needs SQLite or PostgreSQL, not {dialect}")
            raise SearchError("the database has no search index: run `dvcrawl db upgrade`")
        if dialect == "sqlite":
            table = ACCENTS_TABLE if parsed.accented else FOLDED_TABLE
            params["match"] = fts5_expression(parsed)
            # Filter by id sets, never by joining every match to its article row (the row's
            # text lies before its other columns: reading them costs more than the search).
            # The "+" keeps FTS5 from taking the set as an index constraint, which would run
            # the full-text query once per id.
            narrowing = [clause for clause in clauses if clause != "a.duplicate_of IS NULL"]
            kept = ""
            if narrowing:
                # Site, date and relevance each have an index holding the id: no row is read.
                kept += (
                    " AND +rowid IN (SELECT a.id FROM articles AS a WHERE "
                    + " AND ".join(narrowing)
                    + ")"
                )
            if not where.include_duplicates:
                kept += (
                    " AND +rowid NOT IN (SELECT id FROM articles WHERE duplicate_of IS NOT NULL)"
                )
            statement = text(
                f"SELECT rowid AS id, -bm25({table}, 4.0, 1.0) AS score FROM {table} "
                f"WHERE {table} MATCH :match{kept} ORDER BY score DESC, rowid LIMIT :limit"
            )
        else:
            column = "search_accents" if parsed.accented else "search_folded"
            params["tsquery"] = tsquery_expression(parsed)
            statement = text(
                f"SELECT a.id, ts_rank_cd(a.{column}, q) AS score "
                f"FROM articles AS a, to_tsquery('simple', :tsquery) AS q "
                f"WHERE a.{column} @@ q"
                + "".join(f" AND {clause}" for clause in clauses)
                + " ORDER BY score DESC, a.id LIMIT :limit"
            )
        if where.sites:
            statement = statement.bindparams(bindparam("sites", expanding=True))
        best = connection.execute(statement, params).all()
        # Then the few rows shown, text included.

        scores = {row.id: float(row.score) for row in best}
        rows = {
            row.id: row
            for row in connection.execute(
                text(
                    "SELECT id, canonical_url, url, site, title, published_at, text, relevance "
                    "FROM articles WHERE id IN :ids"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": list(scores) or [-1]},
            )
        }
    ordered = [(rows[row.id], scores[row.id]) for row in best if row.id in rows]
    return [
        Hit(
            canonical_url=row.canonical_url,
            url=row.url,
            site=row.site,
            title=row.title,
            published_at=row.published_at,
            snippet=make_snippet(row.text, parsed) or (row.title or ""),
            score=round(score, 6),
            relevance=row.relevance,
        )
        for row, score in ordered
    ]
