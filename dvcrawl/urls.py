"""URL canonicalization: one function gives an article its identity.

`canonicalize` is used by the database (the `canonical_url` key), by the request fingerprinter
(so a crawl never fetches the same article twice under two spellings) and by deduplication.
It folds what does not change the content:

* scheme (to the site's canonical scheme, https unless the site says otherwise), case of the
  host, default ports, ``www.`` and ``m.`` hosts, a site's alias domains
  (hcmcpv.org.vn is thanhuytphcm.vn);
* fragments, trailing slashes, percent-encoding spelling, query-parameter order;
* tracking and session parameters (utm_*, fbclid, Zalo's zarsrc, jsessionid, ...), Liferay's
  portlet-state parameters (p_p_*, redirect) and session ids inside the path.

It keeps every other query parameter: on ASP.NET and SharePoint portals ``?id=`` and
``?ItemID=`` are the content, and a canonicalizer that drops them merges distinct articles.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

_TRACKING_EXACT = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
        "zarsrc", "zaloshare", "_ga", "_gl", "mc_cid", "mc_eid", "ref", "ref_src",
        "jsessionid", "phpsessid", "aspsessionid", "sessionid", "sid", "cfid", "cftoken",
        # Liferay 6.2/7 portlet state: which portlet rendered the link, and where to go back.
        "p_p_id", "p_p_lifecycle", "p_p_state", "p_p_mode", "p_p_col_id", "p_p_col_pos",
        "p_p_col_count", "p_p_auth", "p_l_id", "redirect", "inheritredirect", "backurl",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "p_r_p_", "hsa_", "pk_", "mtm_")
# Liferay namespaces portlet parameters as "_<portletId>_<name>"; the ones below only say
# where to go back to, the others (e.g. "_..._cur" page numbers) are kept.
_LIFERAY_NOISE = re.compile(r"^_.+_(?:redirect|returntofullpageurl|backurl)$", re.IGNORECASE)
# ";jsessionid=..." path parameters and ASP.NET cookieless sessions "/(S(abc123))/".
_PATH_SESSION = re.compile(r";(?:jsessionid|sessionid|phpsessid)=[^/?#]*", re.IGNORECASE)
_ASPNET_SESSION = re.compile(r"/\((?:[A-Z]\([^)]*\))+\)", re.IGNORECASE)
_HOST_PREFIXES = ("www.", "m.", "www2.", "wap.", "mobile.")


class InvalidURL(ValueError):
    """Raised for strings that are not absolute http(s) URLs."""


def is_tracking_param(name: str) -> bool:
    """Whether a query parameter only tracks or carries session/portlet state."""
    lowered = name.lower()
    return (
        lowered in _TRACKING_EXACT
        or lowered.startswith(_TRACKING_PREFIXES)
        or bool(_LIFERAY_NOISE.match(name))
    )


def strip_host(host: str) -> str:
    """Lower-case `host`, drop a trailing dot and a ``www.``/``m.``-style prefix."""
    host = host.lower().rstrip(".")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix) :]
    return host


def canonicalize(url: str, *, resolve_host: Callable[[str], tuple[str, str]] | None = None) -> str:
    """Return the identity form of `url`.

    Args:
        url: an absolute http(s) URL.
        resolve_host: maps a stripped host to ``(canonical_host, scheme)``; defaults to the
            site registry, which folds alias domains and knows http-only portals.

    Raises:
        InvalidURL: if `url` is not an absolute http(s) URL.

    >>> canonicalize("http://www.hcmcpv.org.vn/tin-tuc/abc-1491871594/?utm_source=fb#top")
    'https://thanhuytphcm.vn/tin-tuc/abc-1491871594'

    """
    if resolve_host is None:
        from dvcrawl.sites import resolve_host as registry_resolve

        resolve_host = registry_resolve
    return _canonical_with(url, resolve_host)


@functools.lru_cache(maxsize=4096)
def _canonical_with(url: str, resolve_host: Callable[[str], tuple[str, str]]) -> str:
    # Extraction and navigation canonicalize the same links again and again (issue 11). The
    # resolver is part of the key: a registry replaced (in a test) is a new cache.
    return _canonicalize(url, resolve_host)


def _canonicalize(url: str, resolve_host: Callable[[str], tuple[str, str]]) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"not a valid URL: {url!r}") from exc
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise InvalidURL(f"not an absolute http(s) URL: {url!r}")
    host, scheme = resolve_host(strip_host(parts.hostname))
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"

    path = _ASPNET_SESSION.sub("", _PATH_SESSION.sub("", parts.path)) or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    ]
    rebuilt = urlunsplit((scheme, netloc, path, urlencode(query), ""))
    canonical = canonicalize_url(rebuilt, keep_blank_values=True)
    head, sep, tail = canonical.partition("?")
    if head.endswith("/") and head.count("/") > 3:
        # "https://host//" keeps its root: the identity of "https://host/" (idempotence,
        # found by tests/test_properties.py).
        head = head.rstrip("/")
        if head.count("/") < 3:
            head += "/"
    return head + sep + tail  # canonicalize_url drops an empty query, "?" with it


def plain_host(host: str) -> tuple[str, str]:
    """A host resolver that knows no portal: the host as given, https (see `canonicalize`)."""
    return host, "https"


def path_and_query(url: str) -> str:
    """The path and query of `url`'s canonical form: what site URL patterns are matched on.

    Tracking parameters are gone by then, so ``/tin-tuc/x-1491905588?utm_source=fb`` still has
    the shape of an article URL.
    """
    with contextlib.suppress(InvalidURL):
        url = canonicalize(url)
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
