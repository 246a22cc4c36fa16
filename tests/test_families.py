"""CMS families: fingerprints, and each family's rules on the smallest page that needs them.

Whole realistic pages of every family are in the gold set (tests/eval/pages/cms_*); these
tests pin one rule each.
"""

from __future__ import annotations

import re

import pytest

from dvcrawl.extract.families import FAMILIES, family_of
from dvcrawl.extract.page import Page
from dvcrawl.extraction import extract_article

PARAGRAPH = (
    "Ban Dân vận Huyện ủy tổ chức hội nghị sơ kết công tác dân vận sáu tháng đầu năm, đánh giá "
    "kết quả thực hiện phong trào thi đua “Dân vận khéo”, quy chế dân chủ ở cơ sở và việc phối "
    "hợp giữa chính quyền với Mặt trận Tổ quốc, các đoàn thể trong vận động Nhân dân."
)
TITLE = "Hội nghị sơ kết công tác dân vận 6 tháng đầu năm 2024"


def html(body: str, head: str = "") -> str:
    return f"<html><head><title>{TITLE}</title>{head}</head><body>{body}</body></html>"


@pytest.mark.parametrize(
    ("family", "markup", "url"),
    [
        ("wordpress", '<meta name="generator" content="WordPress 6.4.2">', "https://a.vn/?p=1"),
        (
            "wordpress",
            '<link rel="stylesheet" href="/wp-content/themes/x/style.css">',
            "https://a.vn/",
        ),
        (
            "joomla",
            '<meta name="generator" content="Joomla! - Open Source Content Management">',
            "https://a.vn/",
        ),
        ("joomla", "", "https://a.vn/index.php?option=com_content&view=article&id=12"),
        (
            "drupal",
            '<meta name="Generator" content="Drupal 10 (https://www.drupal.org)">',
            "https://a.vn/",
        ),
        ("drupal", "", "https://a.vn/node/1234"),
        (
            "liferay7",
            '<script src="/o/frontend-js-web/liferay/global.bundle.js"></script>',
            "https://a.vn/",
        ),
        ("liferay62", '<script src="/html/js/barebone.jsp"></script>', "https://a.vn/"),
        ("sharepoint", '<meta name="GENERATOR" content="Microsoft SharePoint">', "https://a.vn/"),
        ("sharepoint", "", "https://a.gov.vn/Pages/tin-tuc.aspx?ItemID=12"),
        (
            "dnn",
            '<meta id="MetaGenerator" name="GENERATOR" content="DotNetNuke ">',
            "https://a.vn/",
        ),
        ("dnn", "", "https://a.gov.vn/tin-tuc/ArticleID/512/hoi-nghi"),
        ("dcs", "", "https://bacgiang.dcs.vn/tin-tuc/hoi-nghi-1234.html"),
    ],
)
def test_fingerprints(family: str, markup: str, url: str) -> None:
    found = family_of(Page(html("<p>x</p>", head=markup), url))
    assert found is not None and found.name == family


@pytest.mark.parametrize(
    ("family", "markup"),
    [
        ("wordpress", "<script src='https://a.vn/wp-includes/js/jquery/jquery.min.js'></script>"),
        ("sharepoint", "<script src='/_layouts/15/init.js'></script>"),
        ("sharepoint", "<div class='ms-rtestate-field'></div>"),
        ("sharepoint", "<div class='ms-WPBody'></div>"),
        ("sharepoint", "<div class='ms-webpart-zone'></div>"),
        ("sharepoint", "<div id='s4-workspace'></div>"),
        ("sharepoint", "<div id='s4-bodyContainer'></div>"),
        ("sharepoint", "<div id='ctl00_PlaceHolderMain_ctl01'></div>"),
        ("liferay7", "<link href='/o/frontend-css-web/main.css' rel='stylesheet'>"),
        ("liferay7", "<link href='https://a.vn/o/angiang-theme/css/main.css' rel='stylesheet'>"),
        ("liferay62", "<script src='/html/js/everything.jsp'></script>"),
        ("liferay62", "<link href='/html/themes/classic/css/main.css' rel='stylesheet'>"),
        ("liferay62", "<link href='/hanoi-theme_WAR_hanoitheme/css/main.css' rel='stylesheet'>"),
        ("liferay62", "<div class='portlet-boundary'></div>"),
        ("liferay62", "<div class='journal-content-article'></div>"),
        ("liferay62", "<div id='p_p_id_56_INSTANCE_abc_'></div>"),
        ("joomla", "<script src='/media/jui/js/jquery.min.js'></script>"),
        ("joomla", "<script src='/media/system/js/core.js'></script>"),
        ("joomla", "<div class='item-page'></div>"),
        ("joomla", "<div class='com-content-article'></div>"),
        ("dnn", "<script src='/DesktopModules/EasyDNNNews/js/x.js'></script>"),
        ("dnn", "<link href='/Portals/_default/default.css' rel='stylesheet'>"),
        ("dnn", "<div class='DnnModule'></div>"),
        ("dnn", "<div class='DNNModuleContent'></div>"),
        ("dnn", "<div id='dnn_ctr1089_ContentPane'></div>"),
        ("drupal", "<link href='/sites/default/files/css/x.css' rel='stylesheet'>"),
        ("drupal", "<script src='/sites/all/modules/x.js'></script>"),
        ("drupal", "<script src='/core/misc/drupal.js'></script>"),
        ("drupal", "<div class='field--name-body'></div>"),
        ("drupal", "<div class='field-name-body'></div>"),
    ],
)
def test_markup_fingerprints(family: str, markup: str) -> None:
    found = family_of(Page(html(markup), "https://example.vn/tin/1.html"))
    assert found is not None and found.name == family


