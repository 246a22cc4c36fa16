"""A parsed page: the one object every extractor reads, and the one way bytes become text.

Parsing happens once; metadata, JSON-LD and element lookups are cached. Nothing here knows
about Scrapy: a `Page` is built from stored HTML, so extraction can be re-run on archives.

`decode_page` is the only decoding path: a crawl, ``dvcrawl import`` and ``dvcrawl extract``
give the same text for the same bytes (NUL bytes removed and counted, a declared charset that
the bytes contradict detected and reported).

Hostile pages are parsed in bounded time and memory, and never lose their article silently
(issue 10): libxml2 stops at 256 levels of nesting and at text nodes or attributes over
10 MB unless told otherwise, which made such pages "non-articles". Here huge inline
``data:`` URIs are dropped before parsing, the parser is allowed large nodes, and nesting
deeper than `MAX_DEPTH` is flattened (the text kept, the wrappers removed); each of these is
recorded in `Page.limits` and logged with the page's URL.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import itertools
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, TypeAlias, TypeVar
from urllib.parse import urljoin

import cssselect
import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

from dvcrawl.extract import compiled as compiled_walks
from dvcrawl.extract.text import INVISIBLE, clean_line

HtmlElement: TypeAlias = lxml.html.HtmlElement

logger = logging.getLogger(__name__)

# huge_tree: libxml2 otherwise drops everything after a text node or attribute of 10 MB, or
# after 256 levels of nesting (with it: 2048). Size is bounded upstream (DOWNLOAD_MAXSIZE,
# the CLI's MAX_PAGE_BYTES), depth below (`MAX_DEPTH`).
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, huge_tree=True)
# Every element an `HtmlElement`, chosen in C: lxml.html's own lookup calls a Python method
# for each element proxy made (a quarter of a million calls for the gold pages, issue 11),
# to give forms and inputs classes extraction never uses.
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)
#: Deeper elements are flattened: real pages nest 20-60 levels; the extractors walk the tree
#: recursively, and Python's stack is about 1000 frames.
MAX_DEPTH = 256
#: libxml2's own nesting limit with huge_tree: a tree this deep lost what came after.
_PARSER_DEPTH_LIMIT = 2000
#: Inline ``data:`` URIs longer than this are dropped before parsing (a base64 image is not
#: text, and an article image must be a URL).
MAX_DATA_URI = 64 * 1024


class NotHTML(ValueError):
    """Raised when bytes are not an HTML page (empty, binary, or another format)."""


# Magic numbers of formats that end up at article URLs: PDFs and Office files attached to
# notices, images, archives.
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive or Office document",
    b"\xd0\xcf\x11\xe0": "an old Office document",
    b"\x1f\x8b": "gzip-compressed data",
    b"RIFF": "a RIFF media file",
}
_HTML_HINT = re.compile(
    rb"<\s*(?:!doctype|html|head|body|div|p|meta|title|article|span|table)\b", re.I
)


@dataclass(frozen=True)
class DecodingProblem:
    """Something about a page's bytes that decoding had to repair, in one line.

    ``kind`` is "control_chars" (NUL and other control bytes removed), "charset_mismatch" (the
    declared charset is not what the bytes are), "charset_guessed" (none declared, and not
    UTF-8), or "undecodable" (bytes replaced by U+FFFD).
    """

    kind: str
    detail: str


@dataclass(frozen=True)
class DecodedPage:
    """A page's text, the encoding it was read with, and what had to be repaired."""

    text: str
    encoding: str
    problems: tuple[DecodingProblem, ...] = ()


# C0 control characters other than tab, newline, form feed and carriage return: never text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
#: Share of control bytes above which a body is binary data, not a damaged page (an HTML page
#: with stray NUL bytes has a handful in thousands; binary formats have them everywhere).
_BINARY_SHARE = 0.05
#: Tried when the declared charset is contradicted and no other is declared: the legacy
#: Vietnamese Windows code page, the one older portals use.
_FALLBACK_ENCODING = "cp1258"


def decode_page(body: bytes, content_type: str | None = None) -> DecodedPage:
    """Decode page bytes to text, checking the declared charset against the bytes.

    Order: a BOM; then UTF-8 when the bytes are valid UTF-8 (valid UTF-8 is almost never an
    accident, so it wins over a declaration that says otherwise, and the mismatch is
    reported); then the charset of the HTTP header or ``<meta>``; then windows-1258. A few
    NUL or control bytes in a page are removed and reported; many mean binary data.

    Raises:
        NotHTML: if `body` is empty, binary, or has no HTML markup at all.

    """
    if not body.strip():
        raise NotHTML("the page is empty")
    for signature, kind in _BINARY_SIGNATURES.items():
        if body.startswith(signature):
            raise NotHTML(f"not an HTML page ({kind})")
    problems: list[DecodingProblem] = []
    header = http_content_type_encoding(content_type) if content_type else None
    bom_encoding, bom = read_bom(body)
    if bom_encoding or (header or "").startswith("utf-16"):
        encoding = bom_encoding or header or "utf-16"
        text = body[len(bom or b"") :].decode(encoding, "replace")
    else:
        head = body[:65536]
        controls = len(_CONTROL_BYTES.findall(head))
        if controls > _BINARY_SHARE * len(head):
            raise NotHTML("not an HTML page (binary data)")
        declared = [e for e in (header, html_body_declared_encoding(body)) if e]
        text, encoding = _decode_checked(body, declared, problems)
    if not _HTML_HINT.search(text[:65536].encode("utf-8", "ignore")):
        raise NotHTML("not an HTML page (no HTML markup found)")
    controls = len(_CONTROL.findall(text))
    if controls:
        text = _CONTROL.sub("", text)
        problems.append(
            DecodingProblem("control_chars", f"{controls} NUL or control characters removed")
        )
    return DecodedPage(text, encoding, tuple(problems))


