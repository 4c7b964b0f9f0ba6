"""``FsspecStore``: originals and exports on any fsspec file system (S3, GCS, Azure, local, memory)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from .._assets import Asset, AssetHandle, asset_of
from .._enums import AssetType
from .._names import check_path
from ..exceptions import (
    AssetNotFoundError,
    StoreReadError,
    StoreWriteError,
)
from ..protocols import OnConflict, WrittenExport
from ._beneath import HeldRoot, existing_beneath, occupied_beneath
from ._exports import publish_beneath, sweep_temporaries, sync_folder
from ._extensions import type_from_name
from ._fsspec_io import (
    ReadErrors,
    Uploader,
    files_among,
    filesystem,
    is_local,
    present_among,
    words,
)
from ._handles import LeftOut, describe_each, handle_parts
from ._manifest import MANIFEST_NAME, ManifestEntry, manifest_digest, read_manifest
from ._occupied import occupied_among, parent_folders
from ._sniff import SNIFF_BYTES, sniff_type, stem

__all__ = ["FsspecStore"]

_SPOOL_IN_MEMORY = 8 << 20
_COPY_BLOCK = 1 << 20
_FEW_NAMES = 64  # looked at one by one: fewer requests than a listing of a large output


class FsspecStore:
    r"""Originals under one fsspec URL, exports under another (``s3://bucket/exports``, ``memory://``).

    Handles, the manifest and authorization are as in ``DirectoryStore``: a handle is the path of an
    original under *source* (``photos/leaf.jpg``, one spelling only, never leaving *source*), and a
    manifest (``exportjob.json`` under *source*, or the mapping or URL given as *manifest*) may set
    ``type``, ``company``, ``name`` and ``file_name`` per handle and declare set assets.

    ``describe`` makes one ``info`` call (an S3 HEAD) and reads no byte of the original: the type
    comes from the manifest, else from the file name's extension (``.jpg`` is an ``Image``), unless
    *sniff* asks for the first bytes (one ranged read more). ``describe_many`` lists *source* once
    and describes the whole batch from that listing. Originals are streamed in blocks of
    *block_size* bytes (never read whole for a header check).

    Writes leave nothing partial: an export is first spooled locally (in memory up to 8 MiB, then a
    temporary file), so a failing converter never reaches the backend, and then published in one
    step: on object stores one PUT (or one multipart upload, which becomes visible only when it
    completes and is aborted on failure); on ``file://`` a temporary file and a hard link, exactly
    as ``DirectoryStore``. Under ``error`` and ``skip`` the write is conditional: on S3 an
    ``If-None-Match: *`` PUT (s3fs's ``xb`` mode), so two writers never replace each other's
    object; backends without conditional writes (fsspec's generic ``x`` mode checks, then writes)
    leave a short race window between the check and the write. A bucket or container that does not
    exist is an error; a store never creates one. Every backend error becomes ``StoreReadError`` or
    ``StoreWriteError`` carrying the backend's words.

    Args:
        source: the URL of the originals.
        output: the URL of the export area (must not be *source*).
        manifest: a mapping, or the URL of a JSON manifest (default: ``exportjob.json`` under *source*
            when it exists).
        default_company: the company of every asset the manifest does not assign.
        storage_options: keyword arguments for the file system (``endpoint_url``, ``key``, ...);
            credentials otherwise come from the backend's usual environment.
        sniff: type originals by their first bytes (one more ranged read per asset).
        block_size: the read and upload block size in bytes (S3's multipart part size).

    >>> import fsspec
    >>> fs = fsspec.filesystem("memory")
    >>> fs.pipe("/doc-src/logo.png", b"\x89PNG\r\n\x1a\n...")
    >>> store = FsspecStore("memory://doc-src", "memory://doc-out")
    >>> store.describe(AssetHandle("logo.png")).type
    <AssetType.IMAGE: 'Image'>
    >>> store.write_export("logo.png", [b"\x89PNG", b"..."])
    WrittenExport(name='logo.png', location='memory://doc-out/logo.png', size=7, identical=False)
    """

    def __init__(
        self,
        source: str,
        output: str,
        *,
        manifest: Mapping[str, Any] | str | None = None,
        default_company: str = "default",
        storage_options: Mapping[str, Any] | None = None,
        sniff: bool = False,
        block_size: int = 5 << 20,
    ) -> None:
        self.source = source
        self.output = output
        self.default_company = default_company
        self.sniff = sniff
        self.block_size = block_size
        self._fs, self._root = filesystem(source, storage_options)
        # A local source is read as DirectoryStore reads one: walked from the root's descriptor,
        # no symlink followed out of it, whatever is swapped in meanwhile.
        self._local_root = Path(os.path.realpath(self._root)) if is_local(self._fs) else None
        self._held = None if self._local_root is None else HeldRoot(self._local_root)
        self._out_fs, self._out = filesystem(output, storage_options)
        self._local_out = is_local(self._out_fs)
        self._uploader = Uploader(self._out_fs, self._out, output, block_size)
        self._listing: dict[str, Mapping[str, Any]] | None = None
        self._swept = False
        if self._out_fs.protocol == self._fs.protocol and self._out == self._root:
            raise StoreWriteError(
                f"the output {output} is the source: exports would replace the originals"
            )
        try:
            found = self._fs.isdir(self._root) if self._root else True
        except Exception as exc:
            raise StoreReadError(f"cannot reach the source {source}: {words(exc)}") from exc
        if not found:
            raise StoreReadError(f"the source {source} does not exist")
        self._entries = self._read_manifest(manifest)

    @property
    def manifest_digest(self) -> str:
        """A digest of what the manifest says (empty: none): the CLI keys its journals with it."""
        return manifest_digest(self._entries)

    def __repr__(self) -> str:
        return f"FsspecStore({self.source!r}, {self.output!r})"

    def _read_manifest(self, manifest: Mapping[str, Any] | str | None) -> dict[str, ManifestEntry]:
        if isinstance(manifest, Mapping):
            return read_manifest(manifest)
        if manifest is None:
            fs, path = self._fs, f"{self._root}/{MANIFEST_NAME}"
            if not fs.isfile(path):
                return {}
            where = f"{self.source.rstrip('/')}/{MANIFEST_NAME}"
        else:
            (fs, path), where = filesystem(manifest), manifest
        try:
            raw = json.loads(fs.cat_file(path))
        except ValueError as exc:
            raise StoreReadError(f"the manifest {where} is not valid JSON: {exc}") from exc
        except Exception as exc:
            raise StoreReadError(f"cannot read the manifest {where}: {words(exc)}") from exc
        return read_manifest(raw, where=where)

    # -- originals

    def _path(self, handle: AssetHandle) -> str | None:
        parts = handle_parts(handle.value)
        if parts is None:
            return None
        path = "/".join((self._root, *parts)) if self._root else "/".join(parts)
        if is_local(self._fs):  # a symlink must not lead outside the source folder
            real, root = os.path.realpath(path), os.path.realpath(self._root)
            if os.path.commonpath([real, root]) != root:
                return None
        return path

    def _info(self, handle: AssetHandle, path: str) -> Mapping[str, Any] | None:
        if self._listing is not None and path in self._listing:
            return self._listing[path]
        try:
            info: Mapping[str, Any] = self._fs.info(path)
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise StoreReadError(
                f"cannot describe {handle}: {words(exc)}", handle=handle.value
            ) from exc
        return info

    def _local(self, handle: AssetHandle, *, open_file: bool) -> tuple[int, int | None] | None:
        """A local original's size (and open descriptor), found beneath the root; None if none."""
        parts = handle_parts(handle.value)
        if parts is None or self._held is None:
            return None
        try:
            found = self._held.find(parts, open_file=open_file)
        except OSError as exc:
            raise StoreReadError(
                f"cannot read {handle}: {exc.strerror or exc}", handle=handle.value
            ) from exc
        return None if found is None else (found[0].st_size, found[1])

    def describe(self, handle: AssetHandle) -> Asset:
        """Describe *handle* from one ``info`` call and the manifest (no byte of it is read)."""
        handle = AssetHandle.of(handle)
        entry = self._entries.get(handle.value)
        file_name = (entry.file_name if entry else None) or PurePosixPath(handle.value).name
        found = (
            self._found_local(handle, file_name)
            if self._local_root is not None
            else self._found(handle, file_name)
        )
        if found is None and entry is None:
            raise AssetNotFoundError(f"no asset {handle} in {self.source}", handle=handle.value)
        entry = entry or ManifestEntry()
        size, asset_type = found if found is not None else (None, AssetType.ASSET)
        return asset_of(
            handle,
            entry.type or asset_type,
            name=entry.name or stem(file_name),
            file_name=file_name,
            company=entry.company or self.default_company,
            size=size,
        )

    def _found(self, handle: AssetHandle, file_name: str) -> tuple[int, AssetType] | None:
        """The size and type of *handle*'s original on the file system; None if there is none."""
        path = self._path(handle)
        info = self._info(handle, path) if path is not None else None
        if path is None or info is None or info.get("type") != "file":
            return None
        size = int(info.get("size") or 0)
        return size, self._sniffed(handle, path) if self.sniff else type_from_name(file_name)

    def _found_local(self, handle: AssetHandle, file_name: str) -> tuple[int, AssetType] | None:
        """``_found`` for a local source: beneath the root, no symlink followed out of it."""
        found = self._local(handle, open_file=self.sniff)
        if found is None:
            return None
        size, fd = found
        if fd is None:
            return size, type_from_name(file_name)
        with os.fdopen(fd, "rb", buffering=0) as f:
            return size, sniff_type(f.read(SNIFF_BYTES))

    def _sniffed(self, handle: AssetHandle, path: str) -> AssetType:
        try:
            head: bytes = self._fs.cat_file(path, start=0, end=SNIFF_BYTES)
        except Exception as exc:
            raise StoreReadError(
                f"cannot read {handle}: {words(exc)}", handle=handle.value
            ) from exc
        return sniff_type(head)

    def describe_many(
        self, handles: Sequence[AssetHandle]
    ) -> Mapping[AssetHandle, Asset | Exception]:
        """Describe *handles* from one listing of the source (made once, then kept)."""
        if self._listing is None:
            try:
                listing: Mapping[str, Mapping[str, Any]] = self._fs.find(self._root, detail=True)
            except Exception as exc:  # noqa: BLE001
                failure = StoreReadError(f"cannot list {self.source}: {words(exc)}")
                return dict.fromkeys(handles, failure)
            self._listing = {str(k).rstrip("/"): v for k, v in listing.items()}
        return describe_each(self.describe, handles)

    def open_original(self, handle: AssetHandle) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open the original of *handle* as a stream read in blocks of ``block_size`` bytes."""
        handle = AssetHandle.of(handle)
        if self._local_root is not None:
            found = self._local(handle, open_file=True)
            if found is None or found[1] is None:
                raise AssetNotFoundError(
                    f"asset {handle} has no original file", handle=handle.value
                )
            return os.fdopen(found[1], "rb", buffering=_COPY_BLOCK)
        path = self._path(handle)
        info = self._info(handle, path) if path is not None else None
        if path is None or info is None or info.get("type") != "file":
            raise AssetNotFoundError(f"asset {handle} has no original file", handle=handle.value)
        try:
            stream = self._fs.open(path, "rb", block_size=self.block_size)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise AssetNotFoundError(
                f"asset {handle} has no original file", handle=handle.value
            ) from exc
        except Exception as exc:
            raise StoreReadError(
                f"cannot open {handle}: {words(exc)}", handle=handle.value
            ) from exc
        return io.BufferedReader(ReadErrors(stream, handle), _COPY_BLOCK)

    def handles(self) -> tuple[AssetHandle, ...]:
        """Every asset under the source, sorted: its files and the manifest's handles.

        Hidden files (any segment starting with ``.``), the manifest and anything under the output
        are left out; so are files no handle can name (a control character or a backslash in a
        name) and local folders that cannot be listed: one warning on the ``exportjob.stores``
        logger says how many, as ``DirectoryStore.handles`` does.
        """
        left_out = LeftOut(self.source)
        try:
            paths = self._local_paths(left_out) if self._local_root else self._fs.find(self._root)
        except Exception as exc:
            raise StoreReadError(f"cannot list {self.source}: {words(exc)}") from exc
        found: set[str] = set(self._entries)
        prefix = f"{self._root}/" if self._root else ""
        inside = self._out_fs.protocol == self._fs.protocol and self._out.startswith(prefix)
        for found_path in paths:
            path = str(found_path)
            if not path.startswith(prefix) or (inside and path.startswith(f"{self._out}/")):
                continue
            relative = path[len(prefix) :]
            if relative == MANIFEST_NAME or any(s.startswith(".") for s in relative.split("/")):
                continue
            if left_out.handle(relative) is not None:
                found.add(relative)
        left_out.tell()
        return tuple(AssetHandle(h) for h in sorted(found))

    def _local_paths(self, left_out: LeftOut) -> list[str]:
        """What ``find`` lists of a local source, counting the folders it cannot list.

        fsspec's ``find`` passes over a subfolder it cannot list without a word (its ``on_error``
        covers the root only), so a local source is walked here.
        """
        paths = []
        for dirpath, dirnames, filenames in os.walk(
            self._root, onerror=lambda e: left_out.unlisted(e, self._root)
        ):
            # os.path.islink is False for a path it cannot look at (past PATH_MAX), never raises.
            links = (d for d in dirnames if os.path.islink(f"{dirpath}/{d}"))  # noqa: PTH114
            paths += [f"{dirpath}/{name}" for name in (*filenames, *links)]
        return paths

    # -- exports

    def _location(self, name: str) -> str:
        return self._uploader.location(name)

    def write_export(
        self,
        name: str,
        chunks: Iterable[bytes],
        *,
        on_conflict: OnConflict | str = OnConflict.ERROR,
    ) -> WrittenExport:
        """Spool *chunks*, then publish them as *name* in one step, as *on_conflict* says.

        *name* may be a relative path of safe names (``a/x.jpg``): a key with ``/`` in an object
        store, folders made beneath the output (never through a symlink) on a local file system.
        """
        policy = OnConflict.of(on_conflict)
        check_path(name)
        if self._local_out:
            folder = Path(self._out)
            if not self._swept:
                self._swept = True
                sweep_temporaries(folder, recursive=True)
            return publish_beneath(folder, name, chunks, policy)
        with tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY) as spool:
            digest, size = hashlib.sha256(), 0
            for chunk in chunks:
                spool.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            return self._uploader.publish(spool, name, size, digest.hexdigest(), policy)

    def open_export(self, name: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open the export *name* for reading; ``KeyError`` if there is none."""
        check_path(name)
        try:
            stream: BinaryIO = self._out_fs.open(
                f"{self._out}/{name}", "rb", block_size=self.block_size
            )
        except FileNotFoundError:
            raise KeyError(name) from None
        except Exception as exc:
            raise StoreReadError(f"cannot read the export {name}: {words(exc)}") from exc
        return stream

    def read_export(self, name: str) -> bytes:
        """Return the bytes of the export *name*; raise ``KeyError`` if there is none."""
        with self.open_export(name) as f:
            return f.read()

    def exported(self) -> Iterator[str]:
        """Yield the names of the exports under the output, sorted (temporary files excluded)."""
        for name in sorted(self._listed()):
            if not any(part.startswith(".") for part in name.split("/")):
                yield name

    def _listed(self) -> Iterator[str]:
        """The name of every file under the output, hidden ones included, in no order."""
        try:
            paths = self._out_fs.find(self._out)
        except Exception as exc:
            raise StoreReadError(f"cannot list {self.output}: {words(exc)}") from exc
        for path in paths:
            yield str(path)[len(self._out) + 1 :] if self._out else str(path).lstrip("/")

    def existing_exports(self, names: Collection[str]) -> set[str]:
        """Those of *names* that are exports now (``ExportInventory``): one listing of the output.

        A few names (the planner's, under ``rename``) are looked at one by one, at once on an async
        file system, so a large output is not listed for each round of plans; a local output is
        looked at name by name, as ``DirectoryStore`` does.

        Raises:
            StoreReadError: the output cannot be listed or looked at.
        """
        if self._local_out:
            return existing_beneath(Path(self._out), names)
        wanted = set(names)
        if len(wanted) <= _FEW_NAMES:
            prefix = f"{self._out}/" if self._out else ""
            paths = {prefix + name: name for name in wanted}
            try:
                return {paths[p] for p in files_among(self._out_fs, list(paths))}
            except Exception as exc:
                raise StoreReadError(f"cannot look at {self.output}: {words(exc)}") from exc
        return {name for name in self._listed() if name in wanted}

    def occupied_names(self, names: Collection[str]) -> set[str]:
        """Those of *names* that cannot be written as new exports now (``OccupiedNames``).

        A local output is looked at as ``DirectoryStore`` does; a few names (the planner's rounds)
        one by one, with their folders, at once on an async file system; more by one listing.

        Raises:
            StoreReadError: the output cannot be listed or looked at.
        """
        if self._local_out:
            return occupied_beneath(Path(self._out), names)
        wanted = set(names)
        if len(wanted) > _FEW_NAMES:
            return occupied_among(set(self._listed()), wanted)
        prefix = f"{self._out}/" if self._out else ""
        folders = {f for n in wanted for f in parent_folders(n)}
        try:  # the names: anything there; their folders: a file there (a folder is as it should be)
            there = {
                p[len(prefix) :] for p in present_among(self._out_fs, [prefix + n for n in wanted])
            }
            files = {
                p[len(prefix) :] for p in files_among(self._out_fs, [prefix + f for f in folders])
            }
        except Exception as exc:
            raise StoreReadError(f"cannot look at {self.output}: {words(exc)}") from exc
        return {n for n in wanted if n in there or any(f in files for f in parent_folders(n))}

    def sync(self) -> None:
        """Make the exports durable: a ``syncfs`` for ``file://``; object stores are on PUT."""
        if self._local_out and Path(self._out).is_dir():
            sync_folder(Path(self._out))
