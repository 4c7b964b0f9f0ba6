"""The one classifier of foreign exceptions: what a store's or converter's exception stands for.

An ``ExportJobError`` carries its own code. Anything else is classified by the stage it came from,
so a host's plain ``OSError`` reading an original is a read failure (logged on one line: a disk or
a server failing is expected) and a converter's ``KeyError`` a conversion failure; what fits no
stage is ``UNEXPECTED_ERROR`` (a bug in a plug-in). Anything but an ``OSError`` of a read or a write
is logged with its traceback.
"""

from __future__ import annotations

import enum
import logging

from ._codes import UNEXPECTED_ERROR
from .exceptions import ConversionError, ExportJobError, StoreReadError, StoreWriteError

__all__ = ["Stage", "classify"]

logger = logging.getLogger("exportjob.engine")


class Stage(enum.Enum):
    """Where in an asset's export a foreign exception was raised."""

    DESCRIBING = "describing"
    PLANNING = "planning"
    READING = "reading"
    CONVERTING = "converting"
    STREAMING = "streaming"
    WRITING = "writing"


_READ_STAGES = frozenset({Stage.DESCRIBING, Stage.READING, Stage.STREAMING})
_CONVERT_STAGES = frozenset({Stage.CONVERTING, Stage.STREAMING})


def classify(stage: Stage, exc: BaseException, handle: str) -> tuple[str, str]:
    """Return the error code and message that *exc*, raised while *stage* for *handle*, stands for."""
    if isinstance(exc, ExportJobError):
        return exc.code, exc.message
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, OSError) and stage in _READ_STAGES | {Stage.WRITING}:
        # A disk or a server failing: expected, and the outcome says it; a line, no traceback.
        logger.warning("%s while %s asset %s", text, stage.value, handle)
        if stage is Stage.WRITING:
            return StoreWriteError.code, f"could not write the export: {text}"
        return StoreReadError.code, f"could not read the asset while {stage.value}: {text}"
    logger.error("unexpected error while %s asset %s", stage.value, handle, exc_info=exc)
    if stage in _CONVERT_STAGES:
        return ConversionError.code, f"the converter failed: {text}"
    return UNEXPECTED_ERROR, f"unexpected error while {stage.value}: {text}"
