"""The host test kit: RecordingNotifier's assertions and the sample originals."""

from __future__ import annotations

import copy
import datetime as dt
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from PIL import Image

from exportjob import (
    AssetHandle,
    AssetStatus,
    AssetType,
    ExportEngine,
    ExportJob,
    JobContext,
    JobLog,
)
from exportjob.exceptions import AssetNotFoundError, NotifierError, StoreReadError
from exportjob.joblog import JobCounts, JobReport
from exportjob.notifiers import build_report
from exportjob.protocols import (
    AssetStore,
    BatchDescriber,
    DurableStore,
    ExportInventory,
    ExportReader,
    NamedHandles,
    OccupiedNames,
)
from exportjob.stores import DirectoryStore, MemoryStore
from exportjob.testing import (
    AssetSpec,
    FaultyStore,
    RecordingNotifier,
    SampleKind,
    memory_store,
    sample_image,
    sample_jpeg,
    sample_png,
)

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)


def report(recipient: str = "ann", setting: str = "All") -> JobReport:
    log = JobLog(
        job_handle="j",
        job_name="j",
        company="c",
        fmt="orig",
        state="completed",
        start=T0,
        end=T0,
        counts=JobCounts(success=1, total=1),
    )
    return build_report(log.email_setting.parse(setting), log, recipient)


def test_recording_notifier_records_and_asserts() -> None:
    notifier = RecordingNotifier()
    notifier.notify(report())
    assert repr(notifier) == "<RecordingNotifier with 1 report(s)>"
    assert notifier.assert_notified_once(recipient="ann", email_setting="all") is notifier.last
    with pytest.raises(AssertionError, match="expected no notification"):
        notifier.assert_not_notified()
    with pytest.raises(AssertionError, match="expected recipient 'bob'"):
        notifier.assert_notified_once(recipient="bob")
    with pytest.raises(AssertionError, match="expected emailSetting"):
        notifier.assert_notified_once(email_setting="Error")
    with pytest.raises(AssertionError, match="in the subject"):
        notifier.assert_notified_once(subject_contains="stopped")
    notifier.notify(report())
    with pytest.raises(AssertionError, match="expected one notification, got 2"):
        notifier.assert_notified_once()
    notifier.clear()
    assert (notifier.reports, notifier.attempts) == ((), 0)
    with pytest.raises(AssertionError, match="no report"):
        _ = notifier.last


def test_recording_notifier_can_fail_on_purpose() -> None:
    notifier = RecordingNotifier(raises=NotifierError("down"))
    with pytest.raises(NotifierError):
        notifier.notify(report())
    assert (notifier.attempts, notifier.reports) == (1, ())


@pytest.mark.parametrize(("make", "fmt"), [(sample_jpeg, "JPEG"), (sample_png, "PNG")])
def test_samples_are_deterministic_images_of_the_size_asked(make: object, fmt: str) -> None:
    assert callable(make)
    data = make(40, 30)
    assert data == make(40, 30)
    assert data != make(40, 30, seed=1)
    with Image.open(io.BytesIO(data)) as img:
        assert (img.format, img.size) == (fmt, (40, 30))


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [
        ("jpeg", "JPEG"),
        ("png", "PNG"),
        ("png-alpha", "PNG"),
        ("gif", "GIF"),
        ("tiff", "TIFF"),
        ("webp", "WEBP"),
        ("cmyk-jpeg", "JPEG"),
        ("png16", "PNG"),
    ],
)
def test_sample_image_kinds_are_real_images(kind: SampleKind, fmt: str) -> None:
    data = sample_image(kind, 24, 16)
    assert data == sample_image(kind, 24, 16)
    with Image.open(io.BytesIO(data)) as img:
        assert (img.format, img.size) == (fmt, (24, 16))


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "empty", "text"])
def test_hostile_samples_fail_conversion_cleanly(kind: SampleKind) -> None:
    store = memory_store([AssetSpec(handle="bad", image=kind), "good"])
    job = ExportJob(asset_handles=["bad", "good"], fmt="convert", is_modifier="&fmt=png&wid=8")
    with ExportEngine(store) as engine:
        log = engine.run(job, JobContext(company="acme"))
    assert log.outcome("bad").status is AssetStatus.FAILED
    assert log.outcome("bad").code in {"CONVERSION_FAILED", "IMAGE_TOO_LARGE"}
    assert log.outcome("good").exported
    assert set(store.exports) == {"good.png"}


