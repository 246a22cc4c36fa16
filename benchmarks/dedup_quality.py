"""Near-duplicate detection: precision and recall on a labelled set, end to end.

The labelled set has two parts:

* synthetic copies of every gold article (tests/eval and tests/fixtures), one per kind of
  edit portals make when they republish: a new lead, a changed or removed dateline prefix,
  boilerplate remnants attached (byline, "Tin khác" lines, a view counter), a paragraph cut,
  a paragraph added, the other tone-mark style with typographic noise, and all of these at
  once; every pair of distinct gold articles is a negative (many are same-topic reports);
* synthetic same-template reports: every gold article rewritten as another event of the same
  kind, its proper names, places and figures replaced and every sentence kept (the hardest
  negative: these share about half their shingles with the original);
* hand-written pairs in benchmarks/data/dedup_pairs.json: near-identical reports of distinct
  events written from one template (negatives), two outlets' independent articles on one
  event (negatives), and reposts with edits (positives).

End to end means through `dvcrawl.dedup.Deduplicator` on a real SQLite database: originals are
stored with their LSH bands, then each test text is looked up; a prediction is correct when
it names the right original (or none for a negative). It also sweeps the verification
thresholds on the pairwise similarities, which is how the defaults were chosen.

Run: ``.venv/bin/python benchmarks/dedup_quality.py``.
"""

from __future__ import annotations

import json
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dvcrawl import dedup  # noqa: E402
from dvcrawl.db import ArticleStore, init_db, make_engine  # noqa: E402
from dvcrawl.items import Article  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAIRS = Path(__file__).resolve().parent / "data" / "dedup_pairs.json"
DATELINE = re.compile(
    r"^\(?(?:Thanhuytphcm\.vn|ĐTO|Mặt trận|MTTQ|ĐCSVN|TQĐT|BTN|CTTĐT)\)?\s*[-–]?\s*"
)
GENERIC_LEADS = [
    "Theo Ban Dân vận, đây là hoạt động thiết thực nhằm triển khai các chủ trương của cấp ủy về công tác dân vận trong tình hình mới.",
    "Hoạt động nằm trong chuỗi sự kiện hưởng ứng phong trào thi đua “Dân vận khéo” được các địa phương triển khai từ đầu năm.",
    "Đây là lần đầu tiên địa phương tổ chức hoạt động này theo hình thức kết nối trực tuyến đến các điểm cầu cơ sở.",
]
TONES_OLD = {
    "hòa": "hoà",
    "Hòa": "Hoà",
    "thúy": "thuý",
    "ủy": "uỷ",
    "Ủy": "Uỷ",
    "khỏe": "khoẻ",
    "hóa": "hoá",
    "Hóa": "Hoá",
}


@dataclass
class Case:
    """A text to look up, and the original it copies (None for a negative)."""

    kind: str
    text: str
    original: str | None


def gold_texts() -> dict[str, str]:
    """canonical URL -> text of every gold article."""
    texts: dict[str, str] = {}
    for path in [*ROOT.glob("tests/eval/pages/*/*.json"), *ROOT.glob("tests/fixtures/*/*.json")]:
        if path.name == "site.json":
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("is_article") and record.get("text"):
            texts[record.get("canonical_url") or record["url"]] = record["text"]
    return texts


def edits(text: str, other: str, rng: random.Random) -> dict[str, str]:
    """The edited copies of `text` (`other` lends paragraphs and headlines)."""
    paragraphs = text.split("\n\n")
    extra = other.split("\n\n")
    lead, rest = paragraphs[0], paragraphs[1:]
    first_sentence = re.split(r"(?<=[.!?…])\s+", DATELINE.sub("", lead))[0]
    copies = {
        "new lead": "\n\n".join([f"{first_sentence} {rng.choice(GENERIC_LEADS)}", *rest]),
        "dateline changed": "\n\n".join([f"ĐTO - {DATELINE.sub('', lead)}", *rest]),
        "dateline removed": "\n\n".join([DATELINE.sub("", lead), *rest]),
        "boilerplate attached": "\n\n".join(
            [*paragraphs, "Minh Anh", "Tin khác", *extra[:1], "Lượt xem: 1.245", "Ý kiến bạn đọc"]
        ),
        "paragraph cut": "\n\n".join(paragraphs[:-1])
        if len(paragraphs) > 3
        else "\n\n".join(paragraphs[1:]),
        "paragraph added": "\n\n".join([*paragraphs, extra[-1]]),
        "tone style and noise": _tone_noise(text),
    }
    combined = [f"ĐTO - {DATELINE.sub('', lead)}", *rest[:-1]] if len(rest) > 2 else [lead, *rest]
    copies["all at once"] = _tone_noise("\n\n".join([*combined, "Theo Báo Đồng Tháp"]))
    return copies


