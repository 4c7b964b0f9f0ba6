"""The plug-in points a host implements: where assets live, how they are converted, who is told.

Each protocol takes and returns exportjob value types, bytes or binary streams, never the engine, so a
host implements one by importing only the types. ``exportjob.testing`` and the ``stores``,
``converters`` and ``notifiers`` modules ship real implementations of each.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, BinaryIO, Protocol, cast, runtime_checkable

import attrs

if TYPE_CHECKING:
    from ._assets import Asset, AssetHandle
    from ._log import JobReport
    from .options import OutputFormat
    from .plans import ExportPlan

__all__ = [
    "AssetStore",
    "BatchDescriber",
    "ConversionOutput",
    "Converter",
    "DurableStore",
    "ExportInventory",
    "ExportReader",
    "FileBacked",
    "NamedHandles",
    "Notifier",
    "OccupiedNames",
    "OnConflict",
    "WrittenExport",
    "file_backed",
]


class OnConflict(enum.Enum):
    """What to do when an export's name is already taken in the export area.

    ``error`` (the default) fails the asset with ``OUTPUT_EXISTS`` and leaves the file untouched;
    ``skip`` leaves it too and records the asset as skipped; ``replace`` replaces it atomically;
    ``rename`` writes under the first free name ``stem-2.ext``, ``stem-3.ext``, ...
    """

    ERROR = "error"
    SKIP = "skip"
    REPLACE = "replace"
    RENAME = "rename"

    @classmethod
    def of(cls, value: OnConflict | str) -> OnConflict:
        """Return *value* as a policy, from its value (``"replace"``) if a string.

        The one conversion the engine and every shipped store make, so a string means the same
        policy everywhere and anything else is refused, never taken for ``error``.

        Raises:
            ValueError: *value* is neither a policy nor the value of one.

        >>> OnConflict.of("replace"), OnConflict.of(OnConflict.SKIP)
        (<OnConflict.REPLACE: 'replace'>, <OnConflict.SKIP: 'skip'>)
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            for policy in cls:
                if policy.value == value:
                    return policy
        allowed = ", ".join(c.value for c in cls)
        msg = f"on_conflict must be one of {allowed}, got {value!r}"
        raise ValueError(msg)


@attrs.frozen
class WrittenExport:
    """Where ``write_export`` put an export: under which *name* (``rename`` may change it) and where.

    ``size`` is the export's size in bytes. ``identical`` is true when the name already held a file
    with exactly these bytes (an earlier attempt of the same export, as after a crash): nothing was
    replaced and nothing was lost.
    """

    name: str
    location: str
    size: int
    identical: bool = False


class AssetStore(Protocol):
    """Where originals are read and exports are written.

    ``describe`` says what an asset is from the store's own records (a manifest, a database row,
    object metadata); it must not read any byte of the original, since authorization comes after
    it. ``describe`` and ``open_original`` raise ``AssetNotFoundError`` for an unknown handle and
    ``StoreReadError`` when the backend fails.

    ``write_export`` must leave nothing partial behind (a reader sees the whole file or none) and
    must never replace a file it did not write unless told to: under ``OnConflict.ERROR`` and
    ``SKIP`` it raises ``OutputExistsError`` when the name is taken by different bytes, and the check
    is atomic with the write (create-if-absent, never check-then-write), so two jobs writing one
    name at once never replace each other's file. Under ``REPLACE`` it replaces atomically; under
    ``RENAME`` it claims the first free variant of the name. Other failures raise
    ``StoreWriteError``.
    """

    def describe(self, handle: AssetHandle) -> Asset:
        """Return what the store knows of the asset *handle*."""
        ...

    def open_original(self, handle: AssetHandle) -> AbstractContextManager[BinaryIO]:
        """Open the original of *handle* as a binary stream (a context manager closes it)."""
        ...

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        """Write the export file *name* from *chunks*, atomically; return where it landed."""
        ...


@runtime_checkable
class BatchDescriber(Protocol):
    """Optional: a store that describes many handles in one round trip (one query, one listing).

    The engine uses it when present (``isinstance``, hence ``runtime_checkable``), in batches of a
    few dozen handles. A handle missing from the result is not found; a value that is an
    ``ExportJobError`` is that handle's failure.
    """

    def describe_many(
        self, handles: Sequence[AssetHandle]
    ) -> Mapping[AssetHandle, Asset | Exception]:
        """Describe every handle of *handles* that the store knows."""
        ...


