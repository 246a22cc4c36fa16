"""The `Site` declaration: everything dvcrawl knows about one portal, as data.

Spiders, pipelines and the command line read a portal's behaviour from here and never branch
on its name. Importing this module does not import Scrapy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dvcrawl.extract.base import Extractor
    from dvcrawl.extract.page import Page


@dataclass(frozen=True)
class Site:
    """One portal (or one generation of a portal).

    Attributes:
        id: ASCII snake_case id; also the spider's name.
        name: the portal's own name, as its pages print it (never taken as a title).
        domains: hosts the portal answers on, without ``www.``; the first is canonical and
            the others are folded into it (hcmcpv.org.vn is thanhuytphcm.vn).
        start_urls: entry points: home or section pages, where the crawl begins.
        article_url: regex searched in a URL's path and query; a match means "article page".
        listing_url: regex for listing pages worth following (sections, pagination); None
            means only the start pages and their pagination are read.
        follow_link_text: on start pages, follow only listing links whose text matches this
            regex (finds the "Dân vận" section in a menu without hard-coding its URL).
        extractors: versions of the extractor, newest first; the first whose ``applies``
            accepts the page is used (a redesign adds a version, archived pages keep theirs).
        canonical_scheme: the scheme of canonical URLs ("http" for http-only portals).
        include_subdomains: whether ``<anything>.<domain>`` belongs to this portal too.
        max_listing_pages: how deep pagination goes in a normal run, per listing.
        pagination_query: for listings whose pager is script-driven (no next link in the
            markup), the query parameters of page N as a template, e.g. ``"page={page}&size=10"``;
            the spider then asks for page N+1 itself while pages keep yielding article links.
        listing_links: for listings whose links live in embedded data rather than ``<a>``
            elements (Next.js), a pure function of the page returning article URLs.
        health: the portal's own health-check thresholds, over `dvcrawl.health.THRESHOLDS`
            (a portal whose pages often print no date needs a lower ``min_date_rate``).
        enabled: whether ``dvcrawl crawl --all`` runs it (archival portals are disabled).
        notes: what a maintainer should know: quirks, sources, open questions.

    """

    id: str
    name: str
    domains: tuple[str, ...]
    start_urls: tuple[str, ...]
    article_url: str
    extractors: tuple[Extractor, ...]
    listing_url: str | None = None
    follow_link_text: str | None = None
    canonical_scheme: str = "https"
    include_subdomains: bool = False
    max_listing_pages: int = 20
    pagination_query: str | None = None
    listing_links: Callable[[Page], list[str]] | None = None
    health: dict[str, float] = field(default_factory=dict)
    enabled: bool = True
    notes: str = ""
    _article_re: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _listing_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _link_text_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.id):
            raise ValueError(f"site id must be ASCII snake_case: {self.id!r}")
        object.__setattr__(self, "_article_re", re.compile(self.article_url))
        object.__setattr__(
            self, "_listing_re", re.compile(self.listing_url) if self.listing_url else None
        )
        object.__setattr__(
            self,
            "_link_text_re",
            re.compile(self.follow_link_text, re.IGNORECASE) if self.follow_link_text else None,
        )

    @property
    def canonical_host(self) -> str:
        """The host canonical URLs use."""
        return self.domains[0]

    def is_article_url(self, path_and_query: str) -> bool:
        """Whether a URL's path (and query) has the shape of this portal's article URLs."""
        return bool(self._article_re.search(path_and_query))

    def is_listing_url(self, path_and_query: str) -> bool:
        """Whether a URL's path (and query) is a listing page worth following."""
        return bool(self._listing_re and self._listing_re.search(path_and_query))

    def follows_link_text(self, text: str) -> bool:
        """Whether a start-page link with this text leads to a section we crawl."""
        return self._link_text_re is None or bool(self._link_text_re.search(text))

    def claims_host(self, host: str) -> bool:
        """Whether `host` (already stripped of ``www.``) belongs to this portal."""
        if host in self.domains:
            return True
        return self.include_subdomains and any(host.endswith("." + d) for d in self.domains)