def _tone_noise(text: str) -> str:
    for new, old in TONES_OLD.items():
        text = text.replace(new, old)
    return text.replace("“", '"').replace("”", '"').replace(", ", " , ").replace(". ", ".  ")


#: Names as deduplication reads them (capitalized words, two or more).
_NAME = dedup._NAME
_OTHER_NAMES = [
    "Lê",
    "Phạm",
    "Hoàng",
    "Vũ",
    "Đặng",
    "Bùi",
    "Tân",
    "Phú",
    "An",
    "Bình",
    "Hòa",
    "Minh",
    "Thạnh",
    "Lộc",
]


def same_template(text: str, rng: random.Random) -> str:
    """Another event written from the same template: other names, places and figures."""
    text = _NAME.sub(lambda m: " ".join(rng.choice(_OTHER_NAMES) for _ in m.group(0).split()), text)
    return re.sub(r"\d+", lambda m: str(rng.randint(1, 999)), text)


def build_cases(rng: random.Random) -> tuple[dict[str, str], list[Case]]:
    """(originals to store, cases to look up)."""
    texts = gold_texts()
    urls = sorted(texts)
    originals = dict(texts)
    cases: list[Case] = []
    for index, url in enumerate(urls):
        other = texts[urls[(index + 1) % len(urls)]]
        for kind, copy in edits(texts[url], other, rng).items():
            cases.append(Case(f"synthetic: {kind}", copy, url))
        # A text without names or figures (an essay) has no other event to be rewritten into.
        if len(dedup.entities(texts[url])) >= dedup.MIN_ENTITIES:
            cases.append(
                Case(
                    "synthetic distinct: same template, other names and figures",
                    same_template(texts[url], rng),
                    None,
                )
            )
    # Negatives among gold articles: each article against every other is covered by looking
    # each one up while all others are stored (see evaluate_end_to_end).
    if PAIRS.exists():
        for pair in json.loads(PAIRS.read_text(encoding="utf-8"))["pairs"]:
            key = f"pairs/{pair['id']}"
            originals[key] = pair["a"]
            cases.append(
                Case(
                    f"hand: {pair['kind']}",
                    pair["b"],
                    key if pair["label"] == "duplicate" else None,
                )
            )
    return originals, cases