def _decode_checked(
    body: bytes, declared: list[str], problems: list[DecodingProblem]
) -> tuple[str, str]:
    """Decode `body` without a BOM: valid UTF-8 first, then the declared charsets."""
    names = [_codec_name(e) for e in declared]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        others = [e for e, n in zip(declared, names, strict=True) if n not in ("utf-8", "ascii")]
        if others and not body.isascii():
            problems.append(
                DecodingProblem(
                    "charset_mismatch", f"declared {others[0]}, but the bytes are UTF-8"
                )
            )
        return text, "utf-8"
    candidates = [e for e, n in zip(declared, names, strict=True) if n != "utf-8"]
    for encoding in [*candidates, _FALLBACK_ENCODING]:
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if not declared:
            problems.append(
                DecodingProblem(
                    "charset_guessed", f"no charset declared, not UTF-8: read as {encoding}"
                )
            )
        elif len(candidates) < len(declared) or encoding not in candidates:
            problems.append(
                DecodingProblem(
                    "charset_mismatch",
                    f"declared {declared[0]}, but the bytes are not UTF-8: read as {encoding}",
                )
            )
        return text, encoding
    encoding = candidates[0] if candidates else _FALLBACK_ENCODING
    try:
        text = body.decode(encoding, "replace")
    except LookupError:
        encoding = _FALLBACK_ENCODING
        text = body.decode(encoding, "replace")
    bad = text.count("\ufffd")
    problems.append(
        DecodingProblem("undecodable", f"{bad} bytes are not {encoding}: replaced with U+FFFD")
    )
    return text, encoding


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding.lower()


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The text of `decode_page` (see there).

    Raises:
        NotHTML: if `body` is empty, binary, or has no HTML markup at all.

    """
    return decode_page(body, content_type).text


class Page:
    """A parsed HTML page plus the URL it came from.

    Args:
        html: the page's markup, already decoded.
        url: the URL the page was fetched from (used to resolve relative links).
        fetched_at: when it was fetched; dates after it are rejected as "future".

    """

    def __init__(self, html: str, url: str, fetched_at: datetime | None = None):
        self.url = url
        self.fetched_at = fetched_at
        #: What was cut to keep parsing bounded (see the module docstring), one line each.
        self.limits: list[str] = []
        self.html = _drop_data_uris(html, self.limits)
        self.root = _parse(self.html, self.limits)
        for limit in self.limits:
            logger.warning("%s: %s", url, limit)
        #: Hidden elements that hold most of the page's prose, or the rest of a body behind a
        #: "read more" button, shown (`_show_revealed`, `_show_continuations`).
        self.shown = _show_hidden_prose(self.root, self.html, url)
        self._texts: dict[HtmlElement, str] = {}
        self._raws: dict[HtmlElement, str] = {}
        self._hidden: dict[HtmlElement, bool] = {}
        #: Characters the text caches may still hold: a few times the page, so that a hostile
        #: page (a 10 MB paragraph 50 levels deep) cannot make them hold it 50 times over.
        self._text_budget = max(_MIN_TEXT_BUDGET, _TEXT_BUDGET_PAGES * len(self.html))
        self._selected: dict[str, list[HtmlElement]] = {}
        self._memos: dict[str, dict[Any, Any]] = {}
        self._absolute: dict[str, str] = {}

    @contextlib.contextmanager
    def reading(self) -> Iterator[Page]:
        """Within this block, `element_text` computes each element's text of this page once.

        Extraction reads the tree and never changes it, and asks for the text of the same
        elements again and again (headings, paragraphs, links): issue 11 counted 200,000 walks
        for 2,000 pages. Outside the block every call walks the tree, as before.
        """
        active = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(active)

    def memo(self, kind: str) -> dict[Any, Any]:
        """A cache of one kind of value derived from this page's (unchanging) tree."""
        found = self._memos.get(kind)
        if found is None:
            found = self._memos[kind] = {}
        return found

    # --- lookups -------------------------------------------------------------------------

    def css(self, selector: str, root: HtmlElement | None = None) -> list[HtmlElement]:
        """Elements matching a CSS selector, in document order."""
        if root is not None:
            selector = self.matchable(selector)
            return list(_compiled(selector)(root)) if selector else []
        found = self._selected.get(selector)
        if found is None:
            found = self._selected[selector] = self._select(selector)
        return list(found)

    def _select(self, selector: str) -> list[HtmlElement]:
        node_test = _NODE_TESTS.get(selector)
        if node_test is not None:
            test, build_order = node_test
            # A Python test of each node where libxml2 was slow (issue 11), over the page's
            # nodes in document order (which most pages' readers build anyway: the lead's
            # search, the title's, the region measure).
            if build_order or "order" in self.__dict__:
                if compiled is not None:
                    return compiled.select(self.order[0], _COMPILED_TESTS[selector], test)
                return [node for node in self.order[0] if test(node)]
        matchable = self.matchable(selector)
        if not matchable:
            return []
        if compiled is not None and (program := _css_program(matchable)) is not None:
            # Tested on each node in C (issue 11: libxml2's XPath for a class or a descendant
            # combinator took up to 0.1 ms on long pages).
            found = compiled.css_select(self.order[0], program)
            if found is not None:
                return found
        return list(_compiled(matchable)(self.root))

    def matchable(self, selector: str) -> str:
        """`selector` without the alternatives that name a class or id absent from the page.

        Portal and CMS selectors list many alternatives, most absent from any one page, and
        libxml2 tests every element against each (a tenth of extraction time, issue 11); the
        page's class and id names, gathered in two XPath calls, rule most of them out.
        Returns "" when nothing can match.
        """
        parts = _alternatives(selector)
        if parts is None:
            return selector
        classes, ids = self.names
        kept = [
            part
            for part, (needed_classes, needed_ids) in parts
            if needed_classes <= classes and needed_ids <= ids
        ]
        if len(kept) == len(parts):
            return selector
        return ", ".join(kept)

    @cached_property
    def order(self) -> tuple[list[HtmlElement], dict[HtmlElement, int]]:
        """The page's nodes in document order, and each node's position (computed once)."""
        return _document_order(self.root)

    @cached_property
    def names(self) -> tuple[frozenset[str], frozenset[str]]:
        """Every class name and every id used on the page."""
        classes = ids = None
        if compiled is not None:
            classes = compiled.attribute_values(self.root, "class")
            ids = compiled.attribute_values(self.root, "id")
        if classes is None or ids is None:
            classes, ids = _CLASS_VALUES(self.root), _ID_VALUES(self.root)
        return frozenset(" ".join(classes).split()), frozenset(ids)

    def first(self, selector: str, root: HtmlElement | None = None) -> HtmlElement | None:
        """The first element matching any of the comma-separated selectors, by selector order."""
        for part in selector.split(","):
            found = self.css(part.strip(), root)
            if found:
                return found[0]
        return None

    def text(self, selector: str) -> str | None:
        """Cleaned text of the first element matching `selector`, or None if absent or empty."""
        element = self.first(selector)
        return (element_text(element) or None) if element is not None else None

    def absolute(self, href: str) -> str:
        """Resolve a link against the page URL (and a ``<base href>`` if the page has one)."""
        found = self._absolute.get(href)
        if found is None:
            found = self._absolute[href] = urljoin(self.base_url, href.strip())
        return found

    @cached_property
    def base_url(self) -> str:
        """The page URL, or the ``<base href>`` the page declares."""
        base = self.root.find(".//base[@href]")
        return urljoin(self.url, base.get("href")) if base is not None else self.url

    @cached_property
    def meta(self) -> dict[str, str]:
        """``<meta>`` contents by lower-cased name/property/itemprop; the first occurrence wins."""
        found: dict[str, str] = {}
        for element in self.root.iter("meta"):
            key = element.get("property") or element.get("name") or element.get("itemprop")
            content = element.get("content")
            if key and content and key.lower() not in found:
                found[key.lower()] = clean_line(content)
        return found

    @cached_property
    def title_tag(self) -> str:
        """The text of ``<title>``."""
        element = self.root.find(".//title")
        return clean_line(element.text_content()) if element is not None else ""

    @cached_property
    def json_ld(self) -> list[dict[str, Any]]:
        """Every JSON-LD object on the page, ``@graph`` entries flattened."""
        objects: list[dict[str, Any]] = []
        for script in self.root.iter("script"):
            if (script.get("type") or "").lower() != "application/ld+json":
                continue
            try:
                data = json.loads(script.text or "")
            except ValueError:
                continue
            stack = data if isinstance(data, list) else [data]
            while stack:
                item = stack.pop(0)
                if isinstance(item, dict):
                    objects.append(item)
                    graph = item.get("@graph")
                    if isinstance(graph, list):
                        stack.extend(graph)
        return objects

    def json_ld_value(self, *keys: str) -> Any:
        """The first value found under any of `keys` in the page's JSON-LD objects."""
        for item in self.json_ld:
            for key in keys:
                if item.get(key):
                    return item[key]
        return None


