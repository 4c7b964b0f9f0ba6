"""The engine: takes an ``ExportJob`` from submission to a complete job log, and notifies.

Per job: validate the job and its context, resolve the request once (an invalid modifier or macro
raises here, before anything is read), then per asset: describe -> authorize -> refuse set types ->
plan (all in ``plan_export``), give outputs distinct names, and dispatch each accepted plan as a work
unit (``exportjob._work.export_asset``: open -> convert -> write) to the executor. Each finished asset
becomes an ``AssetOutcome``; at the end the job log is built, the ``emailSetting`` policy decides on a
notification, and the log is the result.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from types import TracebackType
from typing import Any

import attrs
from typing_extensions import Self

from ._assembly import JobIdentity, assemble_log, bare_log
from ._assets import AssetHandle
from ._codes import WORKER_FAILED
from ._context import JobContext
from ._email import notify
from ._failures import Stage, classify
from ._job import ExportJob
from ._log import JobLog
from ._records import AssetOutcome, JobState, utc_now
from ._run import AssetProgress, JobRun, ProgressCallback
from ._work import export_asset
from .language import MacroLibrary, ResolvedRequest
from .options import ConversionSettings
from .plans import ExportPlan, JobPlan, Planner, Refusal, resolve_job_request
from .protocols import AssetStore, Converter, ExportReader, Notifier

__all__ = ["ExportEngine"]

logger = logging.getLogger("exportjob.engine")


@attrs.frozen
class _Prepared:
    job: ExportJob
    context: JobContext
    request: ResolvedRequest | None


class _Book:
    """The outcomes of one job so far, in the coordinating thread."""

    def __init__(self, run: JobRun, progress: ProgressCallback | None) -> None:
        self.run = run
        self.progress = progress
        self.outcomes: dict[AssetHandle, AssetOutcome] = {}
        self.plans: dict[AssetHandle, ExportPlan] = {}

    def finish(self, outcome: AssetOutcome) -> None:
        self.outcomes[outcome.handle] = outcome
        done, total = self.run._advance()  # noqa: SLF001 - the engine drives its runs
        if self.progress is not None:
            try:
                self.progress(AssetProgress(self.run.job_handle, done, total, outcome))
            except Exception:
                logger.exception("the progress callback failed for job %s", self.run.job_handle)


def _default_converter() -> Converter:
    from .converters import PillowConverter  # noqa: PLC0415 - lazy: keeps Pillow out of import time

    converter: Converter = PillowConverter()
    return converter


class ExportEngine:
    """Run export jobs through a store, a converter and a notifier, on any executor.

    Args:
        store: where originals are read and exports written (``AssetStore``).
        converter: turns originals into outputs; ``PillowConverter()`` if omitted (it exports
            ``fmt=orig`` originals as they are, too).
        notifier: told about finished jobs as their ``emailSetting`` says; none if omitted.
        macros: the macro library for the jobs' ``macro`` and ``$name$`` invocations.
        executor: runs the per-asset work units; a thread pool owned (and closed) by the engine
            if omitted. Any ``concurrent.futures.Executor`` works: a ``ProcessPoolExecutor`` or
            ``distributed.Client.get_executor()``, as long as the store and converter pickle.
        settings: defaults for what Image Serving keeps in catalog attributes.
        progress: called with an ``AssetProgress`` once per finished asset.

    >>> from exportjob import ExportJob, JobContext
    >>> from exportjob.converters import CopyConverter
    >>> from exportjob.stores import MemoryStore
    >>> store = MemoryStore(default_company="acme")
    >>> store.add("a|1", b"%PDF-1.7 ...", file_name="brochure.pdf")
    >>> with ExportEngine(store, converter=CopyConverter()) as engine:
    ...     log = engine.run(ExportJob(asset_handles=["a|1"], fmt="orig"), JobContext(company="acme"))
    >>> log.counts.success, store.read_export("brochure.pdf")
    (1, b'%PDF-1.7 ...')
    """

    def __init__(
        self,
        store: AssetStore,
        converter: Converter | None = None,
        *,
        notifier: Notifier | None = None,
        macros: MacroLibrary | None = None,
        executor: Executor | None = None,
        settings: ConversionSettings | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.store = store
        self.converter = converter if converter is not None else _default_converter()
        self.notifier = notifier
        self.macros = macros
        self.settings = settings
        self.progress = progress
        self._executor = executor
        self._owns_executor = executor is None
        self._lock = threading.Lock()
        self._closed = False
        self._threads: set[threading.Thread] = set()
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return (
            f"<ExportEngine store={self.store!r} converter={self.converter!r} "
            f"notifier={self.notifier!r}>"
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def executor(self) -> Executor:
        """The executor work units run on (the engine's own thread pool is made when first used)."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(thread_name_prefix="exportjob")
            return self._executor

    def close(self) -> None:
        """Wait for submitted jobs to end, then shut down the engine's own thread pool.

        An executor passed in is left to its owner. Running a job on a closed engine raises
        ``RuntimeError``.
        """
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for thread in threads:
            thread.join()
        with self._lock:
            executor, self._executor = self._executor, None
        if self._owns_executor and executor is not None:
            executor.shutdown(wait=True)

    # -- public entry points

    def run(
        self, job: ExportJob | Mapping[str, Any], context: JobContext | Mapping[str, Any]
    ) -> JobLog:
        """Run *job* for *context* to the end in this thread and return its log.

        *job* is an ``ExportJob`` or its IPS dict; *context* a ``JobContext`` or its submitJob dict.

        Raises:
            InvalidJobError: the job or the context is invalid.
            ModifierError: the job's ``is_modifier`` is invalid (nothing was read).
            MacroError: the job's ``macro`` is invalid or unknown (nothing was read).
        """
        prepared = self._prepare(job, context)
        run = self._new_run(prepared)
        self._execute(run, prepared)
        return run.result()

    def submit(
        self, job: ExportJob | Mapping[str, Any], context: JobContext | Mapping[str, Any]
    ) -> JobRun:
        """Start *job* for *context* in the background and return its ``JobRun`` at once.

        The job and its request are validated here, so the errors ``run`` lists are raised by
        ``submit`` itself, before any work starts.
        """
        prepared = self._prepare(job, context)
        run = self._new_run(prepared)
        thread = threading.Thread(
            target=self._execute_tracked,
            args=(run, prepared),
            name=f"exportjob-{run.job_handle}",
        )
        with self._lock:
            if self._closed:
                msg = "the engine is closed"
                raise RuntimeError(msg)
            self._threads.add(thread)
        thread.start()
        return run

    def plan(
        self, job: ExportJob | Mapping[str, Any], context: JobContext | Mapping[str, Any]
    ) -> JobPlan:
        """Describe and plan every asset of *job* without reading any original: what ``run`` would do.

        Raises the same job-level errors as ``run``. A handle the store cannot describe is listed
        in ``JobPlan.failures`` with the outcome ``run`` would record.
        """
        prepared = self._prepare(job, context)
        failures: list[AssetOutcome] = []
        plans = self._plan_assets(prepared, failures.append, lambda: False)
        return JobPlan(
            plans=plans,
            failures=tuple((o.handle, Refusal(o.code or "", o.message or "")) for o in failures),
            duplicates=prepared.job.duplicate_handles,
        )

    # -- internals

    def _plan_assets(
        self,
        prepared: _Prepared,
        on_failure: Callable[[AssetOutcome], object],
        stop_requested: Callable[[], bool],
    ) -> tuple[ExportPlan, ...]:
        """Describe and plan each distinct handle; report describe failures to *on_failure*."""
        job = prepared.job
        planner = Planner(job, prepared.request, company=prepared.context.company)
        plans: list[ExportPlan] = []
        for handle in job.unique_handles:
            if stop_requested():
                break
            plan = self._plan_one(planner, handle)
            if isinstance(plan, AssetOutcome):
                on_failure(plan)
            else:
                plans.append(plan)
        return tuple(plans)

    def _plan_one(self, planner: Planner, handle: AssetHandle) -> ExportPlan | AssetOutcome:
        """Describe and plan *handle*; a failure is the asset's failed outcome, never raised."""
        stage = Stage.DESCRIBING
        try:
            asset = self.store.describe(handle)
            if asset.handle != handle:  # a store that normalises handles: keep the job's
                asset = attrs.evolve(asset, handle=handle)
            stage = Stage.PLANNING
            return planner.plan(asset)
        except Exception as exc:  # noqa: BLE001 - one asset's failure never fails the job
            code, message = classify(stage, exc, handle.value)
            return AssetOutcome.for_failure(handle, code, message)

    def _prepare(
        self, job: ExportJob | Mapping[str, Any], context: JobContext | Mapping[str, Any]
    ) -> _Prepared:
        with self._lock:
            if self._closed:
                msg = "the engine is closed"
                raise RuntimeError(msg)
        job = job if isinstance(job, ExportJob) else ExportJob.from_ips(job)
        context = context if isinstance(context, JobContext) else JobContext.from_ips(context)
        request = resolve_job_request(job, macros=self.macros, settings=self.settings)
        return _Prepared(job, context, request)

    def _new_run(self, prepared: _Prepared) -> JobRun:
        stamp = utc_now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        ctx = prepared.context
        handle = f"{ctx.company}|{ctx.job_name}|{stamp}-{next(self._ids)}"
        reader = self.store if isinstance(self.store, ExportReader) else None
        return JobRun(handle, prepared.job, ctx, reader=reader)

    def _execute_tracked(self, run: JobRun, prepared: _Prepared) -> None:
        try:
            self._execute(run, prepared)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _execute(self, run: JobRun, prepared: _Prepared) -> None:
        """Run the job in the calling thread; always finish *run*, with a log."""
        run._set_state(JobState.RUNNING)  # noqa: SLF001
        identity = JobIdentity(run.job_handle, prepared.job, prepared.context, utc_now())
        book = _Book(run, self.progress)
        fatal: BaseException | None = None
        try:
            self._process(run, prepared, book)
        except Exception as exc:
            logger.exception("export job %s failed", run.job_handle)
            fatal = exc
            run.stop()  # abandon whatever is still queued
        try:
            log = assemble_log(
                identity,
                book.outcomes,
                planned=book.plans,
                stopped=run.stop_requested,
                fatal=fatal,
            )
            log = notify(self.notifier, log, prepared.context)
        except Exception as exc:  # a bug here must still end the job
            logger.exception("building the log of export job %s failed", run.job_handle)
            log = bare_log(identity, exc)
        run._finish(log)  # noqa: SLF001

    def _process(self, run: JobRun, prepared: _Prepared, book: _Book) -> None:
        """Describe and plan every asset, then run the accepted plans on the executor.

        Raises whatever the executor raised when it refused work, after collecting the assets
        already dispatched (the caller records it as the job's fatal error).
        """
        plans = self._plan_assets(prepared, book.finish, lambda: run.stop_requested)
        accepted: list[ExportPlan] = []
        for plan in plans:
            book.plans[plan.handle] = plan
            if plan.accepted:
                accepted.append(plan)
            else:
                book.finish(AssetOutcome.for_refusal(plan))
        futures: dict[Future[AssetOutcome], ExportPlan] = {}
        refused: Exception | None = None
        for plan in accepted:
            if run.stop_requested:
                break
            try:
                future = self.executor.submit(export_asset, self.store, self.converter, plan)
            except Exception as exc:  # noqa: BLE001 - re-raised once the dispatched assets end
                refused = exc
                run.stop()  # abandon what is still queued
                break
            futures[future] = plan
            run._track(future)  # noqa: SLF001
        for future in as_completed(futures):
            if future.cancelled():
                continue
            plan = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:
                logger.exception("the work unit of %s failed", plan.handle)
                outcome = AssetOutcome.for_failure(
                    plan, WORKER_FAILED, f"the work unit failed: {type(exc).__name__}: {exc}"
                )
            book.finish(outcome)
        if refused is not None:
            raise refused
