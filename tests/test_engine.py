"""The engine, end to end through the public API: every path of an asset, submit/stop, progress."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any, BinaryIO

import attrs
import pytest
from PIL import Image

from exportjob import (
    Asset,
    AssetHandle,
    AssetProgress,
    AssetStatus,
    ConversionError,
    ConversionOutput,
    ExportEngine,
    ExportJob,
    ExportPlan,
    JobContext,
    JobLog,
    JobRun,
    JobState,
    MacroError,
    MacroLibrary,
    ModifierError,
)
from exportjob.converters import CopyConverter, PillowConverter
from exportjob.exceptions import StoreWriteError, UnsafeNameError
from exportjob.joblog import LogType, Severity
from exportjob.protocols import OnConflict, WrittenExport
from exportjob.stores import MemoryStore
from exportjob.testing import RecordingNotifier, sample_jpeg

ACME = JobContext(company="acme", job_name="nightly", user="ann@example.com")
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 10
PNG = b"\x89PNG\r\n\x1a\n" + b"png-bytes" * 10


class TagConverter:
    """Converts by prefixing the original with a tag: enough to see what the engine wrote."""

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        data = source.read()
        fmt = plan.output_format
        tag = b"orig:" if fmt is None else f"{fmt.name}:".encode()
        return ConversionOutput([tag, data], fmt, media_type=plan.media_type, width=4, height=3)


@attrs.frozen
class FailingConverter:
    """Fails on some handles, with an exportjob error or a foreign one."""

    fail: frozenset[str]
    error: Callable[[str], BaseException] = lambda h: ConversionError("corrupt image", handle=h)

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        if plan.handle.value in self.fail:
            raise self.error(plan.handle.value)
        return TagConverter().convert(source, plan)


class GatedConverter:
    """Blocks the first conversion until the test opens the gate; says when it got there."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.converted: list[str] = []

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        self.entered.set()
        assert self.gate.wait(timeout=30), "the test never opened the gate"
        self.converted.append(plan.handle.value)
        return CopyConverter().convert(source, plan)


class SpyStore:
    """Wraps a store, recording describe calls and failing writes of some names."""

    def __init__(self, inner: MemoryStore, *, fail_writes: Iterable[str] = ()) -> None:
        self.inner = inner
        self.described: list[AssetHandle] = []
        self.fail_writes = frozenset(fail_writes)

    def describe(self, handle: AssetHandle) -> Asset:
        self.described.append(handle)
        return self.inner.describe(handle)

    def open_original(self, handle: AssetHandle) -> AbstractContextManager[BinaryIO]:
        return self.inner.open_original(handle)

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        if name in self.fail_writes:
            raise StoreWriteError(f"disk full writing {name}")
        return self.inner.write_export(name, chunks, on_conflict=on_conflict)


def make_store() -> MemoryStore:
    store = MemoryStore(default_company="acme")
    store.add("a|1", JPEG, file_name="Leaves.jpg")
    store.add("a|2", PNG, file_name="Logo.png")
    store.add("a|set", type="SpinSet", name="Shoe spin", file_name="shoe-spin")
    store.add("a|other", JPEG, file_name="Partner.jpg", company="other-co")
    return store


def run(store: Any, handles: Iterable[str], *, converter: Any = None, **job: Any) -> JobLog:
    job.setdefault("fmt", "orig")
    with ExportEngine(store, converter or TagConverter()) as engine:
        return engine.run(ExportJob(asset_handles=list(handles), **job), ACME)


# -- the per-asset paths


def test_orig_exports_the_original_bytes_unchanged() -> None:
    store = make_store()
    log = run(store, ["a|1", "a|2"], converter=CopyConverter())

    assert store.exports == {"Leaves.jpg": JPEG, "Logo.png": PNG}
    assert log.state is JobState.COMPLETED
    assert (log.counts.success, log.counts.error, log.counts.total) == (2, 0, 2)
    leaves = log.outcome("a|1")
    assert leaves.status is AssetStatus.EXPORTED
    assert (leaves.output_name, leaves.output_format, leaves.bytes_written) == (
        "Leaves.jpg",
        None,
        len(JPEG),
    )
    assert leaves.location == "memory://Leaves.jpg"
    assert [d.log_type for d in log.details] == [LogType.EXPORT_SUCCESS, LogType.EXPORT_SUCCESS]
    assert log.details[0].location == "memory://Leaves.jpg"
    assert log.ok


