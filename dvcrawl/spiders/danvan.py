"""Spider for danvan."""

from dvcrawl.sites import get_site
from dvcrawl.spiders.portal import PortalSpider


class DanvanSpider(PortalSpider):
    """Ban Dân vận Trung ương / Tạp chí Dân vận (legacy).

    Domain:
        danvan.vn, http only.
    Entry points:
        /Home/<Section>/<Subsection> listings and their ?page=N pagination.
    Caveats:
        the page header prints the date of the visit; it is never the article date.
    """

    name = "danvan"
    site = get_site("danvan")
