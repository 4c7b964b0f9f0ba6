"""The seam to fsspec: finding a file system for a URL, and its errors in the library's terms."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import shutil
from collections.abc import Collection, Mapping
from typing import IO, Any

from .._assets import AssetHandle
from .._names import NameBook
from ..exceptions import OutputExistsError, StoreReadError, StoreWriteError
from ..protocols import OnConflict, WrittenExport

__all__ = [
    "ReadErrors",
    "Uploader",
    "discard",
    "files_among",
    "filesystem",
    "is_local",
    "present_among",
    "words",
]

_COPY_BLOCK = 1 << 20
_MAX_RENAMES = 10_000

_BACKENDS = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
}


def filesystem(url: str, storage_options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """Return the fsspec file system of *url* and the path in it; a clear error if one is missing.

    Raises:
        ImportError: fsspec or the backend's package is not installed (the message names both).
    """
    protocol = url.split("://", 1)[0] if "://" in url else "file"
    backend = _BACKENDS.get(protocol)
    hint = f"pip install 'exportjob[fsspec]'{' ' + backend if backend else ''}"
    try:
        import fsspec.core  # noqa: PLC0415 - an optional dependency, imported when used
    except ImportError as exc:
        msg = f"{url} needs fsspec, which is not installed: {hint}"
        raise ImportError(msg) from exc
    try:
        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
    except ImportError as exc:
        msg = f"{url} needs the {backend or protocol} backend, which is not installed: {hint}"
        raise ImportError(msg) from exc
    except ValueError as exc:  # an unknown protocol
        msg = f"fsspec has no file system for {url}: {exc}"
        raise ImportError(msg) from exc
    return fs, str(path).rstrip("/")


def files_among(fs: Any, paths: Collection[str]) -> set[str]:
    """Those of *paths* that are files in *fs*: one request each, all at once on an async file system.

    For a few names, where a listing would read the whole output (``FsspecStore`` lists for many).
    """
    return _each(fs, paths, "isfile")


def present_among(fs: Any, paths: Collection[str]) -> set[str]:
    """Those of *paths* that are anything in *fs* (a file, a folder, a key prefix), as ``files_among``."""
    return _each(fs, paths, "exists")


def _each(fs: Any, paths: Collection[str], test: str) -> set[str]:
    paths = list(paths)
    if getattr(fs, "async_impl", False) and getattr(fs, "loop", None) is not None:
        from fsspec.asyn import sync  # noqa: PLC0415 - fsspec is an optional dependency

        check = getattr(fs, f"_{test}")

        async def look() -> list[bool]:
            return list(await asyncio.gather(*(check(p) for p in paths)))

        found = sync(fs.loop, look)
    else:
        found = [getattr(fs, test)(p) for p in paths]
    return {p for p, yes in zip(paths, found, strict=True) if yes}


def words(exc: BaseException) -> str:
    """The backend's own words for *exc*: its type and message (``PermissionError: Access Denied``)."""
    text = str(exc) or repr(exc)
    return f"{type(exc).__name__}: {text}"


def is_local(fs: Any) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in {"file", "local"}


def discard(target: Any) -> None:
    """Throw away a half-written upload (abort its multipart upload); never raise."""
    if target is None:
        return
    with contextlib.suppress(Exception):
        target.discard()
    with contextlib.suppress(Exception):
        target.closed = True


class ReadErrors(io.RawIOBase):
    """A backend stream whose errors become ``StoreReadError`` (with the backend's words)."""

    def __init__(self, stream: Any, handle: AssetHandle) -> None:
        super().__init__()
        self._stream = stream
        self._handle = handle

    def _fail(self, exc: Exception) -> StoreReadError:
        return StoreReadError(
            f"cannot read {self._handle}: {words(exc)}", handle=self._handle.value
        )

    def readinto(self, buffer: Any) -> int:
        try:
            data: bytes = self._stream.read(len(buffer))
        except Exception as exc:
            raise self._fail(exc) from exc
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        try:
            return int(self._stream.seek(offset, whence))
        except Exception as exc:
            raise self._fail(exc) from exc

    def tell(self) -> int:
        return int(self._stream.tell())

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stream.close()
        super().close()


