"""``ZipStore``: exports delivered as one ZIP archive (or size-bounded volumes), reproducibly."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import attrs

from .._assets import Asset, AssetHandle
from .._log import JobLog
from .._names import check_name
from .._records import AssetStatus
from ..delivery import MANIFEST_CSV, MANIFEST_JSON, build_manifest
from ..exceptions import StoreWriteError
from ..protocols import AssetStore, BatchDescriber, OnConflict, WrittenExport
from ._exports import TEMP_PREFIX, publish, sweep_temporaries
from ._handles import describe_each

__all__ = ["ZipStore"]

#: Every entry's timestamp: the earliest a ZIP can hold, so two runs give the same bytes.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_BLOCK = 1 << 20
_ENTRY_OVERHEAD = 30 + 46 + 2 * 28  # local header, central entry, ZIP64 extras (without the name)


class ZipStore:
    """Deliver the exports of a job as one ZIP (ZIP64: no 4 GB or 65,535-entry limit).

    Originals come from *originals* (any ``AssetStore``); ``write_export`` spools each export into
    a folder beside the archive (``ARCHIVE.parts/``, written atomically as ``DirectoryStore``
    writes), so memory does not grow with the archive and the conflict policy holds inside it: no
    two entries ever share a name. ``finish(log)`` then writes the archive: the entries in job order
    (the order of ``log.outcomes``, whatever order workers finished in), stored as they are (images
    are compressed already), every timestamp ``1980-01-01 00:00``, and the export manifest
    (``exportjob-manifest.json`` and ``.csv``) last, so the same job gives the same bytes. The
    archive is written under a temporary name and renamed at the end: an interrupted job never
    leaves a complete-looking archive, and running it again (with the same journal, kept in the
    spool folder by the CLI) finishes it.

    With *volume_size* (bytes) the archive is split into complete ZIPs ``NAME-001.zip``,
    ``NAME-002.zip``, ... each at most that size (an entry larger than it gets a volume of its
    own), each with the manifest of its own entries (failed and refused assets are listed in the
    first).

    >>> import tempfile, zipfile
    >>> from exportjob import ExportEngine, ExportJob, JobContext
    >>> from exportjob.converters import CopyConverter
    >>> from exportjob.stores import MemoryStore
    >>> originals = MemoryStore()
    >>> originals.add("h1", b"%PDF-1.4 ...", file_name="brochure.pdf")
    >>> folder = tempfile.mkdtemp()
    >>> store = ZipStore(originals, f"{folder}/delivery.zip")
    >>> with ExportEngine(store, CopyConverter()) as engine:
    ...     log = engine.run(ExportJob(asset_handles=["h1"], fmt="orig"), JobContext(company="default"))
    >>> [p.name for p in store.finish(log)]
    ['delivery.zip']
    >>> zipfile.ZipFile(f"{folder}/delivery.zip").namelist()
    ['brochure.pdf', 'exportjob-manifest.json', 'exportjob-manifest.csv']
    """

    def __init__(
        self,
        originals: AssetStore,
        archive: str | os.PathLike[str],
        *,
        volume_size: int | None = None,
    ) -> None:
        if volume_size is not None and volume_size < 1:
            msg = f"volume_size must be positive, got {volume_size}"
            raise ValueError(msg)
        self.originals = originals
        self.archive = Path(archive).absolute()
        self.volume_size = volume_size
        self.spool = self.archive.with_name(self.archive.name + ".parts")
        self._swept = False

    def __repr__(self) -> str:
        return f"ZipStore({self.originals!r}, {str(self.archive)!r})"

    def describe(self, handle: AssetHandle) -> Asset:
        """Describe *handle* with the originals' store."""
        return self.originals.describe(handle)

    def describe_many(
        self, handles: Sequence[AssetHandle]
    ) -> Mapping[AssetHandle, Asset | Exception]:
        """Describe *handles* with the originals' store (in one batch if it can)."""
        if isinstance(self.originals, BatchDescriber):
            return self.originals.describe_many(handles)
        return describe_each(self.originals.describe, handles)

    def open_original(self, handle: AssetHandle) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open the original of *handle* with the originals' store."""
        return self.originals.open_original(handle)

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        """Spool the entry *name* (atomically, as *on_conflict* says); ``finish`` archives it."""
        check_name(name)
        if name in {MANIFEST_JSON, MANIFEST_CSV}:
            raise StoreWriteError(f"cannot write {name}: the name of the archive's manifest")
        if not self._swept:
            self._swept = True
            sweep_temporaries(self.spool)
        written = publish(self.spool, name, chunks, on_conflict)
        return WrittenExport(
            written.name, f"zip://{written.name}::{self.archive}", written.size, written.identical
        )

    def read_export(self, name: str) -> bytes:
        """Return the spooled entry *name* (before ``finish``); ``KeyError`` if there is none."""
        check_name(name)
        try:
            return (self.spool / name).read_bytes()
        except FileNotFoundError:
            raise KeyError(name) from None

    def finish(self, log: JobLog) -> tuple[Path, ...]:
        """Write the archive (or its volumes) of the job of *log*; return the files written.

        Only exported assets become entries; the manifest lists every asset. The spool folder is
        removed afterwards (with any journal in it).

        Raises:
            StoreWriteError: the archive could not be written (no archive is left under its name).
        """
        names = [
            o.output_name
            for o in log.outcomes
            if o.status is AssetStatus.EXPORTED and o.output_name is not None
        ]
        digests: dict[str, str] = {}
        volumes = self._volumes(names)
        targets = self._targets(len(volumes))
        written: list[Path] = []
        try:
            for index, (entries, target) in enumerate(zip(volumes, targets, strict=True)):
                self._write_volume(target, entries, log, digests, first=index == 0)
                written.append(target)
        except OSError as exc:
            raise StoreWriteError(f"cannot write the archive {self.archive}: {exc}") from exc
        shutil.rmtree(self.spool, ignore_errors=True)
        return tuple(written)

    def _targets(self, count: int) -> list[Path]:
        if self.volume_size is None:
            return [self.archive]
        stem, suffix = self.archive.stem, self.archive.suffix or ".zip"
        return [self.archive.with_name(f"{stem}-{i:03d}{suffix}") for i in range(1, count + 1)]

    def _volumes(self, names: list[str]) -> list[list[str]]:
        if self.volume_size is None:
            return [names]
        volumes: list[list[str]] = [[]]
        used = 0
        for name in names:
            size = (self.spool / name).stat().st_size + _ENTRY_OVERHEAD + 2 * len(name.encode())
            if volumes[-1] and used + size > self.volume_size:
                volumes.append([])
                used = 0
            volumes[-1].append(name)
            used += size
        return volumes

    def _write_volume(
        self, target: Path, entries: list[str], log: JobLog, digests: dict[str, str], *, first: bool
    ) -> None:
        temp = target.with_name(f"{TEMP_PREFIX}{target.name}.{os.getpid()}.part")
        try:
            with zipfile.ZipFile(temp, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name in entries:
                    with (self.spool / name).open("rb") as source:
                        digest = hashlib.sha256()
                        with archive.open(_info(name), "w", force_zip64=True) as entry:
                            while block := source.read(_BLOCK):
                                entry.write(block)
                                digest.update(block)
                        digests[name] = digest.hexdigest()
                listed = set(entries)
                manifest = build_manifest(
                    _only(log, listed, first=first),
                    lambda n: (self.spool / n).open("rb"),
                    digests=digests,
                )
                for name, data in manifest.contents().items():
                    archive.writestr(_info(name), data)
            temp.replace(target)
        finally:
            with contextlib.suppress(OSError):
                temp.unlink()


def _only(log: JobLog, entries: set[str], *, first: bool) -> JobLog:
    """*log* with the outcomes of one volume: its entries, and (in the first) the unexported."""
    kept = tuple(
        o
        for o in log.outcomes
        if (o.output_name in entries and o.status is AssetStatus.EXPORTED)
        or (first and o.status is not AssetStatus.EXPORTED)
    )
    return attrs.evolve(log, outcomes=kept)


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3  # Unix, whatever the platform, for the same bytes everywhere
    info.external_attr = 0o100644 << 16
    return info
