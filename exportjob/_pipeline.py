"""The streaming pipeline of one job: describe -> plan -> export, concurrently, with bounded memory.

Handles enter in job order. They are described on a small thread pool of their own (many describes
in flight, since a store is usually latency-bound; quick describes in chunks, ``_pacing``), then
planned in job order as soon as they and every handle before them are described (so output names
are the same whatever the timing), then exported by the ``Dispatcher`` (``_dispatch``). At most
``max_in_flight`` assets are between entering and ending, so memory does not grow with the job. A
finished asset's outcome goes to the ``Ledger``; nothing else of it stays. The coordinating thread
sleeps on one queue that every describe, every work unit and every ``stop``/``pause``/``resume``
wakes.
"""

from __future__ import annotations

import collections
import itertools
import logging
import queue
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, Future, wait
from typing import Any

import attrs

from ._assets import AssetHandle
from ._describing import Described, Slot, describe_batch, describe_chunk, own_names
from ._dispatch import Dispatcher
from ._failures import Stage, classify
from ._ledger import Ledger
from ._pacing import Pace
from ._records import AssetOutcome
from ._run import JobRun
from ._work import Workers
from .plans import ExportPlan, JobPlan, Planner, Refusal
from .protocols import AssetStore, BatchDescriber, Converter, NamedHandles, OnConflict

__all__ = ["Pipeline", "PipelineSettings"]

logger = logging.getLogger("exportjob.engine")

