"""Asset stores a host can use as they are: ``MemoryStore`` and ``DirectoryStore``.

Both implement ``exportjob.protocols.AssetStore``: describe an asset by handle, open its original as a
binary stream, and write exports so that a reader sees a whole file or none. Both check every output
name with ``check_name``, so nothing lands outside their export area, and translate ``OSError`` into
``StoreReadError``/``StoreWriteError`` here, at the seam.

``check_name`` accepts a plain, portable file name of at most ``MAX_NAME_BYTES`` bytes (UTF-8): the
names the planner makes always pass it, and a store of a host's own calls it on every name it writes.
"""

from __future__ import annotations

from .._names import MAX_NAME_BYTES, check_name
from ._directory import DirectoryStore
from ._manifest import MANIFEST_NAME
from ._memory import MemoryStore
from ._sniff import sniff_type

__all__ = [
    "MANIFEST_NAME",
    "MAX_NAME_BYTES",
    "DirectoryStore",
    "MemoryStore",
    "check_name",
    "sniff_type",
]
