"""From blocks to a body: bylines, captions, stop anchors, the lead (dvcrawl/extract/body.py).

Each rule and limit has a case on each side of it, so changing one fails here (the mutation
check, docs/testing.md); the golden pages show the same rules on whole pages.
"""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from dvcrawl.extract.blocks import Block
from dvcrawl.extract.body import assemble, byline_author, looks_like_byline, looks_like_caption

SENTENCE = "Hội nghị đã tổng kết công tác dân vận năm 2024 và đề ra nhiệm vụ năm 2025."


def text(value: str, **flags) -> Block:
    return Block("text", value, **flags)


def image(url: str = "https://example.vn/a.jpg", group=None) -> Block:
    return Block("image", image_url=url, group=group)


# --- bylines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        text("Hà Hiền"),
        text("Nguyễn Văn An"),
        Block("heading", "Thu Hương"),
        text("Tin, ảnh: Ngân Nguyễn"),
        text("Theo Báo Đồng Tháp"),
        text("(Nguồn: TTXVN)"),
        text("Ban Dân vận Quận ủy"),
        text("Hội Nông dân."),
        text("Hà Hiền."),
        text("X."),  # an initial
        text("PV"),  # one word
        text("Trần Thị Bích Ngọc Hà An"),  # six words
        text("Ngọc Hà - Thanh Xuân"),  # a name and a place
        text("Minh anh", italic=True),  # one uncapitalized word, but set apart
        text("Minh anh", bold=True),
        text("Minh anh", right=True),
        text("Hà Hiền (Ban Dân vận) - Quận Ba"),
        text("Theo Báo Đồng Tháp " + "x" * 71),  # 90 characters
        text("Theo " + " ".join(["Báo"] * 13)),  # 14 words
        text("Theo Báo Đồng Tháp số 12", link_ratio=0.5),
    ],
)
def test_bylines(block: Block) -> None:
    assert looks_like_byline(block)


@pytest.mark.parametrize(
    "block",
    [
        text(SENTENCE),
        text("Theo Báo Đồng Tháp " + "x" * 72),  # 91 characters
        text("Theo " + " ".join(["Báo"] * 14)),  # 15 words
        text("Theo Báo Đồng Tháp", link_ratio=0.51),  # a link list, not a byline
        text("Theo Báo Đồng Tháp số 123"),  # three digits: a figure, not a name
        Block("quote", "Hà Hiền"),
        Block("item", "Hà Hiền"),
        text("Hà Hiền:"),  # ends like a sentence
        text(".Hà Hiền"),  # only a trailing full stop is dropped
        text("Đây là một câu."),  # five words and a full stop
        text("Trần Thị Bích Ngọc Hà An Bình"),  # seven words
        text("minh anh"),
        text("minh anh", italic=True),  # two uncapitalized words, even set apart
        text("Minh anh"),  # not set apart
        text("Minh anh chị em", bold=True),
        text(""),
    ],
)
def test_not_bylines(block: Block) -> None:
    assert not looks_like_byline(block)


def test_a_full_stop_ends_a_sentence_only_after_four_words() -> None:
    assert looks_like_byline(text("Trần Thị Bích Ngọc."))
    assert not looks_like_byline(text("Trần Thị Bích Ngọc Hà."))


@pytest.mark.parametrize(
    ("printed", "author"),
    [
        ("Tin, ảnh: Ngân Nguyễn", "Ngân Nguyễn"),
        ("(Theo Báo Đồng Tháp)", "Báo Đồng Tháp"),
        ("[Hà Hiền]", "Hà Hiền"),
        ("Nguồn: TTXVN.", "TTXVN"),
        ("- Thu Hương -", "Thu Hương"),
        ("Xuân Xinh", "Xuân Xinh"),  # names that begin or end with letters of the stripped set
        ("(Bài, ảnh: X.)", "X"),
    ],
)
def test_byline_author(printed: str, author: str) -> None:
    assert byline_author(printed) == author


# --- captions -----------------------------------------------------------------------------------


