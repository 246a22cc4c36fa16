"""Spider for mttq_hanoi."""

from dvcrawl.sites import get_site
from dvcrawl.spiders.portal import PortalSpider


class MttqHanoiSpider(PortalSpider):
    """Ủy ban MTTQ Việt Nam thành phố Hà Nội.

    Domain:
        mttqhanoi.org.vn.
    Entry points:
        the activity news section and its ?page=N pagination.
    Caveats:
        markup unknown: extraction is the generic stripper with the portal's names.
    """

    name = "mttq_hanoi"
    site = get_site("mttq_hanoi")
