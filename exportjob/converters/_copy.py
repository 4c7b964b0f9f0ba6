"""The verbatim converter: ``fmt=orig`` streams the original through without decoding it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

import attrs

from ..exceptions import ConversionError
from ..plans import ExportPlan
from ..protocols import ConversionOutput

__all__ = ["CHUNK_SIZE", "CopyConverter", "FileChunks", "copy_output", "stream_chunks"]

CHUNK_SIZE = 1 << 20


def stream_chunks(source: BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield *source* in chunks of at most *chunk_size* bytes, never reading it whole."""
    while chunk := source.read(chunk_size):
        yield chunk


class FileChunks:
    """The rest of an open file as chunks; a store that can copies it through ``fileno`` instead.

    This is ``exportjob.protocols.FileBacked``: ``DirectoryStore`` copies it with the kernel's
    ``copy_file_range``/``sendfile`` fast paths, any other store just iterates it.
    """

    def __init__(self, source: BinaryIO, chunk_size: int = CHUNK_SIZE) -> None:
        self._source = source
        self._chunk_size = chunk_size

    def __iter__(self) -> Iterator[bytes]:
        return stream_chunks(self._source, self._chunk_size)

    def fileno(self) -> int:
        """The descriptor of the open original, positioned at the copy's start.

        That is where the file's reader stands: a buffered reader that has read (a converter that
        looked at the header first) has taken the descriptor past it. A source that says it has
        read nothing ahead (``read_ahead`` false, as ``DirectoryStore``'s unread original does)
        is taken as it is, without a system call.
        """
        source = self._source
        fd = source.fileno()
        if getattr(source, "read_ahead", True):
            os.lseek(fd, source.tell(), os.SEEK_SET)
        return fd


def _has_descriptor(source: BinaryIO) -> bool:
    try:
        source.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the latter
        return False
    return True


def copy_output(source: BinaryIO, chunk_size: int = CHUNK_SIZE) -> ConversionOutput:
    """The original itself as the output: its open file where it has one (kernel copies), else chunks."""
    if _has_descriptor(source):
        return ConversionOutput(FileChunks(source, chunk_size), None)
    return ConversionOutput(stream_chunks(source, chunk_size), None)


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
        return copy_output(source, self.chunk_size)
