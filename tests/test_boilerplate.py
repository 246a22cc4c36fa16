"""The generic stripper's patterns, each pinned by a line or class name that needs it.

The patterns of dvcrawl/extract/boilerplate.py are data: a list of alternatives per kind of
chrome. For every alternative there is a case below that is chrome *only because of it*; the
ablation tests remove each alternative in turn and check that its case is no longer
recognized. An alternative no case needs is either redundant (another one already covers it)
or untested, and fails the test either way. Thresholds inside the functions are pinned by the
mutation check (docs/testing.md) and the cases at the end.
"""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from dvcrawl.extract import boilerplate, region
from dvcrawl.extract.boilerplate import (
    in_chrome,
    is_boilerplate_line,
    is_date_line,
    is_stop_anchor,
)


def top_level_alternatives(pattern: str) -> list[str]:
    """Split a regex at the "|" that are outside groups and character classes."""
    parts, depth, in_class, escaped, start = [], 0, False, False, 0
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
    parts.append(pattern[start:])
    return parts


# --- whole lines of chrome (_LINE_PATTERNS) --------------------------------------------------

#: One line per alternative of `_LINE_PATTERNS`, as portals print it.
LINE_CASES = {
    r"(?:số )?lượt (?:xem|đọc|truy cập|bình luận)\s*:?\s*[\d.,]*": "Lượt xem: 649",
    r"[\d.,]+\s*lượt (?:xem|đọc|truy cập|thích|chia sẻ)": "1.027 lượt xem",
    r"(?:đang )?(?:online|trực tuyến|truy cập)\s*:?\s*[\d.,]*": "Đang online: 657",
    r"(?:số )?(?:người|khách) (?:đang )?(?:online|truy cập|trực tuyến)\s*:?\s*[\d.,]*": "Khách đang online: 12",
    r"(?:tổng )?(?:số )?lượt truy cập(?: trong (?:ngày|tuần|tháng|năm))?\s*:?\s*[\d.,]*": "Lượt truy cập trong tháng: 10.482",
    r"tổng (?:số )?(?:lượt )?truy cập\s*:?\s*[\d.,]*": "Tổng số truy cập: 3.204.517",
    r"thống kê truy cập(?: thống kê truy cập)?": "Thống kê truy cập",
    r"(?:hôm nay|hôm qua|trong tuần|tuần này|tháng này|trong tháng|trong năm|tất cả|tổng cộng)\s*:\s*[\d.,]+": "Hôm nay: 1.204",
    r"in (?:trang|bài(?: viết)?|bài này|tin)": "In trang",
    r"bản in": "Bản in",
    r"print": "Print",
    r"gửi (?:e-?mail|mail|bài(?: viết)?(?: qua email)?|cho bạn bè|tin)": "Gửi cho bạn bè",
    r"chia sẻ(?: bài viết| qua| lên)?(?:\s*:)?(?: facebook| zalo| twitter)*": "Chia sẻ bài viết: Facebook Zalo",
    "share": "Share",
    "tweet": "Tweet",
    "like": "Like",
    "facebook": "Facebook",
    "zalo": "Zalo",
    "twitter": "Twitter",
    "email": "Email",
    "e-mail": "E-mail",
    "copy link": "Copy link",
    "sao chép liên kết": "Sao chép liên kết",
    r"<*\s*(?:trở về|quay lại|quay về)(?: trang trước| đầu trang)?\s*>*": "< Trở về trang trước",
    r"(?:lên|về) đầu trang": "Về đầu trang",
    r"đầu trang": "Đầu trang",
    r"trang trước": "Trang trước",
    r"trở lại": "Trở lại",
    r"cỡ chữ.*": "Cỡ chữ: Nhỏ Vừa Lớn",
    r"font ?size.*": "Font size: 14",
    r"a-?\s*a\s*a\+?": "A- A A+",
    r"[-+]?a[-+]?": "A+",
    r"lưu bài(?: viết)?": "Lưu bài viết",
    r"theo dõi(?: trên)? google news": "Theo dõi trên Google News",
    r"nghe (?:đọc )?bài(?: viết)?": "Nghe đọc bài viết",
    r"quảng cáo": "QUẢNG CÁO",
    r"advertisement": "Advertisement",
    r"bình chọn": "Bình chọn",
    r"biểu quyết": "Biểu quyết",
    r"xem kết quả": "Xem kết quả",
    r"refresh": "Refresh",
    r"gửi": "Gửi",
    "hủy": "Hủy",
    "huỷ": "Huỷ",
    r"mã xác nhận\s*:?": "Mã xác nhận:",
    r"họ (?:và )?tên\s*:?\s*\*?": "Họ và tên: *",
    r"nội dung\s*:?\s*\*?": "Nội dung *",
    r"điện thoại\s*:?\s*\*?": "Điện thoại:",
    r"(?:tags?|từ khóa|từ khoá|chủ đề)\s*:.*": "Từ khóa: dân vận khéo, tổ dân vận",
    r"đánh giá bài viết.*": "Đánh giá bài viết (0 đánh giá)",
    r"bài viết hay\??": "Bài viết hay?",
}