#: Headline candidates: top-level headings and elements whose class names a title.
#: Class names say "title" in English and Vietnamese ("tiêu đề": ``tieude``, ``TieuDe``,
#: ``tieu-de``), or "headline": a portal whose ``<title>`` is its own name and whose headline
#: sits in a ``div.tieude`` lost its articles (no headline: no article).
HEADINGS = (
    "h1, h2, h3, [class*=title], [class*=Title], [class*=tieude], [class*=TieuDe], "
    "[class*=Tieude], [class*=tieu-de], [class*=tieu_de], [class*=headline], [class*=Headline]"
)
_HEADING_NAMES = (
    "title",
    "Title",
    "tieude",
    "TieuDe",
    "Tieude",
    "tieu-de",
    "tieu_de",
    "headline",
    "Headline",
)
#: ``<time>`` elements and microdata that say they are the publication time.
PUBLICATION_TIMES = (
    "time[itemprop=datePublished], time[pubdate], [itemprop=datePublished][datetime]"
)
_HEADING_TAGS = frozenset({"h1", "h2", "h3"})


def _is_heading(node: Any) -> bool:
    tag = node.tag
    if tag in _HEADING_TAGS:
        return True
    if not isinstance(tag, str):
        return False  # a comment or processing instruction
    names = node.get("class")
    # Three substring tests answer most class strings ("itle", "ieu", "eadline" are in every
    # name of _HEADING_NAMES); the exact ones run for the rest.
    return bool(names) and (
        ("itle" in names or "ieu" in names or "eadline" in names)
        and any(name in names for name in _HEADING_NAMES)
    )


