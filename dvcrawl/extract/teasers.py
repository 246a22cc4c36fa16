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
from dvcrawl.extract.page import HtmlElement, Page, element_text, within_marked

# Words of link text that make a link a headline rather than a menu entry or a "more" link.
_HEADLINE_WORDS = 4
# Words outside links that make an item's text a lead sentence rather than a label.
_TEASER_WORDS = 8
_CHROME_TAGS = frozenset({"nav", "footer", "header", "aside"})


def in_chrome(element: HtmlElement) -> bool:
    """Whether an element sits in a menu, sidebar, footer, header or "hot news" box."""
    return within_marked(element, "teaser_chrome", _is_chrome)


def _is_chrome(node: HtmlElement) -> bool:
    if node.tag in _CHROME_TAGS:
        return True
    names = f"{node.get('class', '')} {node.get('id', '')}".strip()
    return bool(names and CHROME_CLASS.search(names))


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
    cached = page.memo("teasers").get(None)
    if cached is not None:
        return list(cached)
    targets = _link_targets(page)
    items: list[tuple[HtmlElement, str]] = []
    for anchor, url in _headline_anchors(page, targets):
        item = _item_around(anchor, url, targets)
        if not _opens_with(item, anchor):
            continue  # "Gửi cho bạn bè" under an article is a link, not the article's headline
        items.append((item, url))
    shapes = Counter(
        (_shape(item.getparent()), _shape(item))
        for item, _ in items
        if item.getparent() is not None
    )
    found: list[tuple[HtmlElement, str]] = []
    for item, url in items:
        repeated = (
            shapes[(_shape(item.getparent()), _shape(item))] >= 3
            if item.getparent() is not None
            else False
        )
        if _is_teaser(item, repeated) and not in_chrome(item):
            found.append((item, url))
    page.memo("teasers")[None] = tuple(found)
    return found


def may_hold_teaser(page: Page, element: HtmlElement) -> bool:
    """Whether any teaser of the page could hold `element`; when False, none does.

    A teaser's item holds headline links to one URL only, so an element whose every ancestor
    (itself included) holds none or several is in no item. This answers for most articles
    without finding the page's teasers (`dvcrawl.extract.compose.inside_teaser`).
    """
    targets = _link_targets(page)
    for node in (element, *element.iterancestors()):
        if node.tag in {"body", "html"}:
            return False
        found = {t for anchor in node.iter("a") if (t := targets.of(anchor)) is not None}
        if len(found) == 1:
            return True
        if len(found) > 1:
            return False
    return False


#: A teaser's headline stands at its top: before it, at most a picture with a short caption,
#: a kicker or a date (this many words, or a quarter of the item's).
_WORDS_BEFORE_HEADLINE = 25


def _opens_with(item: HtmlElement, anchor: HtmlElement) -> bool:
    """Whether the item's text before its headline link is no more than a caption or a kicker."""
    # The words of the item's text nodes that come before the anchor in document order: the
    # text of every element opened before it, and the tail of every element closed before it.
    ancestors = set(anchor.iterancestors())
    words_before = 0
    for node in item.iter():
        if node is anchor:
            break
        if node.text and isinstance(node.tag, str):
            words_before += len(node.text.split())
        if node.tail and node is not item and node not in ancestors:
            words_before += len(node.tail.split())
    if words_before <= _WORDS_BEFORE_HEADLINE:
        return True
    return words_before <= 0.25 * len(element_text(item).split())


def _link_targets(page: Page) -> _LinkTargets:
    memo = page.memo("link_targets")
    targets = memo.get(None)
    if targets is None:
        targets = memo[None] = _LinkTargets(page)
    return targets


class _LinkTargets:
    """Where each link of a page points, for links whose text reads as a headline."""

    def __init__(self, page: Page):
        self.page = page
        self.targets: dict[HtmlElement, str | None] = {}

    def of(self, anchor: HtmlElement) -> str | None:
        """The URL (without fragment) of a link with headline text (four words or more)."""
        if anchor in self.targets:
            return self.targets[anchor]
        href = (anchor.get("href") or "").strip()
        target = None
        if href:
            text = element_text(anchor) or (anchor.get("title") or "")
            if len(text.split()) >= _HEADLINE_WORDS:
                target = self.page.absolute(href).split("#", 1)[0]
        self.targets[anchor] = target
        return target


def _headline_anchors(page: Page, targets: _LinkTargets) -> Iterator[tuple[HtmlElement, str]]:
    for anchor in page.root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = targets.of(anchor)
        if url is not None:
            yield anchor, url


def _links_to(element: HtmlElement, url: str, targets: _LinkTargets) -> bool:
    """Whether every headline link inside `element` points to `url`."""
    for anchor in element.iter("a"):
        target = targets.of(anchor)
        if target is not None and target != url:
            return False
    return True


def _item_around(anchor: HtmlElement, url: str, targets: _LinkTargets) -> HtmlElement:
    """The widest ancestor of `anchor` (at most five levels up) about this one link."""
    item = anchor
    for _ in range(5):
        parent = item.getparent()
        if parent is None or parent.tag in {"body", "html"} or not _links_to(parent, url, targets):
            break
        item = parent
    return item


def _is_teaser(item: HtmlElement, repeated: bool) -> bool:
    """Whether an item holds enough of (a lead sentence, a date, a thumbnail) beside its headline.

    Two of them, or one when items of its shape are `repeated`. The date, the costly one, is
    looked for only when the other two leave it undecided.
    """
    text = element_text(item)
    linked = " ".join(element_text(a) for a in item.iter("a"))
    unlinked = len(text.split()) - len(linked.split())
    lead = unlinked >= _TEASER_WORDS
    image = any((img.get("src") or img.get("data-src") or "").strip() for img in item.iter("img"))
    evidence = int(lead) + int(image)
    if evidence >= 2 or (evidence == 1 and repeated):
        return True
    evidence += bool(find_dates(text))
    return evidence >= 2 or (evidence >= 1 and repeated)


def _shape(element: HtmlElement | None) -> tuple[str, str]:
    if element is None:
        return ("", "")
    return str(element.tag), " ".join(sorted((element.get("class") or "").split()))
