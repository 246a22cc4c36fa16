"""The generic extractor's structural rules, each on the smallest page that needs it.

The pages are in English or Chinese on purpose: the rules must not depend on the language.
"""

from __future__ import annotations

import pytest

from dvcrawl.extract.blocks import Block, blocks_of
from dvcrawl.extract.body import byline_author, looks_like_byline
from dvcrawl.extract.page import Page
from dvcrawl.extract.region import content_region, measure
from dvcrawl.extract.text import word_count
from dvcrawl.extraction import extract_article

URL = "https://news.example.com/2024/03/12/story"
SENTENCES = [
    "The council met on Tuesday evening to discuss the new budget, which includes funds for "
    "road repairs, two new schools and a larger library in the northern district.",
    "Residents who attended the meeting asked about the timeline, the cost of the school "
    "buildings, and whether the library would open on weekends during the summer.",
    "The mayor said that construction would begin in the spring, that the schools would be "
    "ready for the following school year, and that the library plans were not yet final.",
    "Several members of the council questioned the size of the road budget, arguing that the "
    "money would be better spent on public transport, cycling lanes and safer crossings.",
    "After a long debate, the budget was approved by seven votes to four, with two members "
    "abstaining, and the council agreed to publish a detailed plan within a month.",
    "The next meeting will take place in April, when the council will also discuss the "
    "proposal for a new market hall, the parking rules and the summer festival schedule.",
]


def paragraphs(*indexes: int) -> str:
    return "".join(f"<p>{SENTENCES[i]}</p>" for i in indexes)


def page(body: str, *, title: str = "Council approves the new city budget", head: str = "") -> str:
    return (
        f"<html><head><title>{title} - City News</title>"
        f'<meta property="og:type" content="article">'
        f'<meta property="article:published_time" content="2024-03-12T08:00:00Z">{head}</head>'
        f"<body>{body}</body></html>"
    )


NAV = (
    "<nav><ul>"
    + "".join(f"<li><a href='/section/{n}'>Section number {n}</a></li>" for n in range(8))
    + "</ul></nav>"
)
TEASERS = (
    "<div class='more'>"
    + "".join(
        f"<div class='teaser'><h3><a href='/2024/03/1{n}/other'>Another story about the city "
        f"number {n} that links elsewhere</a></h3><p>{SENTENCES[n]}</p></div>"
        for n in range(4)
    )
    + "</div>"
)


def test_a_body_split_over_sibling_blocks_is_read_whole() -> None:
    # One column block per two paragraphs, an advert slot between them (a news site's story
    # columns): no single element holds the paragraphs as children or grandchildren.
    column = "<div class='column'><div class='inner'>{}</div></div>"
    body = (
        f"{NAV}<article><h1>Council approves the new city budget</h1>"
        f"<section class='story'>{column.format(paragraphs(0, 1, 2))}"
        f"<div class='ad'><iframe src='/ad'></iframe></div>"
        f"<div class='column'><div class='inner'>{paragraphs(3)}</div><h2>The vote</h2></div>"
        f"<div class='ad'></div>{column.format(paragraphs(4, 5))}</section></article>{TEASERS}"
    )
    record = extract_article(page(body), URL)
    assert record.is_article
    assert record.text == "\n\n".join([*SENTENCES[:4], "The vote", *SENTENCES[4:]])


def test_teasers_beside_the_body_are_not_taken_with_it() -> None:
    # The teaser list has prose summaries too, but each under a headline linking elsewhere.
    body = (
        f"<main><div class='story'><h1>Council approves the new city budget</h1>"
        f"<div class='text'>{paragraphs(2, 3, 4, 5)}</div>"
        f"<div class='text'>{''.join(f'<p><a href=/x{n}>A story that links elsewhere, number {n}</a></p><p>{SENTENCES[n]}</p>' for n in range(3))}</div>"
        f"</div></main>"
    )
    record = extract_article(page(body), URL)
    assert record.text == "\n\n".join(SENTENCES[2:6])


