"""Articles a page carries as data: the state a JavaScript front end ships with its markup.

A Next.js portal sends the article as JSON in ``<script id="__NEXT_DATA__">``, other apps in
a ``<script type="application/json">``, and many CMSs repeat it in JSON-LD (``articleBody``).
The visible markup of such a page may be an empty shell that the browser fills in, so a
crawler that reads only the markup loses the article. The article object is found by its
shape (a headline, a body of text or HTML, a date or an id), not by its path: apps nest and
move it (``props.pageProps.blog``, ``props.pageProps.data.article``), and knowing one
portal's path would leave every other app's page empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import lxml.html
from lxml import etree

from dvcrawl.extract.page import Page, remembered
from dvcrawl.extract.text import clean_line, fingerprint_text

_TITLE_KEYS = ("title", "headline")
_CONTENT_KEYS = (
    "content", "contentHtml", "content_html", "body", "bodyHtml", "html", "articleBody",
    "fullContent", "detail", "noiDung", "noidung",
)  # fmt: skip
_DATE_KEYS = (
    "publishDate", "publishedAt", "published_at", "datePublished", "publishedDate",
    "publish_date", "publicationDate", "createdAt", "created_at", "createdDate", "date",
)  # fmt: skip
_ID_KEYS = ("slug", "id", "_id", "url")
_SUMMARY_KEYS = ("description", "summary", "sapo", "excerpt", "lead")
_TAG = re.compile(r"<[a-zA-Z/!]")


@dataclass(frozen=True)
class EmbeddedArticle:
    """An article object found in a page's data.

    Attributes:
        title: its headline.
        content: its body, HTML or plain text as the app ships it.
        summary: its lead, if the object has one.
        date: its publication date as written (ISO 8601 in every app seen), if any.
        author: its author's name, if any.

    """

    title: str
    content: str
    summary: str | None
    date: str | None
    author: str | None

    @property
    def is_html(self) -> bool:
        """Whether the content is HTML (else plain text, as JSON-LD's ``articleBody``)."""
        return bool(_TAG.search(self.content))

    def body_element(self) -> lxml.html.HtmlElement:
        """The content as one ``<div>``; plain text becomes a paragraph per line."""
        if self.is_html:
            return lxml.html.fragment_fromstring(self.content, create_parent="div")
        root = lxml.html.Element("div")
        for line in self.content.splitlines():
            if line.strip():
                paragraph = etree.SubElement(root, "p")
                paragraph.text = line.strip()
        return root

    def words(self) -> int:
        """Words of the body's text."""
        return remembered(
            "embedded_words", self.content, lambda: len(_text_of(self.content).split())
        )


def data_documents(page: Page) -> list[Any]:
    """The JSON documents of the page's data scripts: app state and JSON-LD, in page order."""
    return remembered("data_documents", page.root, lambda: _data_documents(page))


def _data_documents(page: Page) -> list[Any]:
    documents: list[Any] = []
    for script in page.root.iter("script"):
        kind = (script.get("type") or "").lower()
        if kind not in {"application/json", "application/ld+json"} and (
            script.get("id") != "__NEXT_DATA__"
        ):
            continue
        document = parsed_script(script)
        if document is not None:
            documents.append(document)
    return documents


def parsed_script(script: lxml.html.HtmlElement) -> Any:
    """A data script's JSON, parsed once while the page is read; None if empty or broken."""
    return remembered("parsed_script", script, lambda: _parse_script(script))


def _parse_script(script: lxml.html.HtmlElement) -> Any:
    text = (script.text or "").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None  # a broken or templated script: the markup still speaks for the page


def walk(value: Any) -> Iterator[Any]:
    """Every value nested in a JSON document, depth first, in document order."""
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def find_article(page: Page) -> EmbeddedArticle | None:
    """The page's article object, if its data carries one (see the module docstring).

    Among several (an app that also ships its related articles in full), the one whose
    headline agrees with the page's ``og:title`` / ``<title>``, else the longest.
    """
    return remembered("embedded_article", page.root, lambda: _find_article(page))


def _find_article(page: Page) -> EmbeddedArticle | None:
    # Most pages carry no app data, and their JSON-LD no article body: answered from the
    # source, without parsing a script (the page's JSON-LD is read for its metadata anyway).
    html = page.html
    if "application/json" not in html and "__NEXT_DATA__" not in html and "articleBody" not in html:
        return None
    found = [
        article
        for document in data_documents(page)
        for item in walk(document)
        if (article := as_article(item)) is not None
    ]
    if len(found) < 2:
        return found[0] if found else None
    page_title = fingerprint_text(page.meta.get("og:title") or page.title_tag or "")

    def agreement(article: EmbeddedArticle) -> tuple[bool, int]:
        key = fingerprint_text(article.title)
        return (bool(key) and key in page_title, article.words())

    return max(found, key=agreement)


def as_article(item: Any) -> EmbeddedArticle | None:
    """`item` as an article object, or None when it lacks the shape (module docstring).

    Whether it is the page's own article is the caller's question (`agrees_with_page`).
    """
    if not isinstance(item, dict):
        return None
    title = _first_string(item, _TITLE_KEYS)
    content = _first_string(item, _CONTENT_KEYS)
    if not title or not content or len(title.split()) < 2:
        return None
    if not any(item.get(key) for key in (*_DATE_KEYS, *_ID_KEYS)):
        return None  # a settings or widget object with a title and a text
    author = item.get("author")
    if isinstance(author, list) and author:
        author = author[0]
    if isinstance(author, dict):
        author = author.get("name") or author.get("fullName")
    return EmbeddedArticle(
        title=clean_line(title),
        content=content,
        summary=clean_line(_first_string(item, _SUMMARY_KEYS) or "") or None,
        date=_first_string(item, _DATE_KEYS),
        author=clean_line(author) if isinstance(author, str) and clean_line(author) else None,
    )


def _first_string(item: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _text_of(content: str) -> str:
    if not _TAG.search(content):
        return content
    try:
        return lxml.html.fragment_fromstring(content, create_parent="div").text_content()
    except (etree.ParserError, ValueError):
        return ""


def agrees_with_page(page: Page, article: EmbeddedArticle, headline: str | None = None) -> bool:
    """Whether the object's headline is the page's.

    It is when it is in the page's ``og:title`` / ``<title>``, or in the `headline` read from
    its markup (a ``<title>`` may name only the page's section). A listing app ships its
    items too; only the object the page is about speaks for it.
    """
    key = fingerprint_text(article.title)
    if not key:
        return False
    titles = (
        page.meta.get("og:title"),
        page.meta.get("twitter:title"),
        page.title_tag,
        headline,
    )
    return any(key in fingerprint_text(title) for title in titles if title)
