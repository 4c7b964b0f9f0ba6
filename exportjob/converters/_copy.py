"""The verbatim converter: ``fmt=orig`` streams the original through without decoding it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import attrs

from ..exceptions import ConversionError
from ..plans import ExportPlan
from ..protocols import ConversionOutput

__all__ = ["CHUNK_SIZE", "CopyConverter", "stream_chunks"]

CHUNK_SIZE = 1 << 20


def stream_chunks(source: BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield *source* in chunks of at most *chunk_size* bytes, never reading it whole."""
    while chunk := source.read(chunk_size):
        yield chunk


@attrs.frozen
class CopyConverter:
    """Exports originals as they are (``fmt=orig``); refuses plans that ask for a conversion.

    >>> CopyConverter()
    CopyConverter(chunk_size=1048576)
    """

    chunk_size: int = CHUNK_SIZE

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        """Stream *source* unchanged; raise ``ConversionError`` if *plan* asks for a conversion."""
        if plan.output_format is not None:
            raise ConversionError(
                "CopyConverter only exports originals (fmt=orig); use PillowConverter to convert",
                handle=plan.handle.value,
            )
        return ConversionOutput(stream_chunks(source, self.chunk_size), None)
