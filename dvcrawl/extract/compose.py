"""Compose an Article from located parts: the one place where every extractor's rules meet.

An extractor's job is to *locate*: the body container, the headline candidates and, where the
portal has them, the lead, byline and date elements. `compose` does the rest the same way for
every portal: the article scope (headline + lead photo + body), related boxes skipped, the
shared stripper, byline and lead detection, and the date order

    the portal's date element > metadata > the line after the headline >
    a stamp above the body (inside the article) > a stamp line in the body > a site fallback

so that no extractor ever reads the page header, where portals print today's date.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dvcrawl.extract.base import (
    PROSE_CHARS,
    article_scope,
    choose_title,
    date_before_body,
    date_near_title,
    fill_article,
    find_title_element,
    first_date_in,
    first_text_element,
    is_error_title,
    marked_author,
    marked_sapo,
    menu_between,
    metadata_date,
    new_article,
)
from dvcrawl.extract.blocks import Block, blocks_of
from dvcrawl.extract.body import Body, assemble, byline_author, looks_like_caption
from dvcrawl.extract.boilerplate import (
    in_chrome,
    is_date_line,
    link_density,
    looks_like_listing,
    related_boxes,
)
from dvcrawl.extract.dates import ParsedDate, find_dates, parse_date
from dvcrawl.extract.embedded import EmbeddedArticle, agrees_with_page, find_article
from dvcrawl.extract.page import HtmlElement, Page, element_text
from dvcrawl.extract.text import word_count
from dvcrawl.items import Article
from dvcrawl.urls import InvalidURL, canonicalize, plain_host

# A container where links make up more than this share of the text is a list of links.
_LISTING_LINK_DENSITY = 0.5


def inside(element: HtmlElement | None, root: HtmlElement) -> bool:
    """Whether `element` is `root` or one of its descendants."""
    while element is not None:
        if element is root:
            return True
        element = element.getparent()
    return False


def article_blocks(
    page: Page, root: HtmlElement, scope: HtmlElement, *, skip: frozenset[HtmlElement] = frozenset()
) -> list[Block]:
    """The body's blocks, preceded by the lead photo(s) and caption(s) that sit before it.

    Portals often put the lead photo between the headline and the body container; its
    caption must leave the text and its URL must reach `images`, but nothing else outside
    the body may enter the text.
    """
    if scope is root:
        return blocks_of(page, root, skip=skip)
    blocks: list[Block] = []
    previous_image: Block | None = None
    started = False
    for block in blocks_of(page, scope, skip=skip, stop_after=root):
        if inside(block.element, root):
            started = True
            blocks.append(block)
        elif started:
            continue  # after the body: related lists, comments
        elif block.kind == "image":
            blocks.append(block)
            previous_image = block
        elif previous_image is not None and (
            block.caption_hint or looks_like_caption(block, previous_image)
        ):
            block.caption_hint = True
            blocks.append(block)
            previous_image = None
        else:
            previous_image = None
    return blocks


def times_near_title(
    page: Page, scope: HtmlElement, title: HtmlElement | None, body_start: HtmlElement | None
) -> list[HtmlElement]:
    """``<time datetime>`` elements of the article printed between the headline and the body.

    Their attribute carries the instant (often in UTC) where the printed text may lack the time
    of day; `dvcrawl.extract.base.first_date_in` reads both.
    """
    if title is None or body_start is None:
        return []
    _, order = page.order
    start, end = order.get(title, -1), order.get(body_start, -1)
    return [
        element
        for element in scope.iter("time")
        if element.get("datetime") and start < order.get(element, -1) < end
    ]


def date_line_in(
    page: Page, blocks: list[Block], title: HtmlElement | None = None
) -> ParsedDate | None:
    """A date from a short line that is only a date stamp ("Ngày đăng: 05/11/2024").

    Never a sentence, nor a line above the headline (`title`) with a menu between them
    (`menu_between`).
    """
    for block in blocks:
        if block.kind == "image" or not is_date_line(block.text):
            continue
        if block.element is not None and (
            in_chrome(block.element) or menu_between(page, block.element, title)
        ):
            continue  # a top bar's "today" date is not the article's
        found = find_dates(block.text, now=page.fetched_at)
        if found:
            return found[0]
    return None


#: A date stamp that opens the text as a dateline: "(20/09/2024) - Sáng 20/9, ..." or
#: "20/09/2024 - ...". A date inside the first sentence ("Ngày 20/9/2024, ...") is the
#: event's, not the publication's, and is never read here.
_OPENING_DATELINE = re.compile(
    r"^\(?\s*(\d{1,2}[/.-]\d{1,2}[/.-]\d{4}(?:\s+\d{1,2}[:h]\d{2})?)\s*\)?\s*[-–—:]\s"
)


def date_opening_text(page: Page, text: str | None) -> ParsedDate | None:
    """The date of a dateline that opens the body's text, when the page prints no other."""
    match = _OPENING_DATELINE.match(text or "")
    if match is None:
        return None
    found = find_dates(match.group(1), now=page.fetched_at)
    return found[0] if found else None


