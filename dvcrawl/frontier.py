"""A crawl frontier shared by many workers through Redis (``dvcrawl crawl --redis URL``).

One process crawls a site with Scrapy's scheduler in its memory. Given a Redis URL
(``--redis``, ``DVCRAWL_REDIS_URL``), every ``dvcrawl crawl`` of a site becomes a worker of one
shared crawl, on any machine that reaches the Redis server and the database:

* one request queue per site, ordered like Scrapy's (priority, then first in, first out);
* one seen-request set per site, keyed by our request fingerprint
  (`dvcrawl.fingerprint.CanonicalRequestFingerprinter`), so each page is requested once in all;
* a reliable queue: a worker takes a request by moving it, atomically, into its own in-flight
  set, and removes it only when Scrapy has finished with it (the callback ran, the articles it
  gave are stored, the links it found are queued). A worker that stops answering (killed,
  machine lost) is found by the others within ``DVCRAWL_REDIS_WORKER_TIMEOUT`` seconds, and
  its in-flight requests go back to the queue: a stopped worker loses no request;
* politeness across workers: a per-portal lease in Redis lets ``CONCURRENT_REQUESTS_PER_DOMAIN``
  downloads (1 by default) from a portal at once over all workers, and none sooner than the
  download delay after the previous one started;
* runs: a worker that starts when the frontier is drained (nothing queued, nothing in flight)
  starts a new run of the site (the seen set is cleared); a worker that starts while work
  is left joins that run, so a run whose workers were all killed resumes where it stopped.

Why not scrapy-redis: 0.9.1 warns under Scrapy 2.19 (``inc_value(spider=)``, its pipeline's
``process_item`` returning a Deferred and requiring a spider argument), its queues pop
destructively (a killed worker loses the requests it held), its duplicate filter hashes its
own fingerprint rather than the project's ``REQUEST_FINGERPRINTER_CLASS``, it serializes
requests with pickle (anyone who can write to Redis runs code in the workers), and it has no
cross-worker politeness. The frontier here is about 300 lines on redis-py: every change of
shared state is one Lua script, which Redis runs atomically.

Keys (``<prefix>`` is ``DVCRAWL_REDIS_PREFIX``, ``dvcrawl`` by default; ``<p>`` is
``<prefix>:<site>``): ``<p>:pending`` (sorted set of requests), ``<p>:seen`` (set of
fingerprints), ``<p>:inflight:<worker>`` (sorted set), ``<p>:workers`` (hash: worker -> since),
``<p>:alive:<worker>`` (expiring heartbeat), ``<p>:seeding`` (set), ``<p>:run`` (hash: the run's
id, start, whether the run before it was complete), ``<p>:portal`` and ``<p>:portal:next``
(the lease). A worker is ``<host>:<pid>``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import socket
import time
import uuid
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import Settings

from dvcrawl.outcome import FRONTIER_ERROR

logger = logging.getLogger(__name__)


class FrontierError(RuntimeError):
    """The Redis server cannot be used; the message is one line."""


def worker_id(host: str | None = None, pid: int | None = None) -> str:
    """A worker's name, ``<host>:<pid>`` (this process by default), as in its ``crawl_runs`` row."""
    return f"{host or socket.gethostname()}:{pid or os.getpid()}"


def check_url(url: str) -> str | None:
    """Why `url` is not a Redis URL, or None when it is one."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        return f"not a Redis URL (redis://host:port/db): {url!r}"
    if parts.scheme != "unix" and not parts.hostname:
        return f"no host in the Redis URL {url!r}"
    database = parts.path.strip("/")
    if database and not database.isdigit():
        return f"the Redis database must be a number (redis://host:port/0): {url!r}"
    return None


def connect(url: str, *, timeout: float = 10.0) -> redis.Redis:
    """A client for `url`, checked with a PING.

    Raises:
        FrontierError: the URL is malformed or the server does not answer.

    """
    import redis as redis_py

    problem = check_url(url)
    if problem:
        raise FrontierError(problem)
    try:
        client = redis_py.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        client.ping()
    except (redis_py.RedisError, ValueError, OSError) as exc:
        raise FrontierError(f"cannot use Redis at {redact_url(url)}: {_one_line(exc)}") from None
    return client


def redact_url(url: str) -> str:
    """`url` without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urlunsplit(parts._replace(netloc=netloc))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --- requests as JSON ------------------------------------------------------------------------