def test_convert_writes_the_converters_output_under_the_new_extension() -> None:
    store = make_store()
    log = run(store, ["a|1"], fmt="convert", is_modifier="&fmt=png&wid=400")

    assert store.exports == {"Leaves.png": b"png:" + JPEG}
    outcome = log.outcome("a|1")
    assert (outcome.output_name, outcome.output_format, outcome.media_type) == (
        "Leaves.png",
        "png,rgb",
        "image/png",
    )
    assert (outcome.width, outcome.height, outcome.bytes_written) == (4, 3, 4 + len(JPEG))


def test_convert_macro_format_wins_over_the_modifiers() -> None:
    store = make_store()
    with ExportEngine(store, TagConverter(), macros=MacroLibrary({"tif": "fmt=tif"})) as engine:
        job = ExportJob(asset_handles=["a|1"], fmt="convert", is_modifier="&fmt=png", macro="$tif$")
        log = engine.run(job, ACME)

    assert log.outcome("a|1").output_name == "Leaves.tiff"
    assert set(store.exports) == {"Leaves.tiff"}


def test_set_asset_is_refused_and_its_original_never_opened() -> None:
    store = make_store()
    log = run(store, ["a|set", "a|1"])

    refused = log.outcome("a|set")
    assert refused.status is AssetStatus.REFUSED
    assert refused.code == "UNSUPPORTED_ASSET_TYPE"
    assert "spin set" in (refused.message or "")
    assert AssetHandle("a|set") not in store.opened
    assert store.opened == (AssetHandle("a|1"),)
    assert (log.counts.success, log.counts.error) == (1, 1)
    [error] = log.errors
    assert (error.handle, error.log_type, error.code) == (
        AssetHandle("a|set"),
        LogType.EXPORT_ERROR,
        "UNSUPPORTED_ASSET_TYPE",
    )


def test_other_companys_asset_is_not_authorized_and_never_opened() -> None:
    store = make_store()
    log = run(store, ["a|other", "a|1"])

    refused = log.outcome("a|other")
    assert (refused.status, refused.code) == (AssetStatus.REFUSED, "NOT_AUTHORIZED")
    assert AssetHandle("a|other") not in store.opened
    assert "Partner.jpg" not in store.exports
    assert not log.ok


def test_unknown_handle_is_an_error_and_the_others_go_on() -> None:
    store = make_store()
    log = run(store, ["a|missing", "a|1"])

    missing = log.outcome("a|missing")
    assert (missing.status, missing.code) == (AssetStatus.FAILED, "ASSET_NOT_FOUND")
    assert missing.file_name is None
    assert log.outcome("a|1").exported
    assert (log.counts.success, log.counts.error, log.counts.total) == (1, 1, 2)


def test_converter_failure_is_recorded_and_the_others_go_on() -> None:
    store = make_store()
    log = run(store, ["a|1", "a|2"], converter=FailingConverter(frozenset({"a|1"})))

    failed = log.outcome("a|1")
    assert (failed.status, failed.code, failed.message) == (
        AssetStatus.FAILED,
        "CONVERSION_FAILED",
        "corrupt image",
    )
    assert set(store.exports) == {"Logo.png"}
    assert (log.counts.success, log.counts.error) == (1, 1)


def test_a_foreign_exception_from_the_converter_is_a_conversion_failure_logged_with_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    converter = FailingConverter(frozenset({"a|1"}), error=lambda h: ZeroDivisionError("oops"))
    with caplog.at_level(logging.ERROR, logger="exportjob"):
        log = run(make_store(), ["a|1"], converter=converter)

    failed = log.outcome("a|1")
    assert failed.code == "CONVERSION_FAILED"
    assert "ZeroDivisionError: oops" in (failed.message or "")
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


def test_store_write_failure_is_recorded_and_nothing_is_written() -> None:
    inner = make_store()
    store = SpyStore(inner, fail_writes={"Leaves.jpg"})
    log = run(store, ["a|1", "a|2"])

    failed = log.outcome("a|1")
    assert (failed.status, failed.code) == (AssetStatus.FAILED, "STORE_WRITE_FAILED")
    assert "disk full" in (failed.message or "")
    assert set(inner.exports) == {"Logo.png"}


