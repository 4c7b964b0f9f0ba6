"""Publishing export files into a folder: atomic, never over another's file, cheap to make durable.

An export is written to a temporary file in the export folder, then published under its name:
``os.link`` creates the name only if it is free (atomic: no check-then-rename race), ``os.replace``
replaces it when the conflict policy says so. A name taken by a file with the same bytes is an
earlier attempt of the same export (a crash between writing and journaling it): it is kept. Files
are not fsynced one by one; ``sync_folder`` makes everything written durable in one call.

On Linux the temporary file has no name at all (``O_TMPFILE``): it is published by linking its
descriptor (``linkat`` of ``/proc/self/fd/N``), and a process killed meanwhile leaves nothing behind.
Elsewhere, on a file system that refuses unnamed files, and for ``replace`` (a rename needs a name),
temporary files are named ``.exportjob-<host>-<pid>-<random>.part``, so a later run can remove
those whose process is gone (``sweep_temporaries``) and never touch a live job's, or anyone else's.
The export folder is made by the first write into it, and made again if it was removed since.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import os
import random
import shutil
import socket
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import attrs

from .._names import TEMP_PREFIX, TEMP_SUFFIX, NameBook, is_temporary
from ..exceptions import OutputExistsError, StoreWriteError
from ..protocols import OnConflict, WrittenExport
from ._beneath import folder_beneath
from ._fill import fill

__all__ = [
    "commit",
    "publish",
    "publish_beneath",
    "stage_link",
    "sweep_temporaries",
    "sync_folder",
]

_HOST = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:32] or "host"
_COMPARE_CHUNK = 1 << 20
_MAX_RENAMES = 10_000
# An unnamed file is published through its /proc link; without /proc, temporary files are named.
_PROC_FD = "/proc/self/fd/" if os.path.isdir("/proc/self/fd") else None
# O_TMPFILE refused: by the file system (EOPNOTSUPP), or by a kernel before 3.11 (EISDIR, EINVAL).
_NO_UNNAMED = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL})
_NO_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK})
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NAMED_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
# Names only need to be unique within this process (the pid is in them; O_EXCL settles the rest),
# so a generator seeded once from os.urandom does (secrets would cost a getrandom call per file).
_names = random.Random()  # noqa: S311 - not a secret


class _Temp:
    """A temporary file being written: unnamed (held by *fd*) or named *path* in its folder."""

    __slots__ = ("fd", "is_open", "path")

    def __init__(self, fd: int, path: str | None, *, is_open: bool = True) -> None:
        self.fd = fd
        self.path = path
        self.is_open = is_open

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            os.close(self.fd)

    def discard(self) -> None:
        """Close the file and remove its name, if it still has one (nothing is left behind)."""
        self.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def link(self, final: str) -> None:
        """Give the finished file the name *final*; ``FileExistsError`` if the name is taken."""
        if self.path is not None:
            os.link(self.path, final)
        else:
            # Any dir_fd makes CPython call linkat(2), whose AT_SYMLINK_FOLLOW resolves the /proc
            # link to the unnamed file (the descriptor itself is ignored: the path is absolute).
            os.link(f"{_PROC_FD}{self.fd}", final, src_dir_fd=self.fd, follow_symlinks=True)

    def blocks(self) -> Iterator[bytes]:
        """The file's bytes from its start, in blocks."""
        if self.path is not None:
            with open(self.path, "rb") as f:
                yield from iter(functools.partial(f.read, _COMPARE_CHUNK), b"")
            return
        offset = 0
        while block := os.pread(self.fd, _COMPARE_CHUNK, offset):
            offset += len(block)
            yield block


def publish(
    folder: str | os.PathLike[str], name: str, chunks: Iterable[bytes], on_conflict: OnConflict
) -> WrittenExport:
    """Write *chunks* to a temporary file in *folder* and publish it as *name* per *on_conflict*.

    *folder* is made if it does not exist (again, if it was removed since the last write).

    Raises:
        OutputExistsError: *name* holds other bytes and the policy is ``error`` or ``skip``.
        StoreWriteError: the folder or the file could not be written (nothing is left behind).
    """
    where = os.fspath(folder)
    temp = _open_temp(where, name, unnamed=on_conflict is not OnConflict.REPLACE)
    try:
        try:
            size = fill(temp.fd, chunks, name)
        finally:
            if temp.path is not None:
                temp.close()  # a named file is renamed closed (Windows cannot rename an open one)
        return _commit(where, temp, name, size, on_conflict)
    finally:
        temp.discard()