LINE_ALTERNATIVES = [
    alternative
    for pattern in boilerplate._LINE_PATTERNS
    for alternative in top_level_alternatives(pattern)
]


def test_every_line_alternative_has_a_case() -> None:
    assert sorted(LINE_ALTERNATIVES) == sorted(LINE_CASES)


@pytest.mark.parametrize("line", LINE_CASES.values())
def test_each_case_is_chrome(line: str) -> None:
    assert is_boilerplate_line(line)


@pytest.mark.parametrize("alternative", LINE_ALTERNATIVES)
def test_each_line_alternative_is_needed(alternative: str, monkeypatch) -> None:
    rest = [a for a in LINE_ALTERNATIVES if a != alternative]
    monkeypatch.setattr(
        boilerplate, "_LINE", re.compile(r"^(?:" + "|".join(rest) + r")$", re.IGNORECASE)
    )
    assert not is_boilerplate_line(LINE_CASES[alternative]), (
        f"{alternative!r} is covered by another pattern: remove it, or give it its own case"
    )


@pytest.mark.parametrize(
    "line",
    [
        # article sentences that hold the same words
        "Chiều 28/02/2024, Quận ủy Thanh Xuân tổ chức Hội nghị.",
        "Bà con trong khu phố đang online để đăng ký tham gia hiến đất mở đường.",
        "Ban Dân vận in trang tài liệu tuyên truyền phát cho từng hộ dân.",
        "Lượt xem các video tuyên truyền trên trang của phường tăng mạnh trong năm 2024.",
        "Gửi thư khen các tập thể, cá nhân có thành tích xuất sắc.",
        # a long line is never chrome, whatever it holds
        "Lượt xem: 649 | " + " | ".join(["In trang"] * 20),
    ],
)
def test_article_lines_are_not_chrome(line: str) -> None:
    assert not is_boilerplate_line(line)


def test_a_line_is_chrome_when_every_part_is() -> None:
    assert is_boilerplate_line("Ngày đăng 28/02/2024 | 16:38 | Lượt xem: 649")
    assert is_boilerplate_line("In trang · Gửi email • Chia sẻ Facebook – Zalo — Twitter")
    assert not is_boilerplate_line("In trang | Hội nghị tổng kết công tác dân vận")
    assert not is_boilerplate_line("")
    assert not is_boilerplate_line(" | : | ")
    longest = "In trang | " * 13 + "Chia sẻ: Facebook"
    assert len(longest) == 160 and is_boilerplate_line(longest)
    assert not is_boilerplate_line(longest + "x")


