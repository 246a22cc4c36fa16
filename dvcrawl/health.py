"""Health checks after every crawl of a site: the alarm for a portal that changed or broke.

A redesign that silently yields zero or empty articles is the most common failure of
site-specific crawlers. Each check below turns one symptom into a failed run (the crawl exits
non-zero, so cron mails the user) and a line in ``dvcrawl status``. Thresholds are settings
(`THRESHOLDS`, overridable as ``DVCRAWL_HEALTH_<NAME>``).

The checks read two things: the counters of the run (Scrapy stats kept by the spider and the
pipelines) and the site's history in the database (when it last yielded a new article).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

#: Default thresholds; each can be overridden with the setting ``DVCRAWL_HEALTH_<KEY upper>``.
THRESHOLDS: dict[str, float] = {
    # A site that used to publish and gave no new article for this many days.
    "max_silent_days": 7,
    # Fewer article pages than this in a run: coverage checks are not meaningful.
    "min_sample": 5,
    # Share of article pages that must give an article (title and body).
    "min_article_rate": 0.8,
    # Share of articles that must have a title / a date.
    "min_title_rate": 0.95,
    "min_date_rate": 0.8,
    # Share of articles the generic fallback may produce before the layout counts as changed.
    "max_fallback_rate": 0.5,
    # Failed requests (after retries) over all requests.
    "max_error_rate": 0.2,
    "min_requests_for_rates": 5,
    # Requests made for article pages per article stored or confirmed unchanged.
    "max_requests_per_article": 5,
    # Bot-challenge or maintenance pages served with status 2xx.
    "max_challenge_pages": 0,
}


@dataclass(frozen=True)
class CheckResult:
    """One health check of one run."""

    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def thresholds(settings: Any, site_overrides: dict[str, float] | None = None) -> dict[str, float]:
    """`THRESHOLDS`, then the site's own, then settings (``DVCRAWL_HEALTH_MAX_SILENT_DAYS``, ...)."""
    values = dict(THRESHOLDS)
    values.update(site_overrides or {})
    for key in values:
        override = settings.get(f"DVCRAWL_HEALTH_{key.upper()}") if settings is not None else None
        if override not in (None, ""):
            values[key] = float(override)
    return values