def date_after_body(page: Page, root: HtmlElement) -> ParsedDate | None:
    """A date stamp line right after the body container ("(Cập nhật lúc 15:10 ngày 14/10/2020)").

    Only the first two elements after the body are read, and only when they are nothing but a
    date line: further on come related lists, each with its own date.
    """
    following = [s for s in root.itersiblings() if isinstance(s.tag, str)][:2]
    for sibling in following:
        text = element_text(sibling)
        if text and len(text) <= 120 and is_date_line(text):
            found = find_dates(text, now=page.fetched_at)
            if found:
                return found[0]
    return None


def compose(
    page: Page,
    site_id: str,
    name: str,
    *,
    root: HtmlElement | None,
    headings: list[HtmlElement],
    site_names: tuple[str, ...] = (),
    lead: HtmlElement | None = None,
    starts_at: Callable[[Block], bool] | None = None,
    sapo_element: HtmlElement | None = None,
    author_element: HtmlElement | None = None,
    date_elements: list[HtmlElement] | None = None,
    skip: frozenset[HtmlElement] = frozenset(),
    fallback_date: Callable[[Page, Body], ParsedDate | None] | None = None,
    fallback_author: HtmlElement | None = None,
    month_first: str | None = None,
) -> Article:
    """Build the record from the parts an extractor located (see the module docstring).

    Args:
        page: the parsed page.
        site_id: the site id for the record ("generic" for unknown portals).
        name: the extractor name for the record.
        root: the body container (None: the page has no body; a non-article).
        headings: headline candidates, best first.
        site_names: the portal's names, never accepted as a title.
        lead: the element where the text starts (a dateline lead), if known.
        starts_at: which block starts the text, when text before it in `root` is not body.
        sapo_element: the portal's lead element, if it has one; otherwise an element marked
            "sapo"/"summary" by class is looked for.
        author_element: the portal's byline element, if it has one; otherwise the byline is
            read from the end of the text or an element marked "author".
        date_elements: the portal's date elements, tried first.
        skip: elements inside the body that are not text (tag lists, share bars).
        fallback_date: a last source of the date (e.g. an upload date in an image path).
        fallback_author: a byline element to read when the text ends without a byline (a
            CMS's author field, which is often the account that posted, not the writer).
        month_first: regex of printed dates the platform writes month first (Drupal).

    """
    article = new_article(page, site_id, name)
    title = choose_title(
        page,
        headings,
        site_names=site_names,
        body=first_text_element(root, min_chars=PROSE_CHARS) if root is not None else None,
    )
    if root is None:
        date = metadata_date(page, title)
        return fill_article(article, title=title, body=assemble([]), date=date)
    title_element = find_title_element(page, title, headings)
    scope = article_scope(root, title_element)
    not_article = skip  # before the byline joins it: a byline may carry the date
    if author_element is not None:
        skip |= {author_element}
    if fallback_author is not None:
        skip |= {fallback_author}
    blocks = [
        block
        for block in article_blocks(page, root, scope, skip=skip | related_boxes(root))
        # Short link-only lines inside the article area: kickers, tags, "Xem thêm" links.
        if not (block.link_ratio > 0.6 and len(block.text) < 200)
    ]
    if sapo_element is None:
        sapo_element = marked_sapo(page, title_element, root, skip)
    sapo = element_text(sapo_element) if sapo_element is not None else None
    body = assemble(
        blocks, title=title, sapo=sapo or None, starts_at=starts_at, byline=author_element is None
    )
    if author_element is not None:
        body.author = byline_author(element_text(author_element)) or None
    elif body.author is None and fallback_author is not None:
        body.author = byline_author(element_text(fallback_author)) or None
    if author_element is None and body.author is None:
        body.author = marked_author(page, root, scope)
    body_start = (
        lead if lead is not None else first_text_element(root, title=title_element, skip=skip)
    )
    printed = (
        first_date_in(page, date_elements or [], month_first=month_first)
        or first_date_in(page, times_near_title(page, scope, title_element, body_start))
        or date_near_title(page, title_element, body_start)
        or date_before_body(page, scope, body_start, not_article, title_element)
    )
    date = (
        _reconcile(printed, metadata_date(page, title))
        or date_line_in(page, blocks, title_element)
        or date_after_body(page, root)
        or body.byline_date
        or date_opening_text(page, body.text)
        or (fallback_date(page, body) if fallback_date else None)
    )
    fill_article(article, title=title, body=body, date=date)
    if (
        article.is_article
        and non_article_reason(page, article, root, blocks=blocks, skip=skip) is not None
    ):
        article.is_article = False
    return article


