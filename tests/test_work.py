"""The per-asset work: every failure becomes an outcome whose code says which stage failed.

Seen through the engine, as a host sees it: whatever a store or converter raises while one asset is
read, converted or written, the job goes on and that asset's outcome is failed with a code, never an
exception out of ``ExportEngine.run``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import BinaryIO

import attrs
import pytest

from exportjob import (
    Asset,
    AssetHandle,
    AssetOutcome,
    AssetStatus,
    ConversionOutput,
    ExportEngine,
    ExportJob,
    ExportPlan,
    JobContext,
    JobLog,
)
from exportjob.converters import CopyConverter, PillowConverter
from exportjob.protocols import AssetStore, Converter, WrittenExport
from exportjob.testing import AssetSpec, FaultyStore, images, memory_store

ASSET = Asset(handle="h", type="Pdf", name="doc", file_name="doc.pdf", company="acme")
ACME = JobContext(company="acme")


@attrs.define
class RawStore:
    """A careless host store that lets foreign exceptions through, from a chosen stage."""

    open_error: BaseException | None = None
    write_error: BaseException | None = None
    describe_error: BaseException | None = None
    close_error: BaseException | None = None
    asset: Asset = ASSET
    written: dict[str, bytes] = attrs.Factory(dict)
    opened: list[AssetHandle] = attrs.Factory(list)

    def describe(self, handle: AssetHandle) -> Asset:
        if self.describe_error is not None:
            raise self.describe_error
        return attrs.evolve(self.asset, handle=handle)

    def open_original(self, handle: AssetHandle) -> AbstractContextManager[BinaryIO]:
        self.opened.append(handle)
        if self.open_error is not None:
            raise self.open_error
        if self.close_error is not None:
            error = self.close_error

            class Closing(io.BytesIO):
                def __exit__(self, *exc: object) -> None:
                    raise error

            return Closing(b"%PDF-1.4")
        return io.BytesIO(b"%PDF-1.4")

    def write_export(self, name: str, chunks: Iterable[bytes], **_: object) -> WrittenExport:
        data = b"".join(chunks)
        if self.write_error is not None:
            raise self.write_error
        self.written[name] = data
        return WrittenExport(name, name, len(data))


@attrs.frozen
class StreamFailing:
    """A converter whose output stream yields one chunk, then raises *error*."""

    error: BaseException

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        error = self.error

        def chunks() -> Iterator[bytes]:
            yield source.read(4)
            raise error

        return ConversionOutput(chunks(), None)


@attrs.frozen
class ConvertFailing:
    """A converter that raises *error* before it produces anything."""

    error: BaseException

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        raise self.error


def run(
    store: AssetStore, converter: Converter, handles: Iterable[str] = ("h",), **job: str
) -> JobLog:
    job.setdefault("fmt", "orig")
    with ExportEngine(store, converter) as engine:
        return engine.run(ExportJob(asset_handles=list(handles), **job), ACME)


def only_outcome(log: JobLog) -> AssetOutcome:
    [outcome] = log.outcomes
    return outcome


@pytest.mark.parametrize(
    ("store", "converter", "code", "text"),
    [
        pytest.param(
            RawStore(open_error=PermissionError("denied")),
            CopyConverter(),
            "STORE_READ_FAILED",
            "PermissionError: denied",
            id="open-oserror",
        ),
        pytest.param(
            RawStore(open_error=KeyError("k")),
            CopyConverter(),
            "UNEXPECTED_ERROR",
            "while reading: KeyError",
            id="open-other",
        ),
        pytest.param(
            RawStore(),
            ConvertFailing(KeyError("k")),
            "CONVERSION_FAILED",
            "the converter failed: KeyError",
            id="convert-other",
        ),
        pytest.param(
            RawStore(),
            StreamFailing(OSError(5, "I/O error")),
            "STORE_READ_FAILED",
            "while streaming: OSError",
            id="stream-oserror",
        ),
        pytest.param(
            RawStore(),
            StreamFailing(ValueError("bad pixel")),
            "CONVERSION_FAILED",
            "the converter failed: ValueError: bad pixel",
            id="stream-other",
        ),
        pytest.param(
            RawStore(write_error=OSError(28, "No space left")),
            CopyConverter(),
            "STORE_WRITE_FAILED",
            "No space left",
            id="write-oserror",
        ),
        pytest.param(
            RawStore(write_error=TypeError("bad")),
            CopyConverter(),
            "UNEXPECTED_ERROR",
            "while writing: TypeError: bad",
            id="write-other",
        ),
    ],
)
def test_foreign_exceptions_are_classified_by_stage(
    store: RawStore, converter: Converter, code: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing stream is blamed on its source (the store or the converter), not on the write.

    A read's or a write's ``OSError`` (a disk, a server) is logged on one line; anything else, a
    bug in a plug-in, with its traceback.
    """
    with caplog.at_level(logging.WARNING, logger="exportjob"):
        outcome = only_outcome(run(store, converter))
    assert (outcome.status, outcome.code) == (AssetStatus.FAILED, code)
    assert text in (outcome.message or "")
    assert outcome.handle == AssetHandle("h")
    assert store.written == {}
    [record] = caplog.records
    expected = code in {"STORE_READ_FAILED", "STORE_WRITE_FAILED"}
    assert (record.levelno == logging.WARNING, record.exc_info is None) == (expected, expected)


class _FailingRead(io.RawIOBase):
    """An original whose reads fail with the system's error after its first bytes (a disk)."""

    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._at >= 64:
            raise OSError(5, "Input/output error")
        n = min(len(buffer), 32)
        buffer[:n] = self._data[self._at : self._at + n]
        self._at += n
        return n


