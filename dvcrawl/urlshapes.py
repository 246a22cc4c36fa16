r"""URL shapes learned from pages that proved to be articles.

A site declares the shape of its article URLs as a regex, but the declaration is often a guess.
When articles turn up under other URL forms (found by the structure of their listing pages and
recognized by their content), their URLs are generalized into patterns: the path split into
segments, each segment kept as written when it looks like a section name, or replaced by a class
when it looks like an id or a title slug, and the query's parameter names kept with their values
generalized.

    >>> print(shape_of("/tin-tuc/to-dan-van-phuong-ben-thanh-ra-mat-mo-hinh.htm"))
    ^/tin-tuc/[a-z0-9]+(?:-[a-z0-9]+)+\.htm$
    >>> print(shape_of("/noidung/tintuc/Lists/Tinhoatdong/View_Detail.aspx?ItemID=1234"))
    ^/noidung/tintuc/Lists/Tinhoatdong/View_Detail\.aspx\?ItemID=\d+$

Shapes of several URLs that differ only in a section name are merged into one pattern.
Learned shapes are kept in the database (`url_shapes`), used by later runs to recognize article
links, and shown beside the declared pattern by ``dvcrawl status``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

# Segment classes, most specific first. A slug is three or more words joined by hyphens or
# underscores: titles are long, section names ("tin-tuc", "dan-van") short.
_CLASSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d+"), r"\d+"),
    (re.compile(r"[0-9a-f]{12,}"), r"[0-9a-f]+"),
    (re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){2,}-\d+"), r"[a-z0-9]+(?:-[a-z0-9]+)*-\d+"),
    (re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){2,}-[0-9a-f]{12,}"), r"[a-z0-9-]+-[0-9a-f]+"),
    (re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){2,}"), r"[a-z0-9]+(?:-[a-z0-9]+)+"),
    (re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+){2,}"), r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+"),
    (re.compile(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+){2,}"), r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+"),
)
_EXTENSION = re.compile(r"^(.+?)(\.[A-Za-z0-9]{2,5})$")
# Sections that differ across a site's articles merge into an alternation up to this many names;
# beyond it, a segment that holds any section.
_MAX_ALTERNATIVES = 6
_ANY_SEGMENT = "[^/]+"
_DIGITS = r"\d+"
_ANY_VALUE = "[^&]*"


def _segment(text: str, *, last: bool) -> str:
    """The pattern of one path segment (without its extension).

    Ids are classes wherever they stand; a title slug only in the last segment, because the
    segments before it name sections ("cong-tac-dan-van"), which stay as written.
    """
    for shape, pattern in _CLASSES if last else _CLASSES[:2]:
        if shape.fullmatch(text):
            return pattern
    return _escape(text)


def _escape(text: str) -> str:
    # re.escape also escapes "-", which needs none outside a character class; patterns are
    # read by maintainers in `dvcrawl status`.
    return re.escape(text).replace("\\-", "-")


def _parts(path_and_query: str) -> tuple[list[str], list[str]]:
    """(segment patterns of the path, ``name=value-pattern`` items of the query)."""
    parts = urlsplit(path_and_query)
    segments = []
    pieces = [p for p in parts.path.split("/") if p]
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        extension = _EXTENSION.match(piece) if last else None
        if extension:
            segments.append(_segment(extension.group(1), last=True) + _escape(extension.group(2)))
        else:
            segments.append(_segment(piece, last=last))
    if parts.path.endswith("/") and pieces:
        segments[-1] += "/?"
    query = [
        _escape(name) + "=" + (_DIGITS if value.isdigit() else _ANY_VALUE)
        for name, value in sorted(parse_qsl(parts.query, keep_blank_values=True))
    ]
    return segments, query


def _join(segments: list[str], query: list[str]) -> str:
    path = "/" + "/".join(segments)
    return "^" + path + (r"\?" + "&".join(query) if query else "") + "$"


def shape_of(path_and_query: str) -> str:
    """The pattern (a regex anchored at both ends) of one URL's path and query."""
    return _join(*_parts(path_and_query))


@dataclass(frozen=True)
class LearnedShape:
    """A URL pattern and how many article URLs it was learned from."""

    pattern: str
    articles: int


def learn_shapes(paths: Iterable[str]) -> list[LearnedShape]:
    r"""Generalize article URLs (path and query) into shapes, most supported first.

    URLs whose shapes differ only in literal segments (section names) share one shape, with the
    differing segments as an alternation (or any segment, past a handful of names).

    >>> for shape in learn_shapes(["/a/x-y-z.htm", "/b/u-v-w-q.htm", "/b/chi-tiet.aspx?id=7"]):
    ...     print(shape.articles, shape.pattern)
    2 ^/(?:a|b)/[a-z0-9]+(?:-[a-z0-9]+)+\.htm$
    1 ^/b/chi-tiet\.aspx\?id=\d+$
    """
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[list[str]]] = defaultdict(list)
    for path in paths:
        segments, query = _parts(path)
        key = tuple(s if _is_class(s) else "" for s in segments), tuple(query)
        groups[key].append(segments)
    shapes = []
    for (skeleton, query), members in groups.items():
        merged = []
        for index, generic in enumerate(skeleton):
            if generic:
                merged.append(generic)
                continue
            names = sorted({member[index] for member in members})
            if len(names) == 1:
                merged.append(names[0])
            elif len(names) <= _MAX_ALTERNATIVES:
                merged.append("(?:" + "|".join(names) + ")")
            else:
                merged.append(_ANY_SEGMENT)
        shapes.append(LearnedShape(_join(merged, list(query)), len(members)))
    return sorted(shapes, key=lambda shape: (-shape.articles, shape.pattern))


def _is_class(segment: str) -> bool:
    """Whether a segment pattern is a class (id, slug) rather than a literal section name."""
    return any(segment.startswith(pattern) for _, pattern in _CLASSES)


def matches_any(patterns: Iterable[str], path_and_query: str) -> bool:
    """Whether a URL's path and query has one of the shapes."""
    return any(re.search(pattern, path_and_query) for pattern in patterns)
