"""Fast paths give the answers of the slower paths they replaced (issue 11): memos kept while
a page is read, and Python tests of what an XPath expression selected."""

from __future__ import annotations

import random

import pytest

from dvcrawl.extract.boilerplate import in_chrome as in_page_chrome
from dvcrawl.extract.page import Page
from dvcrawl.extract.teasers import in_chrome as in_teaser_chrome
from tests.eval.score import load_gold


def test_chrome_areas_answered_once_per_element_agree_with_a_walk_up_from_each() -> None:
    chosen = random.Random(11)
    checked = marked = 0
    for gold in load_gold():
        page = Page(gold.html, gold.gold["url"])
        elements = [e for e in page.root.iter() if isinstance(e.tag, str)]
        plain = {e: (in_page_chrome(e), in_teaser_chrome(e)) for e in elements}
        with page.reading():
            # In a random order: an answer must not depend on which element was asked first.
            for element in chosen.sample(elements, len(elements)):
                assert (in_page_chrome(element), in_teaser_chrome(element)) == plain[element]
                checked += 1
                marked += plain[element][0]
    assert checked > 20_000 and marked > 2_000


def test_link_density_measured_once_per_element_is_the_density_measured_afresh() -> None:
    from dvcrawl.extract.boilerplate import link_density

    chosen = random.Random(12)
    checked = linked = 0
    for gold in load_gold():
        page = Page(gold.html, gold.gold["url"])
        elements = [e for e in page.root.iter("div", "td", "ul", "section", "p", "li")]
        sample = chosen.sample(elements, min(len(elements), 40))
        plain = {e: link_density(e) for e in sample}
        skip = frozenset(sample[:2])
        plain_skipping = {e: link_density(e, skip) for e in sample}
        with page.reading():
            for element in sample + sample:  # asked twice: the second answer is the memo's
                assert link_density(element) == plain[element]
                assert link_density(element, skip) == plain_skipping[element]
                checked += 1
                linked += plain[element] > 0
    assert checked > 5_000 and linked > 1_000


def test_short_anchor_elements_are_those_the_xpath_reading_finds() -> None:
    from lxml import etree

    from dvcrawl.extract.boilerplate import _ANCHOR_TAGS, _short_anchor_elements

    by_xpath = etree.XPath(
        ".//*[("
        + " or ".join(f"self::{tag}" for tag in sorted(_ANCHOR_TAGS))
        + ") and string-length(string()) <= 80]"
    )
    found = 0
    for gold in load_gold():
        page = Page(gold.html, gold.gold["url"])
        for root in [page.root, *page.root.iter("div")][:30]:
            expected = by_xpath(root)
            assert list(_short_anchor_elements(root)) == expected
            found += len(expected)
    assert found > 10_000


def test_hidden_elements_are_those_the_xpath_reading_found() -> None:
    from lxml import etree

    from dvcrawl.extract.page import _HIDDEN_TAGS, is_hidden
    from dvcrawl.extract.region import _hidden

    styled = etree.XPath("descendant-or-self::*[@style or @hidden or @aria-hidden='true']")
    total = 0
    for gold in load_gold():
        root = Page(gold.html, gold.gold["url"]).root
        expected: set = set()
        for element in (*root.iter(*_HIDDEN_TAGS), *styled(root)):
            if element not in expected and is_hidden(element):
                expected.update(element.iter())
        assert _hidden(root, list(root.iter())) == expected
        total += len(expected)
    assert total > 3_000


def test_brand_elements_are_those_the_xpath_reading_found() -> None:
    import gzip
    from pathlib import Path

    from dvcrawl.extract.base import _brand_elements, _brand_names
    from dvcrawl.extract.families import page_index

    zyte = Path(__file__).resolve().parent.parent / "benchmarks" / "zyte_articles" / "html"
    htmls = [gold.html for gold in load_gold()]
    htmls += [gzip.decompress(path.read_bytes()).decode() for path in sorted(zyte.glob("*.gz"))]
    found = 0
    for html in htmls:
        page = Page(html, "https://example.vn/")
        index = page_index(page)
        tokens = [name for name in index.classes if _brand_names(name) and "'" not in name]
        ids = [name for name in index.ids.split("\n") if name and _brand_names(name)]
        ids = [name for name in ids if "'" not in name]
        tests = [f"contains(concat(' ', normalize-space(@class), ' '), ' {n} ')" for n in tokens]
        tests += [f"@id='{name}'" for name in ids]
        query = "//footer" + (f" | //*[@class or @id][{' or '.join(tests)}]" if tests else "")
        expected = page.root.xpath(query)
        assert _brand_elements(page, frozenset(tokens), frozenset(ids)) == expected
        found += len(expected)
    assert found > 2_000


