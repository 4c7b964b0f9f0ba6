"""The ``emailSetting`` policy: whether a finished job notifies its user, and what it says.

The library owns the policy; a ``Notifier`` only delivers. The meanings are those the IPS documentation
gives on its AutomatedSetGenerationJob page (the only place that defines them), applied to ExportJob:

======================  ========================================  ===============================
``emailSetting``        notifies when                             details listed
======================  ========================================  ===============================
``None``                never                                     --
``Error``               the job had an error (or a fatal error)   the errors
``ErrorAndWarning``     the job had an error or a warning         the errors and warnings
``JobCompletion``       always, when the job ends                 none (the summary only)
``All``                 always, when the job ends                 every error and warning
======================  ========================================  ===============================

One notification per job, at its end, carrying the details. The recipient is the job's user, else the
submitter (``JobContext.recipient``).
"""

from __future__ import annotations

import logging

from ._addresses import handle_problem
from ._assembly import job_warning
from ._codes import INVALID_RECIPIENT, NO_NOTIFIER, NO_RECIPIENT
from ._context import JobContext
from ._enums import EmailSetting
from ._log import JobLog, JobReport
from ._quoting import escaped
from ._records import JobState, LogDetail, Severity
from .exceptions import NotifierError
from .protocols import Notifier

__all__ = ["build_report", "notified_details", "notify", "wants_notification"]

logger = logging.getLogger("exportjob.engine")

_SUBJECT_PREFIX = "[exportjob]"


def wants_notification(setting: EmailSetting, log: JobLog) -> bool:
    """Return whether a job that ended with *log* notifies its user under *setting*.

    >>> import datetime as dt
    >>> from exportjob.joblog import JobCounts
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> clean = JobLog(job_handle="j", job_name="j", company="c", fmt="orig", state="completed",
    ...                start=t, end=t, counts=JobCounts(success=1, total=1))
    >>> [s.value for s in EmailSetting if wants_notification(s, clean)]
    ['All', 'JobCompletion']
    """
    if setting is EmailSetting.NONE:
        return False
    if setting in {EmailSetting.ALL, EmailSetting.JOB_COMPLETION}:
        return True
    has_error = log.fatal_error or bool(log.errors)
    if setting is EmailSetting.ERROR:
        return has_error
    return has_error or bool(log.warnings)


def notified_details(setting: EmailSetting, log: JobLog) -> tuple[LogDetail, ...]:
    """Return the details of *log* that a notification under *setting* lists, in log order."""
    if setting is EmailSetting.ERROR:
        wanted = {Severity.ERROR}
    elif setting in {EmailSetting.ERROR_AND_WARNING, EmailSetting.ALL}:
        wanted = {Severity.ERROR, Severity.WARNING}
    else:
        wanted = set()
    return tuple(d for d in log.details if d.severity in wanted)


def _subject(log: JobLog) -> str:
    counts = log.counts
    if log.fatal_error:
        outcome = "failed"
    elif log.state is JobState.STOPPED:
        outcome = "stopped"
    elif counts.error:
        outcome = "completed with errors"
    elif counts.warning or log.warnings:
        outcome = "completed with warnings"
    else:
        outcome = "completed"
    return (
        f"{_SUBJECT_PREFIX} Export job {log.job_name!r} {outcome}: "
        f"{counts.success} exported, {counts.error} error(s), {counts.warning} warning(s)"
    )


def _body(log: JobLog, details: tuple[LogDetail, ...], setting: EmailSetting) -> str:
    lines = [
        f"Export job {log.job_name!r} of company {log.company!r} {log.state.value}.",
        "",
        f"Job handle:  {escaped(log.job_handle)}",
        f"Format:      fmt={log.fmt.value}",
        f"Started:     {log.start.isoformat()}",
        f"Ended:       {log.end.isoformat()}",
        f"Exported:    {log.counts.success}",
        f"Errors:      {log.counts.error}",
        f"Warnings:    {log.counts.warning}",
        f"Duplicates:  {log.counts.duplicate}",
        f"Not run:     {log.counts.not_run}",
        f"Total:       {log.counts.total}",
    ]
    if log.fatal_error:
        lines += ["", "The job stopped on a fatal error."]
    if details:
        lines += ["", "Details:"]
        lines += [f"  {d}" for d in details]  # each one line: str(LogDetail) escapes
    if setting is EmailSetting.ERROR and log.warnings:
        lines += ["", f"({len(log.warnings)} warning(s) not listed under emailSetting=Error.)"]
    lines += ["", f"(Sent because emailSetting={setting.value}.)"]
    return "\n".join(lines) + "\n"


