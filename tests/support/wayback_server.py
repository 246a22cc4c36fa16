"""A loopback stand-in for the Wayback Machine (127.0.0.1 only): its CDX API and raw captures.

It answers as the archive does, from a list of captures built from fixture pages:

* ``/cdx/search/cdx``: ``url`` with ``matchType`` exact/prefix/host/domain (or the ``*``
  forms), ``from``/``to`` (inclusive, any precision), ``filter=[!]field:regex`` (Java's
  whole-field match, all must hold), ``collapse=field[:N]`` (adjacent rows), ``fl``,
  ``limit`` with ``showResumeKey``/``resumeKey``, ``output=json``: a header row, the rows,
  then ``[]`` and the resume key when rows remain. Rows are sorted by SURT URL key, then time.
* ``/web/<timestamp>id_/<url>``: the capture as received: its status, headers (plus the
  archive's ``X-Archive-Orig-*`` and ``Memento-Datetime``) and body. A redirect capture answers
  302 with a Location inside the archive; a timestamp without a capture is redirected to the
  URL's nearest capture; a revisit record serves the payload it points to; a URL never
  captured gets the archive's 404 page.
* ``/web/<timestamp>/<url>``: the replay page, with the archive's toolbar and banner, which a
  crawler must never read.

Faults: 429 (or 503) with or without Retry-After for chosen paths; a loose index that ignores
the URL scope, filters and collapsing; captures the index lists with another status or type
than the archive serves; redirects served with the portal's own Location. The server logs every request with its time and
the largest number of requests it served at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HTML = "text/html; charset=utf-8"
TOOLBAR = (
    '<div id="wm-ipp-base"><div id="wm-ipp"><a href="/web/">Wayback Machine</a> '
    '<span class="wm-capinfo">1 capture</span> <a href="/donate">Donate</a> '
    "<p>The Wayback Machine is an initiative of the Internet Archive.</p></div></div>"
)


@dataclass
class ArchivedCapture:
    """One capture of one URL, as the archive holds it."""

    url: str
    timestamp: str
    status: int = 200
    body: bytes = b""
    content_type: str = HTML
    location: str | None = None  # a redirect capture: the original URL it points to
    revisit: bool = False  # a revisit record: the payload is the earlier capture's
    indexed: bool = True  # whether the CDX API lists it (the index can lag the archive)
    listed_as: tuple[str, str] | None = None  # (status, type) the index shows, if not the real
    raw_location: bool = False  # a mirror that serves a redirect's Location unrewritten

    @property
    def urlkey(self) -> str:
        return surt(self.url)

    @property
    def mimetype(self) -> str:
        if self.listed_as:
            return self.listed_as[1]
        if self.revisit:
            return "warc/revisit"
        return self.content_type.split(";")[0].strip() or "unk"

    @property
    def statuscode(self) -> str:
        if self.listed_as:
            return self.listed_as[0]
        return "-" if self.revisit else str(self.status)


@dataclass
class Hit:
    """One request the archive received."""

    time: float
    path: str
    status: int


def surt(url: str) -> str:
    """The archive's URL key: host reversed without ``www.``, path, sorted query, lower case."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path or "/"
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    return (
        ",".join(reversed(host.split("."))) + ")" + path + (f"?{query}" if query else "")
    ).lower()


def digest(body: bytes) -> str:
    return base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


