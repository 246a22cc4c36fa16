"""Teasers: the repeated items of a listing page, found by structure in any language.

A teaser is a headline link with a lead sentence, a date or a thumbnail beside it. Navigation
follows the links that head teasers (`dvcrawl.navigation`); the article verdict uses them too:
a page whose body is one teaser among others is a listing, however long that teaser's lead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from dvcrawl.extract.boilerplate import CHROME_CLASS
from dvcrawl.extract.dates import find_dates
from dvcrawl.extract.page import HtmlElement, Page, element_text

# Words of link text that make a link a headline rather than a menu entry or a "more" link.
_HEADLINE_WORDS = 4
# Words outside links that make an item's text a lead sentence rather than a label.
_TEASER_WORDS = 8
_CHROME_TAGS = frozenset({"nav", "footer", "header", "aside"})


def in_chrome(element: HtmlElement) -> bool:
    """Whether an element sits in a menu, sidebar, footer, header or "hot news" box."""
    for node in (element, *element.iterancestors()):
        if node.tag in _CHROME_TAGS:
            return True
        names = f"{node.get('class', '')} {node.get('id', '')}".strip()
        if names and CHROME_CLASS.search(names):
            return True
    return False


def teaser_links(page: Page) -> list[str]:
    """URLs that head teasers: the repeated items of a listing (see the module docstring)."""
    return list(dict.fromkeys(url for _, url in teasers(page)))


def teasers(page: Page) -> list[tuple[HtmlElement, str]]:
    """The teasers of a listing page: (item element, the URL its headline links to).

    An item is the widest element around a headline link (four words or more) that holds no
    other headline link and opens with it. It is a teaser when it also holds two of: a lead
    sentence, a date, a thumbnail -- or one of them, when three or more items of the same shape
    stand side by side.
    """
    items: list[tuple[HtmlElement, str, int]] = []
    for anchor, url in _headline_anchors(page):
        item = _item_around(anchor, url, page)
        if not _opens_with(item, anchor):
            continue  # "Gửi cho bạn bè" under an article is a link, not the article's headline
        evidence = _teaser_evidence(item, anchor)
        items.append((item, url, evidence))
    shapes = Counter(
        (_shape(item.getparent()), _shape(item))
        for item, _, _ in items
        if item.getparent() is not None
    )
    found: list[tuple[HtmlElement, str]] = []
    for item, url, evidence in items:
        repeated = (
            shapes[(_shape(item.getparent()), _shape(item))] >= 3
            if item.getparent() is not None
            else False
        )
        if (evidence >= 2 or (evidence >= 1 and repeated)) and not in_chrome(item):
            found.append((item, url))
    return found


#: A teaser's headline stands at its top: before it, at most a picture with a short caption,
#: a kicker or a date (this many words, or a quarter of the item's).
_WORDS_BEFORE_HEADLINE = 25


def _opens_with(item: HtmlElement, anchor: HtmlElement) -> bool:
    """Whether the item's text before its headline link is no more than a caption or a kicker."""
    before = []
    for text in anchor.xpath("preceding::text()"):
        owner = text.getparent() if text.is_text else text.getparent().getparent()
        if owner is not None and (owner is item or item in owner.iterancestors()):
            before.append(str(text))
    words_before = len(" ".join(before).split())
    if words_before <= _WORDS_BEFORE_HEADLINE:
        return True
    return words_before <= 0.25 * len(element_text(item).split())


def _headline_anchors(page: Page) -> Iterator[tuple[HtmlElement, str]]:
    for anchor in page.root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        text = element_text(anchor) or (anchor.get("title") or "")
        if len(text.split()) >= _HEADLINE_WORDS:
            yield anchor, page.absolute(href).split("#", 1)[0]


def _links_to(element: HtmlElement, url: str, page: Page) -> bool:
    """Whether every headline link inside `element` points to `url`."""
    for anchor in element.iter("a"):
        href = (anchor.get("href") or "").strip()
        text = element_text(anchor) or (anchor.get("title") or "")
        if len(text.split()) < _HEADLINE_WORDS or not href:
            continue
        if page.absolute(href).split("#", 1)[0] != url:
            return False
    return True


def _item_around(anchor: HtmlElement, url: str, page: Page) -> HtmlElement:
    """The widest ancestor of `anchor` (at most five levels up) about this one link."""
    item = anchor
    for _ in range(5):
        parent = item.getparent()
        if parent is None or parent.tag in {"body", "html"} or not _links_to(parent, url, page):
            break
        item = parent
    return item


def _teaser_evidence(item: HtmlElement, anchor: HtmlElement) -> int:
    """How many of (a lead sentence, a date, a thumbnail) the item holds beside its headline."""
    text = element_text(item)
    linked = " ".join(element_text(a) for a in item.iter("a"))
    unlinked = len(text.split()) - len(linked.split())
    lead = unlinked >= _TEASER_WORDS
    dated = bool(find_dates(text))
    image = any((img.get("src") or img.get("data-src") or "").strip() for img in item.iter("img"))
    return int(lead) + int(dated) + int(image)


def _shape(element: HtmlElement | None) -> tuple[str, str]:
    if element is None:
        return ("", "")
    return str(element.tag), " ".join(sorted((element.get("class") or "").split()))
