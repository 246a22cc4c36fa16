"""Where the article is: the content region of a page, found by structure.

One walk over the page measures, for every element, the visible text it holds, the share of it
inside links and the text of its *prose paragraphs* (paragraph-like elements with a sentence of
their own, few links, outside chrome). From these:

1. every element gets a readability-style score from the paragraphs right below it (points by
   length and commas, credited to parent and grandparent), damped by link density, by class
   names that mean sidebar or comments, and by placement inside chrome;
2. the best-scoring element is widened over the sibling blocks that continue it (same shape,
   prose, no teaser headlines), so a body split over sibling blocks (one ``<div>`` per two
   paragraphs, an advert between them) is read whole, while menus, teasers, comments and
   footers beside it are left out (`widen`).

Inside the chosen container, blocks that trafilatura's curated boilerplate names mark (share
and newsletter boxes, meta lines, slideshows) are left out, unless they hold the body.

Class names are a hint, never a verdict: an element named "sidebar" or "footer" that holds most
of the page's prose is the page's main column (a layout wrapper such as ``l-sidebar-fixed``, an
ASP.NET ``<form>`` around the whole page), and names that also say content ("article-body")
outweigh names that say chrome. Nothing here depends on the page's language.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from dvcrawl.extract import compiled as compiled_walks
from dvcrawl.extract.boilerplate import CHROME_CLASS
from dvcrawl.extract.discard import discarded_below

# The tags `is_hidden` never renders, to find them with a C-level tag filter.
from dvcrawl.extract.page import _HIDDEN_TAGS as HIDDEN_TAGS
from dvcrawl.extract.page import (
    HtmlElement,
    class_and_id,
    is_hidden,
    reading_order,
    remembered,
)

# Each alternative is needed by a case in tests/test_boilerplate.py ("text" covers news-text
# and fulltext, "content" Liferay's journal-content).
POSITIVE_CLASS = re.compile(
    r"article|content|detail|chi-?tiet|body|post|entry|noi-?dung|main|story|text",
    re.IGNORECASE,
)
#: Names of areas that are chrome wherever they sit, whatever else the name says
#: ("comment-body" is a comment).
_ALWAYS_CHROME = re.compile(
    r"comment|binh-?luan|cookie|consent|gdpr|newsletter|outbrain|taboola",
    re.IGNORECASE,
)
#: Advert slots, named by short tokens that would match inside other words as substrings
#: ("ad" in "header", "load").
_AD_TOKEN = re.compile(
    r"(?:^|[\s_-])(?:ads?|advertisement|adslot|adunit|dfp|gpt|sponsored)(?:$|[\s_-])",
    re.IGNORECASE,
)
_CHROME_TAGS = frozenset({"footer", "nav", "aside", "header", "form"})
_PARAGRAPH_LIKE = frozenset(
    {"p", "div", "td", "li", "blockquote", "pre", "section", "article", "font", "span", "dd"}
)
#: Paragraphs that own all the text inside them; other containers own only their direct text
#: and inline children.
_WHOLE_PARAGRAPHS = frozenset({"p", "li", "blockquote", "pre", "dd"})
_INLINE = frozenset(
    {"b", "strong", "i", "em", "a", "span", "font", "u", "br", "sup", "sub", "small", "mark", "abbr", "cite", "q", "time", "label"}
)  # fmt: skip
#: Commas in Latin, CJK and Arabic scripts: a comma is a sign of running prose in any language.
_COMMAS = re.compile("[,，、،]")
#: A paragraph needs this many characters of its own to score.
MIN_PARAGRAPH_CHARS = 25
#: A paragraph is prose when less than this share of it is link text.
_PROSE_MAX_LINKS = 0.35
#: How much a character of non-prose text costs against a character of prose when the region
#: is widened: menus, teaser headlines and footers must not ride along with a split body.
_WIDEN_COST = 1.0


class Measures:
    """One measure of every element of a measured tree, looked up like a dict's ``get``.

    Backed by the measuring pass's lists: building a dict per measure for every element of
    every page cost more than the lookups it served (issue 11).
    """

    __slots__ = ("_position", "_values")

    def __init__(
        self, position: dict[HtmlElement, int] | None = None, values: list[int] | None = None
    ):
        self._position = position if position is not None else {}
        self._values = values if values is not None else []

    def get(self, element: HtmlElement, default: int = 0) -> int:
        """The element's measure, or `default` for an element outside the measured tree."""
        index = self._position.get(element)
        return default if index is None else self._values[index]


