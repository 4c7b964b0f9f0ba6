"""ZipStore's archive grows while the job runs, survives a kill, and publishes under the policy.

The gated converter holds one asset back: the entries before it must already be in the archive
being written (read from its local headers), the ones after it wait in the spool.
"""

from __future__ import annotations

import os
import struct
import threading
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from exportjob import AssetProgress, ExportEngine, ExportJob, JobContext
from exportjob.converters import CopyConverter
from exportjob.delivery import verify
from exportjob.exceptions import OutputExistsError
from exportjob.plans import ExportPlan
from exportjob.protocols import ConversionOutput, OnConflict
from exportjob.stores import DirectoryStore, ZipStore

CONTEXT = JobContext(company="default")
HANDLES = [f"p{i}.bin" for i in range(8)]
HELD = "p3.bin"


class HoldOne:
    """Copies every original; the conversion of *held* waits until the test opens the gate."""

    def __init__(self, held: str) -> None:
        self.held = held
        self.gate = threading.Event()

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        if plan.handle.value == self.held:
            assert self.gate.wait(timeout=60), "the test never opened the gate"
        return CopyConverter().convert(source, plan)


@pytest.fixture
def originals(tmp_path: Path) -> DirectoryStore:
    src = tmp_path / "src"
    src.mkdir()
    for i, handle in enumerate(HANDLES):
        (src / handle).write_bytes(bytes([i]) * (3000 + 1000 * i) + os.urandom(64))
    return DirectoryStore(src, tmp_path / "unused")


def local_entries(path: Path) -> list[str]:
    """The names of the local headers of *path*, read from its start (no central directory)."""
    names, data, offset = [], path.read_bytes(), 0
    while data[offset : offset + 4] == b"PK\x03\x04":
        name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
        name = data[offset + 30 : offset + 30 + name_length].decode()
        (size,) = struct.unpack_from("<Q", data, offset + 30 + name_length + 4)
        names.append(name)
        offset += 30 + name_length + extra_length + size
    return names


def both(*callbacks: Any) -> Any:
    def call(event: AssetProgress) -> None:
        for callback in callbacks:
            callback(event)

    return call


def test_the_archive_holds_the_finished_prefix_before_the_job_ends(
    originals: DirectoryStore, tmp_path: Path
) -> None:
    job = ExportJob(asset_handles=HANDLES, fmt="orig")
    store = ZipStore(originals, tmp_path / "out" / "delivery.zip")
    converter = HoldOne(HELD)
    all_but_one = threading.Event()

    def count(event: AssetProgress) -> None:
        if event.done == len(HANDLES) - 1:
            all_but_one.set()

    with ExportEngine(store, converter, workers=3) as engine:
        run = engine.submit(job, CONTEXT, progress=both(store.stream(job), count))
        try:
            assert all_but_one.wait(timeout=60)
            part = store.spool / ".archive" / "part-001.zip"
            assert local_entries(part) == ["p0.bin", "p1.bin", "p2.bin"]
            spooled = sorted(p.name for p in store.spool.iterdir() if p.is_file())
            assert spooled == ["p4.bin", "p5.bin", "p6.bin", "p7.bin"]  # out of order only
            with pytest.raises(zipfile.BadZipFile):  # no central directory: never looks complete
                zipfile.ZipFile(part)
            assert not (tmp_path / "out" / "delivery.zip").exists()
        finally:
            converter.gate.set()
        log = run.result()
    (written,) = store.finish(log)
    assert verify(written.location).ok
    assert zipfile.ZipFile(written.location).namelist()[:8] == HANDLES
    # The same job written only at its end gives the same bytes.
    batch = ZipStore(originals, tmp_path / "batch" / "delivery.zip")
    with ExportEngine(batch, CopyConverter(), workers=3) as engine:
        (again,) = batch.finish(engine.run(job, CONTEXT))
    assert Path(again.location).read_bytes() == Path(written.location).read_bytes()


