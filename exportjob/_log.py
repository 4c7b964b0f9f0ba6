"""The job log and the report a notifier delivers: whole jobs, as plain, JSON round-trippable data."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import attrs

from ._assets import AssetHandle
from ._counts import JobCounts, count_warned
from ._dicts import aware, read_list, read_record, to_utc
from ._enums import EmailSetting, ExportFormat
from ._records import (
    LOG_FORMAT_VERSION,
    AssetOutcome,
    JobState,
    LogDetail,
    Severity,
)
from ._values import instance_of, optional_string, string
from .exceptions import FieldProblem, InvalidValueError, JobLogFormatError

__all__ = ["JobLog", "JobReport", "job_handle_from_id", "job_id_of"]


def job_id_of(job_handle: str) -> str:
    """The URL-safe id of a job handle: its UTF-8 in unpadded base64url (``A-Z a-z 0-9 - _``).

    The handle (``company|jobName|time-n``) has ``|``, ``:`` and maybe spaces; the id can go in a URL
    path or a file name as it is, and ``job_handle_from_id`` gives the handle back.

    >>> job_id_of("acme|export|2024-05-01T12:00:00.000000Z-1")
    'YWNtZXxleHBvcnR8MjAyNC0wNS0wMVQxMjowMDowMC4wMDAwMDBaLTE'
    """
    return base64.urlsafe_b64encode(job_handle.encode()).rstrip(b"=").decode("ascii")


def job_handle_from_id(job_id: str) -> str:
    """The job handle whose ``job_id_of`` is *job_id*; ``InvalidValueError`` for anything else.

    >>> job_handle_from_id("YWNtZXxleHBvcnR8MjAyNC0wNS0wMVQxMjowMDowMC4wMDAwMDBaLTE")
    'acme|export|2024-05-01T12:00:00.000000Z-1'
    """
    try:
        handle = base64.urlsafe_b64decode(job_id + "=" * (-len(job_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidValueError("job_id", job_id, "is not a job id (unpadded base64url)") from None
    if job_id_of(handle) != job_id:  # one spelling per handle
        raise InvalidValueError("job_id", job_id, "is not a job id (unpadded base64url)")
    return handle


_E = TypeVar("_E")


def _details(value: Iterable[LogDetail]) -> tuple[LogDetail, ...]:
    return _typed_tuple(value, LogDetail, "details")


def _outcomes(value: Iterable[AssetOutcome]) -> tuple[AssetOutcome, ...]:
    return _typed_tuple(value, AssetOutcome, "outcomes")


def _typed_tuple(value: Iterable[_E], kind: type[_E], name: str) -> tuple[_E, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError(name, value, f"must be a sequence of {kind.__name__} values")
    items = tuple(value)
    if not all(map(isinstance, items, itertools.repeat(kind))):  # in C: a log holds many
        item = next(i for i in items if not isinstance(i, kind))
        raise InvalidValueError(name, value, f"must hold {kind.__name__} values, not {item!r}")
    return items


def _fmt(value: str | ExportFormat) -> ExportFormat:
    return ExportFormat.parse(value, field="fmt")


def _email_setting(value: str | EmailSetting) -> EmailSetting:
    return EmailSetting.parse(value, field="email_setting")


def _state(value: str | JobState) -> JobState:
    return JobState.parse(value, field="state")


@attrs.frozen(kw_only=True, repr=False)
class JobLog:
    """The log of one job after it ran: identity, times, counters, details and per-asset outcomes.

    ``JobRun.snapshot`` gives one of a job still running (state ``running`` or ``paused``).
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

    job_handle: str = attrs.field(validator=string)
    job_name: str = attrs.field(validator=string)
    company: str = attrs.field(validator=string)
    fmt: ExportFormat = attrs.field(converter=_fmt)
    state: JobState = attrs.field(converter=_state)
    start: dt.datetime = attrs.field(converter=to_utc, validator=aware)
    end: dt.datetime = attrs.field(converter=to_utc, validator=aware)
    counts: JobCounts = attrs.field(validator=instance_of(JobCounts))
    user: str | None = attrs.field(default=None, validator=optional_string)
    submit_user: str | None = attrs.field(default=None, validator=optional_string)
    description: str | None = attrs.field(default=None, validator=optional_string)
    locale: str | None = attrs.field(default=None, validator=optional_string)
    email_setting: EmailSetting = attrs.field(default=EmailSetting.NONE, converter=_email_setting)
    fatal_error: bool = attrs.field(default=False, validator=instance_of(bool))
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
    def job_id(self) -> str:
        """The URL-safe id of ``job_handle`` (``job_id_of``); derived, so not in ``to_dict()``."""
        return job_id_of(self.job_handle)

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
            JobLogFormatError: the dict is not a job log of this version; ``problems`` names the
                field by its path (``jobLog.version``, ``jobLog.details[2].severity``).
        """
        return _read_log(raw, "jobLog")


def _read_log(raw: object, path: str) -> JobLog:
    if not isinstance(raw, Mapping):
        raise JobLogFormatError([FieldProblem(path, raw, "must be a mapping")])
    version = raw.get("version")
    if isinstance(version, bool) or version != LOG_FORMAT_VERSION:
        raise JobLogFormatError(
            [FieldProblem(f"{path}.version", version, f"must be {LOG_FORMAT_VERSION}")]
        )
    fields = {k: v for k, v in raw.items() if k != "version"}
    if "counts" in raw:
        fields["counts"] = read_record(JobCounts, raw["counts"], f"{path}.counts")
    fields["details"] = _read_details(raw, path)
    fields["outcomes"] = tuple(
        read_record(AssetOutcome, o, f"{path}.outcomes[{i}]")
        for i, o in enumerate(read_list(f"{path}.outcomes", raw.get("outcomes", [])))
    )
    return read_record(JobLog, fields, path)


def _read_details(raw: Mapping[str, Any], path: str) -> tuple[LogDetail, ...]:
    return tuple(
        read_record(LogDetail, d, f"{path}.details[{i}]")
        for i, d in enumerate(read_list(f"{path}.details", raw.get("details", [])))
    )


@attrs.frozen(kw_only=True, repr=False)
class JobReport:
    """What a ``Notifier`` is asked to deliver: one notification about one finished job.

    ``details`` are the log details the notification covers under the job's email setting (every
    error and warning for ``All``, errors for ``Error``, ...); ``body`` already lists them in plain
    text. ``log`` is the whole job log, for hosts that attach or link it.
    """

    recipient: str = attrs.field(validator=string)
    subject: str = attrs.field(validator=string)
    body: str = attrs.field(validator=string)
    email_setting: EmailSetting = attrs.field(converter=_email_setting)
    log: JobLog = attrs.field(validator=instance_of(JobLog))
    details: tuple[LogDetail, ...] = attrs.field(default=(), converter=_details)
    locale: str | None = attrs.field(default=None, validator=optional_string)

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
        """Read a report written by ``to_dict``.

        Raises:
            JobLogFormatError: naming the offending field by its path (``jobReport.log.state``).
        """
        path = "jobReport"
        if not isinstance(raw, Mapping):
            raise JobLogFormatError([FieldProblem(path, raw, "must be a mapping")])
        fields = dict(raw)
        if "log" in raw:
            fields["log"] = _read_log(raw["log"], f"{path}.log")
        fields["details"] = _read_details(raw, path)
        return read_record(cls, fields, path)
