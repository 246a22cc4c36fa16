"""danvan.vn: the Central Mass Mobilization Commission and Tạp chí Dân vận (legacy, http only).

URLs are ``/Home/<Section>[/<Subsection>]/<id>/<Title-Case-Slug>``.
Every page opens with the weekday date of the *visit* ("Thứ Sáu, 10/1/2025"), not of the
article: dates are only read between the headline and the body or from metadata, and a page
that prints no article date gets none. After the 2025 merger the site is legacy; new articles
appear on tuyengiaodanvan.vn.
"""

from dvcrawl.extract.generic import GenericExtractor
from dvcrawl.sites.base import Site

NAMES = ("Ban Dân vận Trung ương", "Tạp chí Dân vận", "Dân vận")

SITE = Site(
    id="danvan",
    name=NAMES[0],
    domains=("danvan.vn",),
    canonical_scheme="http",
    start_urls=("http://danvan.vn/Home/Tin-hoat-dong/Ban-dan-van",),
    article_url=r"^/Home/[A-Za-z0-9-]+(?:/[A-Za-z0-9-]+)?/\d+/[A-Za-z0-9-]+/?$",
    listing_url=r"^/Home/[A-Za-z0-9-]+(?:/[A-Za-z0-9-]+)?/?(?:\?page=\d+)?$",
    extractors=(GenericExtractor(name="danvan/v1", site_names=NAMES),),
    # Many of its pages print no article date at all (the header date is the visit's).
    health={"min_date_rate": 0.5},
)
