"""hanoi.gov.vn and its ward/commune hosts on the city's 2025 CMS.

Known markup (from the city's public content API and a public adapter for it): body
``.detail-content.afcbc-body`` (or ``[data-role="content"]``), lead ``[data-role="sapo"]``, time
``.news-info .time`` or ``.detail-time``; article URLs end in ``-<14-20 digits>.htm``. Category
pages load further items through an AJAX API with encrypted tokens, so a crawl reads the first
page of each category only (the newest items, which is what incremental runs need).
"""

from dvcrawl.extract.selectors import SelectorExtractor
from dvcrawl.sites.base import Site

NAMES = ("Cổng thông tin điện tử Thành phố Hà Nội", "Cổng TTĐT Hà Nội", "Thành phố Hà Nội")

HANOI_GOV_V1 = SelectorExtractor(
    name="hanoi_gov/v1",
    body=".detail-content.afcbc-body, [data-role=content], .detail-content",
    title="h1.detail-title, .detail-title, h1",
    date=".news-info .time, .detail-time, .news-info",
    sapo="[data-role=sapo], .detail-sapo, h2.sapo",
    drop=".box-related, .related-news, [data-role=related], .detail-tags, .tags",
    site_names=NAMES,
)

SITE = Site(
    id="hanoi_gov",
    name=NAMES[0],
    domains=("hanoi.gov.vn",),
    include_subdomains=True,
    start_urls=("https://hanoi.gov.vn/tin-tuc-su-kien-noi-bat",),
    article_url=r"-\d{14,20}\.htm$",
    listing_url=r"^/[a-z0-9-]+/?$",
    extractors=(HANOI_GOV_V1,),
    max_listing_pages=1,
    notes="Ward portals (hadong.hanoi.gov.vn, ...) run the same CMS and are claimed as subdomains.",
)
