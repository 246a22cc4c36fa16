"""`Page.css` skips selector alternatives naming a class or id the page does not use (issue 11).

The shortcut must never change an answer: every selector the site modules, the CMS families
and the toolkit declare is evaluated on every gold page both ways.
"""

from __future__ import annotations

import dataclasses

import pytest
from lxml.cssselect import CSSSelector

from dvcrawl.extract.families import FAMILIES, select
from dvcrawl.extract.page import HEADINGS, Page
from dvcrawl.extract.selectors import SelectorExtractor
from dvcrawl.sites import SITES
from tests.eval.score import load_gold

# Forms the simple reading must leave alone or read right: pseudo-classes whose classes are
# not required, quoted values holding commas and dots, compound and descendant selectors,
# non-ASCII names.
TRICKY = (
    "div:not(.never-there)",
    "[data-x='a,b'], .content",
    "a[href*='.never']",
    "div.content.never-there",
    "div#main .never-there, p",
    ".tin·tức, p",
    "#never-there, h1",
)


def _declared_selectors() -> set[str]:
    selectors = {HEADINGS, *TRICKY}
    for site in SITES.values():
        for extractor in site.extractors:
            if isinstance(extractor, SelectorExtractor):
                for field in ("body", "title", "date", "sapo", "author", "drop", "marker"):
                    if value := getattr(extractor, field):
                        selectors.add(value)
    for family in FAMILIES:
        for field in dataclasses.fields(family):
            value = getattr(family, field.name)
            if field.name in {"body", "title", "not_title", "date", "author", "drop"} and value:
                selectors.add(value)
    return selectors


SELECTORS = sorted(_declared_selectors())
PAGES = load_gold()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: f"{page.group}/{page.name}")
def test_skipping_absent_names_never_changes_what_a_selector_finds(page) -> None:
    parsed = Page(page.html, page.gold["url"])
    skipped = 0
    for selector in SELECTORS:
        expected = CSSSelector(selector, translator="html")(parsed.root)
        assert parsed.css(selector) == expected, selector
        skipped += parsed.matchable(selector) != selector
        if selector in TRICKY:
            continue  # `select` splits at every comma; families declare plain lists
        parts = [p.strip() for p in selector.split(",") if p.strip()]
        assert select(parsed, selector) == list(
            dict.fromkeys(e for p in parts for e in CSSSelector(p, translator="html")(parsed.root))
        ), selector
    assert skipped  # every page lacks some of the declared names


def test_alternatives_naming_absent_classes_or_ids_are_dropped() -> None:
    page = Page(
        '<html><body><div class="content main"><p id="lead">x</p></div></body></html>',
        "https://example.vn/a",
    )
    assert page.matchable(".content, .sidebar, #lead, #nav, p") == ".content, #lead, p"
    assert page.matchable(".sidebar, #nav") == ""
    assert page.css(".sidebar, #nav") == []
    assert page.matchable("div.content.main p#lead") == "div.content.main p#lead"
    assert page.matchable("div:not(.sidebar)") == "div:not(.sidebar)"