@dataclass
class TextMap:
    """Text measures of every element of a page (characters, whitespace collapsed).

    Attributes:
        chars: visible text in the element's subtree.
        linked: the part of it inside links.
        prose: the part of it in prose paragraphs outside chrome.
        scores: readability-style content score of candidate containers.
        chrome: the outermost chrome areas (footers, menus, sidebars, comments, adverts).

    """

    chars: Measures = field(default_factory=Measures)
    linked: Measures = field(default_factory=Measures)
    prose: Measures = field(default_factory=Measures)
    scores: dict[HtmlElement, float] = field(default_factory=dict)
    chrome: set[HtmlElement] = field(default_factory=set)

    def link_density(self, element: HtmlElement) -> float:
        """Share of an element's text inside links."""
        total = self.chars.get(element, 0)
        return min(1.0, self.linked.get(element, 0) / total) if total else 0.0


def _length(text: str | None) -> int:
    if not text or text.isspace():
        return 0
    return len(" ".join(text.split()))


def measure(root: HtmlElement) -> TextMap:
    """Measure `root` and score its candidate containers (see the module docstring).

    The map is computed once per element while its page is read (`Page.reading`); callers
    only read it.
    """
    return remembered("measure", root, lambda: _measure(root))


def _measure(root: HtmlElement) -> TextMap:
    if compiled is not None:
        nodes, position = reading_order(root)
        found = compiled.measure_tree(
            nodes,
            is_hidden,
            _is_chrome_area,
            _class_weight,
            MIN_PARAGRAPH_CHARS,
            _PROSE_MAX_LINKS,
        )
        if found is not None:
            chars, linked, prose, scores, chrome = found
            return TextMap(
                chars=Measures(position, chars),
                linked=Measures(position, linked),
                prose=Measures(position, prose),
                scores=scores,
                chrome=chrome,
            )
    return _measure_in_python(root)


def _measure_in_python(root: HtmlElement) -> TextMap:
    # One pass in reverse document order: every node's measures are complete when it is
    # reached (its descendants come after it), and are then added to its parent's. Plain
    # lists indexed by position, each element's tag and text read once (issue 11).
    nodes, position = reading_order(root)
    count = len(nodes)
    hidden = _hidden(root, nodes)
    tags: list[str | None] = [node.tag if isinstance(node.tag, str) else None for node in nodes]
    parents = [-1] * count
    for index in range(1, count):
        parents[index] = position.get(nodes[index].getparent(), -1)
    total = [0] * count  # text of the subtree (children's tails included)
    flat = [0] * count  # direct text, children's tails and inline children
    in_links = [0] * count
    flat_linked = [0] * count
    below = [0] * count  # paragraph text of element children
    paragraphs = [0] * count
    chars_of = [0] * count
    linked_of = [0] * count
    inline_of = [0] * count
    inline_linked_of = [0] * count
    inline_tags = _INLINE
    whole_tags = _WHOLE_PARAGRAPHS
    paragraph_tags = _PARAGRAPH_LIKE
    for index in range(count - 1, -1, -1):
        node = nodes[index]
        tag = tags[index]
        parent = parents[index]
        tail = node.tail
        tail_length = _length(tail) if tail else 0
        if parent >= 0:
            total[parent] += tail_length
            flat[parent] += tail_length
        if tag is None:
            continue  # a comment or processing instruction: only its tail is text
        if node in hidden:
            continue  # everything zero; its tail above still counts for the parent
        text = node.text
        own = _length(text) if text else 0
        node_total = total[index] + own
        node_flat = flat[index] + own
        node_links = in_links[index]
        node_flat_links = flat_linked[index]
        if tag == "a":
            node_links, node_flat_links = node_total, node_flat
        chars_of[index], linked_of[index] = node_total, node_links
        inline_of[index], inline_linked_of[index] = node_flat, node_flat_links
        if tag in whole_tags:
            paragraphs[index] = node_total
        elif tag in paragraph_tags and node_flat >= MIN_PARAGRAPH_CHARS:
            paragraphs[index] = below[index] + node_flat
        else:
            paragraphs[index] = below[index]
        if parent >= 0:
            total[parent] += node_total
            in_links[parent] += node_links
            below[parent] += paragraphs[index]
            if tag in inline_tags:
                flat[parent] += node_total
                flat_linked[parent] += node_links

    text_map = TextMap(chars=Measures(position, chars_of), linked=Measures(position, linked_of))
    page_total = paragraphs[0] if count else 0
    # Parents before children again: chrome areas, and everything inside them.
    in_chrome: set[HtmlElement] = set()
    # Elements with a class or id, or a chrome tag, read from the list at hand: an XPath with
    # five self:: tests cost more than the rest of this pass (issue 11).
    for index, element in enumerate(nodes):
        tag = tags[index]
        if tag is None or (
            tag not in _CHROME_TAGS and element.get("class") is None and element.get("id") is None
        ):
            continue
        if element is root or element in hidden or element in in_chrome:
            continue
        if _is_chrome_area(element, paragraphs[index], page_total):
            in_chrome.update(element.iter())
            text_map.chrome.add(element)

    scores: dict[HtmlElement, float] = defaultdict(float)
    prose_own = [0] * count
    for index, tag in enumerate(tags):
        if tag not in paragraph_tags:
            continue
        element = nodes[index]
        if element in hidden:
            continue
        whole = tag in whole_tags
        size = chars_of[index] if whole else inline_of[index]
        if size < MIN_PARAGRAPH_CHARS:
            continue
        links = linked_of[index] if whole else inline_linked_of[index]
        if links / size < _PROSE_MAX_LINKS and element not in in_chrome:
            prose_own[index] = size
        text = element.text_content() if whole else _direct_text(element)
        points = 1.0 + len(_COMMAS.findall(text)) + min(size / 100.0, 3.0)
        parent = element.getparent()
        if parent is None:
            continue
        scores[parent] += points
        grandparent = parent.getparent()
        if grandparent is not None:
            scores[grandparent] += points / 2
    # Prose sums, children before parents.
    prose_of = [0] * count
    for index in range(count - 1, -1, -1):
        tag = tags[index]
        if tag is None:
            continue
        own = prose_own[index]
        if own and tag in whole_tags:
            prose_of[index] = own
        else:
            prose_of[index] += own
        parent = parents[index]
        if parent >= 0:
            prose_of[parent] += prose_of[index]
    text_map.prose = Measures(position, prose_of)
    text_map.scores = {
        element: score
        * (1.0 - text_map.link_density(element))
        * _class_weight(element)
        * (0.1 if element in in_chrome else 1.0)
        for element, score in scores.items()
    }
    return text_map