_BATCH = 32  # handles per describe_many call
_POLL_SECONDS = 0.5
_DESCRIBE_TARGET = 0.001  # seconds a chunk of describes should last
_QUICK_DESCRIBE = 0.0002  # a busy describe quicker than this is made in the coordinating thread


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
        again: Mapping[AssetHandle, str],
    ) -> None:
        self.s = settings
        self.workers = workers
        self.run = run
        self.planner = planner
        self.ledger = ledger
        self.skip = skip
        self._handles: Iterator[AssetHandle] = iter(run.job.unique_handles)
        self._exhausted = False
        # Checked once: a runtime protocol check costs microseconds, and chunks come often.
        self._batcher = settings.store if isinstance(settings.store, BatchDescriber) else None
        self._window: collections.deque[Slot] = collections.deque()
        self._describes: set[Future[Any]] = set()
        self._inbox: queue.SimpleQueue[Future[Any] | None] = queue.SimpleQueue()
        self._describe_pace = Pace(_DESCRIBE_TARGET, _BATCH, warm_up=1)
        # The window, the describes and the planner: the coordinator's, or a local worker's
        # that found nothing planned (so quick work runs on one thread, not two in turn).
        self._planning = threading.Lock()
        # Names given by looking at the export area are journaled as they are planned.
        self._intents = ledger.journal if planner.taken is not None else None
        # The names the job's files hold are taken before any asset is planned: an asset that
        # failed before its plan last time must not be given the name of a later one's file.
        for outcome in skip.values():
            if outcome.output_name:
                planner.claim(outcome.output_name)
        # Those whose export was removed since run again, under the name they had.
        for handle, name in again.items():
            planner.give_back(handle, name)
        if isinstance(settings.store, NamedHandles):
            planner.reserve(own_names(settings.store, run.job.unique_handles, skip))

    def plans(self) -> Iterator[ExportPlan | AssetOutcome]:
        """Describe and plan every handle, in job order, without exporting (``ExportEngine.plan``)."""
        while True:
            self._fill(limit=self.s.max_in_flight)
            if not self._window:
                return
            slot = self._window.popleft()
            if slot.future is not None:
                wait([slot.future])
            described = slot.result()
            if described is not None:
                yield self._plan(described)

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
        assert self.workers is not None  # noqa: S101 - execute() runs with workers
        s = self.s
        taken = self.planner.taken
        out = Dispatcher(
            store=s.store,
            converter=s.converter,
            on_conflict=s.on_conflict,
            workers=self.workers,
            size=s.workers,
            run=self.run,
            ledger=self.ledger,
            inbox=self._inbox,
            refill=lambda: self._refill(out),
            rename=self._rename if taken is not None else None,
            deciding=lambda: taken is not None and taken.answering,
            room_to_describe=self._room_for_a_batch,
        )
        self.run._waker = self._poke  # noqa: SLF001 - the engine drives its runs
        try:
            self._loop(out)
        except BaseException:
            self.run.stop()
            wait(list(self._describes))
            out.drain()
            raise
        finally:
            self.run._waker = None  # noqa: SLF001
        if out.refused is not None:
            raise out.refused
        if self.ledger.interrupt is not None:
            raise self.ledger.interrupt

    def _loop(self, out: Dispatcher) -> None:
        while True:
            active = out.may_start()
            moved = False
            if not out.plans_itself():
                with self._planning:
                    moved = self._advance(out, active=active)
            if active:
                out.dispatch()
            if self._finished(out):
                break
            out.tick()
            # Handles let in or planned: more may be ready now (a resumed job's skipped ones are,
            # at once), so look again without sleeping until something ends.
            self._await(out, block=not moved)

    def _poke(self) -> None:
        self._inbox.put(None)

    def _advance(self, out: Dispatcher, *, active: bool) -> bool:
        """Let handles in (if *active*) and plan the described ones; whether any moved on.

        Under ``_planning``.
        """
        let_in = 0
        if active:
            # Planned and not ended: waiting, in a unit, or ended and not yet collected.
            let_in = self._fill(limit=self.s.max_in_flight - len(self.ledger.planned))
        return self._plan_ready(out) > 0 or let_in > 0

    def _refill(self, out: Dispatcher) -> bool:
        """A local worker found nothing planned: plan more itself, unless another thread is."""
        if not self._planning.acquire(blocking=False):
            return False
        try:
            self._advance(out, active=out.may_start())
        finally:
            self._planning.release()
        return True

    def _rename(self, plan: ExportPlan) -> tuple[ExportPlan, bool]:
        """*plan* under the next free name (``Planner.rename``), and whether it was found free.

        The name is journaled before the asset can be written under it.
        """
        with self._planning:
            plan = self.planner.rename(plan)
            if self._intents is not None:
                self._intents.intend([(plan.handle, plan.output_name)])
            return plan, self.planner.checked(plan)

    # -- describe and plan

    def _fill(self, limit: int) -> int:
        """Let handles in, in job order, while the window and the describe pool have room.

        Returns how many were let in.
        """
        let_in = 0
        while not self._exhausted and len(self._window) < limit and self._describing():
            if len(self._describes) >= self.s.describe_concurrency:
                return let_in
            room = limit - len(self._window)
            if self._batcher is not None:
                size = max(1, min(_BATCH, self.s.max_in_flight // 2))
                if room < size and (self._window or self.ledger.planned):
                    return let_in  # wait for room for a whole batch: one round trip for many
            else:
                size = self._describe_pace.size()
            handles = self._take(min(size, room))
            if not handles:
                return let_in
            let_in += len(handles)
            fresh = tuple(h for h in handles if h not in self.skip) if self.skip else tuple(handles)
            future: Future[Any] | None = None
            here: tuple[Described | BaseException, ...] | None = None  # described right here
            timed = False  # whether its chunk's timing is still to be observed
            if fresh:
                if self._batcher is not None:
                    future = self.s.describe_pool.submit(describe_batch, self._batcher, fresh)
                elif self._describe_pace.crowded(_QUICK_DESCRIBE):
                    # Quick and busy: here, since another thread would only wait for the GIL.
                    here, seconds, cpu = describe_chunk(self.s.store, fresh, self._describing)
                    self._describe_pace.observe(len(here), seconds, cpu)
                else:
                    future = self.s.describe_pool.submit(
                        describe_chunk, self.s.store, fresh, self._describing
                    )
                    timed = True
                if future is not None:
                    self._describes.add(future)
                    future.add_done_callback(self._described)
            index = 0
            window = self._window
            for handle in handles:
                if self.skip and handle in self.skip:
                    window.append(Slot(handle, value=self.skip[handle], done=True))
                elif here is not None:
                    # None for the handles a stop left undescribed: planned as never described.
                    window.append(
                        Slot(handle, value=here[index] if index < len(here) else None, done=True)
                    )
                    index += 1
                else:
                    window.append(
                        Slot(
                            handle,
                            future,
                            index=index,
                            batched=self._batcher is not None,
                            timed=timed,
                        )
                    )
                    index += 1
        return let_in

    def _room_for_a_batch(self) -> bool:
        """Whether a store's own batch of describes (``describe_many``) could be sent now.

        Read by a worker without the planning lock: a hint to wake the coordinator, no more.
        """
        if self._batcher is None or self._exhausted:
            return False
        if len(self._describes) >= self.s.describe_concurrency:
            return False
        room = self.s.max_in_flight - len(self.ledger.planned) - len(self._window)
        return room >= max(1, min(_BATCH, self.s.max_in_flight // 2))

    def _describing(self) -> bool:
        return not self.run.stop_requested

    def _described(self, future: Future[Any]) -> None:
        self._describes.discard(future)
        self._inbox.put(None)

    def _take(self, count: int) -> list[AssetHandle]:
        count = max(0, count)
        handles = list(itertools.islice(self._handles, count))
        if len(handles) < count:
            self._exhausted = True
        return handles

    def _plan_ready(self, out: Dispatcher) -> int:
        """Plan the described handles at the head of the window, in job order; how many left it."""
        ready: list[Described] = []
        left = 0
        while self._window and self._window[0].ready():
            slot = self._window.popleft()
            left += 1
            if self.skip and slot.handle in self.skip:
                out.record(self.skip[slot.handle], journaled=True)
                continue
            if slot.done and not isinstance(slot.value, BaseException):
                described = slot.value  # described here: nothing to wait for, nothing to time
            else:
                described = self._result(slot)
            if described is not None:  # None: never described, the job was interrupted
                ready.append(described)
        if not ready:
            return left
        if self.planner.taken is not None:
            self.planner.look_ahead([d for d in ready if not isinstance(d, AssetOutcome)])
        accepted: list[ExportPlan] = []
        for described in ready:
            planned = self._plan(described)
            if isinstance(planned, AssetOutcome):
                out.record(planned)
            elif not planned.accepted:
                out.record(AssetOutcome.for_refusal(planned))
            else:
                accepted.append(planned)
        if self._intents is not None and accepted:
            # Before any of them can be written: a resumed job gives each the same name again.
            self._intents.intend([(p.handle, p.output_name) for p in accepted])
        if self.planner.taken is None:
            out.add_all(accepted)
        else:
            for plan in accepted:
                out.add(plan, checked=self.planner.checked(plan))
        return left

    def _result(self, slot: Slot) -> Described | None:
        try:
            described = slot.result()
        except Exception:
            raise
        except BaseException as exc:  # noqa: BLE001 - the store's SystemExit & co.: end the job
            code, message = classify(Stage.DESCRIBING, exc, slot.handle.value)
            self.ledger.interrupted(exc)
            return AssetOutcome.for_failure(slot.handle, code, message)
        if slot.index == 0 and slot.timed and slot.future is not None:
            chunk, seconds, cpu = slot.future.result()
            self._describe_pace.observe(len(chunk), seconds, cpu)
        return described

    def _plan(self, described: Described) -> ExportPlan | AssetOutcome:
        if isinstance(described, AssetOutcome):
            self.planner.release(described.handle)
            return described
        try:
            return self.planner.plan(described)
        except Exception as exc:  # noqa: BLE001 - one asset's plan never fails the job
            code, message = classify(Stage.PLANNING, exc, described.handle.value)
            return AssetOutcome.for_failure(described.handle, code, message)

    def _finished(self, out: Dispatcher) -> bool:
        if out.busy():
            return False
        with self._planning:
            if self.run.stop_requested or out.refused is not None:
                wait(list(self._describes))  # nothing of the job may still run after its end
                self._plan_ready(out)  # what was learnt is kept: the not-run assets' names, types
                return True
            return self._exhausted and not self._window and out.idle()

    def _await(self, out: Dispatcher, *, block: bool = True) -> None:
        """Collect the ended units, first waiting (if *block*) for an end or a poke.

        An end is a unit's or a describe's; a poke is ``stop``, ``pause`` or ``resume``.
        """
        try:
            if block:
                item = self._inbox.get(timeout=out.poll_seconds() or _POLL_SECONDS)
            else:
                item = self._inbox.get_nowait()
        except queue.Empty:
            return
        while True:
            if item is not None:
                out.collect(item)
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
