"""Finding a file beneath a folder without ever leaving it, even while the folder changes.

A check of the resolved path followed by an open of the unresolved one is a race: between the two,
a component can become a symlink to a file outside. Here the check *is* the open: the path is
walked one component at a time from a descriptor of the root, each component opened or examined
relative to its parent's descriptor without following links (``O_NOFOLLOW``, ``dir_fd``). A
symlink met on the way is read and its target walked the same way, from the root again when the
target is absolute, and refused when it would climb out. Whatever the folder becomes meanwhile, the
file examined or opened was reached through real directories beneath the root.

Where the platform has no ``dir_fd`` (Windows), the path is resolved, checked and opened, and the
opened descriptor's device and inode must be the checked file's: a file swapped in between is refused.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import stat
import threading
import weakref
from collections.abc import Callable, Collection, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = [
    "MISSING_ERRNOS",
    "HeldRoot",
    "existing_beneath",
    "find_beneath",
    "folder_beneath",
    "occupied_beneath",
]

_PATH = getattr(os, "O_PATH", 0)  # Linux: a directory that may only be searched can be walked
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_DIR_FLAGS = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC | _PATH
# O_NONBLOCK: a FIFO must not block the open, O_NOCTTY: nor a terminal become the process's (the
# fstat after the open refuses both).
_FILE_FLAGS = (
    os.O_RDONLY
    | _NOFOLLOW
    | _CLOEXEC
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)
_PROC_FD = os.path.isdir("/proc/self/fd")  # Linux: an open folder has a path of its own there
_MAX_LINKS = 40  # as the kernel's own limit: a loop, or a race that will not settle, is not found

#: Errors that mean "there is no such file here" rather than "the store failed".
MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP})

_AT_SUPPORTED = (
    _NOFOLLOW != 0
    and os.open in os.supports_dir_fd
    and os.stat in os.supports_dir_fd
    and os.readlink in os.supports_dir_fd
)

Found = tuple[os.stat_result, int | None]


class _Again(enum.Enum):
    """What the walk's last step says of a link (met by the open, or since the look): follow it."""

    LOOK = "look again"


def find_beneath(root: Path, parts: Sequence[str], *, open_file: bool) -> Found | None:
    """Return the regular file at *parts* beneath *root*: its stat and, if *open_file*, an open fd.

    None when there is no regular file there, or reaching it would leave *root*. Other ``OSError``
    (permission denied on the way, an I/O error) propagate. With *open_file* false nothing is
    opened but directories: a file's bytes are never read, nor its permission to be read tested.
    With it, the last component is opened before it is looked at (``_open_in``): something other
    than a regular file there (a FIFO, a device) is opened without blocking and closed unread.
    """
    if not _AT_SUPPORTED:  # pragma: no cover - Windows
        return _find_by_path(root, parts, open_file=open_file)
    return _find_from(root, os.open(root, _DIR_FLAGS), parts, open_file=open_file, owned=True)


def _find_from(
    root: Path, root_fd: int, parts: Sequence[str], *, open_file: bool, owned: bool
) -> Found | None:
    """``find_beneath`` from *root_fd*, a descriptor of *root* (closed after if *owned*)."""
    fds = [root_fd]
    try:
        if len(parts) == 1 and parts[0] not in {"", ".", ".."}:  # a file in the root itself
            found = _file_in(root_fd, parts[0], open_file=open_file)
            if found is not _Again.LOOK:
                return found
        return _walk(root, fds, list(parts), open_file=open_file)
    except OSError as exc:
        if exc.errno in MISSING_ERRNOS:
            return None
        raise
    finally:
        for fd in fds if owned else fds[1:]:
            os.close(fd)


class HeldRoot:
    """A folder files are found beneath (``find_beneath``), held open from its first lookup on.

    One descriptor for the holder's life instead of an ``open`` and a ``close`` of the folder per
    lookup: two of a file export's dozen system calls. As with Go's ``os.Root``, the folder is the
    one held: renamed, it is still read (a folder put in its place is not); removed, a lookup
    raises ``FileNotFoundError``, not "no such file". A copy (pickled for a worker process) opens
    its own when first used. The descriptor is closed with the object, never before: a lookup must
    not meet its number reused by another folder.
    """

    __slots__ = ("__weakref__", "_fd", "_lock", "path")

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()

    def find(self, parts: Sequence[str], *, open_file: bool) -> Found | None:
        """``find_beneath(self.path, parts, open_file=...)``, from the held descriptor."""
        if not _AT_SUPPORTED:  # pragma: no cover - Windows
            return _find_by_path(self.path, parts, open_file=open_file)
        fd = self._fd if self._fd is not None else self._open()
        found = _find_from(self.path, fd, parts, open_file=open_file, owned=False)
        if found is None and os.fstat(fd).st_nlink == 0:  # not missing: the folder is gone
            raise FileNotFoundError(errno.ENOENT, f"the folder {self.path} was removed")
        return found

    def _open(self) -> int:
        with self._lock:
            if self._fd is None:
                fd = os.open(self.path, _DIR_FLAGS)
                weakref.finalize(self, os.close, fd)
                self._fd = fd
            return self._fd

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self._fd = None
        self._lock = threading.Lock()


