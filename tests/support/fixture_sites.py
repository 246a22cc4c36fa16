"""Fixture sites: the pages of tests/fixtures/<site>/ at their real URLs.

``site.json`` lists what each URL answers: a stored file, a redirect, an error, or a short
text (robots.txt). The same description builds the loopback server's routes and the WARC
archives that replay tests use, so both paths serve identical responses.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from dvcrawl.warc import ArchivedResponse, write_warc
from tests.support.server import Route

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HTML = "text/html; charset=utf-8"


def fixture_dir(site: str) -> Path:
    return FIXTURES / site


def load_responses(site: str) -> list[ArchivedResponse]:
    """The responses a fixture site serves, in site.json order."""
    folder = fixture_dir(site)
    spec = json.loads((folder / "site.json").read_text(encoding="utf-8"))
    responses: list[ArchivedResponse] = []
    for entry in spec["responses"]:
        status = entry.get("status", 200)
        headers = [(k, v) for k, v in entry.get("headers", {}).items()]
        if "file" in entry:
            body = (folder / entry["file"]).read_bytes()
            content_type = entry.get("content_type", HTML)
        elif "text" in entry:
            body = entry["text"].encode("utf-8")
            content_type = entry.get("content_type", "text/plain; charset=utf-8")
        else:
            body = (
                b""
                if status in (301, 302)
                else f"<html><body><h1>{status}</h1></body></html>".encode()
            )
            content_type = HTML
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", content_type))
        responses.append(
            ArchivedResponse(
                url=entry["url"], status=status, headers=headers, body=body, date=datetime.now(UTC)
            )
        )
    return responses


def routes(*sites: str) -> dict[str, Route]:
    """Routes for the loopback server."""
    table: dict[str, Route] = {}
    for site in sites:
        for response in load_responses(site):
            table[response.url] = Route(
                status=response.status, body=response.body, headers=list(response.headers)
            )
    return table


def build_warc(path: Path, *sites: str, skip: tuple[str, ...] = ()) -> Path:
    """A WARC holding every response of the fixture sites (minus URLs in `skip`)."""
    responses = [r for site in sites for r in load_responses(site) if r.url not in skip]
    return write_warc(path, responses)


def expected_articles(site: str) -> list[tuple[Path, dict]]:
    """(html file, expected record) pairs of a fixture site's golden files."""
    folder = fixture_dir(site)
    pairs = []
    for expected in sorted(folder.glob("*.json")):
        if expected.name == "site.json":
            continue
        record = json.loads(expected.read_text(encoding="utf-8"))
        pairs.append((expected.with_suffix(".html"), record))
    return pairs
