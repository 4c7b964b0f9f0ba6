"""What a worker thread of the engine's pool raises outside an asset's own work.

A local worker records each outcome itself and plans more assets itself when none is ready; what
that raises (the journal, a store's ``sync`` or ``KeyboardInterrupt``) ends the job as if the
coordinating thread had raised it: an error fails the job and its log is returned, an interrupt
is raised from ``run()``. Before, it escaped the worker's loop into a future that holds no plan,
and was dropped: the job went on as if nothing had happened.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from pathlib import Path

import pytest

from exportjob import AssetStatus, ExportEngine, ExportJob, JobContext, JobLog
from exportjob.converters import CopyConverter
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

    def sync(self) -> None:
        self.syncs += 1
        if self.syncs == 2:
            raise OSError(5, "Input/output error")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_store_whose_sync_fails_mid_job_fails_it_then_the_job_run_again_finishes(
    tmp_path: Path, workers: int
) -> None:
    """On 2 threads the failed commit was dropped: the job ended completed, without a word, and
    the outcomes of that commit were never journaled."""
    store = filled(FailsToSyncOnce(default_company="acme"))
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