def _hidden(root: HtmlElement, nodes: list[HtmlElement]) -> set[HtmlElement]:
    """Elements never rendered (scripts, forms controls, display:none), with their content.

    `nodes` are `root`'s, in document order. Styled elements are picked from them in Python:
    an XPath testing three attributes on every element took longer (issue 11).
    """
    styled = [
        node
        for node in nodes
        if (attributes := node.attrib)
        and (
            "style" in attributes
            or "hidden" in attributes
            or attributes.get("aria-hidden") == "true"
        )
        and isinstance(node.tag, str)
    ]
    hidden: set[HtmlElement] = set()
    for element in (*root.iter(*HIDDEN_TAGS), *styled):
        if element not in hidden and is_hidden(element):
            hidden.update(element.iter())
    return hidden


def _direct_text(element: HtmlElement) -> str:
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag in _INLINE:
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return " ".join(parts)


def _is_chrome_area(element: HtmlElement, paragraphs: int, page_total: int) -> bool:
    """A footer, menu, sidebar or comment area: by tag or name, unless it holds the page.

    An area that holds most of the page's paragraph text is not chrome whatever its name
    (ASP.NET wraps whole pages in a ``<form>``; a layout class such as ``l-sidebar-fixed``
    wraps the main column); a name that also says content ("article-body") outweighs a chrome
    name, except for comment and consent areas.
    """
    kind = _name_kind(class_and_id(element))
    if element.tag not in _CHROME_TAGS and kind not in {"chrome", "always"}:
        return False
    if kind == "always":
        return True
    return not (page_total and paragraphs > 0.5 * page_total)


@lru_cache(maxsize=4096)
def _name_kind(names: str) -> str:
    """What class and id names say: "always" chrome (comments, consent), "chrome", or "".

    Pages repeat the same class strings on many elements; the answer is cached by string.
    """
    if not names:
        return ""
    if _ALWAYS_CHROME.search(names):
        return "always"
    if (CHROME_CLASS.search(names) or _AD_TOKEN.search(names)) and not POSITIVE_CLASS.search(names):
        return "chrome"
    return ""


def _class_weight(element: HtmlElement) -> float:
    """Below 1 for names that mean sidebar or comments, above 1 for names that mean content."""
    return _names_weight(class_and_id(element))


@lru_cache(maxsize=4096)
def _names_weight(names: str) -> float:
    if not names:
        return 1.0
    positive = bool(POSITIVE_CLASS.search(names))
    weight = 1.0
    if CHROME_CLASS.search(names) and (not positive or _ALWAYS_CHROME.search(names)):
        weight *= 0.2
    if positive:
        weight *= 1.6
    return weight


