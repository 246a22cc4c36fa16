"""The compiled tree walks (`dvcrawl/extract/_compiled.pyx`) against the Python ones.

The walks run compiled when the extension was built against the running lxml, and in Python
otherwise; both must give the same results, so that an installation without a C compiler
extracts exactly what one with it does:

* the measuring pass (`region._measure`): the same text map, to the last float and in the
  same order (`best_candidate` breaks ties by order);
* element text (`page.element_text`): the same raw text of every element;
* the node tests of `Page.css` (headings, publication times): the same nodes.

The hand-worked cases of tests/test_region.py run against both measuring passes (its
`implementation` fixture); here every gold page, every fixture page and every page of the
public benchmark is walked both ways, and the gold pages are extracted both ways.
"""

from __future__ import annotations

import gzip
import shutil
from dataclasses import asdict
from pathlib import Path

import lxml
import lxml.html
import pytest

from dvcrawl.extract import boilerplate, region
from dvcrawl.extract import compiled as compiled_walks
from dvcrawl.extract import page as page_module
from dvcrawl.extract.page import HEADINGS, PUBLICATION_TIMES, Page
from dvcrawl.extract.text import clean_line
from dvcrawl.extraction import extract_article
from tests.conftest import Runner
from tests.eval.score import load_gold

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PUBLIC = ROOT / "benchmarks" / "zyte_articles" / "html"

#: The modules that use the compiled walks when they are built.
USERS = (region, page_module, boilerplate)


