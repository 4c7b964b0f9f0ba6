"""Run every code example in the docs, the README and the docstrings as part of the test suite."""

from __future__ import annotations

import doctest

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser
from sybil.parsers.rest import DocTestParser

_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# exportjob's own suite uses its host fixtures as a host would; pytester checks the plugin itself.
pytest_plugins = ["pytester", "exportjob.pytest_plugin"]

pytest_collect_file = (
    Sybil(
        parsers=[PythonCodeBlockParser(doctest_optionflags=_FLAGS)],
        patterns=["*.md"],
    )
    + Sybil(
        parsers=[DocTestParser(optionflags=_FLAGS)],
        patterns=["*.py"],
        excludes=["__main__.py"],
    )
).pytest()
