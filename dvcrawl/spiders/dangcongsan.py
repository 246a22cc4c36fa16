"""Spider for dangcongsan."""

from dvcrawl.sites import get_site
from dvcrawl.spiders.portal import PortalSpider


class DangcongsanSpider(PortalSpider):
    """Báo điện tử / Cổng thông tin Đảng Cộng sản Việt Nam.

    Domain:
        dangcongsan.vn.
    Entry points:
        the SharePoint-style activity list (View.aspx?Page=N).
    Caveats:
        two layouts (2019, 2025), chosen by markup.
    """

    name = "dangcongsan"
    site = get_site("dangcongsan")
