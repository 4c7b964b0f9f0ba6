"""The outcomes of one job as they come: recorded, journaled, reported to progress callbacks.

A ``SystemExit``, ``KeyboardInterrupt`` or other ``BaseException`` a plug-in raises is kept here
(``Ledger.interrupt``): the job stops, ends with its log, and the engine raises it afterwards.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ._assets import AssetHandle
from ._journal import Journal
from ._records import AssetOutcome
from ._run import AssetProgress, JobRun, ProgressCallback
from .plans import ExportPlan

__all__ = ["Ledger"]

logger = logging.getLogger("exportjob.engine")

_COMMIT_SECONDS = 2.0


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
        self._committed = time.monotonic()

    def interrupted(self, exc: BaseException) -> None:
        """A plug-in raised *exc*, not an ``Exception`` (``SystemExit``, ``KeyboardInterrupt``).

        The job stops (nothing new starts; what is in flight finishes and is recorded) and the
        engine ends it ``failed``, then raises the first such exception to ``run``'s caller.
        """
        if self.interrupt is None:
            self.interrupt = exc
        self.run.stop()

    def finish(self, outcome: AssetOutcome, *, journaled: bool = False) -> None:
        """Record *outcome* (and journal it, unless it came from the journal)."""
        self.outcomes[outcome.handle] = outcome
        self.planned.pop(outcome.handle, None)
        if self.journal is not None and not journaled and self.journal.record(outcome):
            self.commit()
        done, total = self.run._advance()  # noqa: SLF001 - the engine drives its runs
        event = AssetProgress(self.run.job_handle, done, total, outcome)
        for callback in self.progress:
            self._call(callback, event)

    def tick(self) -> None:
        """Commit the journal if its last commit is a while ago."""
        if self.journal is not None and time.monotonic() - self._committed >= _COMMIT_SECONDS:
            self.commit()

    def commit(self) -> None:
        """Make every outcome so far durable: the store's writes first, then the journal."""
        self._committed = time.monotonic()
        if self.journal is not None:
            self.journal.commit(self.sync)

    def close(self) -> None:
        """Make what the job wrote durable once at its end, and journal the last outcomes."""
        try:
            if self.journal is not None:
                self.commit()
            elif self.sync is not None:
                self.sync()
        except Exception:
            logger.exception("making the exports of job %s durable failed", self.run.job_handle)

    def _call(self, callback: ProgressCallback, event: AssetProgress) -> None:
        try:
            callback(event)
        except Exception:
            logger.exception("a progress callback failed for job %s", event.job_handle)
        except BaseException as exc:  # SystemExit & co.: recorded, the job ends, then raised
            logger.exception("a progress callback of job %s raised", event.job_handle)
            self.interrupted(exc)
