"""One spider per registered site, made from its declaration.

A portal is a declaration in `dvcrawl.sites`; its spider is `PortalSpider` bound to that
declaration, named after the site id, so ``scrapy crawl <site id>`` and ``scrapy list`` see every
registered portal without a module per portal.
"""

from __future__ import annotations

from dvcrawl.sites import SITES, Site
from dvcrawl.spiders.portal import PortalSpider


def spider_for(site: Site) -> type[PortalSpider]:
    """The spider class of one site (``HanoiGovSpider`` for ``hanoi_gov``)."""
    class_name = "".join(part.capitalize() for part in site.id.split("_")) + "Spider"
    doc = (
        f"{site.name}.\n\n"
        f"Domain:\n    {', '.join(site.domains)}"
        f"{' and their subdomains' if site.include_subdomains else ''}.\n"
        f"Entry points:\n    {', '.join(site.start_urls)}.\n"
        + (f"Caveats:\n    {site.notes}\n" if site.notes else "")
    )
    # __module__ is this module's: Scrapy's spider loader only lists classes defined in the
    # modules it walks.
    return type(
        class_name,
        (PortalSpider,),
        {"name": site.id, "site": site, "__doc__": doc, "__module__": __name__},
    )


for _site in SITES.values():
    _spider = spider_for(_site)
    globals()[_spider.__name__] = _spider
# Scrapy's loader lists every class it finds among this module's names: no second name for one.
del _site, _spider