# --- date and meta lines ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "05/03/2023 10:15 Lượt xem: 1.027",
        "Ngày đăng: 28/02/2024",
        "Đăng ngày 28/02/2024",
        "Cập nhật lúc 09:05 28/02/2024",
        "Ngày cập nhật: 28/02/2024",
        "Xuất bản: 28/02/2024",
        "Ngày xuất bản 28/02/2024",
        "Thời gian: 28/02/2024",
        "Đăng lúc 28/02/2024",
        "Posted 28/02/2024",
        "Updated: 28/02/2024",
        "28/02/2024 1.204 lượt đọc",
        "28/02/2024 (Views: 12)",
        "28/02/2024 In trang",
        "28/02/2024 Thời gian đăng:",
    ],
)
def test_date_lines(line: str) -> None:
    assert is_date_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Ngày 28/02/2024, Ban Dân vận tổ chức hội nghị.",
        "Sáng 28/02/2024",  # four characters of text beside the date: a sentence begins
        "Lượt xem: 649",  # no date
        "28/02/2024 " + "x" * 110,  # longer than a stamp
    ],
)
def test_not_date_lines(line: str) -> None:
    assert not is_date_line(line)


def test_three_characters_beside_a_date_are_still_a_stamp() -> None:
    assert is_date_line("28/02/2024 abc")
    assert not is_date_line("28/02/2024 abcd")


# --- stop anchors -----------------------------------------------------------------------------


@pytest.mark.parametrize("anchor", sorted(boilerplate._STOP_ANCHORS))
def test_each_stop_anchor_in_any_spelling(anchor: str) -> None:
    assert is_stop_anchor(anchor.upper() + " >>")
    assert is_stop_anchor(f"  {anchor.title()}:  ")
    assert not is_stop_anchor(f"{anchor} về công tác dân vận trong tình hình mới")


def test_stop_anchors_are_short() -> None:
    assert is_stop_anchor("Tin khác" + " " * 52 + ">")  # cleaned to "Tin khác >"
    long = "Tin khác " + "»" * 52
    assert len(long) == 61 and not is_stop_anchor(long)
    assert is_stop_anchor("Tin khác " + "»" * 51)


# --- class names ----------------------------------------------------------------------------

#: One class name per alternative of CHROME_CLASS, as the portals' markup spells them.
CHROME_CASES = {
    "comment": "box-comment",
    "binh-?luan": "binhluan-list",
    "y-?kien": "y-kien-ban-doc",
    "sidebar": "sidebar",
    "side-bar": "side-bar",
    "widget": "widget",
    "footer": "site-footer",
    "header": "page-header",
    "menu": "menu-top",
    "nav": "topnav",
    "breadcrumb": "breadcrumb",
    "related": "related",
    "lien-?quan": "tin-lien-quan",
    "tin-?khac": "tinkhac",
    "other": "other-items",
    "more-news": "more-news",
    "quang-?cao": "quangcao",
    "advert": "advertisement",
    "banner": "banner",
    "share": "share-bar",
    "social": "social",
    "toolbar": "toolbar",
    "tools": "tools",
    "print": "print",
    "rating": "rating",
    "poll": "poll",
    "binh-?chon": "binh-chon",
    "vote": "vote",
    "counter": "counter",
    "thong-?ke": "thongke",
    "statistic": "statistic",
    r"tags?\b": "tags",
    "keyword": "keywords",
    "marquee": "marquee",
    "popup": "popup",
    "modal": "modal",
    "login": "login",
    "search": "search-box",
    "col-?right": "col-right",
    "right-?col": "rightcol",
    "col-?left": "colleft",
    "hotnews": "hotnews",
    "most-?view": "mostview",
    "xem-?nhieu": "xem-nhieu",
    "doc-?nhieu": "docnhieu",
    "tin-?moi": "tin-moi",
    "newest": "newest",
    "paging": "paging",
    "pagination": "pagination",
    "top-?bar": "topbar",
    "hotline": "hotline",
    "cookie": "cookie",
    "consent": "consent",
    "gdpr": "gdpr",
    "newsletter": "newsletter-signup",
    "subscribe": "subscribe",
    "promo": "promo",
    "recommend": "recommended",
    "trending": "trending",
    "popular": "popular",
    "outbrain": "outbrain",
    "taboola": "taboola",
}

