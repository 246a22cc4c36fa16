"""Extraction quality on the gold set: dvcrawl against trafilatura, per site and overall.

Gold pages live in ``tests/eval/pages/<group>/<name>.html`` with a hand-written record beside
each (``<name>.json``: url, site, is_article, title, text, author, published_at, and
``without``: strings of that page's boilerplate that must never reach the text).

Metrics:

* body precision / recall / F1 over word 4-gram shingles, normalized per page and averaged
  over pages (the method of the Zyte article-extraction benchmark);
* exact match: the extracted body has exactly the gold's word sequence (the Zyte benchmark's
  "accuracy"); identical: the text is the gold character for character;
* title, date (published_at, to the second) and author accuracy;
* leaks: a "without" string of the page, or a known chrome phrase, found in the body;
* non-article rejection: share of non-article pages that come back with is_article false.

Run ``python -m tests.eval.score`` for the table (``--markdown`` for the README,
``--json`` for machine use); ``tests/test_quality_gate.py`` fails CI below the floors in
``tests/eval/floors.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGES = Path(__file__).resolve().parent / "pages"
FLOORS = Path(__file__).resolve().parent / "floors.json"

#: Chrome phrases that are never article text on these portals, wherever they appear.
CHROME = re.compile(
    r"Đang online|Tổng số truy cập|Lượt truy cập trong|Lượt xem\s*:|Ý kiến bạn đọc|Gửi bình luận|"
    r"Trở về trang trước|In trang|Gửi email|Mã xác nhận|Tổng lượt bình luận|Thống kê truy cập",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\w+")


@dataclass
class GoldPage:
    """One gold page."""

    group: str
    name: str
    html: str
    gold: dict[str, Any]


@dataclass
class Prediction:
    """What a system extracted from a page (the fields that are scored)."""

    is_article: bool
    title: str | None = None
    text: str | None = None
    author: str | None = None
    published_at: str | None = None


@dataclass
class PageScore:
    """Scores of one system on one page."""

    page: GoldPage
    prediction: Prediction
    tp_fp_fn: tuple[float, float, float] = (0.0, 0.0, 0.0)
    exact: bool = False
    identical: bool = False
    title_ok: bool = False
    date_ok: bool = False
    day_ok: bool = False
    author_ok: bool = False
    leaks: list[str] = field(default_factory=list)


def load_gold(root: Path = PAGES) -> list[GoldPage]:
    """Every gold page under `root`, sorted by group and name."""
    pages = []
    for gold_path in sorted(root.glob("*/*.json")):
        html_path = gold_path.with_suffix(".html")
        if not html_path.exists():
            raise FileNotFoundError(f"{gold_path} has no page beside it")
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        pages.append(GoldPage(gold_path.parent.name, gold_path.stem, _read_html(html_path), gold))
    return pages


def _read_html(path: Path) -> str:
    from dvcrawl.extract.page import decode_html

    return decode_html(path.read_bytes())


# --- systems ---------------------------------------------------------------------------------


def dvcrawl_system(page: GoldPage) -> Prediction:
    """dvcrawl's extractor, as a crawl runs it."""
    from dvcrawl.extraction import extract_article

    record = extract_article(page.html, page.gold["url"])
    return Prediction(
        record.is_article, record.title, record.text, record.author, record.published_at
    )


def trafilatura_system(page: GoldPage) -> Prediction:
    """trafilatura 2.x with comments off (its best setting on these portals, per our research).

    It has no notion of a non-article page: a page counts as an article when a body comes back.
    """
    import trafilatura

    result = trafilatura.bare_extraction(
        page.html,
        url=page.gold["url"],
        with_metadata=True,
        include_comments=False,
        favor_precision=False,
    )
    if result is None:
        return Prediction(False)
    data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    text = data.get("text")
    if text:
        text = "\n\n".join(line.strip() for line in text.splitlines() if line.strip())
    return Prediction(
        bool(text), data.get("title"), text or None, data.get("author"), data.get("date")
    )


SYSTEMS: dict[str, Callable[[GoldPage], Prediction]] = {
    "dvcrawl": dvcrawl_system,
    "trafilatura": trafilatura_system,
}