def build_report(
    setting: EmailSetting, log: JobLog, recipient: str, *, locale: str | None = None
) -> JobReport:
    """Return the notification the engine sends *recipient* about the job that ended with *log*.

    The subject says the outcome and the counts; the body lists the job's identity, times and
    counters, then the details *setting* covers: the errors for ``Error``, the errors and warnings
    for ``ErrorAndWarning`` and ``All``, none for ``JobCompletion``. Text is English; *locale*
    travels in the report for hosts that localise. Whether a job notifies at all is the engine's
    decision (``docs/email.md``); this only builds the report, so a host can test or preview a
    ``Notifier`` of its own. Public as ``exportjob.notifiers.build_report``.

    Args:
        setting: the job's email setting.
        log: the log of the finished job.
        recipient: the user the report goes to.
        locale: the job's locale, carried as ``JobReport.locale``.

    >>> import datetime as dt
    >>> from exportjob.joblog import JobCounts
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> log = JobLog(job_handle="acme|weekly|1", job_name="weekly", company="acme", fmt="orig",
    ...              state="completed", start=t, end=t, counts=JobCounts(success=1, total=1))
    >>> build_report(EmailSetting.JOB_COMPLETION, log, "ann").subject
    "[exportjob] Export job 'weekly' completed: 1 exported, 0 error(s), 0 warning(s)"
    """
    details = notified_details(setting, log)
    return JobReport(
        recipient=recipient,
        subject=_subject(log),
        body=_body(log, details, setting),
        email_setting=setting,
        log=log,
        details=details,
        locale=locale,
    )


def notify(notifier: Notifier | None, log: JobLog, context: JobContext) -> JobLog:
    """Notify the job's recipient if its email setting asks to; return *log* with any warning.

    A missing recipient, a recipient that is not one address or one plain handle, a missing
    notifier and a failed delivery are warnings on the log (``NO_RECIPIENT``,
    ``INVALID_RECIPIENT``, ``NO_NOTIFIER``, ``NOTIFIER_FAILED``, or the code of the
    ``NotifierError`` the notifier raised); they never fail the job.
    """
    setting = log.email_setting
    if not wants_notification(setting, log):
        return log
    recipient = context.recipient
    if recipient is None:
        return log.with_details(
            job_warning(
                NO_RECIPIENT,
                f"emailSetting={setting.value} asks for a notification, but the job names "
                "neither a user nor a submitter; none was sent",
            )
        )
    problem = handle_problem(recipient)
    if problem is not None:
        return log.with_details(
            job_warning(
                INVALID_RECIPIENT,
                f"the recipient {recipient!r} {problem}; no notification was sent",
            )
        )
    if notifier is None:
        return log.with_details(
            job_warning(
                NO_NOTIFIER,
                f"emailSetting={setting.value} asks for a notification to {recipient}, "
                "but the engine has no notifier; none was sent",
            )
        )
    report = build_report(setting, log, recipient, locale=context.locale)
    try:
        notifier.notify(report)
    except Exception as exc:
        if isinstance(exc, NotifierError):  # expected (a mail server down): one line, no traceback
            logger.warning("the notifier failed for job %s: %s", log.job_handle, exc)
        else:  # a bug in the notifier: its traceback says where
            logger.exception("the notifier %r failed for job %s", notifier, log.job_handle)
        return log.with_details(
            job_warning(
                exc.code if isinstance(exc, NotifierError) else NotifierError.code,
                f"the notification to {recipient} failed: {type(exc).__name__}: {exc}",
            )
        )
    return log