POSITIVE_CASES = {
    "article": "article",
    "content": "journal-content",
    "detail": "news-detail",
    "chi-?tiet": "chi-tiet",
    "body": "body",
    "post": "post",
    "entry": "entry",
    "noi-?dung": "noidung",
    "main": "main",
    "story": "story",
    "text": "fulltext",
}

ALWAYS_CASES = {
    "comment": "comments",
    "binh-?luan": "binhluan",
    "cookie": "cookie",
    "consent": "consent",
    "gdpr": "gdpr",
    "newsletter": "newsletter-signup",
    "outbrain": "outbrain",
    "taboola": "taboola",
}

ANCESTOR_CASES = {
    "footer": "footer",
    "sidebar": "sidebar",
    "side-bar": "side-bar",
    "widget": "widget",
    "comment": "comments",
    "binh-?luan": "binh-luan",
    "menu": "menu",
    "breadcrumb": "breadcrumb",
    "banner": "banner",
    "quang-?cao": "quang-cao",
    "advert": "advert",
    "col-?right": "colright",
    "right-?col": "right-col",
    "copyright": "copyright",
    "bottom-?info": "bottom-info",
    "top-?bar": "top-bar",
    "top-?nav": "topnav",
}


def element(class_name: str):
    """A block of that class beside the page's article (a block holding the page is not chrome)."""
    page = lxml_html.document_fromstring(
        f"<html><body><div><p>{'Nội dung bài viết. ' * 5}</p></div>"
        f'<div class="{class_name}"><p>x</p></div></body></html>'
    )
    return page.find("body")[1]


def test_every_class_alternative_has_a_case() -> None:
    assert top_level_alternatives(boilerplate.CHROME_CLASS.pattern) == list(CHROME_CASES)
    assert top_level_alternatives(region.POSITIVE_CLASS.pattern) == list(POSITIVE_CASES)
    assert top_level_alternatives(region._ALWAYS_CHROME.pattern) == list(ALWAYS_CASES)
    assert top_level_alternatives(boilerplate._CHROME_ANCESTOR.pattern) == list(ANCESTOR_CASES)


def names_weight(name: str) -> float:
    region._names_weight.cache_clear()
    return region._names_weight(name)


def name_kind(name: str) -> str:
    region._name_kind.cache_clear()
    return region._name_kind(name)


#: (where the pattern lives, its names, its cases, what a case must do with the pattern).
CLASS_PATTERNS = [
    ((boilerplate, region), "CHROME_CLASS", CHROME_CASES, lambda name: names_weight(name) == 0.2),
    ((region,), "POSITIVE_CLASS", POSITIVE_CASES, lambda name: names_weight(name) == 1.6),
    ((region,), "_ALWAYS_CHROME", ALWAYS_CASES, lambda name: name_kind(name) == "always"),
    ((boilerplate,), "_CHROME_ANCESTOR", ANCESTOR_CASES, lambda name: in_chrome(element(name)[0])),
]


@pytest.mark.parametrize(
    ("modules", "name", "cases", "holds"), CLASS_PATTERNS, ids=[c[1] for c in CLASS_PATTERNS]
)
def test_each_class_alternative_is_needed(
    modules, name: str, cases: dict, holds, monkeypatch
) -> None:
    for alternative, class_name in cases.items():
        assert holds(class_name), f"{name}: {class_name!r} is not recognized"
        rest = [a for a in cases if a != alternative]
        for module in modules:
            monkeypatch.setattr(module, name, re.compile("|".join(rest), re.IGNORECASE))
        assert not holds(class_name), (
            f"{name}: {alternative!r} is covered by another alternative: remove it, or give it "
            "a case of its own"
        )
        monkeypatch.undo()
    region._names_weight.cache_clear()
    region._name_kind.cache_clear()


