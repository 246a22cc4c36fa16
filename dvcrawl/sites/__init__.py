"""The site registry: every portal dvcrawl knows, by id, and which one a URL belongs to.

Importable without Scrapy. To add a portal, write ``dvcrawl/sites/<id>.py`` with a ``SITE``
(or ``SITES``) declaration and list the module in `_MODULES` (docs/adding-a-portal.md).
"""

from __future__ import annotations

from types import ModuleType
from urllib.parse import urlsplit

from dvcrawl.sites import (
    baodongthap,
    dangcongsan,
    danvan,
    hanoi_gov,
    hanoi_liferay,
    mttq_hanoi,
    provincial,
    thanhuytphcm,
    tuyengiaodanvan,
)
from dvcrawl.sites.base import Site

_MODULES: tuple[ModuleType, ...] = (
    thanhuytphcm,
    hanoi_liferay,
    hanoi_gov,
    mttq_hanoi,
    baodongthap,
    dangcongsan,
    danvan,
    tuyengiaodanvan,
    provincial,
)


def _collect() -> dict[str, Site]:
    registry: dict[str, Site] = {}
    for module in _MODULES:
        declared = getattr(module, "SITES", None) or (module.SITE,)
        for site in declared:
            if site.id in registry:
                raise ValueError(f"duplicate site id {site.id!r} in {module.__name__}")
            registry[site.id] = site
    return registry


#: Every registered portal, by id.
SITES: dict[str, Site] = _collect()


class UnknownSite(KeyError):
    """Raised for a site id that is not registered."""

    def __str__(self) -> str:
        return f"unknown site {self.args[0]!r} (known: {', '.join(sorted(SITES))})"


def get_site(site_id: str) -> Site:
    """The site declared under `site_id`; raises `UnknownSite` otherwise."""
    try:
        return SITES[site_id]
    except KeyError:
        raise UnknownSite(site_id) from None


def site_for_host(host: str) -> Site | None:
    """The portal a (``www.``-stripped) host belongs to; exact domains win over subdomains."""
    for site in SITES.values():
        if host in site.domains:
            return site
    for site in SITES.values():
        if site.claims_host(host):
            return site
    return None


def site_for_url(url: str) -> Site | None:
    """The portal `url` belongs to, or None for portals no site module covers."""
    from dvcrawl.urls import strip_host

    host = urlsplit(url).hostname
    return site_for_host(strip_host(host)) if host else None


def resolve_host(host: str) -> tuple[str, str]:
    """``(canonical_host, scheme)`` for a stripped host: alias domains fold into the first."""
    site = site_for_host(host)
    if site is None:
        return host, "https"
    if host in site.domains:
        return site.canonical_host, site.canonical_scheme
    return host, site.canonical_scheme


__all__ = [
    "SITES",
    "Site",
    "UnknownSite",
    "get_site",
    "resolve_host",
    "site_for_host",
    "site_for_url",
]