def best_candidate(text_map: TextMap) -> HtmlElement | None:
    """The element with the highest content score, or None for pages without paragraphs."""
    if not text_map.scores:
        return None
    return max(text_map.scores.items(), key=lambda pair: pair[1])[0]


@dataclass(frozen=True)
class Region:
    """The article's container and the children of it that are not article.

    Attributes:
        root: the container (the best-scoring element, or an ancestor holding a split body).
        skip: elements inside `root` left out (teasers, comments, menus beside the body).

    """

    root: HtmlElement
    skip: frozenset[HtmlElement] = frozenset()


#: How far above the best-scoring element a split body is looked for.
_MAX_LEVELS = 6
#: Siblings with less text than this never end a body ("Advertisement" labels, share bars).
_NEUTRAL_CHARS = 120
#: Siblings of another shape with less text than this, and no teaser headline, are passed
#: over (a pull quote, a "read more" box) without ending the body.
_PASS_CHARS = 500
#: A line that is one link this long is a headline pointing elsewhere (a teaser).
_HEADLINE_LINK_CHARS = 25


def _kind(text_map: TextMap, element: HtmlElement, chain: HtmlElement) -> str:
    """How a sibling of the body relates to it.

    * "prose": it continues the body: the body's shape (same tag, a class in common), prose,
      no teaser headline;
    * "keep": a subheading, a figure or an empty media slot, kept between two parts of a body;
    * "pass": a small block of anything else (an advert label, a share bar, a pull quote),
      left out, but the body may continue after it;
    * "break": chrome, teasers, link lists, or a large block of another shape: the body ends.
    """
    chars = text_map.chars.get(element, 0)
    prose = text_map.prose.get(element, 0)
    teaser = _is_teaser(text_map, element)
    links = text_map.link_density(element)
    small = chars < _NEUTRAL_CHARS or (chars < _PASS_CHARS and not teaser and links < 0.5)
    if element in text_map.chrome:
        return "pass" if small else "break"  # an advert slot or a share bar; a sidebar
    if _same_shape(element, chain) and prose >= 0.5 * chars and links < 0.3 and not teaser:
        return "prose"
    if not teaser and _is_media_or_heading(text_map, element):
        return "keep"
    return "pass" if small else "break"


_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
#: The most text a figure holds besides its image (a long caption).
_FIGURE_CHARS = 700


def _is_media_or_heading(text_map: TextMap, element: HtmlElement) -> bool:
    """A subheading, a figure, an image with its caption, or an empty media slot."""
    chars = text_map.chars.get(element, 0)
    if not chars:
        return True
    if element.tag in _HEADING_TAGS:
        return True
    if chars <= _FIGURE_CHARS and (
        element.tag == "figure" or next(element.iter("img", "picture", "video"), None) is not None
    ):
        return True
    headings = list(element.iter(*_HEADING_TAGS))
    return bool(headings) and sum(text_map.chars.get(h, 0) for h in headings) >= 0.8 * chars


def _same_shape(a: HtmlElement, b: HtmlElement) -> bool:
    if a.tag != b.tag:
        return False
    classes_a, classes_b = set((a.get("class") or "").split()), set((b.get("class") or "").split())
    return classes_a == classes_b or bool(classes_a & classes_b)


def _is_teaser(text_map: TextMap, element: HtmlElement) -> bool:
    """Whether `element` holds teasers: lines that are one long link (a headline elsewhere).

    One such line in a long block is an author box or a "read also" line inside the body;
    two, or one over a short summary, are teasers.
    """
    found = 0
    for anchor in element.iter("a"):
        size = text_map.chars.get(anchor, 0)
        if size < _HEADLINE_LINK_CHARS:
            continue
        line = anchor.getparent()
        while line is not None and line.tag in _INLINE:
            line = line.getparent()
        if line is not None and text_map.chars.get(line, 0) <= 1.25 * size:
            found += 1
            if found >= 2:
                return True
    return found == 1 and text_map.prose.get(element, 0) < _PASS_CHARS