def test_names_weigh_chrome_content_and_both() -> None:
    assert names_weight("") == names_weight("box") == 1.0
    assert names_weight("sidebar") == 0.2 and names_weight("noi-dung") == 1.6
    # A name that also says content outweighs chrome, except comment and consent areas.
    assert names_weight("detail-sidebar") == 1.6
    assert names_weight("comment-body") == pytest.approx(0.2 * 1.6)


P60 = "Ban Dân vận quận tổ chức hội nghị, tuyên dương 45 mô hình, trao"  # 2 commas
P30 = "Các phường đăng ký thêm mô hình"


def page(body: str):
    return lxml_html.fromstring(f"<html><body>{body}</body></html>")


def test_placement_reads_ids_too() -> None:
    root = page(f'<div id="footer"><p>{P30}</p></div><div id="main"><p>{P30}</p></div>')
    assert in_chrome(root[0][0][0]) and not in_chrome(root[0][1][0])


def teasers(count: int, words: int = 5, cls: str = "item") -> str:
    link = " ".join(["chữ"] * words)
    return "".join(f'<div class="{cls}"><a href="/{i}">{link} {i}</a></div>' for i in range(count))


def test_listings() -> None:
    from dvcrawl.extract.boilerplate import looks_like_listing

    def listing(body: str) -> bool:
        return looks_like_listing(page(f'<div id="root">{body}</div>').get_element_by_id("root"))

    # Four teasers of one shape with headline links (five words or more), in the element or
    # one level down; three are not enough, nor links of four words, nor mixed shapes.
    assert listing(teasers(4)) and listing(f"<section>{teasers(4)}</section>")
    assert not listing(teasers(3))
    assert not listing(teasers(4, words=3))  # "chữ chữ chữ 0": four words
    assert not listing(teasers(2) + teasers(2, cls="other"))
    assert listing(teasers(2, cls="a b") + teasers(2, cls="b  a"))  # class order is no shape


def test_one_teaser_among_similar_siblings_is_a_listing() -> None:
    from dvcrawl.extract.boilerplate import looks_like_listing

    def chosen(depth: int, count: int) -> bool:
        inner = '<div class="item"><a href="/x">chữ chữ chữ chữ chữ</a>'
        wrapped = inner + "<div>" * (depth - 1) + '<div id="pick">x</div>' + "</div>" * depth
        siblings = teasers(count - 1)
        root = page(f"<main>{wrapped}{siblings}</main>")
        return looks_like_listing(root.get_element_by_id("pick"))

    # The chosen element, its parent or its grandparent is one of three teasers of one shape.
    assert chosen(1, 3) and chosen(2, 3)
    assert not chosen(1, 2)
    assert not chosen(3, 3), "only three levels up from the chosen element"
    assert not looks_like_listing(lxml_html.fromstring("<div>x</div>"))


def test_line_limits_and_segment_punctuation() -> None:
    longest = "In trang | " * 13 + "Chia sẻ: Facebook"
    assert len(longest) == 160 and is_boilerplate_line(longest)
    longer = "In trang | " * 13 + "Chia sẻ : Facebook"
    assert len(longer) == 161 and not is_boilerplate_line(longer)
    # Brackets around a counter are not part of it; a segment of letters is never dropped.
    assert is_boilerplate_line("In trang | (Lượt xem: 649)")
    assert not is_boilerplate_line("Facebook | XX")


def test_date_line_limits() -> None:
    line = "28/02/2024" + " | Lượt xem: 1" * 6 + " | Lượt xem: 1234567890123"
    assert len(line) == 120 and is_date_line(line)
    assert not is_date_line(line + "3")
    # Separators before a label go before the label is read.
    assert is_date_line("| Thời gian: 28/02/2024")
    # Letters beside a date are never stripped as if they were separators.
    assert not is_date_line("28/02/2024 XXXX")


