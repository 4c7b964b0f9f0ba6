"""The engine: takes an ``ExportJob`` from submission to a complete job log, and notifies.

Per job: validate the job and its context, resolve the request once (an invalid modifier or macro
raises here, before anything is read), then stream the assets through the pipeline
(``exportjob._pipeline``: describe -> plan -> export), keep their outcomes (and journal them, when
the job has a journal), build the log (``exportjob._assembly``), and let the ``emailSetting``
policy decide on a notification (``exportjob._email``). This module only orchestrates.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Collection, Mapping
from concurrent.futures import Executor
from types import TracebackType
from typing import Any

import attrs
from typing_extensions import Self

from ._area import taken_names
from ._assembly import JobIdentity, assemble_log, attach_log, bare_log
from ._context import JobContext
from ._dicts import utc_now
from ._email import notify
from ._job import ExportJob
from ._journal import Journal, job_key, resumed
from ._ledger import Ledger
from ._log import JobLog
from ._names import check_path
from ._pipeline import Pipeline, PipelineSettings
from ._plugins import check_plugin
from ._pools import ExecutorFactory, JobThreads, Pools
from ._records import JobState
from ._run import JobRun, ProgressCallback
from .language import MacroLibrary, ResolvedRequest
from .options import ConversionSettings
from .plans import JobPlan, Planner, request_warnings, resolve_job_request
from .protocols import (
    AssetStore,
    Converter,
    DurableStore,
    ExportReader,
    Notifier,
    OnConflict,
)

__all__ = ["ExportEngine"]

logger = logging.getLogger("exportjob.engine")

_POLL_SECONDS = 0.5


@attrs.frozen
class _Prepared:
    job: ExportJob
    context: JobContext
    request: ResolvedRequest | None


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
        executor: runs the per-asset work units: a ``concurrent.futures.Executor`` (a
            ``ProcessPoolExecutor``, ``distributed.Client.get_executor()``: the store and
            converter must pickle) or a function that makes one, called again to replace a pool
            that broke. A thread pool of *workers* threads owned by the engine if omitted.
        workers: the size of the engine's own thread pool (default ``min(32, CPUs + 4)``).
        settings: defaults for what Image Serving keeps in catalog attributes.
        progress: called with an ``AssetProgress`` once per finished asset of every job.
        on_conflict: what to do with an output name already taken in the export area
            (``OnConflict`` or its value): ``error`` (the default), ``skip``, ``replace``, ``rename``.
        describe_concurrency: how many describes run at once (default: at least 16, and at least
            the number of workers, so a latency-bound store keeps every worker busy).
        max_in_flight: how many assets may be between entering and ending at once (default
            four per worker, at least 256): the bound on the engine's memory per job.
        keep_folders: keep the folders of the handles in the output names (``a/x.jpg`` is
            written as ``a/x.jpg``, not ``x.jpg``), each folder made safe; the store must accept
            such names (``DirectoryStore``, ``MemoryStore`` and ``FsspecStore`` do).
        reserved_names: output names no export is given (an asset that would have one is
            numbered, ``exportjob-manifest-2.json``): the files the host writes beside the exports,
            such as the export manifest (``MANIFEST_NAMES`` in ``exportjob.delivery``).

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
        executor: Executor | ExecutorFactory | None = None,
        workers: int | None = None,
        settings: ConversionSettings | None = None,
        progress: ProgressCallback | None = None,
        on_conflict: OnConflict | str = OnConflict.ERROR,
        describe_concurrency: int | None = None,
        max_in_flight: int | None = None,
        keep_folders: bool = False,
        reserved_names: Collection[str] = (),
    ) -> None:
        check_plugin("store", store, AssetStore)
        check_plugin("converter", converter, Converter, optional=True)
        check_plugin("notifier", notifier, Notifier, optional=True)
        self.store = store
        self.keep_folders = keep_folders
        names = [reserved_names] if isinstance(reserved_names, str) else reserved_names  # one name
        self.reserved_names = tuple(check_path(name) for name in names)
        self.converter = converter if converter is not None else _default_converter()
        self.notifier = notifier
        self.macros = macros
        self.settings = settings
        self.progress = progress
        self.on_conflict = OnConflict.of(on_conflict)
        # The threads close() waits for: a submitted job's, a worker of the engine's own pools.
        self._job_threads = JobThreads()
        self._pools = Pools(
            executor,
            initializer=self._job_threads.mark,
            workers=workers,
            describe_concurrency=describe_concurrency,
            max_in_flight=max_in_flight,
        )
        self._lock = threading.Lock()
        self._closed = False
        self._threads: set[threading.Thread] = set()
        self._active: dict[str, JobRun] = {}
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
        """The executor work units run on (the engine's own is made when first used)."""
        return self._pools.workers().executor

    def active_jobs(self) -> tuple[JobRun, ...]:
        """The jobs submitted or running and not yet ended (IPS ``getActiveJobs``), oldest first."""
        with self._lock:
            return tuple(self._active.values())

    def journal_key(self, job: ExportJob, context: JobContext | None = None) -> str:
        """The key of *job*'s journal: the same for every run that would give the same exports.

        It covers the job (its handles and fields), the company of *context* (whose assets it
        may export: a run for another company never resumes this one's), the request as resolved
        (so the macros' definitions count, not only their names), the settings, the converter and
        the conflict policy. The store is not in it: keep one journal per store (the CLI keeps one
        per source and output). ``run`` and ``submit`` write the key with their context: pass it
        here to get the key their journal holds.

        Raises:
            ModifierError: the job's ``is_modifier`` is invalid.
            MacroError: the job's ``macro`` is invalid or unknown.
        """
        request = resolve_job_request(job, macros=self.macros, settings=self.settings)
        return job_key(
            job,
            request=None if request is None else (request.commands, request.options),
            settings=self.settings,
            converter=self.converter,
            on_conflict=self.on_conflict,
            # only when set, so the keys of journals written before the option still match
            **({"keep_folders": True} if self.keep_folders else {}),
            **({"reserved_names": sorted(self.reserved_names)} if self.reserved_names else {}),
            **({} if context is None else {"company": context.company}),
        )

    def close(self) -> None:
        """Wait for submitted jobs to end, then shut down the pools the engine made.

        A paused job would never end: it is stopped (what ran is kept, the rest is not run). An
        executor passed in is left to its owner. Running a job on a closed engine raises
        ``RuntimeError``.

        Raises:
            RuntimeError: called from one of the engine's jobs (a progress callback, the notifier).
        """
        self._job_threads.check_closable()
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for thread in threads:
            while thread.is_alive():
                for run in self.active_jobs():
                    if run.paused:
                        run.stop()
                thread.join(_POLL_SECONDS)
        self._pools.close()

    # -- public entry points

    def run(
        self,
        job: ExportJob | Mapping[str, Any],
        context: JobContext | Mapping[str, Any],
        *,
        journal: str | os.PathLike[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> JobLog:
        """Run *job* for *context* to the end in this thread and return its log.

        *job* is an ``ExportJob`` or its IPS dict; *context* a ``JobContext`` or its submitJob dict.
        With a *journal* (a file path), finished assets are recorded there as they become
        durable, and a job run again with the same journal skips the assets it already exported
        (see docs/scale.md). *progress* is called once per finished asset of this job.

        Raises:
            InvalidJobError: the job or the context is invalid.
            ModifierError: the job's ``is_modifier`` is invalid (nothing was read).
            MacroError: the job's ``macro`` is invalid or unknown (nothing was read).
            JournalError: *journal* belongs to another job, or cannot be read or written.
            BaseException: a plug-in (store, converter, notifier, progress callback) raised
                ``SystemExit``, ``KeyboardInterrupt`` or another non-``Exception``: the job
                ended ``failed`` first (in flight exports recorded) and the exception is raised
                again with the job's log as its ``exportjob_log`` attribute.
        """
        prepared = self._prepare(job, context)
        opened = self._open_journal(prepared, journal)
        run = self._new_run(prepared)
        self._execute(run, prepared, opened, progress)
        return run.result()

    def submit(
        self,
        job: ExportJob | Mapping[str, Any],
        context: JobContext | Mapping[str, Any],
        *,
        journal: str | os.PathLike[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> JobRun:
        """Start *job* for *context* in the background and return its ``JobRun`` at once.

        The job, its request and its journal are checked here, so the errors ``run`` lists are
        raised by ``submit`` itself, before any work starts.
        """
        prepared = self._prepare(job, context)
        opened = self._open_journal(prepared, journal)
        run = self._new_run(prepared)
        thread = threading.Thread(
            target=self._execute_tracked,
            args=(run, prepared, opened, progress),
            name=f"exportjob-{run.job_handle}",
        )
        with self._lock:
            if self._closed:
                msg = "the engine is closed"
                raise RuntimeError(msg)
            self._threads.add(thread)
        thread.start()
        return run

    async def run_async(
        self,
        job: ExportJob | Mapping[str, Any],
        context: JobContext | Mapping[str, Any],
        *,
        journal: str | os.PathLike[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> JobLog:
        """Like ``run``, for an asyncio host: the job runs in the background; this awaits its log."""
        import asyncio  # noqa: PLC0415 - only asyncio hosts need it

        run = self.submit(job, context, journal=journal, progress=progress)
        return await asyncio.get_running_loop().run_in_executor(None, run.result)

    def plan(
        self, job: ExportJob | Mapping[str, Any], context: JobContext | Mapping[str, Any]
    ) -> JobPlan:
        """Describe and plan every asset of *job* without reading any original: what ``run`` would do.

        Raises the same job-level errors as ``run``. A handle the store cannot describe is listed
        in ``JobPlan.failures`` with the outcome ``run`` would record.
        """
        prepared = self._prepare(job, context)
        run = JobRun("plan", prepared.job, prepared.context)
        return Pipeline(
            self._settings(),
            None,
            run,
            self._planner(prepared),
            Ledger(run, (), None, None),
            skip={},
            again={},
        ).job_plan()

    # -- internals

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

    def _open_journal(
        self, prepared: _Prepared, path: str | os.PathLike[str] | None
    ) -> Journal | None:
        if path is None:
            return None
        return Journal(path, self.journal_key(prepared.job, prepared.context))

    def _planner(self, prepared: _Prepared) -> Planner:
        return Planner(
            prepared.job,
            prepared.request,
            company=prepared.context.company,
            keep_folders=self.keep_folders,
            taken=taken_names(self.store, self.on_conflict),
            reserved_names=self.reserved_names,
        )

    def _settings(self) -> PipelineSettings:
        return self._pools.settings(self.store, self.converter, self.on_conflict)

    def _new_run(self, prepared: _Prepared) -> JobRun:
        stamp = utc_now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        ctx = prepared.context
        handle = f"{ctx.company}|{ctx.job_name}|{stamp}-{next(self._ids)}"
        reader = self.store if isinstance(self.store, ExportReader) else None
        run = JobRun(handle, prepared.job, ctx, reader=reader)
        with self._lock:
            self._active[handle] = run
        return run

    def _execute_tracked(
        self,
        run: JobRun,
        prepared: _Prepared,
        journal: Journal | None,
        progress: ProgressCallback | None,
    ) -> None:
        try:
            with self._job_threads:
                self._execute(run, prepared, journal, progress)
        except BaseException:  # noqa: BLE001, S110 - the run ended with a log saying why; no caller here
            pass
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _execute(
        self,
        run: JobRun,
        prepared: _Prepared,
        journal: Journal | None,
        progress: ProgressCallback | None,
    ) -> None:
        """Run the job in the calling thread; always finish *run*, with a log."""
        run._set_state(JobState.RUNNING)  # noqa: SLF001 - the engine drives its runs
        said_once = request_warnings(prepared.job, prepared.request)
        identity = JobIdentity(run.job_handle, prepared.job, prepared.context, utc_now(), said_once)
        sync = self.store.sync if isinstance(self.store, DurableStore) else None
        callbacks = tuple(c for c in (self.progress, progress) if c is not None)
        ledger = Ledger(run, callbacks, journal, sync)
        run._watch(lambda live: ledger.snapshot(identity, live))  # noqa: SLF001
        fatal: BaseException | None = None
        interrupted: BaseException | None = None
        try:
            skip, again = resumed(journal, self.store, run.job_handle)
            # Not kept in a local: its name book is let go before the log is built.
            Pipeline(
                self._settings(),
                self._pools.workers(),
                run,
                self._planner(prepared),
                ledger,
                skip=skip,
                again=again,
            ).execute()
        except Exception as exc:
            logger.exception("export job %s failed", run.job_handle)
            fatal = exc
        except BaseException as exc:  # a plug-in's SystemExit & co.: end, then raise
            logger.exception("export job %s was interrupted", run.job_handle)
            fatal = interrupted = exc
        finally:
            ledger.close()
        try:
            log = assemble_log(
                identity,
                ledger.outcomes,
                planned=ledger.planned,
                stopped=run.stop_requested,
                fatal=fatal,
            )
            log = notify(self.notifier, log.with_details(*ledger.unsaved), prepared.context)
        except Exception as exc:  # a bug here must still end the job
            logger.exception("building the log of export job %s failed", run.job_handle)
            log = bare_log(identity, exc)
        except BaseException as exc:  # the notifier's SystemExit & co.: end the job, then raise
            logger.exception("the notifier of export job %s raised", run.job_handle)
            log = assemble_log(
                identity, ledger.outcomes, planned=ledger.planned, stopped=True, fatal=exc
            )
            interrupted = interrupted or exc
        with self._lock:
            self._active.pop(run.job_handle, None)
        run._finish(log)  # noqa: SLF001
        if interrupted is not None:
            attach_log(interrupted, log)
            raise interrupted
