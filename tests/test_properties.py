"""Property-based tests (hypothesis): the date parser, URL canonicalization, decoding and
extraction on generated input never raise, never give a future date, canonicalization is
idempotent, and extraction finishes (issue 10).

The deadlines are hang detectors (a page of a few KB extracts in milliseconds), not speed
goals; the cost of hostile pages is measured in benchmarks/hostile_pages.py.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dvcrawl.extract.dates import find_dates, parse_date, warm_up
from dvcrawl.extract.page import NotHTML, decode_page
from dvcrawl.extraction import extract_article
from dvcrawl.urls import InvalidURL, canonicalize

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
SLACK = timedelta(minutes=30)

# No example database in the working tree; the same examples on every machine. A deadline far
# above the cost of one example catches a hang or a runaway regex without timing anything.
PROFILE = settings(
    database=None,
    derandomize=True,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow],
)
warm_up()  # dateparser loads its language data on first use

WORDS = [
    "Ngày", "ngày", "tháng", "năm", "Thứ", "Sáu", "Chủ", "Nhật", "Cập nhật", "Ngày đăng",
    "Sáng", "Chiều", "lúc", "giờ", "trước", "hôm qua", "GMT+7", "(GMT+7)", "|", "-", "/", ":",
    ",", "AM", "PM", "Lượt xem", "Dân vận", "T2", "CN", "năm 2024", "2024", "1999", "3000",
]  # fmt: skip


@st.composite
def date_lines(draw: st.DrawFn) -> str:
    """Date-like lines: the portals' shapes with any numbers, among date words and noise."""
    day, month = draw(st.integers(0, 40)), draw(st.integers(0, 15))
    year = draw(st.sampled_from([0, 99, 1899, 1989, 1990, 2010, 2024, 2026, 2027, 2099, 9999]))
    hour, minute = draw(st.integers(0, 30)), draw(st.integers(0, 70))
    shapes = [
        f"{day}/{month}/{year}",
        f"{day:02d}/{month:02d}/{year} {hour:02d}:{minute:02d}",
        f"ngày {day} tháng {month} năm {year}",
        f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00+07:00",
        f"{day}-{month}-{year} - {hour}:{minute} AM",
        f"{day}.{month}.{year}",
    ]
    parts = draw(st.lists(st.sampled_from(WORDS) | st.sampled_from(shapes), max_size=8))
    noise = draw(st.text(max_size=20))
    return " ".join([*parts, noise])


@settings(PROFILE, max_examples=300)
@given(st.one_of(date_lines(), st.text(max_size=300)))
def test_dates_never_raise_and_are_never_in_the_future(line: str) -> None:
    found = [parse_date(line, now=NOW), *find_dates(line, now=NOW)]
    for parsed in filter(None, found):
        assert parsed.value.tzinfo is not None
        assert parsed.value <= NOW + SLACK, (line, parsed)
        assert parsed.value.year >= 1990, (line, parsed)
        datetime.fromisoformat(parsed.isoformat())  # a valid ISO 8601 date or date-time


