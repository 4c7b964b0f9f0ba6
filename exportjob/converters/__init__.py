"""Converters: ``CopyConverter`` for originals and ``PillowConverter`` for Image Serving conversions.

``SOURCE_FORMATS`` names the originals ``PillowConverter`` reads: the Pillow format ids it tries, in
this order, to identify one by its content (raster formats only: no EPS, PDF or SVG). It, ``Limits``
and ``PillowConverter`` are imported lazily, so ``import exportjob`` does not import Pillow.

>>> from exportjob.converters import SOURCE_FORMATS
>>> "JPEG" in SOURCE_FORMATS, "PDF" in SOURCE_FORMATS
(True, False)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._copy import CopyConverter

if TYPE_CHECKING:
    from ._budget import MemoryBudget
    from ._decode import SOURCE_FORMATS
    from ._pillow import Limits, PillowConverter

__all__ = ["SOURCE_FORMATS", "CopyConverter", "Limits", "MemoryBudget", "PillowConverter"]


def __getattr__(name: str) -> Any:
    if name in {"PillowConverter", "Limits"}:
        from . import _pillow  # noqa: PLC0415 - lazy: keeps Pillow out of `import exportjob`

        return getattr(_pillow, name)
    if name == "MemoryBudget":
        from . import _budget  # noqa: PLC0415 - lazy, as above

        return _budget.MemoryBudget
    if name == "SOURCE_FORMATS":
        from . import _decode  # noqa: PLC0415 - lazy, as above

        return _decode.SOURCE_FORMATS
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
