"""The records of a job log: severities, log types, states, statuses, details, outcomes.

One ``LogDetail`` per event (severity, asset handle, file name, code, message, log type) and one
``AssetOutcome`` per asset, so a user interface can show a table of what was exported; the job's
counters are in ``exportjob._counts``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ._as_is import as_is
from ._assets import AssetHandle, to_handle
from ._codes import NOT_RUN
from ._dicts import aware, read_record, to_utc, utc_now
from ._enums import AssetType, IpsEnum
from ._quoting import escaped
from ._values import count, optional_count, optional_string, string
from .exceptions import InvalidValueError, NotAuthorizedError, OutputExistsError
from .plans import ExportPlan

__all__ = [
    "LOG_FORMAT_VERSION",
    "AssetOutcome",
    "AssetStatus",
    "JobState",
    "LogDetail",
    "LogType",
    "Severity",
    "exported_detail",
    "outcome_detail",
]


#: The version of the ``to_dict`` form; ``from_dict`` refuses any other.
LOG_FORMAT_VERSION = 1


class Severity(IpsEnum):
    """How bad a log detail is. IPS encodes it in log type names; here it is a field of its own."""

    INFO = "Info"
    WARNING = "Warning"
    ERROR = "Error"


class LogType(IpsEnum):
    """The kind of a log detail.

    IPS documents no export-specific log types; these follow its ``<Op>Success``/``<Op>Error``/
    ``<Op>Warning`` pattern and reuse the generic ``DuplicateSkipped``, ``FileCancel`` and ``FatalError``.
    """

    EXPORT_SUCCESS = "ExportSuccess"
    EXPORT_WARNING = "ExportWarning"
    EXPORT_ERROR = "ExportError"
    DUPLICATE_SKIPPED = "DuplicateSkipped"
    FILE_CANCEL = "FileCancel"
    FATAL_ERROR = "FatalError"
    NOTIFICATION_WARNING = "NotificationWarning"


class JobState(IpsEnum):
    """Where a job is: ``queued``, ``running`` or ``paused`` while it runs, then one of the final three.

    ``completed`` means every asset was tried (some may have failed); ``stopped`` means ``stop()`` left
    assets not run; ``failed`` means the engine itself hit a fatal error (``JobLog.fatal_error``).
    """

    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def is_final(self) -> bool:
        """Whether the job has ended."""
        return self in {JobState.COMPLETED, JobState.FAILED, JobState.STOPPED}


class AssetStatus(IpsEnum):
    """What became of one asset."""

    EXPORTED = "exported"
    FAILED = "failed"
    REFUSED = "refused"
    NOT_RUN = "not_run"
    SKIPPED = "skipped"
    """Not written: its output name was taken and the conflict policy is ``skip``."""


# The converters return a value of the right type at once: a log of many assets builds many.


def _severity(value: str | Severity) -> Severity:
    if type(value) is Severity:
        return value
    return Severity.parse(value, field="severity")


def _log_type(value: str | LogType) -> LogType:
    if type(value) is LogType:
        return value
    return LogType.parse(value, field="log_type")


def _status(value: str | AssetStatus) -> AssetStatus:
    if type(value) is AssetStatus:
        return value
    return AssetStatus.parse(value, field="status")


def _optional_handle(value: str | AssetHandle | None) -> AssetHandle | None:
    if value is None or type(value) is AssetHandle:
        return value
    return AssetHandle.of(value)


def _optional_type(value: str | AssetType | None) -> AssetType | None:
    return None if value is None else AssetType.parse(value, field="asset_type")


def _str_tuple(field: str, value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, Iterable) and not isinstance(value, str):
        items = tuple(value)
        if all(isinstance(v, str) for v in items):
            return items
    raise InvalidValueError(field, value, "must be a sequence of strings")


def _warnings(value: Iterable[str]) -> tuple[str, ...]:  # one converter per field: named by it
    return _str_tuple("warnings", value)


def _kept_metadata(value: Iterable[str]) -> tuple[str, ...]:
    return _str_tuple("kept_metadata", value)


@attrs.frozen(kw_only=True)
class LogDetail:
    """One event of a job: an asset exported, a warning, an error, a skipped duplicate, ...

    ``handle`` and ``file_name`` are ``None`` for job-level events (a failed notification, a fatal
    error); ``code`` is the error class's stable code (``NOT_AUTHORIZED``) for errors and warnings.

    >>> d = LogDetail(severity="error", log_type="ExportError", message="no such asset",
    ...               code="ASSET_NOT_FOUND", handle="h9")
    >>> d.severity, d.handle
    (<Severity.ERROR: 'Error'>, AssetHandle('h9'))
    """

    severity: Severity = attrs.field(converter=_severity)
    log_type: LogType = attrs.field(converter=_log_type)
    message: str = attrs.field(validator=string)
    code: str | None = attrs.field(default=None, validator=optional_string)
    handle: AssetHandle | None = attrs.field(default=None, converter=_optional_handle)
    file_name: str | None = attrs.field(default=None, validator=optional_string)
    output_name: str | None = attrs.field(default=None, validator=optional_string)
    location: str | None = attrs.field(default=None, validator=optional_string)
    created: dt.datetime = attrs.field(factory=utc_now, converter=to_utc, validator=aware)

    def to_dict(self) -> dict[str, Any]:
        """Return the detail as a JSON-compatible dict."""
        return {
            "severity": self.severity.value,
            "log_type": self.log_type.value,
            "message": self.message,
            "code": self.code,
            "handle": None if self.handle is None else self.handle.value,
            "file_name": self.file_name,
            "output_name": self.output_name,
            "location": self.location,
            "created": self.created.isoformat(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> LogDetail:
        """Read a detail written by ``to_dict``.

        Raises:
            JobLogFormatError: naming the offending field (``logDetail.severity``).
        """
        return read_record(cls, raw, "logDetail")

    def __str__(self) -> str:
        # One line whatever the names hold: no newline in a file name can forge a line.
        who = f"{self.handle} " if self.handle is not None else ""
        name = f"({self.file_name}) " if self.file_name else ""
        code = f"{self.code}: " if self.code else ""
        return escaped(f"{self.severity.value.upper():7} {who}{name}{code}{self.message}")


_detail_as_is = as_is(LogDetail)


def outcome_detail(
    outcome: AssetOutcome,
    severity: Severity,
    log_type: LogType,
    message: str,
    *,
    code: str | None,
    output_name: str | None,
    location: str | None,
) -> LogDetail:
    """A detail of *outcome*, its fields taken as they are: they were checked when it was built.

    A log holds one per asset, so its fields are not checked again, nor converted (the handle,
    the names and the time are the outcome's own objects).
    """
    return _detail_as_is(
        severity,
        log_type,
        message,
        code,
        outcome.handle,
        outcome.file_name,
        output_name,
        location,
        outcome.finished,
    )


def exported_detail(outcome: AssetOutcome) -> LogDetail:
    """The ``ExportSuccess`` detail of an exported *outcome*."""
    return outcome_detail(
        outcome,
        Severity.INFO,
        LogType.EXPORT_SUCCESS,
        f"exported as {outcome.output_name} ({outcome.bytes_written} bytes)",
        code=None,
        output_name=outcome.output_name,
        location=outcome.location,
    )


@attrs.frozen(kw_only=True)
class AssetOutcome:
    """What became of one asset: one row of the table a user interface shows.

    ``output_format`` is the rendered ``fmt`` of a conversion (``"png,rgb"``) or ``None`` for an
    original exported as it is; ``location`` is where the store says the export landed;
    ``kept_metadata`` names what of the original's metadata the conversion copied (``xmpEmbed``,
    the ``keep_metadata`` setting).
    """

    handle: AssetHandle = attrs.field(converter=to_handle)
    status: AssetStatus = attrs.field(converter=_status)
    file_name: str | None = attrs.field(default=None, validator=optional_string)
    asset_type: AssetType | None = attrs.field(default=None, converter=_optional_type)
    output_name: str | None = attrs.field(default=None, validator=optional_string)
    output_format: str | None = attrs.field(default=None, validator=optional_string)
    media_type: str | None = attrs.field(default=None, validator=optional_string)
    bytes_written: int = attrs.field(default=0, validator=count)
    location: str | None = attrs.field(default=None, validator=optional_string)
    width: int | None = attrs.field(default=None, validator=optional_count)
    height: int | None = attrs.field(default=None, validator=optional_count)
    code: str | None = attrs.field(default=None, validator=optional_string)
    message: str | None = attrs.field(default=None, validator=optional_string)
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_warnings)
    finished: dt.datetime = attrs.field(factory=utc_now, converter=to_utc, validator=aware)
    kept_metadata: tuple[str, ...] = attrs.field(default=(), converter=_kept_metadata)

    @classmethod
    def for_export(
        cls,
        plan: ExportPlan,
        *,
        output_format: str | None,
        media_type: str,
        bytes_written: int,
        location: str,
        width: int | None = None,
        height: int | None = None,
        kept_metadata: tuple[str, ...] = (),
    ) -> AssetOutcome:
        """The outcome of *plan* exported: what was written, how big, and where it landed.

        Values of the types the checks accept unchanged (from the converter, the store, the plan)
        are set as they are: a job builds one per asset. Anything else goes through the checks,
        which say what is wrong.
        """
        asset = plan.asset
        warnings = plan.warnings
        if (
            type(media_type) is str
            and type(location) is str
            and type(bytes_written) is int
            and bytes_written >= 0
            and (output_format is None or type(output_format) is str)
            and (width is None or (type(width) is int and width >= 0))
            and (height is None or (type(height) is int and height >= 0))
            and (kept_metadata == () or _plain_strings(kept_metadata))
            and (warnings == () or _plain_strings(warnings))
            and type(plan.output_name) is str
            and type(asset.file_name) is str
        ):
            return _outcome_as_is(
                asset.handle,
                AssetStatus.EXPORTED,
                asset.file_name,
                asset.type,
                plan.output_name,
                output_format,
                media_type,
                bytes_written,
                location,
                width,
                height,
                None,  # code
                None,  # message
                warnings,
                utc_now(),
                kept_metadata,
            )
        return cls(
            handle=asset.handle,
            status=AssetStatus.EXPORTED,
            file_name=asset.file_name,
            asset_type=asset.type,
            output_name=plan.output_name,
            output_format=output_format,
            media_type=media_type,
            bytes_written=bytes_written,
            location=location,
            width=width,
            height=height,
            warnings=warnings,
            kept_metadata=kept_metadata,
        )

    @classmethod
    def for_failure(
        cls, subject: ExportPlan | AssetHandle, code: str, message: str
    ) -> AssetOutcome:
        """The outcome of an asset that failed with the error *code*.

        *subject* is the asset's plan, or only its handle when it failed before it was planned.
        """
        return cls._unexported(subject, AssetStatus.FAILED, code, message)

    @classmethod
    def for_skip(cls, plan: ExportPlan, location: str, message: str) -> AssetOutcome:
        """The outcome of *plan* not written because its name was taken (``skip`` policy)."""
        return attrs.evolve(
            cls._unexported(plan, AssetStatus.SKIPPED, OutputExistsError.code, message),
            location=location,
        )

    @classmethod
    def for_refusal(cls, plan: ExportPlan) -> AssetOutcome:
        """The outcome of a refused *plan* (another company's asset, a set): its refusal's code.

        Raises:
            InvalidValueError: on the field ``plan``, if *plan* was accepted.
        """
        if plan.refusal is None:
            raise InvalidValueError("plan", plan, "was accepted, not refused")
        refusal = plan.refusal
        if refusal.code == NotAuthorizedError.code:
            # Another company's asset: nothing the store said of it (its name, its type) is told.
            return cls._unexported(plan.handle, AssetStatus.REFUSED, refusal.code, refusal.message)
        return cls._unexported(plan, AssetStatus.REFUSED, refusal.code, refusal.message)

    @classmethod
    def for_not_run(
        cls, subject: ExportPlan | AssetHandle, why: str, *, yet: bool = False
    ) -> AssetOutcome:
        """The outcome of an asset the job never ran (``NOT_RUN``), or, *yet*, has not run so far."""
        said = "not run yet" if yet else "not run"
        return cls._unexported(subject, AssetStatus.NOT_RUN, NOT_RUN, f"{said}: {why}")

    @classmethod
    def _unexported(
        cls, subject: ExportPlan | AssetHandle, status: AssetStatus, code: str, message: str
    ) -> AssetOutcome:
        if isinstance(subject, AssetHandle):
            return cls(handle=subject, status=status, code=code, message=message)
        accepted = subject.refusal is None
        return cls(
            handle=subject.handle,
            status=status,
            file_name=subject.asset.file_name,
            asset_type=subject.asset.type,
            output_name=(subject.output_name or None) if accepted else None,
            output_format=(
                None
                if subject.output_format is None or not accepted
                else subject.output_format.render()
            ),
            code=code,
            message=message,
            warnings=subject.warnings,
        )

    @property
    def exported(self) -> bool:
        """Whether the asset was exported."""
        return self.status is AssetStatus.EXPORTED

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as a JSON-compatible dict."""
        return {
            "handle": self.handle.value,
            "status": self.status.value,
            "file_name": self.file_name,
            "asset_type": None if self.asset_type is None else self.asset_type.value,
            "output_name": self.output_name,
            "output_format": self.output_format,
            "media_type": self.media_type,
            "bytes_written": self.bytes_written,
            "location": self.location,
            "width": self.width,
            "height": self.height,
            "code": self.code,
            "message": self.message,
            "warnings": list(self.warnings),
            "finished": self.finished.isoformat(),
        } | (
            # Optional and additive: written only when something was kept, so logs that keep
            # nothing are what version 1 always wrote.
            {"kept_metadata": list(self.kept_metadata)} if self.kept_metadata else {}
        )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AssetOutcome:
        """Read an outcome written by ``to_dict``.

        Raises:
            JobLogFormatError: naming the offending field (``assetOutcome.bytes_written``).
        """
        return read_record(cls, raw, "assetOutcome")


_outcome_as_is = as_is(AssetOutcome)


def _plain_strings(value: object) -> bool:
    """Whether *value* is a tuple of plain strings (most often an empty one)."""
    return type(value) is tuple and (not value or all(type(i) is str for i in value))