def test_duplicate_handle_is_exported_once_and_the_repeat_is_a_warning() -> None:
    store = make_store()
    log = run(store, ["a|1", "a|2", "a|1"])

    assert store.opened.count(AssetHandle("a|1")) == 1
    assert len(log.outcomes) == 2
    counts = log.counts
    assert (counts.success, counts.duplicate, counts.warning, counts.total) == (2, 1, 1, 3)
    [dup] = log.warnings
    assert (dup.log_type, dup.handle, dup.severity) == (
        LogType.DUPLICATE_SKIPPED,
        AssetHandle("a|1"),
        Severity.WARNING,
    )
    assert [d.log_type for d in log.details] == [
        LogType.EXPORT_SUCCESS,
        LogType.EXPORT_SUCCESS,
        LogType.DUPLICATE_SKIPPED,
    ]


def test_a_warning_of_the_request_is_said_once_at_job_level() -> None:
    """``is_modifier`` with ``fmt=orig`` concerns the job: one detail, however many assets."""
    store = make_store()
    store.add("a|2", JPEG, file_name="two.jpg")
    store.add("a|3", JPEG, file_name="three.jpg")
    log = run(store, ["a|1", "a|2", "a|3"], fmt="orig", is_modifier="&wid=100")

    [warning] = log.warnings
    assert warning.log_type is LogType.EXPORT_WARNING
    assert warning.handle is None
    assert warning.code == "PLAN_WARNING"
    assert "ignored with fmt=orig" in warning.message
    assert log.counts.warning == 0  # no asset has a warning of its own
    assert all(
        "ignored with fmt=orig" in o.warnings[0] for o in log.outcomes
    )  # each record keeps it
    assert log.ok  # warnings do not fail a job
    assert JobLog.from_dict(log.to_dict()) == log


def test_default_jpeg_warning_is_said_once_and_an_assets_own_warning_stays_with_it() -> None:
    store = MemoryStore(default_company="acme")
    store.add("x|1", sample_jpeg(8, 6), file_name="photo.jpg")
    store.add("x|2", sample_jpeg(8, 6), file_name="PHOTO.jpg")
    log = run(store, ["x|1", "x|2"], converter=PillowConverter(), fmt="convert")

    job_level = [w for w in log.warnings if w.handle is None]
    own = [w for w in log.warnings if w.handle is not None]
    assert [w.message for w in job_level] == [
        "fmt=convert with neither is_modifier nor macro: converting to the default JPEG"
    ]
    assert [w.handle for w in own] == [AssetHandle("x|2")]  # its renamed output
    assert "is taken by another asset" in own[0].message
    assert log.counts.warning == 1


def test_a_request_every_asset_fails_with_gets_one_job_level_error() -> None:
    """``&wid=99999999``: one job-level ``IMAGE_TOO_LARGE``; each asset keeps its own error and code."""
    store = MemoryStore(default_company="acme")
    for i in range(4):
        store.add(f"x|{i}", sample_jpeg(8, 6), file_name=f"p{i}.jpg")
    log = run(
        store,
        [f"x|{i}" for i in range(4)],
        converter=PillowConverter(),
        fmt="convert",
        is_modifier="&wid=99999999",
    )

    job_level = [e for e in log.errors if e.handle is None]
    per_asset = [e for e in log.errors if e.handle is not None]
    assert len(job_level) == 1
    assert job_level[0].code == "IMAGE_TOO_LARGE"
    assert "the request (is_modifier='&wid=99999999') is the likely cause" in job_level[0].message
    assert [e.code for e in per_asset] == ["IMAGE_TOO_LARGE"] * 4
    assert log.counts.error == 4
    assert JobLog.from_dict(log.to_dict()) == log


def test_one_failing_asset_among_exported_ones_is_no_job_level_error() -> None:
    store = MemoryStore(default_company="acme")
    store.add("a|1", sample_jpeg(8, 6), file_name="good.jpg")
    store.add("a|bad", b"not an image", file_name="bad.jpg")
    store.add("a|bad2", b"not an image either", file_name="bad2.jpg")
    log = run(
        store,
        ["a|1", "a|bad", "a|bad2"],
        converter=PillowConverter(),
        fmt="convert",
        is_modifier="&wid=10",
    )
    assert log.counts.error == 2
    assert all(e.handle is not None for e in log.errors)


def test_two_assets_with_one_name_get_distinct_outputs() -> None:
    store = MemoryStore(default_company="acme")
    store.add("x|1", JPEG, file_name="photo.jpg")
    store.add("x|2", PNG, file_name="PHOTO.jpg")
    log = run(store, ["x|1", "x|2"], converter=CopyConverter())

    assert store.exports == {"photo.jpg": JPEG, "PHOTO-2.jpg": PNG}
    assert "taken by another asset" in log.warnings[0].message


