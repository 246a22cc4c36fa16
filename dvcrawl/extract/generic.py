"""The generic extractor: any Vietnamese portal no site module covers.

It finds the article the way a reader does: the content region (`dvcrawl.extract.region`: the
element holding most prose, widened over a body split into sibling blocks, without the chrome
inside it), the headline that agrees with the page's metadata, the date printed near the
headline or in metadata, and the byline at the end; `dvcrawl.extract.compose` applies the
shared stripper. When the page carries the fingerprint of a known CMS family
(`dvcrawl.extract.families`: WordPress, SharePoint, Liferay, Joomla, DotNetNuke, Drupal, the
``*.dcs.vn`` CMS), the family's selectors for body, headline, date, byline and chrome join in.
Site modules for portals whose markup is unknown use it too, with the portal's names (never a
title) and their own extractor name.
"""

from __future__ import annotations

from dataclasses import dataclass

from dvcrawl.extract.base import Extractor, article_scope, choose_title, find_title_element
from dvcrawl.extract.compose import compose, inside
from dvcrawl.extract.families import Family, compiled, family_of, select
from dvcrawl.extract.page import HEADINGS, HtmlElement, Page
from dvcrawl.extract.region import content_region
from dvcrawl.items import Article


@dataclass(frozen=True, kw_only=True)
class GenericExtractor(Extractor):
    """Title, body, date and byline without knowing the portal's markup.

    Attributes:
        name: ``"generic/v1"``, or ``"<site>/<version>"`` when a site module uses it.
        site_names: the portal's names, never accepted as a title.

    """

    name: str = "generic/v1"
    site_names: tuple[str, ...] = ()

    def extract(self, page: Page, site_id: str) -> Article:
        """Extract any page; pages without an article body come back as non-articles."""
        family = family_of(page)
        if family is None:
            region = content_region(page.root)
            return compose(
                page,
                site_id,
                self.name,
                root=region.root if region is not None else None,
                skip=region.skip if region is not None else frozenset(),
                headings=page.css(HEADINGS),
                site_names=self.site_names,
            )
        return self._extract_family(page, site_id, family)

    def _extract_family(self, page: Page, site_id: str, family: Family) -> Article:
        groups = [select(page, part) for part in family.body.split(",") if part.strip()]
        region = content_region(
            page.root,
            candidates=[g for g in groups if g],
            drop=compiled(family.drop) if family.drop else None,
        )
        # Portlet and widget titles come last, not never: on a Liferay web-content page the
        # portlet title *is* the headline (the family's guess must not veto the page).
        not_title = set(select(page, family.not_title))
        own = [h for h in select(page, family.title) if h not in not_title]
        headings = own + [h for h in page.css(HEADINGS) if h not in not_title and h not in own]
        headings += [h for h in page.css(HEADINGS) if h in not_title and h not in own]
        if region is None:
            return compose(
                page, site_id, self.name, root=None, headings=headings, site_names=self.site_names
            )
        root = region.root
        # Dates and bylines count only inside the article: sidebars list other articles'.
        title_element = find_title_element(
            page, choose_title(page, headings, self.site_names), headings
        )
        scope = article_scope(root, title_element)
        area = scope if scope is not root else _parent_or_self(root)
        dates = [e for e in select(page, family.date) if inside(e, area)]
        authors = [e for e in select(page, family.author) if inside(e, area)]
        return compose(
            page,
            site_id,
            self.name,
            root=root,
            skip=region.skip,
            headings=headings,
            site_names=self.site_names,
            date_elements=dates,
            fallback_author=authors[0] if authors else None,
            month_first=family.month_first,
        )


def _parent_or_self(element: HtmlElement) -> HtmlElement:
    parent = element.getparent()
    return parent if parent is not None else element
