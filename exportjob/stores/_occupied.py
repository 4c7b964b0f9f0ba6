"""Which output names a flat set of keys (a memory store, an object store's listing) leaves free.

A name is occupied when it is a key, when a key lies beneath it (it is a folder), or when a folder
of its path is a key (a file): as on a file system, none of these can be written as a new file.
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["occupied_among", "parent_folders"]


def parent_folders(name: str) -> list[str]:
    """The folders of the relative path *name*, outermost first (``a/b/c`` -> ``a``, ``a/b``)."""
    parts = name.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def occupied_among(keys: Collection[str], names: Collection[str]) -> set[str]:
    """Those of *names* that *keys* occupy: as a key, as a folder of a key, or beneath a key."""
    occupied: set[str] = set()
    folders: set[str] | None = None
    for name in names:
        if name in keys or any(folder in keys for folder in parent_folders(name)):
            occupied.add(name)
            continue
        if folders is None:  # made once per call, and only when needed
            folders = {f for key in keys if "/" in key for f in parent_folders(key)}
        if name in folders:
            occupied.add(name)
    return occupied
