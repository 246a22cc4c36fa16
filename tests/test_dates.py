"""Vietnamese dates: every format the portals print, and strings that must not give a date."""

import re
from datetime import UTC, datetime

import pytest

from dvcrawl.extract.dates import find_dates, parse_date

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # 13:00 in Vietnam


@pytest.mark.parametrize(
    ("text", "iso", "raw"),
    [
        # thanhuytphcm header and tuyengiao long form
        ("Thứ Sáu, ngày 19 tháng 8 năm 2022", "2022-08-19", "Thứ Sáu, ngày 19 tháng 8 năm 2022"),
        ("Thứ Năm, ngày 28 tháng 3 năm 2024", "2024-03-28", "Thứ Năm, ngày 28 tháng 3 năm 2024"),
        # zero-padded month: dateparser #1297 read this as a relative date
        ("ngày 21 tháng 09 năm 2025", "2025-09-21", "ngày 21 tháng 09 năm 2025"),
        ("Hà Nội, ngày 05 tháng 01 năm 2024", "2024-01-05", "ngày 05 tháng 01 năm 2024"),
        # Liferay portals of Hanoi (seed 002)
        (
            "Ngày đăng 28/02/2024 | 16:38  | Lượt xem: 649",
            "2024-02-28T16:38:00+07:00",
            "28/02/2024 | 16:38",
        ),
        # Hanoi Fatherland Front (seed 003): 12-hour clock
        ("27/03/2020 - 11:38 AM", "2020-03-27T11:38:00+07:00", "27/03/2020 - 11:38 AM"),
        ("27/03/2020 - 02:05 PM", "2020-03-27T14:05:00+07:00", "27/03/2020 - 02:05 PM"),
        ("27/03/2020 - 12:10 AM", "2020-03-27T00:10:00+07:00", "27/03/2020 - 12:10 AM"),
        # baodongthap.vn ASP.NET (seed 004) and 2025 CMS
        ("Cập nhật ngày: 29/12/2022 13:30:26", "2022-12-29T13:30:26+07:00", "29/12/2022 13:30:26"),
        (
            "Chủ Nhật, 18/01/2026, 21:21 (GMT+7)",
            "2026-01-18T21:21:00+07:00",
            "Chủ Nhật, 18/01/2026, 21:21 (GMT+7)",
        ),
        # tuyengiao.vn with the minute mark
        (
            "Thứ Năm, 8/6/2023 14:46'(GMT+7)",
            "2023-06-08T14:46:00+07:00",
            "Thứ Năm, 8/6/2023 14:46'(GMT+7)",
        ),
        # danvan.vn header (a date without time)
        ("Thứ Sáu, 10/1/2025", "2025-01-10", "Thứ Sáu, 10/1/2025"),
        ("Thứ hai, 01/07/2024 - 08:15", "2024-07-01T08:15:00+07:00", "Thứ hai, 01/07/2024 - 08:15"),
        # day first even where month-first would be valid (dateparser without languages: 12 May)
        ("05/12/2023 07:00 (GMT+7)", "2023-12-05T07:00:00+07:00", "05/12/2023 07:00 (GMT+7)"),
        ("12/05/2023", "2023-05-12", "12/05/2023"),
        # other separators and orders
        ("22-10-2025", "2025-10-22", "22-10-2025"),
        ("22.10.2025 14:57", "2025-10-22T14:57:00+07:00", "22.10.2025 14:57"),
        ("Thứ Hai, 22/10/2025 14:57", "2025-10-22T14:57:00+07:00", "Thứ Hai, 22/10/2025 14:57"),
        ("16h38 ngày 28/2/2024", "2024-02-28T16:38:00+07:00", "16h38 ngày 28/2/2024"),
        ("10:30, ngày 28/02/2024", "2024-02-28T10:30:00+07:00", "10:30, ngày 28/02/2024"),
        ("Cập nhật lúc 28/02/2024 lúc 09:05", "2024-02-28T09:05:00+07:00", "28/02/2024 lúc 09:05"),
        # metadata: ISO 8601, converted to +07:00
        ("2024-02-28T16:38:00+07:00", "2024-02-28T16:38:00+07:00", "2024-02-28T16:38:00+07:00"),
        ("2024-02-28T09:38:00Z", "2024-02-28T16:38:00+07:00", "2024-02-28T09:38:00Z"),
        (
            "2024-02-28T09:38:00.000+00:00",
            "2024-02-28T16:38:00+07:00",
            "2024-02-28T09:38:00.000+00:00",
        ),
        ("2024-02-28", "2024-02-28", "2024-02-28"),
        # a view counter with a dot thousands separator is not a time (seed 003)
        ("27/04/2020 - 12.191 lượt xem", "2020-04-27", "27/04/2020"),
        # month names: WordPress in Vietnamese ("j F, Y" and the untranslated "F j, Y"),
        # with its "sáng"/"chiều" for am/pm
        ("12 Tháng Ba, 2024", "2024-03-12", "12 Tháng Ba, 2024"),
        ("Tháng Mười Hai 5, 2023", "2023-12-05", "Tháng Mười Hai 5, 2023"),
        (
            "Tháng Năm 12, 2024 lúc 3:05 chiều",
            "2024-05-12T15:05:00+07:00",
            "Tháng Năm 12, 2024 lúc 3:05 chiều",
        ),
        ("Tháng 3 12, 2024 8:30 sáng", "2024-03-12T08:30:00+07:00", "Tháng 3 12, 2024 8:30 sáng"),
        # .NET's vi-VN names (DotNetNuke) and Joomla's "l, d F Y H:i"
        ("Tháng Giêng 2, 2024", "2024-01-02", "Tháng Giêng 2, 2024"),
        (
            "12 Tháng Mười Một 2023 15:20",
            "2023-11-12T15:20:00+07:00",
            "12 Tháng Mười Một 2023 15:20",
        ),
        (
            "Thứ sáu, 15 Tháng 3 2024 08:00",
            "2024-03-15T08:00:00+07:00",
            "Thứ sáu, 15 Tháng 3 2024 08:00",
        ),
        ("thg 3 12, 2024", "2024-03-12", "thg 3 12, 2024"),
        # English month names; a time in another zone keeps the day only
        (
            "November 19, 2019 at 8:59 pm",
            "2019-11-19T20:59:00+07:00",
            "November 19, 2019 at 8:59 pm",
        ),
        ("19 Nov 2019", "2019-11-19", "19 Nov 2019"),
        ("Sept. 3, 2019", "2019-09-03", "Sept. 3, 2019"),
        ("Monday November 18, 2019 7:45 am PST", "2019-11-18", "November 18, 2019 7:45 am PST"),
    ],
)
def test_formats(text: str, iso: str, raw: str) -> None:
    parsed = parse_date(text, now=NOW)
    assert parsed is not None, text
    assert parsed.isoformat() == iso
    assert parsed.raw == raw


