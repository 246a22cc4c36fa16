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
#: Batches in flight per worker: about half a second of work, so the workers stay busy while
#: the main process starts up (its first half second, a fresh database's schema included)
#: and commits. The responses and results in flight are a few megabytes.
AHEAD = 8
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


#: The topic list a worker process scores with, and the file it was read from
#: (`worker_topic`).
_TOPIC: tuple[str | None, Topic] | None = None


def worker_topic(topic_file: str | None) -> Topic:
    """The topic list read from `topic_file`, read once per process."""
    global _TOPIC
    if _TOPIC is None or _TOPIC[0] != topic_file:
        from dvcrawl.topic import load_topic

        _TOPIC = (topic_file, load_topic(topic_file))
    return _TOPIC[1]


def prepare(response: ArchivedResponse, topic: Topic | None = None) -> Prepared:
    """Decode, extract, fingerprint and score one response (see the module docstring).

    An exception from that work (a page the extractor gave up on) comes back as the
    response's `Prepared.error` instead of ending the import: the archive's other pages are
    still stored, and the command fails at its end, naming the page. A crawl treats a
    callback's exception the same way (Scrapy logs it, goes on, and the run is "failed").
    """
    try:
        return _prepare(response, topic)
    except Exception as exc:  # one page's failure: reported by the command, which goes on
        detail = " ".join(str(exc).split())[:300]
        return Prepared(response.url, skipped=False, error=f"{type(exc).__name__}: {detail}")


def _prepare(response: ArchivedResponse, topic: Topic | None) -> Prepared:
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
        if topic is not None:
            prepared.relevance = topic.score(article.title, article.text)
    return prepared


def prepare_batch(
    responses: list[ArchivedResponse], scoring: bool, topic_file: str | None
) -> list[Prepared]:
    """`prepare` for each response of a batch (what a worker is sent).

    Relevance is scored with the topic list of `topic_file` when `scoring`, and left to the
    store otherwise.
    """
    topic = worker_topic(topic_file) if scoring else None
    return [prepare(response, topic) for response in responses]


class Preparer:
    """Prepares responses on `jobs` processes, in order (a context manager; `prepared`).

    The worker processes are started when it is entered, which the command does first of
    all: before Scrapy's settings, the database's modules and the database itself are
    loaded, and before the progress display starts its thread. Each worker loads the
    extraction code while this process loads the rest, so on two cores almost nothing of
    the start-up runs alone (issue 11); on systems that fork, each worker is a copy of a
    process holding no connection and no thread. Workers ignore Ctrl-C: the main process
    stops, and they finish their batch and exit. A worker that dies (killed, out of memory)
    raises `WorkerDied` in the main process instead of leaving it waiting.
    """

    def __init__(self, jobs: int, log_level: str | None = None):
        self.jobs = jobs
        self.log_level = log_level
        self._pool: ProcessPoolExecutor | None = None
        #: Whether relevance is scored here (`score_with`), and with which topic list.
        self._scoring = False
        self._topic_file: str | None = None

    def __enter__(self) -> Preparer:
        if self.jobs > 1:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            self._pool = ProcessPoolExecutor(
                self.jobs,
                mp_context=context,
                initializer=_start_pool_worker,
                initargs=(self.log_level,),
            )
            # A first task starts the workers (every one at once when forking): now, while
            # this process goes on with its own start-up, not when the first batch is ready.
            self._pool.submit(int)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def score_with(self, topic_file: str | None) -> None:
        """Score relevance with the topic list of `topic_file` from the next batch on.

        The command hands out its first batches before it has read its settings, which name
        the list. Those come back unscored, and the store scores them with the same list
        (`dvcrawl.db.ArticleStore`): the same relevance, computed in the main process.
        """
        self._scoring, self._topic_file = True, topic_file

    def prepared(
        self, responses: Iterable[ArchivedResponse]
    ) -> Iterator[tuple[ArchivedResponse, Prepared]]:
        """Each response with its `Prepared`, in the order of `responses`.

        With one job everything runs here, as the iterator is read. With more, this process
        only reads the archive and hands batches to the workers, at most `AHEAD` batches per
        worker ahead of the response it yields; the first batches are handed out by this
        call, so the workers start while the caller gets ready (reads its settings, opens its
        database).

        Raises:
            WorkerDied: if a worker process ended without its results.
            dvcrawl.warc.WarcError: here or from the iterator, for an archive that cannot be
                read.

        """
        if self._pool is None:
            return self._one_by_one(responses)
        batches = _batches(responses, BATCH)
        pending: deque[tuple[list[ArchivedResponse], Future[list[Prepared]]]] = deque()
        self._hand_out(batches, pending)
        return self._collected(batches, pending)

    def _one_by_one(
        self, responses: Iterable[ArchivedResponse]
    ) -> Iterator[tuple[ArchivedResponse, Prepared]]:
        for response in responses:
            topic = worker_topic(self._topic_file) if self._scoring else None
            yield response, prepare(response, topic)

    def _hand_out(self, batches: Iterator[list[ArchivedResponse]], pending: deque[Any]) -> None:
        """Send batches to the workers until `AHEAD` per worker are in flight."""
        assert self._pool is not None
        try:
            while len(pending) < AHEAD * self.jobs:
                batch = next(batches, None)
                if batch is None:
                    return
                work = self._pool.submit(prepare_batch, batch, self._scoring, self._topic_file)
                pending.append((batch, work))
        except BrokenProcessPool:  # noticed when handing out a batch
            raise WorkerDied(_DIED) from None

    def _collected(
        self, batches: Iterator[list[ArchivedResponse]], pending: deque[Any]
    ) -> Iterator[tuple[ArchivedResponse, Prepared]]:
        while pending:
            yield from _results(*pending.popleft())
            self._hand_out(batches, pending)


def _start_pool_worker(log_level: str | None) -> None:
    """Get a worker process ready: Ctrl-C left to the main process, logging, extraction."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if log_level is not None:
        from dvcrawl.cli.common import configure_logging

        configure_logging(log_level, tracebacks=False)
    # What preparing a response needs, loaded before the first batch arrives.
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
