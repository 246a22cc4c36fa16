"""No network, a dead portal, a proxy that refuses: the run fails and says why (issue 10, 1)."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

from tests.conftest import Runner, report
from tests.reliability.conftest import ROBOTS, SITE, FaultLab
from tests.reliability.ledger import Row, outcome, record
from tests.support.server import Route
from tests.support.synthetic_site import HOST


def test_no_network_at_all_fails_every_site_with_the_dns_cause(
    dvcrawl: Runner, tmp_path: Path, no_network: tuple[str, ...]
) -> None:
    import subprocess
    import sys

    from dvcrawl.sites import SITES

    db = f"sqlite:///{tmp_path / 'offline.sqlite3'}"
    enabled = sorted(site.id for site in SITES.values() if site.enabled)
    result = subprocess.run(
        [*no_network, sys.executable, "-m", "dvcrawl", "crawl", "--all", "--db", db],
        cwd=dvcrawl.workdir,
        env={**dvcrawl.env, "DVCRAWL_USER_AGENT": "dvcrawl-test"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    table = report(result.stdout)
    assert set(table) == set(enabled) and {row["result"] for row in table.values()} == {"FAILED"}
    for site in enabled:
        host = SITES[site].start_urls[0].split("/")[2]
        assert f"{site}: unreachable: DNS lookup failed for {host}" in result.stdout
    status = dvcrawl("status", "--db", db)
    assert status.returncode == 1
    for site in enabled:
        assert f"{site}: failed: unreachable: DNS lookup failed for " in status.stdout
    assert not (tmp_path / "storage" / "warc").exists(), (
        "a run that fetched nothing archives nothing"
    )
    record(
        Row(
            "1a",
            "no network",
            "`crawl --all` in a network namespace with no interface: every DNS lookup fails",
            outcome(1, "unreachable: DNS lookup failed for <its host>, for every site"),
            f"0 articles; {len(enabled)} of {len(enabled)} sites FAILED, also in `dvcrawl status`",
            0,
            0,
        )
    )


def test_a_host_the_proxy_cannot_reach(lab: FaultLab) -> None:
    # The proxy serves another host only: CONNECT thanhuytphcm.vn:443 gets 502 Bad Gateway.
    crawl = lab.crawl({"https://example.org/": Route(body=b"<html></html>")})
    assert crawl.returncode == 1
    assert crawl.row["result"] == "FAILED"
    assert crawl.cause.startswith("unreachable: the proxy 127.0.0.1:")
    assert crawl.cause.endswith("could not connect to thanhuytphcm.vn (502 Bad Gateway)")
    assert crawl.run["outcome"] == "failed" and crawl.run["cause"] == crawl.cause
    lab.record(
        "1b",
        "host unreachable through the proxy",
        "the proxy answers CONNECT with 502 Bad Gateway",
        crawl,
    )


def test_a_proxy_that_refuses_connections(lab: FaultLab) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = f"http://127.0.0.1:{port}"  # nothing listens there any more
    crawl = lab.crawl(None, env={"http_proxy": closed, "https_proxy": closed})
    assert crawl.returncode == 1 and crawl.hits == []
    assert crawl.cause == (
        f"unreachable: connection refused by the proxy 127.0.0.1:{port} (for thanhuytphcm.vn)"
    )
    lab.record("1c", "proxy refuses connections", "`https_proxy` names a closed port", crawl)


def test_a_portal_answering_503_to_everything(lab: FaultLab) -> None:
    routes = {url: Route(status=503, body=b"Service Unavailable") for url in lab.routes()}
    crawl = lab.crawl(routes)
    assert crawl.returncode == 1 and crawl.stored == {}
    # robots.txt answered 503 (RFC 9309: complete disallow), so nothing else was asked for.
    assert set(crawl.urls()) == {ROBOTS}
    assert crawl.cause == (
        "robots.txt of thanhuytphcm.vn could not be read (503 Service Unavailable) and no "
        "earlier copy is stored: 1 page not fetched (RFC 9309)"
    )
    lab.record("1d", "dead portal", "503 to every request, robots.txt included", crawl)


def test_a_dead_portal_after_a_good_run_is_unreachable(lab: FaultLab) -> None:
    first = lab.crawl()
    assert first.returncode == 0, first.output
    lab.site.publish(2)
    routes = {url: Route(status=503, body=b"Service Unavailable") for url in lab.routes()}
    crawl = lab.crawl(routes)
    # The stored robots.txt copy is obeyed, the pages are asked for, and every one fails.
    assert crawl.returncode == 1
    assert "obeying the copy of" in crawl.result.stderr
    assert crawl.cause == f"unreachable: 503 Service Unavailable from {HOST}/"
    assert len(crawl.stored) == 5
    lab.record(
        "1e",
        "dead portal, robots.txt copy stored",
        "503 to every request after a good run; 2 new articles published",
        crawl,
    )


def test_a_portal_that_never_answers(lab: FaultLab) -> None:
    routes = {url: Route(fault="hang") for url in lab.routes()}
    crawl = lab.crawl(routes, "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=1")
    assert crawl.returncode == 1
    assert crawl.cause == "unreachable: no complete answer from thanhuytphcm.vn within 1 s"
    lab.record("1f", "portal never answers", "every request hangs past DOWNLOAD_TIMEOUT", crawl)


def test_status_shows_the_cause_of_the_last_failed_run(lab: FaultLab) -> None:
    crawl = lab.crawl({"https://example.org/": Route(body=b"<html></html>")})
    status = lab.dvcrawl("status", "--db", lab.db_url)
    assert status.returncode == 1
    assert f"{SITE}: failed: {crawl.cause}" in status.stdout
    connection = sqlite3.connect(lab.db_url.removeprefix("sqlite:///"))
    assert connection.execute("SELECT outcome FROM crawl_runs").fetchall() == [("failed",)]
    connection.close()