# --- scoring ---------------------------------------------------------------------------------


def _norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def _tokens(text: str | None) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFC", text or ""))


def _shingles(text: str | None, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _tokens(text)
    return Counter(
        tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n]
    )


def shingle_counts(gold: str | None, predicted: str | None) -> tuple[float, float, float]:
    """Per-page true/false positive and false negative shares of word 4-gram shingles."""
    true, pred = _shingles(gold), _shingles(predicted)
    tp = fp = fn = 0.0
    for key in set(true) | set(pred):
        tp += min(true[key], pred[key])
        fp += max(0, pred[key] - true[key])
        fn += max(0, true[key] - pred[key])
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def score_page(page: GoldPage, prediction: Prediction) -> PageScore:
    """Score one prediction against its gold page."""
    gold = page.gold
    score = PageScore(page, prediction)
    if not gold["is_article"]:
        return score
    text = prediction.text if prediction.is_article else None
    score.tp_fp_fn = shingle_counts(gold["text"], text)
    score.exact = bool(text) and _tokens(text) == _tokens(gold["text"])
    score.identical = bool(text) and unicodedata.normalize("NFC", text) == unicodedata.normalize(
        "NFC", gold["text"]
    )
    score.title_ok = _norm(prediction.title) == _norm(gold["title"])
    score.date_ok = (prediction.published_at or None) == (gold.get("published_at") or None)
    score.day_ok = (prediction.published_at or "")[:10] == (gold.get("published_at") or "")[:10]
    score.author_ok = _norm(prediction.author) == _norm(gold.get("author"))
    body = _norm(text)
    score.leaks = [s for s in gold.get("without", []) if _norm(s) and _norm(s) in body]
    score.leaks += [
        m.group(0) for m in CHROME.finditer(body) if not CHROME.search(_norm(gold["text"]))
    ]
    return score


@dataclass
class Summary:
    """Aggregate scores of one system over a set of pages."""

    articles: int
    non_articles: int
    precision: float
    recall: float
    f1: float
    exact: float
    identical: float
    title: float
    date: float
    day: float
    author: float
    leaks: int
    rejected: float


def summarize(scores: Iterable[PageScore]) -> Summary:
    """Aggregate page scores (precision and recall averaged over pages, as in the Zyte benchmark)."""
    scores = list(scores)
    articles = [s for s in scores if s.page.gold["is_article"]]
    others = [s for s in scores if not s.page.gold["is_article"]]
    precisions = [
        tp / (tp + fp) if fp or fn else 1.0
        for tp, fp, fn in (s.tp_fp_fn for s in articles)
        if tp + fp > 0
    ]
    recalls = [
        tp / (tp + fn) if fp or fn else 1.0
        for tp, fp, fn in (s.tp_fp_fn for s in articles)
        if tp + fn > 0
    ]
    # A page with no predicted text has no precision term but a recall of 0.
    precision = statistics.mean(precisions) if precisions else 0.0
    recall = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def share(values: list[bool]) -> float:
        return sum(values) / len(values) if values else 1.0

    return Summary(
        articles=len(articles),
        non_articles=len(others),
        precision=precision,
        recall=recall,
        f1=f1,
        exact=share([s.exact for s in articles]),
        identical=share([s.identical for s in articles]),
        title=share([s.title_ok for s in articles]),
        date=share([s.date_ok for s in articles]),
        day=share([s.day_ok for s in articles]),
        author=share([s.author_ok for s in articles]),
        leaks=sum(len(s.leaks) for s in articles),
        rejected=share([not s.prediction.is_article for s in others]),
    )


def evaluate(
    pages: list[GoldPage], systems: dict[str, Callable[[GoldPage], Prediction]] | None = None
) -> dict[str, list[PageScore]]:
    """Run every system on every page."""
    results: dict[str, list[PageScore]] = {}
    for name, system in (systems or SYSTEMS).items():
        results[name] = [score_page(page, system(page)) for page in pages]
    return results


def site_of(score: PageScore) -> str:
    """The row a page is reported under: its site, or "generic" for uncovered portals.

    Uncovered portals on a known platform are reported by CMS family (``cms_wordpress``, ...).
    """
    if score.page.group.startswith("cms_"):
        return score.page.group
    return score.page.gold.get("site") or score.page.group