#: A page without a printed date needs a body at least this long to count as an article:
#: a listing's two or three teasers pass the plain minimum, a real undated report does not
#: fall under this.
_UNDATED_MIN_WORDS = 80
#: An error page says so in a sentence or two; a page with a notice-like headline ("Không tìm
#: thấy" as the title of a report) and a full body is an article.
_ERROR_PAGE_MAX_WORDS = 120
_ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
     "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "scholarlyarticle",
     "techarticle", "report", "liveblogposting", "posting", "socialmediaposting"}
)  # fmt: skip
_SEARCH_PARAMS = frozenset({"q", "s", "k", "keyword", "keywords", "key", "search", "query", "tukhoa", "tu-khoa", "searchtext", "text"})  # fmt: skip


def declares_article(page: Page) -> bool:
    """Whether the page's metadata says it is one article (og:type, JSON-LD, publication time).

    Listing heuristics are guesses about markup; a page that says it is an article, and has a
    headline and a body, is not overruled by them.
    """
    if page.meta.get("og:type", "").lower() == "article" or page.meta.get("article:published_time"):
        return True
    for item in page.json_ld:
        kinds = item.get("@type")
        for kind in kinds if isinstance(kinds, list) else [kinds]:
            if isinstance(kind, str) and kind.lower() in _ARTICLE_TYPES:
                return True
    return False


_COLLECTION_TYPES = frozenset({"collectionpage", "profilepage", "searchresultspage"})


def declares_collection(page: Page) -> bool:
    """Whether the page's metadata says it is a collection, not an article.

    ``og:type`` profile; JSON-LD ``CollectionPage``, ``ProfilePage`` or ``SearchResultsPage``,
    which WordPress's SEO plugins print on author, category, tag and search pages.
    """
    if page.meta.get("og:type", "").lower() == "profile":
        return True
    for item in page.json_ld:
        kinds = item.get("@type")
        for kind in kinds if isinstance(kinds, list) else [kinds]:
            if isinstance(kind, str) and kind.lower() in _COLLECTION_TYPES:
                return True
    return False


# The prefixes CMSs put before the name of an archive page (WordPress's archive titles in
# Vietnamese and English: "Thẻ: X", "Chuyên mục: X", "Tác giả: X"; Joomla's and Drupal's).
_ARCHIVE_TITLE = re.compile(
    r"^(?:thẻ|tag|tags|từ khóa|từ khoá|chủ đề|chuyên mục|danh mục|tác giả|lưu trữ|lưu trữ theo|"
    r"category|categories|author|archives?|topic)\s*[:：]",
    re.IGNORECASE,
)


def is_archive_title(title: str | None) -> bool:
    """Whether a headline names an archive page ("Thẻ: Dân vận khéo", "Tác giả: Ban Biên tập")."""
    return bool(title and _ARCHIVE_TITLE.match(title))


def inside_teaser(page: Page, root: HtmlElement) -> bool:
    """Whether the body container lies within a teaser of the page's listing.

    A teaser is a headline linking to another page, with a lead, a date or a picture beside it
    (`dvcrawl.extract.teasers`).
    A category page that shows its newest story with a long lead looks like an article from
    inside that lead; from the page, it is one item of a list.
    """
    from dvcrawl.extract.teasers import may_hold_teaser, teasers

    if not may_hold_teaser(page, root):
        return False
    for item, url in teasers(page):
        if url == page.url or not inside(root, item):
            continue
        if not _is_this_page(page, url):
            return True
    return False


