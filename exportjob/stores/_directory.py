"""``DirectoryStore``: originals in a source folder, exports written atomically to another."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, cast

from .._assets import Asset, AssetHandle, asset_of
from .._enums import AssetType
from .._names import check_path, is_temporary
from ..exceptions import AssetNotFoundError, StoreReadError, StoreWriteError
from ..protocols import OnConflict, WrittenExport
from ._beneath import (
    MISSING_ERRNOS,
    HeldRoot,
    existing_beneath,
    find_beneath,
    occupied_beneath,
)
from ._exports import publish_beneath, sweep_temporaries, sync_folder
from ._extensions import type_from_name
from ._handles import LeftOut, handle_parts
from ._manifest import MANIFEST_NAME, ManifestEntry, manifest_digest, read_manifest
from ._original import OpenOriginal
from ._sniff import stem

__all__ = ["DirectoryStore"]

_NO_ENTRY = ManifestEntry()  # what a handle the manifest does not list has of it


class DirectoryStore:
    """Originals in a folder, exports into another, written atomically.

    An asset's handle is its path relative to *source_dir*, with ``/`` separators
    (``photos/leaf.jpg``), spelled one way only (no ``./``, ``//`` or trailing ``/``); handles that
    would leave the folder (``..``, absolute paths, symlinks pointing outside) are not found, and
    the check is the open itself (each component opened without following links, so a symlink
    swapped in meanwhile cannot lead outside). ``describe`` reads no byte of any original (the
    engine authorizes an asset only after describing it): the asset type comes from the manifest,
    else from the file name's extension. A manifest (``exportjob.json`` in *source_dir*, or the path or mapping given
    as *manifest*) can set ``type``, ``company``, ``name`` and ``file_name`` for any handle, and
    declare set assets, which need no file::

        {"assets": {"sets/shoe-spin": {"type": "SpinSet"},
                    "partner/logo.png": {"company": "partner-co"}}}

    Every other asset belongs to *default_company*. Exports go to *output_dir* (created when first
    written, and again if it was removed; it must not be *source_dir* itself, or exports would
    replace originals, and a subfolder of *source_dir* is not read as originals): into a temporary
    file there, then published under its name (a hard link, so a name taken by another file is
    never replaced unless the conflict policy says so), so a reader never sees part of a file; the
    temporary file is removed on any failure. On Linux it has no name at all (``O_TMPFILE``), so
    even a killed process leaves nothing behind. Files are made durable together, by ``sync`` (one
    ``syncfs``).

    The store holds its source folder open from its first lookup on (one descriptor, not an open
    and a close per lookup): a source folder renamed meanwhile is still read, and a folder put in
    its place is not (make a new store to read that one); a source folder removed fails every
    lookup with ``StoreReadError``.

    A ``DirectoryStore`` is picklable: process pools and Dask workers that see the same folders can
    share it (each copy opens the folder itself).
    """

    def __init__(
        self,
        source_dir: str | os.PathLike[str],
        output_dir: str | os.PathLike[str],
        manifest: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        default_company: str = "default",
    ) -> None:
        self.source_dir = Path(source_dir).absolute()
        self.output_dir = Path(output_dir).absolute()
        self.default_company = default_company
        self._swept = False
        if not self.source_dir.is_dir():
            what = "is not a folder" if self.source_dir.exists() else "does not exist"
            raise StoreReadError(f"the source folder {self.source_dir} {what}")
        self._root = self.source_dir.resolve()
        self._held = HeldRoot(self._root)
        if self.output_dir.exists() and not self.output_dir.is_dir():
            raise StoreWriteError(
                f"the output folder {self.output_dir} is a file, not a folder: name a folder "
                "(it is made if it does not exist)"
            )
        if self.output_dir.resolve() == self._root:
            raise StoreWriteError(
                f"the output folder {self.output_dir} is the source folder: "
                "exports would replace the originals"
            )
        if manifest is None:
            default = self.source_dir / MANIFEST_NAME
            self._manifest_path: Path | None = default if default.is_file() else None
            self._entries = read_manifest(default) if self._manifest_path else {}
        elif isinstance(manifest, Mapping):
            self._manifest_path = None
            self._entries = read_manifest(manifest)
        else:
            self._manifest_path = Path(manifest).absolute()
            self._entries = read_manifest(self._manifest_path)

    @property
    def manifest_digest(self) -> str:
        """A digest of what the manifest says (empty: none): the CLI keys its journals with it."""
        return manifest_digest(self._entries)

    def __repr__(self) -> str:
        return f"DirectoryStore({str(self.source_dir)!r}, {str(self.output_dir)!r})"

    # -- originals

    def _find(
        self, handle: AssetHandle, *, open_file: bool
    ) -> tuple[os.stat_result, int | None] | None:
        """Return the stat (and an open fd) of *handle*'s file inside the source folder, or None."""
        parts = handle_parts(handle.value)
        if parts is None:
            return None
        return self._held.find(parts, open_file=open_file)

    def describe(self, handle: AssetHandle) -> Asset:
        """Describe *handle* from the manifest, its file name and its size; no byte of it is read."""
        handle = AssetHandle.of(handle)
        entry = self._entries.get(handle.value)
        try:
            found = self._find(handle, open_file=False)
        except OSError as exc:
            if entry is None:
                raise StoreReadError(
                    f"cannot read {handle}: {exc.strerror or exc}", handle=handle.value
                ) from exc
            found = None  # the manifest says what it is; opening it will say the rest
        if found is None and entry is None:
            raise AssetNotFoundError(f"no asset {handle} in {self.source_dir}", handle=handle.value)
        entry = entry or _NO_ENTRY
        value = handle.value
        file_name = entry.file_name or (value if "/" not in value else PurePosixPath(value).name)
        return asset_of(
            handle,
            entry.type or (type_from_name(file_name) if found else AssetType.ASSET),
            name=entry.name or stem(file_name),
            file_name=file_name,
            company=entry.company or self.default_company,
            size=None if found is None else found[0].st_size,
        )

    def file_name_of(self, handle: AssetHandle) -> str | None:
        """The file name ``describe`` gives *handle*, from the manifest or the handle (no I/O).

        ``NamedHandles``: the handle is the path, so its last part is the file name unless the
        manifest renames it; None for a handle that cannot name a file here.
        """
        value = AssetHandle.of(handle).value
        entry = self._entries.get(value)
        if entry is not None and entry.file_name:
            return entry.file_name
        parts = handle_parts(value)
        return None if parts is None else parts[-1]

    def open_original(self, handle: AssetHandle) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open the original file of *handle* for reading, in binary."""
        handle = AssetHandle.of(handle)
        try:
            found = self._find(handle, open_file=True)
        except OSError as exc:
            raise StoreReadError(
                f"cannot open {handle}: {exc.strerror or exc}", handle=handle.value
            ) from exc
        if found is None or found[1] is None:
            raise AssetNotFoundError(f"asset {handle} has no original file", handle=handle.value)
        return cast("BinaryIO", OpenOriginal(found[1]))

    def handles(self) -> tuple[AssetHandle, ...]:
        """Every asset of the folder, sorted: its files and the manifest's handles.

        Hidden files and folders (``.name``), the manifest, temporary export files and anything
        inside the output folder are left out; so are files no handle can name (a control
        character or a backslash in a name) and folders that cannot be listed (a path past
        ``PATH_MAX``, no permission): one warning on the ``exportjob.stores`` logger says how many.
        """
        found: set[str] = set(self._entries)
        output = self.output_dir.resolve()
        left_out = LeftOut(self.source_dir)
        walk = os.walk(self.source_dir, onerror=lambda e: left_out.unlisted(e, self.source_dir))
        for dirpath, dirnames, filenames in walk:
            here = Path(dirpath)
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and (here / d).resolve() != output
            )
            for filename in filenames:
                path = here / filename
                if filename.startswith(".") or path == self._manifest_path:
                    continue
                handle = path.relative_to(self.source_dir).as_posix()
                asset_handle = left_out.handle(handle)
                if asset_handle is None:
                    continue
                try:
                    if self._find(asset_handle, open_file=False) is not None:
                        found.add(handle)
                except OSError as exc:
                    left_out.add(handle, f"it cannot be looked at ({exc.strerror or exc})")
        left_out.tell()
        return tuple(AssetHandle(h) for h in sorted(found))

    # -- exports

    def write_export(
        self,
        name: str,
        chunks: Iterable[bytes],
        *,
        on_conflict: OnConflict | str = OnConflict.ERROR,
    ) -> WrittenExport:
        """Write *chunks* to *name* in the output folder atomically, as *on_conflict* says.

        *name* may be a relative path (``a/x.jpg``, as ``ExportEngine(keep_folders=True)``
        names exports): its folders are made inside the output folder, never through a symlink
        (a write that would go through one fails with ``StoreWriteError``), and the conflict
        policy applies within the folder. The first write of a store removes the temporary files
        that killed runs left in the output folder and its subfolders (only the library's own, of
        processes that are gone).
        """
        policy = OnConflict.of(on_conflict)
        check_path(name)
        self._sweep()
        return publish_beneath(self.output_dir, name, chunks, policy)

    def _sweep(self) -> None:
        if not self._swept:
            self._swept = True
            sweep_temporaries(self.output_dir, recursive=True)

    def __getstate__(self) -> dict[str, Any]:
        # A copy sent to a worker process (one per work unit) must not list the whole export
        # folder again for every asset: the sweep is done here, once, before the first copy.
        self._sweep()
        return dict(self.__dict__)

    def sync(self) -> None:
        """Make every export written so far durable: one ``syncfs`` of the output folder's disk."""
        if self.output_dir.is_dir():
            sync_folder(self.output_dir)

    def open_export(self, name: str) -> BinaryIO:
        """Open the export *name* for reading; ``KeyError`` if there is none.

        A regular file beneath the output folder, reached through no link (the folder itself may
        be reached through one).
        """
        check_path(name)
        try:
            found = find_beneath(self.output_dir.resolve(), name.split("/"), open_file=True)
        except OSError as exc:
            if exc.errno in MISSING_ERRNOS:
                raise KeyError(name) from None
            raise
        if found is None or found[1] is None:
            raise KeyError(name)
        return os.fdopen(found[1], "rb")

    def read_export(self, name: str) -> bytes:
        """Return the bytes of the export *name* (a path beneath the output folder); ``KeyError`` if none."""
        with self.open_export(name) as f:
            return f.read()

    def existing_exports(self, names: Collection[str]) -> set[str]:
        """Those of *names* that are files beneath the output folder now (``ExportInventory``).

        One ``stat`` each, never through a symlink; a name that cannot be looked at (permission
        denied on its folder) counts as there: only a name known to be gone is left out.
        """
        return existing_beneath(self.output_dir, names)

    def occupied_names(self, names: Collection[str]) -> set[str]:
        """Those of *names* that cannot be written as new files now (``OccupiedNames``).

        Anything under the name counts (a folder, a link, a dangling one), and what cannot be
        looked at: ``rename`` plans around them.
        """
        return occupied_beneath(self.output_dir, names)

    def exported(self) -> Iterator[Path]:
        """Yield the export files: in the output folder and its subfolders, sorted by relative path.

        Hidden folders (the journals' ``.exportjob``), symlinks and temporary files are left out.
        """
        if not self.output_dir.is_dir():
            return
        found: list[tuple[str, Path]] = []
        for dirpath, dirnames, filenames in os.walk(self.output_dir):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))  # the journals
            for filename in filenames:
                path = here / filename
                if path.is_file() and not path.is_symlink() and not is_temporary(filename):
                    found.append((path.relative_to(self.output_dir).as_posix(), path))
        for _, path in sorted(found):
            yield path