def widen(text_map: TextMap, top: HtmlElement) -> Region:
    """The best-scoring element, widened to the sibling blocks that continue its prose.

    At each level above `top` (up to `_MAX_LEVELS`), the run of siblings around the chain is
    extended over blocks that continue the body, subheadings, figures and small blocks
    (`_kind`), and ends at chrome, teasers, comments, link lists or large blocks of another
    shape; small blocks inside the run and everything outside it are left out. Each level is valued at its prose minus `_WIDEN_COST` times its other
    text; the best level wins.
    """

    def value(prose: int, chars: int) -> float:
        return prose - _WIDEN_COST * (chars - prose)

    prose = text_map.prose.get(top, 0)
    chars = text_map.chars.get(top, 0)
    best = Region(top)
    best_value = value(prose, chars)
    skip: set[HtmlElement] = set()
    node = top
    for _ in range(_MAX_LEVELS):
        parent = node.getparent()
        if parent is None or parent.tag in {"body", "html"}:
            break
        children = [c for c in parent if isinstance(c.tag, str)]
        index = children.index(node)
        low = high = index
        for step, stop in ((-1, -1), (1, len(children))):
            position = index + step
            while position != stop:
                kind = _kind(text_map, children[position], node)
                if kind == "break":
                    break
                if kind == "prose":
                    low, high = min(low, position), max(high, position)
                position += step
        for child in children[low : high + 1]:
            if child is node:
                continue
            if _kind(text_map, child, node) == "pass":
                skip.add(child)  # an "Advertisement" label between two parts of the body
                continue
            prose += text_map.prose.get(child, 0)
            chars += text_map.chars.get(child, 0)
        skip.update(children[:low])
        skip.update(children[high + 1 :])
        node = parent
        current = value(prose, chars)
        if current > best_value:
            best, best_value = Region(parent, frozenset(skip)), current
    return best


def content_region(
    root: HtmlElement,
    *,
    candidates: list[list[HtmlElement]] | None = None,
    drop: Callable[[HtmlElement], Iterable[HtmlElement]] | None = None,
) -> Region | None:
    """The region that holds the article body, or None for pages without paragraphs.

    Args:
        root: the page.
        candidates: containers a CMS family names as its body, in groups by preference; in
            the first group whose best container holds at least half the prose of the
            structural region, that container is taken.
        drop: finds, inside the chosen container, what a CMS family names as chrome; it is
            left out wherever it sits in the body.

    """
    text_map = measure(root)
    top = best_candidate(text_map)
    if top is None:
        return None
    region = widen(text_map, top)
    needed = 0.5 * _region_prose(text_map, region)
    for group in candidates or ():
        best = max(group, key=lambda element: text_map.prose.get(element, 0))
        prose = text_map.prose.get(best, 0)
        if prose >= max(needed, 1):
            # The tightest match that still holds the body (SharePoint nests rich-text fields
            # in rich-text web parts, the outer one around headline and toolbar).
            inner = [e for e in group if e is not best and inside_element(e, best)]
            tight = [e for e in inner if text_map.prose.get(e, 0) >= 0.9 * prose]
            region = Region(tight[-1] if tight else best)
            break
    # Chrome inside the body's container: share bars, advert slots, "related" boxes by name.
    inner = {
        element
        for element in text_map.chrome
        if element is not region.root and inside_element(element, region.root)
    }
    inner |= _discarded(text_map, region.root)
    if drop is not None:
        inner |= {element for element in drop(region.root) if element is not region.root}
    return Region(region.root, region.skip | inner) if inner else region


def _region_prose(text_map: TextMap, region: Region) -> int:
    return text_map.prose.get(region.root, 0) - sum(
        text_map.prose.get(element, 0) for element in region.skip
    )


def _discarded(text_map: TextMap, root: HtmlElement) -> set[HtmlElement]:
    """Blocks inside the body container that trafilatura's boilerplate names mark.

    trafilatura keeps a curated list of class and id tokens of boilerplate (bylines, meta
    lines, share and newsletter boxes, slideshows, "related" and "most popular" boxes); it is
    applied inside the chosen container only, and never to a block holding a quarter or more
    of the body's prose (a wrapper that happens to carry such a name). A block without prose
    is always discarded, also from a body whose text is all in short or linked lines (no
    prose at all): there, "a quarter of nothing" once kept the adverts of three pages of the
    public benchmark.
    """
    total = text_map.prose.get(root, 0)
    return {
        element
        for element in discarded_below(root)
        if (prose := text_map.prose.get(element, 0)) == 0 or prose < 0.25 * total
    }


def inside_element(element: HtmlElement, root: HtmlElement) -> bool:
    """Whether `element` is a descendant of `root`."""
    node = element.getparent()
    while node is not None:
        if node is root:
            return True
        node = node.getparent()
    return False


#: The compiled measuring pass, or None: `_measure` then runs in Python, with the same
#: results (tests/test_compiled.py).
compiled = compiled_walks.module
if compiled is not None:
    compiled.configure_measure(
        _INLINE, _WHOLE_PARAGRAPHS, _PARAGRAPH_LIKE, _CHROME_TAGS, HIDDEN_TAGS
    )
