"""Vietnamese text normalization.

Two levels, kept apart on purpose:

* `clean_line` / `join_paragraphs` shape the text we *store*: NFC, invisible characters
  removed, whitespace collapsed. Nothing else is changed, so the stored text reads as printed.
* `fingerprint_text` builds a *key* for comparing texts (deduplication, scoring): it also
  unifies the old and new tone-mark placement (hoà/hòa, thuý/thúy, uỷ/ủy, khoẻ/khỏe), folds
  case, quotes and dashes. NFC alone does not unify tone placement: "hoà" and "hòa" are both
  NFC, with the mark on different letters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Zero-width and formatting characters that portals' editors leave in text; a soft hyphen
# is invisible when rendered, so it is dropped as well.
#: What `clean_line` removes besides whitespace.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f"
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def clean_line(text: str) -> str:
    r"""Normalize one paragraph: NFC, no invisible characters, single spaces, stripped.

    >>> clean_line("  Dân\u00a0vận \u200bkhéo\n ")
    'Dân vận khéo'
    """
    # Hot (every element's text passes here, issue 11): each step is skipped when it would
    # change nothing. str.split() splits at exactly the characters `_SPACES` matches.
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if not text.isascii() and _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    return " ".join(text.split())


def join_paragraphs(paragraphs: list[str]) -> str:
    """Join cleaned paragraphs with one blank line, dropping empty ones."""
    return "\n\n".join(p for p in (clean_line(p) for p in paragraphs) if p)


# Scripts written without spaces between words: Han, Hiragana, Katakana, Thai, Lao, Khmer,
# Myanmar, Tibetan. Hangul separates words with spaces and is counted like Latin.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff]"
)
#: Characters of an unspaced script per word (Chinese words average under two characters).
_CHARS_PER_WORD = 2


def word_count(text: str) -> int:
    """Count words: whitespace-separated tokens, and in unspaced scripts two characters a word.

    Vietnamese syllables count as words. Chinese, Japanese and Thai write without spaces, so a
    whole paragraph would otherwise count as one or two words.

    >>> word_count("Dân vận khéo")
    3
    >>> word_count("北京是中国的首都")
    4
    """
    if not _UNSPACED.search(text):
        return len(text.split())
    count = 0
    for token in text.split():
        unspaced = len(_UNSPACED.findall(token))
        if unspaced:
            rest = _UNSPACED.sub("", token)
            count += -(-unspaced // _CHARS_PER_WORD) + (1 if rest.strip(".,!?;:()\"'-") else 0)
        else:
            count += 1
    return count


def is_unspaced_script(text: str) -> bool:
    """Whether most letters of `text` are in a script written without spaces between words."""
    letters = sum(1 for char in text if char.isalpha())
    return bool(letters) and len(_UNSPACED.findall(text)) > letters / 2


# --- tone-mark placement -------------------------------------------------------------------
#
# Vietnamese has two conventions for where the tone mark goes in the open syllables
# oa, oe, uy (and their capitals): the "old" style puts it on the second vowel (hoà, thuý,
# khoẻ, uỷ), the "new" style on the first (hòa, thúy, khỏe, ủy). Both are in daily use on
# the portals, often on one page. For fingerprints we move the mark to the first vowel, the
# choice underthesea makes, except after "q" where "u" is part of the consonant (quý stays).

_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below
# The tone must end the syllable: no further letter and no further mark ("hoặc" is a+breve).
_END = r"(?![\w\u0300-\u036f])"
_OLD_STYLE = re.compile(
    rf"(?<![qQ])([oO])([aAeE])([{_TONES}]){_END}|(?<![qQ])([uU])([yY])([{_TONES}]){_END}"
)


def _move_tone(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(1) + match.group(3) + match.group(2)
    return match.group(4) + match.group(6) + match.group(5)


# In NFC text, an old-style syllable shows as a bare o/u before a precomposed toned a, e or y
# that ends the word; text without one is left as it is, without decomposing it (most text,
# issue 11). The end of the word matters: "đoàn", "toàn", "hoàn" are closed syllables in
# almost every Vietnamese text, and decomposing a whole article for them cost more than the
# rest of its fingerprint.
_MAYBE_OLD_STYLE = re.compile(
    "(?:[oO][àáảãạÀÁẢÃẠèéẻẽẹÈÉẺẼẸ]|[uU][ỳýỷỹỵỲÝỶỸỴ])(?![\\w\u0300-\u036f])"
)


def unify_tone_marks(text: str) -> str:
    """Rewrite old-style tone placement (hoà, thuý, uỷ) to the new style (hòa, thúy, ủy).

    Only open syllables are rewritten: "hoàn" and "quý" keep their marks where they are.

    >>> unify_tone_marks("Tỉnh uỷ Thanh Hoá, sức khoẻ")
    'Tỉnh ủy Thanh Hóa, sức khỏe'
    """
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if not _MAYBE_OLD_STYLE.search(text):
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _OLD_STYLE.sub(_move_tone, decomposed))


_NON_WORD = re.compile(r"[^\w]+")


def fingerprint_text(text: str) -> str:
    """Return a comparison key: NFC, unified tone marks, case-folded, punctuation dropped.

    Two texts that a reader sees as the same words give the same key.

    >>> fingerprint_text("Tỉnh uỷ  “Thanh Hoá”") == fingerprint_text("TỈNH ỦY Thanh Hóa")
    True
    """
    # Extraction compares the same headings, lines and labels many times over (issue 11).
    if len(text) <= _CACHED_CHARS:
        return _short_fingerprint(text)
    return _long_fingerprint(text)


#: Texts up to this long (headings, lines, labels) have their fingerprints cached.
_CACHED_CHARS = 400


@lru_cache(maxsize=16384)
def _short_fingerprint(text: str) -> str:
    return _fingerprint(text)


# A stored article's text is keyed twice in a row, by deduplication and by topic scoring
# (issue 11); the last few are kept, not more, as they are whole articles.
@lru_cache(maxsize=4)
def _long_fingerprint(text: str) -> str:
    return _fingerprint(text)


def _fingerprint(text: str) -> str:
    # Typographic quotes and dashes are non-word characters like their ASCII forms, so the
    # substitution below folds them without a translation table.
    text = unify_tone_marks(clean_line(text)).casefold()
    return _NON_WORD.sub(" ", text).strip()


def content_hash(text: str | None) -> str:
    """SHA-256 of the fingerprint of `text`: equal for texts a reader sees as the same words."""
    import hashlib

    return hashlib.sha256(fingerprint_text(text or "").encode("utf-8")).hexdigest()
