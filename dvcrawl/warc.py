"""Raw archive and replay: WARC files of everything a crawl fetched.

* `WarcRecorderMiddleware` writes each request and the response as it came off the wire
  (compressed body, redirects included) to ``<storage>/warc/<site>-<time>.warc.gz``. The
  file is named ``….warc.gz.open`` while the crawl runs; a killed crawl leaves the ``.open``
  file, whose complete records can still be replayed and imported. The file is created with
  the first response, so a run that fetched nothing (no network, an unwritable database)
  leaves no empty archive behind.
* `WarcReplayHandler` is a Scrapy download handler that answers http(s) requests from WARC
  files instead of the network, so ``crawl --replay`` runs the real engine (scheduler,
  robots.txt, redirects, decompression, pipelines) offline. `ReplayAddon` switches it on when
  ``DVCRAWL_REPLAY`` names files.
* `iter_responses` and `write_warc` read and write WARC files for ``dvcrawl import`` and for
  building test archives.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from dvcrawl import __version__
from dvcrawl.urls import InvalidURL, canonicalize

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import Settings

logger = logging.getLogger(__name__)

# Hop-by-hop headers describe the connection, not the payload we store; the stored body is
# de-chunked already.
_DROP_HEADERS = {"transfer-encoding", "connection", "keep-alive"}


class WarcError(RuntimeError):
    """A WARC file that cannot be read at all."""


class WarcWriteError(OSError):
    """A record could not be written (disk full, file too large); the file was left whole."""


@dataclass
class ArchivedResponse:
    """One response record of a WARC file."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    date: datetime | None
    raw: bool = field(default=True)

    def header(self, name: str) -> str | None:
        """The first value of a header, case-insensitively."""
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


# --- writing --------------------------------------------------------------------------------


class WarcFile:
    """An open WARC file that records appear in as soon as they are written."""

    def __init__(self, path: Path, *, info: dict[str, str] | None = None):
        self.final_path = path
        self.path = path.with_name(path.name + ".open")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Unbuffered: a record is on disk (or not at all) when write_exchange returns.
        self._file: BinaryIO = open(self.path, "wb", buffering=0)  # noqa: SIM115 (closed in close())
        self.writer = WARCWriter(io.BytesIO(), gzip=True)  # builds records; never writes
        self.records = 0
        fields = {"software": f"dvcrawl/{__version__}", "format": "WARC File Format 1.1"}
        fields.update(info or {})
        self._write_records(self.writer.create_warcinfo_record(self.final_path.name, fields))

    def write_exchange(
        self,
        url: str,
        *,
        method: str = "GET",
        request_headers: Iterable[tuple[str, str]] = (),
        status: int,
        reason: str = "",
        headers: Iterable[tuple[str, str]],
        body: bytes,
        date: datetime | None = None,
    ) -> None:
        """Append a request record and its response record, then flush to disk."""
        warc_date = _warc_date(date)
        response_headers = [(k, v) for k, v in headers if k.lower() not in _DROP_HEADERS]
        if not any(k.lower() == "content-length" for k, _ in response_headers):
            response_headers.append(("Content-Length", str(len(body))))
        http = StatusAndHeaders(
            f"{status} {reason or _REASONS.get(status, 'OK')}",
            response_headers,
            protocol="HTTP/1.1",
        )
        response = self.writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": warc_date},
        )
        path = url.split("/", 3)[3] if url.count("/") >= 3 else ""
        request_http = StatusAndHeaders(
            f"{method} /{path} HTTP/1.1", list(request_headers), is_http_request=True
        )
        request = self.writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=request_http,
            warc_headers_dict={
                "WARC-Date": warc_date,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        self._write_records(response, request)
        self.records += 1

    def _write_records(self, *records: Any) -> None:
        """Write whole records, or none: a failed write (a full disk) is cut off again.

        The records are built in memory and written in one piece, so the archive never holds
        half a record.

        Raises:
            WarcWriteError: if the disk refused the write.

        """
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True)
        for record in records:
            writer.write_record(record)
        data = memoryview(buffer.getvalue())
        end = self._file.tell()
        try:
            while data:
                written = self._file.write(data) or 0
                data = data[written:]
        except OSError as exc:
            with contextlib.suppress(OSError):
                self._file.truncate(end)
                self._file.seek(end)
            raise WarcWriteError(exc.errno, exc.strerror) from exc

    def close(self) -> Path:
        """Close the file and give it its final name; return that path."""
        self._file.close()
        os.replace(self.path, self.final_path)
        return self.final_path