def test_memory_store_from_specs() -> None:
    store = memory_store(
        [
            AssetSpec(handle="a|1", image="png", size=(10, 20), file_name="logo.png"),
            AssetSpec(handle="s", image=None, type="SpinSet"),
            AssetSpec(handle="r", company="rival"),
            "plain",
        ],
        company="acme",
    )
    assert store.describe(AssetHandle("a|1")).file_name == "logo.png"
    assert store.describe(AssetHandle("s")).type is AssetType.SPIN_SET
    assert store.describe(AssetHandle("r")).company == "rival"
    plain = store.describe(AssetHandle("plain"))
    assert (plain.company, plain.file_name, plain.type) == ("acme", "plain.jpg", AssetType.IMAGE)


def test_faulty_store_fails_exactly_the_chosen_operations() -> None:
    inner = memory_store(["d", "o", "r", "w", "ok"])
    store = FaultyStore(
        inner, fail_describe={"d"}, fail_open={"o"}, fail_read={"r"}, fail_write={"w.jpg"}
    )
    job = ExportJob(asset_handles=["d", "o", "r", "w", "ok"], fmt="orig")
    with ExportEngine(store) as engine:
        log = engine.run(job, JobContext(company="acme"))
    codes = {o.handle.value: o.code for o in log.outcomes}
    assert codes == {
        "d": "STORE_READ_FAILED",
        "o": "STORE_READ_FAILED",
        "r": "STORE_READ_FAILED",
        "w": "STORE_WRITE_FAILED",
        "ok": None,
    }
    assert set(inner.exports) == {"ok.jpg"}


class _Batching(MemoryStore):
    """A store that describes in batches (``BatchDescriber``), counting its calls."""

    def __init__(self) -> None:
        super().__init__(default_company="acme")
        self.batches = 0

    def describe_many(self, handles: Sequence[AssetHandle]) -> dict[AssetHandle, Any]:
        self.batches += 1
        return {h: self.describe(h) for h in handles}


_CAPABILITIES = (
    BatchDescriber,
    DurableStore,
    ExportInventory,
    ExportReader,
    NamedHandles,
    OccupiedNames,
)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda tmp: memory_store(["a"]), id="memory"),
        pytest.param(lambda tmp: DirectoryStore(tmp, tmp / "out"), id="directory"),
        pytest.param(lambda tmp: _Batching(), id="batching"),
    ],
)
def test_faulty_store_has_exactly_its_inner_stores_capabilities(
    make: Callable[[Path], AssetStore], tmp_path: Path
) -> None:
    inner = make(tmp_path)
    store = FaultyStore(inner)
    assert [isinstance(store, p) for p in _CAPABILITIES] == [
        isinstance(inner, p) for p in _CAPABILITIES
    ]


def _names_under_rename(store: AssetStore, inner: MemoryStore) -> dict[str, str | None]:
    inner.add_export("photo.png", b"someone else's")
    job = ExportJob(asset_handles=["a", "b"], fmt="convert", is_modifier="&fmt=png")
    with ExportEngine(store, on_conflict="rename") as engine:
        log = engine.run(job, JobContext(company="acme"))
    return {o.handle.value: o.output_name for o in log.outcomes}


def test_faulty_store_without_faults_names_exports_as_its_inner_store_does() -> None:
    def fresh() -> MemoryStore:
        return memory_store(
            [
                AssetSpec(handle="a", image="jpeg", file_name="photo.jpg"),
                AssetSpec(handle="b", image="png", file_name="photo.png"),
            ]
        )

    plain = fresh()
    wrapped = fresh()
    assert _names_under_rename(FaultyStore(wrapped), wrapped) == _names_under_rename(plain, plain)


def test_faulty_store_applies_describe_faults_to_a_stores_batches() -> None:
    inner = _Batching()
    for handle in ("a", "b", "c"):
        inner.add(handle, sample_jpeg(8, 8), file_name=f"{handle}.jpg")
    store = FaultyStore(inner, fail_describe={"b"})
    job = ExportJob(asset_handles=["a", "b", "c"], fmt="orig")
    with ExportEngine(store) as engine:
        log = engine.run(job, JobContext(company="acme"))
    assert inner.batches >= 1
    assert {o.handle.value: o.code for o in log.outcomes} == {
        "a": None,
        "b": "STORE_READ_FAILED",
        "c": None,
    }


@pytest.mark.parametrize(
    "fail_open",
    [
        pytest.param("logo", id="one-string"),
        pytest.param(["logo"], id="list"),
        pytest.param({AssetHandle("logo")}, id="handles"),
    ],
)
def test_faulty_store_takes_one_string_as_one_name(fail_open: object) -> None:
    inner = memory_store(["logo", "o", "g"])
    store = FaultyStore(inner, fail_open=fail_open)  # type: ignore[arg-type]
    job = ExportJob(asset_handles=["logo", "o", "g"], fmt="orig")
    with ExportEngine(store) as engine:
        log = engine.run(job, JobContext(company="acme"))
    assert {o.handle.value: o.code for o in log.outcomes} == {
        "logo": "STORE_READ_FAILED",
        "o": None,
        "g": None,
    }