def test_a_page_without_a_fingerprint_has_no_family() -> None:
    assert family_of(Page(html(f"<p>{PARAGRAPH}</p>"), "https://example.vn/tin/1.html")) is None


def test_every_family_has_a_fingerprint() -> None:
    for family in FAMILIES:
        assert family.generator or family.assets or family.classes or family.url, family.name


def test_wordpress_jetpack_widgets_and_the_boi_prefix_are_chrome() -> None:
    body = (
        f"<article class='post'><h1 class='entry-title'>{TITLE}</h1>"
        "<div class='entry-meta'><span class='byline'>bởi <span class='author vcard'>"
        "<a href='/author/admin'>Quản trị viên</a></span></span></div>"
        f"<div class='entry-content'><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>"
        "<div class='sharedaddy sd-sharing-enabled'><h3 class='sd-title'>Chia sẻ:</h3>"
        "<ul><li><a href='#'>Facebook</a></li></ul></div>"
        "<div class='sharedaddy sd-block sd-like jetpack-likes-widget-wrapper'>"
        "<h3 class='sd-title'>Thích bài này:</h3><span class='loading'>Đang tải...</span></div>"
        "<div id='jp-relatedposts' class='jp-relatedposts'><h3>Có liên quan</h3>"
        "<p>Một bài viết khác của huyện về công tác dân vận trong năm 2023 vừa qua</p></div>"
        "</div></article>"
    )
    head = '<meta name="generator" content="WordPress 6.4.2">'
    record = extract_article(html(body, head), "https://hoinongdan.example.vn/2024/03/12/so-ket/")
    assert record.text == f"{PARAGRAPH}\n\n{PARAGRAPH}"
    assert record.author == "Quản trị viên"


def test_drupal_default_dates_are_month_first() -> None:
    # Drupal's default "medium" format is "D, m/d/Y - H:i": 03/12 is the 12th of March.
    body = (
        f"<h1 class='page-title'>{TITLE}</h1><article class='node'>"
        "<div class='node__submitted'>Gửi bởi <span class='username'>admin</span> vào "
        "T3, 03/12/2024 - 08:30</div>"
        f"<div class='field field--name-body'><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></div></article>"
    )
    record = extract_article(html(body), "https://mattran.example.vn/node/512")
    assert record.published_at == "2024-03-12T08:30:00+07:00"
    assert record.published_raw == "T3, 03/12/2024 - 08:30"


def test_a_time_element_in_utc_is_converted_to_vietnam_time() -> None:
    body = (
        f"<h1 class='page-title'>{TITLE}</h1><article class='node'><div class='node__meta'>"
        "<time datetime='2024-03-12T01:30:00Z'>T3, 03/12/2024 - 08:30</time></div>"
        f"<div class='field field--name-body'><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></div></article>"
    )
    record = extract_article(html(body), "https://mattran.example.vn/node/512")
    assert record.published_at == "2024-03-12T08:30:00+07:00"


def test_drupal_body_field_named_with_summary_is_not_the_lead() -> None:
    # Drupal classes its body field "field--type-text-with-summary": not a lead to repeat.
    body = (
        f"<h1 class='page-title'>{TITLE}</h1><article class='node'>"
        "<div class='text-content field field--name-body field--type-text-with-summary'>"
        f"<p>{PARAGRAPH}</p><p>{PARAGRAPH[:120]}.</p></div></article>"
    )
    record = extract_article(html(body), "https://congdoan.example.vn/node/77")
    assert record.text == f"{PARAGRAPH}\n\n{PARAGRAPH[:120]}."
    assert record.sapo is None


