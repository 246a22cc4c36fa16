"""Article links on a listing page, found by the page's structure as well as by URL shape.

A portal's declared article URL pattern is a guess (most portals cannot be reached from where
dvcrawl is built). A listing page whose links all miss the guess must still yield its articles,
so links are found three ways, each a pure function of the page:

* declared: the link matches the site's ``article_url`` pattern;
* learned: the link matches a URL shape learned from pages that proved to be articles
  (`dvcrawl.urlshapes`, kept in the database between runs);
* structure: the link heads a *teaser*, the repeated item of a listing: a headline link with a
  lead sentence, a date or a thumbnail beside it, outside menus, sidebars and footers.

Links in menus, sidebars, footers and "most read" boxes are never followed, whatever their
shape: they lead to other sections' articles.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from dvcrawl.extract.boilerplate import CHROME_CLASS
from dvcrawl.extract.dates import find_dates
from dvcrawl.extract.page import HtmlElement, Page, element_text

#: How a link was recognized as an article link, strongest evidence first.
DECLARED, LEARNED, STRUCTURE = "declared", "learned", "structure"

# Words of link text that make a link a headline rather than a menu entry or a "more" link.
_HEADLINE_WORDS = 4
# Words outside links that make an item's text a lead sentence rather than a label.
_TEASER_WORDS = 8
_NOT_A_PAGE = re.compile(
    r"\.(?:pdf|docx?|xlsx?|pptx?|zip|rar|7z|jpe?g|png|gif|webp|mp[34]|avi|mov)(?:$|\?)", re.I
)
_CHROME_TAGS = frozenset({"nav", "footer", "header", "aside"})


@dataclass(frozen=True)
class ArticleLink:
    """An article link on a listing page and why it was taken for one."""

    url: str
    evidence: str  # DECLARED, LEARNED or STRUCTURE


def in_chrome(element: HtmlElement) -> bool:
    """Whether an element sits in a menu, sidebar, footer, header or "hot news" box."""
    for node in (element, *element.iterancestors()):
        if node.tag in _CHROME_TAGS:
            return True
        names = f"{node.get('class', '')} {node.get('id', '')}".strip()
        if names and CHROME_CLASS.search(names):
            return True
    return False


def article_links(
    page: Page,
    *,
    same_portal: Callable[[str], bool],
    declared: Callable[[str], bool],
    learned: Callable[[str], bool] = lambda url: False,
    is_listing: Callable[[str], bool] = lambda url: False,
) -> list[ArticleLink]:
    """Article links of a listing page in page order, each once, with its strongest evidence.

    Args:
        page: the listing page.
        same_portal: whether a URL belongs to the portal being crawled.
        declared: whether a URL has the site's declared article shape.
        learned: whether a URL has a shape learned from earlier articles.
        is_listing: whether a URL is one of the site's listing pages (never an article link).

    """
    items = teasers(page)
    teaser_urls = {url for _, url in items}
    # Where the listing's teasers stand: a link of the article shape elsewhere on a page that
    # has teasers is a sidebar's or a box's ("Tiêu điểm", "Đọc nhiều"), whatever its classes.
    lists = {item.getparent() for item, _ in items if item.getparent() is not None}
    found: dict[str, str] = {}
    for anchor in page.root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = page.absolute(href).split("#", 1)[0]
        if url in found or not same_portal(url) or _NOT_A_PAGE.search(url):
            continue
        if in_chrome(anchor):
            continue
        in_listing = (
            url in teaser_urls
            or not lists
            or any(container in lists for container in anchor.iterancestors())
        )
        if declared(url) and in_listing:
            found[url] = DECLARED
        elif learned(url) and in_listing:
            found[url] = LEARNED
        elif url in teaser_urls and not is_listing(url) and url != page.url:
            found[url] = STRUCTURE
    return [ArticleLink(url, evidence) for url, evidence in found.items()]


def teaser_links(page: Page) -> list[str]:
    """URLs that head teasers: the repeated items of a listing (see the module docstring)."""
    return list(dict.fromkeys(url for _, url in teasers(page)))


def teasers(page: Page) -> list[tuple[HtmlElement, str]]:
    """The teasers of a listing page: (item element, the URL its headline links to).

    An item is the widest element around a headline link (four words or more) that holds no
    other headline link. It is a teaser when it also holds two of: a lead sentence, a date, a
    thumbnail -- or one of them, when three or more items of the same shape stand side by side.
    """
    items: list[tuple[HtmlElement, str, int]] = []
    for anchor, url in _headline_anchors(page):
        item = _item_around(anchor, url, page)
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
