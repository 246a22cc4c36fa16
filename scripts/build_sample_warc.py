"""Rebuild examples/thanhuytphcm-sample.warc.gz from the fixture site in tests/fixtures.

The sample lets a newcomer run the whole path (crawl -> database -> export) with no access to
the portals: ``dvcrawl crawl thanhuytphcm --replay examples/thanhuytphcm-sample.warc.gz``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fixture_sites import build_warc  # noqa: E402

if __name__ == "__main__":
    target = ROOT / "examples" / "thanhuytphcm-sample.warc.gz"
    print(build_warc(target, "thanhuytphcm"))
