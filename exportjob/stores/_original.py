"""An original opened by descriptor: its buffered reader made only when something reads it.

A verbatim copy (``fmt=orig``) asks the open original only for its descriptor, which the kernel
copies from. Building an ``io.BufferedReader`` for it costs two system calls (an ``fstat`` and an
``lseek``) and more Python than the copy of a small file; so the reader is made on the first other
use, and its reading methods are the object's own from then on. The object is an
``io.BufferedIOBase``, as the reader is: a converter that checks for a binary file finds one.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from typing import Any, BinaryIO

from typing_extensions import Self

__all__ = ["OpenOriginal"]

# The reader's methods set on the object once the reader exists: found there at once after.
_FAST = ("read", "read1", "readinto", "readinto1", "readline", "seek", "tell", "peek")


class OpenOriginal(io.BufferedIOBase):
    """A regular file open for reading in binary, by its descriptor; see the module docstring."""

    def __init__(self, fd: int) -> None:  # io's own initializer sets nothing this needs
        self._fd = fd
        self._name = fd

    @property
    def _file(self) -> BinaryIO | None:
        """The reader, once one is made."""
        reader: BinaryIO | None = self.__dict__.get("_made")
        return reader

    def _reader(self) -> BinaryIO:
        reader = self._file
        if reader is None:
            # The descriptor stays this object's (closefd=False): a reader made by a thread that
            # lost the race below is dropped without closing it. No lock: one held across a fork
            # would hang the child's first read.
            made = io.open(  # noqa: UP020, SIM115 - a buffer size of our own spares io.open asking whether it is a terminal
                self.fileno(), "rb", buffering=io.DEFAULT_BUFFER_SIZE, closefd=False
            )
            reader = self.__dict__.setdefault("_made", made)  # atomic: one reader, first come
            for name in _FAST:
                setattr(self, name, getattr(reader, name))
        return reader

    def __reduce_ex__(self, protocol: object) -> Any:
        # A copy would close the descriptor it shares; io's files refuse to be copied too.
        msg = f"cannot pickle {type(self).__name__!r} object"
        raise TypeError(msg)

    def fileno(self) -> int:
        """The open original's descriptor, positioned where reading goes on."""
        if self._fd < 0:
            msg = "I/O operation on closed file"
            raise ValueError(msg)
        return self._fd

    # The reading methods, until the reader exists (then its own, set on the object).
    def read(self, size: int | None = -1) -> bytes:
        return self._reader().read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        return self._reader().read1(size)  # type: ignore[attr-defined,no-any-return]

    def readinto(self, buffer: Any) -> int:
        return self._reader().readinto(buffer)  # type: ignore[attr-defined,no-any-return]

    def readinto1(self, buffer: Any) -> int:
        return self._reader().readinto1(buffer)  # type: ignore[attr-defined,no-any-return]

    def readline(self, size: int | None = -1) -> bytes:
        return self._reader().readline(-1 if size is None else size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._reader().seek(offset, whence)

    def tell(self) -> int:
        return self._reader().tell()

    def peek(self, size: int = 0) -> bytes:
        return self._reader().peek(size)  # type: ignore[attr-defined,no-any-return]

    def readable(self) -> bool:
        return self._reader().readable()

    def seekable(self) -> bool:
        return self._reader().seekable()

    def writable(self) -> bool:
        self.fileno()  # a closed file says so, as io's do
        return False

    def isatty(self) -> bool:
        return self._reader().isatty()

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._reader())

    def __next__(self) -> bytes:
        return next(self._reader())

    @property
    def raw(self) -> Any:
        """The reader's raw file (``io.FileIO``)."""
        return self._reader().raw  # type: ignore[attr-defined]

    @property
    def name(self) -> Any:
        """The descriptor, as for any file opened by one."""
        return self._name

    @property
    def mode(self) -> str:
        """``"rb"``."""
        return "rb"

    @property
    def read_ahead(self) -> bool:
        """Whether a reader has read past where it stands (``FileChunks`` then seeks the copy's start)."""
        return self._file is not None

    @property
    def closed(self) -> bool:
        """Whether the original is closed."""
        return self._fd < 0

    def close(self) -> None:
        """Close the original (and its reader, if one was made); again: nothing."""
        fd, self._fd = self._fd, -1
        reader = self._file
        try:
            if reader is not None:
                reader.close()  # its buffer; the descriptor is closed here
        finally:
            if fd >= 0:
                os.close(fd)

    def flush(self) -> None:
        """Nothing to write; a closed file says so, as io's do."""
        self.fileno()

    def __enter__(self) -> Self:
        self.fileno()  # a closed file refuses a with block, as io's do
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # As an unclosed io file object does: warn, then close, so no descriptor leaks.
        if self.__dict__.get("_fd", -1) >= 0:
            try:
                warnings.warn(f"unclosed original {self._fd}", ResourceWarning, stacklevel=1)
            finally:  # closed even where the warning is an error (-W error)
                self.close()