def test_counts_always_add_up_to_the_total() -> None:
    log = run(make_store(), ["a|1", "a|missing", "a|set", "a|other", "a|2", "a|2"])

    c = log.counts
    assert (c.success, c.error, c.duplicate, c.not_run, c.total) == (2, 3, 1, 0, 6)
    assert c.success + c.error + c.not_run + c.duplicate == c.total


def test_job_and_context_may_be_given_as_ips_dicts() -> None:
    store = make_store()
    with ExportEngine(store, CopyConverter()) as engine:
        log = engine.run(
            {"assetHandleArray": {"items": ["a|1"]}, "fmt": "orig", "emailSetting": "None"},
            {"companyHandle": "acme", "jobName": "from-ips", "userHandle": "ann"},
        )

    assert (log.job_name, log.company, log.user) == ("from-ips", "acme", "ann")
    assert log.job_handle.startswith("acme|from-ips|")
    assert log.outcome("a|1").exported


# -- job-level errors: raised before any work


@pytest.mark.parametrize(
    ("job", "error"),
    [
        pytest.param({"is_modifier": "&wid=-5"}, ModifierError, id="bad-modifier"),
        pytest.param({"macro": "$nope$"}, MacroError, id="unknown-macro"),
    ],
)
@pytest.mark.parametrize("entry", ["run", "submit"])
def test_an_invalid_request_raises_before_any_asset_is_read(
    job: dict[str, str], error: type[Exception], entry: str
) -> None:
    inner = make_store()
    store = SpyStore(inner)
    with ExportEngine(store, TagConverter()) as engine:
        call = getattr(engine, entry)
        with pytest.raises(error):
            call(ExportJob(asset_handles=["a|1"], fmt="convert", **job), ACME)

    assert store.described == []
    assert inner.opened == ()
    assert inner.exports == {}


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        pytest.param(
            {"store": None},
            "store must be an AssetStore: an object with the methods describe, open_original "
            "and write_export (such as exportjob.stores.DirectoryStore(source, output)); got "
            "None, without describe, open_original or write_export",
            id="no-store",
        ),
        pytest.param(
            {"converter": "pillow"},
            "converter must be a Converter: an object with the method convert (such as "
            "exportjob.converters.PillowConverter(), the default); got 'pillow' (a str), "
            "without convert",
            id="a-converter-name",
        ),
        pytest.param(
            {"notifier": print},
            "notifier must be a Notifier: an object with the method notify (such as "
            "exportjob.notifiers.LoggingNotifier()); got <built-in function print> (a "
            "builtin_function_or_method), without notify",
            id="a-function",
        ),
        pytest.param(
            {"store": attrs.make_class("HalfStore", {"describe": attrs.field(default=len)})()},
            "got HalfStore(describe=<built-in function len>) (a HalfStore), without "
            "open_original or write_export",
            id="half-a-store",
        ),
    ],
)
def test_the_engine_refuses_a_plug_in_that_is_none_saying_what_it_needs(
    arguments: dict[str, Any], says: str
) -> None:
    """``ExportEngine(store, "pillow")`` was accepted, and every asset then failed
    ``UNEXPECTED_ERROR: AttributeError: 'str' object has no attribute 'convert'``."""
    given: dict[str, Any] = {"store": make_store(), "converter": CopyConverter(), **arguments}
    with pytest.raises(TypeError) as info:
        ExportEngine(given.pop("store"), given.pop("converter"), **given)
    assert says in str(info.value)


def test_a_closed_engine_refuses_jobs() -> None:
    engine = ExportEngine(make_store(), CopyConverter())
    engine.close()
    with pytest.raises(RuntimeError, match="closed"):
        engine.run(ExportJob(asset_handles=["a|1"], fmt="orig"), ACME)


def test_the_engine_shuts_down_its_own_pool_but_not_one_it_was_given() -> None:
    with ExportEngine(make_store(), CopyConverter()) as engine:
        engine.run(ExportJob(asset_handles=["a|1"], fmt="orig"), ACME)
        own = engine.executor
    with pytest.raises(RuntimeError):
        own.submit(int)

    given = ThreadPoolExecutor(1)
    with ExportEngine(make_store(), CopyConverter(), executor=given) as engine:
        engine.run(ExportJob(asset_handles=["a|1"], fmt="orig"), ACME)
    assert given.submit(int, "7").result() == 7
    given.shutdown()


