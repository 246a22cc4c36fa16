"""The tree passes ruff (lint and format), as CI checks it."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is part of the [test] extra"
    return subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check() -> None:
    result = _ruff("check", "dvcrawl", "tests", "scripts", "benchmarks")
    assert result.returncode == 0, result.stdout


def test_ruff_format() -> None:
    result = _ruff("format", "--check", "dvcrawl", "tests", "scripts", "benchmarks")
    assert result.returncode == 0, result.stdout


def test_doctests_are_collected() -> None:
    # The examples in docstrings are tests too (pyproject.toml: --doctest-modules on dvcrawl).
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "dvcrawl",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert "dvcrawl/extract/dates.py::dvcrawl.extract.dates.parse_date" in collected
    assert len(collected) >= 9, result.stdout
