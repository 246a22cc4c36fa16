"""The site registry and its spiders."""

import asyncio
import re

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.test import get_crawler

from dvcrawl.sites import SITES, UnknownSite, get_site, site_for_url
from dvcrawl.spiders.portal import PortalSpider


def _loader() -> SpiderLoader:
    from scrapy.settings import Settings

    return SpiderLoader.from_settings(Settings({"SPIDER_MODULES": ["dvcrawl.spiders"]}))


def test_site_ids_are_ascii_snake_case_and_unique() -> None:
    assert SITES
    for site_id, site in SITES.items():
        assert site_id == site.id
        assert re.fullmatch(r"[a-z][a-z0-9_]*", site_id)
        assert site.extractors and site.start_urls and site.domains


def test_every_site_has_a_spider_named_after_it() -> None:
    loader = _loader()
    assert set(SITES) <= set(loader.list())
    for site_id in SITES:
        spider = loader.load(site_id)
        assert issubclass(spider, PortalSpider) and spider.site is get_site(site_id)


@pytest.mark.parametrize("site_id", sorted(SITES))
def test_start_yields_requests_offline(site_id: str) -> None:
    spider_cls = _loader().load(site_id)
    crawler = get_crawler(spider_cls)
    spider = spider_cls.from_crawler(crawler)

    async def collect() -> list:
        return [request async for request in spider.start()]

    requests = asyncio.run(collect())
    assert [r.url for r in requests] == list(get_site(site_id).start_urls)
    assert all(r.meta["download_slot"] == site_id for r in requests)


def test_start_urls_override_and_the_page_decides_what_an_undeclared_one_is() -> None:
    spider_cls = _loader().load("thanhuytphcm")
    article = "https://thanhuytphcm.vn/tin-tuc/a-b-1491871594"
    odd = "https://thanhuytphcm.vn/bai-viet/chi-tiet.aspx?id=1491871594"
    spider = spider_cls.from_crawler(
        get_crawler(spider_cls),
        start_url=f"{article},https://thanhuytphcm.vn/nhom-tin/dan-van-1197604650,{odd}",
    )

    async def collect() -> list:
        return [request async for request in spider.start()]

    first, second, third = asyncio.run(collect())
    # Neither a menu nor a declared listing: extracted, and read as a listing if not an article.
    assert first.url == article and first.callback == spider.parse_page
    assert second.callback == spider.parse_listing
    assert third.url == odd and third.callback == spider.parse_page


@pytest.mark.parametrize(
    ("url", "site_id"),
    [
        ("https://thanhuytphcm.vn/tin-tuc/x-1491871594", "thanhuytphcm"),
        ("http://www.hcmcpv.org.vn/tin-tuc/x-1491871594", "thanhuytphcm"),
        ("https://WWW.THANHUYTPHCM.VN/", "thanhuytphcm"),
        ("https://example.org/", None),
        ("https://stxdd.thanhuytphcm.vn/tin-tuc/x-1491901809", None),  # a subsite, not the portal
    ],
)
def test_site_for_url(url: str, site_id: str | None) -> None:
    site = site_for_url(url)
    assert (site.id if site else None) == site_id


def test_unknown_site_message_lists_the_known_ones() -> None:
    with pytest.raises(UnknownSite) as error:
        get_site("nope")
    assert "thanhuytphcm" in str(error.value)
