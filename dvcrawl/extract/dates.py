"""Vietnamese dates: regex fast paths, dateparser as the fallback, results in Asia/Ho_Chi_Minh.

The portals print dates in a handful of shapes (seen on their pages, kept in tests/test_dates.py):

* ``Thứ Sáu, ngày 19 tháng 8 năm 2022``           (thanhuytphcm header, tuyengiao)
* ``Ngày đăng 28/02/2024 | 16:38  | Lượt xem: 649`` (Liferay portals of Hanoi)
* ``27/03/2020 - 11:38 AM``                        (Hanoi Fatherland Front)
* ``Cập nhật ngày: 29/12/2022 13:30:26``           (baodongthap.vn, ASP.NET)
* ``Chủ Nhật, 18/01/2026, 21:21 (GMT+7)``          (baodongthap.vn, 2025 CMS)
* ``Thứ Năm, 8/6/2023 14:46'(GMT+7)``              (tuyengiao.vn)
* ``2024-02-28T16:38:00+07:00``                    (meta tags, JSON-LD, embedded JSON; any
  offset, converted to +07:00: ``<time datetime>`` and ``article:published_time`` are often UTC)
* ``12 Tháng Ba, 2024``, ``Tháng Ba 12, 2024 8:30 sáng`` (WordPress in Vietnamese)
* ``Thứ sáu, 15 Tháng 3 2024 08:00``              (Joomla, ``l, d F Y H:i``)
* ``Tháng Giêng 2, 2024``, ``02/01/2024 8:30 SA``   (.NET's vi-VN culture: DotNetNuke, SharePoint)
* ``November 19, 2019 at 8:59 pm``, ``19 Nov 2019`` (English-language CMSs)

All are read day first. dateparser handles these poorly without help (it returns None for
three of them and loses the time of others, as measured with dateparser 1.5), so the fast paths
come first and dateparser only sees what they do not recognise.

A date is returned only when the page gives day, month and year. Year-less ("Sáng 10/6"),
relative ("2 giờ trước", "hôm qua") and future dates give None: a wrong date is worse than
none, because nothing downstream can tell it is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from dvcrawl.extract.text import clean_line

#: Vietnam has kept UTC+7 without daylight saving since 1975; a fixed offset avoids
#: depending on the system's tz database and prints as "+07:00".
VN_TZ = timezone(timedelta(hours=7), "ICT")

# A clock skew allowance: a page stamped a few minutes "in the future" is not a future date.
_FUTURE_SLACK = timedelta(minutes=30)
_EARLIEST_YEAR = 1990

_WEEKDAY = (
    r"(?:th[ứu]\s*(?:hai|ba|t[ưu]|n[ăa]m|s[áa]u|b[ảa]y|b[ẩa]y|[2-7])|ch[ủu]\s*nh[ậa]t|cn|t[2-7])"
)
_TIME = (
    r"(?P<h>\d{1,2})\s*(?::|h|giờ)\s*(?P<mi>[0-5]\d)"
    r"(?:\s*(?::|phút)\s*(?P<s>[0-5]\d))?"
    r"(?:\s*'|\s*phút)?"
    # AM/PM, .NET's vi-VN designators SA/CH, WordPress's Vietnamese "sáng"/"chiều"/"tối".
    r"(?:\s*(?P<ampm>AM|PM|a\.m\.|p\.m\.|SA|CH|sáng|chiều|tối)(?!\w))?"
    r"(?:\s*(?P<zone>EST|EDT|CST|CDT|MST|MDT|PST|PDT|HST|AKST|AKDT|BST|CET|CEST|UTC|GMT(?!\s*\+\s*0?7))\b)?"
)
_GMT = r"(?:\s*\(?\s*GMT\s*\+\s*0?7(?::00)?\s*\)?)?"
_SEP = r"[\s,|\-–—]*"

_ISO = re.compile(
    r"(?<!\d)(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})"
    r"(?:[T\s]+(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:\.\d+)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?(?!\d)"
)
_DMY = re.compile(
    r"(?<![\d/.-])(?P<d>\d{1,2})\s*([/.-])\s*(?P<m>\d{1,2})\s*\2\s*(?P<y>\d{4})(?!\d)"
)
_SPELLED = re.compile(
    r"(?:ngày\s*)?(?P<d>\d{1,2})\s*tháng\s*(?P<m>\d{1,2})\s*(?:năm|,)\s*(?P<y>\d{4})(?!\d)",
    re.IGNORECASE,
)
# Month names as the CMSs print them: WordPress and .NET in Vietnamese ("Tháng Ba",
# "Tháng Mười Hai", "Tháng Giêng"), numbered ("Tháng 3", "thg 3", "Th03", "Th.3"), English.
_VI_MONTH_WORDS = {
    "một": 1, "giêng": 1, "hai": 2, "ba": 3, "tư": 4, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7,
    "tám": 8, "chín": 9, "mười": 10, "mười một": 11, "mười hai": 12, "chạp": 12,
}  # fmt: skip
_EN_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<month>(?:tháng|thg|th\.?)\s*(?:mười\s+một|mười\s+hai|một|giêng|hai|ba|tư|bốn|năm|sáu|"
    r"bảy|tám|chín|mười|chạp|\d{1,2})(?!\w)"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?)"
)
_NAMED_DMY = re.compile(
    rf"(?<![\d/.-])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+{_MONTH}\s*,?\s*(?P<y>\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_NAMED_MDY = re.compile(
    rf"(?<!\w){_MONTH}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s+(?P<y>\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_TIME_AFTER = re.compile(rf"^{_SEP}(?:lúc\s*|at\s+)?{_TIME}{_GMT}", re.IGNORECASE)
_TIME_BEFORE = re.compile(
    rf"{_TIME}{_SEP}(?:ngày\s*)?(?:{_WEEKDAY}{_SEP})?(?:ngày\s*)?$", re.IGNORECASE
)
_WEEKDAY_BEFORE = re.compile(rf"{_WEEKDAY}{_SEP}(?:ngày\s*)?$", re.IGNORECASE)
_RELATIVE = re.compile(
    r"\b(?:trước|hôm\s*(?:qua|nay|kia)|vừa\s*xong|mới\s*đây|tuần\s*(?:này|tới|sau)|ago|yesterday)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_FOUR_DIGITS = re.compile(r"\d{4}")


@dataclass(frozen=True)
class ParsedDate:
    """A date read from a page.

    Attributes:
        value: timezone-aware, in +07:00; midnight when the page gives no time.
        raw: the date string as found on the page (weekday and time included).
        has_time: whether the page gave a time of day.

    """

    value: datetime
    raw: str
    has_time: bool

    def isoformat(self) -> str:
        """``2024-02-28T16:38:00+07:00``, or ``2022-12-29`` when the page gives no time."""
        if self.has_time:
            return self.value.isoformat(timespec="seconds")
        return self.value.date().isoformat()


def parse_date(text: str | None, *, now: datetime | None = None) -> ParsedDate | None:
    """Read the first complete date in `text`, or return None.

    Args:
        text: a date line as printed on the page, with or without labels around it.
        now: the reference for "never in the future" (default: the current time).

    >>> parse_date("Ngày đăng 28/02/2024 | 16:38  | Lượt xem: 649").isoformat()
    '2024-02-28T16:38:00+07:00'
    >>> parse_date("Cập nhật ngày: 29/12/2022 13:30:26").isoformat()
    '2022-12-29T13:30:26+07:00'
    >>> parse_date("Thứ Sáu, ngày 19 tháng 8 năm 2022").isoformat()
    '2022-08-19'
    >>> parse_date("Sáng 10/6") is None
    True

    """
    if not text:
        return None
    line = clean_line(text)
    if not line or len(line) > 400:
        return None
    found = find_dates(line, now=now)
    if found:
        return found[0]
    if _RELATIVE.search(line) or not _YEAR.search(line):
        return None
    return _parse_with_dateparser(line, now=now)


def find_dates(text: str, *, now: datetime | None = None) -> list[ParsedDate]:
    """Return every complete date the fast paths recognise in `text`, in order of position."""
    if not _FOUR_DIGITS.search(text):
        return []  # every pattern needs a year: most lines are answered here (issue 11)
    line = clean_line(text)
    now = now or datetime.now(UTC)
    found: list[tuple[int, ParsedDate]] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_ISO, _SPELLED, _DMY, _NAMED_DMY, _NAMED_MDY):
        for match in pattern.finditer(line):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            parsed = _from_match(line, match, pattern is _ISO, now)
            if parsed is not None:
                found.append((match.start(), parsed))
                taken.append(match.span())
    return [parsed for _, parsed in sorted(found, key=lambda pair: pair[0])]


def is_future(value: datetime, now: datetime | None = None) -> bool:
    """Whether `value` lies after `now` (plus a small clock-skew allowance)."""
    return value > (now or datetime.now(UTC)) + _FUTURE_SLACK


def _from_match(line: str, match: re.Match[str], iso: bool, now: datetime) -> ParsedDate | None:
    parts = match.groupdict()
    month = parts.get("m") or _month_number(parts.get("month") or "")
    if month is None:
        return None
    day = _make_date(parts["y"], str(month), parts["d"])
    if day is None:
        return None
    start, end = match.span()
    clock: dict[str, Any] | None = None
    if iso and parts.get("h"):
        clock = parts
    else:
        after = _TIME_AFTER.match(line[end:])
        if after:
            clock = after.groupdict()
            end += after.end()
        else:
            before = _TIME_BEFORE.search(line[:start])
            if before:
                clock = before.groupdict()
                start = before.start()
    if not iso and start == match.start():
        weekday = _WEEKDAY_BEFORE.search(line[:start])
        if weekday:
            start = weekday.start()
    value = datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
    if clock is not None and clock.get("zone"):
        clock = None  # a time in another zone ("7:45 am PST"): the day is right, the hour not
    if clock is not None:
        moment = _make_time(clock)
        if moment is None:
            return None
        value = value.replace(hour=moment[0], minute=moment[1], second=moment[2])
        if iso and parts.get("tz"):
            value = _with_offset(value, parts["tz"])
    if is_future(value, now):  # midnight when the page gives no time: today is not future
        return None
    raw = line[start:end].strip()
    return ParsedDate(value=value, raw=raw, has_time=clock is not None)


def _month_number(name: str) -> int | None:
    """The month of a printed month name ("Tháng Mười Hai", "thg 3", "Th.03", "Sept.")."""
    key = " ".join(name.lower().strip(" .").split())
    if not key:
        return None  # every English month starts with the empty string
    number = re.sub(r"^(?:tháng|thg|th)\.?\s*", "", key)
    if number.isdigit():
        return int(number) if 1 <= int(number) <= 12 else None
    if number != key:
        return _VI_MONTH_WORDS.get(number)
    for english, value in _EN_MONTHS.items():
        if english.startswith(key[:3]) and (key == english or len(key) <= 4):
            return value
    return None


def _make_date(year: str, month: str, day: str) -> date | None:
    try:
        result = date(int(year), int(month), int(day))
    except ValueError:
        return None
    return result if result.year >= _EARLIEST_YEAR else None


def _make_time(parts: dict[str, Any]) -> tuple[int, int, int] | None:
    hour, minute = int(parts["h"]), int(parts["mi"])
    second = int(parts["s"]) if parts.get("s") else 0
    marker = (parts.get("ampm") or "").lower().replace(".", "")
    if marker in {"pm", "ch", "chiều", "tối"} and hour < 12:
        hour += 12
    elif marker in {"am", "sa", "sáng"} and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


def _with_offset(value: datetime, offset: str) -> datetime:
    """Reinterpret a wall-clock `value` as given in `offset`, then express it in +07:00."""
    if offset == "Z":
        tz = UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        # _ISO's offset always has four digits ("+0700", "+07:00").
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return value.replace(tzinfo=tz).astimezone(VN_TZ)


_DATEPARSER_SETTINGS = {
    "DATE_ORDER": "DMY",
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "RETURN_AS_TIMEZONE_AWARE": True,
    "PREFER_DATES_FROM": "past",
    "REQUIRE_PARTS": ["day", "month", "year"],
}


def _parse_with_dateparser(line: str, *, now: datetime | None) -> ParsedDate | None:
    # Imported here: dateparser costs ~80 ms to import and ~65 ms on its first call, and
    # most pages never get this far.
    import dateparser

    value = dateparser.parse(line, languages=["vi"], settings=_DATEPARSER_SETTINGS)
    if value is None or value.year < _EARLIEST_YEAR:
        return None
    value = value.astimezone(VN_TZ)
    has_time = bool(re.search(r"\d{1,2}\s*[:h]\s*\d{2}", line))
    if not has_time:
        value = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if is_future(value, now):
        return None
    return ParsedDate(value=value.replace(microsecond=0), raw=line, has_time=has_time)


def warm_up() -> None:
    """Pay dateparser's import and first-call cost now (call once when a crawl starts)."""
    _parse_with_dateparser("ngày 1 tháng 1 năm 2020", now=None)