def test_link_density() -> None:
    from dvcrawl.extract.boilerplate import link_density

    assert link_density(lxml_html.fromstring("<div></div>")) == 0.0
    assert link_density(lxml_html.fromstring("<div><a>ab</a><a>cd</a></div>")) == 1.0
    assert link_density(lxml_html.fromstring("<div>ab <a>cd</a></div>")) == 0.4


def boxes_of(body: str) -> set[str]:
    from dvcrawl.extract.boilerplate import related_boxes

    root = page(f'<div id="root">{body}</div>').get_element_by_id("root")
    return {element.get("id") or element.tag for element in related_boxes(root)}


LINKS = "".join(
    f'<li><a href="/{n}">Tin liên quan số {n} về công tác dân vận</a></li>' for n in range(3)
)


def test_related_box_around_its_heading() -> None:
    # The heading's widest ancestor that is still mostly links is the box.
    assert boxes_of(
        f"<p>{P60}</p>"
        f'<div id="box"><div id="inner"><h3>Tin liên quan</h3><ul>{LINKS}</ul></div></div>'
        f"<p>{P30}</p>"
    ) == {"box"}
    # A heading longer than 80 characters is not an anchor; nor is a tag that never holds one.
    assert boxes_of(f"<div><h3>Tin liên quan{' ' * 80}</h3><ul>{LINKS}</ul></div>") == set()
    assert boxes_of(f"<div><li>Tin liên quan</li><ul>{LINKS}</ul></div>") == set()


def test_related_box_stops_at_text() -> None:
    # The parent holds the article's text: the heading and the link lists after it are the
    # box, up to the first sibling that is not mostly links.
    unlinked = "x" * 301
    assert boxes_of(
        f'<p>{unlinked}</p><h3 id="h">Tin liên quan</h3><ul id="l1">{LINKS}</ul>'
        f'<ul id="l2">{LINKS}</ul><p id="after">{P30}</p><ul id="l3">{LINKS}</ul>'
    ) == {"h", "l1", "l2"}
    # A parent with a little unlinked text (at most 300 characters) is still the box.
    assert boxes_of(
        f'<div id="box"><p>{"x" * 100}</p><h3>Tin liên quan</h3><ul>{LINKS}{LINKS}{LINKS}</ul>'
        "</div>"
    ) == {"box"}
    # A heading followed by no link list is no box.
    assert boxes_of(f"<p>{unlinked}</p><h3>Tin liên quan</h3><p>{P60}</p>") == set()


def test_an_anchor_inside_a_box_is_not_a_second_box() -> None:
    assert boxes_of(
        f'<div id="box"><h3>Tin liên quan</h3><ul>{LINKS}</ul><h4>Xem thêm</h4><ul>{LINKS}</ul>'
        "</div>"
    ) == {"box"}
    # Two separate boxes are both found.
    assert boxes_of(
        f'<p>{"x" * 301}</p><div id="one"><h3>Tin liên quan</h3><ul>{LINKS}</ul></div>'
        f'<p>{"y" * 301}</p><div id="two"><h3>Xem thêm</h3><ul>{LINKS}</ul></div>'
    ) == {"one", "two"}


