"""The per-asset work unit: open -> convert -> write one accepted plan, and say what happened.

``export_asset`` is a module-level function of picklable arguments returning a picklable outcome, so
any ``concurrent.futures.Executor`` can run it: threads, processes, or Dask workers on other machines.
It never raises for a problem with the asset: every failure becomes a failed ``AssetOutcome`` carrying
the error's stable ``code``. Foreign exceptions a host's store or converter lets through are classified
by the stage they came from (``exportjob._failures``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from ._failures import Stage, classify
from ._records import AssetOutcome
from .plans import ExportPlan
from .protocols import AssetStore, Converter

__all__ = ["export_asset"]

logger = logging.getLogger("exportjob.engine")


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
    stage = Stage.READING
    counted: _Counted | None = None
    closing = False
    try:
        with store.open_original(plan.handle) as source:
            stage = Stage.CONVERTING
            output = converter.convert(source, plan)
            counted = _Counted(output.chunks)
            stage = Stage.WRITING
            location = store.write_export(plan.output_name, counted)
            closing = True
    except Exception as exc:
        if not closing:
            if counted is not None and counted.failure is not None:
                # The store raised because the converter's stream failed: blame the stream.
                code, message = classify(Stage.STREAMING, counted.failure, handle)
            else:
                code, message = classify(stage, exc, handle)
            return AssetOutcome.for_failure(plan, code, message)
        # The export landed; only closing the original failed.
        logger.warning("closing the original of %s failed", handle, exc_info=exc)
    assert counted is not None  # noqa: S101 - set before the write that succeeded
    return AssetOutcome.for_export(
        plan,
        output_format=None if output.format is None else output.format.render(),
        media_type=output.media_type,
        bytes_written=counted.total,
        location=location,
        width=output.width,
        height=output.height,
    )
