"""``DirectoryStore``: originals in a source folder, exports written atomically to another."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from .._assets import Asset, AssetHandle
from .._enums import AssetType
from .._names import check_name
from ..exceptions import AssetNotFoundError, StoreReadError, StoreWriteError
from ..protocols import OnConflict, WrittenExport
from ._exports import is_temporary, publish, sweep_temporaries, sync_folder
from ._manifest import MANIFEST_NAME, ManifestEntry, read_manifest
from ._sniff import SNIFF_BYTES, sniff_type, stem

__all__ = ["DirectoryStore"]


class DirectoryStore:
    """Originals in a folder, exports into another, written atomically.

    An asset's handle is its path relative to *source_dir*, with ``/`` separators
    (``photos/leaf.jpg``), spelled one way only (no ``./``, ``//`` or trailing ``/``); handles that
    would leave the folder (``..``, absolute paths, symlinks pointing outside) are not found. The asset type is inferred from the file's first bytes
    (``sniff_type``). A manifest (``exportjob.json`` in *source_dir*, or the path or mapping given
    as *manifest*) can set ``type``, ``company``, ``name`` and ``file_name`` for any handle, and
    declare set assets, which need no file::

        {"assets": {"sets/shoe-spin": {"type": "SpinSet"},
                    "partner/logo.png": {"company": "partner-co"}}}

    Every other asset belongs to *default_company*. Exports go to *output_dir* (created when first
    written; it must not be *source_dir* itself, or exports would replace originals, and a
    subfolder of *source_dir* is not read as originals): into a temporary file there, flushed and fsynced, then renamed over the final name, so
    a reader never sees part of a file; the temporary file is removed on any failure.

    A ``DirectoryStore`` is picklable: process pools and Dask workers that see the same folders can
    share it.
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

    def __repr__(self) -> str:
        return f"DirectoryStore({str(self.source_dir)!r}, {str(self.output_dir)!r})"

    # -- originals

    def _path(self, handle: AssetHandle) -> Path | None:
        """Return the file of *handle* inside the source folder, or None if it is not one."""
        text = handle.value
        if "\\" in text or "\x00" in text:
            return None
        pure = PurePosixPath(text)
        # One spelling per asset: "a//b", "./a" and "a/" are not handles of "a/b" and "a".
        if pure.is_absolute() or ".." in pure.parts or pure.as_posix() != text:
            return None
        path = self.source_dir.joinpath(*pure.parts)
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop on older Pythons
            return None
        if not resolved.is_relative_to(self._root) or not resolved.is_file():
            return None
        return path

    def describe(self, handle: AssetHandle) -> Asset:
        """Describe *handle* from its file (type sniffed, size) and the manifest."""
        handle = AssetHandle.of(handle)
        entry = self._entries.get(handle.value)
        path = self._path(handle)
        if path is None and entry is None:
            raise AssetNotFoundError(f"no asset {handle} in {self.source_dir}", handle=handle.value)
        asset_type, size = AssetType.ASSET, None
        if path is not None:
            try:
                size = path.stat().st_size
                with path.open("rb") as f:
                    head = f.read(SNIFF_BYTES)
            except OSError as exc:
                raise StoreReadError(
                    f"cannot read {handle}: {exc.strerror or exc}", handle=handle.value
                ) from exc
            asset_type = sniff_type(head)
        entry = entry or ManifestEntry()
        file_name = entry.file_name or PurePosixPath(handle.value).name
        return Asset(
            handle=handle,
            type=entry.type or asset_type,
            name=entry.name or stem(file_name),
            file_name=file_name,
            company=entry.company or self.default_company,
            size=size,
        )

    def open_original(self, handle: AssetHandle) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open the original file of *handle* for reading, in binary."""
        handle = AssetHandle.of(handle)
        path = self._path(handle)
        if path is None:
            raise AssetNotFoundError(f"asset {handle} has no original file", handle=handle.value)
        try:
            return path.open("rb")
        except FileNotFoundError as exc:
            raise AssetNotFoundError(
                f"asset {handle} has no original file", handle=handle.value
            ) from exc
        except OSError as exc:
            raise StoreReadError(
                f"cannot open {handle}: {exc.strerror or exc}", handle=handle.value
            ) from exc

    def handles(self) -> tuple[AssetHandle, ...]:
        """Every asset of the folder, sorted: its files and the manifest's handles.

        Hidden files and folders (``.name``), the manifest, temporary export files and anything
        inside the output folder are left out.
        """
        found: set[str] = set(self._entries)
        output = self.output_dir.resolve()
        for dirpath, dirnames, filenames in os.walk(self.source_dir):
            here = Path(dirpath)
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and (here / d).resolve() != output
            )
            for filename in filenames:
                path = here / filename
                if filename.startswith(".") or path == self._manifest_path:
                    continue
                handle = path.relative_to(self.source_dir).as_posix()
                try:
                    asset_handle = AssetHandle(handle)
                except ValueError:  # a file name with control characters cannot be a handle
                    continue
                if self._path(asset_handle) is not None:
                    found.add(handle)
        return tuple(AssetHandle(h) for h in sorted(found))

    # -- exports

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        """Write *chunks* to *name* in the output folder atomically, as *on_conflict* says.

        The first write of a store removes the temporary files that killed runs left in the
        output folder (only the library's own, of processes that are gone).
        """
        check_name(name)
        if not self._swept:
            self._swept = True
            sweep_temporaries(self.output_dir)
        return publish(self.output_dir, name, chunks, on_conflict)

    def sync(self) -> None:
        """Make every export written so far durable: one ``syncfs`` of the output folder's disk."""
        if self.output_dir.is_dir():
            sync_folder(self.output_dir)

    def read_export(self, name: str) -> bytes:
        """Return the bytes of the export *name*; raise ``KeyError`` if there is none."""
        check_name(name)
        try:
            return (self.output_dir / name).read_bytes()
        except FileNotFoundError:
            raise KeyError(name) from None

    def exported(self) -> Iterator[Path]:
        """Yield the files in the output folder (temporary files excluded), sorted by name."""
        if not self.output_dir.is_dir():
            return
        for path in sorted(self.output_dir.iterdir()):
            if path.is_file() and not is_temporary(path.name):
                yield path
