"""Spider for hanoi_gov."""

from dvcrawl.sites import get_site
from dvcrawl.spiders.portal import PortalSpider


class HanoiGovSpider(PortalSpider):
    """Cổng TTĐT Thành phố Hà Nội on the 2025 CMS.

    Domain:
        hanoi.gov.vn and its ward hosts (*.hanoi.gov.vn other than the Liferay portals).
    Entry points:
        category pages; only their first page, the rest is loaded by an AJAX API.
    Caveats:
        article URLs end in -<14-20 digits>.htm.
    """

    name = "hanoi_gov"
    site = get_site("hanoi_gov")