def test_easydnn_summary_is_the_lead() -> None:
    body = (
        "<div class='DnnModule'><div class='edn_article edn_articleDetails'>"
        f"<h1 class='edn_articleTitle'>{TITLE}</h1>"
        "<div class='edn_metaDetails'><time>27/02/2024 14:32</time> | Lượt xem: 956</div>"
        "<div class='edn_articleSummary'><p>Từ năm 2021, Ban Dân vận Huyện ủy đã chỉ đạo xây "
        "dựng mô hình “Dân vận khéo” tại các xã, giúp nhiều hộ đồng bào nâng cao thu nhập.</p></div>"
        f"<div class='edn_articleContent'><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></div></div></div>"
    )
    record = extract_article(html(body), "https://bdv.example.gov.vn/tin-tuc/ArticleID/2315/x")
    assert record.sapo is not None and record.sapo.startswith("Từ năm 2021")
    assert record.text is not None and record.text.startswith("Từ năm 2021")
    assert record.published_at == "2024-02-27T14:32:00+07:00"


def test_sharepoint_reads_the_innermost_rich_text_field() -> None:
    # The news web part is a rich-text field around headline, date toolbar and the article's
    # own rich-text field.
    body = (
        "<div id='s4-workspace'><div class='ms-WPBody'><div class='ms-rtestate-field'>"
        f"<div class='news-detail'><h1 class='title-news'>{TITLE}</h1>"
        "<div class='info-news'><span>19/3/2024 8:00 SA</span> | <span>Lượt xem: 1.024</span> "
        "<a href='javascript:print()'>In bài viết</a> <a href='mailto:?'>Gửi email</a></div>"
        f"<div class='content-news ms-rtestate-field'><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></div>"
        "</div></div></div></div>"
    )
    url = "https://hagiang.example.gov.vn/Pages/tin-tuc.aspx?ItemID=512"
    record = extract_article(html(body), url)
    assert record.text == f"{PARAGRAPH}\n\n{PARAGRAPH}"
    assert record.published_at == "2024-03-19T08:00:00+07:00"


def test_liferay7_author_is_the_user_name_not_the_whole_metadata_row() -> None:
    body = (
        "<script src='/o/frontend-js-web/liferay/global.bundle.js'></script>"
        "<section class='portlet'><h2 class='portlet-title-text'>Tin hoạt động</h2>"
        "<div class='asset-full-content'><p class='component-title'><span class='asset-title'>"
        f"{TITLE}</span></p><div class='metadata-author'><span class='user-info'>"
        "<strong>Lê Thị Kim Yến</strong></span><span class='date-info'>Đã xuất bản 21/11/2023"
        "</span><span class='view-count-info'>1045 lượt xem</span></div>"
        f"<div class='asset-content'><div class='journal-content-article'><p>{PARAGRAPH}</p>"
        f"<p>{PARAGRAPH}</p></div></div></div></section>"
    )
    record = extract_article(
        html(body), "https://bdv.example.gov.vn/web/bdv/chi-tiet/-/asset_publisher/x/content/id/1"
    )
    assert record.author == "Lê Thị Kim Yến"
    assert record.title == TITLE
    assert record.published_at == "2023-11-21"


# --- every selector of every family, on a page where the structural reading alone fails -----

PORTAL = "Cổng thông tin điện tử Ban Dân vận"  # a <title> that is only the portal's name
LEAD = (
    "Ban Thường vụ Huyện ủy đã chỉ đạo các cấp ủy, chính quyền và Mặt trận, các đoàn thể triển "
    "khai phong trào thi đua “Dân vận khéo” gắn với xây dựng nông thôn mới ở từng thôn, bản."
)
DECOY = (
    "Ban Dân vận là cơ quan tham mưu, giúp việc của cấp ủy về công tác dân vận, có chức năng "
    "nghiên cứu, đề xuất, hướng dẫn, kiểm tra, giám sát và phối hợp với các cơ quan liên quan."
)
_SIMPLE = re.compile(r"^(?P<tag>[a-z][a-z0-9]*)?(?P<rest>(?:[.#][\w-]+|\[[^\]]+\])*)$")