# -- submit, progress, stop


def test_submit_returns_a_handle_whose_result_is_the_log() -> None:
    store = make_store()
    with ExportEngine(store, CopyConverter()) as engine:
        job_run = engine.submit(ExportJob(asset_handles=["a|1", "a|2"], fmt="orig"), ACME)
        log = job_run.result(timeout=60)

    assert job_run.done()
    assert job_run.status is JobState.COMPLETED
    assert job_run.progress == (2, 2)
    assert log.job_handle == job_run.job_handle
    assert set(store.exports) == {"Leaves.jpg", "Logo.png"}


def test_progress_callback_gets_one_record_per_finished_asset() -> None:
    seen: list[AssetProgress] = []
    with ExportEngine(make_store(), CopyConverter(), progress=seen.append) as engine:
        log = engine.run(ExportJob(asset_handles=["a|1", "a|set", "a|2", "a|1"], fmt="orig"), ACME)

    assert [p.done for p in seen] == [1, 2, 3]
    assert {p.total for p in seen} == {3}
    assert {p.outcome.handle.value for p in seen} == {"a|1", "a|2", "a|set"}
    assert {p.job_handle for p in seen} == {log.job_handle}


def test_a_failing_progress_callback_never_fails_the_job(caplog: pytest.LogCaptureFixture) -> None:
    def explode(_: AssetProgress) -> None:
        raise RuntimeError("ui gone")

    with (
        caplog.at_level(logging.ERROR, logger="exportjob"),
        ExportEngine(make_store(), CopyConverter(), progress=explode) as engine,
    ):
        log = engine.run(ExportJob(asset_handles=["a|1"], fmt="orig"), ACME)

    assert log.outcome("a|1").exported
    assert any("progress callback" in r.getMessage() for r in caplog.records)


def _gated_job(
    converter: GatedConverter, store: MemoryStore, pool: ThreadPoolExecutor
) -> tuple[ExportEngine, JobRun]:
    engine = ExportEngine(store, converter, executor=pool)
    job_run = engine.submit(ExportJob(asset_handles=["a|1", "a|2", "a|3"], fmt="orig"), ACME)
    assert converter.entered.wait(timeout=30)
    return engine, job_run


def test_stop_finishes_the_asset_in_flight_and_records_the_rest_as_not_run() -> None:
    store = make_store()
    store.add("a|3", JPEG, file_name="Third.jpg")
    converter = GatedConverter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        engine, job_run = _gated_job(converter, store, pool)
        assert job_run.status.value == "running"
        assert job_run.progress == (0, 3)
        assert "running 0/3" in repr(job_run)

        job_run.stop()
        converter.gate.set()
        log = job_run.result(timeout=60)
        engine.close()

    assert job_run.status is JobState.STOPPED
    assert log.state is JobState.STOPPED
    assert converter.converted == ["a|1"]
    assert log.outcome("a|1").exported
    assert store.exports == {"Leaves.jpg": JPEG}
    for handle in ("a|2", "a|3"):
        outcome = log.outcome(handle)
        assert (outcome.status, outcome.code) == (AssetStatus.NOT_RUN, "NOT_RUN")
        assert AssetHandle(handle) not in store.opened
    assert (log.counts.success, log.counts.not_run, log.counts.error) == (1, 2, 0)
    cancels = [d for d in log.details if d.log_type is LogType.FILE_CANCEL]
    assert [d.handle for d in cancels] == [AssetHandle("a|2"), AssetHandle("a|3")]
    assert {d.severity for d in cancels} == {Severity.INFO}


