"""The export side of a pipeline: accepted plans into work units on the executor, and back.

On a thread pool of this process a unit is a worker's loop: it exports a plan, records its outcome
itself and takes the next ready plan, with no hand-over per asset, checking for a stop or a pause
before each. Quick assets that keep their thread busy run on one such loop (another starts beside
every loop whose asset is slow); with the engine's own pool of one thread, the coordinating thread
runs the loop itself. Sent to other processes or machines, a unit carries one plan, or a chunk of
quick ones (``_pacing``), since each hand-over costs a millisecond or more there; at most one unit
per worker runs and one more waits queued, which a stop lets finish.

Under ``rename``, while the planner looks at the export area, it names every export: the store is
asked to write each planned name as under ``error``, and an asset whose name another job took since
it was planned is planned again under the next free name (``Planner.rename``) and run again, at
most ``_MOST_RENAMES`` times. The store renames nothing itself then, so it never gives an asset a
name planned for a later one.

Worker faults: when a unit loses its worker (a broken process pool, a Dask ``KilledWorker``), the
plans it carried are suspects; they are run again one at a time (the pool rebuilt first), so the
asset that kills its worker a second time fails ``WORKER_FAILED`` and no other does.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Future, ThreadPoolExecutor, wait
from typing import Any

from ._codes import WORKER_FAILED
from ._crowd import Crowd
from ._ledger import Ledger
from ._pacing import Pace
from ._records import AssetOutcome
from ._run import JobRun
from ._tasks import Task, Unit
from ._work import UnitResult, Workers, export_asset, export_unit, lost_worker
from .exceptions import OutputExistsError
from .plans import ExportPlan
from .protocols import AssetStore, Converter, OnConflict

__all__ = ["Dispatcher"]

logger = logging.getLogger("exportjob.engine")

# How long a unit sent to another process or machine should last, and the most plans it carries.
_REMOTE_TARGET = 0.02
_MOST_PER_UNIT = 64
# A local worker wakes the coordinator (to plan more) after this many outcomes, or one this slow.
_COLLECT_EVERY = 16
_SAMPLE_EVERY = 4  # assets between two measurements of a local worker's pace and CPU clock
_MOST_RENAMES = 8  # plans of one asset whose name was taken by the time it was written


class Dispatcher:
    """Ready plans, the units in flight, and the outcomes they give; see the module docstring."""

    def __init__(
        self,
        *,
        store: AssetStore,
        converter: Converter,
        on_conflict: OnConflict,
        workers: Workers,
        size: int,
        run: JobRun,
        ledger: Ledger,
        inbox: queue.SimpleQueue[Future[Any] | None],
        refill: Callable[[], bool] | None = None,
        rename: Callable[[ExportPlan], tuple[ExportPlan, bool]] | None = None,
        deciding: Callable[[], bool] = lambda: False,
        room_to_describe: Callable[[], bool] = lambda: False,
    ) -> None:
        self.store = store
        self.converter = converter
        self.on_conflict = on_conflict
        self._rename = rename  # the planner's next free name, for a name taken since planned
        self._deciding = deciding  # whether the planner still looks at the export area
        self._room_to_describe = room_to_describe  # whether a batch of handles could go in now
        self.workers = workers
        self.size = size
        self.run = run
        self.ledger = ledger
        self.refused: BaseException | None = None
        self._inbox = inbox
        self._refill = refill  # plans more from a local worker; False if another thread is
        self._ready: collections.deque[Task] = collections.deque()
        self._suspects: collections.deque[Task] = collections.deque()
        self._units: dict[Future[Any], Unit] = {}
        self._pace = Pace(_REMOTE_TARGET, _MOST_PER_UNIT)
        self._local = isinstance(workers.executor, ThreadPoolExecutor)
        # Sent away, one more unit than workers: it waits queued, so a worker that finishes one
        # starts the next at once instead of idling while the result travels back and forth.
        self._most_units = size if self._local else size + 1
        # The engine's own pool of one thread: its one worker is the coordinating thread itself,
        # which then hands nothing over (one worker gains nothing from another thread).
        self._inline = self._local and workers.own and size == 1
        self._crowd = Crowd()  # the local workers, their current assets and their pace
        self._tokens = itertools.count()
        # Outcomes are recorded one at a time, by the coordinator or by a local worker thread.
        self._recording = threading.Lock()

    def may_start(self) -> bool:
        """Whether new work may start: the job is neither stopped nor paused."""
        return not self.run._halted  # noqa: SLF001 - the engine drives its runs

    def busy(self) -> bool:
        """Whether a unit is in flight."""
        return bool(self._units)

    def idle(self) -> bool:
        """Whether no plan waits to be exported."""
        return not self._ready and not self._suspects

    def plans_itself(self) -> bool:
        """Whether the coordinator may leave planning to the local worker that is busy.

        So for crowded assets with a worker on them and plans ready: it plans more itself when
        it runs out, and one thread, not two in turn, does the job's Python.
        """
        return (
            self._refill is not None
            and bool(self._units)
            and bool(self._ready)
            and self._crowd.crowded()
        )

    def add(self, plan: ExportPlan, *, checked: bool = True) -> None:
        """Queue an accepted plan last; not *checked* (``Planner.checked``): the store names it."""
        self.ledger.planned[plan.handle] = plan
        self._ready.append(Task(plan) if checked else Task(plan, policy=self.on_conflict))

    def add_all(self, plans: list[ExportPlan]) -> None:
        """Queue accepted plans last, in order, each under the job's policy (``add``)."""
        for plan in plans:
            self.ledger.planned[plan.asset.handle] = plan
        self._ready.extend(map(Task, plans))

    def record(self, outcome: AssetOutcome, *, journaled: bool = False) -> None:
        """Record one asset's outcome in the ledger."""
        with self._recording:
            self.ledger.finish(outcome, journaled=journaled)

    def tick(self) -> None:
        """Let the ledger commit its journal if it is time."""
        with self._recording:
            self.ledger.tick()

    def dispatch(self) -> None:
        """Send ready tasks to the executor: suspects one at a time, alone; the rest in units."""
        # Checked before each start: a stop() or pause() may come while the ready ones were planned.
        while self.refused is None and self.may_start():
            if self._inline and self._ready and not self._units:
                inline = next(self._tokens)
                self._crowd.started[inline] = time.perf_counter()
                self._work_here(self._ready.popleft(), inline)
                return  # back to the coordinator, to plan more
            if self._suspects:
                if self._units:
                    return
                tasks: tuple[Task, ...] = (self._suspects.popleft(),)
            elif self._ready and len(self._units) < self._most_units and self._room_for_a_unit():
                tasks = self._take_ready(1 if self._local else self._unit_size())
                if not tasks:
                    return  # a local worker took the last ones since they were looked at
            else:
                return
            generation = self.workers.generation
            here = self._local and tasks[0].strikes == 0
            token: int | None = None
            try:
                if here:
                    token = next(self._tokens)
                    self._crowd.started[token] = time.perf_counter()
                    future = self.workers.submit(self._work_here, tasks[0], token)
                else:
                    plans = tuple(task.plan for task in tasks)
                    future = self.workers.submit(
                        export_unit, self.store, self.converter, plans, self._policy(tasks[0])
                    )
            except Exception as exc:  # noqa: BLE001 - the executor refuses work: end the job
                if token is not None:
                    self._crowd.started.pop(token, None)
                if isinstance(exc, BrokenExecutor) and self.workers.rebuild(generation):
                    self._suspects.extendleft(reversed(tasks))
                    continue
                self.refused = exc
                self.run.stop()  # the executor refuses work: end the job, keep what ran
                self._ready.extendleft(reversed(tasks))
                return
            for task in tasks:
                task.generation = generation
            # A local loop records its tasks itself, whatever becomes of its future.
            self._units[future] = Unit((), token) if here else Unit(tasks)
            self._crowd.news()
            future.add_done_callback(self._inbox.put)

    def _policy(self, task: Task) -> OnConflict:
        """How the store is asked to write *task*: as under ``error`` while the planner names it."""
        if task.policy is not None:
            return task.policy
        if self._rename is not None and self._deciding():
            return OnConflict.ERROR
        return self.on_conflict

    def _take_ready(self, count: int) -> tuple[Task, ...]:
        """Up to *count* ready tasks, in order: local workers take them too, at any moment."""
        tasks: list[Task] = []
        with contextlib.suppress(IndexError):  # no more: a local worker took them meanwhile
            for _ in range(count):
                task = self._ready.popleft()
                if tasks and task.policy is not tasks[0].policy:  # one write policy per unit
                    self._ready.appendleft(task)
                    break
                tasks.append(task)
        return tuple(tasks)

    def _unit_size(self) -> int:
        """Plans per unit sent away: a few quick ones, shared fairly among the workers."""
        return min(self._pace.size(), -(-len(self._ready) // self.size))

    def _room_for_a_unit(self) -> bool:
        """Whether one more unit may start: always, but for crowded assets on local threads."""
        return not self._local or not self._crowd.crowded() or self._crowd.room()

    def poll_seconds(self) -> float | None:
        """How soon the coordinator should look again, unasked; None: when something ends.

        While crowded assets wait for the one local worker allowed: if that worker's asset is
        slow (held by a lock, a huge file), another starts beside it (``Crowd.look_again``).
        """
        if self._local and self._ready and 0 < len(self._units) < self.size:
            return self._crowd.look_again() if self._crowd.crowded() else None
        return None

    def _work_here(self, first: Task, me: int) -> None:
        """A worker thread of this process: export *first*, then ready tasks, until none is left.

        The worker records each outcome itself, and wakes the coordinator to plan more every few
        outcomes, at once after a slow one, and when its loop ends (its future's callback).
        """
        task: Task | None = first
        left = 0
        crowd, run, clock, export = self._crowd, self.run, time.perf_counter, export_asset
        store, converter, here, started = self.store, self.converter, crowd.here, crowd.started
        slow = crowd.slow
        fixed = self._rename is None  # each task's policy is its own or the job's
        try:
            while task is not None:
                if run._halted:  # noqa: SLF001 - stopped or paused
                    self._ready.appendleft(task)  # a stop or a pause came first
                    return
                start = started[me] = clock()
                # Its CPU share only alone (beside others, waiting for the GIL looks like I/O),
                # and every few assets: reading a thread's CPU clock is a system call.
                sampled = (left % _SAMPLE_EVERY == 0) and len(started) == 1
                cpu = time.thread_time() if sampled else 0.0
                policy = task.policy
                if policy is None:
                    policy = self.on_conflict if fixed else self._policy(task)
                try:
                    outcome: object = export(store, converter, task.plan, policy)
                except BaseException as exc:  # noqa: BLE001 - a plug-in's SystemExit & co.
                    self._settle(self._lost, task, exc)
                    return
                seconds = clock() - start
                if left % _SAMPLE_EVERY == 0 or seconds >= slow:
                    # Every few assets (their median is the pace), and every slow one at once.
                    sampled = sampled and len(started) == 1
                    here.observe(1, seconds, time.thread_time() - cpu if sampled else None)
                try:
                    self._finish(task, outcome)
                except BaseException as exc:  # noqa: BLE001 - the job ends, as on the coordinator
                    self.ledger.interrupted(exc)
                    return
                if len(started) > 1 and crowd.beside(me):
                    return  # another worker goes on with them: one is enough
                left += 1
                wanted = seconds >= slow and self._wanted()
                if wanted or (left >= _COLLECT_EVERY and self._refill is None):
                    left = 0
                    crowd.news()
                    self._inbox.put(None)
                try:
                    task = self._next_task()
                except BaseException as exc:  # noqa: BLE001 - its planning failed (the journal)
                    self.ledger.interrupted(exc)  # the job ends as if the coordinator had raised it
                    return
        finally:
            started.pop(me, None)

    def _settle(self, record: Callable[[Task, Any], None], task: Task, result: Any) -> bool:
        """Record *task*'s *result* with *record* on a local worker; False if recording raised.

        What it raises (a journal commit whose store ``sync`` fails) ends the job, as it would on
        the coordinator.
        """
        try:
            record(task, result)
        except BaseException as exc:  # noqa: BLE001 - the job ends, as on the coordinator
            self.ledger.interrupted(exc)
            return False
        return True

    def _wanted(self) -> bool:
        """Whether the coordinator is wanted after a slow asset: to start a worker, or plan more.

        Not while every worker is busy, a plan waits for each and no batch of describes could be
        sent: it would only take the GIL from a converting thread (an idle worker plans itself).
        """
        return (
            len(self._units) < self.size or len(self._ready) < self.size or self._room_to_describe()
        )

    def _next_task(self) -> Task | None:
        """The next ready task; planned by this worker itself if none is (and none is planning)."""
        try:
            return self._ready.popleft()
        except IndexError:
            pass
        if self._refill is None or not self._refill():
            return None
        try:
            return self._ready.popleft()
        except IndexError:
            return None

    def drain(self) -> None:
        """Wait for every unit in flight and record it, whatever recording it raises."""
        while self._units:
            future = next(iter(self._units))
            wait([future])
            with contextlib.suppress(BaseException):  # the job already ends on an error
                self.collect(future)
            self._units.pop(future, None)

    def collect(self, future: Future[Any]) -> None:
        """Record what the ended unit of *future* gave."""
        unit = self._units.pop(future, None)
        if unit is None:
            return
        self._crowd.news()
        if unit.token is not None:
            self._crowd.started.pop(unit.token, None)  # a loop that never ran leaves its token
        try:
            result: object = future.result()
        except BaseException as exc:  # noqa: BLE001 - a lost worker or a broken executor
            if unit.token is not None:  # a local loop that raised: nothing else would say it
                self.ledger.interrupted(exc)
            for task in unit.tasks:
                self._lost(task, exc)
            # A cluster's future lives while its exception's traceback holds the frame that
            # waited for it: drop it, so the cluster forgets the task once it is collected.
            exc.__traceback__ = None
            return
        if result is None:  # a local worker's loop: it recorded its outcomes itself
            return
        if not isinstance(result, UnitResult):
            message = f"the work unit returned {type(result).__name__}, not a UnitResult"
            for task in unit.tasks:
                self.record(AssetOutcome.for_failure(task.plan, WORKER_FAILED, message))
            return
        self._pace.observe(len(result.outcomes), result.seconds)
        for task, outcome in zip(unit.tasks, result.outcomes, strict=False):
            self._finish(task, outcome)
        rest = unit.tasks[len(result.outcomes) :]
        if result.failure is not None and rest:
            self._lost(rest[0], result.failure)
            rest = rest[1:]
        self._ready.extendleft(reversed(rest))  # not started: the job stops, they are not run

    def _finish(self, task: Task, outcome: object) -> None:
        if not isinstance(outcome, AssetOutcome):
            outcome = AssetOutcome.for_failure(
                task.plan,
                WORKER_FAILED,
                f"the work unit returned {type(outcome).__name__}, not an AssetOutcome",
            )
        elif (
            self._rename is not None
            and task.policy is None
            and outcome.code == OutputExistsError.code
            and task.renames < _MOST_RENAMES
            and self._plan_again(task)
        ):
            return
        self.record(outcome)

    def _plan_again(self, task: Task) -> bool:
        """Queue *task* first, planned under the next free name; False if it cannot be.

        What planning raises (the journal, a store's ``KeyboardInterrupt``) ends the job, as on
        the coordinator; the asset keeps its failure.
        """
        assert self._rename is not None  # noqa: S101 - only under rename
        try:
            plan, checked = self._rename(task.plan)
        except BaseException as exc:  # noqa: BLE001 - the job ends, as on the coordinator
            self.ledger.interrupted(exc)
            return False
        self.ledger.planned[plan.handle] = plan
        policy = None if checked else self.on_conflict
        self._ready.appendleft(Task(plan, renames=task.renames + 1, policy=policy))
        return True

    def _lost(self, task: Task, exc: BaseException) -> None:
        """A work unit that did not return: a suspect to run again alone, or a failure."""
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
        self.record(AssetOutcome.for_failure(task.plan, WORKER_FAILED, message))