def test_captions() -> None:
    figure = lxml_html.fromstring("<figure></figure>")
    other = lxml_html.fromstring("<p></p>")
    long_words = " ".join(["chữ"] * 120)
    photo = image(group=figure)
    assert looks_like_caption(text("Ảnh minh họa"), None)
    assert looks_like_caption(Block("quote", "Ảnh minh họa"), None)
    assert not looks_like_caption(Block("item", "Ảnh minh họa"), None)
    assert not looks_like_caption(text(""), None)
    assert looks_like_caption(text(SENTENCE, caption_hint=True), None)
    # In the image's own figure: up to 120 words, whatever its shape.
    assert looks_like_caption(text(long_words + ".", bold=True, group=figure), photo)
    assert not looks_like_caption(text(long_words + " chữ.", group=figure), photo)
    assert not looks_like_caption(text(SENTENCE, group=other), photo)
    assert not looks_like_caption(text(SENTENCE, group=figure), image(group=None))
    # After the image, outside its figure: short, not bold, not a heading...
    eighty = " ".join(["chữ"] * 80)
    assert looks_like_caption(text(eighty), None)
    assert not looks_like_caption(text(eighty + " chữ"), None)
    assert not looks_like_caption(text("Ảnh minh họa", bold=True), None)
    assert not looks_like_caption(Block("heading", "Ảnh minh họa"), None)
    # ... and set apart (italic, centered) or not ending like a sentence.
    assert looks_like_caption(text(SENTENCE, italic=True), None)
    assert looks_like_caption(text(SENTENCE, centered=True), None)
    assert not looks_like_caption(text(SENTENCE), None)


def test_a_sentence_that_repeats_the_images_alt_text_is_its_caption() -> None:
    # CMSs fill the alt text from the caption: the caption is then a sentence like any other,
    # neither italic nor centered nor in the image's figure.
    def after(alt_attribute: str) -> Block:
        element = lxml_html.fromstring(f"<img src='/a.jpg' {alt_attribute}>")
        return Block("image", element=element, image_url="https://x.vn/a.jpg")

    alt = SENTENCE[:60]
    assert looks_like_caption(text(SENTENCE), after(f'alt="{alt}"'))
    assert looks_like_caption(text(SENTENCE), after(f'title="{alt}"'))
    assert looks_like_caption(text(SENTENCE), after(f'alt="{SENTENCE[:20]}"'))
    # A short alt ("ảnh", a file name) says nothing; nor does another sentence's.
    assert not looks_like_caption(text(SENTENCE), after(f'alt="{SENTENCE[:19]}"'))
    assert not looks_like_caption(text(SENTENCE), after(f'alt="{SENTENCE[5:65]}"'))
    assert not looks_like_caption(text(SENTENCE), after(""))


# --- assembling -------------------------------------------------------------------------------


def test_assemble_drops_chrome_and_the_title_and_stops_at_an_anchor() -> None:
    body = assemble(
        [
            # A stop anchor before the text begins does not end it: an article may open
            # with a "Thông báo" heading.
            Block("heading", "Thông báo"),
            text("Bình Thạnh tuyên dương 45 mô hình"),  # the title again
            text(SENTENCE),
            text("Lượt xem: 649"),
            text("Đoạn hai của bài viết, đầy đủ và rõ ràng."),
            text("Tin khác"),
            text("Một tin khác hẳn, không thuộc bài viết."),
        ],
        title="Bình Thạnh tuyên dương 45 mô hình",
    )
    assert body.paragraphs == ["Thông báo", SENTENCE, "Đoạn hai của bài viết, đầy đủ và rõ ràng."]
    assert body.text == "\n\n".join(body.paragraphs) and body.author is None
    assert assemble([]).text is None


def test_a_caption_before_the_text_does_not_begin_it() -> None:
    body = assemble(
        [
            image(),
            text("Quang cảnh hội nghị", caption_hint=True),
            Block("heading", "Thông báo"),
            text(SENTENCE),
        ]
    )
    assert body.paragraphs == ["Thông báo", SENTENCE]
    assert body.images == [{"url": "https://example.vn/a.jpg", "caption": "Quang cảnh hội nghị"}]


