"""Extractors declared by selectors: a portal whose markup is known is a few CSS strings.

`SelectorExtractor` locates the title, body, lead, date and byline with the portal's own
selectors and leaves the rest to `dvcrawl.extract.compose` (captions out, byline out, chrome
lines out, stop anchors). When the body selector finds nothing, which is what a redesign looks
like, the generic stripper takes over and the record's ``extractor`` says so
(``"<site>/<version>+fallback"``), so a health check can count layout drift instead of
silently storing worse text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dvcrawl.extract.base import Extractor, article_scope, find_title_element
from dvcrawl.extract.compose import compose, inside
from dvcrawl.extract.page import HEADINGS, HtmlElement, Page
from dvcrawl.extract.region import content_region, measure
from dvcrawl.items import Article

FALLBACK = "+fallback"


def best_match(page: Page, selector: str) -> HtmlElement | None:
    """Among elements matching `selector`, the one holding the most paragraph text.

    Liferay wraps every web-content portlet in ``.journal-content-article``, the visitor
    counter included (the Thanh Xuân portal's "Thống kê truy cập" box comes first on some
    pages): the first match is not always the article.
    """
    matches = [element for part in selector.split(",") for element in page.css(part.strip())]
    if not matches:
        return None
    if len(matches) == 1:
        return matches[0]
    # Each match is weighed by the content scores inside it, measured on the outermost
    # matches alone: the whole page's measure (menus, footers, every portlet) cost a third of
    # a Liferay page's extraction (issue 11). Matches nest (".asset-full-content
    # .asset-content" inside ".asset-content"); each scored element credits the matches it
    # lies in, found on one walk up to its outermost match.
    wanted = set(matches)
    outermost = [m for m in wanted if not any(a in wanted for a in m.iterancestors())]
    inner: dict[HtmlElement, float] = dict.fromkeys(matches, 0.0)
    chars: dict[HtmlElement, int] = {}
    for top in outermost:
        text_map = measure(top)
        for match in wanted:
            if (size := text_map.chars.get(match, -1)) >= 0:
                chars[match] = size
        for node, score in text_map.scores.items():
            credited = []
            ancestor: HtmlElement | None = node
            while ancestor is not None:
                if ancestor in wanted:
                    credited.append(ancestor)
                if ancestor is top:
                    break
                ancestor = ancestor.getparent()
            else:
                continue  # a parent or grandparent above the match, scored by its paragraphs
            for match in credited:
                inner[match] += score

    def weight(element: HtmlElement) -> float:
        return inner[element] + chars[element] / 1000.0

    return max(matches, key=weight)


@dataclass(frozen=True, kw_only=True)
class SelectorExtractor(Extractor):
    """A portal layout described by selectors.

    Attributes:
        name: ``"<site>/<version>"``.
        body: CSS of the body container (comma-separated alternatives; the one holding the
            most text wins); empty when the portal's body markup is unknown and the generic
            stripper finds it.
        title: CSS of headline candidates (checked against the page's metadata title).
        date: CSS of the element printing the date, if the portal has one; only matches
            within the article are read.
        sapo: CSS of the lead element, if the portal marks one.
        author: CSS of the byline element, if the portal has one.
        drop: CSS of elements inside the body that are not article text (tag lists, inline
            related boxes, share bars).
        marker: CSS whose presence on a page means this layout applies.
        url: regex searched in the page URL that means this layout applies (with `marker`,
            either one is enough; with neither, the layout always applies).
        site_names: names of the portal, never accepted as a title.

    """

    name: str = ""
    body: str = ""
    title: str = "h1"
    date: str | None = None
    sapo: str | None = None
    author: str | None = None
    drop: str | None = None
    marker: str | None = None
    url: str | None = None
    site_names: tuple[str, ...] = ()

    def applies(self, page: Page) -> bool:
        """Whether the page's URL or markup says it has this layout."""
        if self.marker is None and self.url is None:
            return True
        if self.url is not None and re.search(self.url, page.url):
            return True
        return self.marker is not None and page.first(self.marker) is not None

    def extract(self, page: Page, site_id: str) -> Article:
        """Extract with the layout's selectors, or the generic stripper if they miss."""
        name = self.name
        region_skip: frozenset[HtmlElement] = frozenset()
        root = best_match(page, self.body) if self.body else None
        if root is None:
            region = content_region(page.root)
            root, region_skip = (region.root, region.skip) if region else (None, frozenset())
            if self.body:
                name += FALLBACK
        own = page.css(self.title)
        headings = own + [h for h in page.css(HEADINGS) if h not in own]
        skip: frozenset[HtmlElement] = frozenset()
        date_elements: list[HtmlElement] = []
        if root is not None:
            skip = region_skip | frozenset(
                e for e in (page.css(self.drop) if self.drop else []) if inside(e, root)
            )
            if self.date:
                # Only dates printed within the article: sidebars list other articles' dates.
                from dvcrawl.extract.base import choose_title

                title_element = find_title_element(
                    page, choose_title(page, headings, self.site_names), headings
                )
                scope = article_scope(root, title_element)
                area = (
                    scope
                    if scope is not root
                    else (root.getparent() if root.getparent() is not None else root)
                )
                date_elements = [e for e in page.css(self.date) if inside(e, area)]
        return compose(
            page,
            site_id,
            name,
            root=root,
            headings=headings,
            site_names=self.site_names,
            sapo_element=page.first(self.sapo) if self.sapo else None,
            author_element=page.first(self.author) if self.author else None,
            date_elements=date_elements,
            skip=skip,
        )
