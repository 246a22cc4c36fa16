"""The generic extractor's score on the public benchmark's pages does not fall unnoticed.

`benchmarks/zyte_benchmark.py` measures dvcrawl on half of Zyte's article-extraction
benchmark (real pages in many languages, every one an article) with the benchmark's own
scorer. The gold set (tests/eval) covers the portals; these pages are the check on sites
nobody wrote rules for, and a change that loses text there fails here, not months later.
Measured: F1 0.980, accuracy 0.360 (32 of 89 pages word for word), no page rejected. A
change that lowers these must say why and move the floors with the README's numbers.
"""

from __future__ import annotations

from benchmarks.zyte_benchmark import load_pages, run, zyte

#: Just under the measured values: a rule that lets one page's adverts in (F1 0.980 to
#: 0.979, accuracy 0.360 to 0.348, three pages) fails; the bootstrap spread is 0.003.
F1_FLOOR = 0.9795
ACCURACY_FLOOR = 0.355


def test_the_public_benchmark_score_holds() -> None:
    truth, html = load_pages()
    assert len(truth) == 89
    result = run("dvcrawl", truth, html)
    scores = {
        key: (zyte.precision_score(*counts), zyte.recall_score(*counts))
        for key, counts in result["per_page"].items()
    }
    worst = sorted(scores.items(), key=lambda item: sum(item[1]))[:5]
    detail = "\n".join(f"{key[:12]} P {p:.2f} R {r:.2f}" for key, (p, r) in worst)
    assert result["rejected"] == [], result["rejected"]
    assert result["f1"] >= F1_FLOOR, f"F1 {result['f1']:.4f}\n{detail}"
    assert result["accuracy"] >= ACCURACY_FLOOR, f"accuracy {result['accuracy']:.3f}\n{detail}"
