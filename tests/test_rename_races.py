"""Under ``rename``, a name another job takes between an asset's planning and its write.

While the planner looks at the export area, the store is asked to write each planned name as under
``error``; an asset whose name was taken since it was planned is planned again under the next free
variant and run again, so it never takes a name planned for a later asset of the job.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
from collections.abc import Collection, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import BinaryIO

import pytest

from exportjob import (
    Asset,
    AssetHandle,
    AssetStatus,
    ExportEngine,
    ExportJob,
    JobContext,
    JobLog,
)
from exportjob.converters import CopyConverter
from exportjob.exceptions import OutputExistsError
from exportjob.protocols import OnConflict, WrittenExport
from exportjob.stores import DirectoryStore, MemoryStore
from tests.cluster import local_client

ACME = JobContext(company="acme")
TAKEN = "output name 'a.bin' was taken in the export area when it was written"


def names(log: JobLog) -> dict[str, str | None]:
    return {o.handle.value: o.output_name for o in log.outcomes}


def alike(tmp_path: Path, folders: Iterable[str] = ("x", "y")) -> tuple[Path, Path]:
    """Sources ``<folder>/a.bin`` with the same bytes, and an empty export folder."""
    src, out = tmp_path / "src", tmp_path / "out"
    for f in folders:
        (src / f).mkdir(parents=True)
        (src / f / "a.bin").write_bytes(b"same")
    out.mkdir()
    return src, out


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}


def job_of(*folders: str) -> ExportJob:
    return ExportJob(asset_handles=[f"{f}/a.bin" for f in folders], fmt="orig")


class Raced(DirectoryStore):
    """A folder store into which another job writes each of *raced* just before this job does.

    The other job's file is made with ``O_EXCL``, once, so the race happens in whichever process
    writes the name first. A write that finds its name taken sets *collided* and calls
    ``collision`` (which subclasses override).
    """

    collided = False

    def __init__(self, source: Path, output: Path, *, raced: Collection[str]) -> None:
        super().__init__(source, output, default_company="acme")
        self.raced = tuple(raced)

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        if name in self.raced:
            with contextlib.suppress(FileExistsError):
                fd = os.open(self.output_dir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
                os.write(fd, b"another job's")
                os.close(fd)
        try:
            return super().write_export(name, chunks, on_conflict=on_conflict)
        except OutputExistsError:
            self.collided = True
            self.collision()
            raise

    def collision(self) -> None:
        """What the store does when a write finds its name taken: nothing more, here."""


def engine_on(kind: str, store: DirectoryStore) -> ExportEngine:
    if kind == "processes":
        pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
        return ExportEngine(store, CopyConverter(), executor=pool, on_conflict="rename")
    workers = 1 if kind == "one worker" else None
    return ExportEngine(store, CopyConverter(), workers=workers, on_conflict="rename")


@pytest.mark.parametrize("kind", ["one worker", "threads", "processes"])
def test_a_name_taken_since_it_was_planned_is_planned_again_never_onto_a_later_asset(
    tmp_path: Path, kind: str
) -> None:
    """The store renamed x's a.bin, taken by another job since it was planned, to a-2.bin: the
    name planned for y, whose write then found its own bytes there. Both were logged as exported
    to that one file, and a resumed job wrote x a second time."""
    src, out = alike(tmp_path)
    store = Raced(src, out, raced=["a.bin"])
    job = job_of("x", "y")
    journal = tmp_path / "job.jsonl"
    with engine_on(kind, store) as engine:
        log = engine.run(job, ACME, journal=journal)
    assert names(log) == {"x/a.bin": "a-3.bin", "y/a.bin": "a-2.bin"}
    assert files(out) == {"a.bin": b"another job's", "a-2.bin": b"same", "a-3.bin": b"same"}
    assert log.outcome("x/a.bin").warnings == (f"{TAKEN}; written as 'a-3.bin'",)
    # A kill after x was written, before its outcome was journaled: its new name was.
    lines = journal.read_text().splitlines()
    assert [json.loads(ln)["name"] for ln in lines if '"planned":"x/a.bin"' in ln] == [
        "a.bin",
        "a-3.bin",
    ]
    journal.write_text("".join(f"{ln}\n" for ln in lines if '"handle":"x/a.bin"' not in ln))
    with engine_on(kind, store) as engine:
        again = engine.run(job, ACME, journal=journal)
    assert again.counts.success == 2
    assert names(again) == names(log)
    assert sorted(files(out)) == ["a-2.bin", "a-3.bin", "a.bin"]


def test_units_of_several_plans_on_processes_with_two_names_taken(tmp_path: Path) -> None:
    folders = [f"f{i}" for i in range(8)]
    src, out = alike(tmp_path, folders)
    store = Raced(src, out, raced=["a.bin", "a-3.bin"])
    job = job_of(*folders)
    journal = tmp_path / "job.jsonl"
    with engine_on("processes", store) as engine:
        log = engine.run(job, ACME, journal=journal)
    got = names(log)
    assert log.counts.success == 8
    assert len(set(got.values()) - {"a.bin", "a-3.bin"}) == 8
    assert len(files(out)) == 10
    lines = journal.read_text().splitlines()  # a kill before any outcome was journaled
    journal.write_text("".join(f"{ln}\n" for ln in lines if '"handle"' not in ln))
    with engine_on("processes", store) as engine:
        again = engine.run(job, ACME, journal=journal)
    assert names(again) == got
    assert len(files(out)) == 10


def test_on_a_dask_cluster(tmp_path: Path) -> None:
    src, out = alike(tmp_path)
    store = Raced(src, out, raced=["a.bin"])
    with (
        local_client() as client,
        ExportEngine(
            store, CopyConverter(), executor=client.get_executor(), on_conflict="rename"
        ) as engine,
    ):
        log = engine.run(job_of("x", "y"), ACME)
    assert names(log) == {"x/a.bin": "a-3.bin", "y/a.bin": "a-2.bin"}
    assert files(out) == {"a.bin": b"another job's", "a-2.bin": b"same", "a-3.bin": b"same"}


class AlwaysRaced(Raced):
    """Another job takes every name just before this job writes it."""

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        self.raced = (name,)
        return super().write_export(name, chunks, on_conflict=on_conflict)


def test_an_asset_whose_every_new_name_is_taken_when_written_fails_after_a_few_plans(
    tmp_path: Path,
) -> None:
    src, out = alike(tmp_path, ["x"])
    with engine_on("one worker", AlwaysRaced(src, out, raced=())) as engine:
        log = engine.run(job_of("x"), ACME)
    outcome = log.outcome("x/a.bin")
    assert outcome.code == "OUTPUT_EXISTS"
    assert outcome.output_name == "a-9.bin"  # planned 8 times again after a.bin
    assert set(files(out).values()) == {b"another job's"}
    assert len(files(out)) == 9


def test_a_name_planned_again_keeps_one_warning_about_its_names(tmp_path: Path) -> None:
    """x was planned a-2.bin (a.bin is there), then written as a-3.bin; its log said it was
    written as a-2.bin as well (found in review)."""
    src, out = alike(tmp_path, ["x"])
    (out / "a.bin").write_bytes(b"someone else's")
    with engine_on("one worker", Raced(src, out, raced=["a-2.bin"])) as engine:
        log = engine.run(job_of("x"), ACME)
    why = "output name 'a.bin' is taken, and 'a-2.bin' was taken in the export area"
    assert log.outcome("x/a.bin").warnings == (f"{why} when it was written; written as 'a-3.bin'",)


class InterruptedWhilePlanningAgain(Raced):
    """Its export area's listing raises ``KeyboardInterrupt`` once a write found its name taken."""

    def occupied_names(self, names: Collection[str]) -> set[str]:
        if self.collided:
            raise KeyboardInterrupt
        return super().occupied_names(names)


