"""`text_between` reads the text between two elements lazily; the answer is the XPath one's."""

from __future__ import annotations

from dvcrawl.extract.base import text_between
from dvcrawl.extract.page import Page, is_hidden
from dvcrawl.extract.text import clean_line
from tests.eval.score import load_gold


def _by_xpath(page: Page, start, end) -> str:
    # The reading before issue 11: every following text node of the page, listed by XPath.
    _, order = page.order
    limit = order[end]
    parts = []
    for text in start.xpath("following::text()"):
        parent = text.getparent()
        position = order.get(parent, limit)
        if not text.is_text:
            position += sum(1 for _ in parent.iterdescendants())
        if position >= limit:
            break
        owner = parent if text.is_text else parent.getparent()
        if owner is not None and any(is_hidden(node) for node in (owner, *owner.iterancestors())):
            continue
        parts.append(str(text))
    return clean_line(" ".join(parts))


def test_the_text_between_headings_and_later_elements_is_the_xpath_reading() -> None:
    compared = nonempty = 0
    for gold in load_gold():
        page = Page(gold.html, gold.gold["url"])
        elements, order = page.order
        for start in page.root.iter("h1", "h2", "h3"):
            later = [e for e in elements[order[start] + 1 :] if isinstance(e.tag, str)]
            for end in later[:: max(1, len(later) // 8)][:8]:
                expected = _by_xpath(page, start, end)
                assert text_between(page, start, end) == expected, (gold.name, start, end)
                compared += 1
                nonempty += bool(expected)
    assert compared > 1000 and nonempty > 500
