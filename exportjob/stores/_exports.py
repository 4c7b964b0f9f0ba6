"""Publishing export files into a folder: atomic, never over another's file, cheap to make durable.

An export is written to a temporary file in the export folder, then published under its name:
``os.link`` creates the name only if it is free (atomic: no check-then-rename race), ``os.replace``
replaces it when the conflict policy says so. A name taken by a file with the same bytes is an
earlier attempt of the same export (a crash between writing and journaling it): it is kept. Files
are not fsynced one by one; ``sync_folder`` makes everything written durable in one call.

Temporary files are named ``.exportjob-<host>-<pid>-<random>.part``, so a later run can remove
those whose process is gone (``sweep_temporaries``) and never touch a live job's, or anyone else's.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import os
import secrets
import shutil
import socket
from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

from .._names import NameBook
from ..exceptions import OutputExistsError, StoreWriteError
from ..protocols import FileBacked, OnConflict, WrittenExport
from ._beneath import folder_beneath

__all__ = [
    "TEMP_PREFIX",
    "commit",
    "is_temporary",
    "publish",
    "publish_beneath",
    "stage_link",
    "sweep_temporaries",
    "sync_folder",
]

TEMP_PREFIX = ".exportjob-"
_TEMP_SUFFIX = ".part"
_HOST = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:32] or "host"
_COMPARE_CHUNK = 1 << 20
_MAX_RENAMES = 10_000
_NOT_APPLICABLE = frozenset(
    {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF}
)


def is_temporary(name: str) -> bool:
    """Whether *name* is one of the library's temporary files."""
    return name.startswith(TEMP_PREFIX) and name.endswith(_TEMP_SUFFIX)


def publish(
    folder: Path, name: str, chunks: Iterable[bytes], on_conflict: OnConflict
) -> WrittenExport:
    """Write *chunks* to a temporary file in *folder* and publish it as *name* per *on_conflict*.

    Raises:
        OutputExistsError: *name* holds other bytes and the policy is ``error`` or ``skip``.
        StoreWriteError: the folder or the file could not be written (nothing is left behind).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = _create_temp(folder)
    except OSError as exc:
        raise StoreWriteError(f"cannot write {name}: {exc.strerror or exc}") from exc
    try:
        try:
            size = _fill(fd, chunks, name)
        finally:
            os.close(fd)
        return commit(folder, temp, name, size, on_conflict)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def publish_beneath(
    root: Path, name: str, chunks: Iterable[bytes], on_conflict: OnConflict
) -> WrittenExport:
    """``publish`` the relative path *name* (checked with ``check_path``) in its folder under *root*.

    The folders are made beneath *root* without following links (``folder_beneath``): a symlink in
    the export area never leads a write outside it. The conflict policy applies in the folder.
    """
    *folders, leaf = name.split("/")
    if not folders:
        return publish(root, name, chunks, on_conflict)
    try:
        folder, fd = folder_beneath(root, folders)
    except OSError as exc:
        raise StoreWriteError(
            f"cannot write {name}: its folder is not a plain folder inside {root} "
            f"({exc.strerror or exc})"
        ) from exc
    try:
        written = publish(folder, leaf, chunks, on_conflict)
    finally:
        if fd is not None:
            os.close(fd)
    prefix = "/".join(folders)
    return attrs.evolve(
        written,
        name=f"{prefix}/{written.name}",
        location=str(root.joinpath(*folders, written.name)),
    )


def _fill(fd: int, chunks: Iterable[bytes], name: str) -> int:
    """Write *chunks* to *fd*; a failing source raises from here, unwrapped. Returns the size."""
    if isinstance(chunks, FileBacked):
        copied = _fast_copy(chunks.fileno(), fd, name)
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


def commit(
    folder: Path, temp: Path, name: str, size: int, on_conflict: OnConflict
) -> WrittenExport:
    """Publish the finished temporary file *temp* (in *folder*) as *name* per *on_conflict*."""
    final = folder / name
    if on_conflict is OnConflict.REPLACE:
        try:
            temp.replace(final)
        except OSError as exc:
            raise StoreWriteError(f"cannot write {name}: {exc.strerror or exc}") from exc
        return WrittenExport(name, str(final), size)
    if on_conflict is OnConflict.RENAME:
        return _claim_free_name(folder, temp, name, size)
    if _link(temp, final):
        return WrittenExport(name, str(final), size)
    if _same_bytes(temp, final):
        return WrittenExport(name, str(final), size, identical=True)
    raise OutputExistsError(
        f"{name} already exists in the export folder and was not written by this job; "
        "it was left untouched (choose another conflict policy to replace, rename or skip it)",
        name=name,
        location=str(final),
    )


def _claim_free_name(folder: Path, temp: Path, name: str, size: int) -> WrittenExport:
    book = NameBook()
    candidate = book.claim(name)
    for _ in range(_MAX_RENAMES):
        final = folder / candidate
        if _link(temp, final):
            return WrittenExport(candidate, str(final), size)
        if _same_bytes(temp, final):
            return WrittenExport(candidate, str(final), size, identical=True)
        candidate = book.claim(name)
    raise StoreWriteError(f"cannot write {name}: no free name among {_MAX_RENAMES} variants")


def _link(temp: Path, final: Path) -> bool:
    """Publish *temp* as *final* if that name is free; False if it is taken."""
    try:
        os.link(temp, final)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK}:
            raise StoreWriteError(f"cannot write {final.name}: {exc.strerror or exc}") from exc
        return _claim_then_replace(temp, final)
    return True


def _claim_then_replace(temp: Path, final: Path) -> bool:
    """Where hard links are not supported: claim the name exclusively, then rename over the claim."""
    try:
        os.close(os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except FileExistsError:
        return False
    except OSError as exc:
        raise StoreWriteError(f"cannot write {final.name}: {exc.strerror or exc}") from exc
    try:
        temp.replace(final)
    except OSError as exc:
        with contextlib.suppress(OSError):
            final.unlink()
        raise StoreWriteError(f"cannot write {final.name}: {exc.strerror or exc}") from exc
    return True


def _same_bytes(first: Path, second: Path) -> bool:
    try:
        if first.stat().st_size != second.stat().st_size:
            return False
        with first.open("rb") as a, second.open("rb") as b:
            while True:
                block = a.read(_COMPARE_CHUNK)
                if block != b.read(_COMPARE_CHUNK):
                    return False
                if not block:
                    return True
    except OSError:
        return False


def stage_link(source: Path, folder: Path) -> Path:
    """Return a temporary name in *folder* for the file *source* (a hard link, else a copy)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = _create_temp(folder)
        os.close(fd)
        temp.unlink()
        try:
            os.link(source, temp)
        except OSError:
            shutil.copyfile(source, temp)
    except OSError as exc:
        raise StoreWriteError(f"cannot write into {folder}: {exc.strerror or exc}") from exc
    return temp