def test_text_starts_where_the_page_says() -> None:
    lead = "(Thanhuytphcm.vn) - " + SENTENCE
    body = assemble(
        [
            text("Trang chủ"),
            image(),
            text("Ảnh: Hội nghị", italic=True),
            text(lead),
            text("Đoạn hai của bài viết, đầy đủ và rõ ràng."),
        ],
        starts_at=lambda block: block.text.startswith("(Thanhuytphcm.vn)"),
    )
    assert body.paragraphs == [lead, "Đoạn hai của bài viết, đầy đủ và rõ ràng."]
    assert body.images == [{"url": "https://example.vn/a.jpg", "caption": "Ảnh: Hội nghị"}]


def test_two_byline_lines_are_taken_and_no_more() -> None:
    body = assemble(
        [text(SENTENCE), text("Nguyễn An"), text("Trần Bình"), text("Lê Cường")], title=None
    )
    assert body.paragraphs == [SENTENCE, "Nguyễn An"]
    assert body.author == "Trần Bình, Lê Cường"
    # A text is never only a byline; without the option no byline is looked for.
    assert assemble([text("Nguyễn An")]).author is None
    assert assemble([text(SENTENCE), text("Nguyễn An")], byline=False).author is None


def test_captions_join_and_leave_the_text() -> None:
    figure = lxml_html.fromstring("<figure></figure>")
    body = assemble(
        [
            text(SENTENCE),
            image(group=figure),
            text("Đồng chí A phát biểu.", group=figure),
            text("Ảnh: B", group=figure),
            image("https://example.vn/b.jpg"),
            text("Bà con hiến đất mở đường", italic=True),
            text("Đoạn cuối của bài viết, đầy đủ và rõ ràng."),
            image("https://example.vn/a.jpg"),  # the same image again is kept once
        ]
    )
    assert body.paragraphs == [SENTENCE, "Đoạn cuối của bài viết, đầy đủ và rõ ràng."]
    assert body.images == [
        {"url": "https://example.vn/a.jpg", "caption": "Đồng chí A phát biểu. Ảnh: B"},
        {"url": "https://example.vn/b.jpg", "caption": "Bà con hiến đất mở đường"},
    ]


def test_the_lead() -> None:
    bold_lead = " ".join(["Chữ"] * 15) + "."
    assert assemble([text(bold_lead, bold=True), text(SENTENCE)]).sapo == bold_lead
    short = " ".join(["Chữ"] * 14) + "."
    assert assemble([text(short, bold=True), text(SENTENCE)]).sapo is None
    assert assemble([text(bold_lead), text(SENTENCE)]).sapo is None
    # A lead the page marks goes first, once, cleaned.
    marked = assemble([text(SENTENCE), text("Lời dẫn.")], sapo="  Lời   dẫn. ")
    assert marked.paragraphs == ["Lời dẫn.", SENTENCE] and marked.sapo == "Lời dẫn."


def test_a_subheading_after_a_caption_stays_in_the_text() -> None:
    # An image outside any figure, its italic caption, then a subheading without a full stop:
    # the subheading is text, not a second caption line (it used to be swallowed).
    body = assemble(
        [
            text(SENTENCE),
            image(),
            text("Quang cảnh hội nghị", italic=True),
            text("Nhiều mô hình hay ở cơ sở"),
            text("Đoạn cuối của bài viết, đầy đủ và rõ ràng."),
        ]
    )
    assert body.paragraphs == [
        SENTENCE,
        "Nhiều mô hình hay ở cơ sở",
        "Đoạn cuối của bài viết, đầy đủ và rõ ràng.",
    ]
    assert body.images[0]["caption"] == "Quang cảnh hội nghị"
    # Inside the image's own figure, further lines are still its caption.
    figure = lxml_html.fromstring("<figure></figure>")
    inside = assemble(
        [
            text(SENTENCE),
            image(group=figure),
            text("Quang cảnh hội nghị", group=figure),
            text("Ảnh: Thu Hương", group=figure),
            text("Đoạn cuối của bài viết, đầy đủ và rõ ràng."),
        ],
        byline=False,
    )
    assert inside.images[0]["caption"] == "Quang cảnh hội nghị Ảnh: Thu Hương"
    assert inside.paragraphs == [SENTENCE, "Đoạn cuối của bài viết, đầy đủ và rõ ràng."]