def _open_temp(folder: str, name: str, *, unnamed: bool) -> _Temp:
    try:
        try:
            return _new_temp(folder, unnamed=unnamed)
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
            return _new_temp(folder, unnamed=unnamed)
    except OSError as exc:
        raise StoreWriteError(f"cannot write {name}: {exc.strerror or exc}") from exc


def _new_temp(folder: str, *, unnamed: bool) -> _Temp:
    """A new temporary file in *folder* (unnamed if asked and possible), with the umask's mode."""
    tmpfile = getattr(os, "O_TMPFILE", 0) if unnamed and _PROC_FD else 0
    if tmpfile:
        try:
            return _Temp(os.open(folder, tmpfile | os.O_RDWR, 0o666), None)
        except OSError as exc:
            if exc.errno not in _NO_UNNAMED:
                raise
    fd, path = _create_named(folder)
    return _Temp(fd, path)


def _create_named(folder: str) -> tuple[int, str]:
    """Create a new named temporary file in *folder*, with the permissions the umask gives."""
    while True:
        temp = os.path.join(
            folder,
            f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-{_names.getrandbits(48):012x}{TEMP_SUFFIX}",
        )
        try:
            return os.open(temp, _NAMED_FLAGS, 0o666), temp
        except FileExistsError:
            continue


def publish_beneath(
    root: str | os.PathLike[str], name: str, chunks: Iterable[bytes], on_conflict: OnConflict
) -> WrittenExport:
    """``publish`` the relative path *name* (checked with ``check_path``) in its folder under *root*.

    The folders are made beneath *root* without following links (``folder_beneath``): a symlink in
    the export area never leads a write outside it. The conflict policy applies in the folder.
    """
    if "/" not in name:
        return publish(root, name, chunks, on_conflict)
    *folders, leaf = name.split("/")
    root = Path(root)
    try:
        folder, fd = folder_beneath(root, folders)
    except OSError as exc:
        raise StoreWriteError(
            f"cannot write {name}: its folder is not a plain folder inside {root} "
            f"({exc.strerror or exc})"
        ) from exc
    prefix = "/".join(folders)
    try:
        written = publish(folder, leaf, chunks, on_conflict)
    except OutputExistsError as exc:  # named and located as the caller knows it, not by /proc
        raise _taken(f"{prefix}/{exc.name}", os.path.join(root, *folders, exc.name)) from None
    finally:
        if fd is not None:
            os.close(fd)
    return attrs.evolve(
        written,
        name=f"{prefix}/{written.name}",
        location=os.path.join(root, *folders, written.name),
    )


def commit(
    folder: str | os.PathLike[str],
    temp: str | os.PathLike[str],
    name: str,
    size: int,
    on_conflict: OnConflict,
    *,
    sole: bool = False,
) -> WrittenExport:
    """Publish the finished, closed temporary file *temp* (in *folder*) as *name* per *on_conflict*.

    *sole*: the file is its job's only one (an archive), so under ``rename`` a variant holding its
    bytes is this file published by an earlier run, kept; otherwise only *name* itself is.
    """
    return _commit(
        os.fspath(folder),
        _Temp(-1, os.fspath(temp), is_open=False),
        name,
        size,
        on_conflict,
        sole=sole,
    )


def _joined(folder: str, name: str) -> str:
    """``os.path.join(folder, name)`` for a checked relative *name*: a file export's one join."""
    if os.sep == "/" and folder and not folder.endswith("/"):
        return f"{folder}/{name}"
    return os.path.join(folder, name)  # pragma: no cover - Windows, or the root folder


