"""Spider for thanhuytphcm.vn / hcmcpv.org.vn."""

from dvcrawl.sites import get_site
from dvcrawl.spiders.portal import PortalSpider


class ThanhuytphcmSpider(PortalSpider):
    """Cổng TTĐT Đảng bộ TP.HCM.

    Domain:
        thanhuytphcm.vn and hcmcpv.org.vn (one portal, one download slot).
    Entry points:
        the home page; the menu's "Dân vận" sections are followed, then their pagination.
    Caveats:
        the weekday date in the page header is the day of the visit, not the article's
        (see dvcrawl/sites/thanhuytphcm.py).
    """

    name = "thanhuytphcm"
    site = get_site("thanhuytphcm")