def test_a_main_column_named_sidebar_is_not_chrome() -> None:
    # A layout class ("l-sidebar-fixed": the row with a sidebar) wraps the main column; a
    # cookie notice elsewhere must not win over the article.
    cookie = (
        "<div class='privacy-notice'><p>We use cookies and other tracking technologies to "
        "improve your browsing experience, show personalized content and targeted ads, analyze "
        "site traffic, and understand where our audience is coming from, as our policy says.</p>"
        "<button>I accept</button></div>"
    )
    body = (
        f"{cookie}<main><h1>Council approves the new city budget</h1>"
        f"<div class='l-sidebar-fixed'><div class='l-col-main'><div class='entry'>"
        f"{paragraphs(0, 1, 2, 3)}</div></div>"
        f"<div class='l-col-sidebar'><a href='/a'>Most read story of the day</a></div></div></main>"
    )
    record = extract_article(page(body), URL)
    assert record.text == "\n\n".join(SENTENCES[:4])
    chrome = measure(Page(page(body), URL).root).chrome
    assert {e.get("class") for e in chrome} == {"l-col-sidebar"}


def test_comments_are_chrome_even_when_they_outweigh_the_article() -> None:
    # An open thread: a one-line post under dozens of long comments.
    post = "<p>You can read the questions from our previous open thread here, as always.</p>"
    comments = "".join(
        f"<div class='c'><p>Reader {n} wrote:</p>{paragraphs(0, 1, 2, 3, 4)}</div>"
        for n in range(4)
    )
    body = (
        f"<main><div class='post'><h1>Council approves the new city budget</h1>"
        f"<div class='entry-content'>{post}{paragraphs(0, 1)}</div></div>"
        f"<div id='comments' class='comments-area'>{comments}</div></main>"
    )
    record = extract_article(page(body), URL)
    assert record.text is not None and "Reader" not in record.text
    assert record.text.startswith("You can read")


def test_region_reports_what_it_leaves_out() -> None:
    body = (
        f"<article><div class='column'>{paragraphs(0, 1)}</div>"
        f"<div class='column'>{paragraphs(2, 3)}</div>"
        f"<ul class='links'>{''.join(f'<li><a href=/t{n}>Tag number {n}</a></li>' for n in range(9))}</ul>"
        f"</article>"
    )
    parsed = Page(page(body), URL)
    region = content_region(parsed.root)
    assert region is not None and region.root.tag == "article"
    assert [e.tag for e in region.skip] == ["ul"]


def test_paragraphs_beside_an_image_are_not_its_caption() -> None:
    # A deals post: heading, image, paragraph, in one big container: the paragraph is text.
    body = (
        "<h1>Council approves the new city budget</h1><div class='page'>"
        f"{SENTENCES[0]}<p></p><h2>The new school</h2>"
        "<a href='/shop'><span><img src='/img/school.jpg' width='640'></span></a>"
        f"{SENTENCES[1]}<br><h2>The library</h2><a href='/shop2'><img src='/img/lib.jpg'></a>"
        f"{SENTENCES[2]}<br>{paragraphs(3, 4)}</div>"
    )
    record = extract_article(page(body), URL)
    assert SENTENCES[1] in (record.text or "") and SENTENCES[2] in (record.text or "")
    assert [image["caption"] for image in record.images] == [None, None]


def test_lines_after_a_captioned_image_are_text() -> None:
    body = (
        "<h1>Council approves the new city budget</h1><div class='entry-content'>"
        f"{paragraphs(0)}"
        "<div class='wp-caption'><img src='/img/hall.jpg'><p class='wp-caption-text'>The city "
        "hall on Tuesday</p></div>"
        "<p style='text-align: center'>The council chamber was full!</p>"
        f"{paragraphs(1, 2)}</div>"
    )
    record = extract_article(page(body), URL)
    assert record.images[0]["caption"] == "The city hall on Tuesday"
    assert "The council chamber was full!" in (record.text or "")


