"""One decoding path for crawl, import and extract; bounded parsing of hostile pages."""

from __future__ import annotations

import unicodedata

import pytest

from dvcrawl.extract.page import MAX_DEPTH, NotHTML, Page, decode_page
from dvcrawl.extraction import extract_article
from tests.reliability.test_pages import to_windows_1258

VI = "<html><head><title>Dân vận</title></head><body><p>Hội nghị công tác dân vận khéo.</p></body></html>"


def kinds(decoded) -> list[str]:
    return [problem.kind for problem in decoded.problems]


def test_utf8_page_as_declared() -> None:
    decoded = decode_page(VI.encode(), "text/html; charset=utf-8")
    assert decoded.text == VI and decoded.encoding == "utf-8" and decoded.problems == ()


def test_valid_utf8_wins_over_a_wrong_declaration_and_says_so() -> None:
    decoded = decode_page(VI.encode(), "text/html; charset=windows-1258")
    assert decoded.text == VI
    assert decoded.problems[0].detail == "declared cp1258, but the bytes are UTF-8"


def test_windows_1258_bytes_declared_utf8_are_read_as_windows_1258() -> None:
    body = to_windows_1258("<html><body><p>Ban Dân vận</p></body></html>")
    decoded = decode_page(body, "text/html; charset=utf-8")
    assert "Ban Dân vận" in unicodedata.normalize("NFC", decoded.text)
    assert "\ufffd" not in decoded.text
    assert kinds(decoded) == ["charset_mismatch"]
    assert (
        decoded.problems[0].detail == "declared utf-8, but the bytes are not UTF-8: read as cp1258"
    )


def test_windows_1258_declared_in_the_page_needs_no_warning() -> None:
    body = to_windows_1258(
        '<html><head><meta charset="windows-1258"></head><body>Dân vận</body></html>'
    )
    decoded = decode_page(body)
    assert "Dân vận" in unicodedata.normalize("NFC", decoded.text) and decoded.problems == ()


def test_no_declaration_and_not_utf8_is_a_guess() -> None:
    decoded = decode_page(to_windows_1258("<html><body>Dân vận</body></html>"))
    assert kinds(decoded) == ["charset_guessed"]


def test_bytes_invalid_in_every_candidate_are_replaced_and_counted() -> None:
    body = b"<html><body>\x81\x8d abc</body></html>"  # undefined in windows-1258 and not UTF-8
    decoded = decode_page(body, "text/html; charset=windows-1258")
    assert decoded.text.count("\ufffd") == 2
    assert decoded.problems[-1].detail == "2 bytes are not cp1258: replaced with U+FFFD"


def test_a_few_nul_bytes_are_removed_many_are_binary() -> None:
    page = VI.replace("công tác", "công\x00 tác\x01").encode()
    decoded = decode_page(page)
    assert decoded.text == VI.replace("công tác", "công tác")
    assert decoded.problems[0].detail == "2 NUL or control characters removed"
    with pytest.raises(NotHTML, match="binary data"):
        decode_page(b"<html>" + b"\x00\x01\x02 binary" * 50 + b"</html>")


def test_utf16_with_a_bom() -> None:
    decoded = decode_page(VI.encode("utf-16"))
    assert decoded.text == VI and decoded.problems == ()


def test_deep_nesting_is_flattened_with_its_text() -> None:
    html = (
        "<html><body>"
        + "<div>" * 400
        + "<p>sâu</p><p>rất sâu</p>"
        + "</div>" * 400
        + "<p>sau</p></body></html>"
    )
    page = Page(html, "https://example.vn/a")
    assert page.limits == [
        f"nesting of 403 levels: 146 elements deeper than {MAX_DEPTH} flattened (text kept)"
    ]
    assert [p.text for p in page.root.iter("p")] == ["sâu", "rất sâu", "sau"]


def test_nesting_past_libxml2s_limit_keeps_what_comes_after() -> None:
    html = "<html><body>" + "<font>" * 5000 + "<p>đầu</p></body></html>"
    page = Page(html + "", "https://example.vn/a")
    assert [p.text for p in page.root.iter("p")] == ["đầu"]
    assert any("wrapper tags removed" in limit for limit in page.limits)
    # Without the repair, libxml2 stops at 2048 levels and the paragraph is gone.
    import lxml.html

    raw = lxml.html.document_fromstring(html, parser=lxml.html.HTMLParser(huge_tree=True))
    assert list(raw.iter("p")) == []


def test_a_huge_data_uri_is_dropped_and_the_rest_parsed() -> None:
    html = (
        '<html><body><img src="data:image/png;base64,'
        + "A" * 200_000
        + '"><p>sau ảnh</p></body></html>'
    )
    page = Page(html, "https://example.vn/a")
    assert [p.text for p in page.root.iter("p")] == ["sau ảnh"]
    assert page.root.find(".//img").get("src") == "data:,"
    assert page.limits == ["1 inline data: URI(s) of 0.2 MB dropped before parsing"]


def test_a_small_data_uri_is_kept() -> None:
    html = (
        '<html><body><img src="data:image/gif;base64,' + "R0lGOD" * 200 + '"><p>x</p></body></html>'
    )
    page = Page(html, "https://example.vn/a")
    assert page.root.find(".//img").get("src").startswith("data:image/gif;base64,R0lGOD")
    assert page.limits == []


def test_closed_block_nesting_past_libxml2s_limit() -> None:
    html = (
        "<html><body>"
        + "<div>" * 5000
        + "<p>giữa</p>"
        + "</div>" * 5000
        + "<p>cuối</p></body></html>"
    )
    page = Page(html, "https://example.vn/a")
    assert [p.text for p in page.root.iter("p")] == ["giữa", "cuối"]


def test_a_huge_text_node_does_not_stop_the_parser() -> None:
    html = "<html><body><script>" + "x" * 11_000_000 + "</script><p>sau</p></body></html>"
    assert [p.text for p in Page(html, "https://example.vn/a").root.iter("p")] == ["sau"]


def test_extraction_survives_nesting_deeper_than_pythons_stack() -> None:
    body = "<p>(Thanhuytphcm.vn) - Hội nghị công tác dân vận năm 2024 của Quận ủy Quận 3.</p>" * 3
    html = (
        "<html><body><h1>Tiêu đề</h1>" + "<div>" * 1500 + body + "</div>" * 1500 + "</body></html>"
    )
    article = extract_article(html, "https://example.vn/tin-tuc/a-123.html")
    assert "Hội nghị công tác dân vận" in (article.text or "")