class FakeWayback:
    """Serve `captures` at ``http://127.0.0.1:<port>`` like the Wayback Machine."""

    def __init__(
        self,
        captures: list[ArchivedCapture],
        *,
        loose: bool = False,
        robots: bytes = b"User-agent: *\nDisallow: /web/*/save/\n",
        latency: float = 0.02,
    ):
        self.captures = captures
        self.loose = loose  # a mirror whose index ignores the URL scope, filters and collapsing
        self.robots = robots
        self.latency = latency
        self.hits: list[Hit] = []
        # path part -> (count, Retry-After, status): 429s (or 503s) before the real answer
        self.throttle: dict[str, tuple[int, str | None, int]] = {}
        self.cdx_status: tuple[int, bytes] | None = None  # an index that fails
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.archive = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def env(self) -> dict[str, str]:
        return {"DVCRAWL_WAYBACK_URL": self.base}

    def __enter__(self) -> FakeWayback:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self) -> list[str]:
        with self._lock:
            return [hit.path for hit in self.hits]

    def capture_hits(self) -> list[str]:
        """Capture requests, in order (``/web/...``)."""
        return [path for path in self.paths() if path.startswith("/web/")]

    def index_hits(self) -> list[str]:
        return [path for path in self.paths() if path.startswith("/cdx/")]

    # --- the index -----------------------------------------------------------------------

    def cdx(self, query: str) -> tuple[int, bytes]:
        if self.cdx_status is not None:
            return self.cdx_status
        params = parse_qs(query, keep_blank_values=True)
        one = lambda name, default="": (params.get(name) or [default])[0]  # noqa: E731
        url, match_type = one("url"), one("matchType", "exact")
        if url.endswith("*"):
            url, match_type = url[:-1], "prefix"
        if url.startswith("*."):
            url, match_type = url[2:], "domain"
        key = surt(url)
        host_key = key.split(")", 1)[0]
        rows = sorted(
            (c for c in self.captures if c.indexed), key=lambda c: (c.urlkey, c.timestamp)
        )
        if self.loose:
            pass
        elif match_type == "exact":
            rows = [c for c in rows if c.urlkey == key]
        elif match_type == "prefix":
            rows = [c for c in rows if c.urlkey.startswith(key)]
        elif match_type == "host":
            rows = [c for c in rows if c.urlkey.split(")", 1)[0] == host_key]
        elif match_type == "domain":
            rows = [
                c
                for c in rows
                if c.urlkey.split(")", 1)[0] == host_key
                or c.urlkey.split(")", 1)[0].startswith(host_key + ",")
            ]
        if one("from"):
            rows = [c for c in rows if c.timestamp >= one("from").ljust(14, "0")]
        if one("to"):
            rows = [c for c in rows if c.timestamp <= one("to").ljust(14, "9")]
        table = [self._fields(c) for c in rows]
        if not self.loose:
            for rule in params.get("filter", []):
                inverted = rule.startswith("!")
                name, _, pattern = rule.lstrip("!").partition(":")
                table = [
                    row
                    for row in table
                    if bool(re.fullmatch(pattern, row[name])) != inverted  # Java's matches()
                ]
            for rule in params.get("collapse", []):
                name, _, width = rule.partition(":")
                size = int(width) if width else None
                kept, previous = [], None
                for row in table:
                    value = row[name][:size]
                    if value != previous:
                        kept.append(row)
                    previous = value
                table = kept
        if one("resumeKey"):
            after = tuple(one("resumeKey").split(" ", 1))
            table = [row for row in table if (row["urlkey"], row["timestamp"]) > after]
        limit = int(one("limit", "150000"))
        more = len(table) > limit
        table = table[:limit]
        names = one("fl").split(",") if one("fl") else list(self._fields(ArchivedCapture("", "")))
        if one("output") != "json":
            return 200, "\n".join(" ".join(row[n] for n in names) for row in table).encode()
        if not table:
            return 200, b"[]"
        out: list[list[str]] = [names, *([row[n] for n in names] for row in table)]
        if more and one("showResumeKey") == "true":
            out += [[], [f"{table[-1]['urlkey']} {table[-1]['timestamp']}"]]
        return 200, json.dumps(out).encode()

    def _fields(self, capture: ArchivedCapture) -> dict[str, str]:
        payload = self._payload(capture)
        return {
            "urlkey": capture.urlkey,
            "timestamp": capture.timestamp,
            "original": capture.url,
            "mimetype": capture.mimetype,
            "statuscode": capture.statuscode,
            "digest": digest(payload.body) if payload else "-",
            "length": str(len(capture.body)),
        }

    def _payload(self, capture: ArchivedCapture) -> ArchivedCapture | None:
        """The capture whose payload a capture serves (itself, or what a revisit points to)."""
        if not capture.revisit:
            return capture
        earlier = [
            c
            for c in self.captures
            if c.urlkey == capture.urlkey and c.timestamp < capture.timestamp and not c.revisit
        ]
        return max(earlier, key=lambda c: c.timestamp) if earlier else None

    # --- captures ------------------------------------------------------------------------

    def capture(self, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        rest = path[len("/web/") :]
        stamp, _, url = rest.partition("/")
        raw = stamp.endswith("id_")
        timestamp = stamp.removesuffix("id_")
        same = [c for c in self.captures if c.urlkey == surt(url)]
        if not same or not timestamp.isdigit():
            body = (
                b"<html><body><p>Hrm. Wayback Machine has not archived that URL.</p></body></html>"
            )
            return 404, [("Content-Type", HTML)], body
        exact = [c for c in same if c.timestamp == timestamp]
        if not exact:
            target = timestamp.ljust(14, "0")
            nearest = min(same, key=lambda c: abs(int(c.timestamp) - int(target)))
            where = f"{self.base}/web/{nearest.timestamp}{'id_' if raw else ''}/{nearest.url}"
            return 302, [("Location", where), ("Content-Type", HTML)], b""
        capture = exact[0]
        payload = self._payload(capture)
        if payload is None:
            return 404, [("Content-Type", HTML)], b"<html><body>Not in archive</body></html>"
        when = datetime.strptime(capture.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        headers = [
            ("Memento-Datetime", when.strftime("%a, %d %b %Y %H:%M:%S GMT")),
            ("X-Archive-Orig-Date", when.strftime("%a, %d %b %Y %H:%M:%S GMT")),
        ]
        if payload.location:
            where = f"{self.base}/web/{capture.timestamp}{'id_' if raw else ''}/{payload.location}"
            if capture.raw_location:
                where = payload.location
            headers += [("Location", where), ("X-Archive-Orig-Location", payload.location)]
            return 302, [*headers, ("Content-Type", HTML)], b""
        body = payload.body
        if not raw:
            text = body.decode("utf-8", "replace")
            text = text.replace("<body>", f"<body>{TOOLBAR}", 1).replace(
                'href="https://', f'href="{self.base}/web/{capture.timestamp}/https://'
            )
            body = text.encode("utf-8")
        return payload.status, [*headers, ("Content-Type", payload.content_type)], body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        return

    def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
        archive: FakeWayback = self.server.archive  # type: ignore[attr-defined]
        hit = Hit(time.monotonic(), self.path, 0)  # logged as it arrives
        with archive._lock:
            archive.hits.append(hit)
            archive._in_flight += 1
            archive.max_in_flight = max(archive.max_in_flight, archive._in_flight)
        try:
            time.sleep(archive.latency)  # a request takes time: overlapping ones would show
            status, headers, body = self._answer(archive)
            hit.status = status
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler was killed mid-answer: what a kill test does
        finally:
            with archive._lock:
                archive._in_flight -= 1

    def _answer(self, archive: FakeWayback) -> tuple[int, list[tuple[str, str]], bytes]:
        for part, (count, retry_after, status) in list(archive.throttle.items()):
            if part in self.path and count > 0:
                archive.throttle[part] = (count - 1, retry_after, status)
                headers = [("Content-Type", "text/plain")]
                if retry_after is not None:
                    headers.append(("Retry-After", retry_after))
                return status, headers, b"Too Many Requests"
        if self.path == "/robots.txt":
            return 200, [("Content-Type", "text/plain")], archive.robots
        if self.path.startswith("/cdx/search/cdx"):
            status, body = archive.cdx(urlsplit(self.path).query)
            return status, [("Content-Type", "text/plain; charset=utf-8")], body
        if self.path.startswith("/web/"):
            return archive.capture(self.path)
        return 404, [("Content-Type", HTML)], b"<html><body>Not Found</body></html>"