def evaluate_end_to_end(originals: dict[str, str], cases: list[Case]) -> dict[str, float]:
    """Store the originals, look every case up, and score the predictions."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/dedup.sqlite3")
        init_db(engine)
        store = ArticleStore(engine, batch_size=500)
        now = datetime.now(UTC)
        for url, text in originals.items():
            print_ = dedup.fingerprint(text)
            record = Article(
                url=url, canonical_url=url, site="bench", is_article=True, title=url, text=text
            )
            store.save(
                record, content_hash=print_.content_hash, fetched_at=now, band_keys=print_.keys
            )
        store.commit()
        finder = dedup.Deduplicator(store.session)
        tp = fp = fn = tn = 0
        by_kind: dict[str, list[bool]] = {}
        lookups: list[float] = []
        # Every stored original looked up as if new: the only match allowed is itself.
        all_cases = [
            *cases,
            *(Case("gold vs all other gold", text, None) for text in list(originals.values())),
        ]
        own = {text: url for url, text in originals.items()}
        for case in all_cases:
            started = time.perf_counter()
            query_url = (
                own.get(case.text, "query") if case.kind == "gold vs all other gold" else "query"
            )
            match = finder.find(query_url, dedup.fingerprint(case.text))
            lookups.append(time.perf_counter() - started)
            predicted = match.canonical_url if match else None
            correct = predicted == case.original
            by_kind.setdefault(case.kind, []).append(correct)
            if case.original is not None:
                tp += correct
                fn += not correct and predicted is None
                fp += predicted is not None and not correct
            else:
                tn += predicted is None
                fp += predicted is not None
        store.close()
        engine.dispose()
    precision = tp / (tp + fp) if tp + fp else 1.0
    positives = sum(1 for c in all_cases if c.original is not None)
    recall = tp / positives if positives else 1.0
    print(
        f"{len(originals)} originals stored; {len(all_cases)} lookups ({positives} copies, {len(all_cases) - positives} negatives)"
    )
    for kind, results in sorted(by_kind.items()):
        print(f"  {kind:45} {sum(results):4}/{len(results):<4} correct")
    print(f"precision {precision:.3f}  recall {recall:.3f}  (tp {tp}, fp {fp}, fn {fn}, tn {tn})")
    print(f"lookup: median {sorted(lookups)[len(lookups) // 2] * 1000:.2f} ms")
    return {"precision": precision, "recall": recall}


def sweep(originals: dict[str, str], cases: list[Case]) -> None:
    """Pairwise precision/recall of the verification rule at other thresholds (no LSH)."""
    prints = {url: (dedup.shingles(text), dedup.entities(text)) for url, text in originals.items()}
    pairs = []
    for case in cases:
        query, names = dedup.shingles(case.text), dedup.entities(case.text)
        for url, (other, other_names) in prints.items():
            pairs.append((dedup.compare(query, other, names, other_names), url == case.original))
    urls = list(prints)
    for i, a in enumerate(urls):
        for b in urls[i + 1 :]:
            pairs.append(
                (dedup.compare(prints[a][0], prints[b][0], prints[a][1], prints[b][1]), False)
            )
    positives = sum(1 for _, label in pairs if label)
    print(f"\nthreshold sweep over {len(pairs)} pairs ({positives} duplicates):")
    print("  jaccard  containment  names   precision  recall")
    for names_rule in (False, True):
        for jaccard in (0.3, 0.5, 0.7):
            for containment in (0.8, 1.01):
                predicted = [
                    label
                    for sim, label in pairs
                    if (
                        sim.jaccard >= jaccard
                        or (
                            sim.containment >= containment
                            and sim.size_ratio >= dedup.MIN_SIZE_RATIO
                        )
                    )
                    and (
                        not names_rule
                        or sim.entities is None
                        or sim.entities >= dedup.ENTITY_THRESHOLD
                    )
                ]
                tp = sum(predicted)
                precision = tp / len(predicted) if predicted else 1.0
                shown = "off" if containment > 1 else f"{containment:.1f}"
                rule = f">= {dedup.ENTITY_THRESHOLD:.1f}" if names_rule else "off"
                print(
                    f"  {jaccard:.1f}      {shown:>4}         {rule:6}  {precision:.3f}      {tp / positives:.3f}"
                )
    best_negative = max((s.jaccard for s, label in pairs if not label), default=0)
    worst_positive = min((s.score for s, label in pairs if label), default=0)
    names_negative = max(
        (s.entities or 0 for s, label in pairs if not label and s.jaccard >= 0.3), default=0
    )
    names_positive = min(
        (1 if s.entities is None else s.entities for s, label in pairs if label), default=0
    )
    print(
        f"highest Jaccard of a distinct pair: {best_negative:.3f}; lowest score of a copy: {worst_positive:.3f}"
    )
    print(
        f"names and numbers shared: at most {names_negative:.2f} by a distinct pair with Jaccard >= 0.3; at least {names_positive:.2f} by a copy"
    )


def main() -> None:
    rng = random.Random(20261122)
    originals, cases = build_cases(rng)
    evaluate_end_to_end(originals, cases)
    sweep(originals, cases)


if __name__ == "__main__":
    main()
