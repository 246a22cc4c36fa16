"""Navigation that survives unknown URL forms: teaser links, learned URL shapes, the page decides.

The end-to-end tests serve the Hanoi Fatherland Front fixture pages at URL forms the site does
not declare (``/tin-tuc/<slug>.htm``, without the numeric id the declaration expects), through
the real engine and the loopback server.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from dvcrawl.extract.page import Page
from dvcrawl.navigation import DECLARED, STRUCTURE, article_links, teaser_links
from dvcrawl.sites import get_site
from dvcrawl.urls import canonicalize, path_and_query
from dvcrawl.urlshapes import learn_shapes, matches_any, shape_of
from tests.conftest import FAST, Runner, report
from tests.support.fixture_sites import FIXTURES
from tests.support.server import FixtureServer, Route

# --- teaser links: every fixture listing yields its articles without the declared pattern ----


def _listings() -> list[tuple[str, str, str]]:
    found = []
    for folder in sorted(FIXTURES.iterdir()):
        spec_path = folder / "site.json"
        if not spec_path.exists():
            continue
        if get_site(folder.name).listing_links is not None:
            continue  # Next.js: the links are in the page's JSON, not in <a> elements
        for entry in json.loads(spec_path.read_text(encoding="utf-8"))["responses"]:
            if entry.get("file", "").startswith("listing"):
                found.append((folder.name, entry["file"], entry["url"]))
    return found


@pytest.mark.parametrize(("site_id", "name", "url"), _listings())
def test_a_listing_yields_its_articles_by_structure_alone(
    site_id: str, name: str, url: str
) -> None:
    site = get_site(site_id)
    page = Page((FIXTURES / site_id / name).read_text(encoding="utf-8"), url)
    same_portal = lambda u: site.claims_host(re.sub(r"^www\.", "", u.split("/")[2].lower()))  # noqa: E731

    def canonical(links) -> set[str]:
        return {canonicalize(link.url) for link in links}

    by_pattern = article_links(
        page, same_portal=same_portal, declared=lambda u: site.is_article_url(path_and_query(u))
    )
    blind = article_links(page, same_portal=same_portal, declared=lambda u: False)
    assert canonical(by_pattern) <= canonical(blind), "a teaser was missed without the pattern"
    assert all(link.evidence == STRUCTURE for link in blind)


def test_sidebars_and_menus_are_never_followed() -> None:
    page = Page(
        (FIXTURES / "mttq_hanoi" / "listing_tin_tuc_hoat_dong_page1.html").read_text(
            encoding="utf-8"
        ),
        "https://mttqhanoi.org.vn/tin-tuc-hoat-dong",
    )
    links = {
        link.url
        for link in article_links(page, same_portal=lambda u: True, declared=lambda u: True)
    }
    # "Tin đọc nhiều" in the sidebar: article URLs of the declared shape, but not this listing's.
    assert not any("hoi-nghi-uy-ban-mttq-viet-nam-thanh-pho-ha-noi-lan-thu-11" in u for u in links)
    assert not any("ket-qua-binh-chon" in u for u in links)
    assert len(links) == 2


def test_a_teaser_needs_two_signs_or_a_repeated_shape() -> None:
    def page(items: str) -> Page:
        return Page(f"<html><body><div class='list'>{items}</div></body></html>", "https://x.vn/")

    headline = "<h3><a href='/bai/{n}'>Hội nghị sơ kết công tác dân vận số {n}</a></h3>"
    lead = "<p>Sáng nay, Ban Dân vận Huyện ủy tổ chức hội nghị sơ kết công tác dân vận.</p>"
    date = "<span>05/07/2024</span>"
    one = lambda n, *parts: f"<div class='item'>{headline.format(n=n)}{''.join(parts)}</div>"  # noqa: E731
    # A headline with a lead and a date: a teaser, even alone.
    assert teaser_links(page(one(1, lead, date))) == ["https://x.vn/bai/1"]
    # A headline with only a date: a teaser when three of its shape stand together...
    assert len(teaser_links(page("".join(one(n, date) for n in range(3))))) == 3
    # ...but not alone (a "most read" line, a link in a box).
    assert teaser_links(page(one(1, date))) == []
    # Short menu links are never headlines.
    assert teaser_links(page("<ul><li><a href='/a'>Tin tức</a> 05/07/2024</li></ul>" * 3)) == []


# --- learned URL shapes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "other", "pattern"),
    [
        (
            "/tin-tuc/to-dan-van-phuong-ben-thanh.htm",
            "/tin-tuc/hoi-nghi-so-ket-cong-tac-dan-van-2024.htm",
            r"^/tin-tuc/[a-z0-9]+(?:-[a-z0-9]+)+\.htm$",
        ),
        (
            "/noidung/tintuc/Lists/Tinhoatdong/View_Detail.aspx?ItemID=1234",
            "/noidung/tintuc/Lists/Tinhoatdong/View_Detail.aspx?ItemID=77",
            r"^/noidung/tintuc/Lists/Tinhoatdong/View_Detail\.aspx\?ItemID=\d+$",
        ),
        (
            "/vi-vn/bai-viet/ky-son-dan-van-kheo-194633",
            "/vi-vn/bai-viet/nghi-loc-lan-toa-phong-trao-194217",
            r"^/vi-vn/bai-viet/[a-z0-9]+(?:-[a-z0-9]+)*-\d+$",
        ),
    ],
)
def test_shape_of_generalizes_ids_and_slugs_but_keeps_sections(
    path: str, other: str, pattern: str
) -> None:
    assert shape_of(path) == pattern
    assert matches_any([pattern], other)
    assert not matches_any([pattern], "/gioi-thieu/lich-su.htm")


def test_learned_shapes_merge_sections_and_count_articles() -> None:
    shapes = learn_shapes(
        [
            "/tin-tuc/to-dan-van-phuong-ben-thanh.htm",
            "/dan-van/hoi-nghi-so-ket-cong-tac-dan-van.htm",
            "/tin-tuc/mat-tran-giam-sat-an-sinh-xa-hoi.htm",
            "/chi-tiet.aspx?id=12",
        ]
    )
    assert [(s.pattern, s.articles) for s in shapes] == [
        (r"^/(?:dan-van|tin-tuc)/[a-z0-9]+(?:-[a-z0-9]+)+\.htm$", 3),
        (r"^/chi-tiet\.aspx\?id=\d+$", 1),
    ]
    many = learn_shapes(f"/muc-{n}/bai-viet-so-mot-hai.htm" for n in range(9))
    assert many[0].pattern == r"^/[^/]+/[a-z0-9]+(?:-[a-z0-9]+)+\.htm$"


# --- through the engine: an undeclared URL form, found, stored, counted, learned -------------

HOST = "https://mttqhanoi.org.vn"
LISTING = f"{HOST}/tin-tuc-hoat-dong"
SITE_DIR = FIXTURES / "mttq_hanoi"
#: The fixture articles, served under a URL form the declaration does not expect.
MOVED = {
    "/cong-tac-dan-van/quan-ba-dinh-nhan-rong-mo-hinh-dan-van-kheo-trong-xay-dung-tuyen-pho-van-minh-do-thi-98231.html?utm_source=mttqhanoi&amp;utm_medium=listing": (
        "/tin-tuc/quan-ba-dinh-nhan-rong-mo-hinh-dan-van-kheo.htm",
        "article_ba_dinh_tuyen_pho_van_minh.html",
    ),
    "https://mttqhanoi.org.vn/tin-tuc-hoat-dong/mat-tran-huyen-soc-son-giam-sat-viec-thuc-hien-quy-che-dan-chu-o-co-so-tai-5-xa-64655.html": (
        "/tin-tuc/soc-son-giam-sat-quy-che-dan-chu-o-co-so.htm",
        "article_soc_son_giam_sat_quy_che_dan_chu.html",
    ),
}
LEARNED = r"^/tin-tuc/[a-z0-9]+(?:-[a-z0-9]+)+\.htm$"
# The listing's three traps outnumber its two articles, which the article-rate health check
# would rightly call a broken site; here they are the point.
TRAPS_OK = ["-s", "DVCRAWL_HEALTH_MIN_ARTICLE_RATE=0.3"]


def _html(text: str) -> Route:
    return Route(body=text.encode("utf-8"), headers=[("Content-Type", "text/html; charset=utf-8")])


def _teaser(href: str, title: str) -> str:
    return (
        f'<div class="item-news clearfix"><h3 class="item-title"><a href="{href}">{title}</a></h3>'
        '<p class="item-info">02/12/2026 - 1.024 lượt xem</p><p class="item-desc">Các cấp '
        "Mặt trận Tổ quốc thành phố tiếp tục đẩy mạnh công tác dân vận ở khu dân cư.</p></div>"
    )


def moved_site(extra_listing_html: str = "") -> dict[str, Route]:
    """The mttqhanoi.org.vn fixture site with its articles at ``/tin-tuc/<slug>.htm``.

    The listing also carries teasers that lead to a tag page, a search page and another
    listing: pages that look like articles to a naive crawler and must never be stored.
    """
    listing = (SITE_DIR / "listing_tin_tuc_hoat_dong_page1.html").read_text(encoding="utf-8")
    listing = listing.replace('<div class="paging">', extra_listing_html + '<div class="paging">')
    routes = {
        f"{HOST}/robots.txt": Route(body=b"User-agent: *\nDisallow: /admin/\n"),
    }
    for old, (new, name) in MOVED.items():
        listing = listing.replace(old, new)
        routes[HOST + new] = _html((SITE_DIR / name).read_text(encoding="utf-8"))
    traps = (
        _teaser("/tag/dan-van-kheo", "Tag: Dân vận khéo trong xây dựng đô thị văn minh")
        + _teaser("/tim-kiem?keyword=dan+van", "Kết quả tìm kiếm công tác dân vận khu dân cư")
        + _teaser("/chuyen-de/dan-van-kheo", "Chuyên đề: Dân vận khéo ở khu dân cư thủ đô")
    )
    listing = listing.replace('<div class="paging">', traps + '<div class="paging">')
    listing = re.sub(
        r'<div class="paging">.*?</div>', '<div class="paging"></div>', listing, flags=re.S
    )
    routes[LISTING] = _html(listing)
    other_listing = (SITE_DIR / "listing_tin_tuc_hoat_dong_page2.html").read_text(encoding="utf-8")
    for path, title in (
        ("/tag/dan-van-kheo", "Tag: Dân vận khéo"),
        ("/tim-kiem?keyword=dan+van", "Kết quả tìm kiếm"),
        ("/chuyen-de/dan-van-kheo", "Dân vận khéo"),
    ):
        routes[HOST + path] = _html(
            re.sub(
                r"<h1[^>]*>.*?</h1>",
                f'<h1 class="category-title">{title}</h1>',
                other_listing,
                flags=re.S,
            )
        )
    return routes


def stored(db_url: str, sql: str) -> list[tuple]:
    connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_articles_under_an_undeclared_url_form_are_found_stored_counted_and_learned(
    dvcrawl: Runner, db_url: str, tls_dir: Path
) -> None:
    site = moved_site()
    with FixtureServer(site, tls_dir) as server:
        first = dvcrawl("crawl", "mttq_hanoi", "--db", db_url, *FAST, *TRAPS_OK, env=server.env())
        requested = server.urls()
    assert first.returncode == 0, first.stdout + first.stderr
    row = report(first.stdout)["mttq_hanoi"]
    assert (row["new"], row["outside shape"]) == ("2", "2")
    # The tag page, the search page and the other listing were read and never stored.
    assert row["non-articles"] == "3"
    assert {f"{HOST}/tag/dan-van-kheo", f"{HOST}/chuyen-de/dan-van-kheo"} <= set(requested)
    urls = {url for (url,) in stored(db_url, "SELECT canonical_url FROM articles")}
    assert urls == {HOST + new for new, _ in MOVED.values()}
    # The run says so, with the pattern to declare.
    assert "2 articles outside the declared URL shape" in first.stdout
    assert LEARNED in first.stdout
    assert stored(db_url, "SELECT site, pattern, articles FROM url_shapes") == [
        ("mttq_hanoi", LEARNED, 2)
    ]

    # A later run: a new article listed as a bare link (no lead, date or picture), found only
    # because its URL has the learned shape.
    bare = (
        '<ul class="list-plain"><li><a href="/tin-tuc/ba-dinh-doi-thoai-voi-nhan-dan.htm">'
        "Quận Ba Đình đối thoại với Nhân dân về chỉnh trang đô thị</a></li></ul>"
    )
    site = moved_site(bare)
    site[f"{HOST}/tin-tuc/ba-dinh-doi-thoai-voi-nhan-dan.htm"] = _html(
        (SITE_DIR / "article_soc_son_giam_sat_quy_che_dan_chu.html")
        .read_text(encoding="utf-8")
        .replace("Sóc Sơn", "Ba Đình")
    )
    with FixtureServer(site, tls_dir) as server:
        second = dvcrawl("crawl", "mttq_hanoi", "--db", db_url, *FAST, *TRAPS_OK, env=server.env())
    assert second.returncode == 0, second.stdout + second.stderr
    assert report(second.stdout)["mttq_hanoi"]["new"] == "1"
    assert (f"{HOST}/tin-tuc/ba-dinh-doi-thoai-voi-nhan-dan.htm",) in stored(
        db_url, "SELECT canonical_url FROM articles"
    )

    status = dvcrawl("status", "--db", db_url)
    assert (
        f"mttq_hanoi: article URL shape declared {get_site('mttq_hanoi').article_url}"
        in status.stdout
    )
    assert f"mttq_hanoi: article URL shape learned  {LEARNED} (3 articles" in status.stdout


def test_without_the_learned_shape_a_bare_link_is_not_followed() -> None:
    # The counterpart of the second run above: the same bare link is no teaser.
    page = Page(
        "<html><body><div class='main'><ul><li><a href='/tin-tuc/ba-dinh-doi-thoai.htm'>"
        "Quận Ba Đình đối thoại với Nhân dân về chỉnh trang đô thị</a></li></ul></div></body></html>",
        LISTING,
    )
    args = {"same_portal": lambda u: True, "declared": lambda u: False}
    assert article_links(page, **args) == []
    learned = article_links(
        page, **args, learned=lambda u: matches_any([LEARNED], path_and_query(u))
    )
    assert [link.url for link in learned] == [f"{HOST}/tin-tuc/ba-dinh-doi-thoai.htm"]
    assert learned[0].evidence != DECLARED


def test_article_shaped_links_beside_the_teasers_belong_to_a_box_not_to_the_listing() -> None:
    # Class names in Vietnamese ("cột phải", "tiêu điểm") say nothing to a class-name filter; the
    # teasers say where the listing is, and the box of bare links stands elsewhere.
    html = (FIXTURES / "hungyen_mttq" / "listing_page1.html").read_text(encoding="utf-8")
    page = Page(html, "https://mttq.hungyen.dcs.vn/dan-chu-dan-van.html")
    site = get_site("hungyen_mttq")
    links = article_links(
        page, same_portal=lambda u: True, declared=lambda u: site.is_article_url(path_and_query(u))
    )
    assert not any("lan-thu-8-khoa-xvii" in link.url or "tan-tien" in link.url for link in links)
    assert len(links) == 2  # the page's two teasers
    # A page without teasers keeps every article-shaped link: nothing says where its list is.
    bare = Page(
        "<html><body><ul><li><a href='/tin-tuc/a-b-c-3890.html'>Hội nghị Ủy ban MTTQ tỉnh lần "
        "thứ 8</a></li></ul></body></html>",
        "https://mttq.hungyen.dcs.vn/dan-chu-dan-van.html",
    )
    assert len(article_links(bare, same_portal=lambda u: True, declared=lambda u: True)) == 1