def test_an_image_group_is_only_a_figure_sized_container() -> None:
    html = page(
        "<div class='body'><p><img src='/a.jpg'>The hall, photographed on Tuesday</p>"
        f"<div>{paragraphs(0, 1)}<img src='/b.jpg'>{paragraphs(2, 3, 4)}</div></div>"
    )
    parsed = Page(html, URL)
    blocks = blocks_of(parsed, parsed.css("div.body")[0])
    first_image, caption = blocks[0], blocks[1]
    assert first_image.group is not None and first_image.group is caption.group
    second_image = next(b for b in blocks[2:] if b.kind == "image")
    assert second_image.group is None  # the div holds five paragraphs: not a figure


def test_word_count_counts_unspaced_scripts() -> None:
    assert word_count("Dân vận khéo") == 3
    assert word_count("北京是中国的首都") == 4
    assert word_count("東京は日本の首都です 2020年") == 7


def test_a_chinese_article_is_an_article() -> None:
    paragraph = (
        "市议会周二晚上开会讨论新的预算，其中包括道路维修、两所新学校和北区一座更大的图书馆的资金。"
    )
    body = f"<h1>市议会批准新的城市预算</h1><div class='content'>{('<p>' + paragraph + '</p>') * 2}</div>"
    record = extract_article(page(body, title="市议会批准新的城市预算"), URL)
    assert word_count(record.text or "") >= 40
    assert record.is_article


def test_a_register_of_documents_is_not_an_article() -> None:
    rows = "".join(
        f"<tr><td>{n}</td><td>{n}-KH/BDV</td><td>1{n}/11/2024</td><td>Kế hoạch tổ chức hội nghị "
        f"sơ kết công tác dân vận năm 2024 số {n}</td><td><a href='/d/{n}.pdf'>"
        "<img src='/_layouts/15/images/icpdf.png'></a></td></tr>"
        for n in range(1, 9)
    )
    html = (
        "<html><head><title>Văn bản chỉ đạo</title></head><body><div class='main'>"
        "<h1>Văn bản chỉ đạo của Ban</h1><table><tr><th>STT</th><th>Số</th><th>Ngày</th>"
        f"<th>Trích yếu</th><th>Tải về</th></tr>{rows}</table></div></body></html>"
    )
    record = extract_article(html, "https://bandanvan.example.gov.vn/Trang/VanBan.aspx?LoaiVB=3")
    assert record.images == []  # SharePoint's file-type icons are not article images
    assert record.text is not None and "1 | 1-KH/BDV | 11/11/2024" in record.text  # a data table
    assert record.is_article is False


def test_a_body_continues_past_small_blocks_and_an_author_box() -> None:
    # An author box (one line that is a link) inside the first part, a share bar and an
    # advert slot named by a short token between the parts: none of them ends the body.
    column = "<div class='chunk'><div class='inner'>{}</div></div>"
    author_box = "<div class='by'><a href='/author/jane'>Jane Roe, Contributing Writer</a></div>"
    body = (
        f"<h1>Council approves the new city budget</h1><div class='post'>"
        f"{column.format(author_box + paragraphs(0, 1, 2))}"
        "<div class='share-tools'>Share on social networks or send it by mail</div>"
        "<div class='row full-bleed-ad'>Advertisement</div>"
        f"{column.format(paragraphs(3, 4, 5))}</div>"
    )
    record = extract_article(page(body), URL)
    assert record.text == "\n\n".join(SENTENCES)


def test_chrome_inside_the_body_container_is_left_out() -> None:
    body = (
        "<h1>Council approves the new city budget</h1><div class='entry-content'>"
        f"{paragraphs(0, 1)}<div class='ad-slot ads'>Advertisement</div>{paragraphs(2, 3)}"
        "<div class='social-share'>Share this article with friends</div></div>"
    )
    record = extract_article(page(body), URL)
    assert record.text == "\n\n".join(SENTENCES[:4])


