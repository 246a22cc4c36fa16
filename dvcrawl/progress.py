"""Live progress of long runs on a terminal (rich), and nothing at all anywhere else.

A crawl, ``import``, ``export`` and a rescoring of the corpus show what they have done so far
(pages, articles, errors, rate) on standard error while it is a terminal. Under cron, in a
pipe or with ``-q`` nothing is drawn, so logs and mails are exactly what they were.

The crawl's display is a Scrapy extension (`CrawlProgress`), enabled by ``DVCRAWL_PROGRESS``
(``dvcrawl crawl`` sets it when standard error is a terminal); every crawler of a
``crawl --all`` shares one display, a line per site.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def progress_wanted(*, quiet: bool = False) -> bool:
    """Whether to draw progress: standard error is a terminal (not a dumb one), and not ``-q``."""
    if quiet or os.environ.get("TERM") == "dumb":
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Display:
    """A rich progress display with one line per task; every method is a no-op when disabled."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._progress: Any = None
        self._started: dict[Any, float] = {}
        self._drawn = 0.0

    def __enter__(self) -> Display:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(bar_width=20),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                # Never take over stdout: `export -o -` writes the corpus there.
                redirect_stdout=False,
                redirect_stderr=False,
                transient=True,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.refresh()  # the last counts, even of a run shorter than a refresh
            self._progress.stop()
            self._progress = None

    def add(self, description: str, total: float | None = None) -> Any:
        """Add a line; returns its handle for `show`."""
        if self._progress is None:
            return None
        task = self._progress.add_task(description, total=total, counts="")
        self._started[task] = time.monotonic()
        return task

    def show(
        self,
        task: Any,
        counts: dict[str, int],
        *,
        completed: float | None = None,
        rate_of: str | None = None,
    ) -> None:
        """Show a line's counts (``pages 12 · articles 4 · errors 0 · 3.1 pages/s``)."""
        if self._progress is None or task is None:
            return
        parts = [f"{name} {value:,}" for name, value in counts.items()]
        if rate_of is not None:
            elapsed = max(time.monotonic() - self._started.get(task, time.monotonic()), 1e-6)
            parts.append(f"{counts.get(rate_of, 0) / elapsed:,.1f} {rate_of}/s")
        fields: dict[str, Any] = {"counts": " · ".join(parts)}
        if completed is not None:
            fields["completed"] = completed
        self._progress.update(task, **fields)
        now = time.monotonic()
        if now - self._drawn > 0.2:
            self._drawn = now
            self._progress.refresh()


@contextmanager
def display(enabled: bool) -> Iterator[Display]:
    """A `Display` that is drawn only if `enabled`."""
    with Display(enabled) as shown:
        yield shown


class CrawlProgress:
    """Scrapy extension: a live line per crawled site (pages, articles, errors, rate).

    Enabled by the ``DVCRAWL_PROGRESS`` setting; reads the crawler's stats twice a second.
    """

    _shared: Display | None = None
    _open = 0

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.task: Any = None
        self.loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        """Build the extension (Scrapy component protocol); NotConfigured when disabled."""
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.getbool("DVCRAWL_PROGRESS"):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any) -> None:
        """Start this site's line (and the display, for the first site)."""
        from twisted.internet import task

        if CrawlProgress._shared is None:
            CrawlProgress._shared = Display(True).__enter__()
        CrawlProgress._open += 1
        self.task = CrawlProgress._shared.add(spider.name)
        self.loop = task.LoopingCall(self.refresh)
        self.loop.start(0.5, now=True)

    def refresh(self) -> None:
        """Show the crawler's current counts."""
        from dvcrawl.health import error_count

        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        articles = sum(
            int(stats.get(f"dvcrawl/articles/{kind}", 0) or 0)
            for kind in ("new", "updated", "unchanged")
        )
        if CrawlProgress._shared is not None:
            CrawlProgress._shared.show(
                self.task,
                {
                    "pages": int(stats.get("downloader/response_count", 0) or 0),
                    "articles": articles,
                    "errors": error_count(stats),
                },
                rate_of="pages",
            )

    def spider_closed(self, spider: Any) -> None:
        """Stop this site's line (and the display, after the last site)."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        CrawlProgress._open -= 1
        if CrawlProgress._open <= 0 and CrawlProgress._shared is not None:
            CrawlProgress._shared.__exit__(None, None, None)
            CrawlProgress._shared = None
