"""An exclusive lock on a folder another process must not write into at the same time.

The lock is ``flock`` on a ``.lock`` file in the folder, held by this process until released or
until it exits (a killed process holds nothing): a writer in another process is refused at once,
never made to wait. Within one process the lock is shared (a store made again after an
interruption takes over from the first). Where there is no ``fcntl`` (Windows) nothing is locked.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

from ..exceptions import StoreWriteError

if sys.platform != "win32":
    import fcntl

__all__ = ["LOCK_NAME", "FolderLock"]

LOCK_NAME = ".lock"
# The folders this process holds, with their descriptor and how many holders share it.
_HELD: dict[Path, tuple[int, int]] = {}
_HELD_LOCK = threading.Lock()


class FolderLock:
    """This process's hold on *folder* (made if missing); ``StoreWriteError`` if another has it."""

    def __init__(self, folder: Path, *, what: str) -> None:
        self.folder = folder
        self.held = False
        if sys.platform == "win32":  # pragma: no cover - no flock
            return
        with _HELD_LOCK:
            fd, holders = _HELD.get(folder, (-1, 0))
            if holders == 0:
                fd = _take(folder, what)
            _HELD[folder] = (fd, holders + 1)
        self.held = True

    def release(self) -> None:
        """Let go of the lock (the folder may be gone by now); the last holder unlocks it."""
        if not self.held:
            return
        self.held = False
        with _HELD_LOCK:
            fd, holders = _HELD.pop(self.folder)
            if holders > 1:
                _HELD[self.folder] = (fd, holders - 1)
            else:
                with contextlib.suppress(OSError):
                    os.close(fd)


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
