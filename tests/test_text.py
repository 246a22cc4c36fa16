import unicodedata

import pytest

from dvcrawl.extract.text import (
    clean_line,
    content_hash,
    fingerprint_text,
    join_paragraphs,
    unify_tone_marks,
)


def test_clean_line_normalizes_nfc_spaces_and_invisible_characters() -> None:
    decomposed = unicodedata.normalize("NFD", "Dân vận khéo")
    assert clean_line(f"  {decomposed}\u00a0\u200b\t năm\u00ad 2024 \n") == "Dân vận khéo năm 2024"
    assert unicodedata.is_normalized("NFC", clean_line(decomposed))


def test_join_paragraphs_uses_one_blank_line() -> None:
    assert join_paragraphs(["  a  b ", "", "c\n d"]) == "a b\n\nc d"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hoà", "hòa"),
        ("thuý", "thúy"),
        ("khoẻ", "khỏe"),
        ("Thanh Hoá", "Thanh Hóa"),
        ("Tỉnh uỷ", "Tỉnh ủy"),
        ("Uỷ ban", "Ủy ban"),
        ("Thuỵ Điển", "Thụy Điển"),
        ("hoạ sĩ", "họa sĩ"),
        ("HOÀ BÌNH", "HÒA BÌNH"),
    ],
)
def test_unify_tone_marks(old: str, new: str) -> None:
    assert unify_tone_marks(old) == new
    assert unify_tone_marks(new) == new


@pytest.mark.parametrize("word", ["quý", "hoàn", "thuyết", "khoèo", "hoặc", "người"])
def test_unify_tone_marks_leaves_other_syllables(word: str) -> None:
    assert unify_tone_marks(word) == word


def _unify_without_prefilter(text: str) -> str:
    from dvcrawl.extract.text import _OLD_STYLE, _move_tone

    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text))
    return unicodedata.normalize("NFC", _OLD_STYLE.sub(_move_tone, decomposed))


def test_closed_syllables_do_not_send_a_text_through_the_rewrite() -> None:
    # "đoàn", "toàn", "hoàn" are in nearly every article; decomposing and rewriting a whole
    # text for them was the largest cost of a fingerprint (issue 11).
    from dvcrawl.extract.text import _MAYBE_OLD_STYLE

    assert _MAYBE_OLD_STYLE.search("Đoàn kết toàn dân, hoàn thành, thuyết phục, khoèo") is None
    assert _MAYBE_OLD_STYLE.search("Tỉnh uỷ.") and _MAYBE_OLD_STYLE.search("(hoà)")


@pytest.mark.parametrize(
    "text",
    [
        "Đoàn kết toàn dân, hoàn thành hoà giải",
        "hoà\u0301 uỷ\u0323x quý hoạ",
        "HOÀ-THUÝ_khoẻ2 hoà\u200bn oà",
        unicodedata.normalize("NFD", "Tỉnh uỷ Thanh Hoá đoàn"),
    ],
)
def test_the_prefilter_never_changes_the_result(text: str) -> None:
    assert unify_tone_marks(text) == _unify_without_prefilter(text)


def test_fingerprint_ignores_tone_placement_case_quotes_and_spacing() -> None:
    a = "Tỉnh uỷ  Thanh Hoá phát động “Dân vận khéo”."
    b = 'TỈNH ỦY Thanh Hóa phát động "Dân vận khéo"'
    assert fingerprint_text(a) == fingerprint_text(b)
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash("Tỉnh ủy Nghệ An phát động “Dân vận khéo”.")


def test_a_date_line_with_a_dashed_time_and_a_view_counter_is_chrome() -> None:
    from dvcrawl.extract.boilerplate import is_boilerplate_line

    # Split at " - ", "14:20 Lượt xem: 1.057" is neither a date nor chrome; whole, a date line.
    assert is_boilerplate_line("Thứ Năm, 16/10/2025 - 14:20 Lượt xem: 1.057")
    assert not is_boilerplate_line("Thứ Năm, 16/10/2025 - 14:20, Ban Dân vận tổ chức hội nghị")


def test_a_long_text_is_keyed_once_for_deduplication_and_topic_scoring() -> None:
    from dvcrawl.extract.text import _long_fingerprint

    text = "Dân vận khéo ở phường Bến Thành. " * 40
    before = _long_fingerprint.cache_info()
    assert fingerprint_text(text) == fingerprint_text(text)
    after = _long_fingerprint.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
