"""The generic extractor: any Vietnamese portal no site module covers.

It finds the article the way a reader does: the headline that agrees with the page's
metadata, the element holding most paragraph text (damped by links and by class names that
mean sidebar or comments), the date printed near the headline or in metadata, and the byline
at the end; then applies the shared stripper (`dvcrawl.extract.boilerplate`).
"""

from __future__ import annotations

from dvcrawl.extract.base import (
    Extractor,
    choose_title,
    date_near_title,
    fill_article,
    first_date_in,
    first_text_element,
    metadata_date,
    new_article,
)
from dvcrawl.extract.blocks import blocks_of
from dvcrawl.extract.body import assemble
from dvcrawl.extract.boilerplate import best_content_root, link_density
from dvcrawl.extract.page import Page, element_text
from dvcrawl.items import Article

# A container where links make up more than this share of the text is a list of links.
_LISTING_LINK_DENSITY = 0.5


class GenericV1(Extractor):
    """Title, body, date and byline for portals without a site module."""

    name = "generic/v1"

    def extract(self, page: Page, site_id: str) -> Article:
        """Extract any page; pages without an article body come back as non-articles."""
        article = new_article(page, site_id, self.name)
        root = best_content_root(page.root)
        headings = page.css("h1, h2, h3, [class*=title], [class*=Title]")
        title = choose_title(page, headings)
        if root is None:
            return fill_article(article, title=title, body=assemble([]), date=metadata_date(page))
        title_element = next((h for h in headings if element_text(h) == title), None)
        blocks = [
            b for b in blocks_of(page, root) if not (b.link_ratio > 0.6 and len(b.text) < 200)
        ]
        body = assemble(blocks, title=title)
        date = (
            metadata_date(page)
            or date_near_title(page, title_element, first_text_element(root))
            or first_date_in(page, [root])
        )
        fill_article(article, title=title, body=body, date=date)
        if link_density(root) > _LISTING_LINK_DENSITY:
            article.is_article = False
        return article