def test_an_italic_first_paragraph_is_text() -> None:
    body = assemble([text(SENTENCE, italic=True), text("Đoạn hai, đầy đủ và rõ ràng.")])
    assert body.paragraphs == [SENTENCE, "Đoạn hai, đầy đủ và rõ ràng."]


def test_a_byline_after_a_single_paragraph() -> None:
    assert assemble([text(SENTENCE), text("Nguyễn An")]).author == "Nguyễn An"


def test_a_caption_in_the_figure_before_the_text_begins() -> None:
    # A bold caption ending with a full stop is still the caption of its own figure.
    figure = lxml_html.fromstring("<figure></figure>")
    lead = "(Thanhuytphcm.vn) - " + SENTENCE
    body = assemble(
        [image(group=figure), text("Lãnh đạo phát biểu.", bold=True, group=figure), text(lead)],
        starts_at=lambda block: block.text.startswith("(Thanhuytphcm.vn)"),
    )
    assert body.images[0]["caption"] == "Lãnh đạo phát biểu." and body.paragraphs == [lead]


# --- bylines as platforms print them (issue 9's labels, units and names) ----------------------


@pytest.mark.parametrize(
    ("printed", "byline"),
    [
        ("Bởi Hoàng Anh", True),
        ("Đăng bởi: Hoàng Anh", True),
        ("Bởi Hoàng Anh Tuấn Minh Long Khang", True),  # six words after the label
        ("Bởi Hoàng Anh Tuấn Minh Long Khang Việt", False),  # seven
        ("Bởi vì trời mưa", False),  # "Bởi vì ..." opens a sentence
        ("Bởi hoàng anh", False),
        ("Bởi Hoàng anh", True),  # the first word after the label decides
        ("Bởi Hoàng", True),
        ("LÊ THỊ HỒNG (Ban Dân vận Huyện ủy Nga Sơn)", True),  # a unit in parentheses
        ("Đây là câu (ghi chú).", False),
    ],
)
def test_labelled_bylines(printed: str, byline: bool) -> None:
    assert looks_like_byline(text(printed)) is byline


@pytest.mark.parametrize(
    ("printed", "author"),
    [
        ("Đăng bởi: Hoàng Anh", "Hoàng Anh"),
        ("By Carrie Arnold November 15, 2019", "Carrie Arnold"),  # the date is not the author
        ("Thu Hằng - Văn Tuấn", "Thu Hằng, Văn Tuấn"),  # two writers
        ("Thu Hằng - Văn Tuấn - Minh Đức", "Thu Hằng, Văn Tuấn, Minh Đức"),
        ("Nguyễn Thị Thu Hằng - Văn Tuấn", "Nguyễn Thị Thu Hằng, Văn Tuấn"),  # four-word names
        ("Nguyễn Thị Thu Hằng Anh - Văn Tuấn", "Nguyễn Thị Thu Hằng Anh - Văn Tuấn"),
        ("Thu Hà - Ban Dân vận Quận ủy", "Thu Hà - Ban Dân vận Quận ủy"),  # a name and its unit
        ("Nguyễn Văn An - Xã Phú Cường", "Nguyễn Văn An - Xã Phú Cường"),  # ... or its place
        ("Hà - Hiền", "Hà - Hiền"),  # one-word parts are not two names
        ("Hà Hiền Minh Long Khang - Văn Tuấn", "Hà Hiền Minh Long Khang - Văn Tuấn"),
        ("Thu Hằng", "Thu Hằng"),
        (
            "LÊ THỊ HỒNG (Ban Dân vận Huyện ủy Nga Sơn)",
            "LÊ THỊ HỒNG (Ban Dân vận Huyện ủy Nga Sơn)",
        ),
        ("(Hà Hiền)", "Hà Hiền"),
        ("(Hà Hiền", "Hà Hiền"),
        ("Hà Hiền)", "Hà Hiền"),
        ("Hà (Hiền)", "Hà (Hiền)"),
        ("(Hà) Hiền", "(Hà) Hiền"),
    ],
)
def test_author_names(printed: str, author: str) -> None:
    assert byline_author(printed) == author


