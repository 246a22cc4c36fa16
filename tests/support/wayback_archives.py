"""Web-archive contents for the archive tests, built from the fixture pages.

`thanhxuan_captures` is the abolished Thanh Xuân district portal as the Wayback Machine might
hold it: several captures per page (identical digests, a revisit record, a corrected later
version), pages captured under their listing-link and ``http://www.`` spellings, redirect
captures (to a page with its own capture, to a page the index does not list, off the portal),
a 404 capture, an image, a page that is no article at an article URL, two listing pages (the
latest capture of the first links an article at an undeclared URL form) and a copy of a
hanoi.gov.vn article. `synthetic_captures` is a larger archive of the synthetic site.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from tests.support.fixture_sites import FIXTURES
from tests.support.synthetic_site import SyntheticSite
from tests.support.wayback_server import ArchivedCapture

EVAL = Path(__file__).resolve().parent.parent / "eval" / "pages"
HOST = "https://thanhxuan.hanoi.gov.vn"
PUBLISHER = f"{HOST}/tin-tuc-su-kien/-/asset_publisher/4IVkx5Jltnbg/content/"
#: What Liferay appends to article links on a listing (the archive's crawler followed them).
LINK_TAIL = "?redirect=https%3A%2F%2Fthanhxuan.hanoi.gov.vn%2Ftin-tuc-su-kien&inheritRedirect=true"
LISTING = f"{HOST}/tin-tuc-su-kien"
LISTING_2 = (
    f"{HOST}/tin-tuc-su-kien?p_p_id=101_INSTANCE_4IVkx5Jltnbg&p_p_lifecycle=0&p_p_state=normal"
    "&p_p_mode=view&_101_INSTANCE_4IVkx5Jltnbg_cur=2"
)


@dataclass(frozen=True)
class Page:
    """A page of the archive and the record expected from it (None: no article)."""

    url: str
    expected: dict | None = None


def _fixture(name: str) -> bytes:
    return (FIXTURES / "hanoi_thanhxuan" / name).read_bytes()


def _record(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text(encoding="utf-8"))


# The articles of the fixture site and of the gold set, with their hand-written records.
A = _record(FIXTURES / "hanoi_thanhxuan", "article_dan_van_kheo_2024.json")
B = _record(FIXTURES / "hanoi_thanhxuan", "article_khuong_trung_tuyen_pho_van_minh.json")
C = _record(FIXTURES / "hanoi_thanhxuan", "article_tong_ket_nghi_quyet_25.json")
E = _record(EVAL / "hanoi_thanhxuan", "article_thanh_xuan_trung_luat_dan_chu_co_so.json")
F = _record(EVAL / "hanoi_thanhxuan", "article_bieu_duong_to_truong_to_dan_van_2024.json")
G = _record(EVAL / "hanoi_thanhxuan", "article_giai_phong_mat_bang_vanh_dai_2_5.json")
HANOI = _record(FIXTURES / "hanoi_gov", "article_ha_noi_dan_van_kheo_126_xa_phuong.json")

#: An article at a URL form the site does not declare: only a listing's teaser leads to it.
E_URL = f"{HOST}/web/guest/tin-chi-tiet?articleId=4870215"
#: The hanoi.gov.vn article republished by the district portal.
D_URL = PUBLISHER + "ha-noi-trien-khai-phong-trao-dan-van-kheo-o-126-xa-phuong"
#: Old addresses that the portal redirected.
C_OLD = PUBLISHER + "tong-ket-10-nam-nghi-quyet-25"
D_OLD = PUBLISHER + "dan-van-kheo-126-xa-phuong-cu"
OFF_PORTAL = PUBLISHER + "chuyen-sang-cong-thanh-pho"
DEAD = (
    PUBLISHER
    + "phuong-nhan-chinh-oi-thoai-giua-nguoi-ung-au-cap-uy-chinh-quyen-voi-nhan-dan-nam-2023"
)
#: An article URL whose capture shows the listing (Liferay's answer for a removed article).
REMOVED = PUBLISHER + "noi-dung-da-go"
IMAGE = f"{HOST}/documents/3702117/9285430/toan+canh+hoi+nghi+dan+van.jpg"

#: The early version of B: captured the day it was published, before its headline was edited.
B_EARLY_TITLE = "Khương Trung ra mắt mô hình “Dân vận khéo” trên phố Vương Thừa Vũ"


def liferay_article(title: str, date_line: str, paragraphs: list[str]) -> bytes:
    """A Thanh Xuân article page (the portal's whole chrome) with another article in it."""
    page = _fixture("article_khuong_trung_tuyen_pho_van_minh.html").decode("utf-8")
    body = "".join(f'<p style="text-align: justify;">{html.escape(p)}</p>' for p in paragraphs)
    # The headline, <title>, og:title and the share links all print the template's title.
    page = page.replace(B["title"], html.escape(title, quote=False))
    page = re.sub(
        r'<span class="ngay-dang">.*?</span>',
        f'<span class="ngay-dang">Ngày đăng {date_line} </span>',
        page,
        count=1,
    )
    page = re.sub(
        r'<div class="journal-content-article">.*?</div>\s*<div class="asset-ratings">',
        f'<div class="journal-content-article">{body}</div>\n<div class="asset-ratings">',
        page,
        count=1,
        flags=re.S,
    )
    return page.encode("utf-8")


def listing_with_teaser(url: str, title: str, date: str, summary: str) -> bytes:
    """The first listing page with one more teaser at the top (a later capture of it)."""
    page = _fixture("listing_tin_tuc_su_kien_page1.html").decode("utf-8")
    href = html.escape(url)
    teaser = (
        '<div class="asset-abstract ">\n'
        f'<div class="asset-small-image"><a href="{href}"><img alt="" class="asset-small-image" '
        'src="/documents/3702117/4870215/ttxt.jpg?imageThumbnail=2" width="150" /></a></div>\n'
        f'<h3 class="asset-title"><a href="{href}">{html.escape(title)}</a></h3>\n'
        f'<div class="asset-metadata"><span class="metadata-entry metadata-publish-date">{date}'
        "</span></div>\n"
        f'<div class="asset-content"><div class="asset-summary">{html.escape(summary)}</div></div>\n'
        "</div>\n"
    )
    marker = '<div class="asset-publisher-list">\n'
    assert marker in page
    return page.replace(marker, marker + teaser, 1).encode("utf-8")


def thanhxuan_captures() -> list[ArchivedCapture]:
    """The Thanh Xuân portal in the archive (see the module docstring)."""
    article_a = _fixture("article_dan_van_kheo_2024.html")
    article_b = _fixture("article_khuong_trung_tuyen_pho_van_minh.html")
    early_b = article_b.replace(B["title"].encode(), B_EARLY_TITLE.encode())
    assert early_b != article_b
    copy = liferay_article(HANOI["title"], "30/09/2025 | 08:00", HANOI["text"].split("\n\n"))
    listing = _fixture("listing_tin_tuc_su_kien_page1.html")
    return [
        ArchivedCapture(LISTING, "20231020080000", body=listing),
        ArchivedCapture(LISTING, "20240301080000", body=listing),  # same digest: collapsed
        ArchivedCapture(
            LISTING,
            "20240601080000",
            body=listing_with_teaser(E_URL, E["title"], "25/07/2023", E["text"][:160]),
        ),
        ArchivedCapture(
            LISTING_2, "20240301081000", body=_fixture("listing_tin_tuc_su_kien_page2.html")
        ),
        ArchivedCapture(A["url"] + LINK_TAIL, "20240229103000", body=article_a),
        ArchivedCapture(A["url"] + LINK_TAIL, "20240310103000", body=article_a),
        ArchivedCapture(A["url"], "20240315103000", body=article_a),
        ArchivedCapture(A["url"], "20240401103000", revisit=True),
        ArchivedCapture(B["url"], "20231017030000", body=early_b),
        ArchivedCapture(B["url"] + LINK_TAIL, "20231120020000", body=article_b),
        ArchivedCapture(
            C["url"].replace("https://", "http://"),
            "20230701000000",
            body=_fixture("article_tong_ket_nghi_quyet_25.html"),
        ),
        ArchivedCapture(C_OLD, "20230615000000", status=301, location=C["url"]),
        ArchivedCapture(D_OLD, "20251001000000", status=302, location=D_URL),
        ArchivedCapture(D_URL, "20251002000000", body=copy, indexed=False),
        ArchivedCapture(DEAD, "20240101000000", status=404, body=b"<html><body>404</body></html>"),
        ArchivedCapture(REMOVED, "20240102000000", body=listing),
        ArchivedCapture(
            OFF_PORTAL,
            "20240103000000",
            status=301,
            location="https://hanoi.gov.vn/tin-tuc-su-kien",
        ),
        ArchivedCapture(
            F["url"].replace("https://", "http://www."),
            "20240520000000",
            body=(
                EVAL / "hanoi_thanhxuan" / "article_bieu_duong_to_truong_to_dan_van_2024.html"
            ).read_bytes(),
        ),
        ArchivedCapture(
            E_URL,
            "20240602000000",
            body=(
                EVAL / "hanoi_thanhxuan" / "article_thanh_xuan_trung_luat_dan_chu_co_so.html"
            ).read_bytes(),
        ),
        ArchivedCapture(
            IMAGE, "20240301000000", body=b"\xff\xd8\xff\xe0JFIF", content_type="image/jpeg"
        ),
    ]


def synthetic_captures(site: SyntheticSite, timestamps: tuple[str, ...]) -> list[ArchivedCapture]:
    """Every page of a synthetic site, captured at each of `timestamps` (identical digests)."""
    captures = []
    for url, route in site.routes().items():
        if url.endswith("/robots.txt") or route.status != 200:
            continue
        content_type = dict((k.lower(), v) for k, v in route.headers).get("content-type", "")
        captures += [
            ArchivedCapture(url, stamp, body=route.body, content_type=content_type)
            for stamp in timestamps
        ]
    return captures


#: Pages only `mirror_captures` holds.
OUT_OF_ARCHIVE = PUBLISHER + "chuyen-ra-ngoai"
PDF = PUBLISHER + "ke-hoach-cong-tac-dan-van-nam-2024"
GONE = PUBLISHER + "bai-viet-da-xoa"
OTHER_PORTAL = "https://hanoi.gov.vn/tin-tuc-su-kien-noi-bat"
BAD_PORT = "http://thanhxuan.hanoi.gov.vn:99999/tin-tuc-su-kien/-/asset_publisher/x/content/y"


def mirror_captures() -> list[ArchivedCapture]:
    """What an archive mirror may answer beyond the Wayback Machine's own behaviour.

    Its index (run loose: no URL scope, filters or collapsing) lists another portal's page and
    a URL with an impossible port; a page it lists as a redirect is served as the page; a
    page it lists as HTML is a PDF; a page it lists as 200 answers 404; and a redirect is
    served with the portal's own Location instead of one inside the archive.
    """
    page_g = (
        EVAL / "hanoi_thanhxuan" / "article_giai_phong_mat_bang_vanh_dai_2_5.html"
    ).read_bytes()
    html_type = ("200", "text/html")
    return [
        *thanhxuan_captures(),
        ArchivedCapture(
            OTHER_PORTAL, "20240105000000", body=_fixture("listing_tin_tuc_su_kien_page1.html")
        ),
        ArchivedCapture(BAD_PORT, "20240106000000", body=b"<html></html>"),
        ArchivedCapture(G["url"], "20230812000000", body=page_g, listed_as=("301", "text/html")),
        ArchivedCapture(
            PDF,
            "20240107000000",
            body=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\nstream\nx\x9c\x03\x00\x01\x02\nendstream",
            content_type="application/pdf",
            listed_as=html_type,
        ),
        ArchivedCapture(
            GONE,
            "20240108000000",
            status=404,
            body=b"<html><body>404</body></html>",
            listed_as=html_type,
        ),
        ArchivedCapture(
            OUT_OF_ARCHIVE, "20240109000000", status=301, location=A["url"], raw_location=True
        ),
    ]
