"""A WARC of realistic portal pages, as many as wanted, for the speed benchmarks.

Every page is one of the gold pages (``tests/eval/pages``: whole pages of the covered portals
and of uncovered ones, articles and non-articles, 16 KB on average), served at its own URL:

* the first pass serves each gold page as it is;
* then, page after page: 10% are the same page republished at another URL (exact copies),
  10% a repost with a few words changed (near copies), and 80% the same template carrying
  another event: a share of the words (15 to 35%) replaced throughout the page, headline and
  metadata included, by other words of the gold texts with the same capitalization, so names,
  places and wording differ while the markup, the chrome and the structure stay the portal's.

The last kind is what a portal's archive mostly holds, and what makes deduplication verify many
candidates: reports written from one template share many shingles. A few responses are not
pages (robots.txt, an image, a 404), as in a crawl's archive.

Run alone: ``.venv/bin/python benchmarks/portal_archive.py OUT.warc.gz [--pages 2000]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dvcrawl.extract.page import decode_html  # noqa: E402
from dvcrawl.warc import WarcFile  # noqa: E402

GOLD = Path(__file__).resolve().parent.parent / "tests" / "eval" / "pages"
#: When the archive's responses were fetched (later than every gold page's date).
FETCHED = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
_WORD = re.compile(r"(?<![(\w])[^\W\d_]{2,}")
_HTML = [("Content-Type", "text/html; charset=utf-8")]


def gold_pages() -> list[tuple[str, str]]:
    """(URL, HTML) of every gold page, in a stable order."""
    pages = []
    for path in sorted(GOLD.glob("*/*.json")):
        url = json.loads(path.read_text(encoding="utf-8"))["url"]
        pages.append((url, decode_html(path.with_suffix(".html").read_bytes())))
    return pages


def vocabulary(pages: list[tuple[str, str]]) -> list[str]:
    """Lower-case words of the gold texts (what replaced words are drawn from)."""
    words: set[str] = set()
    for path in sorted(GOLD.glob("*/*.json")):
        text = json.loads(path.read_text(encoding="utf-8")).get("text") or ""
        words.update(word.lower() for word in _WORD.findall(text))
    return sorted(words)


def variant(html: str, rate: float, rng: random.Random, words: list[str]) -> str:
    """The page with a share `rate` of its distinct words replaced everywhere it shows them."""
    root = lxml.html.document_fromstring(html)
    replaced: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        key = word.lower()
        if key not in replaced:
            replaced[key] = rng.choice(words) if rng.random() < rate else key
        new = replaced[key]
        if word.isupper() and len(word) > 1:
            return new.upper()
        return new[:1].upper() + new[1:] if word[:1].isupper() else new

    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag not in {"script", "style"} and element.text:
            element.text = _WORD.sub(swap, element.text)
        if element.tail:
            element.tail = _WORD.sub(swap, element.tail)
        if element.tag == "meta" and element.get("content"):
            key = (element.get("property") or element.get("name") or "").lower()
            if key in {"og:title", "twitter:title", "description", "og:description"}:
                element.set("content", _WORD.sub(swap, element.get("content")))
    return lxml.html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")


def build(path: Path, pages: int = 2000, seed: int = 11) -> Path:
    """Write an archive of `pages` responses to `path` (see the module docstring)."""
    rng = random.Random(seed)
    gold = gold_pages()
    words = vocabulary(gold)
    warc = WarcFile(path)
    for number in range(pages):
        url, html = gold[number % len(gold)]
        roll = rng.random()
        if number % 50 == 49:
            warc.write_exchange(
                url.split("/", 3)[0] + "//" + url.split("/", 3)[2] + f"/khong-co-{number}",
                status=404,
                headers=_HTML,
                body=b"<html><body>Not found</body></html>",
                date=FETCHED,
            )
            continue
        if number >= len(gold):
            if roll < 0.1:
                pass  # republished as it is
            elif roll < 0.2:
                html = variant(html, 0.02, rng, words)
            else:
                html = variant(html, rng.uniform(0.15, 0.35), rng, words)
            url = f"{url}{'&' if '?' in url else '?'}bai={number}"
        warc.write_exchange(url, status=200, headers=_HTML, body=html.encode("utf-8"), date=FETCHED)
    return warc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args()
    print(build(args.out, args.pages))


if __name__ == "__main__":
    main()
