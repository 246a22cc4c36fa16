"""``dvcrawl import`` on every core: archived responses prepared in parallel, stored in order.

Importing a response is two kinds of work (issue 11):

* what needs only the response: decoding, extraction, the text's fingerprints for
  deduplication (`dvcrawl.dedup.fingerprint`) and its topic relevance. This is most of the
  time, and runs in worker processes (`prepare`);
* what needs the database: the duplicate decision and the write. This runs in the main
  process, one response at a time, in the order of the archive, through the same pipeline
  chain as a crawl.

Workers receive responses in batches and their results are taken back in the order they were
sent, so the chain sees exactly the sequence a single process would see: the rows and the
duplicate decisions of ``--jobs 4`` are those of ``--jobs 1``. At most a few batches per
worker are in flight, so memory does not grow with the archive.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dvcrawl.dedup import Fingerprint
    from dvcrawl.extract.page import DecodingProblem
    from dvcrawl.items import Article
    from dvcrawl.topic import Topic
    from dvcrawl.warc import ArchivedResponse
    from dvcrawl.wayback import ArchivedPage

#: Responses sent to a worker at a time: enough to make the cost of passing them negligible,
#: few enough to keep every worker busy to the end.
BATCH = 16
#: Batches in flight per worker.
AHEAD = 3
#: Seconds between checks for Ctrl-C while waiting for a worker's results (a signal that
#: reaches another thread does not wake this one).
WAKE = 0.5


class WorkerDied(RuntimeError):
    """A worker process ended without giving its results (killed, out of memory, crashed)."""


_DIED = (
    "an extraction worker process ended without its results (killed or out of memory?); "
    "the articles before it in the archive are stored"
)


@dataclass
class Prepared:
    """One archived response after the work that needs no database.

    Attributes:
        url: the response's URL.
        skipped: not a page (another status, another content type, not HTML, a bad URL).
        article: the extracted record (None when skipped).
        problems: what decoding had to repair.
        fingerprint: the text's fingerprints, for articles with text.
        relevance: the topic relevance, for articles.
        archived: for a web archive's capture, the page's original URL (the one extracted
            and stored) and the capture time.
        error: why the page could not be prepared: an exception the extractor raised, in
            one line (the article is not stored; the command reports it and fails).

    """

    url: str
    skipped: bool
    article: Article | None = None
    problems: tuple[DecodingProblem, ...] = ()
    fingerprint: Fingerprint | None = None
    relevance: float | None = None
    archived: ArchivedPage | None = None
    error: str | None = None


#: The topic list of this process (`start_worker`); None: relevance is left to the store.
_TOPIC: Topic | None = None


def start_worker(topic_file: str | None, log_level: str | None = None) -> None:
    """Get a process ready to prepare responses: its topic list and its logging."""
    global _TOPIC
    from dvcrawl.topic import load_topic

    _TOPIC = load_topic(topic_file)
    if log_level is not None:
        from dvcrawl.cli.common import configure_logging

        configure_logging(log_level, tracebacks=False)


def prepare(response: ArchivedResponse) -> Prepared:
    """Decode, extract, fingerprint and score one response (see the module docstring).

    An exception from that work (a page the extractor gave up on) comes back as the
    response's `Prepared.error` instead of ending the import: the archive's other pages are
    still stored, and the command fails at its end, naming the page. A crawl treats a
    callback's exception the same way (Scrapy logs it, goes on, and the run is "failed").
    """
    try:
        return _prepare(response)
    except Exception as exc:  # one page's failure: reported by the command, which goes on
        detail = " ".join(str(exc).split())[:300]
        return Prepared(response.url, skipped=False, error=f"{type(exc).__name__}: {detail}")


def _prepare(response: ArchivedResponse) -> Prepared:
    from dvcrawl.dedup import fingerprint
    from dvcrawl.extract import NotHTML, decode_page
    from dvcrawl.extraction import extract_article
    from dvcrawl.urls import InvalidURL
    from dvcrawl.wayback import archived_page

    content_type = response.header("Content-Type") or ""
    if response.status != 200 or (content_type and "html" not in content_type.lower()):
        return Prepared(response.url, skipped=True)
    # A web-archive run's capture is the portal's page under its original URL.
    archived = archived_page(response.url)
    url = archived.original_url if archived else response.url
    try:
        decoded = decode_page(response.body, content_type)
        article = extract_article(decoded.text, url, fetched_at=response.date)
    except (NotHTML, InvalidURL):
        return Prepared(response.url, skipped=True)
    prepared = Prepared(
        response.url,
        skipped=False,
        article=article,
        problems=decoded.problems,
        archived=archived,
    )
    if article.is_article and article.text:
        prepared.fingerprint = fingerprint(article.text)
        if _TOPIC is not None:
            prepared.relevance = _TOPIC.score(article.title, article.text)
    return prepared


def prepare_batch(responses: list[ArchivedResponse]) -> list[Prepared]:
    """`prepare` for each response of a batch (what a worker is sent)."""
    return [prepare(response) for response in responses]


class Preparer:
    """Prepares responses on `jobs` processes, in order (a context manager; `prepared`).

    The worker processes are started when it is entered: before the database is opened and
    before the progress display starts its thread, so on systems that fork, each worker is a
    copy of a process holding the loaded extraction code and nothing else (no connection, no
    thread), which costs milliseconds where starting a fresh interpreter would cost a second.
    Workers ignore Ctrl-C: the main process stops, and they finish their batch and exit. A
    worker that dies (killed, out of memory) raises `WorkerDied` in the main process instead
    of leaving it waiting.
    """

    def __init__(self, jobs: int, topic_file: str | None, log_level: str | None = None):
        self.jobs = jobs
        self.topic_file = topic_file
        self.log_level = log_level
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Preparer:
        start_worker(self.topic_file)
        if self.jobs > 1:
            _warm_up()
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            self._pool = ProcessPoolExecutor(
                self.jobs,
                mp_context=context,
                initializer=_start_pool_worker,
                initargs=(self.topic_file, self.log_level),
            )
            # The first task starts every worker (all at once when forking): now, not later.
            _result(self._pool.submit(int))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def prepared(
        self, responses: Iterable[ArchivedResponse]
    ) -> Iterator[tuple[ArchivedResponse, Prepared]]:
        """Each response with its `Prepared`, in the order of `responses`.

        With one job everything runs here, as the iterator is read. With more, this process
        only reads the archive and hands batches to the workers, at most `AHEAD` batches per
        worker ahead of the response it yields; the first batches are handed out by this
        call, so the workers start while the caller gets ready (opens its database).

        Raises:
            WorkerDied: if a worker process ended without its results.
            dvcrawl.warc.WarcError: here or from the iterator, for an archive that cannot be
                read.

        """
        if self._pool is None:
            return ((response, prepare(response)) for response in responses)
        batches = _batches(responses, BATCH)
        pending: deque[tuple[list[ArchivedResponse], Future[list[Prepared]]]] = deque()
        self._hand_out(batches, pending)
        return self._collected(batches, pending)

    def _hand_out(self, batches: Iterator[list[ArchivedResponse]], pending: deque[Any]) -> None:
        """Send batches to the workers until `AHEAD` per worker are in flight."""
        assert self._pool is not None
        try:
            while len(pending) < AHEAD * self.jobs:
                batch = next(batches, None)
                if batch is None:
                    return
                pending.append((batch, self._pool.submit(prepare_batch, batch)))
        except BrokenProcessPool:  # noticed when handing out a batch
            raise WorkerDied(_DIED) from None

    def _collected(
        self, batches: Iterator[list[ArchivedResponse]], pending: deque[Any]
    ) -> Iterator[tuple[ArchivedResponse, Prepared]]:
        while pending:
            yield from _results(*pending.popleft())
            self._hand_out(batches, pending)


def _start_pool_worker(topic_file: str | None, log_level: str | None) -> None:
    """`start_worker` for a worker process, which leaves Ctrl-C to the main process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    start_worker(topic_file, log_level)


def _warm_up() -> None:
    """Load what every worker needs once, here, so that forked workers share it."""
    from dvcrawl import extraction  # noqa: F401  (the site registry and the extractors)
    from dvcrawl.dedup import _permutations, band_shape

    _permutations()
    band_shape()


def _results(
    batch: list[ArchivedResponse], future: Future[list[Prepared]]
) -> Iterator[tuple[ArchivedResponse, Prepared]]:
    yield from zip(batch, _result(future), strict=True)


def _result(future: Future[Any]) -> Any:
    """The result of a worker's task, waiting in short steps so that Ctrl-C is seen."""
    while True:
        try:
            return future.result(timeout=WAKE)
        except FutureTimeout:
            continue
        except BrokenProcessPool:
            raise WorkerDied(_DIED) from None


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
