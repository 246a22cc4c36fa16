"""Spider for baodongthap."""

from dvcrawl.sites import get_site
from dvcrawl.spiders.portal import PortalSpider


class BaodongthapSpider(PortalSpider):
    """Báo Đồng Tháp, both generations.

    Domain:
        baodongthap.vn (www. folded).
    Entry points:
        the politics category of the 2025 CMS and its ?page=N pagination; older .aspx articles are linked from archives.
    Caveats:
        the extractor version is chosen by URL (.aspx or -a<id>.html).
    """

    name = "baodongthap"
    site = get_site("baodongthap")