@pytest.mark.parametrize(
    "text",
    [
        "Sáng 10/6",  # year-less (thanhuytphcm leads)
        "Ngày 19/3",  # dateparser would invent the current year
        "19/12",
        "2 giờ trước",  # relative
        "hôm qua",
        "3 tuần trước",
        "tuần tới",
        "31/02/2024",  # impossible
        "29/02/2023",
        "45/10/2024",
        "12/12/2099",  # future
        "30/11/2026",  # later this month, still future
        "27/03/2020 - 25:38",  # impossible time
        "Quyết định số 2034-QĐ/TU",  # document numbers are not dates
        "Lượt xem: 649",
        "",
        "   ",
        "19/8/22",  # two-digit year: ambiguous
        "01/01/1890",  # before any portal existed
        "Tháng 12 năm 2024",  # a month, not a day
        "May 2019",
        "The mayor 12, 2019",  # not a month name
    ],
)
def test_rejects(text: str) -> None:
    assert parse_date(text, now=NOW) is None


def test_never_a_future_date_against_the_fetch_time() -> None:
    fetched = datetime(2024, 3, 1, tzinfo=UTC)
    assert parse_date("28/02/2024 16:38", now=fetched) is not None
    assert parse_date("02/03/2024 08:00", now=fetched) is None


