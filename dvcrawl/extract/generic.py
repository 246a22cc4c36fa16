"""The generic extractor: any Vietnamese portal no site module covers.

It finds the article the way a reader does: the element holding most paragraph text (damped
by links and by class names that mean sidebar or comments), the headline that agrees with the
page's metadata, the date printed near the headline or in metadata, and the byline at the end;
`dvcrawl.extract.compose` applies the shared stripper. Site modules for portals whose markup is
unknown use it too, with the portal's names (never a title) and their own extractor name.
"""

from __future__ import annotations

from dataclasses import dataclass

from dvcrawl.extract.base import Extractor
from dvcrawl.extract.compose import HEADINGS, compose
from dvcrawl.extract.page import Page
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
