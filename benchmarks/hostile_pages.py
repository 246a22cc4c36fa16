"""Cost of hostile pages: decode + extract time and peak memory, each page in a fresh process.

Run: ``.venv/bin/python benchmarks/hostile_pages.py``. Every page holds the same real article
(a thanhuytphcm.vn fixture page) plus one hostile part; the table shows what one such page costs
and that the article is still extracted (docs/reliability.md quotes the last result).
Peak memory is the child's maximum resident set size, interpreter and libraries included
(the "baseline" row is the clean page).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "fixtures" / "thanhuytphcm" / "article_quan3_quy_dinh_dan_van.html"
URL = "https://thanhuytphcm.vn/tin-tuc/quan-3-quan-triet-tuyen-truyen-va-trien-khai-cac-quy-dinh-moi-ve-cong-tac-dan-van-cua-he-thong-chinh-tri-1491893215"

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from dvcrawl.extract.page import decode_page
from dvcrawl.extraction import extract_article
from dvcrawl.extract.dates import warm_up
warm_up()
extract_article(open(sys.argv[2], encoding="utf-8").read(), sys.argv[3])  # imports, caches
body = sys.stdin.buffer.read()
started = time.perf_counter()
decoded = decode_page(body, "text/html; charset=utf-8")
article = extract_article(decoded.text, sys.argv[3])
elapsed = time.perf_counter() - started
print(json.dumps({
    "seconds": elapsed,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "text": article.text or "",
}))
"""


def variants(page: str) -> dict[str, str]:
    body_at = page.index(">", page.index("<body")) + 1
    content_at = page.index('<div class="news-content">')
    content_end = page.index("</div>", content_at)

    def before_body(blob: str) -> str:
        return page[:body_at] + blob + page[body_at:]

    return {
        "baseline": page,
        "11 MB data: URI": before_body('<img src="data:image/png;base64,' + "iVBORw0KGgo" * 1_000_000 + '">'),
        "11 MB script": before_body("<script>var f='" + "AAEAAAALAIAAAwAwT1Mv" * 550_000 + "';</script>"),
        "10 MB hidden text": before_body('<div style="display:none">' + "chữ ẩn " * 1_500_000 + "</div>"),
        "10 MB visible paragraph": before_body("<p>" + "rác " * 2_500_000 + "</p>"),
        "300 nested div": page[:content_at] + "<div>" * 300 + page[content_at:content_end] + "</div>" * 300 + page[content_end:],
        "5,000 unclosed font": page[:content_at] + "<font>" * 5000 + page[content_at:],
        "50,000 empty div": before_body("<div></div>" * 50_000),
        "20 MB of paragraphs": before_body("<p>Đoạn văn lặp lại của một trang rất dài.</p>" * 320_000),
    }  # fmt: skip


def main() -> None:
    page = PAGE.read_text(encoding="utf-8")
    clean = None
    print("| page | size | seconds | peak RSS | article kept |")
    print("|---|---|---|---|---|")
    for name, html in variants(page).items():
        body = html.encode("utf-8")
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), str(PAGE), URL],
            input=body,
            capture_output=True,
            check=True,
        )
        measured = json.loads(result.stdout.decode().strip().splitlines()[-1])
        clean = clean or measured["text"]
        kept = "yes" if clean[:2000] in measured["text"] else "NO"
        print(
            f"| {name} | {len(body) / 1e6:.1f} MB | {measured['seconds']:.2f} | "
            f"{measured['rss_mb']:.0f} MB | {kept} |"
        )


if __name__ == "__main__":
    main()
