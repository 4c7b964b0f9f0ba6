"""Asset stores a host can use as they are: ``MemoryStore``, ``DirectoryStore`` and ``FsspecStore``.

``FsspecStore`` needs the ``fsspec`` extra (``pip install 'exportjob[fsspec]'`` and the backend's
package: ``s3fs``, ``gcsfs``, ``adlfs``). Each implements ``exportjob.protocols.AssetStore``: describe an asset by handle, open its original as a
binary stream, and write exports so that a reader sees a whole file or none. Both check every output
name with ``check_name``, so nothing lands outside their export area, and translate ``OSError`` into
``StoreReadError``/``StoreWriteError`` here, at the seam.

``check_name`` accepts a plain, portable file name of at most ``MAX_NAME_BYTES`` bytes (UTF-8): the
names the planner makes always pass it, and a store of a host's own calls it on every name it writes.
``check_path`` accepts a relative path of such names (``a/x.jpg``, as ``keep_folders`` names exports);
the shipped stores check with it, and a store that keeps folders calls it instead.
"""

from __future__ import annotations

from .._names import MAX_NAME_BYTES, check_name, check_path
from ._directory import DirectoryStore
from ._fsspec import FsspecStore
from ._manifest import MANIFEST_NAME
from ._memory import MemoryStore
from ._sniff import sniff_type
from ._zip import ZipStore

__all__ = [
    "MANIFEST_NAME",
    "MAX_NAME_BYTES",
    "DirectoryStore",
    "FsspecStore",
    "MemoryStore",
    "ZipStore",
    "check_name",
    "check_path",
    "sniff_type",
]