def test_dateparser_fallback_takes_spelled_month_names() -> None:
    from dvcrawl.extract.dates import VN_TZ

    parsed = parse_date("19 tháng Tám năm 2022", now=NOW)
    assert parsed is not None and parsed.isoformat() == "2022-08-19"
    assert parsed.value == datetime(2022, 8, 19, tzinfo=VN_TZ) and not parsed.has_time


def test_find_dates_returns_every_date_in_order() -> None:
    found = find_dates("Đăng 05/03/2023 10:15 - cập nhật 2023-03-06T08:00:00+07:00", now=NOW)
    assert [d.isoformat() for d in found] == [
        "2023-03-05T10:15:00+07:00",
        "2023-03-06T08:00:00+07:00",
    ]


# --- each rule of the parser pinned (mutation check, docs/testing.md) -------------------------

#: Spelled month names: only dateparser reads them.
DATEPARSER_ONLY = re.compile(r"tháng [A-ZÀ-Ỹ]")


@pytest.mark.parametrize(
    ("text", "iso", "raw"),
    [
        # a label before a leading time or weekday stays out of the raw string
        ("Cập nhật 16h38 ngày 28/2/2024", "2024-02-28T16:38:00+07:00", "16h38 ngày 28/2/2024"),
        ("Cập nhật: Thứ Sáu, 10/1/2025", "2025-01-10", "Thứ Sáu, 10/1/2025"),
        # a weekday never widens an ISO stamp, and an ISO time without offset is Vietnam's
        ("Thứ Hai, 2024-02-26", "2024-02-26", "2024-02-26"),
        ("2024-02-28 16:38:00", "2024-02-28T16:38:00+07:00", "2024-02-28 16:38:00"),
        # offsets west of Greenwich and with minutes
        ("2024-02-28T04:38:00-05:00", "2024-02-28T16:38:00+07:00", "2024-02-28T04:38:00-05:00"),
        ("2024-02-28T14:38:00+05:30", "2024-02-28T16:08:00+07:00", "2024-02-28T14:38:00+05:30"),
        ("2024-02-28T16:59:59+0700", "2024-02-28T16:59:59+07:00", "2024-02-28T16:59:59+0700"),
        # Vietnamese 12-hour markers (SA = sáng, CH = chiều) and noon/midnight
        ("27/03/2020 - 02:05 CH", "2020-03-27T14:05:00+07:00", "27/03/2020 - 02:05 CH"),
        ("27/03/2020 - 12:10 PM", "2020-03-27T12:10:00+07:00", "27/03/2020 - 12:10 PM"),
        ("27/03/2020 - 12:10 SA", "2020-03-27T00:10:00+07:00", "27/03/2020 - 12:10 SA"),
        ("27/03/2020 - 23:15", "2020-03-27T23:15:00+07:00", "27/03/2020 - 23:15"),
        # the trailing space a "GMT+7" leaves before a separator is not part of the raw date
        (
            "18/01/2026 21:21 GMT+7 | Lượt xem: 5",
            "2026-01-18T21:21:00+07:00",
            "18/01/2026 21:21 GMT+7",
        ),
        # the earliest year accepted, on both paths
        ("01/01/1990", "1990-01-01", "01/01/1990"),
        ("ngày 5 tháng Tám năm 1990", "1990-08-05", "ngày 5 tháng Tám năm 1990"),
        # dateparser's path with a time
        (
            "19 tháng Tám năm 2022 lúc 16:38",
            "2022-08-19T16:38:00+07:00",
            "19 tháng Tám năm 2022 lúc 16:38",
        ),
    ],
)
def test_rules(text: str, iso: str, raw: str) -> None:
    # The fast paths alone: dateparser, the fallback, would hide a wrong rule by reading the
    # line again.
    if DATEPARSER_ONLY.search(text):
        parsed = parse_date(text, now=NOW)
    else:
        found = find_dates(text, now=NOW)
        assert found, text
        parsed = found[0]
        assert parse_date(text, now=NOW) == parsed
    assert (parsed.isoformat(), parsed.raw) == (iso, raw)
    assert parsed.value.microsecond == 0


