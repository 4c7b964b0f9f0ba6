"""Fault injection: 200 assets, a tenth of reads and a tenth of writes fail; the log is exact."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from exportjob import AssetStatus, ExportEngine, ExportJob, JobContext
from exportjob.converters import CopyConverter
from exportjob.stores import DirectoryStore
from exportjob.testing import FaultyStore

COUNT = 200
CHUNK = 64


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
        fail_read=fail_stream,
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