def by_site(scores: list[PageScore]) -> dict[str, Summary]:
    """Summaries per site, articles and non-articles together."""
    sites = sorted({site_of(s) for s in scores})
    return {site: summarize(s for s in scores if site_of(s) == site) for site in sites}


# --- reporting -------------------------------------------------------------------------------


def table(results: dict[str, list[PageScore]], *, markdown: bool) -> str:
    """A table with one row per site and system, and an overall row per system."""
    header = [
        "site", "system", "pages", "body P", "body R", "body F1", "exact", "identical", "title", "date", "date (day)",
        "author", "leaks", "non-articles rejected",
    ]  # fmt: skip
    rows: list[list[str]] = []
    for system, scores in results.items():
        for site, summary in [
            *by_site(scores).items(),
            ("**overall**" if markdown else "OVERALL", summarize(scores)),
        ]:
            rows.append(_row(site, system, summary))
    rows.sort(key=lambda row: (row[0].strip("*").upper() == "OVERALL", row[0], row[1]))
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in [header, *rows]
    )


def _row(site: str, system: str, s: Summary) -> list[str]:
    def pct(value: float, count: int) -> str:
        return f"{value:.3f}" if count else "-"

    return [
        site,
        system,
        f"{s.articles}+{s.non_articles}",
        pct(s.precision, s.articles),
        pct(s.recall, s.articles),
        pct(s.f1, s.articles),
        pct(s.exact, s.articles),
        pct(s.identical, s.articles),
        pct(s.title, s.articles),
        pct(s.date, s.articles),
        pct(s.day, s.articles),
        pct(s.author, s.articles),
        str(s.leaks) if s.articles else "-",
        f"{s.rejected:.2f}" if s.non_articles else "-",
    ]


def failures(scores: list[PageScore]) -> list[str]:
    """One line per page where a system fell short, to read before changing anything."""
    lines = []
    for s in scores:
        gold, pred = s.page.gold, s.prediction
        where = f"{s.page.group}/{s.page.name}"
        if not gold["is_article"]:
            if pred.is_article:
                lines.append(f"{where}: not rejected")
            continue
        if not pred.is_article:
            lines.append(f"{where}: rejected an article")
        if not s.exact:
            tp, fp, fn = s.tp_fp_fn
            lines.append(f"{where}: body not exact (fp {fp:.3f}, fn {fn:.3f})")
        for name, ok, want, got in (
            ("title", s.title_ok, gold["title"], pred.title),
            ("date", s.date_ok, gold.get("published_at"), pred.published_at),
            ("author", s.author_ok, gold.get("author"), pred.author),
        ):
            if not ok:
                lines.append(f"{where}: {name} {got!r} != {want!r}")
        for leak in s.leaks:
            lines.append(f"{where}: leak {leak!r}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the quality table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="a Markdown table (for the README)")
    parser.add_argument("--json", action="store_true", help="summaries as JSON")
    parser.add_argument(
        "--failures", action="store_true", help="list pages where dvcrawl falls short"
    )
    parser.add_argument(
        "--system", action="append", choices=sorted(SYSTEMS), help="only these systems"
    )
    args = parser.parse_args(argv)
    pages = load_gold()
    systems = {name: SYSTEMS[name] for name in (args.system or SYSTEMS)}
    started = time.perf_counter()
    results = evaluate(pages, systems)
    elapsed = time.perf_counter() - started
    if args.json:
        out = {
            name: {
                "overall": vars(summarize(s)),
                "sites": {k: vars(v) for k, v in by_site(s).items()},
            }
            for name, s in results.items()
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        articles = sum(1 for p in pages if p.gold["is_article"])
        sites = len({p.gold.get("site") for p in pages})
        print(
            f"{len(pages)} gold pages ({articles} articles, {len(pages) - articles} non-articles, {sites} sites); {elapsed:.1f} s\n"
        )
        print(table(results, markdown=args.markdown))
    if args.failures and "dvcrawl" in results:
        print("\n".join(["", "dvcrawl falls short on:", *failures(results["dvcrawl"])]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