def existing_beneath(root: Path, names: Collection[str]) -> set[str]:
    """Those of the relative paths *names* that are regular files at exactly that path under *root*.

    No symlink is followed, in the folders or at the file: a link planted where an export was is
    not that export. A path that cannot be looked at (permission denied on the way, an I/O error)
    counts as there: only a file known to be gone, or not a plain file, is left out.
    """
    return _each_beneath(root, names, _plain_file_at, _plain_file_by_path)


def occupied_beneath(root: Path, names: Collection[str]) -> set[str]:
    """Those of the relative paths *names* that cannot be created as new files under *root* now.

    Anything at the path counts (a file, a folder, a link, even a dangling one), and so does a
    folder of the path that is a file or a link, or a path that cannot be looked at: only a name
    known to be free is left out. No symlink is followed.
    """
    return _each_beneath(root, names, _occupied_at, _occupied_by_path)


def _each_beneath(
    root: Path,
    names: Collection[str],
    at: Callable[[int, Sequence[str]], bool],
    by_path: Callable[[Path, str], bool],
) -> set[str]:
    """Those of *names* that *at* (from the root's descriptor) or *by_path* (Windows) accepts."""
    if not root.is_dir():
        return set()
    if not _AT_SUPPORTED:  # pragma: no cover - Windows
        return {name for name in names if by_path(root, name)}
    fd = os.open(root, _DIR_FLAGS & ~_NOFOLLOW)  # the root itself may be reached through a link
    try:
        return {name for name in names if at(fd, name.split("/"))}
    finally:
        os.close(fd)


def _lstat_at(root: int, parts: Sequence[str]) -> os.stat_result:
    """The ``lstat`` of *parts* beneath the folder *root*, its folders opened through no symlink."""
    fds: list[int] = []
    try:
        parent = root
        for part in parts[:-1]:
            fds.append(os.open(part, _DIR_FLAGS, dir_fd=parent))
            parent = fds[-1]
        return os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
    finally:
        for fd in fds:
            os.close(fd)


def _occupied_at(root: int, parts: Sequence[str]) -> bool:
    try:
        _lstat_at(root, parts)
    except FileNotFoundError:
        return False  # the name, or a folder of it yet to be made: free
    except OSError:
        return True
    return True


def _occupied_by_path(root: Path, name: str) -> bool:  # pragma: no cover - Windows
    try:
        root.joinpath(*name.split("/")).lstat()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return True


def _plain_file_at(root: int, parts: Sequence[str]) -> bool:
    """Whether *parts* name a regular file beneath the folder *root*, through no symlink."""
    try:
        info = _lstat_at(root, parts)
    except OSError as exc:
        return exc.errno not in MISSING_ERRNOS  # not known to be gone: counted as there
    return stat.S_ISREG(info.st_mode)


def _plain_file_by_path(root: Path, name: str) -> bool:  # pragma: no cover - Windows
    path = root.joinpath(*name.split("/"))
    try:
        if any(p.is_symlink() for p in [path, *path.parents] if p != root and root in p.parents):
            return False
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError as exc:
        return exc.errno not in MISSING_ERRNOS


