"""``ZipStore``: exports delivered as one ZIP archive (or size-bounded volumes), reproducibly."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs

from .._assets import Asset, AssetHandle
from .._log import JobLog
from .._names import check_name, check_path
from .._plugins import check_plugin
from .._records import AssetStatus
from ..delivery import MANIFEST_CSV, MANIFEST_JSON, build_manifest, file_digest
from ..exceptions import StoreWriteError
from ..protocols import AssetStore, BatchDescriber, OnConflict, WrittenExport
from ._archive import ArchiveEntry, ArchiveWriter
from ._delivered import Delivered, publish_archive, read_delivered
from ._deliveries import archive_files
from ._directory import DirectoryStore
from ._exports import publish_beneath, sweep_temporaries
from ._follower import Follower
from ._fsspec import FsspecStore
from ._handles import describe_each, handle_folder
from ._spool import PARTS_FOLDER, Spool

if TYPE_CHECKING:
    from .._job import ExportJob
    from .._run import ProgressCallback
    from ._fsspec_io import Uploader

__all__ = ["ZipStore"]

#: Every entry's timestamp: the earliest a ZIP can hold, so two runs give the same bytes.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_ENTRY_OVERHEAD = 30 + 46 + 2 * 28  # local header, central entry, ZIP64 extras (without the name)
_READS = ("describe", "open_original")  # what of an AssetStore the originals' store must do


class ZipStore:
    """Deliver the exports of a job as one ZIP (ZIP64: no 4 GB or 65,535-entry limit).

    Originals come from *originals* (any ``AssetStore``); ``write_export`` spools each export into
    a local folder (*spool*, by default ``ARCHIVE.parts/`` beside a local archive; written
    atomically as ``DirectoryStore`` writes), so memory does not grow with the archive and the
    conflict policy holds inside it: no two entries ever share a name. The archive is written in
    the spool too, under a temporary name and without a central directory until the end, so an
    interrupted job never leaves a complete-looking archive. Its entries are in job order (the
    order of ``log.outcomes``, whatever order workers finished in), stored as they are (images
    are compressed already), every timestamp ``1980-01-01 00:00``, the export manifest
    (``exportjob-manifest.json`` and ``.csv``) last, so the same job gives the same bytes.

    With ``progress=store.stream(job)`` the archive grows while the job runs: each export is
    appended as soon as every asset before it has finished. ``finish(log)`` appends the rest,
    writes the manifest and the central directory, and publishes the archive in one step: a
    rename for a local *archive*, one PUT or multipart upload for a URL (``s3://bucket/job.zip``,
    with the fsspec extra; *storage_options* go to the file system). Running the job again with
    the same journal (the CLI keeps it in the spool) after a kill continues the archive.

    With *volume_size* (an int number of bytes) the archive is split into complete ZIPs
    ``NAME-001.zip``, ``NAME-002.zip``, ... each at most that size (an entry larger than it gets a
    volume of its own), each with the manifest of its own entries (failed and refused assets are
    listed in the first).

    >>> import tempfile, zipfile
    >>> from exportjob import ExportEngine, ExportJob, JobContext
    >>> from exportjob.converters import CopyConverter
    >>> from exportjob.stores import MemoryStore
    >>> originals = MemoryStore()
    >>> originals.add("h1", b"%PDF-1.4 ...", file_name="brochure.pdf")
    >>> folder = tempfile.mkdtemp()
    >>> store = ZipStore(originals, f"{folder}/delivery.zip")
    >>> job = ExportJob(asset_handles=["h1"], fmt="orig")
    >>> with ExportEngine(store, CopyConverter()) as engine:
    ...     log = engine.run(job, JobContext(company="default"), progress=store.stream(job))
    >>> [w.name for w in store.finish(log)]
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
        spool: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        check_plugin("originals", originals, AssetStore, methods=_READS)
        if volume_size is not None and (
            isinstance(volume_size, bool) or not isinstance(volume_size, int)
        ):
            msg = (
                f"volume_size must be a whole number of bytes (an int), got {volume_size!r} "
                f"(a {type(volume_size).__name__}): 100 << 20 is 100 MiB, and "
                "exportjob.cli.byte_size('1M') reads a size as --zip-volume-size does"
            )
            raise TypeError(msg)
        if volume_size is not None and volume_size < 1:
            msg = f"volume_size must be positive, got {volume_size}"
            raise ValueError(msg)
        self.originals = originals
        self.volume_size = volume_size
        text = os.fspath(archive)
        self._uploader: Uploader | None = None
        if "://" in text:
            from ._fsspec_io import Uploader, filesystem  # noqa: PLC0415 - the optional extra

            fs, path = filesystem(text, storage_options)
            folder, _, self._name = path.rpartition("/")
            self._uploader = Uploader(fs, folder, text.rpartition("/")[0], 5 << 20)
            self.archive = text
            if spool is None:
                digest = hashlib.sha256(text.encode()).hexdigest()[:16]
                spool = Path.cwd() / ".exportjob" / f"{self._name}-{digest}.parts"
        else:
            local = Path(text).absolute()
            self._name, self.archive = local.name, str(local)
            spool = local.with_name(local.name + ".parts") if spool is None else spool
        check_name(self._name)
        self._folder = self.archive.rpartition("/")[0]
        self.spool = Path(spool).absolute()
        # One writer per spool: two processes appending to one archive would corrupt it.
        self._spool = Spool(self.spool, what=f"the archive {self.archive}")
        self._swept = False
        try:
            self._writers = self._load()
            self._delivered = read_delivered(self.spool)  # an earlier run's delivery, if any
        except BaseException:
            self._spool.lock.release()
            raise
        self._held: list[ArchiveEntry] = [e for w in self._writers for e in w.entries]
        self._entry_names = {e.name for e in self._held}  # appended: no longer in the spool
        self._position = 0

    def __repr__(self) -> str:
        return f"ZipStore({self.originals!r}, {self.archive!r})"

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

    def handles(self) -> tuple[AssetHandle, ...]:
        """The originals' handles (a ``DirectoryStore``'s, an ``FsspecStore``'s), sorted.

        An archive written inside the folder of originals is no asset of its own job: the archive,
        its volumes and its spool are left out, so the same command run again finds the same assets.
        """
        listed = getattr(self.originals, "handles", None)
        if listed is None:
            msg = f"the originals' store {self.originals!r} cannot list its assets"
            raise TypeError(msg)
        found: tuple[AssetHandle, ...] = listed()
        own = self._own_files()
        return found if own is None else tuple(h for h in found if not own(h.value))

    def _own_files(self) -> Callable[[str], bool] | None:
        """Whether a handle of the originals is one of this archive's files (None: none can be)."""
        root = _local_root(self.originals)
        if root is None:
            return None
        root = root.resolve()
        spool = handle_folder(self.spool, root)
        folder = None if self._uploader is not None else handle_folder(Path(self._folder), root)
        if spool is None and folder is None:
            return None
        return archive_files(
            root,
            self._name,
            self._volume_parts(),
            spool=spool,
            folder=folder,
            volumes=self.volume_size is not None,
        )

    def write_export(
        self,
        name: str,
        chunks: Iterable[bytes],
        *,
        on_conflict: OnConflict | str = OnConflict.ERROR,
    ) -> WrittenExport:
        """Spool the entry *name* (atomically, as *on_conflict* says); ``finish`` archives it.

        *name* may be a relative path of safe names (``a/x.jpg``, with ``--keep-folders``). The
        manifest's names are refused (``StoreWriteError``): an engine made with
        ``reserved_names=MANIFEST_NAMES`` numbers an asset so named instead, as the CLI does.
        """
        policy = OnConflict.of(on_conflict)
        check_path(name)
        self._spool.check()
        if name in {MANIFEST_JSON, MANIFEST_CSV}:
            raise StoreWriteError(f"cannot write {name}: the name of the archive's manifest")
        parts = name.split("/")[:-1]
        for folder in ("/".join(parts[: i + 1]) for i in range(len(parts))):
            if folder in self._entry_names:
                raise StoreWriteError(f"cannot write {name}: {folder} is an entry, not a folder")
        if not self._swept:
            self._swept = True
            sweep_temporaries(self.spool, recursive=True)
        written = publish_beneath(self.spool, name, chunks, policy)
        return WrittenExport(
            written.name, f"zip://{written.name}::{self.archive}", written.size, written.identical
        )

    def read_export(self, name: str) -> bytes:
        """Return the entry *name* (before ``finish``); ``KeyError`` if there is none."""
        check_path(name)
        with contextlib.suppress(FileNotFoundError):
            return (self.spool / name).read_bytes()
        for writer in self._writers:
            for entry in writer.entries:
                if entry.name == name:
                    with writer.path.open("rb") as stream:
                        stream.seek(entry.end - entry.size)
                        return stream.read(entry.size)
        raise KeyError(name)

    def stream(self, job: ExportJob) -> ProgressCallback:
        """Return a progress callback that grows the archive while *job* runs.

        Pass it to ``ExportEngine.run(..., progress=store.stream(job))``: whenever the next assets
        in job order have finished, their entries are appended to the archive being written (under
        its temporary name) and their spooled files removed, so the spool holds only exports that
        finished before an earlier asset. ``finish`` still writes the rest and publishes the archive.
        A failure to append is logged by the engine; the archive stops growing and ``finish`` tries
        again (and raises ``StoreWriteError`` if it fails again).
        """
        return Follower(self._take, job.unique_handles)

    def finish(
        self,
        log: JobLog,
        *,
        on_conflict: OnConflict | str = OnConflict.ERROR,
        job_key: str | None = None,
    ) -> tuple[WrittenExport, ...]:
        """Write the rest of the archive (or its volumes) of the job of *log* and publish it.

        Only exported assets become entries; the manifest lists every asset. Each finished archive
        is published in one step as *on_conflict* says: a name already taken by other bytes is
        never silently replaced (``error`` and ``skip`` raise ``OutputExistsError``, ``rename``
        publishes ``NAME-2.zip``, ``replace`` replaces it); taken by the same bytes, it is kept.
        On an object store that is one conditional PUT or multipart upload (``If-None-Match: *``
        on S3). The spool folder is removed afterwards (with any journal in it). With *job_key*
        (``ExportEngine.journal_key``; the CLI passes its journal's), a delivery with assets that
        failed or did not run leaves a record in the spool instead, and the same job's next
        ``finish`` replaces that delivery, even under ``error``, where the name still holds exactly
        its bytes (``_delivered``).

        Raises:
            StoreWriteError: the archive could not be written or published (nothing partial is
                left under its name).
        """
        policy = OnConflict.of(on_conflict)
        self._spool.check()
        written: list[WrittenExport] = []
        delivered: list[tuple[str, int, str]] = []
        try:
            self._advance(
                o.output_name
                for o in log.outcomes
                if o.status is AssetStatus.EXPORTED and o.output_name is not None
            )
            if self._position < len(self._held):
                raise StoreWriteError(
                    f"the unfinished archive {self.archive} holds "
                    f"{self._held[self._position].name} and more that this job did not export "
                    "(written by another job, or by an earlier run of this one for an asset "
                    "that has failed since): finish that job, or discard the archive (--restart)"
                )
            if not self._writers:
                self._writers.append(ArchiveWriter(self._part(1)))
            targets = self._targets(len(self._writers))
            for index, (writer, target) in enumerate(zip(self._writers, targets, strict=True)):
                entries = {e.name: e.sha256 for e in writer.entries}
                manifest = build_manifest(
                    _only(log, set(entries), first=index == 0), digests=entries
                )
                size = writer.close(manifest.contents().items())
                published, sha256 = self._publish(writer.path, target, size, policy, job_key)
                written.append(published)
                delivered.append((published.name, size, sha256))
        except OSError as exc:
            if isinstance(exc, StoreWriteError):
                raise
            raise StoreWriteError(f"cannot write the archive {self.archive}: {exc}") from exc
        retried = {AssetStatus.FAILED, AssetStatus.NOT_RUN}
        if job_key is not None and any(o.status in retried for o in log.outcomes):
            self._spool.empty()  # what was spooled is delivered: only the record stays
            self._delivered = Delivered.of_archives(job_key, delivered)
            self._delivered.save(self.spool)
            self._spool.close()
        else:
            self._spool.remove()
        self._writers = []
        return tuple(written)

    def discard(self) -> None:
        """Forget the unfinished archive: remove its spool (parts, spooled exports, journals).

        The next job starts the archive afresh (the CLI's ``--restart``).
        """
        self._spool.empty()
        self._writers, self._held, self._entry_names = [], [], set()
        self._delivered = None
        self._position = 0

    def close(self) -> None:
        """Let go of the spool: unlock it, and remove it if nothing was spooled in it.

        ``finish`` does this itself; a job that stopped before it keeps its spool, to go on.
        """
        self._spool.close()

    # -- the archive as it grows

    def _part(self, number: int) -> Path:
        return self.spool / PARTS_FOLDER / f"part-{number:03d}.zip"

    def _load(self) -> list[ArchiveWriter]:
        writers = []
        number = 1
        while self._part(number).exists():
            writers.append(ArchiveWriter(self._part(number)))
            number += 1
        return writers

    def _advance(self, names: Iterable[str]) -> None:
        """Make the archive hold *names*, the exported entries of the job in order, so far."""
        self._position = 0
        for name in names:
            self._take(name)

    def _take(self, name: str) -> None:
        """Make *name* the archive's next entry (``_position``): checked if held, else appended.

        An entry the archive holds already (written before a kill) is checked against its
        export spooled again, if there is one; anything else is appended from the spool.
        """
        self._spool.check()
        if self._position < len(self._held):
            self._check(self._held[self._position], name)
            self._position += 1
            return
        source = self.spool / name
        try:
            size = source.stat().st_size
        except FileNotFoundError:
            raise StoreWriteError(
                f"cannot write the archive {self.archive}: the export {name} is neither in "
                "the archive nor in its spool (run the job again with --restart)"
            ) from None
        writer = self._writer_for(size + _ENTRY_OVERHEAD + 2 * len(name.encode()))
        with source.open("rb") as stream:
            self._held.append(writer.append(name, stream))
        self._entry_names.add(name)
        self._position += 1
        source.unlink()

    def _check(self, entry: ArchiveEntry, name: str) -> None:
        if entry.name != name:
            raise StoreWriteError(
                f"the unfinished archive {self.archive} holds {entry.name} where this job has "
                f"{name}: it was written by another job (run it again with --restart)"
            )
        source = self.spool / name
        if not source.exists():
            return
        with source.open("rb") as stream:
            _, sha256 = file_digest(stream)
        if sha256 != entry.sha256:
            raise StoreWriteError(
                f"the unfinished archive {self.archive} holds another version of {name} than "
                "the one exported again (run the job again with --restart)"
            )
        source.unlink()

    def _writer_for(self, size: int) -> ArchiveWriter:
        if not self._writers:
            self._writers.append(ArchiveWriter(self._part(1)))
        current = self._writers[-1]
        if self.volume_size is not None and current.entries:
            used = sum(e.size + _ENTRY_OVERHEAD + 2 * len(e.name.encode()) for e in current.entries)
            if used + size > self.volume_size:
                current = ArchiveWriter(self._part(len(self._writers) + 1))
                self._writers.append(current)
        return current

    # -- publishing

    def _targets(self, count: int) -> list[str]:
        if self.volume_size is None:
            return [self._name]
        stem, suffix = self._volume_parts()
        return [f"{stem}-{i:03d}{suffix}" for i in range(1, count + 1)]

    def _volume_parts(self) -> tuple[str, str]:
        """The stem and suffix of the volumes' names (``NAME-001.zip``)."""
        stem, dot, suffix = self._name.rpartition(".")
        return (stem, f".{suffix}") if dot else (self._name, ".zip")

    def _publish(
        self, part: Path, name: str, size: int, policy: OnConflict, job_key: str | None
    ) -> tuple[WrittenExport, str]:
        """Publish *part* as *name*: it and its SHA-256 (``publish_archive``)."""
        earlier = None if self._delivered is None else self._delivered.of(job_key, name)
        return publish_archive(
            part, self._folder, name, size, policy, uploader=self._uploader, earlier=earlier
        )


def _only(log: JobLog, entries: set[str], *, first: bool) -> JobLog:
    """*log* with the outcomes of one volume: its entries, and (in the first) the unexported."""
    kept = tuple(
        o
        for o in log.outcomes
        if (o.output_name in entries and o.status is AssetStatus.EXPORTED)
        or (first and o.status is not AssetStatus.EXPORTED)
    )
    return attrs.evolve(log, outcomes=kept)


def _local_root(originals: AssetStore) -> Path | None:
    """The local folder *originals* lists its handles in (None: not a local folder)."""
    if isinstance(originals, DirectoryStore):
        return originals.source_dir
    if isinstance(originals, FsspecStore):
        return originals._local_root  # noqa: SLF001 - a store of this package
    return None
