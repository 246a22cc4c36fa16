"""The shared Redis frontier's operations, on a real redis-server (skipped without one).

Workers are simulated by Frontier objects with different worker names; a worker "dies" when
its heartbeat key is deleted (what its expiry does after DVCRAWL_REDIS_WORKER_TIMEOUT).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import scrapy

from dvcrawl.frontier import (
    Frontier,
    FrontierError,
    check_url,
    connect,
    decode_request,
    encode_request,
    redact_url,
    request_body,
)


@pytest.fixture
def client(redis_url: str) -> Iterator[object]:
    client = connect(redis_url)
    yield client
    client.close()


def worker(client: object, name: str, prefix: str, *, timeout: float = 30.0) -> Frontier:
    return Frontier(client, "site", worker=name, prefix=prefix, worker_timeout=timeout)  # type: ignore[arg-type]


def kill(frontier: Frontier) -> None:
    """What the heartbeat's expiry does to a worker that stopped."""
    frontier.client.delete(frontier.key(f"alive:{frontier.worker}"))


def test_queue_dedups_by_fingerprint_and_orders_by_priority_then_arrival(
    client: object, redis_prefix: str
) -> None:
    a = worker(client, "a", redis_prefix)
    a.join(previous_complete=True)
    assert a.push("f1", "listing-1", priority=0, dont_filter=False)
    assert a.push("f2", "article-1", priority=10, dont_filter=False)
    assert a.push("f3", "article-2", priority=10, dont_filter=False)
    assert a.push("f4", "teaser", priority=8, dont_filter=False)
    assert not a.push("f2", "article-1 again", priority=10, dont_filter=False)
    assert a.push("f2", "article-1 retried", priority=10, dont_filter=True)
    popped = [request_body(a.pop() or "") for _ in range(5)]
    assert popped == ["article-1", "article-2", "article-1 retried", "teaser", "listing-1"]
    assert a.pop() is None


def test_a_taken_request_stays_in_flight_until_acknowledged(
    client: object, redis_prefix: str
) -> None:
    a = worker(client, "a", redis_prefix)
    a.join(previous_complete=True)
    a.push("f1", "page", priority=0, dont_filter=False)
    entry = a.pop()
    assert entry is not None and a.queued() == 0
    tick = a.tick()
    assert (tick.queued, tick.in_flight, tick.drained) == (0, 1, False)
    a.ack(entry)
    assert a.tick().in_flight == 0


def test_a_dead_workers_requests_go_back_to_the_queue(client: object, redis_prefix: str) -> None:
    a, b = worker(client, "a", redis_prefix), worker(client, "b", redis_prefix)
    a.join(previous_complete=True)
    b.join(previous_complete=True)
    for number in range(3):
        a.push(f"f{number}", f"page-{number}", priority=0, dont_filter=False)
    taken = [a.pop(), a.pop()]
    assert all(taken)
    assert b.tick().recovered == ()  # a is alive: its requests are its own
    kill(a)
    tick = b.tick()
    assert (tick.recovered, tick.requeued, tick.queued) == (("a",), 2, 3)
    # In their first order: the recovered requests keep their places in the queue.
    assert [request_body(b.pop() or "") for _ in range(3)] == ["page-0", "page-1", "page-2"]
    # A worker that leaves returns what it still holds.
    assert b.leave() == 3 and b.queued() == 3


def test_runs_start_when_drained_and_are_joined_while_work_is_left(
    client: object, redis_prefix: str
) -> None:
    a, b, c = (worker(client, name, redis_prefix) for name in "abc")
    first = a.join(previous_complete=False)
    assert first.started and not first.previous_complete  # the database's word, at first
    # b starts while a is still queueing its start pages: b joins a's run.
    joined = b.join(previous_complete=True)
    assert (joined.id, joined.started) == (first.id, False)
    a.push("start", "home", priority=0, dont_filter=False)
    a.seeded()
    b.seeded()
    entry = b.pop()
    assert entry is not None
    assert not c.join(previous_complete=True).started  # b holds a request: the run goes on
    c.seeded()
    b.ack(entry)
    # Drained now: the next worker starts a new run, and the seen set starts empty.
    for frontier in (a, b, c):
        frontier.leave()
    second = a.join(previous_complete=False)
    assert second.started and second.id != first.id
    assert second.previous_complete  # nobody failed or died in the first run
    assert a.push("start", "home", priority=0, dont_filter=False)


def test_a_run_with_a_dead_or_failed_worker_was_incomplete(
    client: object, redis_prefix: str
) -> None:
    a, b = worker(client, "a", redis_prefix), worker(client, "b", redis_prefix)
    a.join(previous_complete=True)
    a.seeded()
    kill(a)
    # a's run is over (nothing queued, nothing in flight) but a died in it: b's new run must
    # not trust it.
    run = b.join(previous_complete=True)
    assert (run.recovered, run.started, run.previous_complete) == (("a",), True, False)
    b.seeded()
    b.leave()
    assert a.join(previous_complete=False).previous_complete  # Redis knows better than the db
    a.seeded()
    a.leave()
    b.mark_incomplete()  # b's run failed (pages lost)
    b.seeded()
    b.leave()
    assert not a.join(previous_complete=True).previous_complete


