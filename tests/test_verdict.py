"""The article verdict: made from the page as a whole, never vetoed by the URL's shape."""

from __future__ import annotations

from dvcrawl.extraction import extract_article

PARAGRAPH = (
    "Ban Dân vận Huyện ủy tổ chức hội nghị sơ kết công tác dân vận sáu tháng đầu năm, đánh giá "
    "kết quả thực hiện phong trào thi đua “Dân vận khéo”, quy chế dân chủ ở cơ sở và việc phối "
    "hợp giữa chính quyền với Mặt trận Tổ quốc, các đoàn thể trong vận động Nhân dân tham gia "
    "xây dựng nông thôn mới, giữ gìn an ninh trật tự ở khu dân cư."
)


def page(title: str, body: str, *, head: str = "") -> str:
    return (
        f"<html><head><title>{title}</title>{head}</head><body>"
        f"<div class='main'><h1>{title}</h1>{body}</div></body></html>"
    )


def teasers(count: int, *, words: int = 30) -> str:
    text = " ".join(PARAGRAPH.split()[:words])
    return "".join(
        f"<div class='item'><h3><a href='/tin-tuc/bai-{n}.html'>Tin hoạt động dân vận số {n} của huyện"
        f"</a></h3><p>{text}</p></div>"
        for n in range(count)
    )


def test_an_article_under_any_url_is_an_article() -> None:
    html = page(
        "Hội nghị sơ kết công tác dân vận 6 tháng",
        f"<p>Ngày 05/07/2024</p><p>{PARAGRAPH}</p>" * 1 + f"<p>{PARAGRAPH}</p>",
    )
    for url in (
        "https://mttqhanoi.org.vn/tin-tuc/hoi-nghi-so-ket.htm",
        "https://dangcongsan.vn/noidung/tintuc/Lists/Tinhoatdong/View_Detail.aspx?ItemID=1234",
        "https://example.gov.vn/?p=77",
    ):
        assert extract_article(html, url).is_article, url


def test_metadata_that_declares_an_article_overrules_the_listing_heuristics() -> None:
    # A deals post: a short lead, then a list of items that each carry a headline link.
    body = f"<p>{PARAGRAPH}</p>" + teasers(5, words=40)
    plain = page("Mười ưu đãi cuối tuần cho bạn đọc", body)
    declared = page(
        "Mười ưu đãi cuối tuần cho bạn đọc",
        body,
        head='<meta property="og:type" content="article">',
    )
    url = "https://example.vn/uu-dai-cuoi-tuan"
    assert extract_article(plain, url).is_article is False
    assert extract_article(declared, url).is_article is True


def test_a_search_page_is_never_an_article() -> None:
    body = "<p>Ngày 05/07/2024</p>" + f"<p>{PARAGRAPH}</p>" * 3
    html = page("Kết quả cho từ khóa công tác dân vận ở cơ sở", body)
    assert extract_article(html, "https://example.vn/bai-viet/ket-qua").is_article is True
    assert (
        extract_article(html, "https://example.vn/bai-viet/ket-qua?keyword=dan+van").is_article
        is False
    )
    assert extract_article(html, "https://example.vn/tim-kiem/dan-van").is_article is False


def test_an_undated_page_needs_a_real_body_and_a_real_headline() -> None:
    two_teasers = (
        f"<p>{' '.join(PARAGRAPH.split()[:30])}</p><p>{' '.join(PARAGRAPH.split()[:30])}.</p>"
    )
    url = "https://example.vn/su-kien"
    assert extract_article(page("Sự kiện nổi bật trong tuần", two_teasers), url).is_article is False
    long_body = f"<p>{PARAGRAPH}</p>" * 2
    assert extract_article(page("Sự kiện", long_body), url).is_article is False
    assert extract_article(page("Hội nghị sơ kết công tác dân vận", long_body), url).is_article


def test_a_page_that_declares_a_collection_is_not_an_article() -> None:
    # An author page: a long biography, dated, nothing that looks like a list.
    bio = f"<p>Ngày 05/07/2024</p><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>"
    url = "https://example.vn/tac-gia/nguyen-van-a"
    head = '<script type="application/ld+json">{"@type": "ProfilePage", "name": "A"}</script>'
    assert extract_article(page("Nguyễn Văn A, phóng viên Ban Dân vận", bio), url).is_article
    assert not extract_article(
        page("Nguyễn Văn A, phóng viên Ban Dân vận", bio, head=head), url
    ).is_article
    profile = '<meta property="og:type" content="profile">'
    assert not extract_article(
        page("Nguyễn Văn A, phóng viên Ban Dân vận", bio, head=profile), url
    ).is_article


def test_an_archive_title_names_an_archive_page() -> None:
    body = f"<p>Ngày 05/07/2024</p><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>"
    url = "https://example.vn/tag/dan-van-kheo/"
    assert extract_article(page("Phong trào Dân vận khéo ở cơ sở", body), url).is_article
    for title in ("Thẻ: Dân vận khéo ở cơ sở", "Tag: dân vận khéo", "Tác giả: Ban Biên tập"):
        assert not extract_article(page(title, body), url).is_article, title


