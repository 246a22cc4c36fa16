"""``python -m dvcrawl`` is the ``dvcrawl`` command."""

from dvcrawl.cli import run

run()
