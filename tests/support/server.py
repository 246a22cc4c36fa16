"""A loopback fixture server that stands in for the portals (127.0.0.1 only).

It is an HTTP proxy: a crawl run with ``http_proxy``/``https_proxy`` pointing at it keeps the
portals' real URLs (https://thanhuytphcm.vn/...), and every request takes the downloader's real
path: proxy CONNECT, TLS, HTTP/1.1, compression, redirects. Nothing leaves the machine: a
URL the server does not know gets a 404.

Faults are injected per URL: 5xx bursts, hangs past the download timeout, connection resets,
slow bodies, wrong encodings and redirect loops; answers that drip a few bytes a second, are
cut short of their Content-Length, or announce a body of any size and stream it. A host the
server has no route for is refused the way a real proxy refuses a host it cannot resolve or
reach: ``502 Bad Gateway`` to CONNECT (and to plain proxied requests).
"""

from __future__ import annotations

import datetime as dt
import gzip
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import _SocketWriter  # type: ignore[attr-defined]
from urllib.parse import urlsplit


@dataclass
class Route:
    """What the server answers for one URL.

    Faults: "hang" (no answer for 30 s), "reset" (TCP reset), "slow" (256 bytes every 50 ms),
    "drip" (headers, then 16 bytes a second for as long as the client listens),
    "truncate" (the body cut in half, the connection closed, Content-Length of the whole),
    "stream" (Content-Length `size`, then `size` zero bytes), and "error_then_ok"
    (`fault_status` with `fault_headers` before the page). With `fault_count`, "reset" and
    "truncate" hit only the first requests, then the page is served whole.
    """

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    fault: str | None = None
    fault_count: int = 0  # "error_then_ok": errors before the page; "reset"/"truncate": 0 = always
    fault_status: int = 503
    fault_headers: list[tuple[str, str]] = field(default_factory=list)
    size: int = 0  # for "stream"
    before: Callable[[], None] | None = None  # run (in the server's thread) before answering


@dataclass
class Hit:
    """One request the server received."""

    method: str
    url: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    #: When the last write of the answer began: the client cannot have the whole answer
    #: before (None: no answer yet, or the connection failed first).
    answered: float | None = None


