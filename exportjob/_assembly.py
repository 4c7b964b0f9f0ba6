"""Job-log assembly: from the outcomes of a job's assets to its ``JobLog``, with no threads involved.

The engine collects one ``AssetOutcome`` per distinct handle; this module turns them into the log's
details (in job order, repeats as ``DuplicateSkipped``), counts and final state, and builds the bare
log of a job whose proper log could not be built.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterator, Mapping, Sequence

import attrs

from ._assets import AssetHandle
from ._codes import DUPLICATE_HANDLE, FATAL_ERROR, PLAN_WARNING
from ._context import JobContext
from ._counts import JobCounts
from ._dicts import utc_now
from ._enums import ExportFormat
from ._job import ExportJob
from ._log import JobLog
from ._records import (
    AssetOutcome,
    AssetStatus,
    JobState,
    LogDetail,
    LogType,
    Severity,
    exported_detail,
    outcome_detail,
)
from .exceptions import ConversionError, ExportJobError, ImageTooLargeError
from .plans import ExportPlan

__all__ = ["JobIdentity", "assemble_log", "attach_log", "bare_log", "job_warning"]


@attrs.frozen
class JobIdentity:
    """What a log says about the job itself: its handle, the job and its context, when it started."""

    job_handle: str
    job: ExportJob
    context: JobContext
    start: dt.datetime
    job_warnings: tuple[str, ...] = ()
    """The warnings of the request itself (``plans.request_warnings``): listed once, at job level."""


def assemble_log(
    identity: JobIdentity,
    outcomes: Mapping[AssetHandle, AssetOutcome],
    *,
    planned: Mapping[AssetHandle, ExportPlan] | None = None,
    stopped: bool = False,
    fatal: BaseException | None = None,
    live: JobState | None = None,
) -> JobLog:
    """Build the log of a job from its *outcomes* (one per distinct handle, in any order).

    A handle without an outcome was never run: it is recorded ``not_run``, with what its plan in
    *planned* says of it if it got that far. The state is ``failed`` with a *fatal* error,
    ``stopped`` when the job was *stopped* with assets left, else ``completed``.

    With *live* (``running`` or ``paused``) it is a snapshot of a job still running: its state is
    *live*, its ``end`` now, and a handle without an outcome has not run yet (or never will, once
    the job is *stopped*: a stop was asked for).
    """
    planned = planned or {}
    job, ctx = identity.job, identity.context
    if live is not None:
        why, yet = ("the job is stopping", False) if stopped else (f"the job is {live.value}", True)
    else:
        why, yet = ("the job failed" if fatal is not None else "the job was stopped"), False
    # Tuples built once, no list copies and no second index: a log of 200,000 assets is built
    # while the outcomes it is built from are still held.
    ordered = tuple(
        outcomes.get(handle)
        or AssetOutcome.for_not_run(planned.get(handle) or handle, why, yet=yet)
        for handle in job.unique_handles
    )
    said = frozenset(identity.job_warnings)
    details = tuple(
        itertools.chain(
            (
                job_warning(PLAN_WARNING, w, log_type=LogType.EXPORT_WARNING)
                for w in said_once(identity)
            ),
            asset_details(job, ordered, job_level=said),
            request_errors(job, ordered),
        )
    )
    if fatal is not None:
        code = fatal.code if isinstance(fatal, ExportJobError) else FATAL_ERROR
        details = (
            *details,
            LogDetail(
                severity=Severity.ERROR,
                log_type=LogType.FATAL_ERROR,
                code=code,
                message=f"the job stopped on a fatal error: {type(fatal).__name__}: {fatal}",
            ),
        )
    if live is not None:
        state = live
    elif fatal is not None:
        state = JobState.FAILED
    elif stopped and any(o.status is AssetStatus.NOT_RUN for o in ordered):
        state = JobState.STOPPED
    else:
        state = JobState.COMPLETED
    return JobLog(
        job_handle=identity.job_handle,
        job_name=ctx.job_name,
        company=ctx.company,
        user=ctx.user,
        submit_user=ctx.submit_user,
        description=ctx.description,
        locale=ctx.locale,
        fmt=job.fmt,
        email_setting=job.email_setting,
        state=state,
        start=identity.start,
        end=utc_now(),
        fatal_error=fatal is not None,
        counts=JobCounts.tally(ordered, details, duplicates=len(job.duplicate_handles)),
        details=details,
        outcomes=ordered,
    )


def bare_log(identity: JobIdentity, fatal: BaseException) -> JobLog:
    """Return the simplest log of a job whose proper log could not be built."""
    job, ctx = identity.job, identity.context
    outcomes = [AssetOutcome.for_not_run(h, "unknown") for h in job.unique_handles]
    details = [
        LogDetail(
            severity=Severity.ERROR,
            log_type=LogType.FATAL_ERROR,
            code=FATAL_ERROR,
            message=f"the job log could not be built: {type(fatal).__name__}: {fatal}",
        )
    ]
    return JobLog(
        job_handle=identity.job_handle,
        job_name=ctx.job_name,
        company=ctx.company,
        fmt=job.fmt,
        state=JobState.FAILED,
        start=identity.start,
        end=utc_now(),
        counts=JobCounts.tally(outcomes, details, duplicates=len(job.duplicate_handles)),
        fatal_error=True,
        details=details,
        outcomes=outcomes,
    )


def attach_log(exc: BaseException, log: JobLog) -> None:
    """Let the caller of ``run`` that gets *exc* reach the log of the job it ended."""
    with contextlib.suppress(AttributeError, TypeError):  # an exception class with __slots__
        exc.exportjob_log = log  # type: ignore[attr-defined]
    add_note = getattr(exc, "add_note", None)  # Python 3.11+
    if add_note is not None:
        add_note(
            f"exportjob: job {log.job_handle} ended {log.state.value} before this was raised; "
            "its log is this exception's exportjob_log attribute"
        )


def job_warning(
    code: str, message: str, *, log_type: LogType = LogType.NOTIFICATION_WARNING
) -> LogDetail:
    """A job-level warning detail (a notification that was not sent, a warning of the request...)."""
    return LogDetail(severity=Severity.WARNING, log_type=log_type, code=code, message=message)


def said_once(identity: JobIdentity) -> tuple[str, ...]:
    """The request's warnings, each once, in order."""
    return tuple(dict.fromkeys(identity.job_warnings))


