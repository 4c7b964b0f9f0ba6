"""The engine: takes an ``ExportJob`` from submission to a complete job log, and notifies.

Per job: validate the job and its context, resolve the request once (an invalid modifier or macro
raises here, before anything is read), then per asset: describe -> authorize -> refuse set types ->
plan (all in ``plan_export``), give outputs distinct names, and dispatch each accepted plan as a work
unit (``exportjob._work.export_asset``: open -> convert -> write) to the executor. Each finished asset
becomes an ``AssetOutcome``; at the end the job log is built, the ``emailSetting`` policy decides on a
notification, and the log is the result.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from types import TracebackType
from typing import Any

import attrs
from typing_extensions import Self

from ._commands import ResolvedRequest
from ._email import build_report, wants_notification
from ._joblog import (
    AssetOutcome,
    AssetStatus,
    JobCounts,
    JobLog,
    JobState,
    LogDetail,
    LogType,
    Severity,
    utc_now,
)
from ._macros import MacroLibrary
from ._model import AssetHandle, ExportJob, JobContext
from ._options import ConversionSettings
from ._plan import ExportPlan, JobPlan, Refusal, dedupe_names, plan_export, resolve_job_request
from ._work import UNEXPECTED_ERROR, export_asset, failed_outcome, planned_outcome
from .exceptions import ExportJobError, NotifierError, StoreReadError
from .protocols import AssetStore, Converter, Notifier

__all__ = ["WORKER_FAILED", "AssetProgress", "ExportEngine", "JobRun", "ProgressCallback"]

logger = logging.getLogger("exportjob.engine")

#: The code of an asset whose work unit never returned (the executor or a worker failed).
WORKER_FAILED = "WORKER_FAILED"

#: Codes of the details the engine writes itself (errors from plug-ins carry their class's code).
PLAN_WARNING = "PLAN_WARNING"
DUPLICATE_HANDLE = "DUPLICATE_HANDLE"
NOT_RUN = "NOT_RUN"
NO_RECIPIENT = "NO_RECIPIENT"
NO_NOTIFIER = "NO_NOTIFIER"
FATAL_ERROR = "FATAL_ERROR"


@attrs.frozen
class AssetProgress:
    """One asset of a job finished: the record a progress callback receives.

    ``done`` counts finished assets (exported, failed or refused) out of ``total`` distinct handles.
    """

    job_handle: str
    done: int
    total: int
    outcome: AssetOutcome


#: A progress callback: called in the job's coordinating thread once per finished asset.
ProgressCallback = Callable[[AssetProgress], object]


class JobRun:
    """A submitted job: its state, its progress, a way to stop it, and its log when it ends.

    ``result()`` returns the ``JobLog`` whatever the final state: ``completed``; ``stopped`` (the
    assets that did not run are in the log with status ``not_run``); ``failed`` (the engine hit a
    fatal error: ``log.fatal_error`` is true and a ``FatalError`` detail says why).
    """

    def __init__(self, job_handle: str, job: ExportJob, context: JobContext) -> None:
        self.job_handle = job_handle
        self.job = job
        self.context = context
        self._lock = threading.Lock()
        self._state = JobState.QUEUED
        self._done = 0
        self._total = len(job.unique_handles)
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._pending: set[Future[AssetOutcome]] = set()
        self._log: JobLog | None = None

    def __repr__(self) -> str:
        done, total = self.progress
        return f"<JobRun {self.job_handle!r} {self.status.value} {done}/{total}>"

    @property
    def status(self) -> JobState:
        """``queued``, ``running``, then ``completed``, ``stopped`` or ``failed``."""
        with self._lock:
            return self._state

    @property
    def progress(self) -> tuple[int, int]:
        """``(done, total)``: finished assets and distinct handles of the job."""
        with self._lock:
            return self._done, self._total

    @property
    def stop_requested(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Stop the job: start no more assets; those in flight finish (or are abandoned).

        Assets not yet started are recorded as not run. Idempotent; does not wait (``result()``
        does).
        """
        self._stop.set()
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            future.cancel()

    def done(self) -> bool:
        """Whether the job has ended."""
        return self._finished.is_set()

    def result(self, timeout: float | None = None) -> JobLog:
        """Wait for the job to end and return its log.

        Raises:
            TimeoutError: the job did not end within *timeout* seconds.
        """
        if not self._finished.wait(timeout):
            msg = f"job {self.job_handle} did not end within {timeout} seconds"
            raise TimeoutError(msg)
        assert self._log is not None  # noqa: S101 - set before _finished
        return self._log

    # -- engine side

    def _set_state(self, state: JobState) -> None:
        with self._lock:
            self._state = state

    def _track(self, future: Future[AssetOutcome]) -> None:
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._untrack)
        if self._stop.is_set():  # stop() may have copied the pending set before this one joined
            future.cancel()

    def _untrack(self, future: Future[AssetOutcome]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _advance(self) -> tuple[int, int]:
        with self._lock:
            self._done += 1
            return self._done, self._total

    def _finish(self, log: JobLog) -> None:
        with self._lock:
            self._log = log
            self._state = log.state
        self._finished.set()


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
            failures=tuple(
                (o.handle, Refusal(o.code or UNEXPECTED_ERROR, o.message or "")) for o in failures
            ),
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
        job, context = prepared.job, prepared.context
        plans: list[ExportPlan] = []
        for handle in job.unique_handles:
            if stop_requested():
                break
            try:
                asset = self.store.describe(handle)
            except Exception as exc:  # noqa: BLE001 - recorded as the asset's outcome
                on_failure(_asset_failure(handle, exc, "describing"))
                continue
            if asset.handle != handle:  # a store that normalises handles: keep the job's
                asset = attrs.evolve(asset, handle=handle)
            try:
                plan = plan_export(
                    asset,
                    job,
                    company=context.company,
                    request=prepared.request,
                    macros=self.macros,
                    settings=self.settings,
                )
            except Exception as exc:  # noqa: BLE001 - one asset's plan never fails the job
                on_failure(_asset_failure(handle, exc, "planning"))
                continue
            plans.append(plan)
        return dedupe_names(plans)

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
        return JobRun(handle, prepared.job, ctx)

    def _execute_tracked(self, run: JobRun, prepared: _Prepared) -> None:
        try:
            self._execute(run, prepared)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _execute(self, run: JobRun, prepared: _Prepared) -> None:
        """Run the job in the calling thread; always finish *run*, with a log."""
        run._set_state(JobState.RUNNING)  # noqa: SLF001
        start = utc_now()
        book = _Book(run, self.progress)
        fatal: BaseException | None = None
        try:
            self._process(run, prepared, book)
        except Exception as exc:
            logger.exception("export job %s failed", run.job_handle)
            fatal = exc
            run.stop()  # abandon whatever is still queued
        try:
            log = self._make_log(run, prepared, book, start, fatal)
            log = self._notify(log, prepared)
        except Exception as exc:  # a bug here must still end the job
            logger.exception("building the log of export job %s failed", run.job_handle)
            log = _bare_log(run, prepared, start, exc)
        reader = getattr(self.store, "read_export", None)
        if callable(reader):
            log = attrs.evolve(log, thumbnail_source=reader)
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
            if plan.refusal is None:
                accepted.append(plan)
            else:
                book.finish(
                    planned_outcome(
                        plan,
                        AssetStatus.REFUSED,
                        output_name=None,
                        output_format=None,
                        code=plan.refusal.code,
                        message=plan.refusal.message,
                    )
                )
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
                outcome = failed_outcome(
                    plan, WORKER_FAILED, f"the work unit failed: {type(exc).__name__}: {exc}"
                )
            book.finish(outcome)
        if refused is not None:
            raise refused

    def _make_log(
        self,
        run: JobRun,
        prepared: _Prepared,
        book: _Book,
        start: dt.datetime,
        fatal: BaseException | None,
    ) -> JobLog:
        job, ctx = prepared.job, prepared.context
        why = "the job failed" if fatal is not None else "the job was stopped"
        outcomes: list[AssetOutcome] = []
        for handle in job.unique_handles:
            outcome = book.outcomes.get(handle)
            if outcome is None:
                plan = book.plans.get(handle)
                outcome = (
                    planned_outcome(
                        plan, AssetStatus.NOT_RUN, code=NOT_RUN, message=f"not run: {why}"
                    )
                    if plan is not None
                    else AssetOutcome(
                        handle=handle,
                        status=AssetStatus.NOT_RUN,
                        code=NOT_RUN,
                        message=f"not run: {why}",
                    )
                )
            outcomes.append(outcome)
        by_handle = {o.handle: o for o in outcomes}
        details = list(_asset_details(job.asset_handles, by_handle))
        if fatal is not None:
            code = fatal.code if isinstance(fatal, ExportJobError) else FATAL_ERROR
            details.append(
                LogDetail(
                    severity=Severity.ERROR,
                    log_type=LogType.FATAL_ERROR,
                    code=code,
                    message=f"the job stopped on a fatal error: {type(fatal).__name__}: {fatal}",
                )
            )
        if fatal is not None:
            state = JobState.FAILED
        elif run.stop_requested and any(o.status is AssetStatus.NOT_RUN for o in outcomes):
            state = JobState.STOPPED
        else:
            state = JobState.COMPLETED
        return JobLog(
            job_handle=run.job_handle,
            job_name=ctx.job_name,
            company=ctx.company,
            user=ctx.user,
            submit_user=ctx.submit_user,
            description=ctx.description,
            locale=ctx.locale,
            fmt=job.fmt,
            email_setting=job.email_setting,
            state=state,
            start=start,
            end=utc_now(),
            fatal_error=fatal is not None,
            counts=JobCounts.tally(outcomes, details, duplicates=len(job.duplicate_handles)),
            details=details,
            outcomes=outcomes,
        )

    def _notify(self, log: JobLog, prepared: _Prepared) -> JobLog:
        setting, ctx = prepared.job.email_setting, prepared.context
        if not wants_notification(setting, log):
            return log
        recipient = ctx.recipient
        if recipient is None:
            return log.with_details(
                _job_warning(
                    NO_RECIPIENT,
                    f"emailSetting={setting.value} asks for a notification, but the job names "
                    "neither a user nor a submitter; none was sent",
                )
            )
        if self.notifier is None:
            return log.with_details(
                _job_warning(
                    NO_NOTIFIER,
                    f"emailSetting={setting.value} asks for a notification to {recipient}, "
                    "but the engine has no notifier; none was sent",
                )
            )
        report = build_report(setting, log, recipient, locale=ctx.locale)
        try:
            self.notifier.notify(report)
        except Exception as exc:
            logger.exception("the notifier %r failed for job %s", self.notifier, log.job_handle)
            return log.with_details(
                _job_warning(
                    NotifierError.code,
                    f"the notification to {recipient} failed: {type(exc).__name__}: {exc}",
                )
            )
        return log


def _bare_log(run: JobRun, prepared: _Prepared, start: dt.datetime, fatal: Exception) -> JobLog:
    """Return the simplest log of a job whose proper log could not be built."""
    job, ctx = prepared.job, prepared.context
    outcomes = [
        AssetOutcome(handle=h, status=AssetStatus.NOT_RUN, code=NOT_RUN, message="unknown")
        for h in job.unique_handles
    ]
    details = [
        LogDetail(
            severity=Severity.ERROR,
            log_type=LogType.FATAL_ERROR,
            code=FATAL_ERROR,
            message=f"the job log could not be built: {type(fatal).__name__}: {fatal}",
        )
    ]
    return JobLog(
        job_handle=run.job_handle,
        job_name=ctx.job_name,
        company=ctx.company,
        fmt=job.fmt,
        state=JobState.FAILED,
        start=start,
        end=utc_now(),
        counts=JobCounts.tally(outcomes, details, duplicates=len(job.duplicate_handles)),
        fatal_error=True,
        details=details,
        outcomes=outcomes,
    )


def _asset_failure(handle: AssetHandle, exc: Exception, stage: str) -> AssetOutcome:
    """The outcome of an asset whose describing or planning raised *exc*."""
    if isinstance(exc, ExportJobError):
        code, message = exc.code, exc.message
    else:
        logger.error("%s asset %s failed", stage, handle, exc_info=exc)
        text = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, OSError):
            code, message = StoreReadError.code, f"{stage} the asset failed: {text}"
        else:
            code, message = UNEXPECTED_ERROR, f"unexpected error {stage} the asset: {text}"
    return AssetOutcome(handle=handle, status=AssetStatus.FAILED, code=code, message=message)


