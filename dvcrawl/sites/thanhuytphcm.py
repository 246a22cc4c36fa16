"""thanhuytphcm.vn / hcmcpv.org.vn: Cổng Thông tin điện tử Đảng bộ Thành phố Hồ Chí Minh.

What is known of the portal: one portal on two domains, articles at
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

from dvcrawl.extract.base import Extractor
from dvcrawl.extract.blocks import Block
from dvcrawl.extract.body import Body
from dvcrawl.extract.boilerplate import best_content_root
from dvcrawl.extract.compose import compose
from dvcrawl.extract.dates import VN_TZ, ParsedDate, is_future
from dvcrawl.extract.page import (
    HEADINGS,
    HtmlElement,
    Page,
    element_text,
    first_visible_char,
)
from dvcrawl.items import Article
from dvcrawl.sites.base import Site

NAME = "Cổng Thông tin điện tử Đảng bộ Thành phố Hồ Chí Minh"
NAMES = (NAME, "Cổng TTĐT Đảng bộ TP. Hồ Chí Minh", "Thành ủy TP.HCM", "Thanhuytphcm.vn")

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
        lead = _find_lead(page)
        if lead is not None:
            root = best_content_root(page.root, within=[lead, *lead.iterancestors()])
        else:
            root = best_content_root(page.root)
        return compose(
            page,
            site_id,
            self.name,
            root=root,
            headings=_headings_before(page, lead),
            site_names=NAMES,
            lead=lead,
            starts_at=_starts_with_dateline if lead is not None else None,
            fallback_date=_image_date,
        )


def _starts_with_dateline(block: Block) -> bool:
    return bool(_DATELINE.match(block.text))


def _find_lead(page: Page) -> HtmlElement | None:
    """The paragraph that begins with the portal's dateline, outside link lists."""
    for element in page.root.iter("p", "div", "h2", "h3", "span", "strong", "b", "td"):
        # The dateline opens with "(": other containers are passed over without building
        # their text (issue 11).
        if first_visible_char(element) != "(":
            continue
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
    headings = page.css(HEADINGS)
    if lead is None:
        return headings
    _, order = page.order
    return [h for h in headings if order.get(h, 0) < order.get(lead, 0)]


def _image_date(page: Page, body: Body) -> ParsedDate | None:
    """The upload date in the lead image's path, used only when the page prints no date."""
    urls = [image["url"] or "" for image in body.images] + [page.meta.get("og:image", "")]
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