@pytest.mark.parametrize(
    ("control", "state", "message"),
    [
        pytest.param(None, JobState.RUNNING, "not run yet: the job is running", id="running"),
        pytest.param("pause", JobState.PAUSED, "not run yet: the job is paused", id="paused"),
        pytest.param("stop", JobState.RUNNING, "not run: the job is stopping", id="stopping"),
    ],
)
def test_a_snapshot_of_a_job_still_running_says_so_and_a_finished_ones_is_its_log(
    control: str | None, state: JobState, message: str
) -> None:
    """A snapshot said ``completed``, and "not run: the job was stopped" of every asset to come."""
    store = make_store()
    store.add("a|3", JPEG, file_name="Third.jpg")
    converter = GatedConverter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        engine, job_run = _gated_job(converter, store, pool)
        if control is not None:
            getattr(job_run, control)()
        snapshot = job_run.snapshot()
        job_run.resume()
        converter.gate.set()
        log = job_run.result(timeout=60)
        engine.close()

    assert snapshot.state is state
    assert not snapshot.fatal_error
    assert snapshot.start <= snapshot.end <= log.end  # the end of a snapshot is when it was taken
    assert {o.status for o in snapshot.outcomes} == {AssetStatus.NOT_RUN}  # a|1 is in flight
    assert {o.message for o in snapshot.outcomes} == {message}
    assert snapshot.counts.not_run == 3
    assert log.state is (JobState.STOPPED if control == "stop" else JobState.COMPLETED)
    assert job_run.snapshot() == log


def test_result_with_a_timeout_raises_while_the_job_runs() -> None:
    converter = GatedConverter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        engine, job_run = _gated_job(converter, make_store(), pool)
        with pytest.raises(TimeoutError):
            job_run.result(timeout=0)
        assert not job_run.done()
        converter.gate.set()
        assert job_run.result(timeout=60).state is JobState.COMPLETED
        engine.close()


def test_close_waits_for_submitted_jobs() -> None:
    converter = GatedConverter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        engine, job_run = _gated_job(converter, make_store(), pool)
        converter.gate.set()
        engine.close()
        assert job_run.done()


def _ends_within_a_minute(function: Callable[[], object]) -> None:
    """Run *function* in a daemon thread: a hang fails the test instead of the whole suite."""
    raised: list[BaseException] = []

    def call() -> None:
        try:
            function()
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            raised.append(exc)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "it hung"
    if raised:
        raise raised[0]