def write_warc(path: str | Path, responses: Iterable[ArchivedResponse]) -> Path:
    """Write `responses` to a new WARC file at `path` (used to build test archives)."""
    warc = WarcFile(Path(path))
    for item in responses:
        warc.write_exchange(
            item.url, status=item.status, headers=item.headers, body=item.body, date=item.date
        )
    return warc.close()


def _warc_date(date: datetime | None) -> str:
    date = (date or datetime.now(UTC)).astimezone(UTC)
    return date.strftime("%Y-%m-%dT%H:%M:%SZ")


_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class WarcRecorderMiddleware:
    """Downloader middleware: archive every response of a crawl (see module docstring)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.directory = Path(crawler.settings.get("DVCRAWL_WARC_DIR"))
        self.warc: WarcFile | None = None
        self.name: str | None = None  # the file's name, set when the spider opens
        self.site = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorderMiddleware:
        """Enable unless ``DVCRAWL_WARC_ENABLED`` is off or the crawl is a replay."""
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.getbool("DVCRAWL_WARC_ENABLED") or crawler.settings.getlist(
            "DVCRAWL_REPLAY"
        ):
            raise NotConfigured
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Any) -> None:
        """Name this crawl's WARC file (created with the first response)."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.name = f"{spider.name}-{stamp}-{os.getpid()}.warc.gz"
        self.site = spider.name

    def spider_closed(self, spider: Any) -> None:
        """Close the WARC file and give it its final name."""
        if self.warc is not None:
            self.warc.close()
            self.warc = None

    def process_response(self, request: Request, response: Response) -> Response:
        """Archive the exchange and pass the response on unchanged.

        A response that cannot be archived (a full disk) is still crawled: the article is not
        lost with the archive. The failure is counted (``dvcrawl/archive/failed``) and fails
        the run with its cause (`dvcrawl.outcome`).
        """
        try:
            if self.warc is None and self.name:
                self.warc = WarcFile(self.directory / self.name, info={"isPartOf": self.site})
                self.crawler.stats.set_value("dvcrawl/warc_file", str(self.warc.final_path))
            if self.warc is not None:
                self.warc.write_exchange(
                    response.url,
                    method=request.method,
                    request_headers=_decode_headers(request.headers),
                    status=response.status,
                    headers=_decode_headers(response.headers),
                    body=response.body,
                )
                self.crawler.stats.inc_value("dvcrawl/warc_records")
        except OSError as exc:
            cause = f"{exc.strerror or exc} ({response.url} not archived)"
            self.crawler.stats.inc_value("dvcrawl/archive/failed")
            self.crawler.stats.set_value("dvcrawl/cause/archive", cause)
            logger.error("the archive could not be written: %s", cause)
        return response


