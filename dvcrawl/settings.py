"""Scrapy settings for dvcrawl.

Every value that differs from Scrapy's default says why. Paths and the database URL come from
the environment (``DVCRAWL_STORAGE_DIR``, ``DVCRAWL_DB_URL``) or the command line, never from a
second configuration file.
"""

import os

from dvcrawl import PROJECT_URL, __version__
from dvcrawl.paths import default_db_url, storage_dir
from dvcrawl.wayback import DEFAULT_WAYBACK_URL

BOT_NAME = "dvcrawl"
SPIDER_MODULES = ["dvcrawl.spiders"]
# `scrapy crawl` exits 1 when the run failed (dvcrawl/commands/crawl.py).
COMMANDS_MODULE = "dvcrawl.commands"
NEWSPIDER_MODULE = "dvcrawl.spiders"

# --- politeness --------------------------------------------------------------------------
# These portals are run by small public offices on modest servers; we are a research tool,
# not a mirror. Default Scrapy: no robots.txt, 8 requests per domain, no delay.
USER_AGENT = os.environ.get(
    "DVCRAWL_USER_AGENT",
    f"dvcrawl/{__version__} (+{PROJECT_URL}; research crawler for public portals)",
)
ROBOTSTXT_OBEY = True
# One request at a time per portal; spiders also put both domains of a portal in one download
# slot (thanhuytphcm.vn and hcmcpv.org.vn are one server).
CONCURRENT_REQUESTS_PER_DOMAIN = 1
CONCURRENT_REQUESTS = 8  # different portals may be crawled at once (crawl --all)
DOWNLOAD_DELAY = 2.0  # seconds between requests to one portal, randomized 0.5x-1.5x
AUTOTHROTTLE_ENABLED = True  # slows down further when a portal answers slowly
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Default 180. An article page is < 1 MB: a portal that needs more than 30 s for one is down
# for us, and a server that drips its answer must not hold a page for minutes (issue 10).
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 3  # default 2: government servers drop connections under load
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Retry-After on 429/503 is honoured up to this many seconds (longer: the page is lost and the
# run fails, rather than stalling); a 429 without it pauses the portal 10, 20, 40 s; a page may
# take this long over all its attempts (dvcrawl/retry.py).
DVCRAWL_RETRY_AFTER_MAX = 120
DVCRAWL_BACKOFF_429 = 10
DVCRAWL_PAGE_TIME_BUDGET = 75
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024  # an article page is < 1 MB; 20 MB is a runaway page
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
REDIRECT_MAX_TIMES = 10  # default 20: loops between www/non-www and http/https end sooner

# --- identity of requests -------------------------------------------------------------------
# The same function gives an article its database identity and a request its fingerprint, so
# one article under two spellings (hcmcpv.org.vn / thanhuytphcm.vn, ?utm_source=...) is
# fetched once per run.
REQUEST_FINGERPRINTER_CLASS = "dvcrawl.fingerprint.CanonicalRequestFingerprinter"

# --- components ----------------------------------------------------------------------------
ADDONS = {
    "dvcrawl.warc.ReplayAddon": 0,
    "dvcrawl.wayback.WaybackAddon": 10,
    "dvcrawl.frontier.FrontierAddon": 0,
}
DOWNLOADER_MIDDLEWARES = {
    # Closest to the network, so the archive holds responses as they came off the wire
    # (before decompression and redirects), which is what replay must give back.
    "dvcrawl.warc.WarcRecorderMiddleware": 950,
    # Every attempt's answer or network failure, for the run's verdict (dvcrawl/outcome.py).
    "dvcrawl.outcome.NetworkLedgerMiddleware": 960,
    # robots.txt per RFC 9309: 5xx and network errors disallow, unless a copy is stored.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "dvcrawl.robots.RobotsMiddleware": 100,
    # Retry-After, backoff on 429, a time budget per page.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "dvcrawl.retry.PoliteRetryMiddleware": 550,
    # Web-archive runs only (dvcrawl/wayback.py). A 429 from the archive pauses the archive's
    # whole slot for as long as it asks (up to an hour, where a portal's page is given up after
    # 120 s), before the retry middleware (550) sees it ...
    "dvcrawl.wayback.ArchivePolitenessMiddleware": 555,
    # ... and a capture's response gets its original URL back once the archive's redirects
    # (600) are followed, before the spider sees it.
    "dvcrawl.wayback.ArchiveResponseMiddleware": 50,
    # With a shared frontier only (DVCRAWL_REDIS_URL): the per-portal lease every worker
    # shares, after everything else, so robots.txt, retries and redirects all pass it.
    "dvcrawl.frontier.PortalGateMiddleware": 990,
}
SPIDER_MIDDLEWARES = {
    # With a shared frontier only: a run is not drained while start pages are being queued.
    "dvcrawl.frontier.FrontierStartMiddleware": 10,
}
ITEM_PIPELINES = {
    "dvcrawl.pipelines.validate.ValidatePipeline": 100,
    "dvcrawl.pipelines.dedup.DedupPipeline": 300,
    "dvcrawl.pipelines.store.StorePipeline": 800,
    "dvcrawl.pipelines.shapes.UrlShapePipeline": 900,
}
EXTENSIONS = {
    # No open ports on the user's machine: a scheduled crawler needs no console.
    "scrapy.extensions.telnet.TelnetConsole": None,
    # Crawl runs, known articles, backfill cursors and health checks (dvcrawl/state.py).
    "dvcrawl.state.CrawlStateExtension": 100,
    # A live line per site on a terminal; off unless DVCRAWL_PROGRESS (dvcrawl/progress.py).
    "dvcrawl.progress.CrawlProgress": 200,
}
REMOTE_CONTROL_ENABLED = False  # default True: an HTTP control server on a local port

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# --- dvcrawl -------------------------------------------------------------------------------
#: Database URL (any SQLAlchemy URL); SQLite under the storage folder by default.
DVCRAWL_DB_URL = default_db_url()
#: The topic list that scores each article's relevance (dvcrawl/topic.py): a TOML file, by
#: default the shipped dân vận list (dvcrawl/topics/danvan.toml).
DVCRAWL_TOPIC_FILE = os.environ.get("DVCRAWL_TOPIC_FILE") or None
#: Draw live progress on standard error (`dvcrawl crawl` sets it when stderr is a terminal).
DVCRAWL_PROGRESS = False
#: Runtime data folder: the SQLite file, WARC archives, exports.
DVCRAWL_STORAGE_DIR = str(storage_dir())
#: Write every fetched response to a WARC file under <storage>/warc.
DVCRAWL_WARC_ENABLED = True
DVCRAWL_WARC_DIR = str(storage_dir() / "warc")
#: WARC files to answer requests from instead of the network (``crawl --replay``).
DVCRAWL_REPLAY: list[str] = []
#: A write that fails transiently (a lock held past the busy timeout, a full disk) is tried
#: again this many times, after DELAY, 2*DELAY, 4*DELAY... seconds (dvcrawl/db ArticleStore).
DVCRAWL_STORE_RETRIES = 4
DVCRAWL_STORE_RETRY_DELAY = 0.5
#: Articles per database transaction during a crawl. 1: a transaction never stays open while
#: the reactor serves other work. SQLite has one writer; `crawl --all` runs every site in one
#: thread, and a crawler holding a write transaction between two pages would make another
#: crawler's write wait on a lock the first can only release once the second gives the thread
#: back; so would the run's own other writers (state, URL shapes): a one-site replay with 20
#: took 60 s instead of 1. `dvcrawl crawl` refuses more than 1 on SQLite, and under
#: `scrapy crawl` (Scrapyd) the store commits every article, with a warning. Commits are cheap in
#: WAL mode. `dvcrawl import` (one writer, no waiting) uses 200.
DVCRAWL_COMMIT_EVERY = 1
#: Listing pages read per listing in a normal run (a site may lower it).
DVCRAWL_MAX_LISTING_PAGES = 20
#: Listing pages read per listing in a --full backfill.
DVCRAWL_FULL_MAX_PAGES = 10000
#: The web archive of ``crawl --source wayback``: its CDX API is <base>/cdx/search/cdx, its
#: raw captures <base>/web/<timestamp>id_/<url>.
DVCRAWL_WAYBACK_URL = os.environ.get("DVCRAWL_WAYBACK_URL") or DEFAULT_WAYBACK_URL
#: Seconds between two requests to the archive (one at a time; it asks for about 1 per second).
DVCRAWL_WAYBACK_DELAY = 1.0
#: Which capture of a page to read: "latest" (its last state) or "earliest" (as first published).
DVCRAWL_WAYBACK_PICK = "latest"
#: Read captured listing pages too, for article links the URL shape misses.
DVCRAWL_WAYBACK_LISTINGS = True
#: After a 429 without Retry-After: wait this long, doubled at each repeat, at most MAX_WAIT.
DVCRAWL_WAYBACK_BACKOFF = 60.0
DVCRAWL_WAYBACK_MAX_WAIT = 3600.0
#: Retries of one archive request answered 429 before it counts as failed.
DVCRAWL_WAYBACK_MAX_RETRIES = 10
#: Health-check thresholds: DVCRAWL_HEALTH_<NAME> overrides dvcrawl.health.THRESHOLDS[<name>],
#: e.g. DVCRAWL_HEALTH_MAX_SILENT_DAYS = 14.

# --- many workers (dvcrawl/frontier.py, docs/deployment.md) -----------------------------------
#: A Redis URL (redis://host:port/db): the crawl becomes a worker of a frontier shared with
#: every other worker of the site on that Redis database. Empty: one process, Scrapy's own
#: scheduler.
DVCRAWL_REDIS_URL = os.environ.get("DVCRAWL_REDIS_URL", "")
#: Keys are <prefix>:<site>:...; two corpora can share one Redis database with two prefixes.
DVCRAWL_REDIS_PREFIX = "dvcrawl"
#: Seconds the shared frontier must stay empty before a worker stops (0: wait for work).
DVCRAWL_REDIS_IDLE_EXIT = 0
#: Seconds between heartbeats; a worker silent for WORKER_TIMEOUT seconds is dead and its
#: requests go back to the queue. A worker's reactor can be busy for seconds (a large page,
#: a database lock), so the timeout is generous.
DVCRAWL_REDIS_HEARTBEAT = 1.0
DVCRAWL_REDIS_WORKER_TIMEOUT = 30.0
#: Requests a worker takes from the shared queue ahead (the rest stay for other workers).
DVCRAWL_REDIS_PREFETCH = 2
