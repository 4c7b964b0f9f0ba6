"""``FaultyStore``: any store, with chosen operations made to fail, and nothing else changed."""

from __future__ import annotations

import errno
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, NoReturn, cast

from .._assets import Asset, AssetHandle
from ..exceptions import StoreReadError, StoreWriteError
from ..protocols import AssetStore, OnConflict, WrittenExport

__all__ = ["FaultyStore"]


class _BrokenStream:
    """An original whose reading fails partway (a disk or network error), however it is read.

    A read of everything fails at once; the first sized read (``read(n)``, ``readinto``) gets half
    of the bytes it would have got, and every read after it fails. The error is the one a store
    raises at its seam, a ``StoreReadError`` (an ``OSError``), so it reads as a read failure
    whichever converter meets it.
    """

    def __init__(self, inner: AbstractContextManager[BinaryIO], handle: str) -> None:
        self._inner = inner
        self._handle = handle
        self._stream: BinaryIO | None = None
        self._read = False

    def __enter__(self) -> BinaryIO:
        self._stream = self._inner.__enter__()
        return cast("BinaryIO", self)

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(None, None, None)

    def readable(self) -> bool:
        """Whether the stream can be read: it can, until it fails."""
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Fail, unless this is the first sized read: then return half of what it would get."""
        if self._stream is None or self._read or size is None or size < 0:
            self._fail()
        self._read = True
        got = self._stream.read(size)
        if not got:  # nothing to deliver first: an empty original fails too
            self._fail()
        return got[: (len(got) + 1) // 2]

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """``read`` into *buffer*."""
        view = memoryview(buffer).cast("B")
        got = self.read(len(view))
        view[: len(got)] = got
        return len(got)

    read1 = read
    readinto1 = readinto

    def _fail(self) -> NoReturn:
        cause = OSError(errno.EIO, "Input/output error")
        raise StoreReadError(
            f"could not read the original: {cause} (injected by FaultyStore)", handle=self._handle
        ) from cause


def _fail_midway(name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    iterator = iter(chunks)
    first = next(iterator, None)
    if first is not None:
        yield first
    raise StoreWriteError(f"disk full while writing {name} (injected by FaultyStore)")


class FaultyStore:
    """Wrap any ``AssetStore`` and make chosen operations fail, to test how a host handles failures.

    Handles in *fail_describe* and *fail_open* raise ``StoreReadError``; those in *fail_read* open
    but fail mid-stream with a ``StoreReadError`` (an ``OSError``), however they are read: a read
    of everything fails at once, a first sized read gets half its bytes and the next read fails;
    export names in *fail_write* fail midway through the write (the wrapped store must then leave
    nothing behind). Each takes names (strings or handles); one string is one name.

    Everything else is the wrapped store's: its optional capabilities (``describe_many``, with the
    describe faults applied, ``file_name_of``, ``sync``, ``read_export``, ``existing_exports``,
    ``occupied_names``) and its other attributes, so a job runs as it would on the store itself
    but for the faults.

    >>> from exportjob.testing import memory_store
    >>> store = FaultyStore(memory_store(["a"]), fail_open={"a"})
    >>> store
    <FaultyStore over <MemoryStore with 1 asset(s), 0 export(s)>>
    """

    def __init__(
        self,
        inner: AssetStore,
        *,
        fail_describe: Iterable[str | AssetHandle] | str = (),
        fail_open: Iterable[str | AssetHandle] | str = (),
        fail_read: Iterable[str | AssetHandle] | str = (),
        fail_write: Iterable[str] | str = (),
    ) -> None:
        self.inner = inner
        self.fail_describe = _names("fail_describe", fail_describe)
        self.fail_open = _names("fail_open", fail_open)
        self.fail_read = _names("fail_read", fail_read)
        self.fail_write = _names("fail_write", fail_write)

    def __repr__(self) -> str:
        return f"<FaultyStore over {self.inner!r}>"

    def __getattr__(self, name: str) -> Any:
        # Called only for what this class lacks: the wrapped store's capabilities and the rest.
        if name.startswith("__") or name == "inner":
            raise AttributeError(name)
        found = getattr(self.inner, name)
        # Only a store that batches has describe_many here (the engine asks with isinstance),
        # and its batches meet the describe faults.
        return self._describe_many if name == "describe_many" else found

    def describe(self, handle: AssetHandle | str) -> Asset:
        """Describe *handle*, or fail if it is in ``fail_describe``."""
        handle = AssetHandle.of(handle)
        if handle.value in self.fail_describe:
            raise StoreReadError("the store is unreachable (injected)", handle=handle.value)
        return self.inner.describe(handle)

    def _describe_many(
        self, handles: Sequence[AssetHandle]
    ) -> Mapping[AssetHandle, Asset | Exception]:
        """The wrapped store's ``describe_many``, those in ``fail_describe`` failing."""
        failing = [h for h in handles if h.value in self.fail_describe]
        rest = [h for h in handles if h.value not in self.fail_describe]
        found: dict[AssetHandle, Asset | Exception] = (
            dict(self.inner.describe_many(rest)) if rest else {}  # type: ignore[attr-defined]
        )
        for handle in failing:
            found[handle] = StoreReadError(
                "the store is unreachable (injected)", handle=handle.value
            )
        return found

    def open_original(self, handle: AssetHandle | str) -> AbstractContextManager[BinaryIO]:
        """Open *handle*, or fail at once (``fail_open``) or mid-stream (``fail_read``)."""
        handle = AssetHandle.of(handle)
        if handle.value in self.fail_open:
            raise StoreReadError("the original is unreachable (injected)", handle=handle.value)
        stream = self.inner.open_original(handle)
        if handle.value in self.fail_read:
            return _BrokenStream(stream, handle.value)
        return stream

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        """Write *name*, or fail midway if it is in ``fail_write``."""
        if name in self.fail_write:
            chunks = _fail_midway(name, chunks)
        return self.inner.write_export(name, chunks, on_conflict=on_conflict)


def _names(field: str, value: object) -> frozenset[str]:
    """*value* as a set of names: one string is one name; handles are their strings."""
    if isinstance(value, str | AssetHandle):
        value = (value,)
    if not isinstance(value, Iterable):
        msg = f"{field} must be names (strings or handles), got {type(value).__name__}"
        raise TypeError(msg)
    names: set[str] = set()
    for item in value:
        if isinstance(item, AssetHandle):
            names.add(item.value)
        elif isinstance(item, str):
            names.add(item)
        else:
            msg = f"{field} must be names (strings or handles), got {item!r}"
            raise TypeError(msg)
    return frozenset(names)
