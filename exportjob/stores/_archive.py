"""A ZIP64 archive written entry by entry into a local file, resumable after a kill.

``ArchiveWriter`` appends stored (uncompressed) entries to a file that has no central directory
until ``close`` writes it: until then no ZIP reader opens the file, so a half-written archive
never looks complete. After each entry the file is fsynced and the entry (name, offset, size,
CRC-32, SHA-256) is appended to an index beside it (``NAME.index``, one JSON line each, fsynced
too), so a writer opened again on the same file continues after the last indexed entry: bytes
past it (a torn entry, or the manifest and central directory of an archive that was closed but
not yet published) are cut off. Every field that could vary is fixed (timestamps 1980-01-01,
Unix attributes, ZIP64 extras on every entry, UTF-8 names), so the same entries give the same
bytes however many times the writing was interrupted.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import struct
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import attrs

__all__ = ["ArchiveEntry", "ArchiveWriter"]

_BLOCK = 1 << 20
_VERSION = 45  # ZIP64
_MADE_BY = (3 << 8) | _VERSION  # Unix, whatever the platform
_UTF8 = 0x800
_DOS_DATE = (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0
_ATTRIBUTES = 0o100644 << 16
_FULL32 = 0xFFFFFFFF
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR = struct.Struct("<IIQI")
_END = struct.Struct("<IHHHHIIH")
_LOCAL_EXTRA = struct.Struct("<HHQQ")
_CENTRAL_EXTRA = struct.Struct("<HHQQQ")


@attrs.frozen
class ArchiveEntry:
    """One entry of an archive: where its local header starts, its size and checksums."""

    name: str
    offset: int
    size: int
    crc: int
    sha256: str

    @property
    def end(self) -> int:
        """The offset just past the entry's data."""
        return self.offset + _LOCAL.size + len(self.name.encode()) + _LOCAL_EXTRA.size + self.size


def _local_header(name: bytes, crc: int, size: int) -> bytes:
    fixed = _LOCAL.pack(
        0x04034B50, _VERSION, _UTF8, 0, _DOS_TIME, _DOS_DATE, crc, _FULL32, _FULL32,
        len(name), _LOCAL_EXTRA.size,
    )  # fmt: skip
    return fixed + name + _LOCAL_EXTRA.pack(1, 16, size, size)


def _central_header(entry: ArchiveEntry) -> bytes:
    name = entry.name.encode()
    fixed = _CENTRAL.pack(
        0x02014B50, _MADE_BY, _VERSION, _UTF8, 0, _DOS_TIME, _DOS_DATE, entry.crc, _FULL32,
        _FULL32, len(name), _CENTRAL_EXTRA.size, 0, 0, 0, _ATTRIBUTES, _FULL32,
    )  # fmt: skip
    return fixed + name + _CENTRAL_EXTRA.pack(1, 24, entry.size, entry.size, entry.offset)


def _end_records(count: int, start: int, size: int) -> bytes:
    end64 = start + size
    return (
        _END64.pack(0x06064B50, _END64.size - 12, _MADE_BY, _VERSION, 0, 0, count, count, size, start)
        + _LOCATOR.pack(0x07064B50, 0, end64, 1)
        + _END.pack(0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF), min(size, _FULL32),
                    _FULL32, 0)
    )  # fmt: skip


def _line(entry: ArchiveEntry) -> str:
    return json.dumps(attrs.asdict(entry), ensure_ascii=False, sort_keys=True) + "\n"


class ArchiveWriter:
    """Append entries to the ZIP64 archive at *path* (a local file), resuming from its index."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.index = path.with_name(path.name + ".index")
        self.entries: list[ArchiveEntry] = self._load()

    def __repr__(self) -> str:
        return f"<ArchiveWriter {self.path.name} with {len(self.entries)} entries>"

    @property
    def end(self) -> int:
        """Where the next entry starts: just past the last indexed one."""
        return self.entries[-1].end if self.entries else 0

    def _load(self) -> list[ArchiveEntry]:
        entries: list[ArchiveEntry] = []
        try:
            lines = self.index.read_text(encoding="utf-8").splitlines()
            length = self.path.stat().st_size
        except FileNotFoundError:
            self.index.unlink(missing_ok=True)
            return entries
        for line in lines:
            try:
                entry = ArchiveEntry(**json.loads(line))
            except (ValueError, TypeError):
                break  # a torn last line: the entry it describes is cut off below
            if entry.end > length:
                break
            entries.append(entry)
        if len(entries) < len(lines):  # later lines would follow the torn one: rewrite it
            self._rewrite(entries)
        if self.path.stat().st_nlink > 1:
            self._detach()
        return entries

    def _rewrite(self, entries: list[ArchiveEntry]) -> None:
        fresh = self.index.with_name(self.index.name + ".new")
        with fresh.open("w", encoding="utf-8") as index:
            index.writelines(_line(e) for e in entries)
            index.flush()
            os.fsync(index.fileno())
        fresh.replace(self.index)

    def _detach(self) -> None:
        """Give the file an inode of its own: it was published as the archive by a hard link."""
        copy = self.path.with_name(self.path.name + ".copy")
        shutil.copyfile(self.path, copy)
        copy.replace(self.path)

    def _open(self) -> BinaryIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        stream = os.fdopen(fd, "r+b")
        stream.truncate(self.end)
        stream.seek(self.end)
        return stream

    def append(self, name: str, source: BinaryIO) -> ArchiveEntry:
        """Append the entry *name* with what remains of *source*; durable (and indexed) on return.

        On an error the file is cut back to the entries before this one.
        """
        with self._open() as stream:
            try:
                entry = self._write(stream, name, source)
                stream.flush()
                os.fsync(stream.fileno())
            except BaseException:
                with contextlib.suppress(OSError):
                    stream.truncate(self.end)
                raise
        with self.index.open("a", encoding="utf-8") as index:
            index.write(_line(entry))
            index.flush()
            os.fsync(index.fileno())
        self.entries.append(entry)
        return entry

    def _write(self, stream: BinaryIO, name: str, source: BinaryIO) -> ArchiveEntry:
        encoded = name.encode()
        offset = stream.tell()
        stream.write(_local_header(encoded, 0, 0))
        crc, size, digest = 0, 0, hashlib.sha256()
        while block := source.read(_BLOCK):
            stream.write(block)
            crc = zlib.crc32(block, crc)
            digest.update(block)
            size += len(block)
        stream.seek(offset)
        stream.write(_local_header(encoded, crc, size))
        stream.seek(0, os.SEEK_END)
        return ArchiveEntry(name, offset, size, crc, digest.hexdigest())

    def close(self, trailing: Iterable[tuple[str, bytes]]) -> int:
        """Write the *trailing* entries (not indexed), the central directory; return the size.

        The file is then a complete ZIP (still under its temporary name); a writer opened on it
        again cuts the trailing entries and the directory off and continues after the indexed ones.
        """
        entries = list(self.entries)
        with self._open() as stream:
            for name, data in trailing:
                entries.append(self._write(stream, name, io.BytesIO(data)))
            start = stream.tell()
            directory = b"".join(_central_header(e) for e in entries)
            stream.write(directory)
            stream.write(_end_records(len(entries), start, len(directory)))
            stream.flush()
            os.fsync(stream.fileno())
            return stream.tell()