class FixtureServer:
    """Serve `routes` (absolute URL -> Route) through a loopback proxy on a free port."""

    def __init__(self, routes: dict[str, Route], tls_dir: Path):
        self.routes = routes
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._faults_served: dict[str, int] = {}
        hosts = sorted({urlsplit(url).hostname or "" for url in routes} - {""})
        self.context = _tls_context(tls_dir, hosts)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fixture = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def proxy(self) -> str:
        """The proxy URL to put in ``http_proxy`` and ``https_proxy``."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def env(self) -> dict[str, str]:
        """Environment variables that route a crawl's requests through this server."""
        return {"http_proxy": self.proxy, "https_proxy": self.proxy, "no_proxy": ""}

    def __enter__(self) -> FixtureServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def urls(self, method: str = "GET") -> list[str]:
        """URLs requested so far, in order."""
        with self._lock:
            return [hit.url for hit in self.hits if hit.method == method]

    def serves(self, host: str) -> bool:
        """Whether any route is on `host` (others are refused like an unreachable host)."""
        return any(urlsplit(url).hostname == host for url in list(self.routes))

    def fault_served(self, url: str) -> int:
        with self._lock:
            self._faults_served[url] = self._faults_served.get(url, 0) + 1
            return self._faults_served[url]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tunnel_host: str | None = None

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        return

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            # wrap_socket() detached the accepted socket; the TLS socket is ours to close.
            if self.tunnel_host is not None:
                self.connection.close()

    def do_CONNECT(self) -> None:  # noqa: N802 (stdlib naming)
        host = self.path.rsplit(":", 1)[0]
        fixture: FixtureServer = self.server.fixture  # type: ignore[attr-defined]
        if not fixture.serves(host):
            fixture.record(Hit("CONNECT", f"https://{host}/", {}))
            self._send(502, b"Bad Gateway", [("Content-Type", "text/plain")], head=False)
            self.close_connection = True
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        try:
            tls = fixture.context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.connection = tls
        self.rfile = tls.makefile("rb", -1)
        self.wfile = _SocketWriter(tls)
        self.tunnel_host = host
        self.close_connection = False

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def _url(self) -> str:
        if self.tunnel_host:
            return f"https://{self.tunnel_host}{self.path}"
        return self.path  # a proxy request carries the absolute URL

    def _serve(self, *, head: bool) -> None:
        fixture: FixtureServer = self.server.fixture  # type: ignore[attr-defined]
        hit = Hit(self.command, self._url(), {k.lower(): v for k, v in self.headers.items()})
        fixture.record(hit)
        self._last_write: float | None = None
        try:
            self._answer(fixture, hit.url, head=head)
        finally:
            hit.answered = self._last_write or time.monotonic()

    def _answer(self, fixture: FixtureServer, url: str, *, head: bool) -> None:
        if not fixture.serves(urlsplit(url).hostname or ""):
            self._send(502, b"Bad Gateway", [("Content-Type", "text/plain")], head)
            return
        route = fixture.routes.get(url)
        if route is None:
            parts = urlsplit(url)
            route = fixture.routes.get(f"{parts.scheme}://{parts.netloc}{parts.path}") or Route(
                status=404, body=b"Not Found", headers=[("Content-Type", "text/plain")]
            )
        if route.before is not None:
            route.before()
        if route.fault == "hang":
            time.sleep(30)
            return
        if route.fault == "reset" and self._faulty(fixture, url, route):
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            self.close_connection = True
            self.connection.close()
            return
        if route.fault == "error_then_ok" and fixture.fault_served(url) <= route.fault_count:
            self._send(
                route.fault_status,
                b"Error",
                [("Content-Type", "text/plain"), *route.fault_headers],
                head,
            )
            return
        if route.fault == "drip":
            self._drip(route)
            return
        if route.fault == "stream":
            self._stream(route)
            return
        if route.fault == "truncate" and self._faulty(fixture, url, route):
            self.send_response(route.status)
            for key, value in route.headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body[: len(route.body) // 2])
            self.close_connection = True
            return
        headers = list(route.headers)
        body = route.body
        if (
            route.status == 200
            and "gzip" in (self.headers.get("Accept-Encoding") or "")
            and len(body) > 512
            and not any(k.lower() == "content-encoding" for k, _ in headers)
        ):
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        etag = dict((k.lower(), v) for k, v in headers).get("etag")
        if etag and self.headers.get("If-None-Match") == etag:
            self._send(304, b"", [("ETag", etag)], head)
            return
        self._send(route.status, body, headers, head, slow=route.fault == "slow")

    @staticmethod
    def _faulty(fixture: FixtureServer, url: str, route: Route) -> bool:
        """Whether this request gets the route's fault (always, or the first `fault_count`)."""
        return route.fault_count == 0 or fixture.fault_served(url) <= route.fault_count

    def _drip(self, route: Route) -> None:
        """A server that sends its answer a few bytes at a time, as slowly as it likes."""
        self.send_response(route.status)
        for key, value in route.headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        try:
            for start in range(0, len(route.body), 16):
                self.wfile.write(route.body[start : start + 16])
                self.wfile.flush()
                time.sleep(1.0)
        except OSError:
            pass  # the client gave up
        self.close_connection = True

    def _stream(self, route: Route) -> None:
        """Announce `route.size` bytes and stream them (as long as the client reads)."""
        self.send_response(route.status)
        for key, value in route.headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(route.size))
        self.end_headers()
        chunk = b"\0" * 65536
        sent = 0
        try:
            while sent < route.size:
                self.wfile.write(chunk[: route.size - sent])
                sent += len(chunk)
        except OSError:
            pass
        self.close_connection = True

    def _send(
        self,
        status: int,
        body: bytes,
        headers: list[tuple[str, str]],
        head: bool,
        *,
        slow: bool = False,
    ) -> None:
        self.send_response(status)
        names = {k.lower() for k, _ in headers}
        for key, value in headers:
            self.send_header(key, value)
        if "date" not in names:
            self.send_header("Date", dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"))
        self.send_header("Content-Length", str(len(body)))
        # An answer without a body is complete with its headers.
        self._last_write = time.monotonic()
        self.end_headers()
        if head or not body:
            return
        if slow:
            for start in range(0, len(body), 256):
                self._last_write = time.monotonic()
                self.wfile.write(body[start : start + 256])
                time.sleep(0.05)
        else:
            self._last_write = time.monotonic()
            self.wfile.write(body)


def _tls_context(directory: Path, hosts: list[str]) -> ssl.SSLContext:
    """A server TLS context with a self-signed certificate for the fixture hosts."""
    import hashlib

    tag = hashlib.sha1(" ".join(hosts).encode()).hexdigest()[:12]
    cert, key = directory / f"cert-{tag}.pem", directory / f"key-{tag}.pem"
    if not cert.exists():
        _make_certificate(cert, key, hosts)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def _make_certificate(cert_path: Path, key_path: Path, hosts: list[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dvcrawl fixture server")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
