"""The plug-in points a host implements: where assets live, how they are converted, who is told.

Each protocol takes and returns exportjob value types, bytes or binary streams, never the engine, so a
host implements one by importing only the types. ``exportjob.testing`` and the ``stores``,
``converters`` and ``notifiers`` modules ship real implementations of each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    from ._assets import Asset, AssetHandle
    from ._log import JobReport
    from .options import OutputFormat
    from .plans import ExportPlan

__all__ = ["AssetStore", "ConversionOutput", "Converter", "ExportReader", "Notifier"]


class AssetStore(Protocol):
    """Where originals are read and exports are written.

    ``describe`` and ``open_original`` raise ``AssetNotFoundError`` for an unknown handle and
    ``StoreReadError`` when the backend fails; ``write_export`` raises ``StoreWriteError`` and must
    leave nothing partial behind: a reader sees the whole file or none.
    """

    def describe(self, handle: AssetHandle) -> Asset:
        """Return what the store knows of the asset *handle*."""
        ...

    def open_original(self, handle: AssetHandle) -> AbstractContextManager[BinaryIO]:
        """Open the original of *handle* as a binary stream (a context manager closes it)."""
        ...

    def write_export(self, name: str, chunks: Iterable[bytes]) -> str:
        """Write the export file *name* from *chunks*, atomically; return where it landed."""
        ...


@runtime_checkable
class ExportReader(Protocol):
    """Optional: a store that can read an export back by name (``MemoryStore``, ``DirectoryStore``).

    The engine checks for it with ``isinstance`` (hence ``runtime_checkable``): a ``JobRun`` of a store
    that is one shows thumbnails of its outputs when displayed in a notebook.
    """

    def read_export(self, name: str) -> bytes:
        """Return the bytes of the export *name*; ``KeyError`` or ``OSError`` if there is none."""
        ...


@attrs.frozen
class ConversionOutput:
    """What a converter made: the bytes (streamed as chunks) and the format they are in.

    ``format`` is ``None`` for a verbatim copy of the original.
    """

    chunks: Iterable[bytes] = attrs.field(repr=False)
    format: OutputFormat | None
    media_type: str = "application/octet-stream"
    width: int | None = None
    height: int | None = None

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)


class Converter(Protocol):
    """Turns an original stream into the output its plan asks for.

    Raises ``ConversionError`` (or a subclass) for anything it cannot convert; never writes anywhere.
    """

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        """Convert *source* as *plan* says and return the output."""
        ...


class Notifier(Protocol):
    """Delivers one notification about a finished job (hosts plug email in here).

    The engine decides whether to notify (the job's ``emailSetting``); a notifier only delivers. An
    exception raised here is logged and never fails the job.
    """

    def notify(self, report: JobReport) -> None:
        """Deliver *report* to ``report.recipient``."""
        ...
