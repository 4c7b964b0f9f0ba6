"""Every error exportjob raises, rooted in one base class.

The tree::

    ExportJobError
    ├── InvalidJobError (ValueError)          a job or its context is invalid; .problems (each field) .subject
    ├── InvalidValueError (ValueError)        another value type got a bad field; .field .value .reason
    ├── JobLogFormatError (ValueError)        a dict is not a job log, report or record; .problems
    ├── ModifierError (ValueError)            a modifier string is malformed; .command .value .position
    │   ├── UnknownCommandError               a command name Image Serving does not define
    │   ├── RefusedCommandError               a command that would read another image or resource
    │   └── UnsupportedFormatError            an output format this installation cannot write
    ├── MacroError (ValueError)               .macro
    │   ├── UnknownMacroError (LookupError)   an invocation of a macro that is not defined
    │   └── MacroDefinitionError              a bad macro definition (file syntax, forward reference)
    ├── AssetError                            one asset failed; .handle. Becomes a job-log entry
    │   ├── AssetNotFoundError (LookupError)
    │   ├── NotAuthorizedError (PermissionError)
    │   ├── UnsupportedAssetTypeError         a set asset; .asset_type
    │   ├── ConversionError                   the converter could not produce the output
    │   │   ├── ImageTooLargeError            over a source or output pixel limit
    │   │   └── MemoryBudgetError             needs more memory than the whole memory budget
    │   ├── StoreReadError (OSError)
    │   └── StoreWriteError (OSError)
    │       └── OutputExistsError (FileExistsError)  the export name is taken; left untouched
    ├── JournalError (ValueError)             a job journal of another job, or not a journal; .path
    ├── UnsafeNameError (ValueError)          an output name that could escape the export folder
    └── NotifierError                         a notifier could not deliver (logged, never fails a job)
        └── InvalidRecipientError             the recipient is not exactly one address; .recipient

Every error is picklable with its attributes, since work units cross process and Dask boundaries.
Each class has a stable ``code`` used in job-log details.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from ._codes import INVALID_RECIPIENT
from ._quoting import quoted

__all__ = [
    "AssetError",
    "AssetNotFoundError",
    "ConversionError",
    "ExportJobError",
    "FieldProblem",
    "ImageTooLargeError",
    "InvalidJobError",
    "InvalidRecipientError",
    "InvalidValueError",
    "JobLogFormatError",
    "JournalError",
    "MacroDefinitionError",
    "MacroError",
    "MemoryBudgetError",
    "ModifierError",
    "NotAuthorizedError",
    "NotifierError",
    "OutputExistsError",
    "RefusedCommandError",
    "StoreReadError",
    "StoreWriteError",
    "UnknownCommandError",
    "UnknownMacroError",
    "UnsafeNameError",
    "UnsupportedAssetTypeError",
    "UnsupportedFormatError",
]


def _restore(cls: type[ExportJobError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class ExportJobError(Exception):
    """Base class of every exportjob error."""

    code: ClassVar[str] = "EXPORT_ERROR"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))

    @property
    def message(self) -> str:
        """The human-readable message."""
        return str(self.args[0]) if self.args else ""


#: The most characters of a bad value a problem's message shows.
_SHOWN = 200


class FieldProblem:
    """One invalid field of a job: which field, the value given, and what is wrong."""

    __slots__ = ("field", "message", "value")

    def __init__(self, field: str, value: object, message: str) -> None:
        self.field = field
        self.value = value
        self.message = message

    def __repr__(self) -> str:
        return f"FieldProblem(field={self.field!r}, value={self.value!r}, message={self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldProblem):
            return NotImplemented
        return (self.field, self.value, self.message) == (other.field, other.value, other.message)

    def __hash__(self) -> int:
        return hash((self.field, repr(self.value), self.message))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FieldProblem, (self.field, self.value, self.message))

    def __str__(self) -> str:
        shown = repr(self.value)
        if len(shown) > _SHOWN:  # a profile's bytes, a job's worth of handles: the start says it
            shown = f"{shown[:_SHOWN]}... ({len(shown):,} characters)"
        return f"{self.field}: {self.message} (got {shown})"


def _listing(subject: str, problems: tuple[FieldProblem, ...]) -> str:
    return f"invalid {subject}: " + "; ".join(str(p) for p in problems)


class InvalidJobError(ExportJobError, ValueError):
    """A job or job context is invalid; every problem found is in ``problems``.

    ``subject`` says which: ``"export job"`` or ``"job context"``. Problems name the IPS wire field
    (``assetHandleArray[2]``, ``emailSetting``, ``companyHandle``), whether the value came through
    ``from_ips`` or the constructor.
    """

    code = "INVALID_JOB"

    def __init__(
        self,
        problems: list[FieldProblem] | tuple[FieldProblem, ...],
        *,
        subject: str = "export job",
    ) -> None:
        self.problems = tuple(problems)
        self.subject = subject
        super().__init__(_listing(subject, self.problems))


class InvalidValueError(ExportJobError, ValueError):
    """A value type other than the job and its context was given a bad field value.

    Raised by ``Asset``, ``AssetHandle``, the job-log records, ``ConversionSettings``, ``Limits``
    and the enumerations' ``parse``: ``field`` is the Python attribute name, ``value`` what was given
    and ``reason`` what is wrong with it.
    """

    code = "INVALID_VALUE"

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(str(self.problem))

    @property
    def problem(self) -> FieldProblem:
        """The error as a ``FieldProblem``, for callers that collect several."""
        return FieldProblem(self.field, self.value, self.reason)


class JobLogFormatError(ExportJobError, ValueError):
    """A dict given to a job-log ``from_dict`` is not what ``to_dict`` writes.

    ``problems`` names each offending field by its path in the dict (``version``,
    ``details[2].severity``, ``log.counts.total``).
    """

    code = "INVALID_JOB_LOG"

    def __init__(self, problems: list[FieldProblem] | tuple[FieldProblem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__(_listing("job log", self.problems))


class ModifierError(ExportJobError, ValueError):
    """A modifier string or one of its commands is malformed or out of range.

    ``command`` is the command name, ``value`` its (decoded) value, ``position`` the 1-based index of
    the modifier in the expanded request, ``origin`` where it came from (``is_modifier`` or a macro).
    """

    code = "INVALID_MODIFIER"

    def __init__(
        self,
        message: str,
        *,
        command: str | None = None,
        value: str | None = None,
        position: int | None = None,
        origin: str | None = None,
    ) -> None:
        self.command = command
        self.value = value
        self.position = position
        self.origin = origin
        where = []
        if command is not None:
            where.append(f"command {quoted(command)}")
        if value is not None:
            where.append(f"value {quoted(value)}")
        if position is not None:
            where.append(f"position {position}")
        if origin is not None:
            where.append(f"in {origin}")
        suffix = f" ({', '.join(where)})" if where else ""
        super().__init__(f"{message}{suffix}")


class UnknownCommandError(ModifierError):
    """A command name that Image Serving does not define (or exportjob does not implement)."""

    code = "UNKNOWN_COMMAND"


class RefusedCommandError(ModifierError):
    """A command that would read another image or resource; an export never reaches those."""

    code = "REFUSED_COMMAND"


class UnsupportedFormatError(ModifierError):
    """An output format that this installation cannot write (for example ``jpegxr`` or ``swf``)."""

    code = "UNSUPPORTED_FORMAT"


class MacroError(ExportJobError, ValueError):
    """A macro problem; ``macro`` names the macro."""

    code = "MACRO_ERROR"

    def __init__(self, message: str, *, macro: str | None = None, line: int | None = None) -> None:
        self.macro = macro
        self.line = line
        super().__init__(message)


class UnknownMacroError(MacroError, LookupError):
    """An invocation of a macro that the library does not define."""

    code = "UNKNOWN_MACRO"


class MacroDefinitionError(MacroError):
    """A macro definition is invalid: file syntax, bad name, or a call to a macro not yet defined."""

    code = "MACRO_DEFINITION"


class HandleValue(Protocol):
    """What an ``AssetHandle`` is to an error: something with a ``value`` (its text)."""

    @property
    def value(self) -> str:
        """The handle's text."""
        ...


