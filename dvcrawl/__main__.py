"""``python -m dvcrawl`` is the ``dvcrawl`` command."""

import sys

from dvcrawl.cli import main

sys.exit(main())
