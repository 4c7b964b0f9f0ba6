"""Converters: ``CopyConverter`` for originals and ``PillowConverter`` for Image Serving conversions.

``PillowConverter`` is imported lazily, so ``import exportjob`` does not import Pillow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._copy import CopyConverter

if TYPE_CHECKING:
    from ._pillow import Limits, PillowConverter

__all__ = ["CopyConverter", "Limits", "PillowConverter"]


def __getattr__(name: str) -> Any:
    if name in {"PillowConverter", "Limits"}:
        from . import _pillow  # noqa: PLC0415 - lazy: keeps Pillow out of `import exportjob`

        return getattr(_pillow, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
