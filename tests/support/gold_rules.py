"""Checks of a hand-written record against its page and the text rules (README, "The Article
record"; docs/extraction.md).

They read only the record and the stored HTML, never the extractor: a record that an
extractor wrote for itself would pass the golden tests whatever it holds, so these checks are
what ties a gold record to what the page prints.
"""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from dvcrawl.items import ARTICLE_KEYS

_TAG = re.compile(r"<[^>]+>")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}\+07:00)?$")


def _flat(text: str) -> str:
    """NFC without any whitespace: tags become spaces, so spacing is not what is compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


def printed_text(raw_html: str) -> str:
    """Every string the page holds as text, without whitespace.

    Two readings are joined: the markup's text, and the text of JSON embedded in scripts with
    its escapes undone (tuyengiaodanvan.vn ships the article as ``__NEXT_DATA__`` JSON).
    """
    markup = html_lib.unescape(_TAG.sub(" ", raw_html))
    decoded = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw_html)
    decoded = decoded.replace('\\"', '"').replace("\\n", " ").replace("\\/", "/")
    embedded = html_lib.unescape(_TAG.sub(" ", decoded))
    return _flat(markup) + "\x00" + _flat(embedded)


def _printed(fragment: str, page: str) -> bool:
    # A table row is written as its cells joined by " | " (docs/extraction.md).
    return all(_flat(cell) in page for cell in fragment.split(" | ") if cell.strip())


def _date_spellings(value: datetime) -> set[str]:
    """The ways the portals print a day: 5/3/2023, 05-03-2023, 05.03.2023, "5 tháng 3 năm 2023"."""
    found = {f"{value.year}-{value.month:02}-{value.day:02}"}
    for day in {str(value.day), f"{value.day:02}"}:
        for month in {str(value.month), f"{value.month:02}"}:
            found |= {f"{day}{sep}{month}{sep}{value.year}" for sep in "/-."}
            found.add(f"{day} tháng {month} năm {value.year}")
    return found


def date_is_printed(published_at: str, raw_html: str) -> bool:
    """Whether the page prints `published_at`: its day, and its time when it has one.

    Embedded JSON may give the moment in UTC (``2025-10-21T02:30:00.000Z``).
    """
    text = re.sub(r"\s+", " ", html_lib.unescape(raw_html))
    value = datetime.fromisoformat(published_at)
    has_time = "T" in published_at
    if has_time and value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") in text:
        return True
    if not any(spelling in text for spelling in _date_spellings(value)):
        return False
    if not has_time:
        return True
    hour12 = value.hour % 12 or 12  # "02:38 PM", "3:40:12 CH" (chiều)
    clocks = {
        f"{value.hour:02}:{value.minute:02}",
        f"{value.hour}:{value.minute:02}",
        f"{value.hour}h{value.minute:02}",
        f"{hour12:02}:{value.minute:02}",
        f"{hour12}:{value.minute:02}",
    }
    return any(clock in text for clock in clocks)


def record_problems(record: dict[str, Any], raw_html: str, *, complete: bool) -> list[str]:
    """What is wrong with a gold record: an empty list when it follows the rules.

    Args:
        record: the hand-written record.
        raw_html: the stored page.
        complete: whether the record must have exactly `ARTICLE_KEYS` in order (golden files
            in tests/fixtures) rather than the scored subset (the gold set in tests/eval).

    """
    problems: list[str] = []
    if complete and list(record) != list(ARTICLE_KEYS):
        problems.append(f"keys {list(record)} are not the record's keys in order")
    missing = {"url", "site", "is_article"} - set(record)
    if missing:
        problems.append(f"missing {sorted(missing)}")
    if not record.get("is_article"):
        return problems
    title, text = record.get("title") or "", record.get("text") or ""
    if not title or not text:
        return [*problems, "an article needs a title and a text"]
    page = printed_text(raw_html)
    for name in ("title", "text", "author", "sapo"):
        value = record.get(name)
        if value and not unicodedata.is_normalized("NFC", value):
            problems.append(f"{name} is not NFC")
    paragraphs = text.split("\n\n")
    for paragraph in paragraphs:
        if not paragraph or paragraph != " ".join(paragraph.split()):
            problems.append(f"whitespace in paragraph {paragraph[:40]!r}")
        elif not _printed(paragraph, page):
            problems.append(f"paragraph not printed on the page: {paragraph[:60]!r}")
    if not _printed(title, page):
        problems.append(f"title not printed on the page: {title!r}")
    if _flat(paragraphs[0]) == _flat(title):
        problems.append("the title is repeated as the first paragraph")
    author = record.get("author")
    if author:
        # Two byline lines are one author field, joined by ", " (body.assemble).
        if not all(_printed(name, page) for name in author.split(", ")):
            problems.append(f"author not printed on the page: {author!r}")
        if any(_flat(paragraph) == _flat(author) for paragraph in paragraphs):
            problems.append(f"the byline {author!r} is left in the text")
    sapo = record.get("sapo")
    if sapo and paragraphs[0] != sapo:
        problems.append("the sapo is not the first paragraph")
    for image in record.get("images") or []:
        caption = image.get("caption")
        if caption and any(_flat(caption) == _flat(paragraph) for paragraph in paragraphs):
            problems.append(f"the caption {caption[:40]!r} is left in the text")
    published = record.get("published_at")
    if published is not None:
        if not _DATE.match(published):
            problems.append(f"published_at {published!r} is not YYYY-MM-DD[THH:MM:SS+07:00]")
        elif datetime.fromisoformat(published[:10]).replace(tzinfo=UTC) > datetime.now(UTC):
            problems.append(f"published_at {published!r} is in the future")
        elif not date_is_printed(published, raw_html):
            problems.append(f"published_at {published!r} is not printed on the page")
    raw_date = record.get("published_raw")
    if raw_date and _flat(raw_date) not in _flat(raw_html) and not _printed(raw_date, page):
        problems.append(f"published_raw not on the page: {raw_date!r}")
    for leak in record.get("without") or []:
        if _flat(leak) in _flat(text):
            problems.append(f"its own boilerplate is in the text: {leak!r}")
    return problems
