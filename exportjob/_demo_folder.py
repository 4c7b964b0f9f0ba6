"""The demo's folder: a record of the files ``exportjob demo`` wrote there, so it replaces only its own.

The demo's originals are drawn with random grain and its job log holds the time, so the demo cannot
tell its own files by comparing bytes with what it would write. It keeps a record instead,
``.exportjob-demo.json`` in the folder: the SHA-256 of every file it wrote. A file the record does not
list, or whose bytes changed since, is not the demo's, and the demo refuses to run over it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from .delivery import file_digest

__all__ = ["RECORD_NAME", "DemoFolder"]

RECORD_NAME = ".exportjob-demo.json"
_VERSION = 1


class DemoFolder:
    """What is in the demo's folder: the files an earlier demo wrote, and the others (``foreign``)."""

    def __init__(self, root: Path) -> None:
        """Look at *root* (read only): which of its files the record lists with their bytes unchanged.

        Raises:
            OSError: a folder under *root* could not be listed, or a listed file read.
        """
        self.root = root
        self.own: dict[str, str] = {}
        self.foreign: list[str] = []
        if not root.is_dir():  # missing: the demo makes it; not a folder: making it fails
            return
        recorded = _read_record(root / RECORD_NAME)
        for path in _walk(root):
            name = path.relative_to(root).as_posix()
            if name == RECORD_NAME and recorded is not None:
                continue
            digest = (recorded or {}).get(name)
            if digest is not None and _digest(path) == digest:
                self.own[name] = digest
            else:
                self.foreign.append(name)

    def refusal(self) -> str:
        """The message that refuses the folder: which files are not the demo's, and what to do."""
        shown = ", ".join(self.foreign[:3])
        more = f" and {len(self.foreign) - 3} more" if len(self.foreign) > 3 else ""
        return (
            f"{self.root} holds files the demo did not write ({shown}{more}); the demo replaces "
            "only its own files, so nothing was written: give --out a new or empty folder, or "
            "remove those files"
        )

    def wrote(self, *paths: Path) -> None:
        """Add the files at *paths* (under the root), as they are now, to the record and save it."""
        for path in paths:
            digest = _digest(path)
            if digest is not None:
                self.own[path.relative_to(self.root).as_posix()] = digest
        record = {"version": _VERSION, "files": dict(sorted(self.own.items()))}
        (self.root / RECORD_NAME).write_text(json.dumps(record, indent=2) + "\n", "utf-8")


def _read_record(path: Path) -> dict[str, str] | None:
    """The files a record lists (name -> SHA-256); ``None`` if there is none, or it is not one."""
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    files = raw.get("files") if isinstance(raw, dict) and raw.get("version") == _VERSION else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        return None
    return files


def _walk(folder: Path) -> Iterator[Path]:
    """Every entry under *folder* that is not a folder (links included, never followed), sorted."""
    for path in sorted(folder.iterdir()):
        if path.is_dir() and not path.is_symlink():
            yield from _walk(path)
        else:
            yield path


def _digest(path: Path) -> str | None:
    """The SHA-256 of the regular file at *path*; ``None`` for a link or anything else."""
    if path.is_symlink() or not path.is_file():
        return None
    with path.open("rb") as stream:
        return file_digest(stream)[1]