def _decode_headers(headers: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, values in headers.items():
        name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        for value in values:
            pairs.append(
                (name, value.decode("latin-1") if isinstance(value, bytes) else str(value))
            )
    return pairs


# --- reading --------------------------------------------------------------------------------


def iter_responses(path: str | Path, *, raw: bool = False) -> Iterator[ArchivedResponse]:
    """Yield the response records of a WARC file in order.

    Args:
        path: a ``.warc`` or ``.warc.gz`` file (a ``.open`` file of a killed crawl works too).
        raw: give bodies as stored (compressed, for replay) instead of decoded.

    Raises:
        WarcError: if the file is missing or is not a WARC file. A file cut short (a killed
            crawl) yields its complete records and logs a warning.

    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise WarcError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        count = 0
        warc_records = 0
        try:
            for record in ArchiveIterator(handle):
                warc_records += _is_warc_record(record)
                if (
                    record.rec_type != "response"
                    or record.http_headers is None
                    or not _target(record)
                ):
                    continue
                archived = _archived(record, raw=raw)
                if archived is None:
                    logger.warning(
                        "%s is cut short after %d responses; the rest is lost", path, count
                    )
                    return
                count += 1
                yield archived
            if not warc_records:
                raise WarcError(f"{path} is not a WARC file")
        except ArchiveLoadFailed as exc:
            if count == 0:
                raise WarcError(f"{path} is not a WARC file ({_short(exc)})") from exc
            logger.warning("%s is cut short after %d responses; the rest is lost", path, count)
        except _READ_ERRORS as exc:
            if count == 0 and not str(path).endswith(".open"):
                raise WarcError(f"{path} is not a readable WARC file ({_short(exc)})") from exc
            logger.warning("%s is cut short after %d responses; the rest is lost", path, count)


# What warcio raises on damaged input besides ArchiveLoadFailed: a cut-short gzip member
# (EOFError, OSError), a record without a target URI (AttributeError), malformed headers
# (ValueError, KeyError, IndexError, TypeError).
_READ_ERRORS = (EOFError, OSError, ValueError, AttributeError, KeyError, IndexError, TypeError)


def _short(exc: BaseException) -> str:
    """Warcio's error in one short line (some of its messages run to a dozen lines)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    if text.startswith("ERROR: non-chunked gzip"):
        return "one gzip stream, not a WARC's gzip member per record"
    if text.startswith("Unknown archive format"):
        return "it does not start with a WARC record"
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 100 else text[:97] + "..."


def _is_warc_record(record: Any) -> bool:
    return record.format.startswith("warc") and bool(
        record.rec_headers.get_header("WARC-Record-ID")
    )


def _target(record: Any) -> str | None:
    return record.rec_headers.get_header("WARC-Target-URI")


def _archived(record: Any, *, raw: bool) -> ArchivedResponse | None:
    """The response in `record`, or None if the record is cut short (a killed crawl)."""
    status_line = record.http_headers.get_statuscode() or "0"
    declared = record.http_headers.get_header("Content-Length")
    chunked = (record.http_headers.get_header("Transfer-Encoding") or "").lower() == "chunked"
    raw_body = record.raw_stream.read()
    if declared and declared.isdigit() and not chunked and len(raw_body) < int(declared):
        return None
    body = raw_body if raw else _decode_body(raw_body, record.http_headers)
    date_text = record.rec_headers.get_header("WARC-Date")
    date = None
    if date_text:
        try:
            date = datetime.fromisoformat(date_text.replace("Z", "+00:00"))
        except ValueError:
            date = None
    headers = list(record.http_headers.headers)
    if not raw:
        # The body is decoded: the headers must not claim otherwise.
        headers = [
            (k, v) for k, v in headers if k.lower() not in {"content-encoding", "content-length"}
        ]
    return ArchivedResponse(
        url=record.rec_headers.get_header("WARC-Target-URI"),
        status=int(status_line) if status_line.isdigit() else 0,
        headers=headers,
        body=body,
        date=date,
        raw=raw,
    )


def _decode_body(raw: bytes, headers: StatusAndHeaders) -> bytes:
    """Undo chunked transfer and content encodings, as warcio's content_stream() does."""
    from warcio.bufferedreaders import BufferedReader, ChunkedDataReader

    encoding = (headers.get_header("Content-Encoding") or "").lower() or None
    if encoding not in BufferedReader.get_supported_decompressors():
        encoding = None
    stream = io.BytesIO(raw)
    if (headers.get_header("Transfer-Encoding") or "").lower() == "chunked":
        return ChunkedDataReader(stream, decomp_type=encoding).read()
    if encoding:
        return BufferedReader(stream, decomp_type=encoding).read()
    return raw


class ReplayIndex:
    """Where each URL's latest response lies in a set of WARC files."""

    def __init__(self, paths: Iterable[str | Path]):
        self.paths = [Path(p) for p in paths]
        self._exact: dict[str, tuple[Path, int]] = {}
        self._canonical: dict[str, tuple[Path, int]] = {}
        for path in self.paths:
            self._index(path)

    def __len__(self) -> int:
        return len(self._exact)

    def _index(self, path: Path) -> None:
        try:
            handle = open(path, "rb")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise WarcError(f"cannot read {path}: {exc.strerror}") from exc
        with handle:
            iterator = ArchiveIterator(handle)
            warc_records = 0
            try:
                for record in iterator:
                    warc_records += _is_warc_record(record)
                    url = _target(record)
                    if record.rec_type != "response" or not url:
                        continue
                    where = (path, iterator.get_record_offset())
                    self._exact[url] = where
                    with contextlib.suppress(InvalidURL):
                        self._canonical[canonicalize(url)] = where
            except (ArchiveLoadFailed, *_READ_ERRORS) as exc:
                if not warc_records:
                    raise WarcError(f"{path} is not a readable WARC file ({_short(exc)})") from exc
                logger.warning("%s is cut short; replaying its complete records", path)
            if not warc_records:
                raise WarcError(f"{path} is not a WARC file")

    def lookup(self, url: str) -> ArchivedResponse | None:
        """The archived response for `url` (exact URL first, then its canonical form)."""
        where = self._exact.get(url)
        if where is None:
            try:
                where = self._canonical.get(canonicalize(url))
            except InvalidURL:
                where = None
        if where is None:
            return None
        path, offset = where
        with open(path, "rb") as handle:
            handle.seek(offset)
            record = next(iter(ArchiveIterator(handle)))
            return _archived(record, raw=True)  # None for a record cut short


class WarcReplayHandler:
    """Download handler for http/https that answers from WARC files (see module docstring).

    A URL missing from the archive gets a 404 response flagged ``replay-missing`` and counted
    in the ``dvcrawl/replay/missing`` stat, as a dead link would.
    """

    lazy = False

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.index = ReplayIndex(crawler.settings.getlist("DVCRAWL_REPLAY"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcReplayHandler:
        """Build the handler (Scrapy component protocol)."""
        return cls(crawler)

    async def download_request(self, request: Request) -> Response:
        """Answer `request` from the archive."""
        from scrapy.http import Headers
        from scrapy.responsetypes import responsetypes

        archived = self.index.lookup(request.url)
        if archived is None:
            self.crawler.stats.inc_value("dvcrawl/replay/missing")
            cls = responsetypes.from_args(url=request.url)
            return cls(
                url=request.url, status=404, body=b"", request=request, flags=["replay-missing"]
            )
        self.crawler.stats.inc_value("dvcrawl/replay/hits")
        headers = Headers()
        for key, value in archived.headers:
            headers.appendlist(key, value)
        cls = responsetypes.from_args(headers=headers, url=request.url, body=archived.body)
        return cls(
            url=request.url,
            status=archived.status,
            headers=headers,
            body=archived.body,
            request=request,
            flags=["replay"],
        )

    async def close(self) -> None:
        """Nothing to release: files are opened per lookup."""


class ReplayAddon:
    """Scrapy add-on: when ``DVCRAWL_REPLAY`` names WARC files, answer from them.

    Replay contacts no portal, so the politeness delay is dropped and nothing is re-archived.
    """

    def update_settings(self, settings: Settings) -> None:
        """Route http/https to `WarcReplayHandler` when a replay is asked for."""
        paths = settings.getlist("DVCRAWL_REPLAY")
        if not paths:
            return
        handler = "dvcrawl.warc.WarcReplayHandler"
        settings.set(
            "DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, priority=_OVER_PROJECT
        )
        for name, value in (
            ("DOWNLOAD_DELAY", 0),
            ("AUTOTHROTTLE_ENABLED", False),
            ("DVCRAWL_WARC_ENABLED", False),
        ):
            if (settings.getpriority(name) or 0) <= _OVER_PROJECT:
                settings.set(name, value, priority=_OVER_PROJECT)


# Above the project's settings.py (20), below spider (30) and command-line (40) settings: the
# replay defaults beat our polite defaults but never a value the user set explicitly.
_OVER_PROJECT = 25
