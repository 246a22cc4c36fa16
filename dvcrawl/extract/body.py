"""From blocks to an article body: text paragraphs, images with captions, byline and lead.

`assemble` applies the text rules of the Article record (README, "The Article record";
docs/extraction.md, "Text rules") to the blocks of an article container, in order:

1. cut at the first stop anchor ("Ý kiến bạn đọc", "Tin khác", ...) once text has begun;
2. drop chrome lines (counters, share bars, date stamps) and the title if repeated;
3. pair images with their captions; captions leave the text for `images`;
4. take the byline from the end ("Hà Hiền", "Theo Báo Đồng Tháp", "Tin, ảnh: Ngân Nguyễn");
5. mark the lead: the element the page marks as sapo, else a bold first paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dvcrawl.extract.blocks import Block
from dvcrawl.extract.boilerplate import (
    footer_start,
    is_boilerplate_clean_line,
    is_stop_anchor_clean_line,
)
from dvcrawl.extract.dates import ParsedDate, find_dates
from dvcrawl.extract.text import clean_line, fingerprint_text, word_count


@dataclass
class Body:
    """The parts of an article body."""

    paragraphs: list[str] = field(default_factory=list)
    images: list[dict[str, str | None]] = field(default_factory=list)
    author: str | None = None
    sapo: str | None = None
    #: A date printed on the byline line ("Hồng Nhung (cập nhật 09/04/2025)"), the last resort
    #: for the publication date.
    byline_date: ParsedDate | None = None

    @property
    def text(self) -> str | None:
        """Paragraphs joined by a blank line, or None when there are none."""
        return "\n\n".join(self.paragraphs) or None


_TERMINAL = tuple('.!?…:;"”’)»')
_BYLINE_ROLE = re.compile(
    r"^(?:(?:tin|bài|ảnh|clip|video|tin và ảnh|tin, ảnh|bài và ảnh|bài, ảnh|tin/ảnh|bài/ảnh|"
    r"tin - ảnh|bài - ảnh|thực hiện|nhóm thực hiện|tác giả|người viết|biên tập|lược ghi|"
    r"ghi chép|trình bày)\s*:\s*)",
    re.IGNORECASE,
)
_BYLINE_SOURCE = re.compile(r"^(?:\(?\s*(?:theo|nguồn)\s*:?\s+)(.+?)\)?$", re.IGNORECASE)
# The platforms' own byline labels: WordPress ("bởi", "Đăng bởi"; "By", "Posted by" in
# English themes), Joomla ("Viết bởi:", "Written by:"), DotNetNuke/EasyDNN ("Người đăng:",
# "Posted by:"), Drupal ("Submitted by", "Gửi bởi").
_BYLINE_LABEL = re.compile(
    r"^(?:(?:được\s+)?(?:viết|đăng|gửi|cập nhật)\s+bởi|bởi|người\s+đăng|đăng\s+tải|"
    r"(?:posted|written|submitted|published)\s+by|by|author)\s*:?\s+",
    re.IGNORECASE,
)
_ORG_BYLINE = re.compile(
    r"^(?:Ban |Phòng |Văn phòng |Ủy ban |Uỷ ban |UBND |UBMTTQ |MTTQ |Mặt trận |Hội |Đảng ủy |"
    r"Đảng uỷ |Quận ủy|Quận uỷ|Huyện ủy|Huyện uỷ|Thành ủy|Thành uỷ|Tỉnh ủy|Tỉnh uỷ|Thị ủy|"
    r"Trung tâm |Báo |Đài |Cổng |Tạp chí |Đoàn |Liên đoàn |BBT|Ban Biên tập|PV|CTV|Phóng viên|"
    r"Nhóm PV|Nhóm phóng viên|TTXVN|VOV|VTV|Bộ |Sở |Cục |Tổng cục )",
)
_NAME_WORD = re.compile(r"^[A-ZĐÀ-Ỹ][\w.'-]*$")


def is_labelled_byline(text: str) -> bool:
    """Whether a short line is a byline by its label ("Theo ...", "Nguồn: ...", "Tin, ảnh: ...")."""
    return word_count(text) <= 14 and bool(_BYLINE_ROLE.match(text) or _BYLINE_SOURCE.match(text))


def looks_like_byline(block: Block) -> bool:
    """Whether a (last) block is a byline: a name, a unit, or "Theo <source>"."""
    text = _without_dates(block.text)
    if not text or block.kind not in {"text", "heading"} or len(text) > 90 or word_count(text) > 14:
        return False
    if block.link_ratio > 0.5 or re.search(r"\d{3,}", text):
        return False
    if _BYLINE_ROLE.match(text) or _BYLINE_SOURCE.match(text):
        return True
    if _BYLINE_LABEL.match(text):
        name = _BYLINE_LABEL.sub("", text)
        # "Bởi vì ..." opens a sentence; "Bởi Hoàng Anh" is a byline.
        return word_count(name) <= 6 and bool(_NAME_WORD.match(name.split()[0]))
    # A unit in parentheses after the name ("LÊ THỊ HỒNG (Ban Dân vận Huyện ủy Nga Sơn)").
    core = re.sub(r"\s*\([^()]{2,70}\)$", "", text.rstrip(".")) or text
    if core.endswith(_TERMINAL) or (text.endswith(".") and word_count(text) > 4):
        return False
    if _ORG_BYLINE.match(core):
        return True
    name = re.split(r"\s+[-–—]\s+|\s*\(", core)[0]
    words = name.split()
    if not 1 <= len(words) <= 6:
        return False
    capitalized = sum(1 for word in words if _NAME_WORD.match(word))
    return (
        capitalized == len(words)
        or (block.right or block.bold or block.italic)
        and capitalized >= len(words) - 1
    )


_DATE_REMNANT = re.compile(
    r"\(\s*(?:cập nhật|ngày đăng|đăng ngày|ngày|updated|posted)?\s*[:,]?\s*\)|"
    r"[,|–—-]?\s*(?:cập nhật|ngày đăng|đăng ngày|ngày)\s*[:,]?\s*$",
    re.IGNORECASE,
)


def _without_dates(text: str) -> str:
    """A byline line without the date printed beside the name, and that date's label."""
    for found in find_dates(text):
        text = text.replace(found.raw, " ")
    return clean_line(_DATE_REMNANT.sub(" ", clean_line(text))).strip(" ,|-–—")


