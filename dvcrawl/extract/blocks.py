"""Flatten an article container into blocks: paragraphs, headings, items, images.

Each block carries the formatting hints the later steps need: bold, italic, centered, inside
a caption element, share of link text.

The walk follows how a browser lays text out, not how a CMS nests divs: every block element
starts a new paragraph, inline elements do not, and ``<br>`` is a line break inside a
paragraph (a space) but a paragraph break in a bare ``<div>`` or when doubled, which is how
older portals without ``<p>`` tags separate paragraphs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dvcrawl.extract.page import (
    BLOCK_TAGS,
    HtmlElement,
    Page,
    collapsed_length,
    hidden,
    raw_length,
)
from dvcrawl.extract.text import clean_line

# Owners inside which a single <br> is only a line wrap.
_PARAGRAPH_TAGS = frozenset(
    {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption", "dt", "dd", "blockquote", "caption", "th"}
)  # fmt: skip
_HEADING_TAGS = frozenset(
    {"h1", "h2", "h3", "h4", "h5", "h6"}
)  # fmt: skip
_CAPTION_CLASS = re.compile(
    r"caption|chu[-_]?thich|image[-_]?(?:desc|note|title)|img[-_]?(?:desc|note|title)|"
    r"photo[-_]?(?:desc|note)|pic[-_]?note|desc[-_]?img|note[-_]?img|expnoedit|sapo[-_]?img",
    re.IGNORECASE,
)
# "/_layouts/": SharePoint serves its own interface images (file-type icons, arrows) there.
_SKIP_IMAGE = re.compile(
    r"(?:^data:|icon|logo|banner|spacer|blank\.|pixel|loading|/ads?/|quang-?cao|button|/_layouts/|"
    r"share|facebook|zalo|twitter|print|email|rss|avatar|captcha|emoji|\.svg(?:$|\?))",
    re.IGNORECASE,
)
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.IGNORECASE)
_ITALIC_STYLE = re.compile(r"font-style\s*:\s*italic", re.IGNORECASE)
_CENTER = re.compile(r"text-align\s*:\s*center", re.IGNORECASE)
_RIGHT = re.compile(r"text-align\s*:\s*right", re.IGNORECASE)

_BR = object()
#: How many of an element's nearest ancestors (itself included) the block hints read.
_NEAREST = 5


@dataclass
class Block:
    """One visual unit of an article container.

    Attributes:
        kind: "text", "heading", "item" (list item), "quote", "row" (data-table row) or "image".
        text: cleaned text (empty for images).
        element: the block element that holds the text or image.
        image_url: absolute URL, for images.
        bold, italic: all of the text is bold / italic.
        centered, right: the block is centered / right-aligned.
        caption_hint: the block sits in a ``<figcaption>``, a ``<figure>`` or an element whose
            class names a caption.
        group: the figure, table or paragraph that holds an image and may hold its caption.
        link_ratio: share of the text that is link text.

    """

    kind: str
    text: str = ""
    element: HtmlElement | None = None
    image_url: str | None = None
    bold: bool = False
    italic: bool = False
    centered: bool = False
    right: bool = False
    caption_hint: bool = False
    group: HtmlElement | None = None
    link_ratio: float = 0.0


def blocks_of(
    page: Page,
    root: HtmlElement,
    *,
    skip: frozenset[HtmlElement] = frozenset(),
    stop_after: HtmlElement | None = None,
) -> list[Block]:
    """Flatten `root` into blocks in reading order, leaving out the subtrees in `skip`.

    With `stop_after` (a block element inside `root`), the blocks end with that element's:
    what follows it is not wanted (the related lists after an article's body).
    """
    walker = _Walker(page, root, skip)
    if stop_after is not None and stop_after.tag.lower() in BLOCK_TAGS:
        walker.stop_after = stop_after
    walker.walk(root, bold=False, italic=False, link=False)
    walker.flush()
    return walker.blocks


class _Walker:
    def __init__(self, page: Page, root: HtmlElement, skip: frozenset[HtmlElement]):
        self.page = page
        self.root = root
        self.skip = skip
        self.blocks: list[Block] = []
        self.buffer: list[Any] = []
        self.owners: list[HtmlElement] = [root]
        self.stop_after: HtmlElement | None = None
        self.stopped = False
        # Per element: its ancestors up to `root`, and what they say (asked for every block).
        self._chains: dict[HtmlElement, list[HtmlElement]] = {}
        self._within: dict[HtmlElement, tuple[bool, bool]] = {}
        self._node_alignments: dict[HtmlElement, tuple[bool, bool]] = {}
        self._kinds: dict[HtmlElement, str] = {}
        self._hints: dict[HtmlElement, bool] = {}
        self._groups: dict[HtmlElement, HtmlElement | None] = {}
        self._alignments: dict[tuple[HtmlElement, str], bool] = {}
        self._caption_marks: dict[HtmlElement, bool] = {}
        self._figures: dict[HtmlElement, tuple[bool, bool]] = {}

    def walk(self, element: HtmlElement, *, bold: bool, italic: bool, link: bool) -> None:
        if hidden(element) or element in self.skip:
            return
        tag = element.tag.lower()
        if tag == "img":
            self.flush()
            self._add_image(element)
            return
        if tag == "br":
            self.buffer.append(_BR)
            return
        if tag == "table" and _is_data_table(element):
            self.flush()
            self._add_table(element)
            return
        is_block = tag in BLOCK_TAGS
        if is_block:
            self.flush()
            self.owners.append(element)
        style = element.get("style")
        bold = bold or tag in {"b", "strong"} or bool(style and _BOLD_STYLE.search(style))
        italic = italic or tag in {"em", "i"} or bool(style and _ITALIC_STYLE.search(style))
        link = link or tag == "a"
        if element.text:
            self.buffer.append((element.text, bold, italic, link))
        for child in element:
            self.walk(child, bold=bold, italic=italic, link=link)
            if self.stopped:
                return
            if child.tail:
                self.buffer.append((child.tail, bold, italic, link))
        if is_block:
            self.flush()
            self.owners.pop()
        if element is self.stop_after:
            self.stopped = True

    def flush(self) -> None:
        if not self.buffer:
            return
        pieces, self.buffer = self.buffer, []
        owner = self.owners[-1]
        soft_breaks = owner.tag.lower() in _PARAGRAPH_TAGS
        segment: list[tuple[str, bool, bool, bool]] = []
        pending_breaks = 0
        for piece in pieces:
            if piece is _BR:
                pending_breaks += 1
                continue
            if pending_breaks and piece[0].strip():
                if pending_breaks >= 2 or not soft_breaks:
                    self._emit(segment, owner)
                    segment = []
                else:
                    segment.append((" ", False, False, False))
                pending_breaks = 0
            segment.append(piece)
        self._emit(segment, owner)

    def _emit(self, segment: list[tuple[str, bool, bool, bool]], owner: HtmlElement) -> None:
        # Most segments are the whitespace between block tags (issue 11: 6 in 10).
        if all(piece[0].isspace() for piece in segment):
            return
        text = clean_line("".join(piece[0] for piece in segment))
        if not text:
            return
        total = bold = italic = linked = 0
        for piece_text, is_bold, is_italic, is_link in segment:
            size = len(piece_text.strip())
            total += size
            bold += size if is_bold else 0
            italic += size if is_italic else 0
            linked += size if is_link else 0
        kind = self._kind(owner)
        self.blocks.append(
            Block(
                kind=kind,
                text=text,
                element=owner,
                bold=total > 0 and bold >= 0.9 * total,
                italic=total > 0 and italic >= 0.9 * total,
                centered=self._aligned(owner, "center"),
                right=self._aligned(owner, "right"),
                caption_hint=self._caption_hint(owner),
                group=self._image_group(owner),
                link_ratio=linked / total if total else 0.0,
            )
        )

    def _add_image(self, element: HtmlElement) -> None:
        src = _image_source(element)
        if not src or _SKIP_IMAGE.search(src) or _is_tiny(element):
            return
        owner = element.getparent() if element.getparent() is not None else self.root
        self.blocks.append(
            Block(
                kind="image",
                element=element,
                image_url=self.page.absolute(src),
                caption_hint=self._caption_hint(owner),
                group=self._image_group(owner),
            )
        )

    def _add_table(self, table: HtmlElement) -> None:
        from dvcrawl.extract.page import element_text

        for row in table.iter("tr"):
            cells = [
                element_text(cell)
                for cell in row
                if isinstance(cell.tag, str) and cell.tag in {"td", "th"}
            ]
            cells = [cell for cell in cells if cell]
            if cells:
                self.blocks.append(Block(kind="row", text=" | ".join(cells), element=row))

    def _ancestors(self, element: HtmlElement) -> list[HtmlElement]:
        """`element` and its nearest ancestors up to `root`: as many as the hints read (5)."""
        chain = self._chains.get(element)
        if chain is None:
            chain = []
            node: HtmlElement | None = element
            while node is not None and len(chain) < _NEAREST:
                chain.append(node)
                if node is self.root:
                    break
                node = node.getparent()
            self._chains[element] = chain
        return chain

    def _inside(self, element: HtmlElement) -> tuple[bool, bool]:
        """Whether `element` or an ancestor up to `root` is a list item, and a quote.

        Each element's answer is its own tag's with its parent's (answered once per element:
        building every block's whole chain of ancestors was a tenth of the walk, issue 11).
        """
        unanswered: list[HtmlElement] = []
        node: HtmlElement | None = element
        answer = (False, False)
        while node is not None:
            known = self._within.get(node)
            if known is not None:
                answer = known
                break
            unanswered.append(node)
            if node is self.root:
                break
            node = node.getparent()
        for node in reversed(unanswered):
            tag = node.tag.lower()
            answer = (answer[0] or tag == "li", answer[1] or tag == "blockquote")
            self._within[node] = answer
        return answer

    def _kind(self, owner: HtmlElement) -> str:
        """A block's kind from its owner: heading, list item, quote or text."""
        kind = self._kinds.get(owner)
        if kind is None:
            in_item, in_quote = self._inside(owner)
            if owner.tag.lower() in _HEADING_TAGS:
                kind = "heading"
            elif in_item:
                kind = "item"
            elif in_quote:
                kind = "quote"
            else:
                kind = "text"
            self._kinds[owner] = kind
        return kind

    def _caption_hint(self, element: HtmlElement) -> bool:
        hint = self._hints.get(element)
        if hint is None:
            hint = self._hints[element] = self._find_caption_hint(element)
        return hint

    def _find_caption_hint(self, element: HtmlElement) -> bool:
        for node in self._ancestors(element)[:4]:
            marked = self._caption_marks.get(node)
            if marked is None:
                marked = self._caption_marks[node] = _marks_caption(node)
            if marked:
                return True
        return False

    def _image_group(self, element: HtmlElement) -> HtmlElement | None:
        """The figure-like element around an image that may hold its caption.

        A table, paragraph or div counts only while it is small: one image and at most a
        caption's worth of text. A container that also holds the paragraphs around the image
        is not its figure, or those paragraphs would all become its caption.
        """
        if element in self._groups:
            return self._groups[element]
        group = self._groups[element] = self._find_image_group(element)
        return group

    def _find_image_group(self, element: HtmlElement) -> HtmlElement | None:
        for node in self._ancestors(element)[:5]:
            if node is self.root:
                return None
            tag = node.tag.lower()
            if tag == "figure":
                return node
            if tag in {"table", "p", "div", "center"}:
                # Asked from every paragraph below the same container (issue 11).
                verdict = self._figures.get(node)
                if verdict is None:
                    holds = _holds_image(node)
                    verdict = self._figures[node] = (holds, holds and _figure_sized(node))
                if verdict[0]:
                    return node if verdict[1] else None
        return None

    def _aligned(self, element: HtmlElement, value: str) -> bool:
        """Whether `element` or one of its two nearest ancestors below `root` is aligned so."""
        key = (element, value)
        aligned = self._alignments.get(key)
        if aligned is None:
            aligned = False
            right = value == "right"
            for node in self._ancestors(element)[:3]:
                if node is self.root:
                    break
                if self._alignment(node)[right]:
                    aligned = True
                    break
            self._alignments[key] = aligned
        return aligned

    def _alignment(self, node: HtmlElement) -> tuple[bool, bool]:
        """Whether `node` itself is centered, and right-aligned (by style or ``align``)."""
        found = self._node_alignments.get(node)
        if found is None:
            style = node.get("style") or ""
            align = (node.get("align") or "").lower()
            found = self._node_alignments[node] = (
                bool(_CENTER.search(style)) or align == "center",
                bool(_RIGHT.search(style)) or align == "right",
            )
        return found


def _marks_caption(node: HtmlElement) -> bool:
    if node.tag.lower() in {"figcaption", "figure", "caption"}:
        return True
    names = f"{node.get('class', '')} {node.get('id', '')}"
    return bool(names.strip() and _CAPTION_CLASS.search(names))


#: The most text a figure-like container holds besides its image: a long caption.
_FIGURE_TEXT = 700


def _figure_sized(element: HtmlElement) -> bool:
    # A body container holds several images and pages of text: it is answered at its second
    # image, before its text is read (issue 11).
    images = 0
    for img in element.iter("img"):
        if _image_source(img):
            images += 1
            if images > 1:
                return False
    return raw_length(element) <= _FIGURE_TEXT or collapsed_length(element) <= _FIGURE_TEXT


def _holds_image(element: HtmlElement) -> bool:
    return any(_image_source(img) for img in element.iter("img"))


def _image_source(element: HtmlElement) -> str | None:
    for attribute in ("data-src", "data-original", "data-lazy-src", "src"):
        value = (element.get(attribute) or "").strip()
        if value and not value.startswith("data:"):
            return value
    srcset = (element.get("srcset") or element.get("data-srcset") or "").strip()
    return srcset.split(",")[0].split()[0] if srcset else None


def _is_photo(element: HtmlElement) -> bool:
    src = _image_source(element)
    return bool(src) and not _SKIP_IMAGE.search(src or "") and not _is_tiny(element)


def _is_tiny(element: HtmlElement) -> bool:
    for attribute in ("width", "height"):
        value = re.match(r"\s*(\d+)", element.get(attribute) or "")
        if value and int(value.group(1)) < 60:
            return True
    return False


def _is_data_table(table: HtmlElement) -> bool:
    """A table of figures (results, schedules), not a layout table around a photo or a page.

    Icons (a file-type icon on each row of a document register) do not make it a layout table.
    """
    if table.find(".//table") is not None or any(_is_photo(img) for img in table.iter("img")):
        return False
    rows = [row for row in table.iter("tr")]
    wide = [row for row in rows if sum(1 for cell in row if cell.tag in {"td", "th"}) >= 2]
    return len(wide) >= 2 and len(wide) >= 0.6 * len(rows)
