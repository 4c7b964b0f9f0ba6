"""The spool of an archive being written: its folder, the lock on it, and how it goes away.

One writer at a time (``FolderLock`` on ``SPOOL/.archive/.lock``): the spool holds the spooled
exports, the archive's parts under ``.archive/`` and the CLI's journals under ``.exportjob/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ._lock import LOCK_NAME, FolderLock

__all__ = ["PARTS_FOLDER", "Spool"]

#: The folder of the spool that holds the archive (or its volumes) while it is written.
PARTS_FOLDER = ".archive"


class Spool:
    """The spool folder *path* of the archive named *what*, locked by this store."""

    def __init__(self, path: Path, *, what: str) -> None:
        self.path = path
        self.parts = path / PARTS_FOLDER
        self.lock = FolderLock(self.parts, what=what)

    def check(self) -> None:
        """Raise ``StoreWriteError`` unless this store still owns the spool."""
        self.lock.check()

    def empty(self) -> None:
        """Remove everything in the spool but its lock: the next job starts the archive afresh."""
        self.check()
        for entry in [*self.path.iterdir(), *self.parts.iterdir()] if self.parts.is_dir() else []:
            if entry in {self.parts, self.parts / LOCK_NAME}:
                continue  # the lock is held: no other process may take the spool meanwhile
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def close(self) -> None:
        """Unlock the spool, and remove it if nothing but the lock is in it."""
        if not self.lock.owned:
            return
        bare = {self.parts, self.parts / LOCK_NAME}
        if self.path.is_dir() and all(p in bare for p in self.path.rglob("*")):
            self.remove()
        else:
            self.lock.release()

    def remove(self) -> None:
        """Remove the spool, renamed aside first, so no writer after us finds it half gone."""
        doomed = self.path.with_name(f"{self.path.name}.done-{os.getpid()}")
        try:
            self.path.replace(doomed)
        except OSError:
            doomed = self.path
        self.lock.release()
        shutil.rmtree(doomed, ignore_errors=True)
