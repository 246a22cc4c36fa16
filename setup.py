"""The compiled tree walks, and the egg `scrapyd-deploy` builds (docs/deployment.md).

Everything else is declared in pyproject.toml. `dvcrawl/extract/_compiled.pyx` walks libxml2's
tree through lxml's C API (issue 11: measuring the page and joining element text in Python
were a quarter of extraction time). It is optional: without a C compiler the build goes on and
extraction walks the tree in Python, with the same results (`dvcrawl.extract.compiled`).
"""

from setuptools import Extension, setup

try:
    import lxml
    from Cython.Build import cythonize
except ImportError:  # building the egg in an environment without the build requirements
    extensions = []
else:
    extensions = cythonize(
        [
            Extension(
                "dvcrawl.extract._compiled",
                ["dvcrawl/extract/_compiled.pyx"],
                include_dirs=lxml.get_include(),
                optional=True,
            )
        ],
        language_level=3,
        quiet=True,
    )

setup(ext_modules=extensions)