def build(selector_part: str, inner: str, *, tag: str = "div") -> str:
    """Markup that `selector_part` (tags, classes, ids, attribute tests, descendants) matches."""
    html = inner
    for simple in reversed(re.findall(r"(?:[^\s>\[]+|\[[^\]]*\])+", selector_part)):
        match = _SIMPLE.match(simple)
        assert match, simple
        classes = re.findall(r"\.([\w-]+)", match["rest"])
        ident = re.findall(r"#([\w-]+)", match["rest"])
        attributes = []
        for name, op, value in re.findall(r"\[([\w:-]+)(?:([$^*]?=)'([^']*)')?\]", match["rest"]):
            if name == "datetime" and not value:
                value = "2024-03-12T01:30:00Z"
            elif name == "content" and not value:
                value = "2024-03-12T08:30:00+07:00"
            value = {"$=": f"x{value}", "^=": f"{value}x", "*=": f"x{value}x"}.get(op, value)
            if name == "id":
                ident.append(value)
            elif name == "class":
                classes.append(value)
            else:
                attributes.append(f"{name}='{value}'")
        own = match["tag"] or tag
        names = (f" class='{' '.join(classes)}'" if classes else "") + (
            f" id='{ident[0]}'" if ident else ""
        )
        html = f"<{own}{names} {' '.join(attributes)}>{html}</{own}>"
        tag = "div"
    return html


def fingerprint(family) -> str:
    if family.generator:
        name = {"wordpress": "WordPress 6.4", "joomla": "Joomla! 4"}.get(family.name, family.name)
        name = {
            "sharepoint": "Microsoft SharePoint",
            "dnn": "DotNetNuke",
            "drupal": "Drupal 10",
        }.get(family.name, name)
        return f'<meta name="generator" content="{name}">'
    return {
        "liferay7": "<script src='/o/frontend-js-web/liferay/global.bundle.js'></script>",
        "liferay62": "<script src='/html/js/barebone.jsp'></script>",
    }[family.name]


def family_page(family, body: str, title: str = PORTAL) -> str:
    return (
        f"<html><head><title>{title}</title>{fingerprint(family)}</head><body>{body}</body></html>"
    )


BODY = f"<div class='noi-dung'><p>{PARAGRAPH}</p><p>{LEAD}</p></div>"


def body_case(family, part: str) -> bool:
    # A block about the portal outweighs the article; the family's body container is the body.
    decoy = f"<div class='gioi-thieu'><p>{DECOY}</p><p>{DECOY}</p><p>{DECOY}</p></div>"
    html = family_page(
        family, f"<h1>{TITLE}</h1>{decoy}{build(part, f'<p>{PARAGRAPH}</p><p>{LEAD}</p>')}", TITLE
    )
    return extract_article(html, URL).text == f"{PARAGRAPH}\n\n{LEAD}"


def date_case(family, part: str) -> bool:
    printed = "T3, 03/12/2024 - 08:30" if family.month_first else "12/03/2024 08:30"
    html = family_page(family, f"<div><h1>{TITLE}</h1>{BODY}{build(part, printed)}</div>", TITLE)
    return extract_article(html, URL).published_at == "2024-03-12T08:30:00+07:00"


def author_case(family, part: str) -> bool:
    html = family_page(
        family, f"<div><h1>{TITLE}</h1>{BODY}{build(part, 'Nguyễn Văn An')}</div>", TITLE
    )
    return extract_article(html, URL).author == "Nguyễn Văn An"


def title_case(family, part: str) -> bool:
    # The <title> is the portal's name; a section heading comes first.
    html = family_page(
        family, f"<h1>Hoạt động của cơ quan</h1>{build(part, TITLE, tag='h1')}{BODY}"
    )
    return extract_article(html, URL).title == TITLE


def not_title_case(family, part: str) -> bool:
    decoy = build(part, "Hoạt động của cơ quan", tag="h2")
    html = family_page(family, f"{decoy}<h3 class='tieu-de'>{TITLE}</h3>{BODY}")
    return extract_article(html, URL).title == TITLE


def drop_case(family, part: str) -> bool:
    chrome = build(part, "Danh mục: Hoạt động chung của cơ quan Ban Dân vận")
    html = family_page(
        family,
        f"<h1>{TITLE}</h1><div class='noi-dung'><p>{PARAGRAPH}</p>{chrome}<p>{LEAD}</p></div>",
        TITLE,
    )
    return extract_article(html, URL).text == f"{PARAGRAPH}\n\n{LEAD}"


URL = "https://example.gov.vn/tin-tuc/hoi-nghi-so-ket-512"
CASES = {
    "body": body_case,
    "date": date_case,
    "author": author_case,
    "title": title_case,
    "not_title": not_title_case,
    "drop": drop_case,
}
RULES = [
    pytest.param(family, field, part, id=f"{family.name}-{field}-{part}")
    for family in FAMILIES
    for field in CASES
    for part in (p.strip() for p in getattr(family, field).split(",") if p.strip())
]


@pytest.mark.parametrize(("family", "field", "part"), RULES)
def test_each_family_selector(family, field: str, part: str) -> None:
    assert CASES[field](family, part)
