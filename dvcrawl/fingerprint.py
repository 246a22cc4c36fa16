"""Request fingerprints built on canonical URLs (the same identity the database uses)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from dvcrawl.urls import InvalidURL, canonicalize

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class CanonicalRequestFingerprinter:
    """Fingerprint = method + canonical URL + body.

    A request that results from a redirect gets a distinct fingerprint: otherwise a portal that
    redirects ``www.`` to the bare host (same canonical URL) would have its redirect target
    dropped as a duplicate of the request that was redirected.
    """

    def __init__(self, crawler: Crawler | None = None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CanonicalRequestFingerprinter:
        """Build the fingerprinter (Scrapy component protocol)."""
        return cls(crawler)

    def fingerprint(self, request: Request) -> bytes:
        """The request's fingerprint (20 bytes)."""
        try:
            key = canonicalize(request.url)
        except InvalidURL:
            key = request.url
        parts = [
            request.method,
            key,
            hashlib.sha1(request.body or b"").hexdigest(),
            bool(request.meta.get("redirect_urls")),
        ]
        return hashlib.sha1(json.dumps(parts).encode("utf-8")).digest()
