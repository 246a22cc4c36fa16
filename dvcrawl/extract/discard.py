"""trafilatura's curated boilerplate names, tested in Python.

trafilatura (Apache-2.0) keeps in ``trafilatura.xpaths.OVERALL_DISCARD_XPATH`` two XPath
expressions that name boilerplate blocks by class, id, role and style: bylines, meta lines,
share and newsletter boxes, slideshows, "related" and "most popular" boxes, hidden blocks.
dvcrawl applies them inside the chosen body container (`dvcrawl.extract.region`). Evaluated by
libxml2, their ``re:test`` calls back into Python for every element and attribute, a twentieth
of extraction time (issue 11); here the same tests run once per element that has attributes.

The patterns are trafilatura 2.3.1's, copied as they are; tests/test_discard.py checks on every
gold and benchmark page that this module and trafilatura's XPath select the same elements, so
a trafilatura release that changes them is noticed.
"""

from __future__ import annotations

import re

from lxml import etree

from dvcrawl.extract.page import HtmlElement

# The first expression: only these tags (trafilatura's "item" and "list" are its own names
# for <li> and lists, and never occur in a page as parsed here, but are kept for parity).
_NAV_TAGS = frozenset({"div", "item", "list", "p", "section", "span"})
_NAV_ID = re.compile(
    "^shar|social|viral|newsletter|syndication|tags|sidebar|banner|bread-?crumb|button|author|"
    "^(?:jp-|dpsp-content)|bmdh|footer|Footer|share|Share|nav|Nav|menu|related|"
    "message-container|premium|^ad-"
)
_NAV_CLASS = re.compile(
    "^shar|social|viral|newsletter|syndication|tags|sidebar|banner|bread-?crumb|button|author|"
    "^(?:nav|post-nav|ZendeskForm)|subnav|avigation|navbar|navbox|menu|bar| ad |-ad-|"
    "(?:^| )ad-|dfp[Aa]d|outbrain|taboola|criteo|paid-?content|widget|footer|Footer|byline|"
    "Byline|share-|sociable|embedded|embed|tag-list|consent|modal-content|permission|elated|"
    "next-|-stories|most-popular|more-on|meta|rating|attachment|timestamp|user-info|"
    "user-profile|-icon|article-infos|message-container|slide|viewport|overlay|options|expand|"
    "obfuscated|blurred|mol-factbox|yin|zlylin|nfoline"
)
# The second expression: any tag.
_HIDE_ID = re.compile("reader-comments|akismet")
_HIDE_CLASS = re.compile(
    "^hide-|comments-title|nocomments|-reply-|message|akismet|suggest-links|-hide-|hide-print|"
    " hidden| hide|noprint|notloaded"
)
_WITH_ATTRIBUTES = etree.XPath(".//*[@*]")


def _first(element: HtmlElement, names: tuple[str, str]) -> str:
    # XPath's string value of "@id|@class": the first of them in the element's attribute order.
    for name, value in element.items():
        if name in names:
            return value
    return ""


def is_discarded(element: HtmlElement) -> bool:
    """Whether trafilatura's discard expressions select `element` (see the module docstring)."""
    get = element.get
    ident = get("id") or ""
    classes = get("class") or ""
    style = get("style") or ""
    if element.tag in _NAV_TAGS and (
        get("data-lp-replacement-content") is not None
        or "nav" in (get("role") or "").replace("N", "n")
        or "MostPopularStories" in (get("data-component") or "")
        or "cookie" in _first(element, ("id", "class"))
        or _NAV_ID.search(ident)
        or _NAV_CLASS.search(classes)
    ):
        return True
    return bool(
        classes == "comments-title"
        or _first(element, ("id", "class")).startswith("reply-")
        or "hidden" in _first(element, ("id", "style"))
        or "display:none" in style
        or "display: none" in style
        or _HIDE_ID.search(ident)
        or _HIDE_CLASS.search(classes)
        or get("aria-hidden") == "true"
    )


def discarded_below(root: HtmlElement) -> list[HtmlElement]:
    """The descendants of `root` (never `root`) that the discard expressions select."""
    return [element for element in _WITH_ATTRIBUTES(root) if is_discarded(element)]
