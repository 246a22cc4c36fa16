"""Canonical URLs: one identity per article, whatever the spelling of its URL."""

import pytest

from dvcrawl.urls import InvalidURL, canonicalize

ARTICLE = "https://thanhuytphcm.vn/tin-tuc/nha-van-nguyen-nhat-anh-ra-mat-tac-pham-moi-1491871594"


@pytest.mark.parametrize(
    "url",
    [
        ARTICLE,
        "http://thanhuytphcm.vn/tin-tuc/nha-van-nguyen-nhat-anh-ra-mat-tac-pham-moi-1491871594",
        "https://www.thanhuytphcm.vn/tin-tuc/nha-van-nguyen-nhat-anh-ra-mat-tac-pham-moi-1491871594",
        "https://hcmcpv.org.vn/tin-tuc/nha-van-nguyen-nhat-anh-ra-mat-tac-pham-moi-1491871594",
        "https://www.hcmcpv.org.vn/tin-tuc/nha-van-nguyen-nhat-anh-ra-mat-tac-pham-moi-1491871594/",
        "https://THANHUYTPHCM.VN:443/tin-tuc/nha-van-nguyen-nhat-anh-ra-mat-tac-pham-moi-1491871594#comment",
        "https://thanhuytphcm.vn/tin-tuc/nha-van-nguyen-nhat-anh-ra-mat-tac-pham-moi-1491871594?utm_source=facebook&utm_medium=social&fbclid=IwAR0",
        "https://thanhuytphcm.vn/tin-tuc/nha-van-nguyen-nhat-anh-ra-mat-tac-pham-moi-1491871594?zarsrc=30",
    ],
)
def test_spellings_of_one_article_share_an_identity(url: str) -> None:
    assert canonicalize(url) == ARTICLE


def test_content_parameters_are_kept_and_sorted() -> None:
    assert canonicalize("https://example.gov.vn/Pages/tin.aspx?ItemID=12&CategoryID=3") == (
        "https://example.gov.vn/Pages/tin.aspx?CategoryID=3&ItemID=12"
    )
    assert canonicalize("https://example.gov.vn/tin.aspx?id=1") != canonicalize(
        "https://example.gov.vn/tin.aspx?id=2"
    )


@pytest.mark.parametrize(
    "url", ["not a url", "ftp://example.org/x", "/tin-tuc/x-1", "https://", "http://[::1"]
)
def test_invalid_urls_raise(url: str) -> None:
    with pytest.raises(InvalidURL):
        canonicalize(url)


# --- each rule pinned (mutation check, docs/testing.md) ------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        # Liferay's namespaced "where to go back" parameters go; its page numbers stay
        (
            "https://thanhxuan.hanoi.gov.vn/tin?_101_INSTANCE_ab_redirect=%2Ftin&_101_INSTANCE_ab_cur=2",
            "https://thanhxuan.hanoi.gov.vn/tin?_101_INSTANCE_ab_cur=2",
        ),
        # a fully qualified host (trailing dot) is the same host
        (
            "https://thanhuytphcm.vn./tin-tuc/a-1491871594",
            "https://thanhuytphcm.vn/tin-tuc/a-1491871594",
        ),
        # the default http port, and a root with or without its slash
        ("http://example.vn:80/a", "https://example.vn/a"),
        ("https://example.vn", "https://example.vn/"),
        ("https://example.vn/", "https://example.vn/"),
        ("https://example.vn?id=1", "https://example.vn/?id=1"),
        # a trailing slash goes from any path, also before a query
        ("https://example.vn/a/", "https://example.vn/a"),
        ("https://example.vn/a/?id=1", "https://example.vn/a?id=1"),
        ("https://example.vn/DOCX/", "https://example.vn/DOCX"),
        # a parameter without a value is content like any other
        ("https://example.vn/tin.aspx?id=1&print=", "https://example.vn/tin.aspx?id=1&print="),
        ("https://example.vn/tin.aspx?", "https://example.vn/tin.aspx"),
    ],
)
def test_rules(url: str, canonical: str) -> None:
    assert canonicalize(url) == canonical


ARTICLE_A = "https://thanhuytphcm.vn/tin-tuc/a-1491871594"


def test_invalid_url_messages_name_the_url() -> None:
    with pytest.raises(InvalidURL, match=r"not a valid URL: 'http://\[::1'"):
        canonicalize("http://[::1")
    with pytest.raises(InvalidURL, match="not an absolute http\\(s\\) URL: 'ftp://x.vn/a'"):
        canonicalize("ftp://x.vn/a")


def test_a_resolver_that_knows_no_portal() -> None:
    from dvcrawl.urls import plain_host

    assert plain_host("hcmcpv.org.vn") == ("hcmcpv.org.vn", "https")
    assert (
        canonicalize("http://www.hcmcpv.org.vn/tin-tuc/a-1491871594", resolve_host=plain_host)
        == "https://hcmcpv.org.vn/tin-tuc/a-1491871594"
    )


def test_path_and_query_is_what_site_patterns_see() -> None:
    from dvcrawl.urls import path_and_query

    assert path_and_query(f"{ARTICLE_A}?utm_source=fb") == "/tin-tuc/a-1491871594"
    assert path_and_query("https://example.vn/tin.aspx?ItemID=3&fbclid=x") == "/tin.aspx?ItemID=3"
    # Not an absolute URL: read as it is, never an error.
    assert path_and_query("/tin-tuc/b?id=2") == "/tin-tuc/b?id=2"
