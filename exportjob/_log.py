"""The job log and the report a notifier delivers: whole jobs, as plain, JSON round-trippable data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import attrs

from ._model import AssetHandle, EmailSetting, ExportFormat, _to_email, _to_fmt
from ._records import (
    LOG_FORMAT_VERSION,
    AssetOutcome,
    JobCounts,
    JobState,
    LogDetail,
    Severity,
    _aware,
    _build,
    _list,
    _mapping,
    _opt_str,
    _state,
    _str,
    count_warned,
)
from .exceptions import FieldProblem, InvalidJobError

__all__ = ["JobLog", "JobReport"]

_E = TypeVar("_E")


def _details(value: Iterable[LogDetail]) -> tuple[LogDetail, ...]:
    return _typed_tuple(value, LogDetail, "details")


def _outcomes(value: Iterable[AssetOutcome]) -> tuple[AssetOutcome, ...]:
    return _typed_tuple(value, AssetOutcome, "outcomes")


def _typed_tuple(value: Iterable[_E], kind: type[_E], name: str) -> tuple[_E, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, kind):
            msg = f"{name} must hold {kind.__name__} values, got {item!r}"
            raise TypeError(msg)
    return items


@attrs.frozen(kw_only=True, repr=False)
class JobLog:
    """The log of one job after it ran: identity, times, counters, details and per-asset outcomes.

    ``to_dict`` gives JSON-compatible data and ``from_dict`` reads it back to an equal log.

    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
    >>> log = JobLog(job_handle="acme|export|1", job_name="export", company="acme", fmt="orig",
    ...              state="completed", start=t, end=t, counts=JobCounts(total=0))
    >>> log
    <JobLog 'acme|export|1' completed: 0 exported, 0 error(s), 0 warning(s), 0 duplicate(s), 0 not run, 0 total>
    >>> JobLog.from_dict(log.to_dict()) == log
    True
    """

    job_handle: str = attrs.field(validator=_str)
    job_name: str = attrs.field(validator=_str)
    company: str = attrs.field(validator=_str)
    fmt: ExportFormat = attrs.field(converter=_to_fmt)
    state: JobState = attrs.field(converter=_state)
    start: dt.datetime = attrs.field(converter=_aware)
    end: dt.datetime = attrs.field(converter=_aware)
    counts: JobCounts = attrs.field(validator=attrs.validators.instance_of(JobCounts))
    user: str | None = attrs.field(default=None, validator=_opt_str)
    submit_user: str | None = attrs.field(default=None, validator=_opt_str)
    description: str | None = attrs.field(default=None, validator=_opt_str)
    locale: str | None = attrs.field(default=None, validator=_opt_str)
    email_setting: EmailSetting = attrs.field(default=EmailSetting.NONE, converter=_to_email)
    fatal_error: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    details: tuple[LogDetail, ...] = attrs.field(default=(), converter=_details)
    outcomes: tuple[AssetOutcome, ...] = attrs.field(default=(), converter=_outcomes)

    def __repr__(self) -> str:
        return f"<JobLog {self.job_handle!r} {self.state.value}: {self.counts}>"

    def _repr_html_(self) -> str:
        from ._display import log_html  # noqa: PLC0415 - display code only when displayed

        return log_html(self)

    @property
    def success_count(self) -> int:
        """Assets exported (IPS ``fileSuccessCount``)."""
        return self.counts.success

    @property
    def error_count(self) -> int:
        """Assets failed or refused (IPS ``fileErrorCount``)."""
        return self.counts.error

    @property
    def warning_count(self) -> int:
        """Assets with at least one warning (IPS ``fileWarningCount``)."""
        return self.counts.warning

    @property
    def duplicate_count(self) -> int:
        """Repeated handles skipped (IPS ``fileDuplicateCount``)."""
        return self.counts.duplicate

    @property
    def total_count(self) -> int:
        """Handles submitted, repeats included (IPS ``totalFileCount``)."""
        return self.counts.total

    @property
    def errors(self) -> tuple[LogDetail, ...]:
        """The error details, in log order."""
        return tuple(d for d in self.details if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[LogDetail, ...]:
        """The warning details, in log order."""
        return tuple(d for d in self.details if d.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        """Whether the job ran without a single error (warnings allowed)."""
        return not self.fatal_error and not self.errors

    @property
    def duration(self) -> dt.timedelta:
        """How long the job ran."""
        return self.end - self.start

    def outcome(self, handle: str | AssetHandle) -> AssetOutcome:
        """Return the outcome of *handle*; raise ``KeyError`` if the job did not include it."""
        wanted = AssetHandle.of(handle)
        for o in self.outcomes:
            if o.handle == wanted:
                return o
        raise KeyError(wanted.value)

    def details_for(self, handle: str | AssetHandle) -> tuple[LogDetail, ...]:
        """Return the details about *handle*, in log order."""
        wanted = AssetHandle.of(handle)
        return tuple(d for d in self.details if d.handle == wanted)

    def with_details(self, *extra: LogDetail) -> JobLog:
        """Return a copy with *extra* details appended (counts follow the counting rules)."""
        details = (*self.details, *extra)
        counts = attrs.evolve(self.counts, warning=count_warned(details))
        return attrs.evolve(self, details=details, counts=counts)

    def summary(self) -> str:
        """Return a one-line summary: job handle, state and counters."""
        return f"{self.job_handle}: {self.state.value}, {self.counts}"

    def to_dict(self) -> dict[str, Any]:
        """Return the log as a JSON-compatible dict (``json.dumps`` it as it is)."""
        return {
            "version": LOG_FORMAT_VERSION,
            "job_handle": self.job_handle,
            "job_name": self.job_name,
            "company": self.company,
            "user": self.user,
            "submit_user": self.submit_user,
            "description": self.description,
            "locale": self.locale,
            "fmt": self.fmt.value,
            "email_setting": self.email_setting.value,
            "state": self.state.value,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "fatal_error": self.fatal_error,
            "counts": self.counts.to_dict(),
            "details": [d.to_dict() for d in self.details],
            "outcomes": [o.to_dict() for o in self.outcomes],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> JobLog:
        """Read a log written by ``to_dict``.

        Raises:
            InvalidJobError: the dict is not a job log of this version; ``problems`` names the field.
        """
        if not isinstance(raw, Mapping):
            raise InvalidJobError([FieldProblem("jobLog", raw, "must be a mapping")])
        version = raw.get("version")
        if version != LOG_FORMAT_VERSION:
            raise InvalidJobError(
                [FieldProblem("version", version, f"must be {LOG_FORMAT_VERSION}")]
            )
        fields = {k: v for k, v in raw.items() if k != "version"}
        fields["counts"] = JobCounts.from_dict(_mapping("counts", raw.get("counts")))
        fields["details"] = tuple(
            LogDetail.from_dict(_mapping(f"details[{i}]", d))
            for i, d in enumerate(_list("details", raw.get("details", [])))
        )
        fields["outcomes"] = tuple(
            AssetOutcome.from_dict(_mapping(f"outcomes[{i}]", o))
            for i, o in enumerate(_list("outcomes", raw.get("outcomes", [])))
        )
        return _build(cls, "jobLog", fields, times=("start", "end"))


@attrs.frozen(kw_only=True, repr=False)
class JobReport:
    """What a ``Notifier`` is asked to deliver: one notification about one finished job.

    ``details`` are the log details the notification covers under the job's email setting (every
    error and warning for ``All``, errors for ``Error``, ...); ``body`` already lists them in plain
    text. ``log`` is the whole job log, for hosts that attach or link it.
    """

    recipient: str = attrs.field(validator=_str)
    subject: str = attrs.field(validator=_str)
    body: str = attrs.field(validator=_str)
    email_setting: EmailSetting = attrs.field(converter=_to_email)
    log: JobLog = attrs.field(validator=attrs.validators.instance_of(JobLog))
    details: tuple[LogDetail, ...] = attrs.field(default=(), converter=_details)
    locale: str | None = attrs.field(default=None, validator=_opt_str)

    def __repr__(self) -> str:
        return f"<JobReport to {self.recipient!r}: {self.subject!r}>"

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-compatible dict."""
        return {
            "recipient": self.recipient,
            "subject": self.subject,
            "body": self.body,
            "email_setting": self.email_setting.value,
            "locale": self.locale,
            "details": [d.to_dict() for d in self.details],
            "log": self.log.to_dict(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> JobReport:
        """Read a report written by ``to_dict``."""
        if not isinstance(raw, Mapping):
            raise InvalidJobError([FieldProblem("jobReport", raw, "must be a mapping")])
        fields = dict(raw)
        fields["log"] = JobLog.from_dict(_mapping("log", raw.get("log")))
        fields["details"] = tuple(
            LogDetail.from_dict(_mapping(f"details[{i}]", d))
            for i, d in enumerate(_list("details", raw.get("details", [])))
        )
        return _build(cls, "jobReport", fields)