def byline_author(text: str) -> str:
    """The author as printed, without role labels ("Tin, ảnh:") or a leading "Theo ".

    Several names are joined with ", " ("Thu Hằng - Văn Tuấn" is two writers); a name and its
    unit keep the portal's separator ("Thu Hà - Ban Dân vận Quận ủy", "LÊ THỊ HỒNG (Ban Dân
    vận Huyện ủy Nga Sơn)").
    """
    text = _unwrap(clean_line(text).strip("[] "))
    text = _BYLINE_LABEL.sub("", text)
    text = _BYLINE_ROLE.sub("", text)
    source = _BYLINE_SOURCE.match(text)
    if source:
        text = source.group(1)
    # A date printed with the name ("By Carrie Arnold November 15, 2019") is not the author.
    for found in find_dates(text):
        text = text.replace(found.raw, " ")
    text = _unwrap(clean_line(text).strip(" .,|-–—"))
    parts = re.split(r"\s+[-–—]\s+", text)
    if len(parts) > 1 and all(_is_person_name(part) for part in parts):
        return ", ".join(parts)
    return text


def _unwrap(text: str) -> str:
    """Drop parentheses around the whole byline, or left unbalanced at either end."""
    if text.startswith("(") and text.endswith(")") and text.count("(") == 1:
        return text[1:-1].strip()
    if text.endswith(")") and "(" not in text:
        return text[:-1].strip()
    if text.startswith("(") and ")" not in text:
        return text[1:].strip()
    return text


# Words that open the name of a unit or a place rather than of a person.
_UNIT_WORD = re.compile(
    r"^(?:Phường|Xã|Thị trấn|Huyện|Quận|Thị xã|Tỉnh|Thành phố|TP\.?|Thôn|Ấp|Bản|Tổ|Khu phố|"
    r"Trường|Công an|Bệnh viện|Công ty|Chi cục|Hội đồng|Ủy ban|Uỷ ban|Văn phòng)(?:\s|$)"
)


def _is_person_name(text: str) -> bool:
    words = text.split()
    return (
        2 <= len(words) <= 4
        and all(_NAME_WORD.match(word) for word in words)
        and not _ORG_BYLINE.match(text)
        and not _UNIT_WORD.match(text)
    )


def looks_like_caption(block: Block, image: Block | None) -> bool:
    """Whether a text block right after an image describes it."""
    if block.kind not in {"text", "quote"} or not block.text:
        return False
    if block.caption_hint:
        return True
    if image is not None and image.group is not None and block.group is image.group:
        return word_count(block.text) <= 120
    if image is not None and _repeats_alt(block.text, image):
        return True  # CMSs fill the image's alt text from its caption, or the other way
    if block.bold or word_count(block.text) > 80:
        return False
    if block.italic or block.centered:
        return True
    return not block.text.endswith(_TERMINAL)


#: An alt text this short ("ảnh", "photo", a file name) says nothing about the caption.
_MIN_ALT_CHARS = 20