@pytest.mark.parametrize(
    ("printed", "author"),
    [
        ("bởi Nguyễn Văn An", "Nguyễn Văn An"),  # WordPress in Vietnamese
        ("Đăng bởi: Quản trị viên", "Quản trị viên"),
        ("Viết bởi Ban Dân vận", "Ban Dân vận"),  # Joomla
        ("Người đăng: Mai Lan", "Mai Lan"),  # EasyDNN
        ("Posted by: Mai Lan", "Mai Lan"),
        ("By Carrie Arnold November 15, 2019", "Carrie Arnold"),  # a date beside the name
        ("Bởi Hoàng Anh | 12/03/2024", "Hoàng Anh"),
        ("Theo Báo Hưng Yên", "Báo Hưng Yên"),  # the portals' own labels, as before
        ("Tin, ảnh: Ngân Nguyễn", "Ngân Nguyễn"),
    ],
)
def test_byline_labels_are_removed(printed: str, author: str) -> None:
    assert byline_author(printed) == author


def test_a_sentence_that_opens_with_boi_is_not_a_byline() -> None:
    assert looks_like_byline(Block(kind="text", text="Bởi Hoàng Anh"))
    assert not looks_like_byline(Block(kind="text", text="Bởi vì dân tin Đảng"))


def test_trafilatura_boilerplate_names_inside_the_body_are_left_out() -> None:
    # trafilatura's list of boilerplate class names ("meta", "timestamp", "slide", ...) is
    # applied inside the body container; a named block that holds the body itself is kept.
    body = (
        "<h1>Council approves the new city budget</h1><div class='entry-content'>"
        f"{paragraphs(0, 1)}<div class='entry-meta'>Posted in Local politics</div>"
        f"<div class='slideshow-wrapper'><p>Slide 1 of 12: the council chamber</p></div>"
        f"{paragraphs(2, 3)}</div>"
    )
    record = extract_article(page(body), URL)
    assert record.text == "\n\n".join(SENTENCES[:4])
    wrapped = page(
        "<h1>Council approves the new city budget</h1>"
        f"<div class='entry-content'><div class='meta-wrapper'>{paragraphs(0, 1, 2, 3)}</div></div>"
    )
    assert extract_article(wrapped, URL).text == "\n\n".join(SENTENCES[:4])


def test_a_site_layout_whose_selector_misses_falls_back_to_the_content_region() -> None:
    from dvcrawl.extract.selectors import SelectorExtractor

    column = "<div class='column'><div class='inner'>{}</div></div>"
    body = (
        f"<article><h1>Council approves the new city budget</h1><section class='story'>"
        f"{column.format(paragraphs(0, 1, 2))}<div class='ad'></div>"
        f"{column.format(paragraphs(3, 4, 5))}</section></article>"
    )
    extractor = SelectorExtractor(name="news/v2", body="div.old-layout-body")
    record = extractor.extract(Page(page(body), URL), "news")
    assert record.extractor == "news/v2+fallback"
    assert record.text == "\n\n".join(SENTENCES)


@pytest.mark.parametrize(
    ("printed", "author"),
    [
        ("Thu Hằng - Văn Tuấn", "Thu Hằng, Văn Tuấn"),  # two writers
        ("Thu Hà - Ban Dân vận Quận ủy", "Thu Hà - Ban Dân vận Quận ủy"),  # a writer and a unit
        ("Nguyễn Thu Hằng - Phường Khương Trung", "Nguyễn Thu Hằng - Phường Khương Trung"),
        (
            "LÊ THỊ HỒNG (Ban Dân vận Huyện ủy Nga Sơn)",
            "LÊ THỊ HỒNG (Ban Dân vận Huyện ủy Nga Sơn)",
        ),
        ("(Theo Báo Yên Bái)", "Báo Yên Bái"),
    ],
)
def test_several_writers_are_joined_and_units_kept(printed: str, author: str) -> None:
    assert byline_author(printed) == author


def test_a_name_with_its_unit_in_parentheses_is_a_byline() -> None:
    block = Block(kind="text", text="LÊ THỊ HỒNG (Ban Dân vận Huyện ủy Nga Sơn)", bold=True)
    assert looks_like_byline(block)
    assert not looks_like_byline(Block(kind="text", text="Đây là một câu văn (ví dụ)"))


