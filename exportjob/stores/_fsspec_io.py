"""The seam to fsspec: finding a file system for a URL, and its errors in the library's terms."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from typing import Any

from .._assets import AssetHandle
from ..exceptions import StoreReadError

__all__ = ["ReadErrors", "discard", "filesystem", "is_local", "words"]

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
