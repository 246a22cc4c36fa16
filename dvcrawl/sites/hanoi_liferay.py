"""Hanoi district portals on Liferay 6.2: the Thanh Xuân portal (thanhxuan.hanoi.gov.vn).

What is known from its pages: Liferay's asset publisher renders the article
(``/<page>/-/asset_publisher/<instance>/content/<urlTitle>``), the meta line reads
"Ngày đăng 28/02/2024 | 16:38  | Lượt xem: 649", and the visitor counter ("Thống kê truy cập /
Đang online / Tổng số truy cập") is *also* a web-content portlet wrapped in
``.journal-content-article``, so the article is the best-scoring match, never the first one.
The district level was abolished on 1-7-2025: the portal is archival, disabled in ``--all``;
read it from the web archive with ``dvcrawl crawl hanoi_thanhxuan --source wayback``
(docs/web-archives.md).
"""

from dvcrawl.extract.selectors import SelectorExtractor
from dvcrawl.sites.base import Site

NAMES = ("Cổng thông tin điện tử quận Thanh Xuân", "UBND quận Thanh Xuân", "Quận Thanh Xuân")

LIFERAY_V1 = SelectorExtractor(
    name="hanoi_liferay/v1",
    body=(
        ".asset-full-content .journal-content-article, .asset-full-content .asset-content, "
        ".asset-content, .journal-content-article"
    ),
    title=".header-title, .asset-title, h3, h2, h1",
    drop=".taglib-social-bookmarks, .asset-links, .asset-ratings, .taglib-ratings, .lfr-discussion",
    site_names=NAMES,
)

SITE = Site(
    id="hanoi_thanhxuan",
    name=NAMES[0],
    domains=("thanhxuan.hanoi.gov.vn",),
    start_urls=("https://thanhxuan.hanoi.gov.vn/tin-tuc-su-kien",),
    article_url=r"/-/asset_publisher/[^/]+/content/[^/?#]+",
    listing_url=r"^/tin-tuc-su-kien(?:\?.*)?$",
    extractors=(LIFERAY_V1,),
    enabled=False,
    notes="Archival since the district level ended on 1-7-2025; pagination is Liferay's _<portlet>_cur parameter.",
)