def _commit(
    folder: str, temp: _Temp, name: str, size: int, on_conflict: OnConflict, *, sole: bool = False
) -> WrittenExport:
    final = _joined(folder, name)
    if on_conflict is OnConflict.REPLACE:
        try:
            _replace(folder, temp, final)
        except OSError as exc:
            raise StoreWriteError(f"cannot write {name}: {exc.strerror or exc}") from exc
        return WrittenExport(name, final, size)
    if on_conflict is OnConflict.RENAME:
        return _claim_free_name(folder, temp, name, size, sole=sole)
    if _link(folder, temp, final):
        return WrittenExport(name, final, size)
    if _same_bytes(temp, final, size):
        return WrittenExport(name, final, size, identical=True)
    raise _taken(name, final)


def _taken(name: str, location: str) -> OutputExistsError:
    return OutputExistsError(
        f"{name} already exists in the export folder and was not written by this job; "
        "it was left untouched (choose another conflict policy to replace, rename or skip it)",
        name=name,
        location=location,
    )


def _claim_free_name(
    folder: str, temp: _Temp, name: str, size: int, *, sole: bool
) -> WrittenExport:
    book = NameBook()
    candidate = book.claim(name)
    for _ in range(_MAX_RENAMES):
        final = _joined(folder, candidate)
        if _link(folder, temp, final):
            return WrittenExport(candidate, final, size)
        # A variant holding these bytes may be another asset's export, unless the file is sole.
        if (sole or candidate == name) and _same_bytes(temp, final, size):
            return WrittenExport(candidate, final, size, identical=True)
        candidate = book.claim(name)
    raise StoreWriteError(f"cannot write {name}: no free name among {_MAX_RENAMES} variants")


def _link(folder: str, temp: _Temp, final: str) -> bool:
    """Publish *temp* as *final* if that name is free; False if it is taken."""
    try:
        temp.link(final)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise StoreWriteError(
                f"cannot write {os.path.basename(final)}: {exc.strerror or exc}"
            ) from exc
        return _claim_then_replace(folder, temp, final)
    return True


def _claim_then_replace(folder: str, temp: _Temp, final: str) -> bool:
    """Where hard links are not supported: claim the name exclusively, then rename over the claim."""
    try:
        os.close(os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except FileExistsError:
        return False
    except OSError as exc:
        raise StoreWriteError(
            f"cannot write {os.path.basename(final)}: {exc.strerror or exc}"
        ) from exc
    try:
        _replace(folder, temp, final)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(final)
        raise StoreWriteError(
            f"cannot write {os.path.basename(final)}: {exc.strerror or exc}"
        ) from exc
    return True


def _replace(folder: str, temp: _Temp, final: str) -> None:
    """Rename *temp* over *final*; an unnamed file is first copied to a named one (it cannot be)."""
    if temp.path is not None:
        os.replace(temp.path, final)
        temp.path = None
        return
    fd, path = _create_named(folder)
    try:
        with os.fdopen(fd, "wb") as named:
            for block in temp.blocks():
                named.write(block)
        os.replace(path, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _same_bytes(temp: _Temp, final: str, size: int) -> bool:
    """Whether the regular file *final* (not a symlink) holds exactly the *size* bytes of *temp*.

    A symlink planted under the name is no earlier attempt of this export, whatever it leads to.
    """
    try:
        info = os.stat(final, follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode) or info.st_size != size:
            return False
        with open(os.open(final, os.O_RDONLY | _NOFOLLOW), "rb") as other:
            for block in temp.blocks():
                if other.read(len(block)) != block:
                    return False
            return other.read(1) == b""
    except OSError:
        return False


def stage_link(source: Path, folder: Path) -> Path:
    """Return a temporary name in *folder* for the file *source* (a hard link, else a copy)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = _create_named(os.fspath(folder))
        os.close(fd)
        os.unlink(temp)
        try:
            os.link(source, temp)
        except OSError:
            shutil.copyfile(source, temp)
    except OSError as exc:
        raise StoreWriteError(f"cannot write into {folder}: {exc.strerror or exc}") from exc
    return Path(temp)


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
        owner = entry.name[len(TEMP_PREFIX) : -len(TEMP_SUFFIX)].rsplit("-", 2)
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
