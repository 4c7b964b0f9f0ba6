"""An adversarial review of the streaming engine: what a hostile host or a broken world does to it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import BinaryIO

import pytest

from exportjob import (
    AssetHandle,
    AssetProgress,
    AssetStatus,
    ConversionOutput,
    ExportEngine,
    ExportJob,
    ExportPlan,
    JobContext,
    JobLog,
)
from exportjob.converters import CopyConverter
from exportjob.stores import DirectoryStore

ACME = JobContext(company="acme")


def folder(root: Path, count: int) -> DirectoryStore:
    src = root / "src"
    src.mkdir()
    for i in range(count):
        (src / f"asset-{i:02}.bin").write_bytes(f"original {i} ".encode() * 20)
    return DirectoryStore(src, root / "out", default_company="acme")


def handles(count: int) -> list[str]:
    return [f"asset-{i:02}.bin" for i in range(count)]


def check_counts(log: JobLog) -> None:
    c = log.counts
    assert c.success + c.error + c.not_run + c.skipped + c.duplicate == c.total


def check_log_matches_folder(log: JobLog, store: DirectoryStore) -> None:
    """Every file in the export folder is an export the log reports, and the other way round."""
    exported = {o.output_name for o in log.outcomes if o.status is AssetStatus.EXPORTED}
    assert {p.name for p in store.exported()} == exported


class GatedConverter:
    """Copies; the conversion of *late* waits until *release* is set, after telling *started*."""

    def __init__(self, late: str) -> None:
        self.late = late
        self.started = threading.Event()
        self.release = threading.Event()

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        if plan.handle.value == self.late:
            self.started.set()
            assert self.release.wait(30)
        else:
            assert self.started.wait(30)  # the late asset is in flight when this one ends
        return CopyConverter().convert(source, plan)


@pytest.mark.parametrize("raised", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_in_the_coordinator_leaves_no_export_running_after_the_log(
    tmp_path: Path, raised: type[BaseException]
) -> None:
    """Ctrl-C (or a SystemExit) in the coordinating thread: what was in flight is waited for.

    The first asset's progress callback raises while the second asset is converting. The job ends
    and re-raises, but the second asset's file landed after the log called it ``not_run``: the log
    lied, and the export folder changed after ``run()`` had returned.
    """
    store = folder(tmp_path, 2)
    converter = GatedConverter(late="asset-01.bin")

    def interrupt(event: AssetProgress) -> None:
        if event.outcome.handle == AssetHandle("asset-00.bin"):
            converter.release.set()
            raise raised

    with ExportEngine(store, converter, workers=2) as engine:
        run = engine.submit(
            ExportJob(asset_handles=handles(2), fmt="orig"), ACME, progress=interrupt
        )
        log = run.result()
    # the engine is closed: its pool has finished whatever it was given
    check_counts(log)
    check_log_matches_folder(log, store)