def test_a_body_inside_a_teaser_is_a_listing_even_with_a_long_lead() -> None:
    # A category page: the newest story with its whole lead, then the other items.
    featured = (
        "<div class='top'><img src='/a.jpg'><h2><a href='/tin/bai-moi-nhat-2112.html'>"
        "Sơn Hà lan tỏa phong trào Dân vận khéo ở vùng đồng bào</a></h2>"
        f"<div class='date'>14/11/2024</div><div class='lead'><p>{PARAGRAPH} {PARAGRAPH}</p></div></div>"
    )
    html = page("Sơn Hà lan tỏa phong trào Dân vận khéo ở vùng đồng bào", featured)
    assert not extract_article(html, "https://example.vn/tin/dan-van-kheo").is_article
    # The same block on its own page, where the headline links to the page itself: an article.
    assert extract_article(html, "https://example.vn/tin/bai-moi-nhat-2112.html").is_article


def test_a_link_at_the_end_of_an_article_does_not_make_it_a_teaser() -> None:
    # "Gửi cho bạn bè" under the text: four words of link, but the article does not open with it.
    body = (
        f"<div class='detail'><p>Ngày 05/07/2024</p><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>"
        "<img src='/anh.jpg'><div class='tool'><a href='/Home/Gui-ban-be/16482'>Gửi cho bạn bè "
        "qua thư điện tử</a></div></div>"
    )
    html = page("Lạng Sơn nhân rộng mô hình Dân vận khéo vùng biên", body)
    assert extract_article(html, "http://danvan.vn/Home/Tin/16482/Lang-Son").is_article


def test_an_error_notice_is_an_error_page_and_a_report_about_one_is_not() -> None:
    from dvcrawl.extract.base import is_error_title

    url = "https://example.gov.vn/tin-tuc/bai-viet-1234.html"
    notice = "<p>Xin lỗi, trang bạn tìm không tồn tại hoặc đã bị xóa. Quay lại trang chủ.</p>"
    full = f"<p>Ngày 05/07/2024</p><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>"
    for title in (
        "Không tìm thấy trang",
        "Lỗi 404 - Trang không tồn tại",
        "404",
        "Error 404 | Cổng thông tin điện tử",
        "Không tìm thấy trang – Mặt trận Tổ quốc Việt Nam tỉnh Hải Dương",
        "Hệ thống đang bảo trì",
    ):
        assert is_error_title(title), title
        assert extract_article(page(title, notice), url).is_article is False, title
    # A report's number is not the status code, and a headline that mentions a notice is longer
    # than one: these were dropped as error pages without a word.
    for title in (
        "Quyết định số 404/QĐ-UBND về công tác dân vận năm 2024",
        "Tổng kết phong trào Dân vận khéo (số 404)",
        "Bản tin dân vận số 404",
        "Công văn 404/BDV-TU",
        "Thông báo 1.404 hộ dân",
        "Hỗ trợ 404,5 tỷ đồng",
        "Người dân không tìm thấy nơi nộp hồ sơ trực tuyến ở phường",
    ):
        assert not is_error_title(title), title
        assert extract_article(page(title, full), url).is_article, title
    # A notice-like headline over a full report: the body decides.
    assert is_error_title("Không tìm thấy")
    assert extract_article(page("Không tìm thấy", full), url).is_article


def linked_headline(href: str, paragraphs: int, *, head: str = "") -> str:
    """An article page whose headline links to `href`, with a date and `paragraphs` paragraphs."""
    title = "Huyện sơ kết công tác dân vận sáu tháng đầu năm 2024"
    return (
        f"<html><head><title>{title}</title>{head}</head><body><div class='main'>"
        f"<h1><a href='{href}'>{title}</a></h1><p>Ngày 05/07/2024</p>"
        + f"<p>{PARAGRAPH}</p>" * paragraphs
        + "</div></body></html>"
    )


def test_a_headline_linking_to_the_article_by_another_address_is_no_teaser() -> None:
    # Many CMSs link an article's headline to the article; a crawl often reaches it by another
    # address. A featured story's lead is a paragraph or two, so a body of three paragraphs is
    # an article whatever its headline links to.
    here = "https://example.vn/tin-tuc/so-ket-dan-van"
    assert extract_article(linked_headline("/bai-viet/so-ket", 3), here).is_article
    assert not extract_article(linked_headline("/bai-viet/so-ket", 2), here).is_article
    # Shorter bodies: the page's declared address, the same page without the listing's
    # parameters, or the same article number in another URL form.
    canonical = "<link rel='canonical' href='/bai-viet/so-ket'>"
    assert extract_article(linked_headline("/bai-viet/so-ket", 2, head=canonical), here).is_article
    og_url = "<meta property='og:url' content='https://example.vn/bai-viet/so-ket'>"
    assert extract_article(linked_headline("/bai-viet/so-ket", 2, head=og_url), here).is_article
    aspx = "https://example.vn/NewsDetail.aspx?NewsID=12&CatID=5"
    assert extract_article(linked_headline("/NewsDetail.aspx?NewsID=12", 2), aspx).is_article
    numbered = "https://example.vn/NewsDetail.aspx?NewsID=98214"
    assert extract_article(linked_headline("/tin/so-ket-98214.html", 2), numbered).is_article


def test_a_listing_whose_featured_story_adds_to_its_address_is_still_a_listing() -> None:
    # "?CatID=5" lists the category; "?CatID=5&NewsID=12" is one of its stories: a page whose
    # address the link extends is not the linked page.
    listing = "https://example.vn/NewsList.aspx?CatID=5"
    assert not extract_article(
        linked_headline("/NewsList.aspx?CatID=5&NewsID=12", 2), listing
    ).is_article
    assert not extract_article(linked_headline("/tin/bai-khac-98215.html", 2), listing).is_article
    # A year is no article number: both addresses of a dated listing carry it.
    dated = "https://example.vn/2024/07/tin-tuc"
    assert not extract_article(linked_headline("/2024/07/bai-khac", 2), dated).is_article