def test_lines_after_a_marked_caption_are_text() -> None:
    # A caption from a caption element ends the caption: a centred line after it is text.
    body = assemble(
        [
            text(SENTENCE),
            image(),
            text("Quang cảnh hội nghị", caption_hint=True),
            text("Nhiều mô hình hay ở cơ sở", centered=True),
            text("Đoạn cuối của bài viết, đầy đủ và rõ ràng."),
        ]
    )
    assert body.images[0]["caption"] == "Quang cảnh hội nghị"
    assert body.paragraphs[1] == "Nhiều mô hình hay ở cơ sở"


# --- dates on the byline line and bylines above the text (main, 0aeb71c) -------------------


def test_labelled_bylines_by_label_alone() -> None:
    from dvcrawl.extract.body import is_labelled_byline

    assert is_labelled_byline("Theo Báo Đồng Tháp")
    assert is_labelled_byline("Nguồn: TTXVN")
    assert is_labelled_byline("Tin, ảnh: Ngân Nguyễn")
    assert not is_labelled_byline("Hà Hiền")
    assert is_labelled_byline("Theo " + " ".join(["Báo"] * 13))  # 14 words
    assert not is_labelled_byline("Theo " + " ".join(["Báo"] * 14))


@pytest.mark.parametrize(
    ("printed", "name"),
    [
        ("Hồng Nhung (cập nhật 09/04/2025)", "Hồng Nhung"),
        ("Thu Hằng, ngày 09/04/2025", "Thu Hằng"),
        ("Minh Đức - 09/04/2025", "Minh Đức"),
        ("Minh Đức | Cập nhật: 09/04/2025 08:15", "Minh Đức"),
        ("Minh Đức", "Minh Đức"),
        ("Trần X", "Trần X"),  # an initial is part of the name
    ],
)
def test_a_date_beside_the_name_is_not_the_name(printed: str, name: str) -> None:
    from dvcrawl.extract.body import _without_dates

    assert _without_dates(printed) == name
    assert looks_like_byline(text(printed))


def test_the_byline_date_is_kept_for_the_record() -> None:
    body = assemble([text(SENTENCE), text("Hồng Nhung (cập nhật 09/04/2025)")])
    assert body.author == "Hồng Nhung" and body.byline_date.isoformat() == "2025-04-09"
    two = assemble([text(SENTENCE), text("Thu Hằng (09/04/2025)"), text("Văn Tuấn")])
    assert two.author == "Thu Hằng, Văn Tuấn" and two.byline_date.isoformat() == "2025-04-09"
    last = assemble([text(SENTENCE), text("Thu Hằng"), text("Văn Tuấn (09/04/2025)")])
    assert last.byline_date.isoformat() == "2025-04-09", "an undated line above keeps it"
    assert assemble([text(SENTENCE), text("Văn Tuấn")]).byline_date is None


def test_a_labelled_byline_above_the_text() -> None:
    second = "Đoạn hai của bài viết, đầy đủ và rõ ràng."
    top = assemble([text("Bài và ảnh: Thanh Tâm"), text(SENTENCE), text(second)])
    assert top.author == "Thanh Tâm" and top.paragraphs == [SENTENCE, second]
    # The byline at the end wins; the top line still leaves the text.
    both = assemble([text("Bài và ảnh: Thanh Tâm"), text(SENTENCE), text("Văn Tuấn")])
    assert both.author == "Văn Tuấn" and both.paragraphs == [SENTENCE]
    # A name at the top without a label could be a one-line kicker: it stays.
    kicker = assemble([text("Thanh Tâm"), text(SENTENCE), text(second)])
    assert kicker.author is None and kicker.paragraphs[0] == "Thanh Tâm"
    # A text of one line is never only its byline.
    assert assemble([text("Bài và ảnh: Thanh Tâm")]).paragraphs == ["Bài và ảnh: Thanh Tâm"]
