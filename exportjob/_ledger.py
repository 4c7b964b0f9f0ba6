"""The outcomes of one job as they come: recorded, journaled, reported to progress callbacks.

A ``SystemExit``, ``KeyboardInterrupt`` or other ``BaseException`` a plug-in raises is kept here
(``Ledger.interrupt``): the job stops, ends with its log, and the engine raises it afterwards.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import attrs

from ._assembly import JobIdentity, assemble_log, job_warning
from ._assets import AssetHandle
from ._codes import NOT_DURABLE
from ._journal import Journal
from ._log import JobLog
from ._records import AssetOutcome, JobState, LogDetail, LogType
from ._run import AssetProgress, JobRun, ProgressCallback
from .plans import ExportPlan

__all__ = ["Ledger"]

logger = logging.getLogger("exportjob.engine")

_COMMIT_SECONDS = 2.0


def _shared(outcome: AssetOutcome, plan: ExportPlan) -> AssetOutcome:
    """*outcome*, a copy (back from a worker process), holding its plan's handle and names.

    Its media type, format and code are interned too: a log of 200,000 assets keeps one of each
    string that every outcome repeats, not one per asset.
    """
    changes: dict[str, Any] = {}
    if outcome.handle == plan.handle:
        changes["handle"] = plan.handle
    for field, own in (("file_name", plan.asset.file_name), ("output_name", plan.output_name)):
        value = getattr(outcome, field)
        if value is not own and value == own:
            changes[field] = own
    for field in ("output_format", "media_type", "code"):
        value = getattr(outcome, field)
        if type(value) is str and sys.intern(value) is not value:
            changes[field] = sys.intern(value)
    return attrs.evolve(outcome, **changes) if changes else outcome


class Ledger:
    """The outcomes of one job so far, the journal they go to, and the progress they report."""

    def __init__(
        self,
        run: JobRun,
        progress: tuple[ProgressCallback, ...],
        journal: Journal | None,
        sync: Callable[[], None] | None,
    ) -> None:
        self.run = run
        self.progress = progress
        self.journal = journal
        self.sync = sync
        self.outcomes: dict[AssetHandle, AssetOutcome] = {}
        self.planned: dict[AssetHandle, ExportPlan] = {}
        self.interrupt: BaseException | None = None
        self.unsaved: tuple[LogDetail, ...] = ()  # what close() could not make durable
        self._committed = time.monotonic()

    def interrupted(self, exc: BaseException) -> None:
        """A plug-in raised *exc*, not an ``Exception`` (``SystemExit``, ``KeyboardInterrupt``).

        Also what planning or recording raised on a worker thread (a journal that cannot be
        written, a store whose ``sync`` fails): raised on the coordinator, it would end the job
        the same way (an ``Exception`` fails the job, its log returned; others are raised).

        The job stops (nothing new starts; what is in flight finishes and is recorded) and the
        engine ends it ``failed``, then raises the first such exception to ``run``'s caller (the
        first that is not an ``Exception``, if any is).
        """
        # An interrupt (SystemExit & co.) is raised from run() even when an error came first.
        if self.interrupt is None or (
            isinstance(self.interrupt, Exception) and not isinstance(exc, Exception)
        ):
            self.interrupt = exc
        self.run.stop()

    def finish(self, outcome: AssetOutcome, *, journaled: bool = False) -> None:
        """Record *outcome* (and journal it, unless it came from the journal)."""
        plan = self.planned.pop(outcome.handle, None)
        if plan is not None and outcome.handle is not plan.handle:
            outcome = _shared(outcome, plan)
        self.outcomes[outcome.handle] = outcome
        try:
            # A full batch, or the last commit a while ago: also when a worker thread, not the
            # coordinator (whose tick would), records one asset after another.
            if (
                self.journal is not None
                and not journaled
                and (self.journal.record(outcome) or self._due())
            ):
                self.commit()
        finally:  # a failed commit ends the job; the asset it recorded is still reported
            done, total = self.run._advance()  # noqa: SLF001 - the engine drives its runs
            if self.progress:
                event = AssetProgress(self.run.job_handle, done, total, outcome)
                for callback in self.progress:
                    self._call(callback, event)

    def snapshot(self, identity: JobIdentity, live: JobState) -> JobLog:
        """The log so far of the job, which is *live* (``running`` or ``paused``): ``JobRun.snapshot``."""
        return assemble_log(
            identity,
            dict(self.outcomes),  # copies: the job goes on recording meanwhile
            planned=dict(self.planned),
            stopped=self.run.stop_requested,
            live=live,
        )

    def tick(self) -> None:
        """Commit the journal if its last commit is a while ago."""
        if self.journal is not None and self._due():
            self.commit()

    def _due(self) -> bool:
        return time.monotonic() - self._committed >= _COMMIT_SECONDS

    def commit(self) -> None:
        """Make every outcome so far durable: the store's writes first, then the journal."""
        self._committed = time.monotonic()
        if self.journal is not None:
            self.journal.commit(self.sync)

    def close(self) -> None:
        """Make what the job wrote durable once at its end, and journal the last outcomes.

        A failure does not fail the job (its exports are written), but the log says it
        (``unsaved``): a crash soon after may lose them, and the next run does them again.
        """
        try:
            if self.journal is not None:
                self.commit()
            elif self.sync is not None:
                self.sync()
        except Exception as exc:
            if isinstance(exc, OSError):  # expected (a disk full, unplugged): one line
                logger.error(  # noqa: TRY400 - the log says it too; the stack says nothing
                    "making the exports of job %s durable failed: %s", self.run.job_handle, exc
                )
            else:  # a bug in the store's sync or the journal: its traceback says where
                logger.exception("making the exports of job %s durable failed", self.run.job_handle)
            what = "its last exports and journal lines" if self.journal else "its exports"
            self.unsaved = (
                job_warning(
                    NOT_DURABLE,
                    f"the job could not make {what} durable at its end "
                    f"({type(exc).__name__}: {exc}); a crash of the host soon after may lose "
                    "them, and the same job run again does them again",
                    log_type=LogType.EXPORT_WARNING,
                ),
            )

    def _call(self, callback: ProgressCallback, event: AssetProgress) -> None:
        try:
            callback(event)
        except Exception:
            logger.exception("a progress callback failed for job %s", event.job_handle)
        except BaseException as exc:  # SystemExit & co.: recorded, the job ends, then raised
            logger.exception("a progress callback of job %s raised", event.job_handle)
            self.interrupted(exc)
