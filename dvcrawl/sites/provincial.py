"""Provincial party and front portals under ``*.dcs.vn``, read by the generic extractor.

What is known of them is little: one listing URL of Nghệ An's "Dân vận khéo" section, the article
URL forms seen on three of them, and nothing of their markup. So each is a declaration of its
names, domain, entry point and the article URL form seen in public material (a guess that ranks
links; teaser links and learned shapes find what it misses), and its pages go through the
generic extractor with the portal's names. After the July 2025 mergers of provinces (Bình Thuận
into Lâm Đồng, Hưng Yên with Thái Bình, Tuyên Quang with Hà Giang, Thái Nguyên with Bắc Kạn) the
portals may move or freeze; the health checks will say so.
"""

from dvcrawl.extract.generic import GenericExtractor
from dvcrawl.sites.base import Site


def _generic(site_id: str, *names: str) -> tuple[GenericExtractor, ...]:
    return (GenericExtractor(name=f"{site_id}/v1", site_names=names),)


NGHEAN = Site(
    id="nghean_dang_bo",
    name="Cổng Thông tin điện tử Đảng bộ tỉnh Nghệ An",
    domains=("nghean.dcs.vn",),
    start_urls=("https://nghean.dcs.vn/vi-vn/chuyen-muc/dan-van-kheo/405534-193312",),
    article_url=r"^/vi-vn/bai-viet/[a-z0-9-]+-\d+$",
    listing_url=r"^/vi-vn/chuyen-muc/",
    extractors=_generic(
        "nghean_dang_bo", "Cổng Thông tin điện tử Đảng bộ tỉnh Nghệ An", "Đảng bộ tỉnh Nghệ An"
    ),
    notes="The 'Dân vận khéo' section URL is real (public page); article URLs seen as /vi-vn/bai-viet/<slug>-<id>.",
)

TUYENQUANG = Site(
    id="tuyenquang_dang_bo",
    name="Cổng Thông tin điện tử Đảng bộ tỉnh Tuyên Quang",
    domains=("tuyenquang.dcs.vn",),
    start_urls=("https://tuyenquang.dcs.vn/dan-van",),
    article_url=r"^/[a-z0-9-]+/[a-z0-9-]+-\d+\.html$",
    listing_url=r"^/dan-van(?:/[a-z0-9-]+)?/?(?:\?page=\d+)?$",
    extractors=_generic(
        "tuyenquang_dang_bo",
        "Cổng Thông tin điện tử Đảng bộ tỉnh Tuyên Quang",
        "Đảng bộ tỉnh Tuyên Quang",
    ),
)

THAINGUYEN = Site(
    id="thainguyen_dang_bo",
    name="Cổng Thông tin điện tử Đảng bộ tỉnh Thái Nguyên",
    domains=("thainguyen.dcs.vn",),
    start_urls=("https://thainguyen.dcs.vn/cong-tac-dan-van",),
    # Nothing of this portal's URLs is known: the form of its sister portals, to be learned.
    article_url=r"-\d+\.html$",
    listing_url=r"^/cong-tac-dan-van(?:\?.*)?$",
    extractors=_generic(
        "thainguyen_dang_bo",
        "Cổng Thông tin điện tử Đảng bộ tỉnh Thái Nguyên",
        "Đảng bộ tỉnh Thái Nguyên",
    ),
    notes="URL forms unknown; declared from sister *.dcs.vn portals: `dvcrawl status` shows the learned ones.",
)

BINHTHUAN = Site(
    id="binhthuan_tuyen_giao",
    name="Ban Tuyên giáo Tỉnh ủy Bình Thuận",
    domains=("btgtu.binhthuan.dcs.vn",),
    start_urls=("https://btgtu.binhthuan.dcs.vn/Trang-chu/Dan-van",),
    article_url=r"^/Trang-chu/post/\d+/[A-Za-z0-9-]+$",
    listing_url=r"^/Trang-chu/Dan-van(?:\?.*)?$",
    extractors=_generic(
        "binhthuan_tuyen_giao",
        "Ban Tuyên giáo Tỉnh ủy Bình Thuận",
        "Trang thông tin điện tử Ban Tuyên giáo Tỉnh ủy Bình Thuận",
    ),
)

HUNGYEN = Site(
    id="hungyen_mttq",
    name="Ủy ban MTTQ Việt Nam tỉnh Hưng Yên",
    domains=("mttq.hungyen.dcs.vn",),
    start_urls=("https://mttq.hungyen.dcs.vn/dan-chu-dan-van.html",),
    article_url=r"^/tin-tuc/[a-z0-9-]+-\d+\.html$",
    listing_url=r"^/dan-chu-dan-van(?:/trang-\d+)?\.html$",
    extractors=_generic(
        "hungyen_mttq",
        "Ủy ban MTTQ Việt Nam tỉnh Hưng Yên",
        "Mặt trận Tổ quốc Việt Nam tỉnh Hưng Yên",
    ),
)

SITES = (NGHEAN, TUYENQUANG, THAINGUYEN, BINHTHUAN, HUNGYEN)
