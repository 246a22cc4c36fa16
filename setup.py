"""For `scrapyd-deploy` (docs/deployment.md), which builds the egg with `setup.py bdist_egg`.

Everything is declared in pyproject.toml; without this file scrapyd-deploy would write its
own setup.py, whose name and entry points pyproject.toml overrides anyway.
"""

from setuptools import setup

setup()