def python_walks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every user of the compiled walks walk in Python."""
    for module in USERS:
        monkeypatch.setattr(module, "compiled", None)


needs_compiled = pytest.mark.skipif(
    compiled_walks.module is None, reason="the compiled walks are not built (no C compiler)"
)


def test_the_pass_is_compiled_where_a_c_compiler_is() -> None:
    # A build that silently fell back would cost a fifth of extraction time unnoticed: where a
    # compiler exists (CI has one), the module must have been built and loaded.
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler on this machine: the pass runs in Python")
    assert compiled_walks.IMPLEMENTATION == "compiled", "dvcrawl/extract/_compiled.pyx not loaded"
    assert all(module.compiled is compiled_walks.module for module in USERS)


def _pages() -> list[str]:
    pages = [page.html for page in load_gold()]
    for path in sorted(FIXTURES.rglob("*.html")):
        pages.append(path.read_text(encoding="utf-8", errors="replace"))
    for path in sorted(PUBLIC.glob("*.html.gz")):
        pages.append(gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace"))
    return pages


def _both(root: lxml.html.HtmlElement) -> tuple[region.TextMap, region.TextMap]:
    return region._measure(root), region._measure_in_python(root)


def _same(compiled: region.TextMap, python: region.TextMap) -> bool:
    return (
        list(compiled.chars._values) == list(python.chars._values)
        and list(compiled.linked._values) == list(python.linked._values)
        and list(compiled.prose._values) == list(python.prose._values)
        and list(compiled.scores.items()) == list(python.scores.items())
        and compiled.chrome == python.chrome
    )


@needs_compiled
def test_every_stored_page_measures_the_same_both_ways() -> None:
    pages = _pages()
    assert len(pages) >= 290  # gold (137), fixtures and the public benchmark (89)
    differing = []
    for number, html in enumerate(pages):
        try:
            root = lxml.html.document_fromstring(html)
        except (lxml.etree.ParserError, ValueError):
            continue  # the empty and broken pages of tests/fixtures/bad_input
        roots = [root, *list(root.iter("body", "article", "div", "p", "li", "td"))[:40]]
        for inner in roots:
            if not _same(*_both(inner)):
                differing.append(f"page {number}, root <{inner.tag}>")
    assert differing == []


@needs_compiled
def test_every_element_of_every_stored_page_has_the_same_text_both_ways() -> None:
    module = compiled_walks.module
    differing = []
    for number, html in enumerate(_pages()):
        page = Page(html, "https://example.com/page")
        with page.reading():
            for element in page.order[0]:
                python = page_module._raw_text(element, page)
                if module.raw_text(element, page_module.hidden) != python:
                    differing.append(f"page {number}, <{element.tag}>")
        compiled_page = Page(html, "https://example.com/page")
        with compiled_page.reading():
            texts = [page_module.element_text(element) for element in compiled_page.order[0]]
        with page.reading():
            expected = [clean_line(page_module._raw_text(e, page)) for e in page.order[0]]
        if texts != expected:
            differing.append(f"page {number}: cleaned texts")
    assert differing == []


@needs_compiled
def test_every_element_of_every_stored_page_measures_and_names_the_same_both_ways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = compiled_walks.module
    differing = []
    pages = [Page(html, "https://example.com/page") for html in _pages()]
    short = [list(boilerplate._short_anchor_elements(page.root)) for page in pages]
    monkeypatch.setattr(boilerplate, "compiled", None)
    assert short == [list(boilerplate._short_anchor_elements(page.root)) for page in pages]
    assert sum(map(len, short)) > 1000
    for number, page in enumerate(pages):
        for element in page.order[0]:
            if module.text_length(element) != len(" ".join(element.text_content().split())):
                differing.append(f"text length: page {number}, <{element.tag}>")
            if module.raw_length(element) != len(element.text_content()):
                differing.append(f"raw length: page {number}, <{element.tag}>")
        for name, xpath in (("class", page_module._CLASS_VALUES), ("id", page_module._ID_VALUES)):
            if module.attribute_values(page.root, name) != xpath(page.root):
                differing.append(f"{name} values: page {number}")
    assert differing == []


@needs_compiled
def test_every_stored_page_selects_the_same_headings_and_times_both_ways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages = _pages()
    compiled = []
    for html in pages:
        page = Page(html, "https://example.com/page")
        page.order  # noqa: B018 (the node tests run over the page's order)
        compiled.append([page.css(HEADINGS), page.css(PUBLICATION_TIMES)])
    assert sum(len(found[1]) for found in compiled) > 10  # pages with publication times exist
    python_walks(monkeypatch)
    python = []
    for html in pages:
        page = Page(html, "https://example.com/page")
        page.order  # noqa: B018
        python.append([page.css(HEADINGS), page.css(PUBLICATION_TIMES)])
    as_paths = [
        [[e.getroottree().getpath(e) for e in found] for found in both] for both in compiled
    ]
    assert as_paths == [
        [[e.getroottree().getpath(e) for e in found] for found in both] for both in python
    ]


#: Selectors beyond the sites' own, one per operator and combinator the compiled selection
#: reads, and some it leaves to lxml (a pseudo-class, a sibling combinator).
SELECTORS = (
    "a[href^=http]", "a[href$='.html']", "[href*=tin-tuc]", "[class~=title]", "[class~='']",
    "[class~='a b']", "div > p", "body p", "div.content p > span", "[lang|=vi]", "*",
    "[data-x!=y]", "#main .content > p", "P", "[ID=main]", "div#main.content", "p:first-child",
    "h1 + p", "svg|a", "[xml|lang]",
)  # fmt: skip


@needs_compiled
def test_every_stored_page_selects_the_same_by_css_both_ways() -> None:
    # Every selector extraction asks of `Page.css` (recorded over the gold pages) and the
    # ones above, on every stored page: the compiled selection against lxml's XPath.
    asked: set[str] = set()
    select = Page._select

    def recording(self: Page, selector: str) -> list:
        asked.add(self.matchable(selector))
        return select(self, selector)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Page, "_select", recording)
        for gold in load_gold():
            extract_article(gold.html, gold.gold["url"])
    selectors = sorted(selector for selector in asked if selector) + list(SELECTORS)
    programs = {selector: page_module._css_program(selector) for selector in selectors}
    assert sum(program is not None for program in programs.values()) >= 100
    assert programs["p:first-child"] is None and programs["h1 + p"] is None
    differing = []
    for number, html in enumerate(_pages()):
        page = Page(html, "https://example.com/page")
        for selector, program in programs.items():
            if program is None:
                continue
            found = compiled_walks.module.css_select(page.order[0], program)
            if found != list(page_module._compiled(selector)(page.root)):
                differing.append(f"page {number}: {selector}")
    assert differing == []


# Each page exercises one thing the C code does itself rather than through lxml.
CASES = {
    # Python's whitespace (str.split): no-break, ideographic and line separators, the
    # information separators \x1c-\x1f and \x85; a zero-width space is not whitespace.
    "unicode whitespace": "<p>M\u00e1t\u00a0tr\u1eadn\u3000T\u1ed5\u2028qu\u1ed1c\x1cVi\u1ec7t\x85Nam"
    "\u200bx\u2003y\u202fz\u205fw\u1680v, and enough words to be a paragraph</p>",
    # Four-byte characters, and commas of four scripts.
    "scripts and commas": "<p>\U0001f600 alpha, beta\uff0c gamma\u3001 delta\u060c epsilon and"
    " more words</p><p>\u6587\u5b57\uff0c\u6587\u5b57\u3001\u6587\u5b57\u6587\u5b57\u6587\u5b57"
    "\u6587\u5b57\u6587\u5b57\u6587\u5b57\u6587\u5b57\u6587\u5b57\u6587\u5b57</p>",
    # Commas inside a hidden span count for its paragraph (text_content reads them), its
    # length does not; a hidden block's commas do not reach a <div>'s direct text.
    "hidden text in paragraphs": "<div><p>one two three four five six seven <span hidden>,,,,,"
    '</span> eight</p><div>direct text of the block, long enough to score <div style="display:'
    'none">,,,,</div> and more</div><div>words words words words words words words words <b '
    'aria-hidden="true">bold, hidden, commas</b> end</div></div>',
    # Comments, processing instructions and their tails; CDATA-like text in scripts.
    "comments and instructions": "<div><!-- note, with commas --> tail one, two, three and more "
    "text<?php echo 1; ?> after the instruction, long enough<p>para, graph text that is long "
    "enough</p><script>var a = 1, b = 2;</script> script tail, long enough text</div>",
    # A link-heavy menu, a chrome area by name, one by tag, a content name outweighing chrome.
    "chrome and links": '<nav><p><a href="/1">menu item one long enough</a></p></nav><div class='
    '"sidebar"><p>sidebar paragraph with, some, commas and words</p></div><div class="article-'
    'body"><p>body paragraph with, commas, and words enough</p></div><footer><p>footer text '
    "long enough to be a paragraph</p></footer>",
    # Paragraphs right below the measured root credit ancestors outside it.
    "nested paragraphs": "<div><p>outer text long enough, with commas<p>inner</p></p><li>item "
    "text long enough to score, with a comma</li><li><p>nested, paragraph in an item, long</p>"
    "</li></div>",
    # Headings by tag and by class substring, an empty class, a namespaced-looking tag;
    # publication times by microdata and by <time pubdate>.
    "headings and times": '<h1>A</h1><div class="post-title">B</div><div class="">C</div>'
    '<div class="TieuDe x">D</div><h4 class="subtitle">E</h4><svg:h1>F</svg:h1>'
    '<time itemprop="datePublished">1</time><span itemprop="datePublished" datetime="2">2</span>'
    '<span itemprop="datePublished">3</span><time pubdate>4</time><time>5</time>'
    '<time itemprop="dateModified" pubdate="">6</time>',
    # Attribute values for every operator, classes split at XPath whitespace only.
    "attributes": '<div id="main" class="content\tbox\u00a0x" lang="vi-VN" data-x="y"><p '
    'class="a b">one <a href="http://e.com/tin-tuc/1.html">x</a><span>s</span></p><p lang="vi">'
    'two</p><P ID="up">three</P></div>',
    # Blocks set apart, inline tags joined ("Hà<b>N</b>ội"), line breaks, hidden parts.
    "text": "<div>H\u00e0<b>N</b>\u1ed9i<br>next<p>para</p>tail<span style='display: none'>"
    "gone</span><span style='color:red'>kept</span><noscript>ns</noscript><SCRIPT>x</SCRIPT>"
    "<table><tr><td>a</td><td>b</td></tr></table></div>",
    # Cleaning: an invisible character between a letter and its combining mark (removed after
    # composing, so they stay apart), decomposed letters (composed), a soft hyphen, an en quad
    # (whitespace whose canonical form is another whitespace), a byte-order mark.
    "cleaning": "<p>a\u200b\u0301 A\u030a Vie\u0302\u0323t co\u00adde x\u2000y \ufeffz"
    "</p><p>Vie\u0302\u0323t Nam \u3000 d\u00e2n v\u1eadn</p>",
    "empty": "",
    "only a comment": "<!-- nothing -->",
}


@needs_compiled
@pytest.mark.parametrize("name", list(CASES))
def test_hand_made_pages_measure_the_same_both_ways(name: str) -> None:
    html = f"<html><body>{CASES[name] or '<p></p>'}</body></html>"
    root = lxml.html.document_fromstring(html)
    for inner in [root, *root.iter("body", "div", "p", "li")]:
        compiled, python = _both(inner)
        assert _same(compiled, python), f"root <{inner.tag}>"
    page = Page(html, "https://example.com/page")
    with page.reading():
        for element in page.order[0]:
            assert page_module.element_text(element) == clean_line(
                page_module._raw_text(element, page)
            ), f"<{element.tag}>"
    page = Page(html, "https://example.com/page")
    with page.reading():
        for element in page.order[0]:
            assert compiled_walks.module.raw_text(
                element, page_module.hidden
            ) == page_module._raw_text(element, page), f"<{element.tag}>"
        for selector, test in page_module._NODE_TESTS.items():
            expected = [node for node in page.order[0] if test[0](node)]
            assert page.css(selector) == expected
    for selector in SELECTORS:
        program = page_module._css_program(selector)
        if program is not None:
            found = compiled_walks.module.css_select(page.order[0], program)
            assert found == list(page_module._compiled(selector)(page.root)), selector


@needs_compiled
def test_hidden_commas_change_the_score_as_in_python() -> None:
    # The C pass skips the text of hidden elements unless its commas reach a paragraph's
    # score: this page's score depends on that exception.
    with_hidden = lxml.html.document_fromstring(
        "<html><body><div><p>one two three four five six seven eight nine ten "
        "<span hidden>,,,,,,,,</span></p></div></body></html>"
    )
    without = lxml.html.document_fromstring(
        "<html><body><div><p>one two three four five six seven eight nine ten "
        "<span hidden></span></p></div></body></html>"
    )
    scores = [list(region._measure(root).scores.values()) for root in (with_hidden, without)]
    assert scores[0] == list(region._measure_in_python(with_hidden).scores.values())
    assert scores[0][0] - scores[1][0] == pytest.approx(8.0)


@needs_compiled
def test_gold_pages_extract_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = load_gold()
    compiled = [extract_article(page.html, page.gold["url"]) for page in pages]
    python_walks(monkeypatch)
    python = [extract_article(page.html, page.gold["url"]) for page in pages]
    assert [asdict(article) for article in compiled] == [asdict(article) for article in python]


def test_a_build_for_another_lxml_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # The module reads lxml's structs as the lxml it was compiled against laid them out.
    monkeypatch.setattr(lxml, "__version__", "0.0.0")
    assert compiled_walks._load() in {(None, "built for another lxml"), (None, "not built")}
    if compiled_walks.module is not None:
        monkeypatch.setattr(lxml, "__version__", compiled_walks.module.LXML_VERSION)
        assert compiled_walks._load() == (compiled_walks.module, "compiled")


def test_the_pure_python_switch_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVCRAWL_PURE_PYTHON", "1")
    assert compiled_walks._load() == (None, "DVCRAWL_PURE_PYTHON is set")


def test_the_version_line_names_the_walks_in_use(dvcrawl: Runner) -> None:
    # The install builds the walks for the lxml of that day: after an upgrade of lxml the
    # Python walks run, slower, and `dvcrawl --version` is where a user sees it and why.
    result = dvcrawl("--version")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    walks = (
        "compiled"
        if compiled_walks.module is not None
        else f"Python ({compiled_walks.IMPLEMENTATION})"
    )
    line = result.stdout.strip()
    assert line.startswith("dvcrawl ") and f"lxml {lxml.__version__}," in line, line
    assert line.endswith(f"; tree walks: {walks}"), line
    off = dvcrawl("--version", env={"DVCRAWL_PURE_PYTHON": "1"})
    assert off.stdout.strip().endswith("; tree walks: Python (DVCRAWL_PURE_PYTHON is set)")