def test_the_first_visible_character_is_the_first_of_the_element_text() -> None:
    from dvcrawl.extract.page import element_text, first_visible_char

    opening = 0
    for gold in load_gold():
        page = Page(gold.html, gold.gold["url"])
        with page.reading():
            for element in page.root.iter():
                if not isinstance(element.tag, str):
                    continue
                text = element_text(element)
                first = first_visible_char(element)
                assert (first == "(") == text.startswith("("), gold.name
                assert bool(first) == bool(text), gold.name
                opening += first == "("
    assert opening > 20


def test_block_texts_are_clean_lines() -> None:
    # The body's line tests read a block's text as clean (`is_boilerplate_clean_line`).
    from dvcrawl.extract.blocks import blocks_of
    from dvcrawl.extract.text import clean_line

    lines = 0
    for gold in load_gold():
        page = Page(gold.html, gold.gold["url"])
        with page.reading():
            for block in blocks_of(page, page.root):
                if block.kind != "image":
                    assert block.text == clean_line(block.text), gold.name
                    lines += 1
    assert lines > 5_000


def test_selectors_answered_in_python_select_what_their_xpath_selects() -> None:
    # Page.css tests each node in Python for the selectors libxml2 was slow on: with the
    # document order built (structurally read pages) and without it (selector-read ones).
    import gzip
    from pathlib import Path

    from dvcrawl.extract.page import _NODE_TESTS, _compiled

    zyte = Path(__file__).resolve().parent.parent / "benchmarks" / "zyte_articles" / "html"
    pages = [gold.html for gold in load_gold()]
    pages += [gzip.decompress(path.read_bytes()).decode() for path in sorted(zyte.glob("*.gz"))]
    assert len(pages) > 200
    for selector in _NODE_TESTS:
        by_xpath = _compiled(selector)
        found = 0
        for html in pages:
            for order_built in (False, True):
                page = Page(html, "https://example.vn/")
                if order_built:
                    assert page.order
                expected = list(by_xpath(page.root))
                assert page.css(selector) == expected, selector
                assert page.css(selector) == expected, "asked again: the kept answer"
            found += len(expected)
        assert found > 50, selector


@pytest.mark.parametrize("order_built", [False, True])
def test_every_kind_each_python_selector_names_is_selected(order_built: bool) -> None:
    from dvcrawl.extract.page import HEADINGS, PUBLICATION_TIMES

    page = Page(
        "<html><body><h1>A</h1><div class='news-title'>B</div><h2>C</h2><p class='x'>-</p>"
        "<span class='SubTitle'>D</span><h3>E</h3><h4>-</h4><!-- title --><div class=''>-</div>"
        "<p class='TITLE'>- neither spelling</p><div class='tieude'>I</div>"
        "<div class='TieuDe'>J</div><div class='Tieude'>K</div><div class='news-tieu-de'>L</div>"
        "<div class='tieu_de'>M</div><div class='headline'>N</div><div class='Headline'>O</div>"
        "<div class='TIEUDE'>- neither</div>"
        "<time itemprop='datePublished'>F</time><time pubdate>G</time><time>-</time>"
        "<span itemprop='datePublished' datetime='2024-01-01'>H</span>"
        "<span itemprop='datePublished'>- no datetime</span><span pubdate>- not a time</span>"
        "<time itemprop='dateModified' datetime='2024-01-02'>-</time></body></html>",
        "https://example.vn/",
    )
    if order_built:
        assert page.order
    assert [e.text for e in page.css(HEADINGS)] == [*"ABCDEIJKLMNO"]
    assert [e.text for e in page.css(PUBLICATION_TIMES)] == ["F", "G", "H"]
