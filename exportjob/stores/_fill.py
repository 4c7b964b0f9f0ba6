"""Writing an export's chunks into a descriptor: the kernel copies a whole open file, else Python does."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable

from ..exceptions import StoreWriteError
from ..protocols import file_backed

__all__ = ["fill"]

_NOT_APPLICABLE = frozenset(
    {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF}
)


def fill(fd: int, chunks: Iterable[bytes], name: str) -> int:
    """Write *chunks* to *fd*; a failing source raises from here, unwrapped. Returns the size."""
    whole_file = file_backed(chunks)
    if whole_file is not None:
        copied = _fast_copy(whole_file.fileno(), fd, name)
        if copied is not None:
            return copied
    size = 0
    for chunk in chunks:
        try:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            raise StoreWriteError(f"cannot write {name}: {exc.strerror or exc}") from exc
        size += len(chunk)
    return size


def _fast_copy(source: int, target: int, name: str) -> int | None:
    """Copy the rest of *source* to *target* in the kernel; None if neither fast path applies."""
    for call in (_copy_file_range, _sendfile):
        copied = _copy_with(call, source, target, name)
        if copied is not None:
            return copied
    return None


def _copy_with(call: Callable[[int, int], int], source: int, target: int, name: str) -> int | None:
    """Copy with *call* until the end; None if it does not apply to these descriptors."""
    total = 0
    try:
        while n := call(source, target):
            total += n
    except OSError as exc:
        if total == 0 and exc.errno in _NOT_APPLICABLE:
            return None
        raise StoreWriteError(f"cannot write {name}: {exc.strerror or exc}") from exc
    return total


def _copy_file_range(source: int, target: int) -> int:
    copy = getattr(os, "copy_file_range", None)
    if copy is None:
        raise OSError(errno.ENOSYS, "copy_file_range is not available")
    n: int = copy(source, target, 1 << 30)
    return n


def _sendfile(source: int, target: int) -> int:
    send = getattr(os, "sendfile", None)
    if send is None:
        raise OSError(errno.ENOSYS, "sendfile is not available")
    n: int = send(target, source, None, 1 << 30)
    return n