def _is_publication_time(node: Any) -> bool:
    if node.get("itemprop") == "datePublished":
        return node.tag == "time" or node.get("datetime") is not None
    return node.tag == "time" and node.get("pubdate") is not None


#: Selectors that `Page.css` answers with a Python test of each node, and whether it builds
#: the page's document order for it when no reader has yet (for the second, libxml2 costs
#: less than building the order would). In libxml2 the headings took 0.1 to 0.2 ms a page (a
#: union of substring tests), the publication times 0.05 (issue 11). Each test selects what
#: its selector does (tests/test_fast_paths.py).
_NODE_TESTS: dict[str, tuple[Callable[[Any], bool], bool]] = {
    HEADINGS: (_is_heading, True),
    PUBLICATION_TIMES: (_is_publication_time, False),
}
#: The same tests in `_compiled.select`.
_COMPILED_TESTS = {HEADINGS: "heading", PUBLICATION_TIMES: "publication time"}
_CLASS_VALUES = etree.XPath("//@class", smart_strings=False)
_ID_VALUES = etree.XPath("//@id", smart_strings=False)
# A class or id name as cssselect reads it: any character from U+0080 on is a name character.
_NAMED = re.compile(r"([.#])(-?[_a-zA-Z\u0080-\uffff][\w\u0080-\uffff-]*)")
_ATTRIBUTE_TESTS = re.compile(r"\[[^\]]*\]")


@functools.lru_cache(maxsize=1024)
def _alternatives(
    selector: str,
) -> tuple[tuple[str, tuple[frozenset[str], frozenset[str]]], ...] | None:
    """Each comma-separated alternative with the classes and ids any match of it carries.

    None when the selector is beyond this simple reading (pseudo-classes such as ``:not(.x)``,
    whose classes are not required; escapes; quotes that may hold commas or dots).
    """
    if any(char in selector for char in ":\\\"'()"):
        return None
    parts = []
    for part in selector.split(","):
        part = part.strip()
        if not part:
            return None
        named = _NAMED.findall(_ATTRIBUTE_TESTS.sub(" ", part))
        classes = frozenset(name for mark, name in named if mark == ".")
        ids = frozenset(name for mark, name in named if mark == "#")
        parts.append((part, (classes, ids)))
    return tuple(parts)


@functools.lru_cache(maxsize=512)
def _compiled(selector: str) -> CSSSelector:
    """A CSS selector translated to XPath once (``cssselect`` translates on every call)."""
    return CSSSelector(selector, translator="html")


#: Attribute operators whose empty value matches nothing in cssselect ("0").
_CSS_NEEDS_VALUE = frozenset({"~=", "^=", "$=", "*="})


@functools.lru_cache(maxsize=512)
def _css_program(selector: str) -> Any:
    """`selector` compiled for `_compiled.css_select`, or None when it is beyond it.

    It reads what cssselect's HTML translator turns into XPath name and attribute tests
    (type and universal selectors, classes, ids, attribute tests without namespace or flag)
    joined by descendant and child combinators, with the translator's rules (lower-cased
    element and attribute names; an empty ``^=``, ``$=``, ``*=`` or ``~=`` value, or one
    with whitespace for ``~=``, matches nothing). Pseudo-classes and sibling combinators are
    left to lxml.
    """
    try:
        parsed = cssselect.parse(selector)
    except cssselect.SelectorError:
        return None
    alternatives = []
    for item in parsed:
        if item.pseudo_element is not None:
            return None
        compounds = []  # right to left
        node = item.parsed_tree
        while isinstance(node, cssselect.parser.CombinedSelector):
            combinator = compiled.CSS_COMBINATORS.get(node.combinator)
            compound = _css_compound(node.subselector)
            if combinator is None or compound is None:
                return None
            compounds.append((*compound, combinator))
            node = node.selector
        compound = _css_compound(node)
        if compound is None:
            return None
        compounds.append((*compound, 0))
        alternatives.append(compounds)
    return compiled.Selector(alternatives)


