"""baodongthap.vn (Báo Đồng Tháp), in two generations chosen by URL.

* ASP.NET WebForms, until mid-2025: ``/<section>/<slug>-<id>.aspx``; date in
  ``#cphContent_ucNewsDetails_lblPostedDate`` ("Cập nhật ngày: 29/12/2022 13:30:26"), body
  ``.contentView`` whose image paragraphs carry their caption in ``<em>`` ([docbao-DT]);
  lead "ĐTO - ".
* The 2025 CMS (from about 8/2025, after the merger with Tiền Giang's paper and radio/TV):
  ``/<slug>-a<id>.html``; lead "(ĐTO) " in a ``.sapo`` element; date
  "Chủ Nhật, 18/01/2026, 21:21 (GMT+7)"; category pages ``/<slug>/?page=N``.
"""

from dvcrawl.extract.selectors import SelectorExtractor
from dvcrawl.sites.base import Site

NAMES = (
    "Báo Đồng Tháp Online",
    "Báo Đồng Tháp",
    "Báo và Phát thanh, Truyền hình Đồng Tháp",
    "Báo điện tử Đồng Tháp",
)

ASPX_V1 = SelectorExtractor(
    name="baodongthap/aspx-v1",
    url=r"-\d+\.aspx(?:$|\?)",
    marker="#cphContent_ucNewsDetails_lblPostedDate, .contentView",
    body=".contentView",
    title="h1, .title, [id$=lblTitle]",
    date="#cphContent_ucNewsDetails_lblPostedDate, [id$=lblPostedDate], .date",
    site_names=NAMES,
)

# Only the lead class (.sapo) and the listing links are known of the 2025 CMS [siteconfig];
# the body is found by the generic stripper rather than by guessed class names.
CMS_V1 = SelectorExtractor(
    name="baodongthap/cms-v1",
    url=r"-a\d+\.html(?:$|\?)",
    title="h1",
    sapo="h2.sapo, h4.sapo, p.sapo, .sapo",
    site_names=NAMES,
)


SITE = Site(
    id="baodongthap",
    name=NAMES[0],
    domains=("baodongthap.vn",),
    start_urls=("https://www.baodongthap.vn/chinh-tri/",),
    article_url=r"(?:-a\d+\.html|/[a-z0-9-]+-\d+\.aspx)$",
    listing_url=r"^/(?!video|podcast|longform|infographic|xem-bao|xem-albumphoto|tim-kiem|en/|files)[a-z0-9-]+/?(?:\?page=\d+)?$",
    extractors=(CMS_V1, ASPX_V1),
    notes="Skip paths /video /podcast /longform /infographic /xem-bao /xem-albumphoto /tim-kiem /en /files [siteconfig].",
)
