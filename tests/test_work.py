"""The per-asset work unit: every failure becomes an outcome whose code says which stage failed."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import BinaryIO

import attrs
import pytest

from exportjob import (
    Asset,
    AssetHandle,
    AssetStatus,
    ExportEngine,
    ExportFormat,
    ExportJob,
    ExportPlan,
    JobContext,
)
from exportjob._work import export_asset
from exportjob.converters import CopyConverter
from exportjob.plans import Refusal
from exportjob.protocols import WrittenExport
from exportjob.stores import MemoryStore

ASSET = Asset(handle="h", type="Pdf", name="doc", file_name="doc.pdf", company="acme")
PLAN = ExportPlan(asset=ASSET, fmt=ExportFormat.ORIG, output_name="doc.pdf")


@attrs.define
class RawStore:
    """A careless host store that lets foreign exceptions through, from a chosen stage."""

    open_error: BaseException | None = None
    write_error: BaseException | None = None
    describe_error: BaseException | None = None
    close_error: BaseException | None = None
    written: dict[str, bytes] = attrs.Factory(dict)

    def describe(self, handle: AssetHandle) -> Asset:
        if self.describe_error is not None:
            raise self.describe_error
        return attrs.evolve(ASSET, handle=handle)

    def open_original(self, handle: AssetHandle) -> AbstractContextManager[BinaryIO]:
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


@pytest.mark.parametrize(
    ("store", "code", "text"),
    [
        pytest.param(
            RawStore(open_error=PermissionError("denied")),
            "STORE_READ_FAILED",
            "PermissionError: denied",
            id="open-oserror",
        ),
        pytest.param(
            RawStore(open_error=KeyError("k")),
            "UNEXPECTED_ERROR",
            "while reading: KeyError",
            id="open-other",
        ),
        pytest.param(
            RawStore(write_error=OSError(28, "No space left")),
            "STORE_WRITE_FAILED",
            "No space left",
            id="write-oserror",
        ),
        pytest.param(
            RawStore(write_error=TypeError("bad")),
            "UNEXPECTED_ERROR",
            "while writing: TypeError: bad",
            id="write-other",
        ),
    ],
)
def test_foreign_exceptions_are_classified_by_stage(
    store: RawStore, code: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="exportjob"):
        outcome = export_asset(store, CopyConverter(), PLAN)
    assert (outcome.status, outcome.code) == (AssetStatus.FAILED, code)
    assert text in (outcome.message or "")
    assert outcome.handle == AssetHandle("h")
    assert caplog.records  # logged with the traceback
    assert caplog.records[0].exc_info is not None


def test_an_export_whose_original_fails_to_close_is_still_exported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RawStore(close_error=OSError("close failed"))
    with caplog.at_level(logging.WARNING, logger="exportjob"):
        outcome = export_asset(store, CopyConverter(), PLAN)
    assert outcome.exported
    assert store.written == {"doc.pdf": b"%PDF-1.4"}
    assert "closing the original" in caplog.records[0].getMessage()


def test_a_refused_plan_is_not_a_work_unit() -> None:
    refused = attrs.evolve(PLAN, refusal=Refusal("NOT_AUTHORIZED", "no"))
    with pytest.raises(ValueError, match="refused"):
        export_asset(MemoryStore(), CopyConverter(), refused)


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
    with (
        caplog.at_level(logging.ERROR, logger="exportjob"),
        ExportEngine(RawStore(describe_error=error), CopyConverter()) as engine,
    ):
        log = engine.run(ExportJob(asset_handles=["h"], fmt="orig"), JobContext(company="acme"))
    assert log.outcome("h").code == code
    assert type(error).__name__ in (log.outcome("h").message or "")
