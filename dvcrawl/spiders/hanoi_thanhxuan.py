"""Spider for hanoi_thanhxuan."""

from dvcrawl.sites import get_site
from dvcrawl.spiders.portal import PortalSpider


class HanoiThanhxuanSpider(PortalSpider):
    """Cổng TTĐT quận Thanh Xuân (Hà Nội), Liferay 6.2, archival.

    Domain:
        thanhxuan.hanoi.gov.vn.
    Entry points:
        the "Tin tức - Sự kiện" asset publisher and its _cur pagination.
    Caveats:
        disabled in --all since the district level ended on 1-7-2025; crawl it by name.
    """

    name = "hanoi_thanhxuan"
    site = get_site("hanoi_thanhxuan")