@pytest.mark.parametrize(
    ("how", "workers", "refused"),
    [
        ("submit", 1, True),  # the job's thread: close() joins it
        ("submit", 4, True),
        ("run", 4, True),  # a worker thread, where the assets run: close() shuts its pool down
        ("run", 1, False),  # run()'s own thread (one worker runs there): it closes, as ever
    ],
)
def test_close_from_a_thread_it_waits_for_is_refused_and_the_job_goes_on(
    how: str, workers: int, refused: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """It hung (4 workers: the worker it ran on joined the job, which waited for the worker), or
    raised ``cannot join current thread`` with the engine marked closed under the job (submitted,
    1 worker). Closing from ``run()``'s own thread always worked, and still does."""
    engine = ExportEngine(make_store(), CopyConverter(), workers=workers)
    said: list[str] = []

    def close_now(event: AssetProgress) -> None:
        try:
            engine.close()
        except RuntimeError as exc:
            said.append(str(exc))
            raise

    job = ExportJob(asset_handles=["a|1", "a|2"], fmt="orig")
    logs: list[JobLog] = []
    with caplog.at_level(logging.ERROR, logger="exportjob"):
        if how == "run":
            _ends_within_a_minute(lambda: logs.append(engine.run(job, ACME, progress=close_now)))
        else:
            job_run = engine.submit(job, ACME, progress=close_now)
            _ends_within_a_minute(lambda: logs.append(job_run.result()))

    assert logs[0].state is JobState.COMPLETED
    assert logs[0].counts.success == 2
    if not refused:
        assert said == []
        with pytest.raises(RuntimeError, match="closed"):
            engine.run(job, ACME)
        return
    assert len(said) == 2
    assert all("close the engine after the job ends, or from another thread" in r for r in said)
    assert caplog.text.count("a progress callback failed") == 2
    again = engine.run(job, ACME)  # the engine is still open
    assert again.state is JobState.COMPLETED
    _ends_within_a_minute(engine.close)


@pytest.mark.parametrize(("how", "closed"), [("run", True), ("submit", False)])
def test_a_notifier_closes_the_engine_from_run_and_is_refused_from_a_submitted_job(
    how: str, closed: bool
) -> None:
    engine = ExportEngine(make_store(), CopyConverter())
    job = ExportJob(asset_handles=["a|1"], fmt="orig", email_setting="All")

    class Closing:
        def notify(self, report: object) -> None:
            engine.close()

    engine.notifier = Closing()  # type: ignore[assignment]
    logs: list[JobLog] = []
    if how == "run":
        _ends_within_a_minute(lambda: logs.append(engine.run(job, ACME)))
    else:
        job_run = engine.submit(job, ACME)
        _ends_within_a_minute(lambda: logs.append(job_run.result()))
    codes = [d.code for d in logs[0].details if d.code]
    assert ("NOTIFIER_FAILED" in codes) is not closed
    assert logs[0].counts.success == 1
    if closed:
        with pytest.raises(RuntimeError, match="closed"):
            engine.run(job, ACME)
    else:
        _ends_within_a_minute(engine.close)


# -- the engine's own failures


class BrokenExecutor(Executor):
    """An executor whose work units all fail (a worker that died, an unpicklable argument)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(OSError("worker lost"))
        return future


class ClosedExecutor(Executor):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        raise RuntimeError("cannot schedule new futures after shutdown")


def test_a_work_unit_that_never_returns_is_a_worker_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="exportjob"),
        ExportEngine(make_store(), CopyConverter(), executor=BrokenExecutor()) as engine,
    ):
        log = engine.run(ExportJob(asset_handles=["a|1", "a|2"], fmt="orig"), ACME)

    assert {o.code for o in log.outcomes} == {"WORKER_FAILED"}
    assert "OSError: worker lost" in (log.outcome("a|1").message or "")
    assert log.state is JobState.COMPLETED
    assert log.counts.error == 2


def test_an_executor_that_refuses_work_is_a_fatal_error_and_the_job_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = RecordingNotifier()
    with (
        caplog.at_level(logging.ERROR, logger="exportjob"),
        ExportEngine(
            make_store(), CopyConverter(), executor=ClosedExecutor(), notifier=notifier
        ) as engine,
    ):
        job_run = engine.submit(
            ExportJob(asset_handles=["a|1", "a|set"], fmt="orig", email_setting="Error"), ACME
        )
        log = job_run.result(timeout=60)

    assert job_run.status is JobState.FAILED
    assert log.fatal_error
    assert log.outcome("a|1").status is AssetStatus.NOT_RUN
    assert log.outcome("a|set").status is AssetStatus.REFUSED
    fatal = [d for d in log.details if d.log_type is LogType.FATAL_ERROR]
    assert len(fatal) == 1
    assert "cannot schedule new futures" in fatal[0].message
    assert not log.ok
    notifier.assert_notified_once(subject_contains="failed")


def test_the_default_converter_is_pillow_for_originals_and_conversions() -> None:
    data = sample_jpeg(64, 48)
    store = MemoryStore(default_company="acme")
    store.add("p|1", data, file_name="photo.jpg")
    with ExportEngine(store) as engine:
        assert isinstance(engine.converter, PillowConverter)
        orig = engine.run(ExportJob(asset_handles=["p|1"], fmt="orig"), ACME)
        conv = engine.run(
            ExportJob(asset_handles=["p|1"], fmt="convert", is_modifier="&fmt=png&wid=32"), ACME
        )

    assert orig.ok
    assert conv.ok
    assert store.read_export("photo.jpg") == data
    with Image.open(io.BytesIO(store.read_export("photo.png"))) as img:
        assert (img.format, img.size) == ("PNG", (32, 24))
    assert conv.outcome("p|1").output_format == "png,rgb"


class GatedDescribeStore(SpyStore):
    """Blocks describing one handle until the test opens the gate."""

    def __init__(self, inner: MemoryStore, gated: str) -> None:
        super().__init__(inner)
        self.gated = AssetHandle(gated)
        self.entered = threading.Event()
        self.gate = threading.Event()

    def describe(self, handle: AssetHandle) -> Asset:
        if handle == self.gated:
            self.entered.set()
            assert self.gate.wait(timeout=30), "the test never opened the gate"
        return super().describe(handle)


def test_stop_while_describing_starts_nothing_more_and_keeps_what_was_learnt() -> None:
    inner = make_store()
    store = GatedDescribeStore(inner, "a|2")
    with ExportEngine(store, CopyConverter(), describe_concurrency=1) as engine:
        job_run = engine.submit(
            ExportJob(asset_handles=["a|set", "a|2", "a|other", "a|1"], fmt="orig"), ACME
        )
        assert store.entered.wait(timeout=30)
        job_run.stop()
        store.gate.set()
        log = job_run.result(timeout=60)

    assert log.state is JobState.STOPPED
    assert store.described == [AssetHandle(h) for h in ("a|set", "a|2")]
    assert inner.opened == ()
    assert log.outcome("a|set").status is AssetStatus.REFUSED  # known without any work
    for handle, file_name in (("a|2", "Logo.png"), ("a|other", None), ("a|1", None)):
        outcome = log.outcome(handle)
        assert (outcome.status, outcome.file_name) == (AssetStatus.NOT_RUN, file_name)
    assert (log.counts.not_run, log.counts.error, log.counts.success) == (3, 1, 0)


class RefusingAfterOne(Executor):
    """Runs the first work unit, then refuses all further work (a pool shut down mid-job)."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(1)
        self.calls = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("cannot schedule new futures after shutdown")
        return self.pool.submit(fn, *args, **kwargs)


def test_assets_dispatched_before_a_fatal_error_are_still_recorded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = make_store()
    executor = RefusingAfterOne()
    with (
        caplog.at_level(logging.ERROR, logger="exportjob"),
        ExportEngine(store, CopyConverter(), executor=executor) as engine,
    ):
        log = engine.run(ExportJob(asset_handles=["a|1", "a|2"], fmt="orig"), ACME)
    executor.pool.shutdown()

    assert log.state is JobState.FAILED
    assert log.outcome("a|1").exported
    assert store.exports == {"Leaves.jpg": JPEG}
    assert log.outcome("a|2").status is AssetStatus.NOT_RUN
    assert "the job failed" in (log.outcome("a|2").message or "")
    assert any("failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_store_that_normalises_handles_keeps_the_jobs_handle() -> None:
    class CaseFoldingStore(SpyStore):
        def describe(self, handle: AssetHandle) -> Asset:
            return self.inner.describe(AssetHandle(handle.value.lower()))

        def open_original(self, handle: AssetHandle) -> AbstractContextManager[BinaryIO]:
            return self.inner.open_original(AssetHandle(handle.value.lower()))

    inner = make_store()
    log = run(CaseFoldingStore(inner), ["A|1"], converter=CopyConverter())
    assert log.outcome("A|1").exported
    assert inner.exports == {"Leaves.jpg": JPEG}


class UnprintableError(RuntimeError):
    """An exception whose text cannot be made: the job's fatal-error detail cannot be written."""

    def __str__(self) -> str:
        raise AttributeError("a bug")


class RefusingUnprintably(Executor):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        raise UnprintableError


def test_a_job_whose_log_cannot_be_built_still_ends_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="exportjob"),
        ExportEngine(make_store(), CopyConverter(), executor=RefusingUnprintably()) as engine,
    ):
        job_run = engine.submit(ExportJob(asset_handles=["a|1", "a|1"], fmt="orig"), ACME)
        log = job_run.result(timeout=60)

    assert (job_run.status, log.fatal_error) == (JobState.FAILED, True)
    assert "AttributeError: a bug" in log.details[0].message
    assert (log.counts.not_run, log.counts.duplicate, log.counts.total) == (1, 1, 2)