HOSTS = [
    "thanhuytphcm.vn", "www.thanhuytphcm.vn", "hcmcpv.org.vn", "WWW.HCMCPV.ORG.VN", "m.baodongthap.vn",
    "danvan.vn", "hanoi.gov.vn", "thanhxuan.hanoi.gov.vn", "example.org", "xn--dn-vn-7ta.vn",
    "thanhuytphcm.vn.", "127.0.0.1",
]  # fmt: skip
SEGMENT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"), max_size=12
)
PARAM = st.sampled_from(
    [
        "utm_source",
        "utm_medium",
        "fbclid",
        "zarsrc",
        "id",
        "ItemID",
        "page",
        "p_p_id",
        "_cur",
        "jsessionid",
        "q",
    ]
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTPS"]))
    host = draw(st.sampled_from(HOSTS))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/".join(draw(st.lists(SEGMENT, max_size=5)))
    trailing = draw(st.sampled_from(["", "/", ".html", ".aspx", ";jsessionid=ABC123"]))
    query = "&".join(
        f"{draw(PARAM)}={draw(st.text(max_size=6))}" for _ in range(draw(st.integers(0, 4)))
    )
    fragment = draw(st.sampled_from(["", "#top", "#"]))
    return f"{scheme}://{host}{port}/{path}{trailing}" + (f"?{query}" if query else "") + fragment


@settings(PROFILE, max_examples=300)
@given(urls())
@example("http://thanhuytphcm.vn//")  # once canonicalized to a URL without its root "/"
@example("https://thanhuytphcm.vn/?id=fbclid")  # a value that spells a tracking parameter
def test_canonicalization_is_idempotent(url: str) -> None:
    try:
        canonical = canonicalize(url)
    except InvalidURL:
        return
    assert canonical.startswith(("http://", "https://")) and "#" not in canonical
    assert canonicalize(canonical) == canonical, url
    # Tracking parameters are gone by name; a value may spell anything ("id=fbclid").
    names = [name for name, _ in parse_qsl(urlsplit(canonical).query, keep_blank_values=True)]
    assert not any(name.startswith("utm_") or name == "fbclid" for name in names), url


@PROFILE
@given(st.text(max_size=200))
def test_canonicalization_of_anything_raises_only_invalid_url(text: str) -> None:
    try:
        canonical = canonicalize(text)
    except InvalidURL:
        return
    assert canonicalize(canonical) == canonical


@PROFILE
@given(
    st.binary(max_size=2000),
    st.sampled_from(
        [
            None,
            "text/html",
            "text/html; charset=utf-8",
            "text/html; charset=windows-1258",
            "text/html; charset=nosuch",
        ]
    ),
)
def test_decoding_any_bytes_gives_clean_text_or_not_html(
    body: bytes, content_type: str | None
) -> None:
    try:
        decoded = decode_page(body, content_type)
    except NotHTML:
        return
    assert not any(ch in decoded.text for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0e\x1f")


TEXT = st.text(
    alphabet=st.sampled_from(list("aàáảãạăâđêôơưy ÀĐƠƯ.,:;-–()/0123456789\n\t<>&\"'")),
    max_size=80,
) | st.sampled_from(WORDS)
TAGS = ["div", "p", "span", "h1", "h2", "article", "section", "a", "b", "i", "table", "tr", "td",
        "ul", "li", "img", "br", "font", "script", "style", "time", "meta", "header", "footer"]  # fmt: skip
ATTRS = st.sampled_from(
    ['class="content"', 'class="news-title"', 'id="main"', 'style="display:none"', 'href="/tin-tuc/a-1491950001"',
     'datetime="2024-02-28T16:38:00+07:00"', 'property="article:published_time" content="2024-02-28T16:38:00+07:00"',
     'src="data:image/png;base64,AAAA"', 'class="sapo"', 'itemprop="author"', ""]
)  # fmt: skip


def elements() -> st.SearchStrategy[str]:
    leaf = TEXT.map(lambda t: t.replace("<", " "))

    def wrap(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.builds(
            lambda tag, attr, inner, close: (
                f"<{tag} {attr}>{''.join(inner)}" + (f"</{tag}>" if close else "")
            ),
            st.sampled_from(TAGS),
            ATTRS,
            st.lists(children, max_size=5),
            st.booleans(),
        )

    return st.recursive(leaf, wrap, max_leaves=40)


PAGE_URLS = [
    "https://thanhuytphcm.vn/tin-tuc/bai-viet-1491950001",
    "https://baodongthap.vn/chinh-tri/a-123456.aspx",
    "https://dangcongsan.vn/thoi-su/bai-viet-123.html",
    "http://danvan.vn/Home/Tin-tuc/1/123/bai",
    "https://hanoi.gov.vn/tin-tuc/bai-viet-123.htm",
    "https://mttqhanoi.org.vn/tin-tuc/bai-123.htm",
    "https://tuyengiaodanvan.vn/tin-tuc/bai-123",
    "https://congan.example.vn/tin/bai-123.html",
]


@settings(PROFILE, max_examples=150, deadline=timedelta(seconds=5))
@given(st.lists(elements(), max_size=6), st.sampled_from(PAGE_URLS), st.booleans())
def test_extraction_of_generated_pages_never_raises(
    body: list[str], url: str, wrapped: bool
) -> None:
    html = "".join(body)
    if wrapped:
        html = f"<html><head><title>Tiêu đề</title></head><body>{html}</body></html>"
    article = extract_article(html, url, fetched_at=NOW)
    assert article.canonical_url == canonicalize(url)
    if article.published_at:
        published = datetime.fromisoformat(article.published_at)
        if published.tzinfo is not None:
            assert published <= NOW + SLACK
        else:
            assert published.date() <= (NOW + SLACK).date()
    for value in (article.title, article.text):
        if value:
            assert unicodedata.is_normalized("NFC", value)


@settings(PROFILE, max_examples=300)
@given(st.text(alphabet="oOuUyaqàáảãạÀèẹÝýỵnh \u0301\u0323\u0306.-_2đ", max_size=40))
def test_tone_unification_prefilter_never_changes_the_result(text: str) -> None:
    # The prefilter skips texts without an open old-style syllable (issue 11); it must skip
    # only texts the rewrite would leave as they are.
    from dvcrawl.extract.text import _OLD_STYLE, _move_tone, unify_tone_marks

    decomposed = unicodedata.normalize("NFD", text)
    expected = unicodedata.normalize("NFC", _OLD_STYLE.sub(_move_tone, decomposed))
    assert unify_tone_marks(text) == expected