def _handle_text(handle: str | HandleValue | None) -> str | None:
    return handle if handle is None or isinstance(handle, str) else handle.value


class AssetError(ExportJobError):
    """One asset of a job failed; ``handle`` names it. The engine turns these into job-log entries.

    *handle* may be the ``AssetHandle`` a store was given or its text; ``.handle`` is the text.
    """

    code = "ASSET_ERROR"

    def __init__(self, message: str, *, handle: str | HandleValue | None = None) -> None:
        self.handle = _handle_text(handle)
        super().__init__(message)


class AssetNotFoundError(AssetError, LookupError):
    """The store has no asset with that handle."""

    code = "ASSET_NOT_FOUND"


class NotAuthorizedError(AssetError, PermissionError):
    """The asset belongs to another company than the one that submitted the job."""

    code = "NOT_AUTHORIZED"


class UnsupportedAssetTypeError(AssetError):
    """ExportJob refuses set assets (image sets, spin sets, eCatalogs, ...)."""

    code = "UNSUPPORTED_ASSET_TYPE"

    def __init__(
        self, message: str, *, handle: str | HandleValue | None = None, asset_type: str = ""
    ) -> None:
        self.asset_type = asset_type
        super().__init__(message, handle=handle)


class ConversionError(AssetError):
    """The converter could not produce an output for the asset (corrupt file, not an image, ...)."""

    code = "CONVERSION_FAILED"


