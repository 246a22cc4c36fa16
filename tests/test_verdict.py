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