@pytest.mark.parametrize(
    "lead",
    [
        "<div class='ArticleSummary'>{}</div>",  # ASP.NET control names in camelCase
        "<span id='dnn_ctr520_ViewArticle_lblTomTat'>{}</span>",
        "<h2 class='jeg_post_subtitle'>{}</h2>",  # WordPress themes' subtitle
    ],
)
def test_leads_marked_by_camel_case_or_subtitle_names(lead: str) -> None:
    text = (
        "Sáng 10/7, Ban Thường vụ Huyện ủy tổ chức hội nghị tổng kết phong trào thi đua "
        "“Dân vận khéo” giai đoạn 2019 - 2024 và tuyên dương 40 điển hình tiêu biểu."
    )
    body = (
        "<h1>Council approves the new city budget</h1><div class='news'>"
        f"{lead.format(text)}<div class='content'>{paragraphs(0, 1, 2)}</div></div>"
    )
    record = extract_article(page(body), URL)
    assert record.sapo == text
    assert record.text is not None and record.text.startswith(text)


VN_PARAGRAPH = (
    "Ban Dân vận Huyện ủy tổ chức hội nghị sơ kết công tác dân vận sáu tháng đầu năm, đánh giá "
    "kết quả thực hiện phong trào thi đua “Dân vận khéo”, quy chế dân chủ ở cơ sở và việc phối "
    "hợp giữa chính quyền với Mặt trận Tổ quốc, các đoàn thể trong vận động Nhân dân."
)


def portal_page(title_tag: str, heading: str = "") -> str:
    return (
        f"<html><head><title>{title_tag}</title></head><body>"
        "<div class='header'><div class='logo'><img src='/logo.png' alt='Mặt trận Tổ quốc "
        "Việt Nam huyện Yên Thế'></div></div>"
        f"<div class='main'>{heading}<div class='content'><p>Ngày 05/07/2024</p>"
        f"<p>{VN_PARAGRAPH}</p><p>{VN_PARAGRAPH}</p></div></div>"
        "<div class='footer'>Bản quyền thuộc Mặt trận Tổ quốc Việt Nam huyện Yên Thế</div>"
        "</body></html>"
    )


def test_a_title_suffix_the_page_prints_as_its_own_name_is_cut() -> None:
    # The name has none of the tell-tale words ("Cổng thông tin", ".vn"), but the logo and
    # the footer print it.
    html = portal_page(
        "Hội nghị sơ kết công tác dân vận 6 tháng đầu năm - Mặt trận Tổ quốc Việt Nam huyện Yên Thế"
    )
    record = extract_article(html, "https://mattranyenthe.example.vn/tin-tuc/hoi-nghi-12.html")
    assert record.title == "Hội nghị sơ kết công tác dân vận 6 tháng đầu năm"


def test_a_title_tag_that_is_only_the_portal_name_is_not_the_headline() -> None:
    html = portal_page(
        "Mặt trận Tổ quốc Việt Nam huyện Yên Thế",
        heading="<h2 class='tieu-de'>Hội nghị sơ kết công tác dân vận 6 tháng đầu năm</h2>",
    )
    record = extract_article(html, "https://mattranyenthe.example.vn/tin-tuc/hoi-nghi-12.html")
    assert record.title == "Hội nghị sơ kết công tác dân vận 6 tháng đầu năm"


def test_a_time_element_under_the_headline_gives_the_instant_in_vietnam_time() -> None:
    # Printed as a day; the datetime attribute, in UTC, has the time of day.
    body = (
        "<article><h1>Council approves the new city budget</h1>"
        "<p class='meta'><time datetime='2024-03-12T01:30:00Z'>12/03/2024</time></p>"
        f"<div class='content'>{paragraphs(0, 1, 2)}</div></article>"
    )
    html = f"<html><head><title>Council approves the new city budget</title></head><body>{body}</body></html>"
    record = extract_article(html, URL)
    assert record.published_at == "2024-03-12T08:30:00+07:00"
    assert record.published_raw == "12/03/2024"