def _repeats_alt(text: str, image: Block) -> bool:
    """Whether `text` is the image's ``alt`` (or ``title``) text, as far as the alt goes."""
    if image.element is None:
        return False
    alt = image.element.get("alt") or image.element.get("title") or ""
    key = fingerprint_text(alt)
    return len(key) >= _MIN_ALT_CHARS and fingerprint_text(text).startswith(key)


def _follows_image(kept: list[Block], block: Block) -> bool:
    return bool(kept) and kept[-1].kind == "image" and looks_like_caption(block, kept[-1])


def assemble(
    blocks: list[Block],
    *,
    title: str | None = None,
    starts_at: Callable[[Block], bool] | None = None,
    sapo: str | None = None,
    byline: bool = True,
) -> Body:
    """Build the body from an article container's blocks.

    Args:
        blocks: the container's blocks in reading order (`dvcrawl.extract.blocks.blocks_of`).
        title: the headline, dropped where the container repeats it.
        starts_at: the first text block of the article (e.g. the dateline lead); text before
            it is dropped, images before it are kept.
        sapo: the lead as the page marks it; the text starts with it.
        byline: whether to look for a byline at the end of the text.

    """
    title_key = fingerprint_text(title) if title else None
    kept: list[Block] = []
    started = starts_at is None
    has_text = False  # a stop anchor only ends the article once its text has begun
    for block in blocks:
        if block.kind != "image":
            if not started:
                if starts_at is not None and starts_at(block):
                    started = True
                elif not (block.caption_hint or _follows_image(kept, block)):
                    continue
            if title_key and fingerprint_text(block.text) == title_key:
                continue
            # A block's text is clean by construction (`dvcrawl.extract.blocks`).
            if has_text and is_stop_anchor_clean_line(block.text):
                break
            if is_boilerplate_clean_line(block.text):
                continue
            has_text = has_text or not block.caption_hint
        kept.append(block)

    # A site footer the container holds (a layout table's last row) ends the article.
    del kept[footer_start([None if b.kind == "image" else b.text for b in kept]) :]

    body = Body()
    text_blocks: list[Block] = []
    last_image: Block | None = None
    after_image = False
    # Once an image has a caption from a caption element, the lines after it are text again
    # (a blog's centred paragraphs after a captioned photo are not more caption).
    marked = False
    for block in kept:
        if block.kind == "image":
            if block.image_url and all(img["url"] != block.image_url for img in body.images):
                body.images.append({"url": block.image_url, "caption": None})
                last_image = block
                after_image = True
                marked = False
            continue
        if block.caption_hint or (
            after_image and not marked and looks_like_caption(block, last_image)
        ):
            if body.images and body.images[-1]["caption"] is None:
                body.images[-1]["caption"] = block.text
            elif body.images:
                body.images[-1]["caption"] = f"{body.images[-1]['caption']} {block.text}"
            if block.caption_hint:
                marked = True
                continue
            # More caption lines may follow inside the image's own figure or table; outside
            # one, the next line is text again (a subheading after a caption was swallowed).
            if (
                last_image is not None
                and last_image.group is not None
                and block.group is last_image.group
            ):
                continue
            after_image = False
            continue
        after_image = False
        text_blocks.append(block)

    if byline:
        authors: list[str] = []
        for _ in range(2):
            if len(text_blocks) > 1 and looks_like_byline(text_blocks[-1]):
                line = text_blocks.pop().text
                authors.insert(0, byline_author(_without_dates(line)))
                body.byline_date = next(iter(find_dates(line)), body.byline_date)
            else:
                break
        # A byline printed above the text carries its role label ("Bài và ảnh: Thanh Tâm",
        # baodongthap.vn's lblAuthor under the headline); without the label, a name at the top
        # cannot be told from a one-line kicker, so only labelled ones are taken.
        if (
            len(text_blocks) > 1
            and _BYLINE_ROLE.match(text_blocks[0].text)
            and looks_like_byline(text_blocks[0])
        ):
            top = byline_author(text_blocks.pop(0).text)
            authors = authors or ([top] if top else [])
        body.author = ", ".join(a for a in authors if a) or None

    body.paragraphs = [block.text for block in text_blocks]
    if sapo:
        sapo = clean_line(sapo)
        sapo_key = fingerprint_text(sapo)
        body.paragraphs = [p for p in body.paragraphs if fingerprint_text(p) != sapo_key]
        body.paragraphs.insert(0, sapo)
        body.sapo = sapo
    elif text_blocks and text_blocks[0].bold and word_count(text_blocks[0].text) >= 15:
        body.sapo = text_blocks[0].text
    return body
