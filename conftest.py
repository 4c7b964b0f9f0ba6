"""Run every code example in the docs, the README and the docstrings as part of the test suite."""

from __future__ import annotations

import doctest

from hypothesis import HealthCheck, settings
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser
from sybil.parsers.rest import DocTestParser

_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# Shared CI machines are slow and noisy: no per-example deadline, no "too slow" health check.
settings.register_profile(
    "exportjob", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("exportjob")

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
