"""The compiled tree walks (`_compiled.pyx`), when the install built them for this lxml.

`setup.py` compiles `dvcrawl/extract/_compiled.pyx` against lxml's C API when the machine
has a C compiler. Its walks give exactly what the Python ones give (tests/test_compiled.py);
`region`, `page` and `boilerplate` use them when `module` is not None, and their Python
walks otherwise.
"""

from __future__ import annotations

import os
from types import ModuleType

import lxml


def _load() -> tuple[ModuleType | None, str]:
    """The compiled module and "compiled", or None and why the walks run in Python.

    The module reads lxml's structs as the lxml it was compiled against laid them out, so it
    is used only with that same lxml. ``DVCRAWL_PURE_PYTHON=1`` turns it off (to compare).
    """
    if os.environ.get("DVCRAWL_PURE_PYTHON"):
        return None, "DVCRAWL_PURE_PYTHON is set"
    try:
        from dvcrawl.extract import _compiled  # type: ignore[attr-defined]
    except ImportError:
        return None, "not built"
    if lxml.__version__ != _compiled.LXML_VERSION:
        return None, "built for another lxml"
    return _compiled, "compiled"


#: The compiled module, or None.
module, _why = _load()
#: "compiled", or why the walks run in Python ("not built", "built for another lxml", ...).
IMPLEMENTATION = _why