#
# JSON, not pickle: what a worker reads from Redis is data, never code. Bytes (bodies, header
# names and values) are tagged; a meta value that JSON cannot hold is an error at once.


def encode_request(request: Request, spider: Spider) -> str:
    """The request as JSON text (callbacks by name: they must be methods of the spider)."""
    return json.dumps(_tag(request.to_dict(spider=spider)), separators=(",", ":"))


def decode_request(text: str, spider: Spider) -> Request:
    """The request `encode_request` encoded, its callbacks bound to `spider`."""
    from scrapy.utils.request import request_from_dict

    return request_from_dict(_untag(json.loads(text)), spider=spider)


def _tag(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        if all(isinstance(key, str) and not key.startswith("$") for key in value):
            return {key: _tag(item) for key, item in value.items()}
        return {"$d": [[_tag(key), _tag(item)] for key, item in value.items()]}
    if isinstance(value, list | tuple):
        return [_tag(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"a request holds a {type(value).__name__}, which the frontier cannot store")


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$b"}:
            return base64.b64decode(value["$b"])
        if set(value) == {"$d"}:
            return {_untag(key): _untag(item) for key, item in value["$d"]}
        return {key: _untag(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_untag(item) for item in value]
    return value


# --- the shared state and its atomic operations ---------------------------------------------

# Shared by the scripts: a registered worker whose heartbeat expired is dead; its in-flight
# requests go back to the queue with their scores, and the run is marked incomplete (its
# counters, and what it lost, died with it).
_RECOVER = """
local function recover(p)
  local dead, moved = {}, 0
  for _, w in ipairs(redis.call('HKEYS', p .. ':workers')) do
    if redis.call('EXISTS', p .. ':alive:' .. w) == 0 then
      local items = redis.call('ZRANGE', p .. ':inflight:' .. w, 0, -1, 'WITHSCORES')
      for i = 1, #items, 2 do
        redis.call('ZADD', p .. ':pending', items[i + 1], items[i])
        moved = moved + 1
      end
      redis.call('DEL', p .. ':inflight:' .. w)
      redis.call('HDEL', p .. ':workers', w)
      redis.call('SREM', p .. ':seeding', w)
      redis.call('HSET', p .. ':run', 'incomplete', 1)
      dead[#dead + 1] = w
    end
  end
  return dead, moved
end
local function drained(p)
  if redis.call('ZCARD', p .. ':pending') > 0 or redis.call('SCARD', p .. ':seeding') > 0 then
    return false
  end
  for _, w in ipairs(redis.call('HKEYS', p .. ':workers')) do
    if redis.call('ZCARD', p .. ':inflight:' .. w) > 0 then return false end
  end
  return true
end
"""

# ARGV: prefix, worker, ttl ms, new run id, previous run complete per the database (1/0).
# Returns: run id, 1 if this worker started it, previous complete (1/0), dead workers, moved.
_JOIN = (
    _RECOVER
    + """
local p, w = ARGV[1], ARGV[2]
local dead, moved = recover(p)
local started = 0
if drained(p) then
  local previous = ARGV[5]
  if redis.call('EXISTS', p .. ':run') == 1 then
    previous = (redis.call('HGET', p .. ':run', 'incomplete') == '1') and '0' or '1'
  end
  local now = redis.call('TIME')
  redis.call('DEL', p .. ':seen', p .. ':run')
  redis.call('HSET', p .. ':run', 'id', ARGV[4], 'started', now[1], 'previous_complete', previous,
             'incomplete', 0)
  started = 1
end
redis.call('HSET', p .. ':workers', w, redis.call('TIME')[1])
redis.call('SET', p .. ':alive:' .. w, 1, 'PX', ARGV[3])
redis.call('SADD', p .. ':seeding', w)
return {redis.call('HGET', p .. ':run', 'id'), started,
        redis.call('HGET', p .. ':run', 'previous_complete'), table.concat(dead, ' '), moved}
"""
)

# ARGV: prefix, worker, ttl ms. Returns: dead workers, moved, queued, in flight, seeding.
_TICK = (
    _RECOVER
    + """
local p, w = ARGV[1], ARGV[2]
redis.call('SET', p .. ':alive:' .. w, 1, 'PX', ARGV[3])
if redis.call('HEXISTS', p .. ':workers', w) == 0 then
  redis.call('HSET', p .. ':workers', w, redis.call('TIME')[1])
end
local dead, moved = recover(p)
local inflight = 0
for _, other in ipairs(redis.call('HKEYS', p .. ':workers')) do
  inflight = inflight + redis.call('ZCARD', p .. ':inflight:' .. other)
end
return {table.concat(dead, ' '), moved, redis.call('ZCARD', p .. ':pending'), inflight,
        redis.call('SCARD', p .. ':seeding')}
"""
)

# KEYS: seen, pending, sequence. ARGV: fingerprint, priority, dont_filter (1/0), request.
# The score orders by priority (higher first), then by arrival.
_PUSH = """
if ARGV[3] == '0' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[2], -tonumber(ARGV[2]) * 4294967296 + seq, seq .. ' ' .. ARGV[4])
return 1
"""

# KEYS: pending, in-flight of the worker. Moves the first request; returns it or nil.
_POP = """
local item = redis.call('ZPOPMIN', KEYS[1])
if #item == 0 then return false end
redis.call('ZADD', KEYS[2], item[2], item[1])
return item[1]
"""

# KEYS: holders, next. ARGV: prefix, holder (worker|token), slots.
# Returns 0 when the lease is taken, else milliseconds to wait (-1: the portal is busy).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, holder in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local w = string.match(holder, '^(.*)|[^|]*$')
  if redis.call('EXISTS', ARGV[1] .. ':alive:' .. w) == 0 then redis.call('ZREM', KEYS[1], holder) end
end
local ready = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < ready then return ready - now end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('ZADD', KEYS[1], now, ARGV[2])
return 0
"""

# KEYS: holders, next. ARGV: holder, ms since the download started, delay ms.
# The next download may start `delay` after this one started, and never earlier than a later
# limit another worker set.
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
local ready = now - tonumber(ARGV[2]) + tonumber(ARGV[3])
if ready > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], ready, 'PX', math.max(tonumber(ARGV[3]), 1) + 60000)
end
return 1
"""

# ARGV: prefix, worker. Leaving: what is still in flight goes back to the queue at once.
_LEAVE = """
local p, w = ARGV[1], ARGV[2]
local items = redis.call('ZRANGE', p .. ':inflight:' .. w, 0, -1, 'WITHSCORES')
for i = 1, #items, 2 do redis.call('ZADD', p .. ':pending', items[i + 1], items[i]) end
redis.call('DEL', p .. ':inflight:' .. w, p .. ':alive:' .. w)
redis.call('HDEL', p .. ':workers', w)
redis.call('SREM', p .. ':seeding', w)
return #items / 2
"""


@dataclass(frozen=True)
class Run:
    """The shared run a worker joined."""

    id: str
    #: Whether this worker started it (the frontier was drained when it joined).
    started: bool
    #: Whether the run before it walked everything and lost nothing: no worker of it failed
    #: or died. Every worker of a run reads the same answer, so they page alike.
    previous_complete: bool
    #: Workers found dead when joining, and how many requests of theirs went back.
    recovered: tuple[str, ...] = ()
    requeued: int = 0


@dataclass(frozen=True)
class Tick:
    """What a heartbeat saw: dead workers recovered, and the state of the frontier."""

    recovered: tuple[str, ...]
    requeued: int
    queued: int
    in_flight: int
    seeding: int

    @property
    def drained(self) -> bool:
        """Nothing queued, nothing in flight, no worker still queueing its start pages."""
        return not (self.queued or self.in_flight or self.seeding)


class Frontier:
    """One site's shared frontier in Redis, seen from one worker."""

    def __init__(
        self,
        client: redis.Redis,
        site: str,
        *,
        worker: str | None = None,
        prefix: str = "dvcrawl",
        worker_timeout: float = 30.0,
    ):
        self.client = client
        self.site = site
        self.worker = worker or worker_id()
        self.prefix = f"{prefix}:{site}"
        self.ttl_ms = max(int(worker_timeout * 1000), 1000)
        self.run: Run | None = None
        self._scripts = {
            name: client.register_script(source)
            for name, source in (
                ("join", _JOIN),
                ("tick", _TICK),
                ("push", _PUSH),
                ("pop", _POP),
                ("acquire", _ACQUIRE),
                ("release", _RELEASE),
                ("leave", _LEAVE),
            )
        }

    def key(self, name: str) -> str:
        """The Redis key of `name` (``pending``, ``seen``, ``inflight:<worker>``, ...)."""
        return f"{self.prefix}:{name}"

    # --- membership ---------------------------------------------------------------------------

    def join(self, *, previous_complete: bool) -> Run:
        """Register this worker; start a new run if the frontier is drained, else join it.

        Args:
            previous_complete: whether the site's last run in the database was complete; used
                only when Redis holds no earlier run of the site.

        """
        run_id, started, previous, dead, moved = self._scripts["join"](
            args=[
                self.prefix,
                self.worker,
                self.ttl_ms,
                uuid.uuid4().hex[:12],
                int(previous_complete),
            ]
        )
        self.run = Run(
            id=str(run_id),
            started=bool(int(started)),
            previous_complete=str(previous) == "1",
            recovered=tuple(str(dead).split()),
            requeued=int(moved),
        )
        return self.run

    def seeded(self) -> None:
        """Say that this worker has queued its start pages (a run is not drained before)."""
        self.client.srem(self.key("seeding"), self.worker)

    def tick(self) -> Tick:
        """Heartbeat: prove this worker alive, recover dead ones, read the frontier's state."""
        dead, moved, queued, in_flight, seeding = self._scripts["tick"](
            args=[self.prefix, self.worker, self.ttl_ms]
        )
        return Tick(tuple(str(dead).split()), int(moved), int(queued), int(in_flight), int(seeding))

    def leave(self) -> int:
        """Unregister; requests still in flight go back to the queue. Returns how many."""
        return int(self._scripts["leave"](args=[self.prefix, self.worker]))

    def mark_incomplete(self) -> None:
        """The run lost something (a worker's run failed): the next run pages to full depth."""
        self.client.hset(self.key("run"), "incomplete", 1)

    def alive(self, worker: str) -> bool:
        """Whether `worker`'s heartbeat is current."""
        return bool(self.client.exists(self.key(f"alive:{worker}")))

    # --- the queue ------------------------------------------------------------------------------

    def push(self, fingerprint: str, request: str, *, priority: int, dont_filter: bool) -> bool:
        """Queue a request unless its fingerprint was seen in this run; False if it was."""
        return bool(
            self._scripts["push"](
                keys=[self.key("seen"), self.key("pending"), self.key("sequence")],
                args=[fingerprint, int(priority), int(dont_filter), request],
            )
        )

    def pop(self) -> str | None:
        """Take the first queued request into this worker's in-flight set (None: queue empty).

        The value is the queue entry (``<sequence> <request JSON>``); give it to `ack` when
        the request is finished.
        """
        item = self._scripts["pop"](keys=[self.key("pending"), self.key(f"inflight:{self.worker}")])
        return str(item) if item else None

    def ack(self, *entries: str) -> None:
        """These requests are finished: forget them."""
        if entries:
            self.client.zrem(self.key(f"inflight:{self.worker}"), *entries)

    def queued(self) -> int:
        """Requests waiting in the queue."""
        return int(self.client.zcard(self.key("pending")))

    # --- the portal lease -------------------------------------------------------------------

    def acquire_portal(self, token: str, *, slots: int) -> float:
        """Take one of the portal's `slots` download slots: 0.0 when taken, else seconds to wait.

        A negative wait means every slot is held (ask again soon); a positive one is the time
        left before the politeness delay allows the next download.
        """
        wait = int(
            self._scripts["acquire"](
                keys=[self.key("portal"), self.key("portal:next")],
                args=[self.prefix, f"{self.worker}|{token}", max(int(slots), 1)],
            )
        )
        return wait / 1000.0

    def release_portal(self, token: str, *, started_ago: float, delay: float) -> None:
        """Give the slot back; the next download may start `delay` after this one started."""
        self._scripts["release"](
            keys=[self.key("portal"), self.key("portal:next")],
            args=[f"{self.worker}|{token}", int(max(started_ago, 0.0) * 1000), int(delay * 1000)],
        )


# KEYS: pages, outstanding of the page, last. ARGV: page, url, next url ('' for none), ttl s,
# then the article URLs requested from the page.
_LISTED = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if #ARGV > 4 then
  redis.call('SADD', KEYS[2], unpack(ARGV, 5))
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
if tonumber(ARGV[1]) >= tonumber(redis.call('HGET', KEYS[3], 'page') or '0') then
  redis.call('HSET', KEYS[3], 'page', ARGV[1], 'next', ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[4])
return 1
"""

# KEYS: outstanding of the page. ARGV: url. 1 when this answer completed the page.
_DONE = """
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
return redis.call('SCARD', KEYS[1]) == 0 and 1 or 0
"""


class SharedBackfillProgress:
    """`dvcrawl.spiders.portal.BackfillProgress` kept in Redis, for every worker of a run.

    A listing page read by one worker has its articles answered by others; the cursor (the
    first page with an article still waiting, else the next page) is the same whoever asks.
    Keys live under the run's id and expire after 30 days.
    """

    TTL = 30 * 86400

    def __init__(self, frontier: Frontier, listing: str):
        import hashlib

        run = frontier.run.id if frontier.run else "-"
        digest = hashlib.sha1(listing.encode("utf-8")).hexdigest()[:16]
        self.client = frontier.client
        self.key = frontier.key(f"backfill:{run}:{digest}")
        self._listed = frontier.client.register_script(_LISTED)
        self._done = frontier.client.register_script(_DONE)

    def listed(self, page: int, url: str, articles: list[str], next_url: str | None) -> None:
        """A listing page was read: these article requests are now outstanding."""
        self._listed(
            keys=[f"{self.key}:pages", f"{self.key}:out:{page}", f"{self.key}:last"],
            args=[page, url, next_url or "", self.TTL, *articles],
        )

    def done(self, page: int, url: str) -> bool:
        """An article request of `page` was answered; True if that changes the cursor."""
        return bool(int(self._done(keys=[f"{self.key}:out:{page}"], args=[url])))

    def cursor(self) -> tuple[str | None, int]:
        """(URL to resume from, its page number); (None, n) once the listing is complete."""
        pages = self.client.hgetall(f"{self.key}:pages")
        for page in sorted(pages, key=int):
            if self.client.scard(f"{self.key}:out:{page}"):
                return pages[page], int(page)
        last = self.client.hgetall(f"{self.key}:last")
        return (last.get("next") or None), int(last.get("page") or 0) + 1


def request_body(entry: str) -> str:
    """The request JSON of a queue entry (``<sequence> <JSON>``)."""
    return entry.split(" ", 1)[1]


# --- Scrapy components ------------------------------------------------------------------------

#: The frontier of each running crawler (for the state extension and the portal gate).
_FRONTIERS: weakref.WeakKeyDictionary[Any, Frontier] = weakref.WeakKeyDictionary()


def frontier_of(crawler: Crawler) -> Frontier | None:
    """The shared frontier a crawler works on (None without ``DVCRAWL_REDIS_URL``)."""
    return _FRONTIERS.get(crawler)


class FrontierAddon:
    """Scrapy add-on: with ``DVCRAWL_REDIS_URL`` set, crawl through the shared frontier.

    Sets `RedisScheduler` as the scheduler; the portal gate and the start middleware are in
    the project's settings and switch themselves on with the same setting.
    """

    def update_settings(self, settings: Settings) -> None:
        """Switch the scheduler when a Redis URL is set."""
        if settings.get("DVCRAWL_REDIS_URL"):
            settings.set("SCHEDULER", "dvcrawl.frontier.RedisScheduler", priority="addon")


class RedisScheduler:
    """Scrapy scheduler on the shared frontier (the `BaseScheduler` interface).

    Requests the engine hands over are queued in Redis unless seen in this run; requests
    are taken from Redis a few at a time (``DVCRAWL_REDIS_PREFETCH``), so idle workers find
    work left. A request leaves the worker's in-flight set when the engine has finished with
    it. A heartbeat (``DVCRAWL_REDIS_HEARTBEAT`` seconds) keeps the worker alive, recovers dead
    workers, wakes the engine when work appears, and with ``DVCRAWL_REDIS_IDLE_EXIT`` closes
    the spider once the frontier has been drained that long; without it the worker waits.

    Stats: ``dvcrawl/frontier/queued`` (requests this worker added), ``.../taken``,
    ``.../duplicates``, ``.../skipped_stored`` (articles another worker stored first),
    ``.../recovered`` (requests of dead workers put back), ``dvcrawl/frontier/run``.
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.url: str = settings.get("DVCRAWL_REDIS_URL")
        self.prefix: str = settings.get("DVCRAWL_REDIS_PREFIX") or "dvcrawl"
        self.heartbeat = max(settings.getfloat("DVCRAWL_REDIS_HEARTBEAT", 1.0), 0.05)
        self.worker_timeout = settings.getfloat("DVCRAWL_REDIS_WORKER_TIMEOUT", 30.0)
        self.idle_exit = settings.getfloat("DVCRAWL_REDIS_IDLE_EXIT", 0.0)
        self.prefetch = max(settings.getint("DVCRAWL_REDIS_PREFETCH", 2), 1)
        self.frontier: Frontier | None = None
        self.spider: Any = None
        self._local: dict[str, Request] = {}
        self._loop: Any = None
        self._idle_since: float | None = None
        self._closing = False
        self._fingerprinter = crawler.request_fingerprinter

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        """Build the scheduler (Scrapy component protocol)."""
        from scrapy import signals

        scheduler = cls(crawler)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    # --- Scrapy's scheduler interface -------------------------------------------------------

    def open(self, spider: Spider) -> None:
        """Join the site's shared run and start the heartbeat.

        Raises:
            CloseSpider: ``frontier_unreachable`` when Redis cannot be used.

        """
        from scrapy.exceptions import CloseSpider
        from twisted.internet.task import LoopingCall

        from dvcrawl.state import CrawlStateExtension

        self.spider = spider
        state = self.crawler.get_extension(CrawlStateExtension)
        try:
            check_engine(self.crawler.engine)
            self.frontier = Frontier(
                connect(self.url),
                spider.name,
                prefix=self.prefix,
                worker_timeout=self.worker_timeout,
            )
            previous = state.database_previous_complete(spider.name) if state else False
            run = self.frontier.join(previous_complete=previous)
        except FrontierError as exc:
            self._fail(str(exc))
            raise CloseSpider(FRONTIER_ERROR) from None
        except Exception as exc:  # redis-py's errors, and a database that cannot be read
            self._fail(f"cannot join the shared frontier: {_one_line(exc)}")
            raise CloseSpider(FRONTIER_ERROR) from None
        _FRONTIERS[self.crawler] = self.frontier
        self.stats.set_value("dvcrawl/frontier/run", run.id)
        self.stats.set_value("dvcrawl/frontier/worker", self.frontier.worker)
        logger.info(
            "%s: worker %s %s run %s of the shared frontier %s",
            spider.name,
            self.frontier.worker,
            "started" if run.started else "joined",
            run.id,
            redact_url(self.url),
        )
        self._recovered(run.recovered, run.requeued)
        self._loop = LoopingCall(self._tick)
        self._loop.start(self.heartbeat, now=False)

    def close(self, reason: str) -> None:
        """Acknowledge what is finished, leave the frontier (returning anything unfinished)."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.frontier is None:
            return
        try:
            self._sweep()
            returned = self.frontier.leave()
        except Exception as exc:  # redis-py's errors: the heartbeat expires, others recover
            logger.error("%s: could not leave the frontier: %s", self.spider.name, _one_line(exc))
            return
        if returned:
            logger.info(
                "%s: %d unfinished requests returned to the queue", self.spider.name, returned
            )
        with contextlib.suppress(Exception):  # a count for the report only
            self.stats.set_value("dvcrawl/frontier/left_queued", self.frontier.queued())

    def has_pending_requests(self) -> bool:
        """Whether the shared queue holds requests (the engine then does not idle)."""
        if self.frontier is None or self._closing:
            return False
        try:
            return self.frontier.queued() > 0
        except Exception as exc:
            self._redis_failed(exc)
            return False

    def enqueue_request(self, request: Request) -> bool:
        """Queue the request in Redis unless it was seen in this run (False: dropped)."""
        assert self.frontier is not None
        fingerprint = self._fingerprinter.fingerprint(request).hex()
        try:
            added = self.frontier.push(
                fingerprint,
                encode_request(request, self.spider),
                priority=request.priority,
                dont_filter=request.dont_filter,
            )
        except Exception as exc:
            # A request that cannot be queued is a page lost: the run must fail, loudly.
            self.stats.inc_value("dvcrawl/errors/frontier")
            self.stats.set_value(
                "dvcrawl/cause/error", f"{request.url} could not be queued: {_one_line(exc)}"
            )
            logger.error("%s: %s could not be queued: %s", self.spider.name, request.url, exc)
            return False
        self.stats.inc_value("dvcrawl/frontier/queued" if added else "dvcrawl/frontier/duplicates")
        return added

    def next_request(self) -> Request | None:
        """A request from the shared queue, if this worker has room for one."""
        if self.frontier is None or self._closing:
            return None
        try:
            self._sweep()
            while len(self._local) < self.prefetch:
                entry = self.frontier.pop()
                if entry is None:
                    return None
                request = decode_request(request_body(entry), self.spider)
                if self._stored_already(request):
                    self.frontier.ack(entry)
                    self.stats.inc_value("dvcrawl/frontier/skipped_stored")
                    continue
                self._local[entry] = request
                self.stats.inc_value("dvcrawl/frontier/taken")
                return request
        except Exception as exc:
            self._redis_failed(exc)
        return None

    # --- signals and the heartbeat ----------------------------------------------------------

    def spider_idle(self) -> None:
        """A worker waits for work while the shared run goes on.

        Raises:
            DontCloseSpider: unless the idle-exit time has passed (then the heartbeat closes).

        """
        from scrapy.exceptions import DontCloseSpider

        if self.frontier is not None and not self._closing:
            raise DontCloseSpider

    def seeded(self) -> None:
        """The spider's start requests are all queued (`FrontierStartMiddleware`)."""
        if self.frontier is not None:
            try:
                self.frontier.seeded()
            except Exception as exc:
                self._redis_failed(exc)

    def _tick(self) -> None:
        assert self.frontier is not None
        try:
            self._sweep()
            tick = self.frontier.tick()
        except Exception as exc:
            self._redis_failed(exc)
            return
        self._redis_ok()
        self._recovered(tick.recovered, tick.requeued)
        engine = self.crawler.engine
        if tick.queued and len(self._local) < self.prefetch:
            _wake(engine)
        if not self.idle_exit or self._closing:
            return
        now = time.monotonic()
        if not tick.drained or self._local:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = now
        elif now - self._idle_since >= self.idle_exit:
            logger.info(
                "%s: the shared frontier has been empty for %.0f s; this worker stops",
                self.spider.name,
                now - self._idle_since,
            )
            self._close("finished")

    def _sweep(self) -> None:
        """Acknowledge the requests the engine has finished with."""
        if not self._local or self.frontier is None:
            return
        running = _in_progress(self.crawler.engine)
        done = [entry for entry, request in self._local.items() if request not in running]
        if done:
            self.frontier.ack(*done)
            for entry in done:
                del self._local[entry]

    def _stored_already(self, request: Request) -> bool:
        """An article request whose article is stored (by a worker that died before its ack)."""
        canonical = request.meta.get("dvcrawl_new_article")
        if not canonical:
            return False
        from dvcrawl.state import CrawlStateExtension

        state = self.crawler.get_extension(CrawlStateExtension)
        if state is None or state.state is None:
            return False
        return bool(state.state.known([canonical]))

    def _recovered(self, workers: tuple[str, ...], requeued: int) -> None:
        if not workers:
            return
        self.stats.inc_value("dvcrawl/frontier/recovered", requeued)
        logger.warning(
            "%s: worker(s) %s stopped answering; %d of their requests are back in the queue",
            self.spider.name,
            ", ".join(workers),
            requeued,
        )
        from dvcrawl.state import CrawlStateExtension

        state = self.crawler.get_extension(CrawlStateExtension)
        if state is not None:
            state.record_dead_workers(self.spider.name)

    _failing_since: float | None = None

    def _redis_failed(self, exc: Exception) -> None:
        """Redis did not answer: keep trying for the worker timeout, then stop the run."""
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
            logger.error("%s: Redis failed: %s", self.spider.name, _one_line(exc))
        if now - self._failing_since >= self.worker_timeout and not self._closing:
            self._fail(f"the shared frontier stopped answering: {_one_line(exc)}")
            self._close(FRONTIER_ERROR)

    def _redis_ok(self) -> None:
        self._failing_since = None

    def _fail(self, cause: str) -> None:
        self.stats.set_value("dvcrawl/cause/frontier", cause)
        logger.error("%s: %s", getattr(self.spider, "name", "?"), cause)

    def _close(self, reason: str) -> None:
        from scrapy.utils.defer import deferred_from_coro

        self._closing = True
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))


def _in_progress(engine: Any) -> set[Request] | frozenset[Request]:
    """The requests the engine has not finished with: downloading, or in their callback.

    Scrapy has no signal for "this request is done" (its callback ran, its items went through
    the pipelines, its requests were scheduled); the engine's slot keeps exactly that set and
    removes a request only then. A Scrapy without it makes the frontier refuse to start
    (`check_engine`), so a change is found by the tests, not by a lost request.
    """
    return engine._slot.inprogress if engine._slot is not None else frozenset()


def _wake(engine: Any) -> None:
    """Ask the engine to take requests now rather than at its next 5-second heartbeat."""
    slot = getattr(engine, "_slot", None)
    if slot is not None:
        slot.nextcall.schedule()


def check_engine(engine: Any) -> None:
    """Fail loudly when Scrapy's engine no longer has what `_in_progress` and `_wake` read."""
    slot = getattr(engine, "_slot", None)
    if not (
        slot is not None
        and isinstance(getattr(slot, "inprogress", None), set)
        and hasattr(getattr(slot, "nextcall", None), "schedule")
    ):
        raise FrontierError(
            "this Scrapy's engine keeps no in-progress set: the frontier cannot know when a "
            "request is finished"
        )


class FrontierStartMiddleware:
    """Spider middleware: tell the frontier when the spider's start requests are all queued.

    A run is never drained while a worker is still queueing its start pages, so a worker that
    starts at the same moment joins that run instead of starting another.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierStartMiddleware:
        """Build the middleware (only with a Redis URL)."""
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.get("DVCRAWL_REDIS_URL"):
            raise NotConfigured
        return cls(crawler)

    async def process_start(self, start: Any) -> Any:
        """Pass the start requests on; when they are all taken, tell the scheduler."""
        async for item in start:
            yield item
        scheduler = self.crawler.engine.scheduler if self.crawler.engine else None
        if isinstance(scheduler, RedisScheduler):
            scheduler.seeded()


class PortalGateMiddleware:
    """Downloader middleware: the per-portal lease shared by every worker.

    Closest to the network, so every download (robots.txt, retries and redirects included)
    waits until it holds one of the portal's ``CONCURRENT_REQUESTS_PER_DOMAIN`` slots and the
    download delay since the previous download from that portal, by any worker, has passed.
    The slot is given back when the answer (or the failure) arrives; a worker that dies holding
    it loses it with its heartbeat. Each worker's own Scrapy delay and AutoThrottle still apply.
    """

    #: Seconds between two looks at a busy portal.
    POLL = 0.05

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.slots = max(crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 1), 1)
        self._held: dict[Request, tuple[str, float]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PortalGateMiddleware:
        """Build the middleware (only with a Redis URL)."""
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.get("DVCRAWL_REDIS_URL"):
            raise NotConfigured
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        """Wait for the portal's lease."""
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        frontier = frontier_of(self.crawler)
        if frontier is None:
            return
        token = uuid.uuid4().hex[:12]
        waited = 0.0
        while True:
            wait = frontier.acquire_portal(token, slots=self.slots)
            if wait == 0:
                break
            pause = self.POLL if wait < 0 else min(max(wait, 0.01), 1.0)
            waited += pause
            await maybe_deferred_to_future(deferLater(reactor, pause, lambda: None))
        if waited:
            self.crawler.stats.inc_value("dvcrawl/frontier/gate_wait_seconds", round(waited, 3))
        self._held[request] = (token, time.monotonic())

    def process_response(self, request: Request, response: Response) -> Response:
        """Give the lease back."""
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Give the lease back (the failure goes on to the other middlewares)."""
        self._release(request)

    def _release(self, request: Request) -> None:
        held = self._held.pop(request, None)
        frontier = frontier_of(self.crawler)
        if held is None or frontier is None:
            return
        token, acquired = held
        now = time.monotonic()
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        # Scrapy notes when the slot last sent a request; with one download at a time that is
        # this one. The delay is the slot's own: randomized, and raised by AutoThrottle.
        started = max(slot.lastseen, acquired) if slot is not None else acquired
        delay = slot.download_delay() if slot is not None else 0.0
        try:
            frontier.release_portal(token, started_ago=now - started, delay=delay)
        except Exception as exc:  # the lease expires with the heartbeat
            logger.error("could not release the portal lease: %s", _one_line(exc))
