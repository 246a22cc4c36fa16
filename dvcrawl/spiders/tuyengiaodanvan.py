"""Spider for tuyengiaodanvan."""

from dvcrawl.sites import get_site
from dvcrawl.spiders.portal import PortalSpider


class TuyengiaodanvanSpider(PortalSpider):
    """Ban Tuyên giáo và Dân vận Trung ương (Next.js).

    Domain:
        tuyengiaodanvan.vn.
    Entry points:
        the dân vận categories (/blogs/category/type/<type>?categoryId=<id>), paged with &page=N&size=10.
    Caveats:
        articles and listings are read from the page's embedded __NEXT_DATA__ JSON.
    """

    name = "tuyengiaodanvan"
    site = get_site("tuyengiaodanvan")