class Uploader:
    """Publish spooled files under one fsspec folder in one step each, as the conflict policy says.

    One PUT or one multipart upload (visible only once it completes, aborted on failure) per
    file. Under ``error``, ``skip`` and ``rename`` the write is conditional (``xb``: on S3 an
    ``If-None-Match: *`` PUT); a name taken by the same bytes is an earlier attempt: kept.
    """

    def __init__(self, fs: Any, folder: str, label: str, block_size: int) -> None:
        self.fs = fs
        self.folder = folder
        self.label = label
        self.block_size = block_size

    def location(self, name: str) -> str:
        """The URL of *name* in the folder."""
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        path = f"{self.folder}/{name}"
        return f"{protocol}://{path if protocol == 'file' else path.lstrip('/')}"

    def publish(
        self,
        spool: IO[bytes],
        name: str,
        size: int,
        sha256: str,
        on_conflict: OnConflict,
        *,
        sole: bool = False,
    ) -> WrittenExport:
        """Upload *spool* (*size* bytes with *sha256*) as *name*, or a free variant under ``rename``.

        *sole*: the upload is its job's only file (an archive): under ``rename`` a variant holding
        its bytes is this file uploaded by an earlier run, kept (else only *name* itself is).

        Raises:
            OutputExistsError: *name* holds other bytes and the policy is ``error`` or ``skip``.
            StoreWriteError: the backend refused or dropped the upload (nothing is left of it).
        """
        if on_conflict is OnConflict.REPLACE:
            if self._folder_there(name):
                raise StoreWriteError(
                    f"cannot write {name} to {self.label}: it is a folder there; it was left "
                    "untouched"
                )
            try:
                self._put(spool, name, "wb")
            except FileExistsError:
                raise self._under_a_file(name) from None
            return WrittenExport(name, self.location(name), size)
        book = NameBook()
        candidate = book.claim(name)
        for _ in range(_MAX_RENAMES):
            try:
                self._put(spool, candidate, "xb")
            except FileExistsError:
                if "/" in name and (folder := self._file_among_folders(name)) is not None:
                    raise self._under_a_file(name, folder) from None
                # A variant with these bytes may be another asset's, unless the file is sole.
                if (sole or candidate == name) and self.holds(candidate, size, sha256):
                    return WrittenExport(candidate, self.location(candidate), size, True)
                if on_conflict is not OnConflict.RENAME:
                    raise OutputExistsError(
                        f"{name} already exists in {self.label} and was not written by this "
                        "job; it was left untouched (choose another conflict policy to "
                        "replace, rename or skip it)",
                        name=name,
                        location=self.location(name),
                    ) from None
                candidate = book.claim(name)
                continue
            return WrittenExport(candidate, self.location(candidate), size)
        raise StoreWriteError(f"cannot write {name}: no free name among {_MAX_RENAMES} variants")

    def _put(self, spool: IO[bytes], name: str, mode: str) -> None:
        spool.seek(0)
        target = None
        try:
            target = self.fs.open(f"{self.folder}/{name}", mode, block_size=self.block_size)
            shutil.copyfileobj(spool, target, _COPY_BLOCK)
            target.close()
        except FileExistsError:
            discard(target)
            raise
        except Exception as exc:
            discard(target)
            raise StoreWriteError(f"cannot write {name} to {self.label}: {words(exc)}") from exc

    def _file_among_folders(self, name: str) -> str | None:
        """The first folder of *name* that is a file in the folder, if any (nothing fits beneath it)."""
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folder = "/".join(parts[:i])
            with contextlib.suppress(Exception):  # unknown is not known to be a file
                if self.fs.isfile(f"{self.folder}/{folder}"):
                    return folder
        return None

    def _folder_there(self, name: str) -> bool:
        """Whether *name* is a folder of exports, on a file system with folders of its own.

        An object store's keys may share a prefix with a key (``d`` beside ``d/e``): there the
        question costs a request per write and answers nothing that matters, so it is not asked.
        """
        if getattr(self.fs, "async_impl", False):  # S3, GCS, Azure: keys, no folders
            return False
        try:
            return bool(self.fs.isdir(f"{self.folder}/{name}"))
        except Exception:  # noqa: BLE001 - not known to be a folder: the write decides
            return False

    def _under_a_file(self, name: str, folder: str | None = None) -> StoreWriteError:
        """The error of a write that the backend refused as if *name* existed (a file on its way)."""
        folder = folder if folder is not None else self._file_among_folders(name)
        why = f"{folder} is a file there, not a folder" if folder else "the backend says it exists"
        return StoreWriteError(f"cannot write {name} to {self.label}: {why}")

    def holds(self, name: str, size: int, sha256: str) -> bool:
        """Whether *name* holds exactly the bytes of *size* and *sha256* (its size asked first)."""
        try:
            if self.fs.size(f"{self.folder}/{name}") != size:  # a listing, not a download
                return False
        except Exception:  # noqa: BLE001, S110 - not known: the bytes decide
            pass
        try:
            with self.fs.open(f"{self.folder}/{name}", "rb", block_size=self.block_size) as f:
                digest, total = hashlib.sha256(), 0
                while block := f.read(_COPY_BLOCK):
                    digest.update(block)
                    total += len(block)
                    if total > size:
                        return False
        except Exception:  # noqa: BLE001 - unreadable is not the same bytes
            return False
        return total == size and digest.hexdigest() == sha256
