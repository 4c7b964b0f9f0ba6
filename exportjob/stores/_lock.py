"""An exclusive lock on a folder another writer must not write into at the same time.

The lock is ``flock`` on a ``.lock`` file in the folder, held by this process until released, until
its holder is collected (a store dropped unfinished in a notebook lets go of it), or until the
process exits (a killed process holds nothing): a writer in another process is refused at once,
never made to wait. Within one process, a lock taken again on the same folder takes it over (a
store made again after an interruption goes on from the first): the earlier holder is no longer
its owner, and says so before it writes. Where there is no ``fcntl`` (Windows) nothing is locked.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import weakref
from pathlib import Path

from ..exceptions import StoreWriteError

if sys.platform != "win32":
    import fcntl

__all__ = ["LOCK_NAME", "FolderLock"]

LOCK_NAME = ".lock"


class _Held:
    """A folder this process has locked: the open lock file, and the holder that owns it now.

    The owner is its token, not the holder itself: a holder no one keeps is collected, and lets go.
    """

    __slots__ = ("fd", "owner")

    def __init__(self, fd: int, owner: object) -> None:
        self.fd = fd
        self.owner = owner


_HELD: dict[Path, _Held] = {}
_HELD_LOCK = threading.Lock()
# Holders collected while the lock was taken: the collector may run in the very thread that
# holds it (an allocation inside a ``with _HELD_LOCK``), so it never waits for the lock; the
# next holder of the lock lets go of them. ``list.append`` and ``pop`` need no lock.
_COLLECTED: list[tuple[Path, object]] = []


class FolderLock:
    """This process's hold on *folder* (made if missing); ``StoreWriteError`` if another has it."""

    def __init__(self, folder: Path, *, what: str) -> None:
        self.folder = folder
        self.what = what
        if sys.platform == "win32":  # pragma: no cover - no flock
            return
        key = folder.resolve()
        self._key = key
        self._token = token = object()
        with _HELD_LOCK:
            _let_go_of_collected()
            held = _HELD.get(key)
            if held is None:
                _HELD[key] = _Held(_take(folder, what), token)
            else:
                held.owner = token  # taken over
        weakref.finalize(self, _collected, key, token)

    @property
    def owned(self) -> bool:
        """Whether this holder still owns the lock (not released, not taken over since)."""
        if sys.platform == "win32":  # pragma: no cover - no flock
            return True
        with _HELD_LOCK:
            _let_go_of_collected()
            held = _HELD.get(self._key)
            return held is not None and held.owner is self._token

    def check(self) -> None:
        """Raise ``StoreWriteError`` unless this holder owns the lock: it must not write then."""
        if not self.owned:
            raise StoreWriteError(
                f"{self.what} was taken over by another store of this process, or finished: "
                "this one no longer writes it"
            )

    def release(self) -> None:
        """Let go of the lock if this holder owns it (the folder may be gone by now)."""
        if sys.platform == "win32":  # pragma: no cover - no flock
            return
        with _HELD_LOCK:
            _let_go_of_collected()
            _let_go(self._key, self._token)


def _collected(key: Path, token: object) -> None:
    """A holder was collected: let go of its lock now if the lock is free, else soon."""
    if not _HELD_LOCK.acquire(blocking=False):
        _COLLECTED.append((key, token))
        return
    try:
        _let_go_of_collected()
        _let_go(key, token)
    finally:
        _HELD_LOCK.release()


def _let_go_of_collected() -> None:
    """Let go of the locks of holders collected while the lock was taken. Under ``_HELD_LOCK``."""
    while _COLLECTED:
        _let_go(*_COLLECTED.pop())


def _let_go(key: Path, token: object) -> None:
    """Unlock *key* if the holder of *token* still owns it. Under ``_HELD_LOCK``."""
    held = _HELD.get(key)
    if held is None or held.owner is not token:
        return
    del _HELD[key]
    with contextlib.suppress(OSError):
        os.close(held.fd)


def _take(folder: Path, what: str) -> int:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise StoreWriteError(f"cannot lock {folder}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise StoreWriteError(
            f"another process is writing {what} (its folder {folder} is locked): wait for it "
            "to end, then run the command again"
        ) from None
    return fd
