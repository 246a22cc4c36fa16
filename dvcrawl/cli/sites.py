"""``dvcrawl sites``: the registered portals, their domains and entry points."""

from __future__ import annotations

import argparse
from typing import Any

from dvcrawl.cli.common import EXIT_OK


def register(commands: Any) -> None:
    """Add the command's parser."""
    parser = commands.add_parser(
        "sites", help="list registered sites, their domains and entry points"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the registered sites."""
    from dvcrawl.sites import SITES

    for site in SITES.values():
        state = "" if site.enabled else "  (disabled: archival)"
        print(f"{site.id}{state}\n  {site.name}\n  domains: {', '.join(site.domains)}")
        for url in site.start_urls:
            print(f"  start:   {url}")
    return EXIT_OK