class BrokenDescription:
    """What a broken store returns from ``describe``: reading it raises *error*."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    @property
    def handle(self) -> AssetHandle:
        raise self.error


@pytest.mark.parametrize(
    ("description", "code"),
    [
        pytest.param(
            BrokenDescription(UnsafeNameError("bad", name="x")), "UNEXPECTED_ERROR", id="broken"
        ),
        pytest.param(None, "UNEXPECTED_ERROR", id="none"),
        pytest.param({"handle": "bad"}, "UNEXPECTED_ERROR", id="dict"),
        pytest.param(UnsafeNameError("bad name", name="x"), "UNSAFE_NAME", id="library-error"),
        pytest.param(OSError("unreachable"), "STORE_READ_FAILED", id="os-error"),
    ],
)
def test_a_broken_description_of_one_asset_fails_only_that_asset(
    description: object, code: str
) -> None:
    class Store(MemoryStore):
        def describe(self, handle: AssetHandle) -> Any:
            if handle.value != "bad":
                return super().describe(handle)
            if isinstance(description, Exception):
                raise description
            return description

    store = Store(default_company="acme")
    store.add("good", b"g", file_name="good.bin")
    store.add("bad", b"b", file_name="bad.bin")
    with ExportEngine(store, CopyConverter()) as engine:
        log = engine.run(
            ExportJob(asset_handles=["good", "bad"], fmt="orig"), JobContext(company="acme")
        )
    assert not log.fatal_error
    assert log.outcome("good").exported
    assert (log.outcome("bad").status, log.outcome("bad").code) == (AssetStatus.FAILED, code)
    assert store.opened == (AssetHandle("good"),)