def is_search_page(page: Page) -> bool:
    """Whether the URL asks a search engine of the portal for a query (``?keyword=...``)."""
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(page.url)
    if any(k.lower() in _SEARCH_PARAMS and v.strip() for k, v in parse_qsl(parts.query)):
        return True
    return bool(
        re.search(r"/(?:search|tim-?kiem|timkiem|ket-qua-tim-kiem)(?:[/.?]|$)", parts.path, re.I)
    )


def non_article_reason(
    page: Page,
    article: Article,
    root: HtmlElement,
    *,
    blocks: list[Block] | None = None,
    skip: frozenset[HtmlElement] = frozenset(),
) -> str | None:
    """Why a page with a headline and a body is still not an article, or None if it is one.

    The verdict is made from the page as a whole, never from its URL's shape alone: error
    notices, search results, and (unless the page's metadata says it is an article) link
    lists, teaser listings, tables and lists without running text, and short undated pages
    under a page label. `blocks` are the body's blocks; `skip` the parts of `root` that are
    not the article.
    """
    if is_error_title(article.title) and word_count(article.text or "") < _ERROR_PAGE_MAX_WORDS:
        return "error page"
    if is_search_page(page):
        return "search results"
    if declares_collection(page):
        return "the page declares a collection (profile, category, search results)"
    if is_archive_title(article.title):
        return "an archive page (tag, category, author)"
    if declares_article(page):
        return None
    # A featured story's lead is a paragraph or two; a body of several paragraphs under a
    # headline that links elsewhere is an article linking to itself by another address.
    featured = blocks is None or not _has_running_paragraphs(blocks, _ARTICLE_PARAGRAPHS)
    if featured and inside_teaser(page, root):
        return "the body is one teaser of a listing"
    if link_density(root, skip) > _LISTING_LINK_DENSITY:
        return "list of links"
    if looks_like_listing(root, skip, teaser_sized=featured) or (
        featured and _headline_links_elsewhere(page, root, skip)
    ):
        return "listing of teasers"
    if blocks is not None and not has_running_text(blocks):
        return "no running text: a table or a list of records"
    if article.published_at is None and (
        word_count(article.text or "") < _UNDATED_MIN_WORDS or word_count(article.title or "") <= 2
    ):
        return "no date, and too short or under a page label"
    return None


#: A paragraph of running text has at least this many characters (two sentences in any
#: script that separates words; fewer in scripts that do not).
_RUNNING_TEXT_CHARS = 150


def has_running_text(blocks: list[Block]) -> bool:
    """Whether the body has a paragraph of running text, not only table rows and list items.

    A register of documents or a table of results has many words and no paragraph.
    """
    return _has_running_paragraphs(blocks, 1)


#: Paragraphs of running text that make a body an article's, not a featured story's lead.
_ARTICLE_PARAGRAPHS = 3


def _has_running_paragraphs(blocks: list[Block], count: int) -> bool:
    """Whether the body has `count` paragraphs of running text (counting stops there)."""
    found = 0
    for block in blocks:
        if block.kind not in {"text", "quote"}:
            continue
        size = len(block.text)
        # Long enough in any script, or too short in every one: the script is asked only
        # between the two (it reads every character).
        if size >= _RUNNING_TEXT_CHARS or (
            size >= _RUNNING_TEXT_CHARS // 3 and size >= _running_text_chars(block.text)
        ):
            found += 1
            if found >= count:
                return True
    return False


def _running_text_chars(text: str) -> int:
    from dvcrawl.extract.text import is_unspaced_script

    return _RUNNING_TEXT_CHARS // 3 if is_unspaced_script(text) else _RUNNING_TEXT_CHARS


#: An article's number in its URLs (``NewsID=98214``, ``-a235016.html``): short numbers are
#: categories, pages and dates.
_ARTICLE_NUMBER = re.compile(r"\d{5,}")


def _headline_links_elsewhere(
    page: Page, root: HtmlElement, skip: frozenset[HtmlElement] = frozenset()
) -> bool:
    """Whether the body area is headed by a link to *another* page: a featured teaser.

    An article's own headline is not a link away from it; a category page's featured story
    ("title + three-sentence lead") is, and would otherwise pass for an article. Many CMSs
    link an article's headline to the article, by an address other than the one it was
    fetched at: its canonical URL, the same page without the listing's parameters
    (``?NewsID=1`` fetched as ``?NewsID=1&CatID=5``), or another URL form with the same
    article number. Those are the page itself.
    """
    for heading in root.iter("h1", "h2", "h3", "h4"):
        if skip and any(node in skip for node in heading.iterancestors()):
            continue
        text = element_text(heading)
        if len(text.split()) < 5:
            continue
        for anchor in heading.iter("a"):
            href = (anchor.get("href") or "").strip()
            if (
                not href
                or href.startswith(("#", "javascript:"))
                or len(element_text(anchor)) < 0.8 * len(text)
            ):
                continue
            if not _is_this_page(page, page.absolute(href)):
                return True
    return False