@pytest.mark.parametrize("volume_size", [None, 9000], ids=["one-archive", "volumes"])
def test_a_streamed_archive_killed_midway_is_finished_to_the_same_bytes(
    originals: DirectoryStore, tmp_path: Path, volume_size: int | None
) -> None:
    job = ExportJob(asset_handles=HANDLES, fmt="orig")
    clean = ZipStore(originals, tmp_path / "clean" / "d.zip", volume_size=volume_size)
    with ExportEngine(clean, CopyConverter(), workers=2) as engine:
        log = engine.run(job, CONTEXT, progress=clean.stream(job))
    expected = [Path(w.location).read_bytes() for w in clean.finish(log)]

    archive = tmp_path / "out" / "d.zip"
    store = ZipStore(originals, archive, volume_size=volume_size)
    journal = store.spool / ".exportjob" / "job.jsonl"
    runs: list[Any] = []

    def stop_after_five(event: AssetProgress) -> None:
        if event.done == 5:
            runs[0].stop()

    with ExportEngine(store, CopyConverter(), workers=1) as engine:
        runs.append(engine.submit(job, CONTEXT, journal=journal, progress=both(
            store.stream(job), stop_after_five
        )))  # fmt: skip
        stopped = runs[0].result()
    assert 5 <= stopped.counts.success < len(HANDLES)
    parts = sorted((store.spool / ".archive").glob("*.zip"))
    assert parts
    assert all(local_entries(p) for p in parts)
    # A kill in the middle of the next append: a torn entry and a torn index line.
    with parts[-1].open("ab") as f:
        f.write(b"PK\x03\x04 torn")
    with parts[-1].with_name(parts[-1].name + ".index").open("a") as f:
        f.write('{"name": "p7')
    assert not list(archive.parent.glob("d*.zip"))

    resumed = ZipStore(originals, archive, volume_size=volume_size)
    with ExportEngine(resumed, CopyConverter(), workers=2) as engine:
        log = engine.run(job, CONTEXT, journal=journal, progress=resumed.stream(job))
    assert log.counts.success == len(HANDLES)
    written = resumed.finish(log)
    assert [Path(w.location).read_bytes() for w in written] == expected
    assert all(verify(w.location).ok for w in written)
    assert not resumed.spool.exists()


def test_an_archive_never_silently_replaces_another(
    originals: DirectoryStore, tmp_path: Path
) -> None:
    job = ExportJob(asset_handles=HANDLES[:2], fmt="orig")
    archive = tmp_path / "d.zip"
    archive.write_bytes(b"someone else's archive")
    store = ZipStore(originals, archive)
    with ExportEngine(store, CopyConverter()) as engine:
        log = engine.run(job, CONTEXT)
    for policy in ("error", "skip"):
        with pytest.raises(OutputExistsError) as info:
            store.finish(log, on_conflict=policy)
        # It said "in the export folder" and to "choose another conflict policy to replace, rename
        # or skip it": skip publishes no archive either, and the CLI's option went unnamed.
        assert str(info.value) == (
            f"d.zip already exists in {tmp_path} and was not written by this job; it was left "
            "untouched (--on-conflict rename publishes the archive under the next free name, "
            "--on-conflict replace replaces it: ZipStore.finish's on_conflict)"
        )
    assert archive.read_bytes() == b"someone else's archive"
    (renamed,) = store.finish(log, on_conflict=OnConflict.RENAME)  # the spool is still there
    assert renamed.name == "d-2.zip"
    assert verify(renamed.location).ok


@pytest.mark.parametrize("policy", ["bogus", 5])
def test_finish_refuses_a_conflict_policy_that_is_none_saying_which_are(
    originals: DirectoryStore, tmp_path: Path, policy: object
) -> None:
    """It said ``'bogus' is not a valid OnConflict``, naming neither the argument nor the values."""
    store = ZipStore(originals, tmp_path / "d.zip")
    with ExportEngine(store, CopyConverter()) as engine:
        log = engine.run(ExportJob(asset_handles=HANDLES[:1], fmt="orig"), CONTEXT)
    with pytest.raises(
        ValueError, match=r"on_conflict must be one of error, skip, replace, rename"
    ):
        store.finish(log, on_conflict=policy)  # type: ignore[arg-type]
    (written,) = store.finish(log, on_conflict="rename")  # nothing was done: it can finish
    assert written.name == "d.zip"


@pytest.mark.parametrize("originals", ["src", None], ids=["a-folder-name", "none"])
def test_a_zip_store_refuses_originals_that_are_no_store(originals: Any, tmp_path: Path) -> None:
    """``ZipStore("src", path)`` was accepted; every asset then failed ``AttributeError``."""
    with pytest.raises(
        TypeError,
        match=r"originals must be an AssetStore: an object with the "
        r"methods describe and open_original .*; got .*, without describe or "
        r"open_original",
    ):
        ZipStore(originals, tmp_path / "d.zip")
    assert not (tmp_path / "d.zip.parts").exists()


@pytest.mark.parametrize("size", ["1M", 1.5e6, True], ids=["a-cli-size", "a-float", "a-bool"])
def test_a_volume_size_that_is_no_number_of_bytes_says_what_it_must_be(
    originals: DirectoryStore, tmp_path: Path, size: Any
) -> None:
    """``volume_size="1M"`` raised a bare ``'<' not supported between 'str' and 'int'``."""
    with pytest.raises(TypeError) as info:
        ZipStore(originals, tmp_path / "d.zip", volume_size=size)
    assert f"volume_size must be a whole number of bytes (an int), got {size!r}" in str(info.value)
    assert "exportjob.cli.byte_size('1M')" in str(info.value)
    with pytest.raises(ValueError, match="volume_size must be positive, got 0"):
        ZipStore(originals, tmp_path / "d.zip", volume_size=0)
