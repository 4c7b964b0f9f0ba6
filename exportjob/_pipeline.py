"""The streaming pipeline of one job: describe -> plan -> export, concurrently, with bounded memory.

Handles enter in job order. Each is described on a small thread pool of its own (many describes in
flight, since a store is usually latency-bound), then planned in job order as soon as it and every
handle before it are described (so output names are the same whatever the timing), then exported
on the executor, at most as many at once as it has workers (so a stop leaves nothing queued there,
and what is in flight finishes and is recorded). At most ``max_in_flight`` assets are between
entering and ending, so memory does not grow with the job. A finished asset's outcome goes to the
``Ledger``; nothing else of it stays.

Worker faults: when a work unit loses its worker (a broken process pool, a Dask ``KilledWorker``),
the assets that were in flight are suspects; they are run again one at a time (the pool rebuilt
first), so the asset that kills its worker a second time fails ``WORKER_FAILED`` and no other does.
"""

from __future__ import annotations

import collections
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, wait
from typing import Any, cast

import attrs

from ._assets import Asset, AssetHandle
from ._codes import WORKER_FAILED
from ._failures import Stage, classify
from ._ledger import Ledger
from ._records import AssetOutcome
from ._run import JobRun
from ._work import Workers, export_asset, lost_worker
from .plans import ExportPlan, JobPlan, Planner, Refusal
from .protocols import AssetStore, BatchDescriber, Converter, NamedHandles, OnConflict

__all__ = ["Pipeline", "describe_one"]

logger = logging.getLogger("exportjob.engine")

_BATCH = 32
_POLL_SECONDS = 0.5

Described = Asset | AssetOutcome


def describe_one(store: AssetStore, handle: AssetHandle) -> Described:
    """Describe *handle*; a failure is the asset's failed outcome, never raised."""
    try:
        asset: object = store.describe(handle)
        if not isinstance(asset, Asset):
            msg = f"the store's describe returned {type(asset).__name__}, not an Asset"
            raise TypeError(msg)  # noqa: TRY301 - classified with the store's own errors
    except Exception as exc:  # noqa: BLE001 - one asset's failure never fails the job
        code, message = classify(Stage.DESCRIBING, exc, handle.value)
        return AssetOutcome.for_failure(handle, code, message)
    return asset if asset.handle == handle else attrs.evolve(asset, handle=handle)


def _own_names(
    store: NamedHandles, handles: Iterable[AssetHandle], skip: Mapping[AssetHandle, AssetOutcome]
) -> Iterator[tuple[AssetHandle, str | None]]:
    """Each handle's own file name as the store tells it without I/O (None where it cannot)."""
    for handle in handles:
        if handle in skip:
            continue
        try:
            name = store.file_name_of(handle)
        except Exception:  # noqa: BLE001 - no name kept; describing it will say what is wrong
            name = None
        yield handle, name if isinstance(name, str) else None


def _describe_batch(
    store: BatchDescriber, handles: tuple[AssetHandle, ...]
) -> dict[AssetHandle, Any]:
    """Describe *handles* in one call; a failure of the call is every handle's failure."""
    try:
        return dict(store.describe_many(handles))
    except Exception as exc:  # noqa: BLE001 - recorded per asset
        return dict.fromkeys(handles, exc)


def _batch_result(handle: AssetHandle, found: Mapping[AssetHandle, Any]) -> Described:
    from .exceptions import AssetNotFoundError  # noqa: PLC0415 - only for a batch that missed one

    value = found.get(handle)
    if isinstance(value, Asset):
        return value if value.handle == handle else attrs.evolve(value, handle=handle)
    if value is None:
        value = AssetNotFoundError(f"no asset {handle}", handle=handle.value)
    if not isinstance(value, Exception):
        value = TypeError(f"the store's describe_many gave {type(value).__name__}, not an Asset")
    code, message = classify(Stage.DESCRIBING, value, handle.value)
    return AssetOutcome.for_failure(handle, code, message)


@attrs.define
class _Slot:
    """One handle between entering the pipeline and being planned."""

    handle: AssetHandle
    future: Future[Any] | None = None
    value: Described | None = None
    batched: bool = False

    def ready(self) -> bool:
        return self.value is not None or (self.future is not None and self.future.done())

    def result(self) -> Described:
        if self.value is not None:
            return self.value
        assert self.future is not None  # noqa: S101 - a slot has one or the other
        result = self.future.result()
        if self.batched:
            return _batch_result(self.handle, result)
        return cast("Described", result)


@attrs.define
class _Task:
    """One accepted plan, dispatched (perhaps again, after a lost worker)."""

    plan: ExportPlan
    strikes: int = 0
    generation: int = 0


@attrs.frozen(kw_only=True)
class PipelineSettings:
    """What the engine hands a pipeline: plug-ins and bounds."""

    store: AssetStore
    converter: Converter
    describe_pool: Executor
    describe_concurrency: int
    max_in_flight: int
    workers: int
    on_conflict: OnConflict