@pytest.mark.parametrize("fmt", [{"fmt": "orig"}, {"fmt": "convert", "is_modifier": "fmt=png"}])
def test_an_original_whose_reads_fail_is_a_read_failure_however_it_is_exported(
    fmt: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    # With fmt=convert it was CONVERSION_FAILED, "the original could not be converted": the
    # converter took the disk's error for the file's.
    store = memory_store(["h"])

    @contextlib.contextmanager
    def failing(handle: AssetHandle) -> Iterator[BinaryIO]:
        yield io.BufferedReader(_FailingRead(images.encode(images.photo((64, 48)), "JPEG")), 16)

    store.open_original = failing  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="exportjob"):
        outcome = only_outcome(run(store, PillowConverter(), **fmt))
    assert (outcome.status, outcome.code) == (AssetStatus.FAILED, "STORE_READ_FAILED")
    assert "Input/output error" in (outcome.message or "")
    assert all(r.exc_info is None for r in caplog.records)


def test_an_export_whose_original_fails_to_close_is_still_exported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RawStore(close_error=OSError("close failed"))
    with caplog.at_level(logging.WARNING, logger="exportjob"):
        outcome = only_outcome(run(store, CopyConverter()))
    assert outcome.exported
    assert store.written == {"doc.pdf": b"%PDF-1.4"}
    assert "closing the original" in caplog.records[0].getMessage()


@pytest.mark.parametrize(
    ("asset", "code"),
    [
        pytest.param(attrs.evolve(ASSET, company="rival"), "NOT_AUTHORIZED", id="another-company"),
        pytest.param(attrs.evolve(ASSET, type="ImageSet"), "UNSUPPORTED_ASSET_TYPE", id="a-set"),
    ],
)
def test_a_refused_plan_is_never_worked_on(asset: Asset, code: str) -> None:
    store = RawStore(asset=asset)
    outcome = only_outcome(run(store, CopyConverter()))
    assert (outcome.status, outcome.code) == (AssetStatus.REFUSED, code)
    assert store.opened == []
    assert store.written == {}


@pytest.mark.parametrize(
    ("error", "code"),
    [
        pytest.param(OSError("backend down"), "STORE_READ_FAILED", id="oserror"),
        pytest.param(ZeroDivisionError("bug"), "UNEXPECTED_ERROR", id="other"),
    ],
)
def test_a_describe_that_raises_a_foreign_error_fails_that_asset(
    error: BaseException, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="exportjob"):
        log = run(RawStore(describe_error=error), CopyConverter())
    assert log.outcome("h").code == code
    assert type(error).__name__ in (log.outcome("h").message or "")


READ_FAILED = "STORE_READ_FAILED"
WRITE_FAILED = "STORE_WRITE_FAILED"


@pytest.mark.parametrize(
    ("converter", "job", "codes"),
    [
        pytest.param(
            CopyConverter(chunk_size=64),
            {"fmt": "orig"},
            # fmt=orig copies the truncated original as it is; the read fails mid-copy.
            {"d": READ_FAILED, "o": READ_FAILED, "r": READ_FAILED, "w": WRITE_FAILED, "bad": None},
            id="copy",
        ),
        pytest.param(
            PillowConverter(),
            {"fmt": "convert", "is_modifier": "fmt=png&wid=16"},
            # Pillow reads the whole original in one read: it fails, and is still a read failure.
            {
                "d": READ_FAILED,
                "o": READ_FAILED,
                "r": READ_FAILED,
                "w": WRITE_FAILED,
                "bad": "CONVERSION_FAILED",
            },
            id="pillow",
        ),
    ],
)
def test_the_library_stores_and_converters_fail_per_asset_with_their_codes(
    converter: Converter, job: dict[str, str], codes: dict[str, str | None]
) -> None:
    inner = memory_store(
        [AssetSpec(handle="ok"), AssetSpec(handle="bad", image="truncated")]
        + [AssetSpec(handle=h) for h in codes if h != "bad"]
    )
    ext = ".jpg" if job["fmt"] == "orig" else ".png"
    store = FaultyStore(
        inner, fail_describe={"d"}, fail_open={"o"}, fail_read={"r"}, fail_write={f"w{ext}"}
    )
    log = run(store, converter, ["ok", *codes], **job)
    assert {o.handle.value: o.code for o in log.outcomes} == {"ok": None, **codes}
    exported = {o.handle.value for o in log.outcomes if o.exported}
    assert set(inner.exports) == {f"{h}{ext}" for h in exported}
    assert all(o.message for o in log.outcomes if not o.exported)


_ENCODE_FAILING = """
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
from exportjob import ExportEngine, ExportJob, JobContext
from exportjob.converters import PillowConverter
from exportjob.stores import MemoryStore
from exportjob.testing.images import encode, photo
store = MemoryStore(default_company="acme")
store.add("a|1", encode(photo((800, 600)), "PNG"), file_name="a.png")
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))  # the encoder's scratch file cannot grow
with ExportEngine(store, PillowConverter()) as engine:
    job = ExportJob(asset_handles=["a|1"], fmt="convert", is_modifier="&fmt=jpeg")
    (outcome,) = engine.run(job, JobContext(company="acme")).outcomes
print(outcome.code)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="Pillow's JPEG encoder writes a memfd on Linux")
def test_the_systems_error_writing_the_output_stays_a_conversion_failure() -> None:
    # Reading the original is where the system's OSError means the store: the encoder's failing
    # to write (EFBIG here) was taken for a read failure too, in the first version of that rule.
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _ENCODE_FAILING],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "CONVERSION_FAILED", done.stderr
