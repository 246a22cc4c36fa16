"""CMS families: the platforms Vietnamese party and government portals run on, as data.

A portal without a site module is read by the generic extractor; when its page carries the
fingerprint of a known platform (a ``<meta name="generator">``, the platform's asset paths,
ids and classes, its URL shapes), the family's rules join in: where the platform puts the
body, the headline, the date and the byline, and which of its widgets are chrome (share and
like buttons, related posts, portlet and module titles, view counters, polls). A portal on a
known family therefore needs only a `Site` declaration.

Each rule is a CSS selector the platform itself emits (its core templates and default themes,
or, for Vietnamese government products, the markup the product ships on every portal), so a
rule holds on every site of the family rather than on one portal. Nothing here decides alone:
a family's body selector that matches nothing leaves the structural content region in charge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from weakref import WeakKeyDictionary

from lxml import etree
from lxml.cssselect import CSSSelector

from dvcrawl.extract.page import HtmlElement, Page


@dataclass(frozen=True, kw_only=True)
class Family:
    """One platform.

    Attributes:
        name: short ASCII name ("wordpress", "liferay7").
        generator: regex on ``<meta name="generator">``; a match identifies the family.
        assets: regex on the URLs of the page's scripts, stylesheets and images (the
            platform's own paths: ``/wp-content/``, ``/_layouts/``, ``/o/frontend-js``).
        classes: class names only the platform emits.
        ids: regex on element ids the platform emits (``dnn_ctr``, ``p_p_id_``).
        url: regex on the URL that identifies the family when the markup does not.
        body: CSS of the body container; of several matches the one holding most text wins.
        title: CSS of the headline element(s), tried before the generic headings.
        not_title: CSS of headings that are never the article's headline (portlet and module
            titles, widget headings).
        date: CSS of the element printing the publication date (a ``datetime`` or ``content``
            attribute is read first).
        author: CSS of the byline element.
        drop: CSS of chrome inside the body (share, like and related-posts widgets, counters,
            polls, tag lists, pagers).
        month_first: regex of printed dates that the platform writes month first by default
            (Drupal's "medium" format ``D, m/d/Y - H:i``).

    """

    name: str
    generator: str | None = None
    assets: str | None = None
    classes: tuple[str, ...] = ()
    ids: str | None = None
    url: str | None = None
    body: str = ""
    title: str = ""
    not_title: str = ""
    date: str = ""
    author: str = ""
    drop: str = ""
    month_first: str | None = None

    def has_markup(self, page: Page) -> bool:
        """Whether the page's assets, classes or ids are this platform's."""
        index = page_index(page)
        return bool(
            (self.assets and re.search(self.assets, index.assets))
            or (self.classes and not index.classes.isdisjoint(self.classes))
            or (self.ids and re.search(self.ids, index.ids, re.MULTILINE))
        )


@dataclass(frozen=True)
class PageIndex:
    """What a page is built from, gathered in three XPath calls.

    Attributes:
        assets: script, stylesheet and image URLs, one a line.
        classes: every class name used on the page.
        ids: every element id, one a line.

    """

    assets: str
    classes: frozenset[str]
    ids: str


_INDEXES: WeakKeyDictionary[Page, PageIndex] = WeakKeyDictionary()
_ASSETS = etree.XPath("//script/@src | //link/@href | //img/@src", smart_strings=False)


def page_index(page: Page) -> PageIndex:
    """The page's asset URLs, class names and ids, gathered once."""
    index = _INDEXES.get(page)
    if index is None:
        classes, ids = page.names
        index = PageIndex("\n".join(_ASSETS(page.root)), classes, "\n".join(sorted(ids)))
        _INDEXES[page] = index
    return index


@lru_cache(maxsize=512)
def _parts(selector: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in selector.split(",") if part.strip())


@lru_cache(maxsize=512)
def compiled(selector: str) -> CSSSelector:
    """A selector compiled once (lxml translates CSS to XPath on every ``cssselect`` call)."""
    return CSSSelector(selector, translator="html")


WORDPRESS = Family(
    name="wordpress",
    generator=r"^WordPress",
    assets=r"/wp-content/|/wp-includes/",
    # Block themes, the classic default themes (entry-content) and themes common on
    # Vietnamese sites (Newspaper's td-post-content, JNews, Flatsome).
    body=(
        ".wp-block-post-content, .entry-content, .post-content, .td-post-content, "
        ".single-content, .post-entry, .the-content, .article-content"
    ),
    title="h1.entry-title, .wp-block-post-title, h1.post-title, h1.single-title",
    date=(
        ".entry-meta time.published, .posted-on time, .wp-block-post-date time, .entry-date, "
        ".post-date"
    ),
    # The author's archive link; a byline printed at the end of the text comes first.
    author="a[rel='author']",
    # What the generic stripper does not already know by name: Jetpack's sharing block and
    # WordAds, category links, AddToAny and Heateor share bars, post view counters.
    drop=".sd-sharing-enabled, .wpcnt, .cat-links, .a2a_kit, .heateor_sss_sharing_container, .post-views",
)

#: SharePoint "Cổng thông tin điện tử" products (SharePoint 2010-2019 under Vietnamese
#: government portal software): pages at /Pages/*.aspx, articles by ?ItemID=.
SHAREPOINT = Family(
    name="sharepoint",
    generator=r"SharePoint",
    assets=r"/_layouts/",
    classes=("ms-rtestate-field", "ms-WPBody", "ms-webpart-zone"),
    ids=r"^(?:s4-workspace|s4-bodyContainer|ctl00_PlaceHolderMain)",
    url=r"/Pages/[^/?#]+\.aspx",
    # Rich-text fields; publishing pages name the article's field "..._RichHtmlField".
    body=".ms-rtestate-field, [id$='_RichHtmlField']",
    # Web part titles ("Tin tức - Sự kiện") head every zone; never the headline.
    not_title=".ms-webpart-titleText, .ms-WPTitle, .ms-standardheader, .ms-pagetitle",
    drop=".ms-webpart-titleText, .ms-WPTitle, .ms-hide, .ms-hidden",
)

#: Liferay 7 (DXP): OSGi module paths under /o/, asset publisher and web content portlets.
LIFERAY7 = Family(
    name="liferay7",
    assets=r"/o/frontend-(?:js|css)|/o/[\w-]+-theme/",
    body=".asset-full-content .asset-content, .journal-content-article",
    title=".asset-full-content .asset-title, .asset-full-content .component-title, h3.header-title",
    # Portlet titles: a navigation or "latest news" portlet's name is not the headline.
    not_title=".portlet-title-text, .portlet-title, .portlet-title-default",
    # The 7.x asset publisher prints the author, "Đã xuất bản <date>" and the view count in
    # one .metadata-author row.
    date=".metadata-author .date-info, .asset-full-content .create-date, .metadata-publish-date",
    author=".metadata-author .user-info",
    drop=(
        ".portlet-title-text, .taglib-asset-categories-summary, .asset-links, "
        ".taglib-page-iterator, .asset-view-count, .view-count, .lfr-discussion"
    ),
)

#: Liferay 6.2: the /html/js/ AUI paths, portlet boundaries, journal content.
LIFERAY62 = Family(
    name="liferay62",
    assets=r"/html/js/(?:barebone|everything|aui)|/html/themes/|_WAR_\w+theme/",
    classes=("portlet-boundary", "journal-content-article"),
    ids=r"^p_p_id_",
    body=".journal-content-article, .asset-full-content, .asset-content",
    title=".asset-full-content h3.header-title, .taglib-header .header-title, .asset-full-content .asset-title",
    not_title=".portlet-title-text, .portlet-title, .portlet-title-default",
    date=".metadata-publish-date, .asset-full-content .create-date",
    drop=(
        ".portlet-title-text, .taglib-asset-categories-summary, .asset-links, "
        ".taglib-page-iterator, .view-count, .lfr-discussion"
    ),
)

#: The party-portal CMS behind the ``*.dcs.vn`` sites: recognized by domain; its markup needs
#: no rule beyond the generic reading (tests/eval/pages/cms_dcs).
DCS = Family(
    name="dcs",
    url=r"^https?://(?:[^/]+\.)?dcs\.vn(?:[:/]|$)",
)

JOOMLA = Family(
    name="joomla",
    generator=r"Joomla",
    assets=r"/media/(?:jui|system)/",
    classes=("item-page", "com-content-article"),
    url=r"[?&]option=com_content\b",
    body="[itemprop='articleBody'], .com-content-article__body, div.item-page",
    title=".item-page [itemprop='headline'], .item-page .page-header h1, .item-page h2",
    # Module titles ("Tin mới", "Liên kết") head the side columns.
    not_title=".moduletable h3, .module-title, .mod-articles-category-title",
    date=".published, dd.create",
    author="[itemprop='author'], .createdby",
    # The article information box (category, hits), print/e-mail icons, pager, voting.
    drop=(
        ".article-info, .article-info-term, .hits, .icons, .btn-group, .pager, .content_vote, "
        ".items-more"
    ),
)

#: DotNetNuke (DNN), with the EasyDNN News module (``/ArticleID/<n>/`` URLs) common on
#: Vietnamese portals.
DNN = Family(
    name="dnn",
    generator=r"DotNetNuke|DNN",
    assets=r"/DesktopModules/|/Portals/_default/",
    classes=("DnnModule", "DNNModuleContent"),
    ids=r"^dnn_",
    url=r"/ArticleID/\d+|/tabid/\d+",
    body=".edn_articleContent, .edn_article, .DNNModuleContent .Normal",
    title=".edn_articleTitle, .edn_article h1",
    # Container titles: every module on a DNN page has one.
    not_title=".Head, [id$='_titleLabel'], .c_title, .eds_containerTitle, .ContainerTitle",
    date=".edn_articleDate, .edn_metaDetails",
    author=".edn_articleAuthor",
    drop=(
        ".edn_articleTags, .edn_articleLinks, .edn_aditionalBox, .edn_articleNumberOfViews, "
        ".edn_linkToArticle, [id$='_dnnTITLE_titleLabel'], .edn_articleSummaryMore"
    ),
)

DRUPAL = Family(
    name="drupal",
    generator=r"Drupal",
    assets=r"/sites/(?:all|default/files)/|/core/misc/drupal",
    classes=("field--name-body", "field-name-body"),
    url=r"/node/\d+(?:[/?#]|$)",
    body=".field--name-body, .field-name-body, .node__content .field--type-text-with-summary",
    title="h1.page-title, h1.node__title, h1.title, h1.node-title",
    # Drupal 8+ renders the created field as <time datetime> (UTC); Drupal 7's RDF module
    # adds property="dc:date dc:created" content="..."; the "Submitted by" line prints it.
    date=(
        ".node__meta time[datetime], .field--name-created time[datetime], "
        "[property='dc:date dc:created'][content], .node__submitted, .submitted"
    ),
    author=".field--name-uid, .submitted .username, .node__submitted .username",
    drop=".node__links, .links.inline",
    # Drupal's default "medium" date format is "D, m/d/Y - H:i": month first.
    month_first=r"(?<!\w)\w{1,3},\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*-\s*\d{1,2}:\d{2}(?!\d)",
)

#: Most specific first: a Liferay 7 page also has portlet boundaries, and SharePoint and DNN
#: pages are both ASP.NET.
FAMILIES: tuple[Family, ...] = (
    WORDPRESS,
    JOOMLA,
    DRUPAL,
    LIFERAY7,
    LIFERAY62,
    SHAREPOINT,
    DNN,
    DCS,
)


def family_of(page: Page) -> Family | None:
    """The CMS family whose fingerprint the page carries, or None.

    The ``generator`` meta decides first, then the platform's markup (assets, classes, ids),
    then the URL's shape.
    """
    generator = page.meta.get("generator", "")
    if generator:
        for family in FAMILIES:
            if family.generator and re.search(family.generator, generator, re.IGNORECASE):
                return family
    for family in FAMILIES:
        if family.has_markup(page):
            return family
    for family in FAMILIES:
        if family.url and re.search(family.url, page.url, re.IGNORECASE):
            return family
    return None


def select(page: Page, selector: str) -> list[HtmlElement]:
    """Elements matching a comma-separated selector, most specific part first.

    Parts are taken in the order they are written, each part's matches in document order;
    every element once.
    """
    found: list[HtmlElement] = []
    seen: set[HtmlElement] = set()
    for part in _parts(selector):
        for element in page.css(part):  # prefiltered by the page's names, and kept (issue 11)
            if element not in seen:
                seen.add(element)
                found.append(element)
    return found