def _css_compound(node: Any) -> tuple[str | None, list[tuple[str, int, str | None]]] | None:
    """(tag or None, attribute tests) of one compound selector, or None beyond `_css_program`."""
    parser = cssselect.parser
    operators = compiled.CSS_OPERATORS
    tests: list[tuple[str, int, str | None]] = []
    while not isinstance(node, parser.Element):
        if isinstance(node, parser.Class):  # .name is [class~=name]
            kind, name, value = "~=", "class", node.class_name
        elif isinstance(node, parser.Hash):  # #name is [id=name]
            kind, name, value = "=", "id", node.id
        elif isinstance(node, parser.Attrib):
            if node.namespace is not None or node.flag is not None:
                return None
            kind, name = node.operator, node.attrib.lower()
            value = node.value.value if node.value is not None else None
            if kind not in operators or not _CSS_NAME.match(name) or (kind == "!=" and not value):
                return None
        else:
            return None  # a pseudo-class, a function, a negation
        if kind in _CSS_NEEDS_VALUE and (not value or (kind == "~=" and _CSS_SPACE.search(value))):
            kind = "never"
        tests.append((name, operators[kind], value))
        node = node.selector
    if node.namespace is not None:
        return None
    tag = node.element
    if tag is None or tag == "*":
        return None, tests
    if not _CSS_NAME.match(tag):
        return None
    return tag.lower(), tests


_CSS_SPACE = re.compile(r"[ \t\r\n\f]")
#: The names cssselect writes as XPath name tests (others it compares through name()).
_CSS_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.-]*$")


#: The text caches of a page hold at most this many times its size (and at least this much).
_TEXT_BUDGET_PAGES = 4
_MIN_TEXT_BUDGET = 1_000_000
#: The page being read (`Page.reading`), or None.
_ACTIVE: ContextVar[Page | None] = ContextVar("dvcrawl_page", default=None)


def reading_order(root: HtmlElement) -> tuple[list[HtmlElement], dict[HtmlElement, int]]:
    """`root`'s nodes in document order, and each node's position.

    For the root of the page being read, the page's own order, computed once (`Page.order`).
    """
    page = _ACTIVE.get()
    if page is not None and root is page.root:
        return page.order
    return _document_order(root)


def _document_order(root: HtmlElement) -> tuple[list[HtmlElement], dict[HtmlElement, int]]:
    nodes = list(root.iter())
    return nodes, dict(zip(nodes, range(len(nodes)), strict=True))


def reading_memo(kind: str) -> dict[Any, Any] | None:
    """The cache of one kind of derived value for the page being read, or None outside one.

    For helpers that take an element rather than a page: their answers hold as long as the
    page's tree does not change, which is the whole of `Page.reading`.
    """
    page = _ACTIVE.get()
    return None if page is None else page.memo(kind)


T = TypeVar("T")
_UNSET: Any = object()


def remembered(kind: str, key: Any, compute: Callable[[], T]) -> T:
    """`compute()`, once per `key` and `kind` while a page is read (`Page.reading`).

    Outside a reading it is computed on every call. The answers hold as long as the page's
    tree does not change, which is the whole of `Page.reading`.
    """
    memo = reading_memo(kind)
    if memo is None:
        return compute()
    found = memo.get(key, _UNSET)
    if found is _UNSET:
        found = memo[key] = compute()
    return found


def within_marked(element: HtmlElement, kind: str, marked: Callable[[HtmlElement], bool]) -> bool:
    """Whether `element` or one of its ancestors is `marked` (a menu, a footer, a sidebar...).

    While a page is read (`Page.reading`), each element is answered once per `kind`: the
    elements of a page share their ancestors, and walking up from each with a regex per
    ancestor was a twentieth of a listing-like page's extraction (issue 11).
    """
    memo = reading_memo(kind)
    if memo is None:
        return any(marked(node) for node in (element, *element.iterancestors()))
    return marked_upwards(element, marked, memo)


def marked_upwards(
    element: HtmlElement, marked: Callable[[HtmlElement], bool], memo: dict[HtmlElement, bool]
) -> bool:
    """Whether `element` or an ancestor is `marked`, each answer kept in `memo`.

    The walk up stops at the first element already answered: its answer is every element's
    below it.
    """
    unanswered: list[HtmlElement] = []
    node: HtmlElement | None = element
    answer = False
    while node is not None:
        known = memo.get(node)
        if known is not None:
            answer = known
            break
        unanswered.append(node)
        if marked(node):
            answer = True
            break
        node = node.getparent()
    for node in unanswered:
        memo[node] = answer
    return answer


def element_text(element: HtmlElement | None) -> str:
    """Visible text of an element: scripts and styles left out, whitespace cleaned.

    Block elements and ``<br>`` separate words; inline markup does not ("Hà<b>N</b>ội").
    """
    if element is None:
        return ""
    page = _ACTIVE.get()
    if page is None:
        return _element_text(element)
    text = page._texts.get(element)
    if text is None:
        if compiled is not None:
            # In C a walk of the subtree costs less than keeping every element's raw text;
            # it also collapses the whitespace (see `_compiled.clean_text`).
            text, plain = compiled.clean_text(element, hidden)
            if not plain:
                text = clean_line(compiled.raw_text(element, hidden))
            elif not text.isascii() and not unicodedata.is_normalized("NFC", text):
                text = unicodedata.normalize("NFC", text)
        else:
            # The raw text of every element below is kept too: a parent's text is made of
            # its children's, so each element is walked once however many ancestors ask.
            text = clean_line(_raw_text(element, page))
        if page._text_budget > len(text):
            page._text_budget -= len(text)
            page._texts[element] = text
    return text


