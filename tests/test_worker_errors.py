"""What a worker thread of the engine's pool raises outside an asset's own work.

A local worker records each outcome itself and plans more assets itself when none is ready; what
that raises (the journal, a store's ``sync`` or ``KeyboardInterrupt``) ends the job as if the
coordinating thread had raised it: an error fails the job and its log is returned, an interrupt
is raised from ``run()``. Before, it escaped the worker's loop into a future that holds no plan,
and was dropped: the job went on as if nothing had happened.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import BinaryIO

import pytest

from exportjob import (
    AssetHandle,
    AssetProgress,
    AssetStatus,
    ExportEngine,
    ExportJob,
    JobContext,
    JobLog,
)
from exportjob.converters import CopyConverter
from exportjob.protocols import OnConflict, WrittenExport
from exportjob.stores import MemoryStore

ACME = JobContext(company="acme")
HANDLES = [f"h{i:04d}" for i in range(2_000)]
JOB = ExportJob(asset_handles=HANDLES, fmt="orig")


def filled(store: MemoryStore) -> MemoryStore:
    for handle in HANDLES:
        store.add(handle, f"bytes of {handle}".encode(), file_name=f"{handle}.bin")
    return store


class FailsToSyncOnce(MemoryStore):
    """A store whose second ``sync`` (a journal commit in the middle of the job) fails."""

    syncs = 0

    def __init__(self) -> None:
        super().__init__(default_company="acme")
        self.failed = threading.Event()

    def sync(self) -> None:
        self.syncs += 1
        if self.syncs == 2:
            self.failed.set()
            raise OSError(5, "Input/output error")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_store_whose_sync_fails_mid_job_fails_it_then_the_job_run_again_finishes(
    tmp_path: Path, workers: int
) -> None:
    """On 2 threads the failed commit was dropped: the job ended completed, without a word, and
    the outcomes of that commit were never journaled."""
    store = filled(FailsToSyncOnce())
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter(), workers=workers) as engine:
        log = engine.run(JOB, ACME, journal=journal)
        assert log.state.value == "failed"
        assert "Input/output error" in log.details[-1].message
        assert log.counts.total == len(HANDLES)
        assert 0 < log.counts.success < len(HANDLES)
        written = dict(store.exports)
        again = engine.run(JOB, ACME, journal=journal)
    assert again.state.value == "completed"
    assert again.counts.success == len(HANDLES)
    assert sorted(store.exports) == sorted(f"{h}.bin" for h in HANDLES)  # none twice
    assert all(store.exports[name] == data for name, data in written.items())
    assert {o.status for o in again.outcomes} == {AssetStatus.EXPORTED}


class InterruptsOnAWorker(MemoryStore):
    """Raises ``KeyboardInterrupt`` when asked which names are taken on a thread that is not the
    one running the job: a worker of the engine's pool planning more assets itself."""

    raised = False

    def occupied_names(self, names: Collection[str]) -> set[str]:
        if threading.current_thread() is not threading.main_thread():
            self.raised = True
            raise KeyboardInterrupt
        return super().occupied_names(names)


def test_what_a_worker_raises_planning_more_itself_ends_the_job() -> None:
    """It escaped the worker's loop into its future, which holds no plan, and was dropped: the job
    went on as if nothing had happened."""
    store = InterruptsOnAWorker(default_company="acme")
    handles = [f"h{i:04d}" for i in range(2_000)]
    for handle in handles:
        store.add(handle, b"x", file_name=f"{handle}.bin")
    with (
        ExportEngine(store, CopyConverter(), workers=2, on_conflict="rename") as engine,
        pytest.raises(KeyboardInterrupt) as raised,
    ):
        engine.run(ExportJob(asset_handles=handles, fmt="orig"), ACME)
    assert store.raised
    log: JobLog = raised.value.exportjob_log  # type: ignore[attr-defined]
    assert log.state.value == "failed"
    assert log.counts.total == len(handles)


class ReturnsNothingFromWrites(FailsToSyncOnce):
    """A buggy host store: ``write_export`` writes but returns None, not a ``WrittenExport``.

    Each asset then fails ``WORKER_FAILED`` (the work unit raised), and recording that failure
    commits the journal too.
    """

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        super().write_export(name, chunks, on_conflict=on_conflict)
        return None  # type: ignore[return-value]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failed_commit_while_recording_a_failed_asset_fails_the_job(
    tmp_path: Path, workers: int
) -> None:
    """On 2 threads the commit's failure escaped the worker's loop while it recorded the asset's
    own failure, and was dropped: the job ended completed (found in review)."""
    store = filled(ReturnsNothingFromWrites())
    with ExportEngine(store, CopyConverter(), workers=workers) as engine:
        log = engine.run(JOB, ACME, journal=tmp_path / "job.jsonl")
    assert store.failed.is_set()
    assert log.state.value == "failed"
    assert "Input/output error" in log.details[-1].message


class SlowToOpen(FailsToSyncOnce):
    """Opens take 5 ms, so several assets are in flight when the commit fails."""

    def open_original(self, handle: AssetHandle) -> contextlib.AbstractContextManager[BinaryIO]:
        time.sleep(0.005)
        return super().open_original(handle)


def test_an_interrupt_after_a_failed_commit_is_still_raised(tmp_path: Path) -> None:
    """The commit's error was the first the job ended on and was kept, so a progress callback's
    later KeyboardInterrupt was swallowed and a failed log returned (found in review)."""
    store = filled(SlowToOpen())
    raised: list[str] = []

    def progress(event: AssetProgress) -> None:
        if store.failed.is_set() and not raised:
            raised.append(event.outcome.handle.value)
            raise KeyboardInterrupt

    with (
        ExportEngine(store, CopyConverter(), workers=4) as engine,
        pytest.raises(KeyboardInterrupt),
    ):
        engine.run(JOB, ACME, journal=tmp_path / "job.jsonl", progress=progress)
    assert raised


@pytest.mark.parametrize("workers", [1, 2])
def test_the_asset_whose_commit_failed_is_reported_to_progress(
    tmp_path: Path, workers: int
) -> None:
    """It was in the final log, but no progress callback heard of it and the run's count of
    finished assets ended one short (found in review)."""
    store = filled(FailsToSyncOnce())
    heard: list[str] = []
    with ExportEngine(store, CopyConverter(), workers=workers) as engine:
        run = engine.submit(
            JOB,
            ACME,
            journal=tmp_path / "job.jsonl",
            progress=lambda event: heard.append(event.outcome.handle.value),
        )
        log = run.result(timeout=60)
    assert log.state.value == "failed"
    finished = [o.handle.value for o in log.outcomes if o.status is not AssetStatus.NOT_RUN]
    assert sorted(heard) == sorted(finished)
    assert run.progress[0] == len(finished)
