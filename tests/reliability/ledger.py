"""The fault table of docs/reliability.md, written by the tests that inject the faults.

Each test of this suite ends with `record(...)`: the row it observed (what was injected, the
run's exit status and cause, what was stored, what was lost silently or stored wrong) must be
the row in docs/reliability.md, so the table's figures are produced by the tests and cannot
drift from what the code does. After a deliberate change, regenerate the rows with

    DVCRAWL_UPDATE_RELIABILITY_DOC=1 python -m pytest tests/reliability

and review the diff of docs/reliability.md like any other change.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
_BEGIN = "<!-- fault table: written by tests/reliability, do not edit by hand -->"
_END = "<!-- end of fault table -->"
_HEADER = (
    "| # | fault | what was injected | exit, cause | stored | lost silently | stored wrong |\n"
    "|---|---|---|---|---|---|---|"
)
_lock = threading.Lock()


@dataclass(frozen=True)
class Row:
    """One fault and what the run did about it."""

    key: str  # stable order in the table, e.g. "1a"
    fault: str
    injected: str
    outcome: str  # "0" or "1: <cause>"
    stored: str  # "5 of 5 articles"
    lost_silently: int
    stored_wrong: int

    def render(self) -> str:
        cells = [
            self.key,
            self.fault,
            self.injected,
            self.outcome,
            self.stored,
            str(self.lost_silently),
            str(self.stored_wrong),
        ]
        return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _cell(text: str) -> str:
    # Ports and temporary paths differ between runs; the table shows what does not.
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"/tmp/\S+?/", "TMP/", text)
    return text.replace("|", "\\|").replace("\n", " ")


def outcome(returncode: int, cause: str | None) -> str:
    """The exit status, with the one-line cause when the run failed."""
    return f"{returncode}: {cause}" if cause else str(returncode)


def record(row: Row) -> None:
    """Assert that docs/reliability.md holds `row` (or write it there, when asked to)."""
    with _lock:
        text = DOC.read_text(encoding="utf-8")
        start, end = text.index(_BEGIN), text.index(_END)
        lines = [
            line
            for line in text[start + len(_BEGIN) : end].strip().splitlines()
            if line.startswith("| ") and not line.startswith("| # ")
        ]
        rows = {line.split(" | ", 1)[0][2:].strip(): line for line in lines}
        rendered = row.render()
        if os.environ.get("DVCRAWL_UPDATE_RELIABILITY_DOC") == "1":
            rows[row.key] = rendered
            body = "\n".join(rows[key] for key in sorted(rows, key=_order))
            DOC.write_text(
                text[:start] + f"{_BEGIN}\n{_HEADER}\n{body}\n" + text[end:], encoding="utf-8"
            )
            return
    assert rows.get(row.key) == rendered, (
        f"docs/reliability.md is out of date for fault {row.key}:\n"
        f"  doc:      {rows.get(row.key)}\n  observed: {rendered}\n"
        "Regenerate with DVCRAWL_UPDATE_RELIABILITY_DOC=1 (see tests/reliability/ledger.py)."
    )


def _order(key: str) -> tuple[int, str]:
    match = re.match(r"(\d+)(.*)", key)
    return (int(match.group(1)), match.group(2)) if match else (999, key)
