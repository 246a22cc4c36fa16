"""``dvcrawl extract``: one stored page -> one Article record as JSON on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dvcrawl.cli.common import EXIT_OK, MAX_PAGE_BYTES, UserError


def register(commands: Any) -> None:
    """Add the command's parser."""
    parser = commands.add_parser("extract", help="print the Article record of one stored page")
    parser.add_argument("file", metavar="FILE", help="an HTML file")
    parser.add_argument("--url", required=True, help="the URL the page was fetched from")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the Article record of one stored page as JSON."""
    from dvcrawl.extract import NotHTML, decode_page
    from dvcrawl.extraction import extract_article
    from dvcrawl.urls import InvalidURL, canonicalize

    try:
        canonicalize(args.url)
    except InvalidURL as exc:
        raise UserError(str(exc)) from None
    path = Path(args.file)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise UserError(f"{path} is a directory, not an HTML file")
        if size > MAX_PAGE_BYTES:
            raise UserError(
                f"{path} is {size // (1024 * 1024)} MB; pages over {MAX_PAGE_BYTES // (1024 * 1024)} MB are refused"
            )
        body = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except PermissionError:
        raise UserError(f"cannot read {path}: permission denied") from None
    try:
        decoded = decode_page(body)
    except NotHTML as exc:
        raise UserError(f"{path}: {exc}") from None
    for problem in decoded.problems:
        print(f"dvcrawl: warning: {path}: {problem.detail}", file=sys.stderr)
    html = decoded.text
    article = extract_article(html, args.url)
    tail = html[-4096:].lower()
    if "</html>" not in tail and "</body>" not in tail:
        print(
            f"dvcrawl: warning: {path} looks truncated (no closing </html>); fields may be incomplete",
            file=sys.stderr,
        )
    print(json.dumps(article.to_dict(), ensure_ascii=False, indent=2))
    return EXIT_OK
