"""thanhuytphcm.vn / hcmcpv.org.vn: Cổng Thông tin điện tử Đảng bộ Thành phố Hồ Chí Minh.

What is known (research/sites.md §1): one portal on two domains, articles at
``/tin-tuc/<slug>-<10-digit id>``, listings at ``/nhom-tin/<slug>-<id>``, lead paragraphs that
begin "(Thanhuytphcm.vn) - ", a comment block "Ý kiến bạn đọc" and a "Tin khác" list after
the article, images under ``images.hcmcpv.org.vn/res/news/YYYY/MM/DD-MM-YYYY-…``.
What is not known: its class names. So the extractor anchors on text, not markup:

* body: the container of the dateline lead, chosen among the lead's ancestors by paragraph
  score; text starts at the lead and stops at the first stop anchor;
* title: the heading that agrees with ``og:title``/``<title>``;
* date: metadata, else the date line printed between headline and lead, else the upload date
  in the lead image's path. Never the weekday date in the page header: on this portal it is
  the day of the visit, not of the article (seed 000: header 19/8/2022, event "Sáng 10/6").
"""

from __future__ import annotations

import re
from datetime import datetime

from dvcrawl.extract.base import (
    Extractor,
    article_scope,
    choose_title,
    date_near_title,
    fill_article,
    first_text_element,
    metadata_date,
    new_article,
)
from dvcrawl.extract.blocks import Block, blocks_of
from dvcrawl.extract.body import assemble
from dvcrawl.extract.boilerplate import best_content_root
from dvcrawl.extract.dates import VN_TZ, ParsedDate, is_future
from dvcrawl.extract.page import HtmlElement, Page, element_text
from dvcrawl.items import Article
from dvcrawl.sites.base import Site

NAME = "Cổng Thông tin điện tử Đảng bộ Thành phố Hồ Chí Minh"

_DATELINE = re.compile(
    r"^\(\s*(?:thanhuytphcm|hcmcpv)(?:\.org)?(?:\.vn)?\s*\)\s*[-–—:]?", re.IGNORECASE
)
# The upload date in image paths: /res/news/2022/06/10-06-2022-<slug>-<hex>.jpg
_IMAGE_DATE = re.compile(r"/res/news/(\d{4})/(\d{2})/((\d{2})-(\d{2})-(\d{4}))-")


class ThanhuytphcmV1(Extractor):
    """The portal's article layout as of 2022-2026 (custom CMS, markup unknown to us)."""

    name = "thanhuytphcm/v1"

    def extract(self, page: Page, site_id: str) -> Article:
        """Extract an article page; listing and other pages come back as non-articles."""
        article = new_article(page, site_id, self.name)
        lead = _find_lead(page)
        within = [lead, *lead.iterancestors()] if lead is not None else None
        root = (
            best_content_root(page.root, within=within) if within else best_content_root(page.root)
        )
        if root is None:
            root = page.root
        headings = _headings_before(page, lead)
        title = choose_title(
            page, headings, site_names=(NAME, "Thành ủy TP.HCM", "Thanhuytphcm.vn")
        )
        title_element = next((h for h in headings if element_text(h) == title), None)
        body = assemble(
            blocks_of(page, article_scope(root, title_element)),
            title=title,
            starts_at=_starts_with_dateline if lead is not None else None,
        )
        body_start = lead if lead is not None else first_text_element(root)
        date = (
            metadata_date(page)
            or date_near_title(page, title_element, body_start)
            or _image_date(page, body.images)
        )
        return fill_article(article, title=title, body=body, date=date)


def _starts_with_dateline(block: Block) -> bool:
    return bool(_DATELINE.match(block.text))


def _find_lead(page: Page) -> HtmlElement | None:
    """The paragraph that begins with the portal's dateline, outside link lists."""
    for element in page.root.iter("p", "div", "h2", "h3", "span", "strong", "b", "td"):
        text = element_text(element)
        if not _DATELINE.match(text) or element.xpath("ancestor-or-self::a"):
            continue
        # A teaser on a listing page carries the dateline too, but inside a list of links.
        if element.xpath("ancestor::li"):
            continue
        if element.tag in {"span", "strong", "b"}:
            parent = element.getparent()
            return parent if parent is not None else element
        return element
    return None


def _headings_before(page: Page, lead: HtmlElement | None) -> list[HtmlElement]:
    headings = page.css("h1, h2, h3, [class*=title], [class*=Title]")
    if lead is None:
        return headings
    order = {element: index for index, element in enumerate(page.root.iter())}
    return [h for h in headings if order.get(h, 0) < order.get(lead, 0)]


def _image_date(page: Page, images: list[dict[str, str | None]]) -> ParsedDate | None:
    urls = [image["url"] or "" for image in images] + [page.meta.get("og:image", "")]
    for url in urls:
        match = _IMAGE_DATE.search(url)
        if not match:
            continue
        try:
            value = datetime(
                int(match.group(6)), int(match.group(5)), int(match.group(4)), tzinfo=VN_TZ
            )
        except ValueError:
            continue
        if not is_future(value, page.fetched_at):
            return ParsedDate(value=value, raw=match.group(3), has_time=False)
    return None


SITE = Site(
    id="thanhuytphcm",
    name=NAME,
    domains=("thanhuytphcm.vn", "hcmcpv.org.vn"),
    start_urls=("https://thanhuytphcm.vn/",),
    article_url=r"^/tin-tuc/[-a-z0-9]*-\d{9,11}/?$",
    listing_url=r"^/nhom-tin/[-a-z0-9]+-\d+",
    follow_link_text=r"dân vận",
    extractors=(ThanhuytphcmV1(),),
    notes=(
        "The dân vận section's URL is not hard-coded: the spider follows menu links whose "
        "text says 'Dân vận' from the home page. The 2025 merger made 'Ban Tuyên giáo và Dân "
        "vận Thành ủy' the unit that signs most articles."
    ),
)