def _raw_text(node: HtmlElement, page: Page) -> str:
    """The uncleaned text `_element_text` joins for `node`, kept in the page's cache."""
    raw = page._raws.get(node)
    if raw is not None:
        return raw
    if hidden(node):
        raw = ""
    else:
        parts: list[str] = []
        block = node.tag.lower() in BLOCK_TAGS
        if block:
            parts.append(" ")
        if node.text:
            parts.append(node.text)
        for child in node:
            parts.append(_raw_text(child, page))
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append(" ")
        raw = "".join(parts)
    if page._text_budget > len(raw):
        page._text_budget -= len(raw)
        page._raws[node] = raw
    return raw


def raw_length(element: HtmlElement) -> int:
    """``len(element.text_content())``: every character below, hidden or not, uncleaned."""
    if compiled is not None:
        return compiled.raw_length(element)
    return len(element.text_content())


def collapsed_length(element: HtmlElement) -> int:
    """``len(" ".join(element.text_content().split()))``: all the text below, collapsed.

    Hidden text counts (as in `raw_length`); whitespace runs count as one space.
    """
    if compiled is not None:
        return compiled.text_length(element)
    return len(" ".join(element.text_content().split()))


def first_visible_char(element: HtmlElement) -> str:
    """The first character `element_text` would give, read without building the text.

    "" for an element without visible text. The character is the page's own, before NFC
    composition: a letter followed by a combining mark may compose into another, so compare
    it with characters that compose with nothing, such as punctuation (issue 11: a portal's
    dateline "(Thanhuytphcm.vn) -" is looked for at the start of every container's text).
    """
    if hidden(element):
        return ""
    if element.text and (found := _first_shown(element.text)):
        return found
    for child in element:
        if found := first_visible_char(child):
            return found
        if child.tail and (found := _first_shown(child.tail)):
            return found
    return ""


def _first_shown(text: str) -> str:
    for char in text:
        if not char.isspace() and char not in _INVISIBLE_CHARS:
            return char
    return ""


_INVISIBLE_CHARS = frozenset(INVISIBLE)


def _element_text(element: HtmlElement) -> str:
    parts: list[str] = []

    def walk(node: HtmlElement) -> None:
        if is_hidden(node):
            return
        block = node.tag.lower() in BLOCK_TAGS
        if block:
            parts.append(" ")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append(" ")

    walk(element)
    return clean_line("".join(parts))


#: Elements that start a new line when rendered.
BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "center", "dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption"}
)  # fmt: skip
_HIDDEN_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "svg", "iframe", "object", "embed", "video", "audio", "canvas", "select", "option", "button", "input", "textarea"}
)  # fmt: skip

#: The compiled tree walks (`dvcrawl.extract.compiled`), or None: the Python walks below then
#: give the same texts and selections (tests/test_compiled.py).
compiled = compiled_walks.module
if compiled is not None:
    compiled.configure_text(BLOCK_TAGS, _HIDDEN_TAGS, _HEADING_TAGS, _HEADING_NAMES)


def is_hidden(node: Any) -> bool:
    """Whether an element is never rendered: scripts, styles, forms controls, display:none."""
    if not isinstance(node.tag, str) or node.tag.lower() in _HIDDEN_TAGS:
        return True
    style = node.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    return node.get("hidden") is not None or node.get("aria-hidden") == "true"


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def hidden(node: Any) -> bool:
    """`is_hidden`, answered once per element of the page being read (`Page.reading`)."""
    page = _ACTIVE.get()
    if page is None:
        return is_hidden(node)
    found = page._hidden.get(node)
    if found is None:
        found = page._hidden[node] = is_hidden(node)
    return found


_DATA_URI = re.compile(rf"data:[\w/+.-]*(?:;[\w=.-]+)*,[^\"'\s)<>]{{{MAX_DATA_URI},}}")


def _drop_data_uris(html: str, limits: list[str]) -> str:
    """Replace inline ``data:`` URIs over `MAX_DATA_URI` characters with an empty one."""
    if len(html) < MAX_DATA_URI or "data:" not in html:
        return html
    dropped: list[int] = []

    def empty(match: re.Match[str]) -> str:
        dropped.append(len(match.group(0)))
        return "data:,"

    html = _DATA_URI.sub(empty, html)
    if dropped:
        limits.append(
            f"{len(dropped)} inline data: URI(s) of {sum(dropped) / 1e6:.1f} MB dropped before parsing"
        )
    return html


#: Wrappers whose tags can go without losing text or paragraphs, when a page nests so deep that
#: libxml2 itself stopped (legacy pages with thousands of unclosed <font> tags).
_INLINE_WRAPPERS = re.compile(
    r"</?(?:font|span|b|i|u|em|strong|small|big|center|sup|sub|s|strike|tt|label|nobr)\b[^>]*>",
    re.I,
)
_BLOCK_WRAPPERS = re.compile(
    r"</?(?:div|section|article|main|aside|header|footer|nav|blockquote|table|tbody|thead|tfoot|tr|td|th|ul|ol|li|dl|dt|dd|form|fieldset)\b[^>]*>",
    re.I,
)
#: Elements kept when a too-deep subtree is flattened: none of them can nest in itself.
_FLAT_KEEP = {"p", "br", "img", "a", "h1", "h2", "h3", "h4", "h5", "h6"}


