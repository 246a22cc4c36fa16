"""The Hanoi Fatherland Front portal (mttqhanoi.org.vn).

Identified from the text of its pages (titles, dates, related lists); its markup is unknown, so the
extractor is the generic one with the portal's names: title from the heading that agrees
with the metadata, body by paragraph score, the "27/03/2020 - 11:38 AM" date read between
headline and body. Related items ("Các tin tức khác", "<date> - 12.191 lượt xem") and the
SEO footer link are chrome the shared stripper removes.
"""

from dvcrawl.extract.generic import GenericExtractor
from dvcrawl.sites.base import Site

NAMES = (
    "Ủy ban Mặt trận Tổ quốc Việt Nam thành phố Hà Nội",
    "Mặt trận Tổ quốc thành phố Hà Nội",
    "MTTQ Hà Nội",
)

SITE = Site(
    id="mttq_hanoi",
    name=NAMES[0],
    domains=("mttqhanoi.org.vn",),
    start_urls=("https://mttqhanoi.org.vn/tin-tuc-hoat-dong",),
    article_url=r"^/[a-z0-9-]+/[a-z0-9-]+-\d{3,}\.html$",
    listing_url=r"^/[a-z0-9-]+/?(?:\?page=\d+)?$",
    extractors=(GenericExtractor(name="mttq_hanoi/v1", site_names=NAMES),),
)
