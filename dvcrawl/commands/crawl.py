"""``scrapy crawl SPIDER`` that exits 1 when the run failed, as ``dvcrawl crawl`` does.

Scrapy's own command exits 0 whenever the spider could be started, so a run that lost pages,
could not reach its portal or could not store its articles ended "ok" under cron or Scrapyd
(issue 10). The verdict is the one the crawl-state extension recorded in the stats.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCrawl):
    """Scrapy's ``crawl``, then the run's failure causes on stderr and exit status 1."""

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Run the spider; exit status 1 with one line per cause when the run failed."""
        from dvcrawl.cli.crawl import run_problems

        if len(args) != 1:
            raise UsageError("scrapy crawl takes one spider (dvcrawl crawl takes several)")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        problems = run_problems(crawler.stats.get_stats() or {})
        for problem in problems:
            print(f"{crawler.spidercls.name}: {problem}", file=sys.stderr)
        if problems:
            self.exitcode = 1
