"""Precision and recall of the topic filter on hand-labelled articles.

The labels (tests/eval/topic/labels.tsv) were set by reading each article: the gold articles of
tests/eval/pages and the golden files of tests/fixtures (all collected from dân vận sections,
and all read as relevant), and the articles of tests/eval/topic/irrelevant.jsonl (written for
this evaluation in the portals' style on the other subjects provincial portals publish, some
of them using the list's words in other senses: "vận động viên", the Điện Biên Phủ "mặt trận",
ethnic festivals, a defence dialogue).

Run: ``.venv/bin/python -m tests.eval.topic_score [--threshold X] [--failures]``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from dvcrawl.topic import Topic, load_topic

ROOT = Path(__file__).resolve().parent.parent.parent
TOPIC_DIR = Path(__file__).resolve().parent / "topic"


@dataclass
class Labelled:
    key: str
    title: str
    text: str
    relevant: bool


def labelled_articles() -> list[Labelled]:
    """Every labelled article, with its title and text."""
    negatives = {}
    for line in (TOPIC_DIR / "irrelevant.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            negatives[f"irrelevant.jsonl#{record['id']}"] = record
    articles = []
    for line in (TOPIC_DIR / "labels.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, label = line.split("\t")[:2]
        if key.startswith("irrelevant.jsonl#"):
            record = negatives[key]
        else:
            record = json.loads((ROOT / key).read_text(encoding="utf-8"))
        articles.append(
            Labelled(
                key=key,
                title=record.get("title") or "",
                text=record.get("text") or "",
                relevant=label == "relevant",
            )
        )
    return articles


def measure(topic: Topic, articles: list[Labelled], threshold: float) -> dict[str, float]:
    """Precision, recall and counts of ``relevance >= threshold`` against the labels."""
    tp = fp = fn = tn = 0
    for article in articles:
        kept = topic.score(article.title, article.text) >= threshold
        tp += kept and article.relevant
        fp += kept and not article.relevant
        fn += (not kept) and article.relevant
        tn += (not kept) and not article.relevant
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "relevant": tp + fn,
        "irrelevant": fp + tn,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--failures", action="store_true")
    args = parser.parse_args()
    topic = load_topic()
    articles = labelled_articles()
    threshold = topic.threshold if args.threshold is None else args.threshold
    result = measure(topic, articles, threshold)
    print(
        f"threshold {threshold}: precision {result['precision']:.3f}, recall {result['recall']:.3f} "
        f"({result['relevant']} relevant, {result['irrelevant']} irrelevant; "
        f"{result['false_positives']} false positives, {result['false_negatives']} false negatives)"
    )
    if args.failures:
        for article in articles:
            score = topic.score(article.title, article.text)
            if (score >= threshold) != article.relevant:
                print(
                    f"  {'missed' if article.relevant else 'kept'} {score:.3f} {article.key}: "
                    f"{article.title[:70]} {topic.matched_terms(article.title, article.text)}"
                )


if __name__ == "__main__":
    main()