def test_related_box_limits() -> None:
    from dvcrawl.extract.boilerplate import link_density

    # The heading may be 80 characters long, not 81.
    padded = "Tin liên quan" + " " * 67
    assert len(padded) == 80
    assert boxes_of(f'<div id="box"><h3>{padded}</h3><ul>{LINKS}</ul></div>') == {"box"}
    assert boxes_of(f'<div id="box"><h3>{padded} </h3><ul>{LINKS}</ul></div>') == set()
    # A parent whose links are exactly 40% of its text is still mostly links...
    exact = '<div id="box"><h3>Xem thêm</h3><ul><li><a>abcdefgh</a></li></ul><p>wxyz</p></div>'
    root = page(exact)
    assert link_density(root.get_element_by_id("box")) == 0.4
    assert boxes_of(exact) == {"box"}
    # ... one with less is the article around the box: the heading and its lists are the box.
    less = (
        f'<div id="p"><p>{"x" * 200}</p><h3 id="h">Tin liên quan</h3><ul id="l">{LINKS}</ul></div>'
    )
    assert boxes_of(less) == {"h", "l"}
    # A sibling list that is exactly half links still belongs to the box.
    half = '<h3 id="h">Xem thêm</h3><p id="s"><a>abcd</a>efgh</p><p>' + "z" * 400 + "</p>"
    assert boxes_of(half) == {"h", "s"}


def test_related_box_unlinked_text_limit() -> None:
    from dvcrawl.extract.boilerplate import _unlinked_length, link_density

    many = LINKS * 3

    def parent_with(unlinked: int) -> str:
        return f'<div id="p"><p>{"x" * unlinked}</p><h3 id="h">Tin liên quan</h3><ul id="l">{many}</ul></div>'

    # Find the filler that makes the parent hold exactly 300 characters outside links.
    filler = next(
        n
        for n in range(250, 300)
        if _unlinked_length(page(parent_with(n)).get_element_by_id("p")) == 300
    )
    parent = page(parent_with(filler)).get_element_by_id("p")
    assert link_density(parent) >= 0.4
    assert boxes_of(parent_with(filler)) == {"p"}
    assert boxes_of(parent_with(filler + 1)) == {"h", "l"}


def test_scanning_goes_on_after_an_anchor_inside_a_box() -> None:
    assert boxes_of(
        f'<div id="one"><h3>Tin liên quan</h3><ul>{LINKS}</ul><h4>Xem thêm</h4><ul>{LINKS}</ul>'
        f'</div><p>{"y" * 301}</p><div id="two"><h3>Tin khác</h3><ul>{LINKS}</ul></div>'
    ) == {"one", "two"}


def test_link_density_leaves_out_skipped_parts() -> None:
    from dvcrawl.extract.boilerplate import link_density

    root = lxml_html.fromstring(
        '<div><p>abcdefghij</p><div id="s"><a>0123456789</a>xxxxxxxxxx</div><a>ab</a></div>'
    )
    assert link_density(root) == 12 / 32
    assert link_density(root, skip=frozenset({root.get_element_by_id("s")})) == 2 / 12
    assert link_density(lxml_html.fromstring("<div><a>x</a></div>")) == 1.0


def test_chrome_tags_are_chrome() -> None:
    for tag in ("footer", "nav", "aside", "header", "form"):
        root = page(f"<div><{tag}><p>x</p></{tag}><p>y</p></div>")
        assert in_chrome(root[0][0][0][0]) and not in_chrome(root[0][0][1]), tag


def test_a_skipped_part_is_no_listing() -> None:
    from dvcrawl.extract.boilerplate import looks_like_listing

    root = page(f'<div id="root"><p>{P60}</p><div id="box">{teasers(4)}</div></div>')
    article = root.get_element_by_id("root")
    assert looks_like_listing(article)
    assert not looks_like_listing(article, skip=frozenset({root.get_element_by_id("box")}))


def test_teasers_under_half_of_the_text_are_an_articles_list_not_a_listing() -> None:
    from dvcrawl.extract.boilerplate import looks_like_listing

    # Four teasers hold 4 x 21 = 84 characters ("chữ chữ chữ chữ chữ 0"). An article
    # followed by its "Tin khác" list in the same container is mostly running text.
    def listing(prose: int) -> bool:
        root = page(f'<div id="root"><p>{"x" * prose}</p><div>{teasers(4)}</div></div>')
        return looks_like_listing(root.get_element_by_id("root"))

    assert listing(84)  # half the text: a listing with an introduction
    assert not listing(85)