def test_the_portal_lease_lets_one_download_at_a_time_and_spaces_them(
    client: object, redis_prefix: str
) -> None:
    a, b = worker(client, "a", redis_prefix), worker(client, "b", redis_prefix)
    a.join(previous_complete=True)
    b.join(previous_complete=True)
    assert a.acquire_portal("t1", slots=1) == 0
    assert b.acquire_portal("t2", slots=1) < 0  # busy
    released = time.monotonic()
    a.release_portal("t1", started_ago=0.0, delay=0.3)
    wait = b.acquire_portal("t2", slots=1)
    asked_after = time.monotonic() - released
    # Free, but not before the delay since a's download started: what is left of it when b
    # asked (on a loaded machine the asking itself can take a good part of the 0.3 s).
    assert 0.3 - asked_after - 0.05 <= wait <= 0.3
    if wait:
        time.sleep(wait + 0.01)
        assert b.acquire_portal("t2", slots=1) == 0
    # Two slots (politeness off): two holders at once, a third waits.
    b.release_portal("t2", started_ago=0.0, delay=0.0)
    assert a.acquire_portal("t3", slots=2) == 0 and b.acquire_portal("t4", slots=2) == 0
    assert a.acquire_portal("t5", slots=2) < 0
    # A holder that dies frees its slot with its heartbeat.
    kill(b)
    assert a.acquire_portal("t5", slots=2) == 0


def test_requests_travel_as_json_and_come_back_whole() -> None:
    class Spider(scrapy.Spider):
        name = "s"

        def parse_article(self, response: object) -> None: ...

        def on_error(self, failure: object) -> None: ...

    spider = Spider()
    request = scrapy.Request(
        "https://thanhuytphcm.vn/tin-tuc/a-1",
        callback=spider.parse_article,
        errback=spider.on_error,
        headers={"If-None-Match": '"abc"'},
        body=b"\x00\xff",
        method="POST",
        priority=10,
        meta={"dvcrawl_page": 2, "redirect_urls": ["https://www.thanhuytphcm.vn/x"], "$odd": 1},
    )
    text = encode_request(request, spider)
    assert "pickle" not in text and isinstance(text, str)
    back = decode_request(text, spider)
    assert (back.url, back.method, back.body, back.priority) == (
        request.url,
        "POST",
        b"\x00\xff",
        10,
    )
    assert back.headers[b"If-None-Match"] == b'"abc"'
    assert back.callback == spider.parse_article and back.errback == spider.on_error
    assert back.meta == request.meta
    with pytest.raises(TypeError, match="cannot store"):
        encode_request(scrapy.Request("https://x.vn/", meta={"obj": object()}), spider)


def test_redis_urls_are_checked_and_passwords_hidden() -> None:
    assert check_url("redis://127.0.0.1:6379/0") is None
    assert "not a Redis URL" in (check_url("http://127.0.0.1:6379") or "")
    assert "must be a number" in (check_url("redis://127.0.0.1:6379/crawl") or "")
    assert redact_url("redis://u:secret@host:6379/0") == "redis://u:***@host:6379/0"
    with pytest.raises(FrontierError, match="cannot use Redis at redis://127.0.0.1:1/0"):
        connect("redis://127.0.0.1:1/0", timeout=1)


def test_backfill_progress_is_shared_by_the_workers_of_a_run(
    client: object, redis_prefix: str
) -> None:
    from dvcrawl.frontier import SharedBackfillProgress
    from dvcrawl.spiders.portal import BackfillProgress

    a, b = worker(client, "a", redis_prefix), worker(client, "b", redis_prefix)
    a.join(previous_complete=True)
    b.join(previous_complete=True)
    listing = "https://thanhuytphcm.vn/nhom-tin/dan-van"
    # a reads two listing pages; b answers their articles: both see one cursor, as one
    # process's BackfillProgress would.
    local = BackfillProgress()
    shared_a, shared_b = SharedBackfillProgress(a, listing), SharedBackfillProgress(b, listing)
    for progress in (local, shared_a):
        progress.listed(1, f"{listing}?page=1", ["x1", "x2"], f"{listing}?page=2")
        progress.listed(2, f"{listing}?page=2", ["x3"], f"{listing}?page=3")
    for progress in (local, shared_b):
        assert progress.cursor() == (f"{listing}?page=1", 1)
        assert not progress.done(1, "x1")
        assert not progress.done(1, "x9")  # never listed
    assert shared_a.cursor() == local.cursor() == (f"{listing}?page=1", 1)
    for progress in (local, shared_b):
        assert progress.done(1, "x2")  # page 1 complete: the cursor moves
        assert not progress.done(1, "x2")  # an answer counts once
    assert shared_a.cursor() == local.cursor() == (f"{listing}?page=2", 2)
    for progress in (local, shared_a):
        progress.listed(3, f"{listing}?page=3", [], None)  # the last page
        assert progress.done(2, "x3")
    assert shared_b.cursor() == local.cursor() == (None, 4)
    # Another run of the site starts its own progress.
    for frontier in (a, b):
        frontier.seeded()
        frontier.leave()
    a.join(previous_complete=True)
    assert SharedBackfillProgress(a, listing).cursor() == (None, 1)
