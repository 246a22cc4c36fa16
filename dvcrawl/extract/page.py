"""A parsed page: the one object every extractor reads.

Parsing happens once; metadata, JSON-LD and element lookups are cached. Nothing here knows
about Scrapy: a `Page` is built from stored HTML, so extraction can be re-run on archives.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cached_property
from typing import Any, TypeAlias
from urllib.parse import urljoin

import lxml.html
from lxml import etree
from w3lib.encoding import html_to_unicode

from dvcrawl.extract.text import clean_line

HtmlElement: TypeAlias = lxml.html.HtmlElement

_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)


class NotHTML(ValueError):
    """Raised when bytes are not an HTML page (empty, binary, or another format)."""


# Magic numbers of formats that end up at article URLs: PDFs and Office files attached to
# notices, images, archives.
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a ZIP archive or Office document",
    b"\xd0\xcf\x11\xe0": "an old Office document",
    b"\x1f\x8b": "gzip-compressed data",
    b"RIFF": "a RIFF media file",
}
_HTML_HINT = re.compile(
    rb"<\s*(?:!doctype|html|head|body|div|p|meta|title|article|span|table)\b", re.I
)


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode page bytes to text: BOM, then HTTP charset, then ``<meta charset>``, then sniffing.

    Raises:
        NotHTML: if `body` is empty, binary, or has no HTML markup at all.

    """
    if not body.strip():
        raise NotHTML("the page is empty")
    for signature, kind in _BINARY_SIGNATURES.items():
        if body.startswith(signature):
            raise NotHTML(f"not an HTML page ({kind})")
    head = body[:65536]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotHTML("not an HTML page (binary data)")
    header_charset = None
    if content_type:
        match = re.search(r"charset=([\w-]+)", content_type, re.I)
        header_charset = f"charset={match.group(1)}" if match else None
    _, text = html_to_unicode(header_charset, body)
    if not _HTML_HINT.search(text[:65536].encode("utf-8", "ignore")):
        raise NotHTML("not an HTML page (no HTML markup found)")
    return text


class Page:
    """A parsed HTML page plus the URL it came from.

    Args:
        html: the page's markup, already decoded.
        url: the URL the page was fetched from (used to resolve relative links).
        fetched_at: when it was fetched; dates after it are rejected as "future".

    """

    def __init__(self, html: str, url: str, fetched_at: datetime | None = None):
        self.html = html
        self.url = url
        self.fetched_at = fetched_at
        self.root = _parse(html)

    # --- lookups -------------------------------------------------------------------------

    def css(self, selector: str, root: HtmlElement | None = None) -> list[HtmlElement]:
        """Elements matching a CSS selector, in document order."""
        return list((self.root if root is None else root).cssselect(selector))

    def first(self, selector: str, root: HtmlElement | None = None) -> HtmlElement | None:
        """The first element matching any of the comma-separated selectors, by selector order."""
        for part in selector.split(","):
            found = self.css(part.strip(), root)
            if found:
                return found[0]
        return None

    def text(self, selector: str) -> str | None:
        """Cleaned text of the first element matching `selector`, or None if absent or empty."""
        element = self.first(selector)
        return (element_text(element) or None) if element is not None else None

    def absolute(self, href: str) -> str:
        """Resolve a link against the page URL (and a ``<base href>`` if the page has one)."""
        return urljoin(self.base_url, href.strip())

    @cached_property
    def base_url(self) -> str:
        """The page URL, or the ``<base href>`` the page declares."""
        base = self.root.find(".//base[@href]")
        return urljoin(self.url, base.get("href")) if base is not None else self.url

    @cached_property
    def meta(self) -> dict[str, str]:
        """``<meta>`` contents by lower-cased name/property/itemprop; the first occurrence wins."""
        found: dict[str, str] = {}
        for element in self.root.iter("meta"):
            key = element.get("property") or element.get("name") or element.get("itemprop")
            content = element.get("content")
            if key and content and key.lower() not in found:
                found[key.lower()] = clean_line(content)
        return found

    @cached_property
    def title_tag(self) -> str:
        """The text of ``<title>``."""
        element = self.root.find(".//title")
        return clean_line(element.text_content()) if element is not None else ""

    @cached_property
    def json_ld(self) -> list[dict[str, Any]]:
        """Every JSON-LD object on the page, ``@graph`` entries flattened."""
        objects: list[dict[str, Any]] = []
        for script in self.root.iter("script"):
            if (script.get("type") or "").lower() != "application/ld+json":
                continue
            try:
                data = json.loads(script.text or "")
            except ValueError:
                continue
            stack = data if isinstance(data, list) else [data]
            while stack:
                item = stack.pop(0)
                if isinstance(item, dict):
                    objects.append(item)
                    graph = item.get("@graph")
                    if isinstance(graph, list):
                        stack.extend(graph)
        return objects

    def json_ld_value(self, *keys: str) -> Any:
        """The first value found under any of `keys` in the page's JSON-LD objects."""
        for item in self.json_ld:
            for key in keys:
                if item.get(key):
                    return item[key]
        return None


def element_text(element: HtmlElement | None) -> str:
    """Visible text of an element: scripts and styles left out, whitespace cleaned.

    Block elements and ``<br>`` separate words; inline markup does not ("Hà<b>N</b>ội").
    """
    if element is None:
        return ""
    parts: list[str] = []

    def walk(node: HtmlElement) -> None:
        if is_hidden(node):
            return
        block = node.tag.lower() in BLOCK_TAGS
        if block:
            parts.append(" ")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append(" ")

    walk(element)
    return clean_line("".join(parts))


#: Elements that start a new line when rendered.
BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "br", "center", "dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption"}
)  # fmt: skip
_HIDDEN_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "svg", "iframe", "object", "embed", "video", "audio", "canvas", "select", "option", "button", "input", "textarea"}
)  # fmt: skip


def is_hidden(node: Any) -> bool:
    """Whether an element is never rendered: scripts, styles, forms controls, display:none."""
    if not isinstance(node.tag, str) or node.tag.lower() in _HIDDEN_TAGS:
        return True
    style = node.get("style")
    if style and re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", style, re.I):
        return True
    return node.get("hidden") is not None or node.get("aria-hidden") == "true"


def _parse(html: str) -> HtmlElement:
    # lxml refuses str input carrying an XML encoding declaration, and raises on documents
    # with no elements; both are bad pages, not programming errors.
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    if not html.strip():
        return lxml.html.document_fromstring("<html><body></body></html>")
    try:
        return lxml.html.document_fromstring(html, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html><body></body></html>")
