"""An asset whose own file name is its output name keeps it, whatever comes first in the job."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

import pytest

from exportjob import (
    Asset,
    AssetHandle,
    AssetProgress,
    ExportEngine,
    ExportJob,
    JobContext,
    plan_exports,
)
from exportjob.converters import PillowConverter
from exportjob.protocols import AssetStore, NamedHandles, OnConflict, WrittenExport
from exportjob.stores import DirectoryStore, MemoryStore
from exportjob.testing.images import encode, gradient

ACME = JobContext(company="acme")
GIF = encode(gradient((16, 12)), "GIF")
JPEG = encode(gradient((16, 12)), "JPEG")
PNG = encode(gradient((16, 12)), "PNG")
#: handle -> (file name, bytes): the converted gif and png come before the files whose names they want
FILES = {
    "hopper.gif": GIF,
    "hopper.jpg": JPEG,
    "logo.png": PNG,
    "logo-2.jpg": JPEG,
    "logo.jpg": JPEG,
}
EXPECTED = ["hopper-2.jpg", "hopper.jpg", "logo-3.jpg", "logo-2.jpg", "logo.jpg"]
JOB = ExportJob(asset_handles=list(FILES), fmt="convert", is_modifier="&fmt=jpeg")


class Latent:
    """A store whose describes take a random (seeded) time, without the capability."""

    def __init__(self, inner: MemoryStore | DirectoryStore, seed: int) -> None:
        self.named = inner
        self.random = random.Random(seed)
        self.lock = threading.Lock()

    def describe(self, handle: AssetHandle) -> Asset:
        with self.lock:
            pause = self.random.random() * 0.003
        time.sleep(pause)
        return self.named.describe(handle)

    def open_original(self, handle: AssetHandle) -> AbstractContextManager[BinaryIO]:
        return self.named.open_original(handle)

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        return self.named.write_export(name, chunks, on_conflict=on_conflict)


class LatentNamed(Latent):
    """The same, telling file names as its inner store does (``NamedHandles``)."""

    def file_name_of(self, handle: AssetHandle) -> str | None:
        return self.named.file_name_of(handle)


def memory_store() -> MemoryStore:
    store = MemoryStore(default_company="acme")
    for handle, data in FILES.items():
        store.add(handle, data)
    return store


def directory_store(tmp_path: Path) -> DirectoryStore:
    source = tmp_path / "src"
    source.mkdir()
    for handle, data in FILES.items():
        (source / handle).write_bytes(data)
    return DirectoryStore(source, tmp_path / "out", default_company="acme")


def test_plan_exports_keeps_an_own_name_for_a_later_asset() -> None:
    assets = [Asset(handle=h, type="Image", name="x", file_name=h, company="acme") for h in FILES]
    plans = plan_exports(assets, JOB)
    assert [p.output_name for p in plans] == EXPECTED
    assert any("'hopper.jpg' is taken" in w for w in plans[0].warnings)
    assert not any("is taken" in w for w in plans[1].warnings)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", ["memory", "directory"])
def test_the_engine_keeps_own_names_whatever_the_describe_timing(
    kind: str, seed: int, tmp_path: Path
) -> None:
    inner = memory_store() if kind == "memory" else directory_store(tmp_path)
    assert isinstance(inner, NamedHandles)
    with ExportEngine(LatentNamed(inner, seed), PillowConverter(), workers=3) as engine:
        assert [p.output_name for p in engine.plan(JOB, ACME)] == EXPECTED
        log = engine.run(JOB, ACME)
    assert log.counts.success == len(FILES)
    assert [o.output_name for o in log.outcomes] == EXPECTED
    assert inner.read_export("hopper.jpg")[:3] == b"\xff\xd8\xff"


def test_a_store_without_the_capability_names_first_come_first_served() -> None:
    store: AssetStore = Latent(memory_store(), 0)
    assert not isinstance(store, NamedHandles)
    with ExportEngine(store, PillowConverter(), workers=2) as engine:
        log = engine.run(JOB, ACME)
    assert [o.output_name for o in log.outcomes][:2] == ["hopper.jpg", "hopper-2.jpg"]


def test_a_handle_that_is_not_found_keeps_no_name_from_the_others(tmp_path: Path) -> None:
    store = directory_store(tmp_path)
    assert store.file_name_of(AssetHandle("missing/hopper.jpg")) == "hopper.jpg"
    job = ExportJob(
        asset_handles=["missing/hopper.jpg", "hopper.gif", "missing/logo.jpg", "hopper.jpg"],
        fmt="convert",
        is_modifier="&fmt=jpeg",
    )
    with ExportEngine(store, PillowConverter(), workers=2) as engine:
        log = engine.run(job, ACME)
    names = [o.output_name for o in log.outcomes]
    assert names == [None, "hopper-2.jpg", None, "hopper.jpg"]


@pytest.mark.parametrize("stop_after", [1, 2, 3])
def test_a_resumed_job_keeps_the_names_it_gave(stop_after: int, tmp_path: Path) -> None:
    journal = tmp_path / "job.jsonl"
    store = directory_store(tmp_path)
    with ExportEngine(store, PillowConverter(), workers=1) as engine:
        seen: list[AssetProgress] = []

        def stop(event: AssetProgress) -> None:
            seen.append(event)
            if len(seen) == stop_after:
                for run in engine.active_jobs():
                    run.stop()

        first = engine.submit(JOB, ACME, journal=journal, progress=stop).result(timeout=60)
    assert first.counts.success < len(FILES)
    with ExportEngine(store, PillowConverter(), workers=2) as engine:
        log = engine.run(JOB, ACME, journal=journal)
    assert log.counts.success == len(FILES)
    assert [o.output_name for o in log.outcomes] == EXPECTED
    assert sorted(p.name for p in store.exported()) == sorted(EXPECTED)