_CONVERSION_CODES = frozenset({ConversionError.code, ImageTooLargeError.code})


def request_errors(job: ExportJob, outcomes: Sequence[AssetOutcome]) -> list[LogDetail]:
    """One job-level error when the request itself is the likely cause of the assets' failures.

    That is: a ``fmt=convert`` job that exported nothing, whose two or more assets that reached the
    converter all failed with the same conversion code (``&wid=99999999``: ``IMAGE_TOO_LARGE`` for
    every asset). Each asset keeps its own error detail, with that code.
    """
    failed = [o for o in outcomes if o.status is AssetStatus.FAILED]
    codes = {o.code for o in failed}
    if (
        job.fmt is not ExportFormat.CONVERT
        or len(failed) < 2
        or len(codes) != 1
        or not codes <= _CONVERSION_CODES
        or any(o.status is AssetStatus.EXPORTED for o in outcomes)
    ):
        return []
    request = "; ".join(
        f"{field}={value!r}"
        for field, value in (("is_modifier", job.is_modifier), ("macro", job.macro))
        if value is not None
    )
    return [
        LogDetail(
            severity=Severity.ERROR,
            log_type=LogType.EXPORT_ERROR,
            code=failed[0].code,
            message=(
                f"every one of the {len(failed)} assets converted failed with {failed[0].code}, "
                f"so the request ({request or 'the default conversion'}) is the likely cause; "
                f"the first: {failed[0].message}"
            ),
        )
    ]


def asset_details(
    job: ExportJob,
    ordered: Sequence[AssetOutcome],
    *,
    job_level: frozenset[str] = frozenset(),
) -> Iterator[LogDetail]:
    """Yield the details of every submitted handle, in job order (repeats as ``DuplicateSkipped``).

    *ordered* holds one outcome per distinct handle, in ``job.unique_handles`` order. Warnings in
    *job_level* (the request's, listed once for the job) are not repeated per asset.
    """
    if not job.duplicate_handles:  # no index of the outcomes needed
        for o in ordered:
            if o.status is AssetStatus.EXPORTED and not o.warnings:  # most: one detail, made here
                yield exported_detail(o)
            else:
                yield from _outcome_details(o, job_level)
        return
    outcomes = {o.handle: o for o in ordered}
    for handle, repeat in zip(job.asset_handles, job.repeats, strict=True):
        o = outcomes[handle]
        if repeat:
            yield LogDetail(
                severity=Severity.WARNING,
                log_type=LogType.DUPLICATE_SKIPPED,
                code=DUPLICATE_HANDLE,
                message=f"{handle} is listed more than once in the job; it is exported once",
                handle=handle,
                file_name=o.file_name,
                created=o.finished,
            )
            continue
        yield from _outcome_details(o, job_level)


def _outcome_details(o: AssetOutcome, job_level: frozenset[str]) -> Iterator[LogDetail]:
    for warning in o.warnings:
        if warning in job_level:
            continue
        yield _detail(o, Severity.WARNING, LogType.EXPORT_WARNING, warning, code=PLAN_WARNING)
    if o.status is AssetStatus.EXPORTED:
        yield exported_detail(o)
    elif o.status is AssetStatus.SKIPPED:
        yield _detail(
            o, Severity.WARNING, LogType.EXPORT_WARNING, o.message or "skipped", code=o.code
        )
    elif o.status is AssetStatus.NOT_RUN:
        yield _detail(o, Severity.INFO, LogType.FILE_CANCEL, o.message or "not run", code=o.code)
    else:
        yield _detail(o, Severity.ERROR, LogType.EXPORT_ERROR, o.message or "failed", code=o.code)


def _detail(
    o: AssetOutcome,
    severity: Severity,
    log_type: LogType,
    message: str,
    *,
    code: str | None = None,
    location: str | None = None,
) -> LogDetail:
    exported_or_warned = log_type is LogType.EXPORT_SUCCESS or log_type is LogType.EXPORT_WARNING
    output_name = o.output_name if exported_or_warned else None
    return outcome_detail(
        o, severity, log_type, message, code=code, output_name=output_name, location=location
    )
