"""Article links on a listing page, found by the page's structure as well as by URL shape.

A portal's declared article URL pattern is a guess (most portals cannot be reached from where
dvcrawl is built). A listing page whose links all miss the guess must still yield its articles,
so links are found three ways, each a pure function of the page:

* declared: the link matches the site's ``article_url`` pattern;
* learned: the link matches a URL shape learned from pages that proved to be articles
  (`dvcrawl.urlshapes`, kept in the database between runs);
* structure: the link heads a *teaser*, the repeated item of a listing: a headline link with a
  lead sentence, a date or a thumbnail beside it, outside menus, sidebars and footers
  (`dvcrawl.extract.teasers`).

Links in menus, sidebars, footers and "most read" boxes are never followed, whatever their
shape: they lead to other sections' articles.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from dvcrawl.extract.page import Page
from dvcrawl.extract.teasers import in_chrome, teaser_links, teasers

#: How a link was recognized as an article link, strongest evidence first.
DECLARED, LEARNED, STRUCTURE = "declared", "learned", "structure"

_NOT_A_PAGE = re.compile(
    r"\.(?:pdf|docx?|xlsx?|pptx?|zip|rar|7z|jpe?g|png|gif|webp|mp[34]|avi|mov)(?:$|\?)", re.I
)


@dataclass(frozen=True)
class ArticleLink:
    """An article link on a listing page and why it was taken for one."""

    url: str
    evidence: str  # DECLARED, LEARNED or STRUCTURE


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


__all__ = [
    "DECLARED",
    "LEARNED",
    "STRUCTURE",
    "ArticleLink",
    "article_links",
    "in_chrome",
    "teaser_links",
]