@pytest.mark.parametrize("workers", [1, 2])
def test_an_interrupt_from_the_store_while_an_asset_is_planned_again_is_raised(
    tmp_path: Path, workers: int
) -> None:
    """On a worker thread the interrupt escaped the worker's loop into its future, which holds no
    plan, and was dropped: the job ended completed with the asset not run (found in review)."""
    src, out = alike(tmp_path, ["x"])
    store = InterruptedWhilePlanningAgain(src, out, raced=["a.bin"])
    with (
        ExportEngine(store, CopyConverter(), workers=workers, on_conflict="rename") as engine,
        pytest.raises(KeyboardInterrupt) as raised,
    ):
        engine.run(job_of("x"), ACME)
    log: JobLog = raised.value.exportjob_log  # type: ignore[attr-defined]
    assert log.state.value == "failed"
    assert log.outcome("x/a.bin").code == "OUTPUT_EXISTS"
    assert files(out) == {"a.bin": b"another job's"}


class StopsWhenRaced(Raced):
    """Stops the job, as a host's ``stop()`` would, when a write finds its name taken."""

    engine: ExportEngine | None = None

    def collision(self) -> None:
        assert self.engine is not None
        for run in self.engine.active_jobs():
            run.stop()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stop_after_an_asset_was_planned_again_then_the_resumed_job(
    tmp_path: Path, workers: int
) -> None:
    src, out = alike(tmp_path, ["x", "y", "z"])
    store = StopsWhenRaced(src, out, raced=["a.bin"])
    job = job_of("x", "y", "z")
    journal = tmp_path / "job.jsonl"
    seen: list[str] = []
    with ExportEngine(
        store,
        CopyConverter(),
        workers=workers,
        on_conflict="rename",
        progress=lambda event: seen.append(event.outcome.handle.value),
    ) as engine:
        store.engine = engine
        log = engine.run(job, ACME, journal=journal)
    assert len(seen) == len(set(seen))  # no asset reported twice
    assert (log.state.value, log.outcome("x/a.bin").status) == ("stopped", AssetStatus.NOT_RUN)
    first = names(log)
    assert first["x/a.bin"] not in {first["y/a.bin"], first["z/a.bin"], "a.bin"}
    store.engine = None
    with engine_on("one worker" if workers == 1 else "threads", store) as engine:
        again = engine.run(job, ACME, journal=journal)
    assert again.counts.success == 3
    assert names(again) == first
    assert sorted(files(out)) == sorted(["a.bin", *(n for n in first.values() if n)])


