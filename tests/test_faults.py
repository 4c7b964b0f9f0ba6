"""Fault injection: 200 assets, a tenth of reads and a tenth of writes fail; the log is exact."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from typing_extensions import Self

from exportjob import Asset, AssetHandle, ExportJob, JobContext, StoreReadError, StoreWriteError
from exportjob._engine import ExportEngine
from exportjob._joblog import AssetStatus
from exportjob.converters import CopyConverter
from exportjob.stores import DirectoryStore

COUNT = 200
CHUNK = 64


class BrokenRead:
    """An original whose stream fails after its first chunk (a disk or network error)."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise OSError(5, "Input/output error")
        return self.inner.read(size)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()


class FaultyStore:
    """A DirectoryStore whose reads fail at open or mid-stream, and whose writes fail midway."""

    def __init__(
        self,
        inner: DirectoryStore,
        *,
        fail_open: set[str],
        fail_stream: set[str],
        fail_write: set[str],
    ) -> None:
        self.inner = inner
        self.fail_open = fail_open
        self.fail_stream = fail_stream
        self.fail_write = fail_write

    def describe(self, handle: AssetHandle) -> Asset:
        return self.inner.describe(handle)

    def open_original(self, handle: AssetHandle) -> AbstractContextManager[BinaryIO]:
        if handle.value in self.fail_open:
            raise StoreReadError("the original is unreachable", handle=handle.value)
        stream = self.inner.open_original(handle)
        if handle.value in self.fail_stream:
            return BrokenRead(stream.__enter__())  # type: ignore[return-value]
        return stream

    def write_export(self, name: str, chunks: Iterable[bytes]) -> str:
        if name in self.fail_write:
            return self.inner.write_export(name, self._fail_midway(name, chunks))
        return self.inner.write_export(name, chunks)

    @staticmethod
    def _fail_midway(name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        iterator = iter(chunks)
        yield next(iterator)
        raise StoreWriteError(f"disk full while writing {name}")


def test_injected_faults_are_counted_exactly_and_every_other_output_is_whole(
    tmp_path: Path,
) -> None:
    rng = random.Random(20240501)
    src = tmp_path / "src"
    src.mkdir()
    originals: dict[str, bytes] = {}
    for i in range(COUNT):
        name = f"asset-{i:03}.bin"
        data = rng.randbytes(CHUNK * rng.randint(2, 6) + rng.randint(1, CHUNK))
        (src / name).write_bytes(data)
        originals[name] = data

    names = sorted(originals)
    picked = rng.sample(names, COUNT // 5)
    fail_open, fail_stream = set(picked[:10]), set(picked[10:20])
    fail_write = set(picked[20:])
    assert len(fail_open | fail_stream) == len(fail_write) == COUNT // 10

    out = tmp_path / "out"
    store = FaultyStore(
        DirectoryStore(src, out, default_company="acme"),
        fail_open=fail_open,
        fail_stream=fail_stream,
        fail_write=fail_write,
    )
    job = ExportJob(asset_handles=names, fmt="orig")
    with (
        ThreadPoolExecutor(4) as pool,
        ExportEngine(store, CopyConverter(chunk_size=CHUNK), executor=pool) as engine,
    ):
        log = engine.run(job, JobContext(company="acme"))

    failed = fail_open | fail_stream | fail_write
    counts = log.counts
    assert (counts.success, counts.error, counts.warning, counts.not_run, counts.total) == (
        COUNT - len(failed),
        len(failed),
        0,
        0,
        COUNT,
    )
    codes = {o.handle.value: o.code for o in log.outcomes if o.status is AssetStatus.FAILED}
    assert codes == (
        dict.fromkeys(fail_open | fail_stream, "STORE_READ_FAILED")
        | dict.fromkeys(fail_write, "STORE_WRITE_FAILED")
    )
    assert {d.handle.value for d in log.errors if d.handle} == failed

    written = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(written) == set(names) - failed  # nothing partial, no temporary files
    for name, data in written.items():
        assert data == originals[name]
        assert log.outcome(name).bytes_written == len(data)
