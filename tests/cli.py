"""The CLI as the tests start it: ``python -m exportjob export SOURCE ...`` in a real process."""

from __future__ import annotations

import os
import sys


def export_command(source: str | os.PathLike[str], *options: str | os.PathLike[str]) -> list[str]:
    """The argument list of ``exportjob export`` of *source* with *options*, on this interpreter."""
    return [
        sys.executable,
        "-m",
        "exportjob",
        "export",
        os.fspath(source),
        *map(os.fspath, options),
    ]
