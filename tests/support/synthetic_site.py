"""A thanhuytphcm-like site of any size, for incremental, kill and health tests.

Pages are the stored fixture pages with their article and listing blocks replaced, so they
carry the portal's whole chrome; article texts are the gold texts of tests/eval, one distinct
text per article (deduplication must not mistake them for copies). The site is mutable: tests
publish new articles, edit one, or break the layout, then crawl again.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.fixture_sites import FIXTURES
from tests.support.server import Route

HOST = "https://thanhuytphcm.vn"
LISTING = f"{HOST}/nhom-tin/dan-van-1197604650"
_ARTICLE_TEMPLATE = (FIXTURES / "thanhuytphcm" / "article_quan3_quy_dinh_dan_van.html").read_text(
    encoding="utf-8"
)
_LISTING_TEMPLATE = (FIXTURES / "thanhuytphcm" / "listing_dan_van_page1.html").read_text(
    encoding="utf-8"
)
_HOME = (FIXTURES / "thanhuytphcm" / "home.html").read_text(encoding="utf-8")
_EVAL = Path(__file__).resolve().parent.parent / "eval" / "pages"


def _texts() -> list[tuple[str, str]]:
    """(title, text) of every gold article, in a stable order."""
    found = []
    for path in sorted(_EVAL.glob("*/*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("is_article"):
            found.append((record["title"], record["text"]))
    return found


TEXTS = _texts()


@dataclass
class SyntheticArticle:
    """One article of the site."""

    number: int
    title: str
    paragraphs: list[str]

    @property
    def url(self) -> str:
        return f"{HOST}/tin-tuc/bai-viet-dan-van-so-{self.number}-{1491950000 + self.number}"

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass
class SyntheticSite:
    """A listing of articles, newest first, `per_page` per listing page."""

    per_page: int = 5
    articles: list[SyntheticArticle] = field(default_factory=list)
    article_route: dict[int, Route] = field(default_factory=dict)  # overrides per article number
    broken_listing: bool = False

    def publish(self, count: int) -> list[SyntheticArticle]:
        """Add `count` new articles at the top of the listing."""
        new = []
        for offset in range(count):
            number = len(self.articles) + offset + 1
            title, text = TEXTS[(number - 1) % len(TEXTS)]
            lead = f"(Thanhuytphcm.vn) - Bản tin số {number}. " + text.split("\n\n")[0]
            new.append(
                SyntheticArticle(number, f"{title} (số {number})", [lead, *text.split("\n\n")[1:]])
            )
        self.articles[:0] = list(reversed(new))
        return new

    def edit(self, article: SyntheticArticle, paragraph: str) -> None:
        """Change an article after publication (a paragraph appended)."""
        article.paragraphs.append(paragraph)

    def pages(self) -> int:
        return max(1, -(-len(self.articles) // self.per_page))

    def listing_url(self, page: int) -> str:
        return LISTING if page == 1 else f"{LISTING}?page={page}"

    def routes(self) -> dict[str, Route]:
        """The loopback server's routes for the site as it is now."""
        table = {
            f"{HOST}/robots.txt": Route(
                body=b"User-agent: *\nDisallow: /nhom-tin/luu-tru-\nDisallow: /tim-kiem\n",
                headers=[("Content-Type", "text/plain")],
            ),
            f"{HOST}/": _html(_HOME),
        }
        for page in range(1, self.pages() + 1):
            table[self.listing_url(page)] = _html(self._listing(page))
        for article in self.articles:
            table[article.url] = self.article_route.get(article.number) or _html(
                self._article(article)
            )
        return table

    def _listing(self, page: int) -> str:
        items = self.articles[(page - 1) * self.per_page : page * self.per_page]
        if self.broken_listing:
            # A redesign that moved the list into a script-rendered widget: no links in the HTML.
            block = '<div id="app-list" data-src="/api/list?cat=dan-van"></div>'
        else:
            block = "\n".join(
                f'<div class="news-item"><h3 class="news-item-title"><a href="{a.url.removeprefix(HOST)}">'
                f'{html.escape(a.title)}</a></h3><p class="news-item-sapo">{html.escape(a.paragraphs[0][:200])}</p></div>'
                for a in items
            )
        pager = [f'<span class="current">{page}</span>']
        if page < self.pages():
            pager.append(
                f'<a href="{self.listing_url(page + 1).removeprefix(HOST)}" title="Trang sau">»</a>'
            )
        listing = re.sub(r'<div class="list-news-cate">.*?</div>\s*<div class="pagination">.*?</div>',
                         f'<div class="list-news-cate">{block}</div><div class="pagination">{"".join(pager)}</div>',
                         _LISTING_TEMPLATE, flags=re.S)  # fmt: skip
        return listing

    def _article(self, article: SyntheticArticle) -> str:
        body = "".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
        page = re.sub(
            r'<h1 class="news-title">.*?</h1>',
            f'<h1 class="news-title">{html.escape(article.title)}</h1>',
            _ARTICLE_TEMPLATE,
            flags=re.S,
        )
        page = re.sub(
            r'<div class="news-content">.*?</div>\s*</div>',
            f'<div class="news-content">{body}<p style="text-align: right;"><strong>Hà Hiền</strong></p></div></div>',
            page,
            count=1,
            flags=re.S,
        )
        page = re.sub(r'<meta property="og:(?:title|image)"[^>]*>', "", page)
        return re.sub(
            r"<title>.*?</title>", f"<title>{html.escape(article.title)}</title>", page, flags=re.S
        )


def _html(text: str) -> Route:
    body = text.encode("utf-8")
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    return Route(body=body, headers=[("Content-Type", "text/html; charset=utf-8"), ("ETag", etag)])


def challenge_route() -> Route:
    """A Cloudflare-style bot challenge served with status 200."""
    body = b"""<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>
<div id="challenge-stage"><h1>Checking your browser before accessing thanhuytphcm.vn.</h1>
<p>This process is automatic. Your browser will redirect to your requested content shortly.</p></div>
<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/jsch/v1"></script></body></html>"""
    return Route(body=body, headers=[("Content-Type", "text/html; charset=utf-8")])


def empty_article_route(article: SyntheticArticle) -> Route:
    """The article page after a redesign that renders the body with a script: chrome only."""
    page = SyntheticSite()._article(article)
    page = re.sub(
        r'<div class="news-content">.*?</div></div>',
        '<div class="news-content" id="content-root"></div></div>',
        page,
        count=1,
        flags=re.S,
    )
    return _html(page)
