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