def folder_beneath(root: Path, parts: Sequence[str]) -> tuple[Path, int | None]:
    """Create the folders *parts* beneath *root* (which is created too) and return the last one.

    Each component is opened (and made, if missing) relative to its parent's descriptor without
    following links, so a symlink planted in the export area (to a folder outside) is refused
    (``OSError``, ``ELOOP`` or ``ENOTDIR``), never followed, and a folder swapped for one meanwhile
    cannot redirect the write: on Linux the path returned is ``/proc/self/fd/N`` of the open
    descriptor (also returned: the caller closes it), so every later step stays in that folder.
    Elsewhere the path is checked once, after it is made, to resolve beneath *root*.
    """
    if not _AT_SUPPORTED or os.mkdir not in os.supports_dir_fd:  # pragma: no cover - Windows
        root.mkdir(parents=True, exist_ok=True)
        return _folder_by_path(root, parts), None
    bad = next((p for p in parts if p in {"", ".", ".."} or "/" in p), None)
    if bad is not None:
        raise OSError(errno.EINVAL, f"not a folder name: {bad!r}")
    flags = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
    try:
        fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    except FileNotFoundError:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for part in parts:
            try:
                child = os.open(part, flags, dir_fd=fd)
            except FileNotFoundError:  # made by the first write into it (or again, if removed)
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o777, dir_fd=fd)
                child = os.open(part, flags, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    if _PROC_FD:
        return Path(f"/proc/self/fd/{fd}"), fd
    os.close(fd)  # pragma: no cover - no /proc: the path, checked
    return _folder_by_path(root, parts), None  # pragma: no cover


def _folder_by_path(root: Path, parts: Sequence[str]) -> Path:  # pragma: no cover - no dir_fd
    folder = root.joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    if not folder.resolve().is_relative_to(root.resolve()):
        raise OSError(errno.ELOOP, f"{folder} leads outside {root}")
    return folder


def _walk(root: Path, fds: list[int], pending: list[str], *, open_file: bool) -> Found | None:
    links = 0
    while pending:
        name = pending.pop(0)
        if name in {"", "."}:
            continue
        if name == "..":
            if len(fds) == 1:
                return None  # it would climb out of the root
            os.close(fds.pop())
            continue
        parent = fds[-1]
        if open_file and not pending:  # the last step: the open itself says what is there
            found = _open_in(parent, name)
            if found is not _Again.LOOK:
                return found
        info = os.stat(name, dir_fd=parent, follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            links += 1
            if links > _MAX_LINKS or not _follow(root, fds, pending, name):
                return None
            continue
        if pending:  # a directory on the way
            if not stat.S_ISDIR(info.st_mode):
                return None
            try:
                fds.append(os.open(name, _DIR_FLAGS, dir_fd=parent))
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise
                links += 1  # it became a symlink since the stat: look at it again
                pending.insert(0, name)
            continue
        if open_file:  # the open met a link that is gone since: open it again
            links += 1
            if links > _MAX_LINKS:
                return None
            pending.insert(0, name)
            continue
        return (info, None) if stat.S_ISREG(info.st_mode) else None
    return None  # the path named the root itself, a folder


def _file_in(parent: int, name: str, *, open_file: bool) -> Found | _Again | None:
    """The regular file *name* in the folder *parent*; ``_Again.LOOK`` for a link (the walk follows it).

    The walk's last step alone, for the most common path: a file of the root itself.
    """
    if open_file:
        return _open_in(parent, name)
    info = os.stat(name, dir_fd=parent, follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        return _Again.LOOK
    return (info, None) if stat.S_ISREG(info.st_mode) else None


def _open_in(parent: int, name: str) -> Found | _Again | None:
    """The regular file *name* in *parent*, opened through no link: its stat and descriptor.

    The open comes first and its ``fstat`` decides (one system call fewer than a look first):
    ``O_NOFOLLOW`` refuses a link (``_Again.LOOK``), ``O_NONBLOCK`` keeps a FIFO from blocking and
    ``O_NOCTTY`` a terminal from becoming the process's; anything but a regular file is closed
    unread. An open refused otherwise is no error if what is there is no regular file (a socket).
    """
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _Again.LOOK
        if exc.errno in MISSING_ERRNOS:
            raise
        info = os.stat(name, dir_fd=parent, follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            return _Again.LOOK
        if not stat.S_ISREG(info.st_mode):
            return None
        raise
    opened = os.fstat(fd)
    if not stat.S_ISREG(opened.st_mode):
        os.close(fd)
        return None
    return opened, fd


def _follow(root: Path, fds: list[int], pending: list[str], name: str) -> bool:
    """Put the target of the symlink *name* in front of *pending*; False if it leads outside."""
    try:
        target = os.readlink(name, dir_fd=fds[-1])
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        pending.insert(0, name)  # no longer a symlink since the stat: look again
        return True
    if not target.startswith("/"):
        pending[:0] = target.split("/")
        return True
    rest = _beneath(root, target)
    if rest is None:
        return False
    while len(fds) > 1:  # an absolute target is walked from the root again
        os.close(fds.pop())
    pending[:0] = rest
    return True


def _beneath(root: Path, target: str) -> list[str] | None:
    """Return the parts of the absolute symlink *target* below *root*, or None if it is outside."""
    for candidate in (PurePosixPath(target), PurePosixPath(os.path.realpath(target))):
        if candidate.is_relative_to(root):
            return list(candidate.relative_to(root).parts)
    return None


def _find_by_path(
    root: Path, parts: Sequence[str], *, open_file: bool
) -> Found | None:  # pragma: no cover - Windows
    path = root.joinpath(*parts)
    try:
        resolved = path.resolve(strict=True)
        info = resolved.stat()
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root) or not stat.S_ISREG(info.st_mode):
        return None
    if not open_file:
        return info, None
    fd = os.open(resolved, _FILE_FLAGS)
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
        os.close(fd)
        return None
    return opened, fd