class GoesBlindWhenRaced(Raced):
    """Its listing fails from the moment a write found its name taken."""

    def occupied_names(self, names: Collection[str]) -> set[str]:
        if self.collided:
            raise OSError("the listing service is down")
        return super().occupied_names(names)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_store_that_stops_answering_while_an_asset_is_planned_again(
    tmp_path: Path, workers: int
) -> None:
    src, out = alike(tmp_path)
    store = GoesBlindWhenRaced(src, out, raced=["a.bin"])
    with ExportEngine(store, CopyConverter(), workers=workers, on_conflict="rename") as engine:
        log = engine.run(job_of("x", "y"), ACME)
    assert names(log) == {"x/a.bin": "a-3.bin", "y/a.bin": "a-2.bin"}
    assert files(out) == {"a.bin": b"another job's", "a-2.bin": b"same", "a-3.bin": b"same"}


class EverythingTaken(MemoryStore):
    """A store that says every name is taken, as one that counts what it cannot look at does."""

    asked = 0

    def occupied_names(self, names: Collection[str]) -> set[str]:
        self.asked += 1
        return set(names)


def test_a_store_that_says_every_name_is_taken_renames_a_kept_name_itself() -> None:
    """The planner keeps the first name after 32 said taken; it was then written as under error,
    planned again 8 times with 32 more each, and failed OUTPUT_EXISTS in a folder holding
    a.bin to a-300.bin (found in review; the store's own renaming wrote a-301.bin before)."""
    store = EverythingTaken(default_company="acme")
    store.add("x/a.bin", b"mine", file_name="a.bin")
    for name in ["a.bin", *(f"a-{i}.bin" for i in range(2, 301))]:
        store.add_export(name, b"theirs")
    with ExportEngine(store, CopyConverter(), workers=1, on_conflict="rename") as engine:
        log = engine.run(job_of("x"), ACME)
    outcome = log.outcome("x/a.bin")
    assert (outcome.status, outcome.output_name) == (AssetStatus.EXPORTED, "a-301.bin")
    assert store.asked <= 40
    assert store.read_export("a-301.bin") == b"mine"


@pytest.mark.parametrize(
    ("policy", "status", "there"),
    [
        ("error", AssetStatus.FAILED, b"another job's"),
        ("skip", AssetStatus.SKIPPED, b"another job's"),
        ("replace", AssetStatus.EXPORTED, b"same"),
    ],
)
def test_other_policies_are_unchanged(
    tmp_path: Path, policy: str, status: AssetStatus, there: bytes
) -> None:
    src, out = alike(tmp_path, ["x"])
    with ExportEngine(
        Raced(src, out, raced=["a.bin"]), CopyConverter(), workers=2, on_conflict=policy
    ) as engine:
        log = engine.run(job_of("x"), ACME)
    assert (log.outcome("x/a.bin").status, log.outcome("x/a.bin").output_name) == (status, "a.bin")
    assert files(out) == {"a.bin": there}


class Plain:
    """A store that can tell neither which names are taken nor which exports are there."""

    def __init__(self, inner: DirectoryStore) -> None:
        self.inner = inner

    def describe(self, handle: AssetHandle) -> Asset:
        return self.inner.describe(handle)

    def open_original(self, handle: AssetHandle) -> contextlib.AbstractContextManager[BinaryIO]:
        return self.inner.open_original(handle)

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        return self.inner.write_export(name, chunks, on_conflict=on_conflict)


def test_a_store_that_can_tell_nothing_still_renames_at_write_time(tmp_path: Path) -> None:
    src, out = alike(tmp_path, ["x"])
    with ExportEngine(
        Plain(Raced(src, out, raced=["a.bin"])), CopyConverter(), on_conflict="rename"
    ) as engine:
        log = engine.run(job_of("x"), ACME)
    assert names(log) == {"x/a.bin": "a-2.bin"}
    assert log.outcome("x/a.bin").warnings == (
        "output name 'a.bin' is taken in the export area; written as 'a-2.bin'",
    )
