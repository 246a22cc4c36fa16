"""Pure extraction toolkit: stored HTML + URL -> `Article`. No Scrapy engine, no site registry.

Site declarations (`dvcrawl.sites`) build their extractors from these parts; the entry point
that picks a portal's extractor for a URL is `dvcrawl.extraction.extract_article`, one layer up.
"""

from __future__ import annotations

from dvcrawl.extract.page import DecodedPage, NotHTML, Page, decode_html, decode_page

__all__ = ["DecodedPage", "NotHTML", "Page", "decode_html", "decode_page"]
