"""An original opened by descriptor: its file object made only when something reads it.

A verbatim copy (``fmt=orig``) asks the open original only for its descriptor, which the kernel
copies from. Building an ``io.BufferedReader`` for it costs two system calls (an ``fstat`` and an
``lseek``) and more Python than the copy of a small file; so the reader is made on the first other
use, and its methods are the object's own from then on.
"""

from __future__ import annotations

import io
import os
import warnings
from types import TracebackType
from typing import Any, BinaryIO

from typing_extensions import Self

__all__ = ["OpenOriginal"]

# The reader's methods set on the object once the reader exists: found there at once after.
_METHODS = (
    "read",
    "read1",
    "readinto",
    "readinto1",
    "readline",
    "readlines",
    "seek",
    "tell",
    "peek",
)
_OWN = frozenset({"_fd", "_file"})


class OpenOriginal:
    """A regular file open for reading in binary, by its descriptor; see the module docstring."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._file: BinaryIO | None = None

    def fileno(self) -> int:
        """The open original's descriptor, positioned where reading goes on."""
        if self._fd < 0:
            msg = "I/O operation on closed file"
            raise ValueError(msg)
        return self._fd

    def _reader(self) -> BinaryIO:
        reader = self._file
        if reader is None:
            # A buffer size of our own spares io.open asking the file whether it is a terminal.
            reader = io.open(self.fileno(), "rb", buffering=io.DEFAULT_BUFFER_SIZE)  # noqa: UP020, SIM115
            self._file = reader
            for name in _METHODS:
                setattr(self, name, getattr(reader, name))
        return reader

    def __getattr__(self, name: str) -> Any:
        if name in _OWN or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._reader(), name)

    def __iter__(self) -> Any:
        return iter(self._reader())

    @property
    def closed(self) -> bool:
        """Whether the original is closed."""
        return self._fd < 0 or (self._file is not None and self._file.closed)

    def close(self) -> None:
        """Close the original (through its reader, if one was made); again: nothing."""
        fd, self._fd = self._fd, -1
        if self._file is not None:
            self._file.close()
        elif fd >= 0:
            os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # As an unclosed io file object does: warn, then close, so no descriptor leaks.
        if getattr(self, "_fd", -1) >= 0 and getattr(self, "_file", None) is None:
            warnings.warn(f"unclosed original {self._fd}", ResourceWarning, stacklevel=1)
            self.close()