#: Whether the page's source has an inline style that may hide: 14 µs a gold page on the
#: source, where the parsed tree's styles took 30 µs and an XPath testing each element's
#: 150 µs (lower-case ``style``, as every page seen writes it).
_MAY_HIDE = re.compile(r"""style\s*=\s*["']?[^"'>]*(?:[Nn][Oo][Nn][Ee]|[Hh][Ii][Dd][Dd][Ee][Nn])""")
_STYLED = etree.XPath("//*[@style]")
#: The share of the page's prose an element hidden by its style must hold to be shown.
_SHOWN_SHARE = 0.5
#: ... and at least this many characters of it: a nearly empty page's hidden template stays
#: hidden.
_SHOWN_MIN_CHARS = 500
#: A paragraph of prose has a sentence of its own.
_PROSE_PARAGRAPH_CHARS = 60


def _show_hidden_prose(root: HtmlElement, html: str, url: str) -> list[HtmlElement]:
    """Show the hidden elements a reader would be shown the text of; return them.

    An element that holds most of the page's prose (`_show_revealed`), and one that continues
    the prose before it behind a "read more" button (`_show_continuations`). The source is
    searched first: most pages hide nothing by style or attribute.
    """
    styled = _hidden_by_style(root) if _MAY_HIDE.search(html) else []
    noscripts = "<noscript" in html
    shown = _show_revealed(root, styled, noscripts=noscripts) if styled or noscripts else []
    for element in shown:
        logger.debug("%s: a hidden <%s> holds most of the prose: shown", url, element.tag)
    by_attribute = _HIDDEN_BY_ATTRIBUTE(root) if _MAY_HIDE_BY_ATTRIBUTE.search(html) else []
    if styled or by_attribute:
        continued = _show_continuations([e for e in styled if e not in shown] + by_attribute)
        for element in continued:
            logger.debug("%s: a hidden <%s> continues the prose before it: shown", url, element.tag)
        shown += continued
    return shown


def _hidden_by_style(root: HtmlElement) -> list[HtmlElement]:
    """The elements hidden by their inline style."""
    return [e for e in _STYLED(root) if _HIDDEN_STYLE.search(e.get("style") or "")]


def _show_revealed(
    root: HtmlElement, styled: list[HtmlElement], *, noscripts: bool
) -> list[HtmlElement]:
    """Show the hidden elements that hold most of the page's prose.

    Templates hide the page until a script has run (``<div id="wrapper" style="display:none">``
    against a flash of unstyled content), and script-driven pages put their text for readers
    without scripts in ``<noscript>``, which is what a crawler is: taken as hidden, the article
    was lost, the page rejected as having no body. Prose is the text of paragraphs of a
    sentence or more (menus, sidebars and footers, often more text than the article, are
    not). Hidden menus, dialogs, tracking pixels and "enable JavaScript" notices hold little
    of it and stay hidden. `styled`: the elements hidden by their style (`_hidden_by_style`);
    `noscripts`: whether the source has a ``<noscript>``.
    """
    candidates = [*styled, *root.iter("noscript")] if noscripts else list(styled)
    # Prose is never longer than all the text: most hidden elements are answered by that.
    sizes = [
        (element, _prose_length(element))
        for element in candidates
        if raw_length(element) >= _SHOWN_MIN_CHARS
    ]
    large = [(element, size) for element, size in sizes if size >= _SHOWN_MIN_CHARS]
    if not large:
        return []
    body = root.find("body")
    total = _prose_length(body if body is not None else root)
    shown = []
    for element, size in large:
        if size > _SHOWN_SHARE * total:
            if element.tag == "noscript":
                element.tag = "div"
            else:
                element.set("style", _HIDDEN_STYLE.sub("", element.get("style") or ""))
            shown.append(element)
    return shown


#: Whether the page's source may have an element with the ``hidden`` attribute: 14 µs a gold
#: page, where a pattern anchored on the tag took 128 µs (a literal start is searched fast;
#: "visibility: hidden " matches too, and the tree is then asked exactly).
_MAY_HIDE_BY_ATTRIBUTE = re.compile(r"hidden(?:=|\s|>|/)")
_HIDDEN_BY_ATTRIBUTE = etree.XPath("//*[@hidden]")
#: Prose a hidden continuation must hold, and the visible prose that must come before it.
_CONTINUATION_MIN_CHARS = 200
_CONTINUED_MIN_CHARS = 120
#: Elements that hold a page's chrome, never its article.
_CHROME_TAGS = frozenset({"aside", "nav", "footer"})


