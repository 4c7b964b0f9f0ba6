"""``MemoryStore``: originals and exports in memory, for host tests and notebooks."""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Collection, Iterable
from typing import Any, BinaryIO

import attrs

from .._assets import Asset, AssetHandle
from .._enums import AssetType
from .._names import NameBook, check_path
from ..exceptions import AssetNotFoundError, OutputExistsError, StoreWriteError
from ..protocols import OnConflict, WrittenExport
from ._occupied import occupied_among
from ._sniff import sniff_type, stem

__all__ = ["MemoryStore"]


@attrs.frozen
class _Stored:
    asset: Asset
    data: bytes | None = attrs.field(repr=False)


class MemoryStore:
    r"""Keep originals and exports in memory: for host applications' tests and notebooks.

    Thread-safe. It lives in one process, so it works with the engine's default thread pool but not
    with process pools or Dask (use ``DirectoryStore``, or a store of your own, there).

    >>> store = MemoryStore(default_company="acme")
    >>> store.add("h1", b"\x89PNG\r\n\x1a\n...", file_name="logo.png")
    >>> store.describe(AssetHandle("h1"))
    Asset(handle=AssetHandle('h1'), type=<AssetType.IMAGE: 'Image'>, name='logo', file_name='logo.png', company='acme', size=11, sub_type=None)
    >>> store.write_export("logo.png", [b"\x89PNG", b"..."])
    WrittenExport(name='logo.png', location='memory://logo.png', size=7, identical=False)
    >>> store.read_export("logo.png")
    b'\x89PNG...'
    >>> store
    <MemoryStore with 1 asset(s), 1 export(s)>
    """

    def __init__(self, *, default_company: str = "default") -> None:
        self.default_company = default_company
        self._lock = threading.Lock()
        self._assets: dict[AssetHandle, _Stored] = {}
        self._exports: dict[str, bytes] = {}
        self._folders: dict[str, int] = {}  # each folder of the exports' names: how many are in it
        self._opened: list[AssetHandle] = []

    def __repr__(self) -> str:
        with self._lock:
            return (
                f"<MemoryStore with {len(self._assets)} asset(s), {len(self._exports)} export(s)>"
            )

    def __reduce__(self) -> Any:
        msg = (
            "a MemoryStore lives in one process and cannot be sent to another; "
            "use DirectoryStore (or your own store) with process pools and Dask"
        )
        raise TypeError(msg)

    def add(
        self,
        handle: str | AssetHandle,
        data: bytes | None = None,
        *,
        type: AssetType | str | None = None,  # noqa: A002 - the IPS field name
        file_name: str | None = None,
        name: str | None = None,
        company: str | None = None,
    ) -> None:
        """Add an asset with its original *data* (``None`` for a set asset, which has no file).

        *type* defaults to what the data shows (``sniff_type``); *file_name* to the handle; *name*
        to the file name without its extension; *company* to the store's default company. Adding a
        handle again replaces the asset; ``describe`` returns what was added.
        """
        handle = AssetHandle.of(handle)
        if data is None and type is None:
            msg = "an asset without data (a set) needs an explicit type"
            raise ValueError(msg)
        payload = None if data is None else bytes(data)
        asset_type = AssetType.parse(type) if type is not None else sniff_type(payload or b"")
        file_name = file_name if file_name is not None else handle.value
        asset = Asset(
            handle=handle,
            type=asset_type,
            name=name if name is not None else stem(file_name),
            file_name=file_name,
            company=company if company is not None else self.default_company,
            size=None if payload is None else len(payload),
        )
        with self._lock:
            self._assets[handle] = _Stored(asset, payload)

    def describe(self, handle: AssetHandle) -> Asset:
        """Return the asset *handle*; raise ``AssetNotFoundError`` if it was never added."""
        with self._lock:
            stored = self._assets.get(AssetHandle.of(handle))
        if stored is None:
            raise AssetNotFoundError(f"no asset with handle {handle}", handle=str(handle))
        return stored.asset

    def file_name_of(self, handle: AssetHandle) -> str | None:
        """The file name of the asset *handle* as added (``NamedHandles``); None if unknown."""
        with self._lock:
            stored = self._assets.get(AssetHandle.of(handle))
        return None if stored is None else stored.asset.file_name

    def open_original(self, handle: AssetHandle) -> contextlib.AbstractContextManager[BinaryIO]:
        """Open the original of *handle* as an in-memory stream."""
        handle = AssetHandle.of(handle)
        with self._lock:
            stored = self._assets.get(handle)
            self._opened.append(handle)
        if stored is None:
            raise AssetNotFoundError(f"no asset with handle {handle}", handle=handle.value)
        if stored.data is None:
            raise AssetNotFoundError(
                f"asset {handle} ({stored.asset.type.value}) has no original file",
                handle=handle.value,
            )
        return io.BytesIO(stored.data)

    def write_export(
        self,
        name: str,
        chunks: Iterable[bytes],
        *,
        on_conflict: OnConflict | str = OnConflict.ERROR,
    ) -> WrittenExport:
        """Store the export *name* as *on_conflict* says; nothing is stored unless every chunk arrived.

        *name* may be a relative path of safe names (``a/x.jpg``): it is kept as the key. As in
        a folder, a name beneath an export (``x/y.pdf`` when ``x`` is one) raises
        ``StoreWriteError``, and a folder of exports (``x``) is a name taken.
        """
        policy = OnConflict.of(on_conflict)
        check_path(name)
        data = b"".join(chunks)
        with self._lock:
            self._check_folders(name, replace=policy is OnConflict.REPLACE)
            existing = self._exports.get(name)
            if name not in self._folders and (existing is None or policy is OnConflict.REPLACE):
                self._put(name, data)
                return WrittenExport(name, f"memory://{name}", len(data))
            if existing == data:
                return WrittenExport(name, f"memory://{name}", len(data), identical=True)
            if policy is OnConflict.RENAME:
                # Only free variants: one holding these bytes may be another asset's export.
                book = NameBook()
                candidate = book.claim(name)
                while candidate in self._folders or candidate in self._exports:
                    candidate = book.claim(name)
                self._put(candidate, data)
                return WrittenExport(candidate, f"memory://{candidate}", len(data))
        raise OutputExistsError(
            f"{name} already exists among the exports and was not written by this job; it was "
            "left untouched (choose another conflict policy to replace, rename or skip it)",
            name=name,
            location=f"memory://{name}",
        )

    def _check_folders(self, name: str, *, replace: bool) -> None:
        """Refuse *name* where a folder area would: beneath an export, or over a folder (replacing)."""
        folder = next((f for f in _folders_of(name) if f in self._exports), None)
        if folder is not None:
            raise StoreWriteError(f"cannot write {name}: {folder} is an export, not a folder")
        if replace and name in self._folders:
            raise StoreWriteError(f"cannot write {name}: it is a folder of other exports")

    def _put(self, name: str, data: bytes) -> None:
        if name not in self._exports:
            for folder in _folders_of(name):
                self._folders[folder] = self._folders.get(folder, 0) + 1
        self._exports[name] = data

    def add_export(self, name: str, data: bytes) -> None:
        """Put an export in place as if written earlier (a test of conflicts starts from one)."""
        check_path(name)
        with self._lock:
            self._check_folders(name, replace=True)
            self._put(name, data)

    @property
    def exports(self) -> dict[str, bytes]:
        """A copy of every export written so far, by name."""
        with self._lock:
            return dict(self._exports)

    def read_export(self, name: str) -> bytes:
        """Return the export *name*; raise ``KeyError`` if there is none."""
        with self._lock:
            return self._exports[name]

    def remove_export(self, name: str) -> None:
        """Remove the export *name*, as a user of the export area might; ``KeyError`` if none."""
        with self._lock:
            del self._exports[name]
            for folder in _folders_of(name):
                if self._folders[folder] == 1:
                    del self._folders[folder]
                else:
                    self._folders[folder] -= 1

    def existing_exports(self, names: Collection[str]) -> set[str]:
        """Those of *names* that are exports now (``ExportInventory``)."""
        with self._lock:
            return {name for name in names if name in self._exports}

    def occupied_names(self, names: Collection[str]) -> set[str]:
        """Those of *names* that cannot be written as new exports now (``OccupiedNames``)."""
        with self._lock:
            return occupied_among(self._exports, names)

    @property
    def opened(self) -> tuple[AssetHandle, ...]:
        """Every handle whose original was opened, in order (a test can assert one never was)."""
        with self._lock:
            return tuple(self._opened)


def _folders_of(name: str) -> list[str]:
    """The folders of the path *name*: ``a/b/x.jpg`` -> ``["a", "a/b"]``."""
    parts = name.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]