def _create_temp(folder: Path) -> tuple[int, Path]:
    """Create a new temporary file in *folder*, with the permissions the umask gives new files."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = folder / f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-{secrets.token_hex(6)}{_TEMP_SUFFIX}"
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue


def sweep_temporaries(folder: Path, *, recursive: bool = False) -> int:
    """Remove the temporary files in *folder* left by this host's processes that are gone.

    Returns how many were removed. Files of live processes, of other hosts and files that are not
    the library's are never touched. *recursive* sweeps the subfolders too (never through a
    symlink): exports kept in folders leave their temporary files there.
    """
    if recursive:
        return sum(
            sweep_temporaries(Path(dirpath)) for dirpath, _, _ in os.walk(folder, followlinks=False)
        )
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not is_temporary(entry.name):
            continue
        owner = entry.name[len(TEMP_PREFIX) : -len(_TEMP_SUFFIX)].rsplit("-", 2)
        if len(owner) != 3 or owner[0] != _HOST or not owner[1].isdigit():
            continue
        if _alive(int(owner[1])):
            continue
        with contextlib.suppress(OSError):
            Path(entry.path).unlink()
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def sync_folder(folder: Path) -> None:
    """Make every file written to *folder*'s file system durable: ``syncfs`` there, else ``sync``."""
    syncfs = _syncfs()
    if syncfs is not None:
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                if syncfs(fd) == 0:
                    return
            finally:
                os.close(fd)
    sync = getattr(os, "sync", None)
    if sync is not None:
        sync()


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        function: Callable[[int], int] | None = getattr(
            ctypes.CDLL(name, use_errno=True), "syncfs", None
        )
    except OSError:
        return None
    return function
