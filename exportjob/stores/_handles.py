"""The one spelling of a store handle: a relative POSIX path that cannot leave its root."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from .._assets import Asset, AssetHandle
from .._values import text_problem
from ..exceptions import ExportJobError

__all__ = ["LeftOut", "describe_each", "handle_folder", "handle_parts"]

logger = logging.getLogger("exportjob.stores")
_SHOWN = 120  # the longest path a warning shows whole

_NOT_PARTS = frozenset({"", ".", ".."})


def handle_parts(text: str) -> tuple[str, ...] | None:
    """Return the path segments of the handle *text*, or None if it is not a plain relative path.

    One spelling per asset: ``a//b``, ``./a`` and ``a/`` are not handles of ``a/b`` and ``a``;
    absolute paths, ``..``, backslashes and NUL are never handles.

    >>> handle_parts("photos/leaf.jpg"), handle_parts("../etc/passwd"), handle_parts("a//b")
    (('photos', 'leaf.jpg'), None, None)
    """
    if not text or "\\" in text or "\x00" in text:
        return None
    parts = tuple(text.split("/"))
    # An empty part is a leading, doubled or trailing "/"; "." and ".." are never spelled.
    return parts if _NOT_PARTS.isdisjoint(parts) else None


def _one(describe: Callable[[AssetHandle], Asset], handle: AssetHandle) -> Asset | Exception:
    try:
        return describe(handle)
    except ExportJobError as exc:
        return exc


def describe_each(
    describe: Callable[[AssetHandle], Asset], handles: Iterable[AssetHandle]
) -> dict[AssetHandle, Asset | Exception]:
    """Describe each of *handles*; a handle's library error becomes its value (``describe_many``)."""
    return {handle: _one(describe, handle) for handle in handles}


class LeftOut:
    """What listing a store's source (``handles``) left out, said once as one warning.

    Files whose names cannot be handles and folders that cannot be listed (a path past
    ``PATH_MAX``, no permission) are no assets, and the user should know: the warning on the
    ``exportjob.stores`` logger (the CLI's stderr) says how many and shows the first, escaped.
    """

    def __init__(self, source: object) -> None:
        self.source = source
        self.count = 0
        self.first: tuple[str, str] | None = None

    def handle(self, relative: str) -> AssetHandle | None:
        """The handle of the file *relative* to the source, or None (and it is counted)."""
        problem = text_problem(relative)
        if problem is not None:
            self.add(relative, f"a handle {problem}")
        elif handle_parts(relative) is None:
            self.add(relative, "a handle must not contain a backslash")
        else:
            return AssetHandle(relative)
        return None

    def add(self, relative: str, why: str) -> None:
        """Count *relative* (a file or folder under the source) as left out, for *why*."""
        self.count += 1
        if self.first is None or relative < self.first[0]:  # the first as handles are sorted
            self.first = (relative, why)

    def unlisted(self, error: OSError, root: str | os.PathLike[str]) -> None:
        """Count the folder that *error* could not list (``os.walk``'s ``onerror``)."""
        where = os.fsdecode(error.filename) if error.filename is not None else os.fspath(root)
        with_root = os.fspath(root).rstrip("/") + "/"
        relative = where.removeprefix(with_root)
        self.add(relative, f"its folder cannot be listed ({error.strerror or error})")

    def tell(self) -> None:
        """Warn of what was left out, if anything."""
        if self.first is None:
            return
        path, why = self.first
        if len(path) > _SHOWN:
            path = f"{path[: _SHOWN // 3]}…{path[-(_SHOWN * 2 // 3) :]}"
        logger.warning(
            "%d file(s) or folder(s) under %s are left out of the assets; the first: %r (%s)",
            self.count,
            self.source,
            path,
            why,
        )


def handle_folder(path: Path, root: Path) -> str | None:
    """*path* relative to the resolved *root*, as a handle's folder (``""``: the root; None: outside)."""
    path = path.resolve()
    if not path.is_relative_to(root):
        return None
    relative = path.relative_to(root).as_posix()
    return "" if relative == "." else relative
