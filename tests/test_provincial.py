"""The provincial *.dcs.vn portals: declarations of what is known, crawled from replayed fixtures.

Their fixture sites were written by an author who had not seen the declarations, from the same
public material: entry points agree, but some article URLs do not have the declared shape (a
sub-section path, a query-string detail page, a Liferay display page). Every article must be
found all the same, from its listing's structure, stored, and counted as outside the shape.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dvcrawl.sites import get_site
from dvcrawl.sites.provincial import SITES as PROVINCIAL
from dvcrawl.urls import canonicalize, path_and_query
from tests.conftest import Runner, report
from tests.support.fixture_sites import FIXTURES, build_warc


def fixture_articles(site_id: str) -> set[str]:
    """Canonical URLs of the articles the fixture site's listings lead to."""
    spec = json.loads((FIXTURES / site_id / "site.json").read_text(encoding="utf-8"))
    return {
        canonicalize(entry["url"])
        for entry in spec["responses"]
        if entry.get("file", "").startswith("article_")
    }


def test_each_declaration_is_short() -> None:
    source = (Path(__file__).parent.parent / "dvcrawl" / "sites" / "provincial.py").read_text(
        encoding="utf-8"
    )
    for site in PROVINCIAL:
        block = source.split(f'id="{site.id}"')[1].split("\n)\n")[0]
        assert block.count("\n") < 20, site.id


@pytest.mark.parametrize("site_id", [site.id for site in PROVINCIAL])
def test_a_replayed_crawl_stores_every_article_of_the_fixture_site(
    site_id: str, dvcrawl: Runner, tmp_path: Path
) -> None:
    warc = build_warc(tmp_path / f"{site_id}.warc.gz", site_id)
    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = dvcrawl("crawl", site_id, "--db", db_url, "--replay", str(warc))
    assert result.returncode == 0, result.stdout + result.stderr
    row = report(result.stdout)[site_id]
    connection = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        stored = {url for (url,) in connection.execute("SELECT canonical_url FROM articles")}
    finally:
        connection.close()
    expected = fixture_articles(site_id)
    assert stored == expected
    site = get_site(site_id)
    outside = [url for url in expected if not site.is_article_url(path_and_query(url))]
    assert (row["new"], row["dead links"], row["errors"]) == (str(len(expected)), "1", "0")
    assert row["outside shape"] == str(len(outside))
    if outside:
        assert "outside the declared URL shape" in result.stdout