@pytest.mark.parametrize(
    "text",
    [
        "27/03/2020 - 24:00",  # no 24th hour
        "2024-02-28T16:60:00+07:00",  # the ISO pattern takes any two digits
        "2024-02-28T16:38:60+07:00",
        "5 tháng Tám năm 1989",  # before 1990, on dateparser's path
        "tháng Tám năm 2022",  # no day: dateparser alone would invent one
        "12 mai 2023",  # dateparser reads Vietnamese only (English month names are a fast path)
    ],
)
def test_rule_rejects(text: str) -> None:
    assert parse_date(text, now=NOW) is None
    assert find_dates(text, now=NOW) == []


def test_stamps_that_touch_or_overlap() -> None:
    # Spans that only touch are two dates; a match overlapping a date already found is
    # skipped, and the ones after it are still read.
    touching = find_dates("28/02/2024ngày 5 tháng 3 năm 2024", now=NOW)
    assert [d.isoformat() for d in touching] == ["2024-02-28", "2024-03-05"]
    after_iso = find_dates("2024-02-28ngày 5 tháng 3 năm 2024", now=NOW)
    assert [d.isoformat() for d in after_iso] == ["2024-02-28", "2024-03-05"]
    overlapping = find_dates("28-02-2024-03-05 và 06/03/2024", now=NOW)
    assert [d.isoformat() for d in overlapping] == ["2024-03-05", "2024-03-06"]


def test_long_lines_are_not_dates() -> None:
    # A date line is short; 400 characters is a paragraph that merely mentions a date.
    date = "28/02/2024"
    assert parse_date(date + " " + "x" * (400 - len(date) - 1), now=NOW) is not None
    assert parse_date(date + " " + "x" * (400 - len(date)), now=NOW) is None


def test_future_is_half_an_hour_past_now() -> None:
    from datetime import timedelta

    from dvcrawl.extract.dates import is_future

    assert not is_future(NOW + timedelta(minutes=10), NOW)
    assert not is_future(NOW + timedelta(minutes=30), NOW)
    assert is_future(NOW + timedelta(minutes=30, seconds=1), NOW)
    # A stamp later today is in the future; today's date without a time is not, even just
    # after midnight in Vietnam (00:20 on 22/11 is 17:20 UTC on 21/11).
    assert parse_date("22/11/2026 20:00", now=NOW) is None
    just_after_midnight = datetime(2026, 11, 21, 17, 20, tzinfo=UTC)
    assert parse_date("22/11/2026", now=just_after_midnight).isoformat() == "2026-11-22"


def test_utc_stamps_do_not_depend_on_the_machine_timezone(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert parse_date("2024-02-28T09:38:00Z", now=NOW).isoformat() == (
            "2024-02-28T16:38:00+07:00"
        )
    finally:
        monkeypatch.undo()
        time.tzset()


def test_warm_up_loads_dateparser() -> None:
    import sys

    from dvcrawl.extract.dates import warm_up

    warm_up()
    assert "dateparser" in sys.modules


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("15 thg 1, 2024", "2024-01-15"),
        ("15 thg 12 2024", "2024-12-15"),
        ("15 Tháng Mười Hai 2024", "2024-12-15"),
        ("Sept. 5, 2023", "2023-09-05"),
        ("05/03/2023 12:15 a.m.", "2023-03-05T00:15:00+07:00"),
        ("05/03/2023 12:15 sáng", "2023-03-05T00:15:00+07:00"),
        ("March 5, 2023 3:40 tối", "2023-03-05T15:40:00+07:00"),
        ("05/03/2023 3:15 p.m.", "2023-03-05T15:15:00+07:00"),
    ],
)
def test_month_names_and_clock_words(text: str, iso: str) -> None:
    assert [d.isoformat() for d in find_dates(text, now=NOW)] == [iso]


def test_month_numbers_and_names_out_of_range() -> None:
    from dvcrawl.extract.dates import _month_number

    assert find_dates("15 thg 13 2024", now=NOW) == []
    assert _month_number("") is None and _month_number(" . ") is None
    assert _month_number("Septem") is None and _month_number("Sep") == 9