@runtime_checkable
class DurableStore(Protocol):
    """Optional: a store whose writes become durable only when synced (files on a disk).

    The engine calls ``sync`` once per journal batch and once at the end of a job, so durability
    costs one sync per batch instead of one per file; it checks for it with ``isinstance``.
    """

    def sync(self) -> None:
        """Make every export written so far durable (it survives a power loss)."""
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


@runtime_checkable
class ExportInventory(Protocol):
    """Optional: a store that can tell which exports are in its export area, without reading them.

    A job resumed from its journal asks once, before it starts, for the names its journal says
    it exported (``isinstance``, hence ``runtime_checkable``): an export removed since (by a
    user, a clean-up) is exported again, not reported at a location where nothing is. Under
    ``rename`` the planner asks too, a round of plans at a time, and skips the names taken, when
    the store is no ``OccupiedNames``. ``MemoryStore``, ``DirectoryStore`` and ``FsspecStore``
    are ones.
    """

    def existing_exports(self, names: Collection[str]) -> Collection[str]:
        """Those of *names* (export names, as ``write_export`` took them) in the export area now."""
        ...


@runtime_checkable
class OccupiedNames(Protocol):
    """Optional: a store that can tell which output names cannot be written as new files now.

    Under ``rename`` the planner skips those names as it plans, in job order (``isinstance``,
    hence ``runtime_checkable``; without it, ``ExportInventory.existing_exports`` is asked). A
    name is occupied when the export area holds anything under it (a file, a folder, a link,
    even a dangling one), when a folder of its path is a file or a link, or when the store cannot
    look. With it (or an ``ExportInventory``) answering, the engine writes each planned name with
    ``OnConflict.ERROR`` and plans an asset again when its name was taken since it was planned.
    A store that offers ``rename`` should be one: without either, it renames at write time, and
    its names then depend on timing. ``MemoryStore``, ``DirectoryStore`` and ``FsspecStore`` are.
    """

    def occupied_names(self, names: Collection[str]) -> Collection[str]:
        """Those of *names* (export names, as ``write_export`` takes them) that are not free now."""
        ...


@runtime_checkable
class NamedHandles(Protocol):
    """Optional: a store that can tell a handle's own file name without reading anything.

    The engine plans assets in job order as they are described, so it cannot know a later asset's
    file name when it names an earlier one. A store that is one (``isinstance``, hence
    ``runtime_checkable``) lets it keep, before planning, each asset's own file name for it: a
    converted ``hopper.gif`` then becomes ``hopper-2.jpg`` and a later ``hopper.jpg`` keeps its
    name. ``file_name_of`` must do no I/O (it is called for every handle of a job, up front) and
    must agree with ``describe``'s ``file_name``; None means "not known without describing".
    """

    def file_name_of(self, handle: AssetHandle) -> str | None:
        """The file name ``describe(handle)`` would give, if known without I/O; else None."""
        ...


@runtime_checkable
class FileBacked(Protocol):
    """Chunks that are a whole open file: a store may copy them with the kernel's fast paths.

    ``CopyConverter`` returns such chunks for an original a store opened as a real file, so
    ``DirectoryStore`` copies it with ``copy_file_range``/``sendfile`` instead of through Python.
    """

    def __iter__(self) -> Iterator[bytes]: ...

    def fileno(self) -> int:
        """The descriptor of the file, positioned where the copy starts."""
        ...


def file_backed(chunks: object) -> FileBacked | None:
    """*chunks* as ``FileBacked`` if they are, else None.

    Checked by hand, not with ``isinstance``: a runtime ``Protocol`` check costs more than
    copying a small file.
    """
    if callable(getattr(chunks, "fileno", None)) and hasattr(chunks, "__iter__"):
        return cast("FileBacked", chunks)
    return None


@attrs.frozen
class ConversionOutput:
    """What a converter made: the bytes (streamed as chunks) and the format they are in.

    ``format`` is ``None`` for a verbatim copy of the original. ``metadata`` names what of the
    original's metadata a conversion copied (``"xmp"``, ``"exif:Copyright"``, ...), for the job log.
    """

    chunks: Iterable[bytes] = attrs.field(repr=False)
    format: OutputFormat | None
    media_type: str = "application/octet-stream"
    width: int | None = None
    height: int | None = None
    metadata: tuple[str, ...] = ()

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
