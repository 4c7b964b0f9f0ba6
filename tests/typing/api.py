"""The typed public API, locked by mypy --strict (CI type-checks this file; it is not run).

User-written classes that satisfy each Protocol, and ``assert_type`` on what the API returns.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import BinaryIO

import attrs
from typing_extensions import assert_type

from exportjob import (
    Asset,
    AssetHandle,
    AssetStore,
    ConversionOutput,
    Converter,
    EmailSetting,
    ExportEngine,
    ExportFormat,
    ExportJob,
    ExportPlan,
    JobContext,
    JobLog,
    JobPlan,
    JobRun,
    MacroLibrary,
    Notifier,
    plan_exports,
)
from exportjob.converters import CopyConverter, PillowConverter
from exportjob.exceptions import (
    AssetNotFoundError,
    ConversionError,
    FieldProblem,
    InvalidValueError,
    JobLogFormatError,
    OutputExistsError,
    StoreReadError,
    UnsupportedAssetTypeError,
)
from exportjob.joblog import JobReport
from exportjob.language import ResolvedRequest, resolve_request
from exportjob.notifiers import build_report
from exportjob.options import OutputFormat, RenderOptions
from exportjob.protocols import (
    BatchDescriber,
    DurableStore,
    ExportInventory,
    ExportReader,
    OnConflict,
    WrittenExport,
)
from exportjob.stores import MAX_NAME_BYTES, DirectoryStore, MemoryStore, check_name
from exportjob.testing import RecordingNotifier


class DictStore:
    """A host's own store: only exportjob's value types are needed."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def describe(self, handle: AssetHandle) -> Asset:
        return Asset(handle=handle, type="Image", name="n", file_name="n.jpg", company="acme")

    def open_original(self, handle: AssetHandle) -> AbstractContextManager[BinaryIO]:
        if handle.value not in self.files:  # the handle the store was given, as it is
            raise AssetNotFoundError(f"no asset {handle}", handle=handle)
        return io.BytesIO(self.files[handle.value])

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        data = b"".join(chunks)
        if name in self.files and on_conflict is not OnConflict.REPLACE:
            raise OutputExistsError(f"{name} exists", name=name)
        self.files[name] = data
        return WrittenExport(name, name, len(data))


class ListingStore(DictStore):
    """A store with the optional capabilities: batch describes, read-back, durability."""

    def describe_many(
        self, handles: Sequence[AssetHandle]
    ) -> Mapping[AssetHandle, Asset | Exception]:
        return {h: self.describe(h) for h in handles}

    def read_export(self, name: str) -> bytes:
        return self.files[name]

    def sync(self) -> None:
        """Nothing to sync in memory."""


class UpperConverter:
    """A host's own converter."""

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        return ConversionOutput([source.read().upper()], plan.output_format)


class PrintNotifier:
    """A host's own notifier."""

    def notify(self, report: JobReport) -> None:
        print(report.recipient, report.subject)  # noqa: T201


store: AssetStore = DictStore()
converter: Converter = UpperConverter()
notifier: Notifier = PrintNotifier()
_stores: list[AssetStore] = [MemoryStore(), DirectoryStore("in", "out"), ListingStore()]
_batch: BatchDescriber = ListingStore()
_readers: list[ExportReader] = [MemoryStore(), DirectoryStore("in", "out"), ListingStore()]
_durable: list[DurableStore] = [DirectoryStore("in", "out"), ListingStore()]
_inventories: list[ExportInventory] = [MemoryStore(), DirectoryStore("in", "out")]
_converters: list[Converter] = [CopyConverter(), PillowConverter()]
_notifiers: list[Notifier] = [RecordingNotifier()]

job = ExportJob(asset_handles=["a"], fmt="convert", is_modifier="&fmt=png")
context = JobContext(company="acme")
assert_type(ExportJob.from_ips(job.to_ips()), ExportJob)
assert_type(job.repeats, tuple[bool, ...])
assert_type(job.unique_handles, tuple[AssetHandle, ...])
assert_type(JobContext.from_ips(context.to_ips()), JobContext)
assert_type(attrs.evolve(job, fmt=ExportFormat.ORIG), ExportJob)
assert_type(OnConflict.of("replace"), OnConflict)
assert_type(DirectoryStore("in", "out").manifest_digest, str)

try:
    Asset(handle="h", type="Image", name="n", file_name="n.jpg", company="acme", size=-1)
except InvalidValueError as err:
    assert_type(err.field, str)
    assert_type(err.problem, FieldProblem)
try:
    JobLog.from_dict({})
except JobLogFormatError as err:
    assert_type(err.problems, tuple[FieldProblem, ...])
assert_type(resolve_request("&wid=10", None), ResolvedRequest)
assert_type(resolve_request("&wid=10", None).options, RenderOptions)

asset = store.describe(AssetHandle("a"))
plan = plan_exports([asset], job, macros=MacroLibrary({"x": "wid=1"}), company="acme")[0]
assert_type(plan, ExportPlan)
assert_type(plan.output_format, OutputFormat | None)

with ExportEngine(store, converter, notifier=notifier) as engine:
    assert_type(engine.plan(job, context), JobPlan)
    assert_type(engine.run(job, context), JobLog)
    run = engine.submit(job, context)
    assert_type(run, JobRun)
    assert_type(run.result(timeout=1.0), JobLog)
    assert_type(run.progress, tuple[int, int])
    run.pause()
    run.resume()
    assert_type(run.snapshot(), JobLog)
    assert_type(engine.active_jobs(), tuple[JobRun, ...])
    assert_type(engine.run(job, context, journal="job.jsonl"), JobLog)

# A host previews what its own notifier would receive, and checks names as the stores do.
report = build_report(EmailSetting.ALL, run.result(timeout=1.0), "ann", locale="en-GB")
assert_type(report, JobReport)
PrintNotifier().notify(report)
assert_type(check_name("a.jpg"), str)
assert_type(MAX_NAME_BYTES, int)


def error_handles(handle: AssetHandle) -> None:
    """Error constructors take the ``AssetHandle`` a store was given, or its text."""
    assert_type(StoreReadError("x", handle=handle).handle, str | None)
    assert_type(ConversionError("x", handle="a|1").handle, str | None)
    assert_type(
        UnsupportedAssetTypeError("x", handle=handle, asset_type="ImageSet"),
        UnsupportedAssetTypeError,
    )
