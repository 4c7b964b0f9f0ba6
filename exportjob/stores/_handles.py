"""The one spelling of a store handle: a relative POSIX path that cannot leave its root."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

from .._assets import Asset, AssetHandle
from ..exceptions import ExportJobError

__all__ = ["describe_each", "handle_parts"]


def handle_parts(text: str) -> tuple[str, ...] | None:
    """Return the path segments of the handle *text*, or None if it is not a plain relative path.

    One spelling per asset: ``a//b``, ``./a`` and ``a/`` are not handles of ``a/b`` and ``a``;
    absolute paths, ``..``, backslashes and NUL are never handles.

    >>> handle_parts("photos/leaf.jpg"), handle_parts("../etc/passwd"), handle_parts("a//b")
    (('photos', 'leaf.jpg'), None, None)
    """
    if not text or "\\" in text or "\x00" in text:
        return None
    pure = PurePosixPath(text)
    if pure.is_absolute() or ".." in pure.parts or pure.as_posix() != text or not pure.parts:
        return None
    return pure.parts


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
