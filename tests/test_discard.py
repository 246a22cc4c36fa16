"""`dvcrawl.extract.discard` selects what trafilatura's discard XPath selects (issue 11)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from trafilatura.xpaths import OVERALL_DISCARD_XPATH

from dvcrawl.extract.discard import discarded_below, is_discarded
from dvcrawl.extract.page import Page
from tests.eval.score import load_gold

ZYTE = Path(__file__).resolve().parent.parent / "benchmarks" / "zyte_articles" / "html"


def _pages() -> list[tuple[str, str]]:
    pages = [(f"{p.group}/{p.name}", p.html) for p in load_gold()]
    for path in sorted(ZYTE.glob("*.html.gz")):
        pages.append((f"zyte/{path.name}", gzip.decompress(path.read_bytes()).decode("utf-8")))
    return pages


def test_every_gold_and_benchmark_page_gives_the_same_elements_as_trafilatura() -> None:
    pages = _pages()
    assert len(pages) > 200
    selected = 0
    for name, html in pages:
        root = Page(html, "https://example.vn/").root
        expected = {e for xpath in OVERALL_DISCARD_XPATH for e in xpath(root) if e is not root}
        found = set(discarded_below(root))
        assert found == expected, name
        selected += len(found)
    assert selected > 1000


@pytest.mark.parametrize(
    ("markup", "discarded"),
    [
        ('<div class="share-tools">x</div>', True),
        ('<span role="Navigation">x</span>', True),
        ('<p data-lp-replacement-content="">x</p>', True),
        ('<div id="cookie-bar">x</div>', True),
        # "@id|@class" is read as its first attribute: a class after an id is not tested.
        ('<div id="main" class="cookie">x</div>', False),
        ('<div class="cookie" id="main">x</div>', True),
        ('<td class="sidebar">x</td>', False),  # the first expression names its tags
        ('<td class="noprint">x</td>', True),
        ('<td id="reply-3">x</td>', True),
        # ... and a class when there is no id ("-reply-" inside a class is another test).
        ('<td class="reply-form">x</td>', True),
        ('<div data-component="MostPopularStories">x</div>', True),
        ('<td data-component="MostPopularStories">x</td>', False),
        ('<td style="color:red" id="hidden">x</td>', False),
        ('<td id="hidden" style="color:red">x</td>', True),
        ('<td style="display: none">x</td>', True),
        ('<td aria-hidden="true">x</td>', True),
        ('<td class="comments-title">x</td>', True),
        ('<p class="content">x</p>', False),
    ],
)
def test_each_test_of_the_expressions(markup: str, discarded: bool) -> None:
    root = Page(f"<html><body><main>{markup}</main></body></html>", "https://example.vn/").root
    element = root.find(".//main")[0]
    assert is_discarded(element) is discarded
    expected = {e for xpath in OVERALL_DISCARD_XPATH for e in xpath(root)}
    assert (element in expected) is discarded
