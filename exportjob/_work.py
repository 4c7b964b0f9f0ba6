"""The per-asset work unit: open -> convert -> write one accepted plan, and say what happened.

``export_asset`` is a module-level function of picklable arguments returning a picklable outcome, so
any ``concurrent.futures.Executor`` can run it: threads, processes, or Dask workers on other machines.
It never raises for a problem with the asset: every failure becomes a failed ``AssetOutcome`` carrying
the error's stable ``code``. Foreign exceptions a host's store or converter lets through are classified
by the stage they came from and logged here with their traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from ._joblog import AssetOutcome, AssetStatus, utc_now
from ._plan import ExportPlan
from .exceptions import ConversionError, ExportJobError, StoreReadError, StoreWriteError
from .protocols import AssetStore, Converter

__all__ = ["UNEXPECTED_ERROR", "export_asset", "failed_outcome", "planned_outcome"]

logger = logging.getLogger("exportjob.engine")

#: The code of an exception that is not an exportjob error and fits no stage (a bug in a plug-in).
UNEXPECTED_ERROR = "UNEXPECTED_ERROR"


class _Counted:
    """Iterate the converter's chunks, counting the bytes and remembering a failure of the source."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self.total = 0
        self.failure: BaseException | None = None

    def __iter__(self) -> Iterator[bytes]:
        iterator = iter(self._chunks)
        while True:
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            except BaseException as exc:
                self.failure = exc
                raise
            self.total += len(chunk)
            yield chunk


def planned_outcome(plan: ExportPlan, status: AssetStatus, **fields: object) -> AssetOutcome:
    """Return an outcome for *plan* with *status*, filling what the plan knows."""
    base: dict[str, object] = {
        "handle": plan.handle,
        "status": status,
        "file_name": plan.asset.file_name,
        "asset_type": plan.asset.type,
        "output_name": plan.output_name or None,
        "output_format": None if plan.output_format is None else plan.output_format.render(),
        "warnings": plan.warnings,
    }
    base.update(fields)
    return AssetOutcome(**base)  # type: ignore[arg-type]


def failed_outcome(plan: ExportPlan, code: str, message: str) -> AssetOutcome:
    """Return the failed outcome of *plan* with the error *code* and *message*."""
    return planned_outcome(plan, AssetStatus.FAILED, code=code, message=message)


def _classify(stage: str, exc: BaseException, handle: str) -> tuple[str, str]:
    """Return the error code and message that *exc*, raised while *stage*, stands for."""
    if isinstance(exc, ExportJobError):
        return exc.code, exc.message
    text = f"{type(exc).__name__}: {exc}"
    logger.error("unexpected error while %s asset %s", stage, handle, exc_info=exc)
    if stage in {"reading", "streaming"} and isinstance(exc, OSError):
        return StoreReadError.code, f"could not read the original: {text}"
    if stage in {"converting", "streaming"}:
        return ConversionError.code, f"the converter failed: {text}"
    if stage == "writing" and isinstance(exc, OSError):
        return StoreWriteError.code, f"could not write the export: {text}"
    return UNEXPECTED_ERROR, f"unexpected error while {stage}: {text}"


def export_asset(store: AssetStore, converter: Converter, plan: ExportPlan) -> AssetOutcome:
    """Export one accepted *plan*: open the original, convert it, write the output.

    Returns the outcome, exported or failed; never raises for a problem with the asset. A foreign
    exception is classified by where it came from: an ``OSError`` opening or streaming the original
    is a read failure, anything else from the converter a conversion failure, an ``OSError`` from
    ``write_export`` a write failure.

    Raises:
        ValueError: *plan* is refused (the engine only dispatches accepted plans).

    >>> from exportjob.stores import MemoryStore
    >>> from exportjob.converters import CopyConverter
    >>> store = MemoryStore()
    >>> from exportjob import AssetHandle, ExportFormat, ExportPlan
    >>> store.add("h1", b"%PDF-1.4 ...", file_name="brochure.pdf")
    >>> asset = store.describe(AssetHandle("h1"))
    >>> plan = ExportPlan(asset=asset, fmt=ExportFormat.ORIG, output_name="brochure.pdf")
    >>> outcome = export_asset(store, CopyConverter(), plan)
    >>> outcome.status, outcome.bytes_written, store.read_export("brochure.pdf")
    (<AssetStatus.EXPORTED: 'exported'>, 12, b'%PDF-1.4 ...')
    """
    handle = plan.handle.value
    if not plan.accepted:
        msg = f"plan for {handle} was refused; only accepted plans are exported"
        raise ValueError(msg)
    stage = "reading"
    counted: _Counted | None = None
    try:
        with store.open_original(plan.handle) as source:
            stage = "converting"
            output = converter.convert(source, plan)
            counted = _Counted(output.chunks)
            stage = "writing"
            location = store.write_export(plan.output_name, counted)
            stage = "closing"
    except Exception as exc:
        if stage != "closing":
            if counted is not None and counted.failure is not None:
                # The store raised because the converter's stream failed: blame the stream.
                code, message = _classify("streaming", counted.failure, handle)
            else:
                code, message = _classify(stage, exc, handle)
            return failed_outcome(plan, code, message)
        # The export landed; only closing the original failed.
        logger.warning("closing the original of %s failed", handle, exc_info=exc)
    assert counted is not None  # noqa: S101 - set before the write that succeeded
    return planned_outcome(
        plan,
        AssetStatus.EXPORTED,
        output_format=None if output.format is None else output.format.render(),
        media_type=output.media_type,
        bytes_written=counted.total,
        location=location,
        width=output.width,
        height=output.height,
        finished=utc_now(),
    )
