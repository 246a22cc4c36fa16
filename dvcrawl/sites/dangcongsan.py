"""dangcongsan.vn: the Communist Party of Vietnam's portal, in its 2019 and 2025 layouts.

Selectors from public crawler configurations for the portal: the 2019-2024 layout has
``div.post-summary`` (lead), ``div.post-content`` (body, with a ``.post-tag`` list inside) and
``span.post-subinfo`` (date); the 2025 layout has ``h1#contenttitle``, ``div#description``,
``div#ngaytao``, ``div.noidungtt`` and the byline in ``b#tacgia``. The layout is chosen by
markup, so archived 2019 pages keep their extractor.
"""

from dvcrawl.extract.selectors import SelectorExtractor
from dvcrawl.sites.base import Site

NAMES = (
    "Báo điện tử Đảng Cộng sản Việt Nam",
    "Đảng Cộng sản Việt Nam",
    "Cổng thông tin điện tử Đảng Cộng sản Việt Nam",
)

V2025 = SelectorExtractor(
    name="dangcongsan/v2025",
    marker="#contenttitle, .noidungtt",
    body="div.noidungtt",
    title="h1#contenttitle, h1",
    date="div#ngaytao",
    sapo="div#description",
    author="b#tacgia",
    site_names=NAMES,
)

V2019 = SelectorExtractor(
    name="dangcongsan/v2019",
    marker=".post-content",
    body="div.post-content",
    title="h1.post-title, .post-title, h1",
    date="span.post-subinfo, .lbPublishedDate",
    sapo="div.post-summary",
    drop=".post-tag, .post-tags, .related-news",
    site_names=NAMES,
)

SITE = Site(
    id="dangcongsan",
    name=NAMES[0],
    domains=("dangcongsan.vn",),
    start_urls=("https://dangcongsan.vn/noidung/tintuc/Lists/Tinhoatdong/View.aspx",),
    # Section pages end in ".htm" ("/tin-tuc.htm"); articles in ".html".
    article_url=r"^/(?!page/|noidung/)[a-z0-9-]+(?:/[a-z0-9-]+)*/[a-z0-9-]+\.html$",
    listing_url=r"/View\.aspx(?:\?.*)?$",
    extractors=(V2025, V2019),
)