def _show_continuations(candidates: list[HtmlElement]) -> list[HtmlElement]:
    """Show the hidden `candidates` that continue the visible prose before them.

    Portals cut long articles behind a "Xem thêm" / "Đọc tiếp" button: the rest of the body is
    in the page, in an element hidden by its style or the ``hidden`` attribute that a script
    shows. Taken as hidden, the stored text stopped mid-article, and nothing said so. Such an
    element holds prose (`_CONTINUATION_MIN_CHARS`) and follows visible prose under the same
    parent (`_CONTINUED_MIN_CHARS`); a hidden copy of that prose (print or reader versions)
    stays hidden, and so do hidden menus, dialogs and teasers, which hold little prose, and
    whatever sits in the page's chrome: under an ``<aside>``, ``<nav>`` or ``<footer>``, or
    in an element or one of its two nearest ancestors below ``<body>`` named as chrome and not
    as content (more comments, a sidebar's other tab, related news: `region._class_weight`).
    Farther ancestors are layout (a "sidebar-grid" holds the main column too). Never shown
    where unsure: left hidden, the text is what it was before this rule.
    """
    from dvcrawl.extract.region import _class_weight

    shown = []
    for element in candidates:
        if raw_length(element) < _CONTINUATION_MIN_CHARS or _inside_hidden(element):
            continue
        nearest = (e for e in element.iterancestors() if e.tag not in ("body", "html"))
        around = [element, *itertools.islice(nearest, 2)]
        if any(_class_weight(e) < 1 for e in around) or any(
            ancestor.tag in _CHROME_TAGS for ancestor in element.iterancestors()
        ):
            continue
        own = _prose_paragraphs(element)
        if sum(map(len, own)) < _CONTINUATION_MIN_CHARS:
            continue
        before = [
            text
            for sibling in element.itersiblings(preceding=True)
            if isinstance(sibling.tag, str) and not is_hidden(sibling)
            for text in _prose_paragraphs(sibling)
        ]
        if sum(map(len, before)) < _CONTINUED_MIN_CHARS or own[0] in before:
            continue
        style = element.get("style")
        if style:
            element.set("style", _HIDDEN_STYLE.sub("", style))
        element.attrib.pop("hidden", None)
        shown.append(element)
    return shown


def class_and_id(element: HtmlElement) -> str:
    """An element's class and id attributes, as one string to search for names."""
    return f"{element.get('class', '')} {element.get('id', '')}".strip()


def _inside_hidden(element: HtmlElement) -> bool:
    """Whether an ancestor of `element` is hidden (then so is the whole of it)."""
    return any(is_hidden(ancestor) for ancestor in element.iterancestors())


def _prose_paragraphs(element: HtmlElement) -> list[str]:
    """The collapsed texts of the paragraphs of prose at or below `element` (`_prose_length`)."""
    paragraphs = [element] if element.tag == "p" else element.iter("p")
    texts = (" ".join(p.text_content().split()) for p in paragraphs)
    return [text for text in texts if len(text) >= _PROSE_PARAGRAPH_CHARS]


def _prose_length(element: HtmlElement) -> int:
    """Characters of the paragraphs (``<p>`` of a sentence or more) in `element`."""
    lengths = (collapsed_length(p) for p in element.iter("p"))
    return sum(length for length in lengths if length >= _PROSE_PARAGRAPH_CHARS)


def _parse(html: str, limits: list[str] | None = None) -> HtmlElement:
    """Parse `html` with depth bounded (see the module docstring); note what was cut in `limits`."""
    limits = limits if limits is not None else []
    root = _parse_document(html)
    if not _DEEPER_THAN_MAX(root):
        return root  # the common case, found in C without walking the tree in Python
    depth = _max_depth(root)
    if depth >= _PARSER_DEPTH_LIMIT:
        # libxml2 stopped: whatever came after the deepest point is missing. Parse again
        # without inline wrappers, then without block wrappers.
        for wrappers in (_INLINE_WRAPPERS, _BLOCK_WRAPPERS):
            html = wrappers.sub(" " if wrappers is _BLOCK_WRAPPERS else "", html)
            root = _parse_document(html)
            depth = _max_depth(root)
            if depth < _PARSER_DEPTH_LIMIT:
                break
        limits.append(
            f"nesting deeper than libxml2's limit of {_PARSER_DEPTH_LIMIT}: wrapper tags removed before parsing"
        )
    if depth > MAX_DEPTH:
        flattened = _flatten_deep(root)
        limits.append(
            f"nesting of {depth} levels: {flattened} elements deeper than {MAX_DEPTH} flattened (text kept)"
        )
    return root


#: Whether any node lies deeper than `MAX_DEPTH` (the root element is at depth 1); text
#: nodes count too, so a page exactly `MAX_DEPTH` deep is measured in full, never missed.
_DEEPER_THAN_MAX = etree.XPath("boolean(" + "/node()" * (MAX_DEPTH + 1) + ")")


def _parse_document(html: str) -> HtmlElement:
    # lxml refuses str input carrying an XML encoding declaration, and raises on documents
    # with no elements; both are bad pages, not programming errors.
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    if not html.strip():
        return lxml.html.document_fromstring(_EMPTY_PAGE, parser=_PARSER)
    try:
        return lxml.html.document_fromstring(html, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring(_EMPTY_PAGE, parser=_PARSER)


_EMPTY_PAGE = "<html><body></body></html>"


def _max_depth(root: HtmlElement) -> int:
    depth = deepest = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    return deepest


def _flatten_deep(root: HtmlElement) -> int:
    """Strip the tags (not the text) of elements nested deeper than `MAX_DEPTH`; return how many."""
    frontier: list[HtmlElement] = []
    depth = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if event == "start" and depth == MAX_DEPTH:
            frontier.append(element)
    removed = 0
    for element in frontier:
        tags = {
            child.tag
            for child in element.iterdescendants()
            if isinstance(child.tag, str) and child.tag not in _FLAT_KEEP
        }
        before = sum(1 for _ in element.iterdescendants())
        if tags:
            etree.strip_tags(element, *tags)
        removed += before - sum(1 for _ in element.iterdescendants())
    return removed