def _job_warning(code: str, message: str) -> LogDetail:
    return LogDetail(
        severity=Severity.WARNING,
        log_type=LogType.NOTIFICATION_WARNING,
        code=code,
        message=message,
    )


def _asset_details(
    submitted: Iterable[AssetHandle], outcomes: Mapping[AssetHandle, AssetOutcome]
) -> Iterable[LogDetail]:
    """Yield the details of every submitted handle, in job order (repeats as ``DuplicateSkipped``)."""
    seen: set[AssetHandle] = set()
    for handle in submitted:
        o = outcomes[handle]
        common: dict[str, Any] = {"handle": handle, "file_name": o.file_name, "created": o.finished}
        if handle in seen:
            yield LogDetail(
                severity=Severity.WARNING,
                log_type=LogType.DUPLICATE_SKIPPED,
                code=DUPLICATE_HANDLE,
                message=f"{handle} is listed more than once in the job; it is exported once",
                **common,
            )
            continue
        seen.add(handle)
        for warning in o.warnings:
            yield LogDetail(
                severity=Severity.WARNING,
                log_type=LogType.EXPORT_WARNING,
                code=PLAN_WARNING,
                message=warning,
                output_name=o.output_name,
                **common,
            )
        if o.status is AssetStatus.EXPORTED:
            yield LogDetail(
                severity=Severity.INFO,
                log_type=LogType.EXPORT_SUCCESS,
                message=f"exported as {o.output_name} ({o.bytes_written} bytes)",
                output_name=o.output_name,
                location=o.location,
                **common,
            )
        elif o.status is AssetStatus.NOT_RUN:
            yield LogDetail(
                severity=Severity.INFO,
                log_type=LogType.FILE_CANCEL,
                code=o.code,
                message=o.message or "not run",
                **common,
            )
        else:
            yield LogDetail(
                severity=Severity.ERROR,
                log_type=LogType.EXPORT_ERROR,
                code=o.code,
                message=o.message or "failed",
                **common,
            )
