"""Job logs: what happened to every asset of a job, the records they hold, and the detail codes.

Modelled on the IPS ``JobLog`` and ``JobLogDetail``: a job handle, names, times, per-file counters,
``fatal_error``, one ``LogDetail`` per event, plus one ``AssetOutcome`` per asset. Counting rules
(IPS leaves them undocumented, see docs/engine.md):

- every submitted handle is counted once in ``total``; a repeated handle is counted in ``duplicate``;
- each distinct handle ends in exactly one of ``success`` (exported), ``error`` (failed or refused)
  or ``not_run`` (the job stopped before it), so ``success + error + not_run + duplicate == total``;
- ``warning`` counts the distinct handles with at least one warning detail (a skipped duplicate is a
  warning on its handle), whatever their outcome.
"""

from __future__ import annotations

from ._codes import (
    DUPLICATE_HANDLE,
    FATAL_ERROR,
    INVALID_RECIPIENT,
    NO_NOTIFIER,
    NO_RECIPIENT,
    NOT_DURABLE,
    NOT_RUN,
    PLAN_WARNING,
    UNEXPECTED_ERROR,
    WORKER_FAILED,
)
from ._counts import JobCounts
from ._display import LogView
from ._log import JobLog, JobReport, job_handle_from_id, job_id_of
from ._records import (
    LOG_FORMAT_VERSION,
    AssetOutcome,
    AssetStatus,
    JobState,
    LogDetail,
    LogType,
    Severity,
)

__all__ = [
    "DUPLICATE_HANDLE",
    "FATAL_ERROR",
    "INVALID_RECIPIENT",
    "LOG_FORMAT_VERSION",
    "NOT_DURABLE",
    "NOT_RUN",
    "NO_NOTIFIER",
    "NO_RECIPIENT",
    "PLAN_WARNING",
    "UNEXPECTED_ERROR",
    "WORKER_FAILED",
    "AssetOutcome",
    "AssetStatus",
    "JobCounts",
    "JobLog",
    "JobReport",
    "JobState",
    "LogDetail",
    "LogType",
    "LogView",
    "Severity",
    "job_handle_from_id",
    "job_id_of",
]