class Pipeline:
    """Run one job's assets through describe -> plan -> export; see the module docstring."""

    def __init__(
        self,
        settings: PipelineSettings,
        workers: Workers | None,
        run: JobRun,
        planner: Planner,
        ledger: Ledger,
        *,
        skip: Mapping[AssetHandle, AssetOutcome],
    ) -> None:
        self.s = settings
        self.workers = workers
        self.run = run
        self.planner = planner
        self.ledger = ledger
        self.skip = skip
        self._handles: Iterator[AssetHandle] = iter(run.job.unique_handles)
        self._exhausted = False
        self._window: collections.deque[_Slot] = collections.deque()
        self._describes: set[Future[Any]] = set()
        self._ready: collections.deque[_Task] = collections.deque()
        self._suspects: collections.deque[_Task] = collections.deque()
        self._tasks: dict[Future[AssetOutcome], _Task] = {}
        self._refused: BaseException | None = None
        # The names the job's files hold are taken before any asset is planned: an asset that
        # failed before its plan last time must not be given the name of a later one's file.
        for outcome in skip.values():
            if outcome.output_name:
                planner.claim(outcome.output_name)
        if isinstance(settings.store, NamedHandles):
            planner.reserve(_own_names(settings.store, run.job.unique_handles, skip))

    def plans(self) -> Iterator[ExportPlan | AssetOutcome]:
        """Describe and plan every handle, in job order, without exporting (``ExportEngine.plan``)."""
        while True:
            self._fill(limit=self.s.max_in_flight)
            if not self._window:
                return
            slot = self._window.popleft()
            if slot.future is not None:
                wait([slot.future])
            yield self._plan(slot.result())

    def job_plan(self) -> JobPlan:
        """Describe and plan every handle without exporting: ``ExportEngine.plan``."""
        plans: list[ExportPlan] = []
        failures: list[tuple[Any, Refusal]] = []
        for planned in self.plans():
            if isinstance(planned, AssetOutcome):
                failures.append(
                    (planned.handle, Refusal(planned.code or "", planned.message or ""))
                )
            else:
                plans.append(planned)
        duplicates = self.run.job.duplicate_handles
        return JobPlan(plans=tuple(plans), failures=tuple(failures), duplicates=duplicates)

    def execute(self) -> None:
        """Run the job to its end (or its stop); raise what the executor raised refusing work.

        Whatever ends it (a plug-in's ``SystemExit``, ``KeyboardInterrupt`` or other
        ``BaseException``, a journal that cannot be written), no work unit of the job still runs,
        unrecorded, when this returns or raises; a plug-in's interrupt is raised from here then.
        """
        try:
            self._loop()
        except BaseException:
            self.run.stop()
            self._drain()
            raise
        if self._refused is not None:
            raise self._refused
        if self.ledger.interrupt is not None:
            raise self.ledger.interrupt

    def _loop(self) -> None:
        while True:
            active = not self.run.stop_requested and not self.run.paused
            if active:
                self._fill(limit=self.s.max_in_flight - len(self._tasks) - len(self._ready))
            self._plan_ready()
            if active:
                self._dispatch()
            if self._finished():
                break
            self.ledger.tick()
            self._await()

    def _drain(self) -> None:
        """Wait for what is in flight and record it, whatever recording it raises."""
        wait(list(self._describes))
        while self._tasks:
            future, task = self._tasks.popitem()
            wait([future])
            with contextlib.suppress(BaseException):  # the job already ends on an error
                self._collect(future, task)

    # -- stages

    def _fill(self, limit: int) -> None:
        """Let handles in, in job order, while the window and the describe pool have room."""
        store = self.s.store
        batch = isinstance(store, BatchDescriber)
        size = max(1, min(_BATCH, self.s.max_in_flight // 2)) if batch else 1
        while not self._exhausted and len(self._window) < limit:
            if len(self._describes) >= self.s.describe_concurrency:
                return
            room = limit - len(self._window)
            if room < size and (self._window or self._ready or self._tasks):
                return  # wait for room for a whole batch: one round trip for many handles
            handles = self._take(size, room=room)
            if not handles:
                return
            fresh = [h for h in handles if h not in self.skip]
            future: Future[Any] | None = None
            if fresh and batch:
                future = self._describe(_describe_batch, store, tuple(fresh))
            for handle in handles:
                if handle in self.skip:
                    self._window.append(_Slot(handle, value=self.skip[handle]))
                elif batch:
                    self._window.append(_Slot(handle, future, batched=True))
                else:
                    self._window.append(_Slot(handle, self._describe(describe_one, store, handle)))

    def _describe(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        future = self.s.describe_pool.submit(function, *args)
        self._describes.add(future)
        future.add_done_callback(self._describes.discard)
        return future

    def _take(self, count: int, room: int) -> list[AssetHandle]:
        handles: list[AssetHandle] = []
        for _ in range(max(0, min(count, room))):
            handle = next(self._handles, None)
            if handle is None:
                self._exhausted = True
                break
            handles.append(handle)
        return handles

    def _plan_ready(self) -> None:
        """Plan the described handles at the head of the window, in job order."""
        while self._window and self._window[0].ready():
            slot = self._window.popleft()
            if slot.handle in self.skip:
                outcome = self.skip[slot.handle]
                self.ledger.finish(outcome, journaled=True)
                continue
            planned = self._plan(self._described(slot))
            if isinstance(planned, AssetOutcome):
                self.ledger.finish(planned)
            elif not planned.accepted:
                self.ledger.finish(AssetOutcome.for_refusal(planned))
            else:
                self.ledger.planned[planned.handle] = planned
                self._ready.append(_Task(planned))

    def _described(self, slot: _Slot) -> Described:
        try:
            return slot.result()
        except Exception:
            raise
        except BaseException as exc:  # noqa: BLE001 - the store's SystemExit & co.: end the job
            code, message = classify(Stage.DESCRIBING, exc, slot.handle.value)
            self.ledger.interrupted(exc)
            return AssetOutcome.for_failure(slot.handle, code, message)

    def _plan(self, described: Described) -> ExportPlan | AssetOutcome:
        if isinstance(described, AssetOutcome):
            self.planner.release(described.handle)
            return described
        try:
            return self.planner.plan(described)
        except Exception as exc:  # noqa: BLE001 - one asset's plan never fails the job
            code, message = classify(Stage.PLANNING, exc, described.handle.value)
            return AssetOutcome.for_failure(described.handle, code, message)

    def _dispatch(self) -> None:
        """Send ready tasks to the executor: suspects one at a time, alone; the rest freely."""
        assert self.workers is not None  # noqa: S101 - execute() runs with workers
        # Checked before each start: a stop() or pause() may come while the ready ones were planned.
        while self._refused is None and not self.run.stop_requested and not self.run.paused:
            if self._suspects:
                if self._tasks:
                    return
                task = self._suspects.popleft()
            elif self._ready and len(self._tasks) < self.s.workers:
                task = self._ready.popleft()
            else:
                return
            try:
                task.generation = self.workers.generation
                future = self.workers.submit(
                    export_asset, self.s.store, self.s.converter, task.plan, self.s.on_conflict
                )
            except Exception as exc:  # noqa: BLE001 - the executor refuses work: end the job
                if isinstance(exc, BrokenExecutor) and self.workers.rebuild(task.generation):
                    self._suspects.appendleft(task)
                    continue
                self._refused = exc
                self.run.stop()  # the executor refuses work: end the job, keep what ran
                self._ready.appendleft(task)
                return
            self._tasks[future] = task

    def _finished(self) -> bool:
        if self._tasks:
            return False
        if self.run.stop_requested or self._refused is not None:
            wait(list(self._describes))  # nothing of the job may still run after its end
            self._plan_ready()  # what was learnt is kept: the not-run assets' names and types
            return True
        return self._exhausted and not self._window and not self._ready and not self._suspects

    def _await(self) -> None:
        """Wait until an export ends, the head of the window is described, or the run is poked."""
        waitable: set[Future[Any]] = set(self._tasks)
        if self._window and not self._window[0].ready() and self._window[0].future is not None:
            waitable.add(self._window[0].future)
        if not waitable:
            if self.run.paused:
                self.run._wait_for_work(_POLL_SECONDS)  # noqa: SLF001 - until resumed or stopped
            return
        done, _ = wait(waitable, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
        for future in done:
            task = self._tasks.pop(future, None)
            if task is not None:
                self._collect(future, task)

    def _collect(self, future: Future[AssetOutcome], task: _Task) -> None:
        try:
            outcome: object = future.result()
        except BaseException as exc:  # noqa: BLE001 - a lost worker or a broken executor
            self._lost(task, exc)
            # A cluster's future lives while its exception's traceback holds the frame that
            # waited for it: drop it, so the cluster forgets the task once it is collected.
            exc.__traceback__ = None
            return
        if not isinstance(outcome, AssetOutcome):
            outcome = AssetOutcome.for_failure(
                task.plan,
                WORKER_FAILED,
                f"the work unit returned {type(outcome).__name__}, not an AssetOutcome",
            )
        self.ledger.finish(outcome)

    def _lost(self, task: _Task, exc: BaseException) -> None:
        """A work unit that did not return: a suspect to run again alone, or a failure."""
        assert self.workers is not None  # noqa: S101
        text = f"{type(exc).__name__}: {exc}"
        if lost_worker(exc):
            task.strikes += 1
            # A broken pool must be replaced first; a cluster that lost a worker still runs.
            usable = not isinstance(exc, BrokenExecutor) or self.workers.rebuild(task.generation)
            if task.strikes < 2 and usable:
                logger.warning(
                    "a worker died exporting %s; running it again alone", task.plan.handle
                )
                self._suspects.append(task)
                return
            message = f"the asset's work unit killed its worker twice: {text}"
        elif isinstance(exc, Exception):
            logger.error("the work unit of %s failed", task.plan.handle, exc_info=exc)
            message = f"the work unit failed: {text}"
        else:  # SystemExit, KeyboardInterrupt from the store or converter: the job ends
            logger.error("the work unit of %s was interrupted", task.plan.handle, exc_info=exc)
            message = f"the work unit was interrupted: {text}"
            self.ledger.interrupted(exc)
        self.ledger.finish(AssetOutcome.for_failure(task.plan, WORKER_FAILED, message))