def _is_this_page(page: Page, url: str) -> bool:
    """Whether `url` is the page itself by another address (see `_headline_links_elsewhere`).

    An address that is not a URL is treated as the page: it is no evidence of a listing.
    """
    try:
        there = canonicalize(url, resolve_host=plain_host)
        selves = {canonicalize(page.url, resolve_host=plain_host)}
    except InvalidURL:
        return True
    for declared in (page.meta.get("og:url"), _canonical_link(page)):
        try:
            if declared:
                selves.add(canonicalize(page.absolute(declared), resolve_host=plain_host))
        except InvalidURL:
            continue
    return there in selves or _same_article(page.url, url)


def _canonical_link(page: Page) -> str | None:
    for link in page.root.iter("link"):
        if (link.get("rel") or "").lower() == "canonical" and link.get("href"):
            return link.get("href")
    return None


def _same_article(here: str, there: str) -> bool:
    """Whether two addresses name one article.

    One's query extends the other's on the same path, or both carry the same article number.
    """
    from urllib.parse import parse_qsl, urlsplit

    a, b = urlsplit(here), urlsplit(there)
    if a.path.lower() == b.path.lower() and set(parse_qsl(b.query)) <= set(parse_qsl(a.query)):
        return True
    numbers = set(_ARTICLE_NUMBER.findall(f"{a.path}?{a.query}"))
    return bool(numbers & set(_ARTICLE_NUMBER.findall(f"{b.path}?{b.query}")))


def _reconcile(printed: ParsedDate | None, metadata: ParsedDate | None) -> ParsedDate | None:
    """The date as printed near the headline, completed by metadata when it lacks the time.

    The printed date is what readers see and cite; metadata is the fallback, and supplies the
    time of day when it agrees on the day.
    """
    if printed is None or metadata is None:
        return printed or metadata
    same_day = printed.value.date() == metadata.value.date()
    if same_day and metadata.has_time and not printed.has_time:
        return metadata
    return printed


def compose_embedded(page: Page, site_id: str, name: str, embedded: EmbeddedArticle) -> Article:
    """Build the record from an article object in the page's data (`dvcrawl.extract.embedded`).

    The body goes through the same block reader and stripper as markup; the date is the
    object's (apps store it in UTC; it is given in +07:00 like every other date).
    """
    article = new_article(page, site_id, name)
    body = assemble(
        blocks_of(page, embedded.body_element()), title=embedded.title, sapo=embedded.summary
    )
    if embedded.author:
        body.author = byline_author(embedded.author) or body.author
    date = parse_date(embedded.date, now=page.fetched_at) if embedded.date else None
    return fill_article(article, title=embedded.title, body=body, date=date)


#: The suffix of the extractor name of records read from a page's data, not its markup.
DATA = "+data"
#: The share of the data's words the markup's record must hold to stand.
DATA_SHARE = 0.5


def or_embedded(page: Page, site_id: str, article: Article) -> Article:
    """The article of the page's data when the markup lost it (`dvcrawl.extract.embedded`).

    A JavaScript front end may ship an empty shell, or only the headline, with the article
    in its data, whatever extractor read the markup (a site module's selectors included):
    the markup's record stands when it holds at least half of the data's words; otherwise
    the data's record is taken, named ``<extractor>+data``, when its headline is the page's.
    """
    embedded = find_article(page)
    if embedded is None:
        return article
    words = word_count(article.text or "") if article.is_article else 0
    # The data's words are at most its whitespace-separated tokens, tags and all: a record
    # that holds half of those stands without parsing the data's HTML.
    if words >= DATA_SHARE * len(embedded.content.split()):
        return article
    if words >= DATA_SHARE * embedded.words() or not agrees_with_page(
        page, embedded, article.title
    ):
        return article
    return compose_embedded(page, site_id, article.extractor + DATA, embedded)