def run_checks(
    stats: dict[str, Any],
    *,
    newest_article: datetime | None,
    first_run: datetime | None,
    now: datetime,
    limits: dict[str, float] | None = None,
) -> list[CheckResult]:
    """Evaluate every check for one run.

    Args:
        stats: the run's Scrapy stats (``dvcrawl/...`` counters included).
        newest_article: when the site's newest stored article was first seen (None: none yet).
        first_run: when the site was first crawled (None: this is the first run).
        now: the time of the check.
        limits: thresholds (default `THRESHOLDS`).

    """
    limits = limits or THRESHOLDS
    get = lambda key: int(stats.get(key, 0) or 0)  # noqa: E731 (a local shorthand)
    results: list[CheckResult] = []

    # 1. Silence: the site used to publish and nothing new came for too long.
    silent_days = limits["max_silent_days"]
    if (
        newest_article is not None
        and first_run is not None
        and now - first_run > timedelta(days=silent_days)
    ):
        days = (now - newest_article).total_seconds() / 86400
        results.append(
            CheckResult(
                "new_articles",
                days <= silent_days,
                f"newest article first seen {days:.1f} days ago (limit {silent_days:g})",
            )
        )

    # 2. Listing pages that no longer lead anywhere: a redesign of the listing markup.
    listings, links = get("dvcrawl/listing_pages"), get("dvcrawl/article_links")
    if listings:
        results.append(
            CheckResult(
                "listing_links", links > 0, f"{links} article links on {listings} listing pages"
            )
        )

    # 3. Field coverage of the article pages this run extracted.
    pages = get("dvcrawl/extracted/pages")
    articles = get("dvcrawl/extracted/articles")
    if pages >= limits["min_sample"]:
        rate = articles / pages
        results.append(
            CheckResult(
                "article_rate",
                rate >= limits["min_article_rate"],
                f"{articles}/{pages} article pages gave an article ({rate:.0%}, minimum {limits['min_article_rate']:.0%})",
            )
        )
    if articles >= limits["min_sample"]:
        for field, key in (("title", "min_title_rate"), ("date", "min_date_rate")):
            have = get(f"dvcrawl/extracted/with_{field}")
            results.append(
                CheckResult(
                    f"{field}_coverage",
                    have / articles >= limits[key],
                    f"{have}/{articles} articles have a {field} (minimum {limits[key]:.0%})",
                )
            )
        fallback = get("dvcrawl/extracted/fallback")
        results.append(
            CheckResult(
                "layout",
                fallback / articles <= limits["max_fallback_rate"],
                f"{fallback}/{articles} articles needed the generic fallback (maximum {limits['max_fallback_rate']:.0%})",
            )
        )

    # 4. Errors, over distinct requests: a page tried four times is one request that failed.
    requests = get("downloader/request_count") - get("retry/count")
    errors = error_count(stats)
    if requests >= limits["min_requests_for_rates"]:
        results.append(
            CheckResult(
                "error_rate",
                errors / requests <= limits["max_error_rate"],
                f"{errors} failed of {requests} requests (maximum {limits['max_error_rate']:.0%})",
            )
        )

    # 5. Waste: many requests per article (redirect chains, retries, non-articles).
    article_requests = get("dvcrawl/article_requests")
    kept = (
        get("dvcrawl/articles/new")
        + get("dvcrawl/articles/updated")
        + get("dvcrawl/articles/unchanged")
    )
    kept += get("dvcrawl/articles/not_modified")
    if article_requests >= limits["min_requests_for_rates"]:
        ratio = article_requests / max(kept, 1)
        results.append(
            CheckResult(
                "requests_per_article",
                ratio <= limits["max_requests_per_article"],
                f"{article_requests} article requests for {kept} articles ({ratio:.1f} each, maximum {limits['max_requests_per_article']:g})",
            )
        )

    # 6. Archive runs: an index query that failed leaves the pages it would have listed unread.
    queries = get("dvcrawl/wayback/cdx_queries")
    if queries:
        failed = get("dvcrawl/wayback/cdx_failed")
        detail = (
            f"{queries - failed}/{queries} index queries read: {get('dvcrawl/wayback/cdx_rows')} "
            f"captures listed, {get('dvcrawl/wayback/pages')} pages"
        )
        if failed:
            detail += f"; {stats.get('dvcrawl/wayback/cdx_error')}"
        results.append(CheckResult("archive_index", failed == 0, detail))

    # 7. Bot challenges and maintenance pages served as 2xx.
    challenges = get("dvcrawl/challenge_pages")
    results.append(
        CheckResult(
            "challenge_pages",
            challenges <= limits["max_challenge_pages"],
            f"{challenges} bot-challenge or maintenance pages",
        )
    )
    return results


def error_count(stats: dict[str, Any]) -> int:
    """Requests that failed for good (5xx, 429, network, too large, refused redirects, bugs)."""
    total = sum(int(v) for k, v in stats.items() if k.startswith("dvcrawl/errors/"))
    total += sum(
        int(v) for k, v in stats.items() if k.startswith("spider_exceptions/") and k.count("/") == 1
    )
    return total


_CHALLENGE = re.compile(
    r"just a moment\.\.\.|checking your browser|cf-browser-verification|cf-challenge|challenge-platform|"
    r"ddos protection by|attention required! \| cloudflare|enable javascript and cookies to continue|"
    r"please complete the security check|bạn không phải là robot|vui lòng xác minh|"
    r"request unsuccessful\. incapsula|/_incapsula_resource|sucuri website firewall|"
    r"website đang (?:được )?bảo trì|trang web đang (?:được )?bảo trì|hệ thống đang (?:được )?bảo trì|"
    r"đang nâng cấp hệ thống|under maintenance|site is temporarily unavailable|"
    r"503 service temporarily unavailable|access denied",
    re.IGNORECASE,
)


def looks_like_challenge(text: str) -> bool:
    """Whether a 2xx page is a bot challenge, a firewall block or a maintenance notice.

    Only the first 20 KB are read: such pages are short, and a long article that mentions
    "bảo trì" deep in its text is not one.
    """
    head = text[:20000]
    match = _CHALLENGE.search(head)
    if match is None:
        return False
    # A real article page can quote these words; challenge pages have little else.
    visible = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", head, flags=re.S | re.I)
    return len(visible.split()) < 400
