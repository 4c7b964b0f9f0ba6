"""Which files of a folder are an archive's own: its name, its volumes, its earlier deliveries.

An archive written inside its source folder must never become an asset of its own job, nor must
what earlier runs of the job published there: the other form (``NAME-001.zip`` volumes after a
``NAME.zip``, or the reverse) and the variants ``rename`` published (``NAME-2.zip``,
``NAME-001-2.zip``). A file under one of those names that is no delivery (a ZIP without the
export manifest) is an asset like any other; only the name in the form asked is left out whatever
it holds.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from .._names import split_name
from ..delivery import MANIFEST_JSON

__all__ = ["archive_files"]


def archive_files(
    root: Path,
    name: str,
    parts: tuple[str, str],
    *,
    spool: str | None,
    folder: str | None,
    volumes: bool,
) -> Callable[[str], bool]:
    """Whether a handle beneath *root* is a file of the archive *name* (volumes: *parts*).

    *parts* are the stem and suffix of its volumes' names; *spool* and *folder* the handle folders
    of its spool and of the folder it is published in (None: not beneath *root*); *volumes*: it
    is asked for as volumes.
    """
    stem, suffix = parts
    whole, volume = re.escape(name), rf"{re.escape(stem)}-\d{{3,}}{re.escape(suffix)}"
    named = re.compile(volume if volumes else whole)
    # rename numbers a name before its extension, as NameBook does: job.zip -> job-2.zip, job -> job-2
    own_stem, own_ext = split_name(name)
    renamed = rf"{re.escape(own_stem)}-\d+{re.escape(own_ext)}"
    renamed_volume = rf"{re.escape(stem)}-\d{{3,}}-\d+{re.escape(suffix)}"
    delivered = re.compile(rf"{whole}|{volume}|{renamed}|{renamed_volume}")

    def own(handle: str) -> bool:
        if spool and handle.startswith(f"{spool}/"):
            return True
        where, _, leaf = handle.rpartition("/")
        if where != folder:
            return False
        if named.fullmatch(leaf):
            return True
        return delivered.fullmatch(leaf) is not None and is_delivery(root / handle)

    return own


def is_delivery(path: Path) -> bool:
    """Whether *path* is a ZIP that holds an export manifest (an archive a ``ZipStore`` published)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return MANIFEST_JSON in archive.NameToInfo
    except (OSError, zipfile.BadZipFile, ValueError):
        return False
