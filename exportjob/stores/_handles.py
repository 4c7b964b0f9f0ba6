"""The one spelling of a store handle: a relative POSIX path that cannot leave its root."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .._assets import Asset, AssetHandle
from ..exceptions import ExportJobError

__all__ = ["describe_each", "handle_parts"]

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
