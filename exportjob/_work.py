"""The per-asset work unit (open -> convert -> write one accepted plan) and the executor it runs on.

``export_asset`` is a module-level function of picklable arguments returning a picklable outcome, so
any ``concurrent.futures.Executor`` can run it: threads, processes, or Dask workers on other machines.
It never raises for a problem with the asset: every failure becomes a failed ``AssetOutcome`` carrying
the error's stable ``code``. Foreign exceptions a host's store or converter lets through are classified
by the stage they came from (``exportjob._failures``).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future
from typing import Any

import attrs

from ._failures import Stage, classify
from ._records import AssetOutcome
from .exceptions import OutputExistsError
from .plans import ExportPlan
from .protocols import AssetStore, Converter, FileBacked, OnConflict, file_backed

__all__ = ["UnitResult", "Workers", "export_asset", "export_unit", "lost_worker"]

logger = logging.getLogger("exportjob.engine")


class _Counted:
    """Iterate the converter's chunks, remembering a failure of the source (to blame it, not the store)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
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
            yield chunk


class _CountedFile(_Counted):
    """Chunks of a whole open file, still ``FileBacked``: the store may copy it in the kernel."""

    def __init__(self, chunks: FileBacked) -> None:
        super().__init__(chunks)
        self._file = chunks

    def fileno(self) -> int:
        """The open original's descriptor."""
        return self._file.fileno()


def export_asset(
    store: AssetStore,
    converter: Converter,
    plan: ExportPlan,
    on_conflict: OnConflict = OnConflict.ERROR,
) -> AssetOutcome:
    """Export one accepted *plan*: open the original, convert it, write the output.

    An output name that is taken fails the asset with ``OUTPUT_EXISTS`` (or skips it, under
    ``OnConflict.SKIP``); one that already held exactly these bytes (an earlier attempt of the
    same export) counts as exported: nothing was replaced.

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
            chunks = output.chunks
            whole_file = file_backed(chunks)
            counted = _Counted(chunks) if whole_file is None else _CountedFile(whole_file)
            stage = Stage.WRITING
            written = store.write_export(plan.output_name, counted, on_conflict=on_conflict)
            closing = True
    except OutputExistsError as exc:
        if on_conflict is OnConflict.SKIP:  # the store's message says how not to skip it
            message = (
                f"skipped: {exc.name or plan.output_name} already exists in the export area and "
                "was not written by this job; it was left untouched (the conflict policy is skip)"
            )
            return AssetOutcome.for_skip(plan, exc.location, message)
        return AssetOutcome.for_failure(plan, exc.code, exc.message)
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
    if written.name != plan.output_name:
        plan = attrs.evolve(
            plan,
            output_name=written.name,
            warnings=(
                *plan.warnings,
                (
                    f"output name {plan.output_name!r} is taken in the export area; written as "
                    f"{written.name!r}"
                ),
            ),
        )
    return AssetOutcome.for_export(
        plan,
        output_format=None if output.format is None else sys.intern(output.format.render()),
        media_type=output.media_type,
        bytes_written=written.size,
        location=written.location,
        width=output.width,
        height=output.height,
        kept_metadata=output.metadata,
    )


@attrs.frozen
class UnitResult:
    """What one work unit returns: an outcome per plan it started, in order, and how long it took.

    A unit ends early, with fewer outcomes than plans, when a plug-in raised a ``BaseException``
    (*failure*) for the next plan; the plans after it were not started.
    """

    outcomes: tuple[AssetOutcome, ...]
    seconds: float
    failure: BaseException | None = None


def export_unit(
    store: AssetStore,
    converter: Converter,
    plans: Sequence[ExportPlan],
    on_conflict: OnConflict = OnConflict.ERROR,
) -> UnitResult:
    """Export *plans* one after another (``export_asset``), in a process of its own or not."""
    start = time.perf_counter()
    outcomes: list[AssetOutcome] = []
    for plan in plans:
        try:
            outcomes.append(export_asset(store, converter, plan, on_conflict))
        except BaseException as exc:  # noqa: BLE001, PERF203 - the finished ones are kept; the engine decides
            return UnitResult(tuple(outcomes), time.perf_counter() - start, exc)
    return UnitResult(tuple(outcomes), time.perf_counter() - start)


class Workers:
    """The executor work units run on; a broken process pool is replaced by a fresh one."""

    def __init__(
        self, executor: Executor, factory: Callable[[], Executor] | None, *, own: bool = False
    ) -> None:
        self.executor = executor
        self.own = own  # the engine's own thread pool, not the host's
        self._factory = factory
        self.generation = 0
        self.replaced: list[Executor] = []

    def submit(self, *args: Any) -> Future[Any]:
        """Submit one work unit (``export_unit``, or a local worker's loop)."""
        return self.executor.submit(*args)

    def rebuild(self, generation: int) -> bool:
        """Replace the executor of *generation* if it is still the current one; whether one is."""
        if generation != self.generation:
            return True
        fresh = self._fresh()
        if fresh is None:
            return False
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = fresh
        self.replaced.append(fresh)
        self.generation += 1
        return True

    def _fresh(self) -> Executor | None:
        if self._factory is not None:
            return self._factory()
        from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415 - only after a break

        old = self.executor
        if isinstance(old, ProcessPoolExecutor):
            return ProcessPoolExecutor(
                max_workers=getattr(old, "_max_workers", None),
                mp_context=getattr(old, "_mp_context", None),
            )
        return None


def lost_worker(exc: BaseException) -> bool:
    """Whether *exc* says the work unit's worker died (not that the unit itself failed)."""
    return isinstance(exc, BrokenExecutor) or type(exc).__name__ == "KilledWorker"