class ImageTooLargeError(ConversionError):
    """The source or the requested output is over a configured pixel limit."""

    code = "IMAGE_TOO_LARGE"


class MemoryBudgetError(ConversionError):
    """One conversion would need more memory than the converter's whole memory budget."""

    code = "MEMORY_BUDGET_EXCEEDED"


class StoreReadError(AssetError, OSError):
    """The store could not open or read an original."""

    code = "STORE_READ_FAILED"


class StoreWriteError(AssetError, OSError):
    """The store could not write an export; nothing partial is left behind."""

    code = "STORE_WRITE_FAILED"


class OutputExistsError(StoreWriteError, FileExistsError):
    """The export name is taken by a file this job did not write; it was left untouched.

    Raised by a store's ``write_export`` under the ``error`` and ``skip`` conflict policies. ``name``
    is the export name, ``location`` where the existing file is.
    """

    code = "OUTPUT_EXISTS"

    def __init__(
        self, message: str, *, handle: str = "", name: str = "", location: str = ""
    ) -> None:
        self.name = name
        self.location = location
        super().__init__(message, handle=handle)


class JournalError(ExportJobError, ValueError):
    """A job journal cannot be used: it belongs to another job, or it is not a journal."""

    code = "JOURNAL_INVALID"

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        super().__init__(message)


class UnsafeNameError(ExportJobError, ValueError):
    """An output file name that could escape the export folder or is not a plain file name."""

    code = "UNSAFE_NAME"

    def __init__(self, message: str, *, name: str = "") -> None:
        self.name = name
        super().__init__(message)


class NotifierError(ExportJobError):
    """A notifier could not deliver a notification."""

    code = "NOTIFIER_FAILED"


class InvalidRecipientError(NotifierError):
    """The recipient is not exactly one email address: a list, a display name, a line break."""

    code = INVALID_RECIPIENT

    def __init__(self, message: str, *, recipient: str = "") -> None:
        self.recipient = recipient
        super().__init__(message)
