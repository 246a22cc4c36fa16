"""The generic extractor on a public article-extraction benchmark, beside trafilatura.

The pages are half of Zyte's article-extraction benchmark (``benchmarks/zyte_articles``: real
news and blog pages in many languages, every one an article, MIT licence); the score is the
benchmark's own (``zyte_articles/evaluate.py``, unchanged): word 4-gram shingle precision and
recall per page, macro-averaged, F1 of the two; "accuracy" is the share of pages whose body
has exactly the gold's words.

dvcrawl is scored as a crawl stores pages: a page it marks ``is_article: false`` is never
stored, so its body counts as empty (the "rejected" column says how many). The column
"F1 (text)" scores the text it extracted even from pages it rejected.

Run: ``.venv/bin/python benchmarks/zyte_benchmark.py [--markdown] [--failures] [--no-baseline]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "zyte_articles"))

import evaluate as zyte  # noqa: E402  (the benchmark's own scorer)

DATA = Path(__file__).resolve().parent / "zyte_articles"


def load_pages() -> tuple[dict[str, dict], dict[str, str]]:
    """(ground truth by page id, HTML by page id)."""
    truth = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    html = {
        key: gzip.decompress((DATA / "html" / f"{key}.html.gz").read_bytes()).decode(
            "utf-8", "replace"
        )
        for key in truth
    }
    return truth, html


def dvcrawl_system(html: str, url: str) -> tuple[str, bool]:
    """(text, is_article) as ``dvcrawl extract`` gives them."""
    from dvcrawl.extraction import extract_article

    record = extract_article(html, url)
    return record.text or "", record.is_article


def trafilatura_system(html: str, url: str) -> tuple[str, bool]:
    """trafilatura's ``extract`` with its defaults (how the benchmark's README runs it)."""
    import trafilatura

    text = trafilatura.extract(html, url=url) or ""
    return text, bool(text)


SYSTEMS: dict[str, Callable[[str, str], tuple[str, bool]]] = {
    "dvcrawl": dvcrawl_system,
    "trafilatura": trafilatura_system,
}


def run(name: str, truth: dict[str, dict], html: dict[str, str]) -> dict:
    """Run one system on every page; return its metrics and per-page results."""
    system = SYSTEMS[name]
    for key in list(truth)[:3]:
        system(html[key], truth[key]["url"])  # warm-up: imports, caches
    stored: dict[str, dict] = {}
    extracted: dict[str, dict] = {}
    rejected: list[str] = []
    times: list[float] = []
    for key, gold in truth.items():
        started = time.perf_counter()
        text, is_article = system(html[key], gold["url"])
        times.append(time.perf_counter() - started)
        extracted[key] = {"articleBody": text}
        stored[key] = {"articleBody": text if is_article else ""}
        if not is_article:
            rejected.append(key)
    metrics = zyte.evaluate(truth, stored, n_bootstrap=200)
    text_metrics = zyte.evaluate(truth, extracted, n_bootstrap=0 + 1)
    return {
        "system": name,
        "f1": metrics["f1"],
        "f1_std": metrics["f1_std"],
        "precision": metrics["precision"],
        "recall": metrics["recall"],
        "accuracy": metrics["accuracy"],
        "f1_text": text_metrics["f1"],
        "rejected": rejected,
        "ms_per_page": 1000 * statistics.mean(times),
        "per_page": {
            key: zyte.string_shingle_matching(truth[key]["articleBody"], stored[key]["articleBody"])
            for key in truth
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print the README table")
    parser.add_argument("--failures", action="store_true", help="list dvcrawl's worst pages")
    parser.add_argument("--no-baseline", action="store_true", help="skip trafilatura")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    truth, html = load_pages()
    names = ["dvcrawl"] if args.no_baseline else list(SYSTEMS)
    results = [run(name, truth, html) for name in names]
    header = ["system", "F1", "precision", "recall", "accuracy", "rejected", "F1 (text)", "ms/page"]
    rows = [
        [
            r["system"],
            f"{r['f1']:.3f} ± {r['f1_std']:.3f}",
            f"{r['precision']:.3f}",
            f"{r['recall']:.3f}",
            f"{r['accuracy']:.3f}",
            str(len(r["rejected"])),
            f"{r['f1_text']:.3f}",
            f"{r['ms_per_page']:.1f}",
        ]
        for r in results
    ]
    print(f"{len(truth)} pages of the Zyte article-extraction benchmark")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    if args.failures:
        mine = results[0]
        worst = sorted(
            mine["per_page"].items(),
            key=lambda pair: zyte.precision_score(*pair[1]) + zyte.recall_score(*pair[1]),
        )
        for key, (tp, fp, fn) in worst[:25]:
            flag = " REJECTED" if key in mine["rejected"] else ""
            print(
                f"{key[:12]}  P {zyte.precision_score(tp, fp, fn):.2f}  "
                f"R {zyte.recall_score(tp, fp, fn):.2f}  {truth[key]['url'][:80]}{flag}"
            )
    if args.json:
        for r in results:
            r.pop("per_page")
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
