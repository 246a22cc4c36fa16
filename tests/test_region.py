"""The content region's measures, sibling kinds and widening, each worked out by hand.

`dvcrawl.extract.region` is reached by every generic extraction (tests/test_generic.py reads
whole pages through it); these tests pin its rules one by one on pages small enough that the
expected measures and the expected region are computed from the rule, not from the code. They
were written for the mutation check (docs/testing.md): each case is one a changed threshold,
operator or name in the module would answer differently.
"""

from __future__ import annotations

import pytest

from dvcrawl.extract import region
from dvcrawl.extract.page import Page
from dvcrawl.extract.region import content_region, measure, widen

URL = "https://news.example.com/2024/03/12/story"


@pytest.fixture(autouse=True, params=["compiled", "python"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every case runs against both measuring passes (tests/test_compiled.py)."""
    if request.param == "python":
        monkeypatch.setattr(region, "compiled", None)
    elif region.compiled is None:
        pytest.skip("the compiled measuring pass is not built (no C compiler)")
    return request.param


def filler(size: int, commas: int = 0) -> str:
    """Exactly `size` characters of one word, `commas` of them commas: lengths are exact."""
    return "," * commas + "x" * (size - commas)


def words(size: int) -> str:
    """About `size` characters of prose, exactly `size` long, no commas, single spaces."""
    text = ("the council approved the budget for schools and roads " * (size // 20 + 2))[:size]
    return text[:-1] + "s" if text.endswith(" ") else text


def parse(body: str) -> Page:
    return Page(f"<html><head><title>T</title></head><body>{body}</body></html>", URL)


def test_measures_and_scores_of_a_small_page_worked_out_by_hand() -> None:
    # Every measure below is counted by hand from the markup: text lengths with whitespace
    # collapsed (the newlines between blocks count for nothing), link text, prose paragraphs
    # outside chrome, and the score: 1 + commas + min(length / 100, 3) per paragraph, to its
    # parent, half to its grandparent, times (1 - link density), times the class weight (1.6
    # for a content name such as "main"), times 0.1 inside chrome.
    html = (
        '<div id="main">\n'
        f'<p>{filler(340, commas=2)}<a href="/l">{filler(10)}</a>{filler(5)}</p>\n'
        f'<div class="lead">{filler(30, commas=1)}<b>{filler(10)}</b>{filler(5)}'
        f"<div>{filler(25, commas=2)}</div>{filler(5)}</div>\n"
        f"<!-- a note -->{filler(20)}"
        f"<div hidden>{filler(40)}</div>{filler(4)}"
        f"<nav><p>{filler(30)}</p></nav>\n"
        "</div>"
    )
    page = parse(html)
    text_map = measure(page.root)
    main = page.root.find(".//div[@id='main']")
    paragraph, lead, nav = main[0], main[1], main.find("nav")
    link, bold, inner, hidden = paragraph[0], lead[0], lead[1], main.find("div[@hidden]")
    body = page.root.find("body")

    # chars: the paragraph 340 + 10 + 5; the lead 30 + 10 + 5 + 25 + 5; the main column adds
    # the comment's tail (20), the hidden block's tail (4) and the menu (30), not the hidden
    # block's 40.
    expected_chars = {
        paragraph: 355, link: 10, lead: 75, bold: 10, inner: 25, hidden: 0, nav: 30,
        main: 484, body: 484, page.root: 484,
    }  # fmt: skip
    assert {e: text_map.chars.get(e) for e in expected_chars} == expected_chars
    assert {e: text_map.linked.get(e) for e in (paragraph, link, lead, main, page.root)} == {
        paragraph: 10, link: 10, lead: 0, main: 10, page.root: 10
    }  # fmt: skip
    # prose: the paragraph (10 of 355 in links), the lead's own text and inline children
    # (30 + 10 + 5 + 5) and its inner block (exactly 25, the least a paragraph needs); the
    # menu's paragraph is chrome, the main column's own text (20 + 4) is too short.
    expected_prose = {paragraph: 355, lead: 75, inner: 25, nav: 0, main: 430, page.root: 430}
    assert {e: text_map.prose.get(e) for e in expected_prose} == expected_prose
    assert text_map.chrome == {nav}
    assert text_map.link_density(main) == pytest.approx(10 / 484)
    assert text_map.link_density(hidden) == 0.0

    # Paragraph points: the paragraph 1 + 2 + 3 (capped); the lead 1 + 1 + 0.5 (its own text:
    # the inner block's commas are the inner block's); the inner block 1 + 2 + 0.25; the
    # menu's paragraph 1 + 0 + 0.3.
    main_points = 6 + 2.5 + 3.25 / 2 + 1.3 / 2
    body_points = 6 / 2 + 2.5 / 2
    assert text_map.scores == pytest.approx(
        {
            main: main_points * (1 - 10 / 484) * 1.6,
            body: body_points * (1 - 10 / 484),
            lead: 3.25,
            nav: 1.3 * 0.1,
        }
    )


def test_a_paragraph_with_a_third_of_links_and_more_is_not_prose() -> None:
    # 14 of 40 characters in links is the limit (0.35): such a paragraph is a link line.
    page = parse(
        f"<div><p>{filler(26)}<a href='/a'>{filler(14)}</a></p>"
        f"<p>{filler(27)}<a href='/b'>{filler(13)}</a></p></div>"
    )
    first, second = page.root.find(".//div")
    text_map = measure(page.root)
    assert (text_map.prose.get(first), text_map.prose.get(second)) == (0, 40)
    # The same for a block's own text and inline children, links added up over all of them.
    page = parse(
        f"<div class='a'>{filler(26)}<a href='/a'>{filler(7)}</a><a href='/b'>{filler(7)}</a></div>"
        f"<div class='b'>{filler(27)}<a href='/c'>{filler(13)}</a><div>{filler(60)}</div></div>"
        f"<div class='c'>{filler(30)}<div><a href='/d'>{filler(60)}</a></div></div>"
    )
    first, second, third = page.root.find("body")
    text_map = measure(page.root)
    # The third block's own 30 characters are prose: the link is in a block of its own.
    assert [text_map.prose.get(e) for e in (first, second, third)] == [0, 100, 30]


def test_text_after_the_body_and_a_page_without_head() -> None:
    # lxml puts text after </body> in the body's tail: it is the page's text all the same.
    page = Page(f"<html><body><p>{filler(30)}</p></body>{filler(12)}</html>", URL)
    text_map = measure(page.root)
    assert (text_map.chars.get(page.root), text_map.chars.get(page.root.find("body"))) == (42, 30)


def test_the_page_root_is_never_chrome_and_chrome_areas_are_the_outermost() -> None:
    # A class on <html> ("cookie-consent": a consent script's flag) names the whole page; a
    # menu inside a sidebar is part of the sidebar; a hidden comments block is not measured.
    page = Page(
        "<html class='cookie-consent'><body>"
        "<div class='comments' style='display:none'><p>Hidden comment thread</p></div>"
        f"<div class='sidebar'><div class='menu'><a href='/a'>{filler(30)}</a></div></div>"
        f"<div id='comments'><p>{words(100)}</p></div>"
        f"<div class='story'><p>{words(400)}</p><p>{words(400)}</p></div></body></html>",
        URL,
    )
    body = page.root.find("body")
    assert measure(page.root).chrome == {body[1], body[2]}
    found = content_region(page.root)
    assert found is not None and found.root is body[3]


@pytest.mark.parametrize(
    ("area", "article", "chrome"),
    [
        # A menu of short lines holds no paragraph text, beside however short an article.
        ("<div class='menu'>" + f"<div>{filler(20)}</div>" * 10 + "</div>", f"<p>{words(150)}</p>", True),  # noqa: E501
        # Headings are not paragraphs.
        ("<div class='sidebar'>" + f"<h3>{words(30)}</h3>" * 5 + "</div>", f"<p>{words(100)}</p>", True),  # noqa: E501
        # A block with exactly 25 characters of its own is a paragraph: here, most of the page.
        (f"<div class='sidebar'><div>{filler(25)}</div></div>", f"<p>{filler(24)}</p>", False),
    ],
)  # fmt: skip
def test_what_counts_as_paragraph_text_for_a_chrome_area(
    area: str, article: str, chrome: bool
) -> None:
    page = Page(f"<html><body>{area}{article}</body></html>", URL)
    assert (page.root.find("body")[0] in measure(page.root).chrome) is chrome


def test_a_quotation_is_one_paragraph_with_all_its_text() -> None:
    # A blockquote owns the paragraphs inside it: its score counts their length and commas,
    # and its prose is theirs, once; a quoted paragraph that is one link is no prose.
    page = parse(
        f"<div class='quote-box'><blockquote><p>{filler(100, commas=1)}</p></blockquote></div>"
        f"<div class='cite'><blockquote><p><a href='/q'>{filler(40)}</a></p></blockquote></div>"
    )
    box, cite = page.root.find("body")
    quote = box[0]
    text_map = measure(page.root)
    assert (text_map.prose.get(quote), text_map.prose.get(box), text_map.prose.get(cite)) == (
        100, 100, 0
    )  # fmt: skip
    # The paragraph: 1 + 1 + 1 to the blockquote, half to the box; the blockquote the same
    # to the box, half to the body. The linked quotation scores (1 + 0 + 0.4) but is all link.
    assert text_map.scores[quote] == pytest.approx(3)
    assert text_map.scores[box] == pytest.approx(4.5)


def test_a_chrome_name_holding_half_the_page_is_still_chrome() -> None:
    # Only an area holding *more* than half of the page's paragraph text is the page's column.
    # The sidebar's paragraph sits three blocks deep, the article's directly in the body.
    page = parse(
        f"<div class='sidebar'><div><div><p>{words(200)}</p></div></div></div><p>{words(200)}</p>"
    )
    sidebar = page.root.find(".//div[@class='sidebar']")
    assert measure(page.root).chrome == {sidebar}


# Widening: the body is two or three blocks of one shape ("part") inside a wrapper; the tests
# call `widen` from the first part and read which level it chose and what it left out.
PART = "<div class='part'><p>{}</p><p>{}</p></div>"


def part(size: int = 300) -> str:
    return PART.format(words(size), words(size))


def widened(*siblings: str) -> tuple[Page, region.Region, list]:
    page = parse(f"<main><div class='wrap'>{''.join(siblings)}</div></main>")
    children = list(page.root.find(".//div[@class='wrap']"))
    return page, widen(measure(page.root), children[0]), children


def test_a_large_block_of_another_shape_ends_the_body() -> None:
    # 500 characters of prose in another shape is no longer a small block passed over: the
    # part after it is not the body's.
    _, found, children = widened(part(), f"<div class='note'><p>{words(500)}</p></div>", part())
    assert found.root is children[0]


def test_a_small_block_of_another_shape_is_passed_over() -> None:
    # 499 characters: passed over and left out, and the body continues after it.
    _, found, children = widened(part(), f"<div class='note'><p>{words(499)}</p></div>", part())
    assert found.root.get("class") == "wrap"
    assert found.skip == {children[1]}


@pytest.mark.parametrize(
    ("block", "ends"),
    [
        # 120 characters of links end the body; 119 do not (an advert label, a share bar).
        ("<div class='links'>" + "".join(f"<a href='/t{n}'>{filler(20)}</a>" for n in range(6)) + "</div>", True),  # noqa: E501
        ("<div class='links'>" + "".join(f"<a href='/t{n}'>{filler(20)}</a>" for n in range(5)) + f"<a href='/t'>{filler(19)}</a></div>", False),  # noqa: E501
        # Under 500 characters, half of them links: a link list, the body ends; just under
        # half: passed over.
        (f"<div class='box'><p>{words(100)}</p>" + "".join(f"<a href='/r{n}'>{filler(20)}</a>" for n in range(5)) + "</div>", True),  # noqa: E501
        (f"<div class='box'><p>{words(101)}</p>" + "".join(f"<a href='/r{n}'>{filler(20)}</a>" for n in range(5)) + "</div>", False),  # noqa: E501
    ],
)  # fmt: skip
def test_small_blocks_and_link_lists_between_parts(block: str, ends: bool) -> None:
    _, found, children = widened(part(), block, part())
    if ends:
        assert found.root is children[0]
    else:
        assert found.root.get("class") == "wrap" and found.skip == {children[1]}


def test_a_large_chrome_area_ends_the_body_and_a_small_one_is_passed_over() -> None:
    # (The last part is large enough that the wider level would be worth more.)
    aside = f"<aside><p>{words(300)}</p><p>{words(300)}</p></aside>"
    _, found, children = widened(part(), aside, part(400))
    assert found.root is children[0]
    share = "<div class='share-tools'>Share this story</div>"
    _, found, children = widened(part(), share, part())
    assert found.root.get("class") == "wrap" and found.skip == {children[1]}


@pytest.mark.parametrize(
    "block",
    [
        "<h2>How the council voted on the budget</h2>",
        "<div class='slot'></div>",  # an empty media slot (an advert not loaded, a widget)
        f"<div class='photo'><img src='/a.jpg'><p>{words(60)}</p></div>",
        f"<div class='photo'><picture><source srcset='/a.webp'></picture><p>{words(60)}</p></div>",
        f"<div class='clip'><video src='/a.mp4'></video><p>{words(60)}</p></div>",
        f"<figure><canvas></canvas><figcaption>{words(60)}</figcaption></figure>",
        # A caption of 700 characters is still a figure's.
        f"<div class='photo'><img src='/a.jpg'><p>{words(700)}</p></div>",
        # A block that is four fifths heading is a subheading with a label.
        f"<div class='sub'><h3>{words(40)}</h3><span>{filler(10)}</span></div>",
    ],
)
def test_subheadings_figures_and_empty_slots_between_parts_are_kept(block: str) -> None:
    _, found, children = widened(part(), block, part())
    assert found.root.get("class") == "wrap"
    assert found.skip == frozenset()


@pytest.mark.parametrize(
    "block",
    [
        # Under four fifths heading: a block with a title, not a subheading; small, passed
        # over and left out.
        f"<div class='sub'><h3>{words(40)}</h3><span>{filler(11)}</span></div>",
    ],
)
def test_blocks_that_are_neither_heading_nor_figure_are_left_out(block: str) -> None:
    _, found, children = widened(part(), block, part())
    assert found.root.get("class") == "wrap"
    assert found.skip == {children[1]}


def test_a_figure_with_a_caption_over_700_characters_ends_the_body() -> None:
    block = f"<div class='photo'><img src='/a.jpg'><p>{words(701)}</p></div>"
    _, found, children = widened(part(), block, part())
    assert found.root is children[0]


def test_a_level_that_adds_more_other_text_than_prose_is_not_taken() -> None:
    # The second part holds 100 characters of prose; the figure before it 400 of caption
    # (a caption is not a paragraph): the wider level is worth 100 - 400 less than the first
    # part alone.
    block = f"<figure><img src='/a.jpg'><figcaption>{words(400)}</figcaption></figure>"
    _, found, children = widened(part(), block, f"<div class='part'><p>{words(100)}</p></div>")
    assert found.root is children[0]


def test_a_sibling_of_the_same_shape_continues_the_body_at_half_prose() -> None:
    # A part whose prose is exactly half its text (the rest: short lines, no paragraphs)
    # continues the body; one with 30% of its text in links does not (left out, passed over).
    half = "<div class='part'><p>{}</p>{}</div>".format(
        words(100), "".join(f"<div>{filler(20)}</div>" for _ in range(5))
    )
    _, found, children = widened(part(), half, part())
    assert found.root.get("class") == "wrap" and found.skip == frozenset()
    linked = "<div class='part'><p>{}{}</p></div>".format(
        words(140), "".join(f"<a href='/l{n}'>{filler(20)}</a>" for n in range(3))
    )
    _, found, children = widened(part(), linked, part())
    assert found.root.get("class") == "wrap" and found.skip == {children[1]}


def test_the_region_never_widens_to_the_page_body() -> None:
    page = parse(part() + part())
    first = page.root.find("body")[0]
    assert widen(measure(page.root), first).root is first


@pytest.mark.parametrize(
    ("markup", "teaser"),
    [
        # One headline (a line that is one link of 25 characters or more) over a short
        # summary: a teaser.
        (f"<div><h3><a href='/o'>{words(25)}</a></h3><p>{words(100)}</p></div>", True),
        (f"<div><h3><a href='/o'>{words(24)}</a></h3><p>{words(100)}</p></div>", False),
        # The line may hold a quarter more than its link (a date, an icon label).
        (f"<div><h3><a href='/o'>{words(40)}</a> {filler(10)}</h3><p>{words(100)}</p></div>", True),  # noqa: E501
        (f"<div><h3><a href='/o'>{words(40)}</a> {filler(11)}</h3><p>{words(100)}</p></div>", False),  # noqa: E501
        # A link inside inline markup is measured against its whole line.
        (f"<div><p><b><a href='/o'>{words(30)}</a></b> {words(200)}</p></div>", False),
        (f"<div><ul><li><span><a href='/o'>{words(30)}</a></span></li><li><span><a href='/p'>{words(30)}</a></span></li></ul></div>", True),  # noqa: E501
        # One headline in a long block (500 characters of prose) is an author box or a
        # "read also" line; two are teasers whatever the block holds.
        (f"<div><h3><a href='/o'>{words(30)}</a></h3><p>{words(500)}</p></div>", False),
        (f"<div><h3><a href='/o'>{words(30)}</a></h3><p>{words(499)}</p></div>", True),
        (f"<div><h3><a href='/o'>{words(30)}</a></h3><h3><a href='/p'>{words(30)}</a></h3><p>{words(600)}</p></div>", True),  # noqa: E501
        # A short link before the headlines does not stop the search.
        (f"<div><a href='/s'>{filler(5)}</a><h3><a href='/o'>{words(30)}</a></h3><h3><a href='/p'>{words(30)}</a></h3><p>{words(600)}</p></div>", True),  # noqa: E501
    ],
)  # fmt: skip
def test_teaser_headlines(markup: str, teaser: bool) -> None:
    page = parse(markup)
    element = page.root.find("body")[0]
    assert region._is_teaser(measure(page.root), element) is teaser


def test_a_teaser_between_parts_ends_the_body() -> None:
    teaser = f"<div class='more'><h3><a href='/o'>{words(40)}</a></h3><p>{words(100)}</p></div>"
    _, found, children = widened(part(), teaser, part())
    assert found.root is children[0]


def test_the_tightest_named_container_that_holds_the_body_is_taken() -> None:
    # SharePoint: an outer rich-text web part around a lead line, the rich-text field with
    # the body and a small rich-text caption field; the outer part is named first.
    def zone(caption: str) -> tuple[Page, list]:
        page = parse(
            "<div class='zone'><div class='rte outer'>"
            f"<p>{words(50)}</p>"
            f"<div class='rte field'><p>{words(225)}</p><p>{words(225)}</p></div>"
            f"{caption}</div></div>"
        )
        return page, page.root.find(".//div[@class='zone']").findall(".//div")

    page, (outer, field, caption) = zone(f"<div class='rte caption'><p>{words(40)}</p></div>")
    assert [measure(page.root).prose.get(e) for e in (outer, field, caption)] == [540, 450, 40]
    # The field holds 450 of the outer part's 540, under 90%: the outer part is taken, whole
    # (its lead line too), though it is not the first named.
    found = content_region(page.root, candidates=[[caption, outer, field]])
    assert found is not None and found.root is outer and found.skip == frozenset()
    # Without the caption field the field holds exactly 90% of the outer part's 500.
    page, (outer, field) = zone("")
    found = content_region(page.root, candidates=[[outer, field]])
    assert found is not None and found.root is field
    # A field elsewhere on the page is no tighter match, however much it holds.
    page = parse(
        "<div class='zone'><div class='rte outer'>"
        f"<p>{words(50)}</p>"
        f"<div class='rte field'><p>{words(225)}</p><p>{words(225)}</p></div></div></div>"
        f"<div class='rte about'><p>{words(230)}</p><p>{words(230)}</p></div>"
    )
    outer, field = page.root.find(".//div[@class='zone']").findall(".//div")
    about = page.root.find(".//div[@class='rte about']")
    found = content_region(page.root, candidates=[[outer, field, about]])
    assert found is not None and found.root is field


def test_chrome_tags_inside_the_body_container_are_left_out_and_chrome_outside_is_not_listed() -> (
    None
):
    # An <aside> with no name inside the body: chrome by its tag (trafilatura's names do not
    # mark it); the menu outside the container is not part of the region's report.
    page = parse(
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<div class='body'><p>{words(300)}</p><aside><p>{words(80)}</p></aside>"
        f"<p>{words(300)}</p><div class='x'><div><aside>{filler(20)}</aside></div></div></div>"
    )
    found = content_region(page.root)
    assert found is not None and found.root.get("class") == "body"
    assert found.skip == set(found.root.iter("aside"))


def test_a_named_container_needs_half_the_prose_the_region_keeps() -> None:
    # The structural region is the wrapper with the 499-character note passed over: it keeps
    # 600 + 600 characters of prose. The first part, named by the CMS, holds 600: exactly
    # half, enough. (The parts' content class makes each outscore the wrapper.)
    page = parse(
        "<main><div class='wrap'><div class='part content'>"
        f"<p>{words(300)}</p><p>{words(300)}</p></div><div class='note'><p>{words(499)}</p></div>"
        f"<div class='part content'><p>{words(300)}</p><p>{words(300)}</p></div></div></main>"
    )
    first, note, _ = page.root.find(".//div[@class='wrap']")
    structural = content_region(page.root)
    assert structural is not None
    assert structural.root.get("class") == "wrap" and structural.skip == {note}
    found = content_region(page.root, candidates=[[first]])
    assert found is not None and found.root is first
    # The note holds 499, under half: the named group is not taken.
    found = content_region(page.root, candidates=[[note]])
    assert found is not None and found.root is structural.root


@pytest.mark.parametrize(("size", "discarded"), [(99, True), (100, False)])
def test_boilerplate_names_inside_the_body_under_a_quarter_of_its_prose(
    size: int, discarded: bool
) -> None:
    # A "meta" block holding under a quarter of the container's prose is a meta line; a
    # quarter or more, and it is a wrapper that happens to carry the name (99 of 399 is under
    # a quarter, 100 of 400 is one).
    page = parse(
        f"<div class='body'><p>{words(300)}</p><div class='meta'><p>{words(size)}</p></div></div>"
    )
    found = content_region(page.root)
    assert found is not None and found.root.get("class") == "body"
    assert (found.root.find("div[@class='meta']") in found.skip) is discarded


def test_a_named_block_without_prose_is_discarded_from_a_body_without_prose() -> None:
    # A body whose text is all in linked lines has no prose; its "share" block holds none
    # either, which is no quarter of anything: it is still discarded.
    body = "".join(f"<p><a href='/{n}'>{words(60)}</a></p>" for n in range(5))
    page = parse(f"<div class='body'>{body}<div class='share'>Share this story</div></div>")
    container = page.root.find(".//div[@class='body']")
    text_map = measure(page.root)
    assert text_map.prose.get(container, 0) == 0
    assert region._discarded(text_map, container) == {container.find("div[@class='share']")}


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("<div>", "<div>", True),  # blocks without a class are of one shape
        ("<div class='part first'>", "<div class='part'>", True),  # one class in common
        ("<div class='part'>", "<section class='part'>", False),  # another tag
        ("<div class='part'>", "<div class='note'>", False),
    ],
)
def test_the_shape_of_a_body_part(first: str, second: str, same: bool) -> None:
    # Three blocks of 600 characters of prose: the middle one continues the body when it has
    # the first one's shape, and is a large block of another shape (the end) when not.
    def block(opening: str) -> str:
        return f"{opening}<p>{words(300)}</p><p>{words(300)}</p></{opening[1:].split()[0].rstrip('>')}>"

    _, found, children = widened(block(first), block(second), block(first))
    assert (found.root.get("class") == "wrap") is same


@pytest.mark.parametrize(("size", "discarded"), [(99, True), (100, False)])
def test_the_quarter_rule_when_the_body_element_is_the_container(
    size: int, discarded: bool
) -> None:
    # A page without <head> whose paragraphs sit in <body> itself: <body> is the container,
    # the first element after the root, and its prose is its own (400 or 399 characters).
    page = Page(
        f"<html><body><p>{words(300)}</p><div class='meta'><p>{words(size)}</p></div></body></html>",
        URL,
    )
    found = content_region(page.root)
    assert found is not None and found.root.tag == "body"
    assert (found.root.find("div[@class='meta']") in found.skip) is discarded


def test_an_image_in_an_empty_part_after_the_last_one_is_the_articles() -> None:
    # Decided (it was open): a sibling of the body's own shape that holds only a picture
    # continues the body, also after its last part: portals that split a body into parts put
    # its photos in parts too, and an advert slot has an advert's name (chrome) or another
    # shape. A picture in a block of another shape after the last part is left out: nothing
    # of the body follows it.
    photo = "<div class='part'><img src='/closing.jpg'></div>"
    _, found, children = widened(part(), part(), photo)
    assert found.root.get("class") == "wrap" and found.skip == frozenset()
    other = "<div class='photo'><img src='/closing.jpg'></div>"
    _, found, children = widened(part(), part(), other)
    assert found.root.get("class") == "wrap" and found.skip == {children[2]}
