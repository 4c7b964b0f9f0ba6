"""Asset stores a host can use as they are: ``MemoryStore`` and ``DirectoryStore``.

Both implement ``exportjob.protocols.AssetStore``: describe an asset by handle, open its original as a
binary stream, and write exports so that a reader sees a whole file or none. Both check every output
name with ``check_name``, so nothing lands outside their export area, and translate ``OSError`` into
``StoreReadError``/``StoreWriteError`` here, at the seam.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import attrs

from ._model import Asset, AssetHandle, AssetType
from ._names import check_name, split_name
from .exceptions import AssetNotFoundError, StoreReadError, StoreWriteError

__all__ = ["MANIFEST_NAME", "DirectoryStore", "MemoryStore", "sniff_type"]

#: The manifest file ``DirectoryStore`` reads from its source folder when none is given.
MANIFEST_NAME = "exportjob.json"

_SNIFF_BYTES = 512
_TEMP_PREFIX = ".exportjob-"
_TEMP_SUFFIX = ".part"

_MAGIC: tuple[tuple[bytes, AssetType], ...] = (
    (b"\xff\xd8\xff", AssetType.IMAGE),  # JPEG
    (b"\x89PNG\r\n\x1a\n", AssetType.IMAGE),
    (b"GIF87a", AssetType.IMAGE),
    (b"GIF89a", AssetType.IMAGE),
    (b"II*\x00", AssetType.IMAGE),  # TIFF, little-endian
    (b"MM\x00*", AssetType.IMAGE),  # TIFF, big-endian
    (b"II+\x00", AssetType.IMAGE),  # BigTIFF
    (b"MM\x00+", AssetType.IMAGE),
    (b"BM", AssetType.IMAGE),  # BMP
    (b"%PDF-", AssetType.PDF),
)
_QUICKTIME_ATOMS = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def sniff_type(head: bytes) -> AssetType:
    r"""Return the asset type the first bytes of a file show (``Asset`` when they show nothing known).

    JPEG, PNG, GIF, TIFF, WebP and BMP are images; PDF is ``Pdf``; MP4 and QuickTime are ``Video``;
    an XML or text file whose root is ``<svg`` is ``Svg``.

    >>> sniff_type(b"\x89PNG\r\n\x1a\n..."), sniff_type(b"%PDF-1.7"), sniff_type(b"hello")
    (<AssetType.IMAGE: 'Image'>, <AssetType.PDF: 'Pdf'>, <AssetType.ASSET: 'Asset'>)
    """
    for magic, asset_type in _MAGIC:
        if head.startswith(magic):
            return asset_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return AssetType.IMAGE
    if head[4:8] in _QUICKTIME_ATOMS:
        return AssetType.VIDEO
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if (
        text.startswith((b"<?xml", b"<!--", b"<!doctype svg")) and b"<svg" in text
    ) or text.startswith(b"<svg"):
        return AssetType.SVG
    return AssetType.ASSET


def _stem(file_name: str) -> str:
    stem = split_name(file_name)[0]
    return stem or file_name


# --------------------------------------------------------------------------------------- memory


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
    'memory://logo.png'
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
            name=name if name is not None else _stem(file_name),
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

    def write_export(self, name: str, chunks: Iterable[bytes]) -> str:
        """Store the export *name*; nothing is stored unless every chunk arrived."""
        check_name(name)
        data = b"".join(chunks)
        with self._lock:
            self._exports[name] = data
        return f"memory://{name}"

    @property
    def exports(self) -> dict[str, bytes]:
        """A copy of every export written so far, by name."""
        with self._lock:
            return dict(self._exports)

    def read_export(self, name: str) -> bytes:
        """Return the export *name*; raise ``KeyError`` if there is none."""
        with self._lock:
            return self._exports[name]

    @property
    def opened(self) -> tuple[AssetHandle, ...]:
        """Every handle whose original was opened, in order (a test can assert one never was)."""
        with self._lock:
            return tuple(self._opened)


# ------------------------------------------------------------------------------------ directory


def _optional_type(value: str | AssetType | None) -> AssetType | None:
    return None if value is None else AssetType.parse(value)


@attrs.frozen(kw_only=True)
class ManifestEntry:
    """What a manifest says about one handle: any of type, company, name and file name."""

    type: AssetType | None = attrs.field(default=None, converter=_optional_type)
    company: str | None = None
    name: str | None = None
    file_name: str | None = None


_ENTRY_KEYS = frozenset({"type", "company", "name", "file_name"})


def _read_manifest(source: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, ManifestEntry]:
    where = "<mapping>"
    if isinstance(source, Mapping):
        raw: Any = source
    else:
        where = os.fspath(source)
        try:
            with open(source, encoding="utf-8") as f:  # noqa: PTH123 - plain open is clearest
                raw = json.load(f)
        except OSError as exc:
            raise StoreReadError(f"cannot read the manifest {where}: {exc}") from exc
        except ValueError as exc:
            raise StoreReadError(f"the manifest {where} is not valid JSON: {exc}") from exc

    def bad(problem: str) -> StoreReadError:
        return StoreReadError(f"invalid manifest {where}: {problem}")

    if not isinstance(raw, Mapping) or set(raw) - {"assets"}:
        raise bad('expected an object with one key, "assets"')
    assets = raw.get("assets", {})
    if not isinstance(assets, Mapping):
        raise bad('"assets" must map handles to objects')
    entries: dict[str, ManifestEntry] = {}
    for handle, spec in assets.items():
        if not isinstance(handle, str) or not handle.strip():
            raise bad(f"handle {handle!r} must be a non-empty string")
        if not isinstance(spec, Mapping) or set(spec) - _ENTRY_KEYS:
            raise bad(f"{handle!r}: expected an object with keys among {sorted(_ENTRY_KEYS)}")
        for key, value in spec.items():
            if not isinstance(value, str) or not value.strip():
                raise bad(f"{handle!r}: {key} must be a non-empty string, got {value!r}")
        try:
            entries[handle] = ManifestEntry(**spec)
        except ValueError as exc:
            raise bad(f"{handle!r}: {exc}") from exc
    return entries


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
        if not self.source_dir.is_dir():
            raise StoreReadError(f"the source folder {self.source_dir} does not exist")
        self._root = self.source_dir.resolve()
        if self.output_dir.resolve() == self._root:
            raise StoreWriteError(
                f"the output folder {self.output_dir} is the source folder: "
                "exports would replace the originals"
            )
        if manifest is None:
            default = self.source_dir / MANIFEST_NAME
            self._manifest_path: Path | None = default if default.is_file() else None
            self._entries = _read_manifest(default) if self._manifest_path else {}
        elif isinstance(manifest, Mapping):
            self._manifest_path = None
            self._entries = _read_manifest(manifest)
        else:
            self._manifest_path = Path(manifest).absolute()
            self._entries = _read_manifest(self._manifest_path)

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
                    head = f.read(_SNIFF_BYTES)
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
            name=entry.name or _stem(file_name),
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

    def write_export(self, name: str, chunks: Iterable[bytes]) -> str:
        """Write *chunks* to *name* in the output folder atomically; return the file's path."""
        check_name(name)
        final = self.output_dir / name
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            fd, temp = _create_temp(self.output_dir)
        except OSError as exc:
            raise StoreWriteError(f"cannot write {name}: {exc.strerror or exc}") from exc
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:  # a failing source raises from here, unwrapped
                    _write(out, chunk, name)
                _sync(out, name)
            try:
                temp.replace(final)
            except OSError as exc:
                raise StoreWriteError(f"cannot write {name}: {exc.strerror or exc}") from exc
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        _sync_dir(self.output_dir)
        return str(final)

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
            if path.is_file() and not path.name.startswith(_TEMP_PREFIX):
                yield path


def _create_temp(folder: Path) -> tuple[int, Path]:
    """Create a new temporary file in *folder*, with the permissions the umask gives new files."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = folder / f"{_TEMP_PREFIX}{secrets.token_hex(8)}{_TEMP_SUFFIX}"
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue


def _write(out: BinaryIO, chunk: bytes, name: str) -> None:
    try:
        out.write(chunk)
    except OSError as exc:
        raise StoreWriteError(f"cannot write {name}: {exc.strerror or exc}") from exc


def _sync(out: BinaryIO, name: str) -> None:
    try:
        out.flush()
        os.fsync(out.fileno())
    except OSError as exc:
        raise StoreWriteError(f"cannot write {name}: {exc.strerror or exc}") from exc


def _sync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); where folders cannot be opened, it is a no-op."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
