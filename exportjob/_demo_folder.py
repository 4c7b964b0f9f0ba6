"""The demo's folder: ``exportjob demo`` runs in a folder of its own, and never over anyone's files.

A folder is the demo's when it is new or empty, when it holds the demo's record
(``.exportjob-demo.json``, written before anything else, so a demo killed at any point left one), or
when it holds the originals' manifest an earlier version of the demo wrote (those kept no record).
The demo replaces the files of its own folder, as it always did; any other folder that holds files
is refused before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .stores import MANIFEST_NAME

__all__ = ["RECORD_NAME", "DemoFolder"]

RECORD_NAME = ".exportjob-demo.json"
_SHOWN = 3


class DemoFolder:
    """Whether *root* is the demo's (``foreign`` lists some of its files when it is not)."""

    def __init__(self, root: Path, manifest: Mapping[str, Any]) -> None:
        """Look at *root* (read only); *manifest* is what the demo writes as its originals' manifest.

        Raises:
            OSError: *root* could not be listed.
        """
        self.root = root
        self.foreign: list[str] = []
        self._more = 0
        if not root.is_dir() or (root / RECORD_NAME).is_file():
            return
        if _holds(root / "originals" / MANIFEST_NAME, manifest):
            return
        entries = sorted(p.name for p in root.iterdir())
        self.foreign, self._more = entries[:_SHOWN], max(0, len(entries) - _SHOWN)

    def refusal(self) -> str:
        """The message that refuses the folder: what is in it, and what to do."""
        more = f" and {self._more} more" if self._more else ""
        return (
            f"{self.root} holds files that are not a demo's ({', '.join(self.foreign)}{more}); "
            "the demo writes only into a folder of its own, so nothing was written: give --out a "
            "new or empty folder"
        )

    def claim(self) -> None:
        """Make the folder the demo's: its record, written before any other file."""
        self.root.mkdir(parents=True, exist_ok=True)
        record = {"written by": "exportjob demo", "version": 2}
        (self.root / RECORD_NAME).write_text(json.dumps(record) + "\n", "utf-8")


def _holds(path: Path, manifest: Mapping[str, Any]) -> bool:
    """Whether *path* is a JSON file that says exactly *manifest*."""
    try:
        return bool(json.loads(path.read_text("utf-8")) == manifest)
    except (OSError, ValueError):
        return False
