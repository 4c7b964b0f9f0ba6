"""A submitted job as its host sees it: ``JobRun`` (state, progress, stop, result) and progress records."""

from __future__ import annotations

import threading
from collections.abc import Callable

import attrs

from ._context import JobContext
from ._job import ExportJob
from ._log import JobLog, job_id_of
from ._records import AssetOutcome, JobState
from .protocols import ExportReader

__all__ = ["AssetProgress", "JobRun", "ProgressCallback"]


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
    """A submitted job: its state, its progress, ways to pause and stop it, and its log when it ends.

    ``result()`` returns the ``JobLog`` whatever the final state: ``completed``; ``stopped`` (the
    assets that did not run are in the log with status ``not_run``); ``failed`` (the engine hit a
    fatal error: ``log.fatal_error`` is true and a ``FatalError`` detail says why). ``pause()`` and
    ``resume()`` are IPS ``pauseJob``/``resumeJob``: a paused job starts no new asset.
    """

    def __init__(
        self,
        job_handle: str,
        job: ExportJob,
        context: JobContext,
        *,
        reader: ExportReader | None = None,
    ) -> None:
        self.job_handle = job_handle
        self.job = job
        self.context = context
        self._reader = reader
        self._lock = threading.Lock()
        self._state = JobState.QUEUED
        self._done = 0
        self._total = len(job.unique_handles)
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        # Stopped or paused: read before every asset, so a plain attribute, not two events
        # (``_update_halted`` keeps it). Its lock is reentrant: a signal handler may stop the job
        # in the middle of a pause() or a resume() of the same thread.
        self._halted = False
        self._flags = threading.RLock()
        self._waker: Callable[[], None] | None = None
        self._finished = threading.Event()
        self._log: JobLog | None = None
        self._partial: Callable[[JobState], JobLog] | None = None

    @property
    def job_id(self) -> str:
        """The URL-safe id of ``job_handle`` (``exportjob.joblog.job_id_of``), the same as the log's."""
        return job_id_of(self.job_handle)

    def __repr__(self) -> str:
        done, total = self.progress
        return f"<JobRun {self.job_handle!r} {self.status.value} {done}/{total}>"

    def _repr_html_(self) -> str:
        # The one delegation of a value to the display module (it imports this module's types).
        from ._display import LogView, html_table  # noqa: PLC0415 - display code only when displayed

        if self.done():
            return LogView(self.result(), self._reader)._repr_html_()
        done, total = self.progress
        row = ([self.job_handle, self.status.value, f"{done}/{total}"], "")
        return html_table(["job", "state", "done"], [row], total=1)

    @property
    def status(self) -> JobState:
        """``queued``, ``running`` or ``paused``, then ``completed``, ``stopped`` or ``failed``."""
        with self._lock:
            if self._state is JobState.RUNNING and not self._running.is_set():
                return JobState.PAUSED
            return self._state

    @property
    def progress(self) -> tuple[int, int]:
        """``(done, total)``: finished assets and distinct handles (repeats are not counted)."""
        with self._lock:
            return self._done, self._total

    @property
    def stop_requested(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        """Whether the job is paused (``pause()`` without a ``resume()`` since)."""
        return not self._running.is_set()

    def stop(self) -> None:
        """Stop the job: start no more assets; those in flight finish and are recorded.

        Assets not yet started are recorded as not run. Idempotent; does not wait (``result()``
        does). A paused job stops too.
        """
        with self._flags:
            self._stop.set()
            self._running.set()
            self._update_halted()
        self._poke()

    def pause(self) -> None:
        """Pause the job: start no more assets until ``resume()``; those in flight finish."""
        with self._flags:
            self._running.clear()
            self._update_halted()
        self._poke()

    def resume(self) -> None:
        """Resume a paused job."""
        with self._flags:
            self._running.set()
            self._update_halted()
        self._poke()

    def _update_halted(self) -> None:
        """Set ``_halted`` from the two events, again if a signal handler changed them meanwhile.

        A ``stop()`` run by a handler between the reading and the writing would be overwritten by
        a value read before it: the value written is read again, and written again until it holds.
        """
        while True:
            halted = self._stop.is_set() or not self._running.is_set()
            self._halted = halted
            if halted == (self._stop.is_set() or not self._running.is_set()):
                return

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

    def snapshot(self) -> JobLog:
        """The log so far: finished assets as they ended, the others as not run (yet).

        Its ``state`` is the job's (``running`` or ``paused``) and its ``end`` the time it was
        taken. After the job ends, its final log.
        """
        partial = self._partial  # read first: a run that ends lets go of it
        state = self.status
        if state.is_final:  # set with the log, just before result() stops waiting
            return self.result()
        if partial is None:
            msg = f"job {self.job_handle} has not started"
            raise RuntimeError(msg)
        return partial(state)

    # -- engine side

    def _set_state(self, state: JobState) -> None:
        with self._lock:
            self._state = state

    def _watch(self, partial: Callable[[JobState], JobLog]) -> None:
        self._partial = partial

    def _poke(self) -> None:
        """Wake the pipeline running the job: its state changed."""
        waker = self._waker
        if waker is not None:
            waker()

    def _advance(self) -> tuple[int, int]:
        with self._lock:
            self._done += 1
            return self._done, self._total

    def _finish(self, log: JobLog) -> None:
        with self._lock:
            self._log = log
            self._state = log.state
        self._finished.set()
        self._partial = None  # the ledger and its outcomes: the log holds what is kept
