"""Hostile pages: deep nesting, huge nodes, NUL bytes, charsets that lie (issue 10, 6 and 7).

Every page below holds a real article; the crawl must store it exactly as the clean page
gives it, and `dvcrawl import` of the crawl's own archive must store the same text.
"""

from __future__ import annotations

import html
import sqlite3
import unicodedata

from tests.reliability.conftest import Crawl, FaultLab
from tests.support.server import Route

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_windows_1258(text: str) -> bytes:
    """Encode as Vietnamese Windows pages do: tone marks as combining characters after a
    precomposed base letter (â, ơ, ư...), anything else as an HTML character reference."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        tones = "".join(c for c in parts if c in _TONES)
        try:
            out += (base + tones).encode("cp1258")
        except UnicodeEncodeError:
            out += f"&#{ord(char)};".encode("ascii")
    return bytes(out)


def page_of(lab: FaultLab, index: int) -> tuple[str, str]:
    article = lab.site.articles[index]
    return article.url, lab.routes()[article.url].body.decode("utf-8")


def serve(lab: FaultLab, url: str, body: bytes, content_type: str) -> dict[str, Route]:
    routes = lab.routes()
    routes[url] = Route(body=body, headers=[("Content-Type", content_type)])
    return routes


UTF8 = "text/html; charset=utf-8"


def test_nesting_deeper_than_libxml2s_default(lab: FaultLab) -> None:
    url, page = page_of(lab, 1)
    start = page.index('<div class="news-content">')
    end = page.index("</div>", start)
    deep = page[:start] + "<div>" * 300 + page[start:end] + "</div>" * 300 + page[end:]
    crawl = lab.crawl(serve(lab, url, deep.encode(), UTF8))
    assert crawl.returncode == 0, crawl.output
    assert "elements deeper than 256 flattened (text kept)" in crawl.result.stderr
    lab.record("6a", "deep nesting", "300 nested `<div>` around one article's body", crawl)


def test_nesting_past_libxml2s_hard_limit(lab: FaultLab) -> None:
    # Legacy pages open <font> without closing it; 5,000 of them pass libxml2's hard limit.
    url, page = page_of(lab, 2)
    start = page.index('<div class="news-content">')
    deep = page[:start] + '<font face="Arial">' * 5000 + page[start:]
    crawl = lab.crawl(serve(lab, url, deep.encode(), UTF8))
    assert crawl.returncode == 0, crawl.output
    assert "wrapper tags removed before parsing" in crawl.result.stderr
    lab.record(
        "6b",
        "nesting past the parser's limit",
        "5,000 unclosed `<font>` before one article's body",
        crawl,
    )


def test_a_10_mb_inline_image_before_the_body(lab: FaultLab) -> None:
    url, page = page_of(lab, 0)
    start = page.index("<body")
    image = '<img src="data:image/png;base64,' + "iVBORw0KGgo" * 1_000_000 + '">'
    head_end = page.index(">", start) + 1
    crawl = lab.crawl(serve(lab, url, (page[:head_end] + image + page[head_end:]).encode(), UTF8))
    assert crawl.returncode == 0, crawl.output
    assert "1 inline data: URI(s) of 11.0 MB dropped before parsing" in crawl.result.stderr
    lab.record("6c", "10 MB attribute", "an 11 MB `data:` image before one article's body", crawl)


def test_a_10_mb_text_node_before_the_body(lab: FaultLab) -> None:
    url, page = page_of(lab, 3)
    start = page.index("<body")
    head_end = page.index(">", start) + 1
    blob = "<script>var font = '" + "AAEAAAALAIAAAwAwT1MvMg" * 500_000 + "';</script>"
    crawl = lab.crawl(serve(lab, url, (page[:head_end] + blob + page[head_end:]).encode(), UTF8))
    assert crawl.returncode == 0, crawl.output
    lab.record("6d", "10 MB text node", "an 11 MB inline script before one article's body", crawl)


def test_nul_bytes_are_removed_on_both_paths(lab: FaultLab) -> None:
    url, page = page_of(lab, 1)
    damaged = page.replace("Bản tin", "Bản\x00 tin\x00").encode()
    crawl = lab.crawl(serve(lab, url, damaged, UTF8))
    assert crawl.returncode == 0, crawl.output
    assert "2 NUL or control characters removed" in crawl.result.stderr
    assert crawl.stats["dvcrawl/decoding/control_chars"] == 1
    assert_import_agrees(lab, crawl)
    lab.record("7a", "NUL bytes", "NUL bytes inside one article's text", crawl)


def test_a_charset_that_lies_is_detected(lab: FaultLab) -> None:
    url, page = page_of(lab, 2)
    # The server and the page say UTF-8; the bytes are windows-1258.
    crawl = lab.crawl(serve(lab, url, to_windows_1258(page), UTF8))
    assert crawl.returncode == 0, crawl.output
    assert "declared utf-8, but the bytes are not UTF-8: read as cp1258" in crawl.result.stderr
    assert crawl.stats["dvcrawl/decoding/charset_mismatch"] == 1
    assert not any("\ufffd" in text for _, text in crawl.stored.values())
    assert_import_agrees(lab, crawl)
    lab.record(
        "7b", "charset lie", "one article in windows-1258, declared UTF-8 by header and page", crawl
    )


def test_windows_1258_bom_and_nfd_pages(lab: FaultLab) -> None:
    routes = lab.routes()
    legacy_url, legacy = page_of(lab, 0)
    legacy = legacy.replace('charset="utf-8"', 'charset="windows-1258"').replace(
        "charset=utf-8", "charset=windows-1258"
    )
    routes[legacy_url] = Route(
        body=to_windows_1258(legacy), headers=[("Content-Type", "text/html; charset=windows-1258")]
    )
    bom_url, bom = page_of(lab, 1)
    routes[bom_url] = Route(
        body=b"\xef\xbb\xbf" + bom.encode(), headers=[("Content-Type", "text/html")]
    )
    nfd_url, nfd = page_of(lab, 2)
    routes[nfd_url] = Route(
        body=unicodedata.normalize("NFD", html.unescape(nfd)).encode(),
        headers=[("Content-Type", UTF8)],
    )
    crawl = lab.crawl(routes)
    assert crawl.returncode == 0, crawl.output
    assert "charset_mismatch" not in str(crawl.stats)
    lab.record(
        "7c",
        "legacy encodings",
        "one article each in windows-1258 (declared), UTF-8 with a BOM, decomposed (NFD) Unicode",
        crawl,
    )


def assert_import_agrees(lab: FaultLab, crawl: Crawl) -> None:
    """`dvcrawl import` of the crawl's archive stores what the crawl stored."""
    archive = crawl.stats["dvcrawl/warc_file"]
    imported = f"sqlite:///{lab.tmp_path / 'imported.sqlite3'}"
    result = lab.dvcrawl("import", str(archive), "--db", imported)
    assert result.returncode == 0, result.stderr

    def texts(db_url: str) -> dict[str, tuple[str, str]]:
        connection = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        try:
            return {
                row[0]: (row[1], row[2])
                for row in connection.execute("SELECT canonical_url, title, text FROM articles")
            }
        finally:
            connection.close()

    assert texts(imported) == texts(lab.db_url)