@pytest.mark.parametrize("bad", [3, [b"logo"], [None]], ids=["int", "bytes", "none"])
def test_faulty_store_refuses_what_names_nothing(bad: object) -> None:
    with pytest.raises(TypeError, match="fail_read must be names"):
        FaultyStore(memory_store(["a"]), fail_read=bad)  # type: ignore[arg-type]


def test_faulty_store_takes_handles_as_strings_as_the_library_stores_do() -> None:
    store = FaultyStore(memory_store(["a"]), fail_open={"a"})
    assert store.describe("a").handle == AssetHandle("a")
    with pytest.raises(StoreReadError, match="injected"):
        store.open_original("a")


def test_memory_store_takes_one_string_as_one_handle() -> None:
    store = memory_store("abc")
    assert [a.handle.value for a in map(store.describe, [AssetHandle("abc")])] == ["abc"]
    with pytest.raises(AssetNotFoundError):
        store.describe(AssetHandle("a"))


def read_whole(stream: BinaryIO, into: bytearray) -> None:
    into += stream.read()


def read_sized(size: int) -> Callable[[BinaryIO, bytearray], None]:
    def read(stream: BinaryIO, into: bytearray) -> None:
        while chunk := stream.read(size):
            into += chunk

    return read


def read_into(stream: BinaryIO, into: bytearray) -> None:
    buffer = bytearray(64)
    while count := stream.readinto(buffer):  # type: ignore[attr-defined]
        into += buffer[:count]


@pytest.mark.parametrize(
    ("read", "some"),
    [
        pytest.param(read_whole, False, id="read-all-at-once"),
        pytest.param(read_sized(64), True, id="read-64-bytes-at-a-time"),
        pytest.param(read_sized(1 << 20), True, id="read-more-than-it-holds"),
        pytest.param(read_into, True, id="readinto"),
    ],
)
def test_faulty_store_fails_a_read_midway_however_the_stream_is_read(
    read: Callable[[BinaryIO, bytearray], None], some: bool
) -> None:
    """The stream failed on its second read only: one read of everything (Pillow's) got it all."""
    inner = memory_store(["r"])
    with inner.open_original(AssetHandle("r")) as stream:
        original = stream.read()
    delivered = bytearray()
    store = FaultyStore(inner, fail_read={"r"})
    with (
        store.open_original(AssetHandle("r")) as stream,
        pytest.raises(StoreReadError, match="injected") as caught,
    ):
        read(stream, delivered)
    assert isinstance(caught.value, OSError)
    assert caught.value.handle == "r"
    assert original.startswith(delivered)
    assert len(delivered) < len(original)
    assert bool(delivered) is some  # a sized read gets some bytes before the failure


def test_fixtures_work_as_a_host_uses_them(
    export_engine: ExportEngine,
    export_store: MemoryStore,
    recording_notifier: RecordingNotifier,
    export_context: JobContext,
) -> None:
    export_store.add("h", sample_jpeg(32, 32), file_name="h.jpg")
    job = ExportJob(asset_handles=["h", "missing"], fmt="orig", email_setting="Error")
    log = export_engine.run(job, export_context)
    assert log.counts.error == 1
    recording_notifier.assert_notified_once(recipient="tester@example.com", email_setting="Error")


def test_plugin_in_a_host_test_suite(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["exportjob.pytest_plugin"]')
    pytester.makepyfile(
        """
        from exportjob import ExportJob
        from exportjob.testing import sample_png

        def test_host_export(export_engine, export_store, export_context, recording_notifier):
            export_store.add("logo", sample_png(16, 16), file_name="logo.png")
            job = ExportJob(asset_handles=["logo"], fmt="convert", is_modifier="&fmt=jpeg",
                            email_setting="JobCompletion")
            log = export_engine.run(job, export_context)
            assert log.counts.success == 1
            assert "logo.jpg" in export_store.exports
            recording_notifier.assert_notified_once(email_setting="JobCompletion")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_copy_of_a_faulty_store_applies_its_own_describe_faults_to_batches() -> None:
    inner = _Batching()
    for handle in ("a", "b"):
        inner.add(handle, sample_jpeg(8, 8), file_name=f"{handle}.jpg")
    original = FaultyStore(inner, fail_describe={"a"})
    clone = copy.copy(original)
    clone.fail_describe = frozenset({"b"})
    found = clone.describe_many([AssetHandle("a"), AssetHandle("b")])
    assert isinstance(found[AssetHandle("b")], StoreReadError)
    assert not isinstance(found[AssetHandle("a")], Exception)
