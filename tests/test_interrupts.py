"""A plug-in raising ``SystemExit``, ``KeyboardInterrupt`` or another ``BaseException`` (docs/security.md).

Whatever raises it (the converter, the store's describe, open or write, a progress callback, the
notifier), the job ends ``failed`` with a log saying why, its ``JobRun.result()`` returns, what it
exported is in that log, and ``run`` raises the exception again with the log attached.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

import pytest

from exportjob import (
    Asset,
    AssetHandle,
    ConversionOutput,
    ExportEngine,
    ExportJob,
    ExportPlan,
    JobContext,
    JobLog,
)
from exportjob.converters import CopyConverter
from exportjob.joblog import AssetStatus, JobState, LogType
from exportjob.protocols import OnConflict, WrittenExport
from exportjob.stores import MemoryStore
from exportjob.testing import RecordingNotifier

HANDLES = ["a|1", "a|2", "a|3"]
VICTIM = AssetHandle("a|2")


class Abort(BaseException):
    """A host's own BaseException, neither SystemExit nor KeyboardInterrupt."""


RAISED: list[Callable[[], BaseException]] = [
    lambda: SystemExit(3),
    KeyboardInterrupt,
    lambda: Abort("host abort"),
]


class Store(MemoryStore):
    """A memory store that raises *error* in *stage* for the victim handle."""

    def __init__(self, stage: str | None = None, error: BaseException | None = None) -> None:
        super().__init__(default_company="acme")
        self.stage, self.error = stage, error
        for n, handle in enumerate(HANDLES, 1):
            self.add(handle, b"%PDF-1.7 " + bytes([n]) * 16, file_name=f"file{n}.pdf")

    def _maybe(self, stage: str, handle: object) -> None:
        if self.stage == stage and self.error is not None and str(handle) == VICTIM.value:
            raise self.error

    def describe(self, handle: AssetHandle) -> Asset:
        self._maybe("describe", handle)
        return super().describe(handle)

    def open_original(self, handle: AssetHandle) -> contextlib.AbstractContextManager[BinaryIO]:
        self._maybe("open", handle)
        return super().open_original(handle)

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        self._maybe("write", "a|2" if name == "file2.pdf" else name)
        return super().write_export(name, chunks, on_conflict=on_conflict)


class Converter:
    """``CopyConverter``, raising *error* for the victim handle."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        if self.error is not None and plan.handle == VICTIM:
            raise self.error
        return CopyConverter().convert(source, plan)


def engine_for(source: str, error: BaseException) -> tuple[ExportEngine, Store, dict[str, Any]]:
    """An engine whose *source* raises *error*; the extra arguments ``run``/``submit`` take."""
    extra: dict[str, Any] = {}
    store = Store(source, error) if source in {"describe", "open", "write"} else Store()
    converter = Converter(error if source == "converter" else None)
    notifier = RecordingNotifier(raises=error if source == "notifier" else None)
    if source == "progress":

        def progress(event: object) -> None:
            raise error

        extra["progress"] = progress
    engine = ExportEngine(store, converter, notifier=notifier, workers=1)
    return engine, store, extra


SOURCES = ["converter", "describe", "open", "write", "progress", "notifier"]
JOB = ExportJob(asset_handles=HANDLES, fmt="orig", email_setting="All")
CONTEXT = JobContext(company="acme", user="ann@example.com")


def EACH_SOURCE_AND_ERROR(test: Callable[..., None]) -> Callable[..., None]:
    """Run *test* for each source times each exception."""
    by_error = pytest.mark.parametrize(
        "make_error", RAISED, ids=["SystemExit", "KeyboardInterrupt", "Abort"]
    )
    marked: Callable[..., None] = by_error(pytest.mark.parametrize("source", SOURCES)(test))
    return marked


def assert_ended_saying_why(log: JobLog, store: Store, error: BaseException, source: str) -> None:
    assert log.state is JobState.FAILED
    assert log.fatal_error
    [fatal] = [d for d in log.details if d.log_type is LogType.FATAL_ERROR]
    assert type(error).__name__ in fatal.message
    assert [o.handle.value for o in log.outcomes] == HANDLES  # exactly one outcome each
    counts = log.counts
    assert counts.success + counts.error + counts.not_run == counts.total == len(HANDLES)
    exported = {o.output_name for o in log.outcomes if o.status is AssetStatus.EXPORTED}
    assert exported == set(store.exports)  # every export written is in the log, and no other
    if source in {"converter", "describe", "open", "write"}:
        assert log.outcome(VICTIM.value).status is AssetStatus.FAILED
        assert "file2.pdf" not in store.exports


@EACH_SOURCE_AND_ERROR
def test_run_ends_the_job_with_its_log_then_raises_again(
    source: str, make_error: Callable[[], BaseException]
) -> None:
    error = make_error()
    engine, store, extra = engine_for(source, error)
    with engine, pytest.raises(type(error)) as info:
        engine.run(JOB, CONTEXT, **extra)
    assert info.value is error
    log = info.value.exportjob_log  # type: ignore[attr-defined]
    assert isinstance(log, JobLog)
    assert_ended_saying_why(log, store, error, source)
    assert engine.active_jobs() == ()


@EACH_SOURCE_AND_ERROR
def test_a_submitted_job_always_ends_and_result_returns(
    source: str, make_error: Callable[[], BaseException]
) -> None:
    error = make_error()
    engine, store, extra = engine_for(source, error)
    with engine:
        job_run = engine.submit(JOB, CONTEXT, **extra)
        log = job_run.result(timeout=60)  # a bound only so that a regression cannot hang the suite
    assert job_run.status is JobState.FAILED
    assert_ended_saying_why(log, store, error, source)
    assert engine.active_jobs() == ()
