"""The ExportJob record and its IPS wire form.

The constructor and ``from_ips`` check the fields with the same code (``_check``), so both report
every bad field at once, under the IPS wire names, in one ``InvalidJobError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

import attrs
from typing_extensions import NotRequired, TypedDict

from ._assets import AssetHandle
from ._enums import EmailSetting, ExportFormat, IpsEnum
from ._quoting import quoted
from ._values import Problems, read_wire, text, unknown_fields
from .exceptions import InvalidValueError

__all__ = ["EXPORT_JOB_FIELDS", "ExportJob", "RawExportJob"]

_E = TypeVar("_E", bound=IpsEnum)
_SUBJECT = "export job"
#: What ``repr`` shows at most: this many handles, and each text field cut to this many characters.
_SHOWN_HANDLES = 5
_SHOWN_CHARS = 40

#: Each attribute of a job -> its IPS wire name, the name problems use; in the order they are reported.
EXPORT_JOB_FIELDS = MappingProxyType(
    {
        "asset_handles": "assetHandleArray",
        "fmt": "fmt",
        "email_setting": "emailSetting",
        "is_modifier": "is_modifier",
        "macro": "macro",
        "client_id": "clientId",
    }
)


def _handle_list(field: str, value: object) -> tuple[object, ...]:
    if value is None:
        raise InvalidValueError(field, value, "is required")
    if isinstance(value, (str, bytes)):
        raise InvalidValueError(field, value, "must be a list of handles, not a single string")
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise InvalidValueError(
            field, value, f"must be a list of handles, not {type(value).__name__}"
        )
    items = tuple(value)
    if not items:
        raise InvalidValueError(field, value, "must not be empty")
    return items


def _handle(_field: str, value: Any) -> AssetHandle:
    return AssetHandle.of(value)


def _required(kind: type[_E]) -> Callable[[str, Any], _E]:
    """Return a parser of a required *kind* field: ``None`` is missing."""

    def parse(field: str, value: Any) -> _E:
        if value is None:
            raise InvalidValueError(field, value, "is required")
        return kind.parse(value, field=field)

    return parse


def _optional_text(field: str, value: object) -> str | None:
    # An empty string means "not given", as in IPS payloads.
    return None if value is None or value == "" else text(field, value)


def _check(values: Mapping[str, object], problems: Problems) -> dict[str, Any]:
    """Normalise a job's attribute values; record each problem under its IPS wire name."""
    out: dict[str, Any] = {}
    field = EXPORT_JOB_FIELDS["asset_handles"]
    items = problems.check(field, _handle_list, values["asset_handles"])
    if items is not None:
        out["asset_handles"] = tuple(
            problems.check(f"{field}[{i}]", _handle, h) for i, h in enumerate(items)
        )
    out["fmt"] = problems.check(EXPORT_JOB_FIELDS["fmt"], _required(ExportFormat), values["fmt"])
    out["email_setting"] = problems.check(
        EXPORT_JOB_FIELDS["email_setting"], _required(EmailSetting), values["email_setting"]
    )
    for attr in ("is_modifier", "macro", "client_id"):
        out[attr] = problems.check(EXPORT_JOB_FIELDS[attr], _optional_text, values[attr])
    problems.raise_any(_SUBJECT)
    return out


@attrs.frozen(kw_only=True, init=False)
class ExportJob:
    """The ExportJob record: which assets, and how to export them.

    ``asset_handles`` keeps what was submitted; a handle listed twice is exported once (the first time)
    and the job log records a ``DuplicateSkipped`` warning for the repeat (see ``repeats``).
    ``email_setting`` defaults to ``None`` (no notifications) when built in Python; IPS payloads must
    name it, as the schema requires. ``client_id`` is reserved: kept and echoed, never acted on.

    >>> job = ExportJob(asset_handles=["a1", "a2"], fmt="convert", is_modifier="&fmt=png&wid=400")
    >>> job.fmt, job.email_setting
    (<ExportFormat.CONVERT: 'convert'>, <EmailSetting.NONE: 'None'>)

    Raises:
        InvalidJobError: listing every bad field under its IPS wire name, as ``from_ips`` does.
    """

    asset_handles: tuple[AssetHandle, ...]
    fmt: ExportFormat
    is_modifier: str | None = None
    macro: str | None = None
    email_setting: EmailSetting = EmailSetting.NONE
    client_id: str | None = None
    # Computed once, in __init__: a job of 200,000 handles is asked for them often. Without
    # repeats it is ``asset_handles`` itself (no second tuple).
    _unique: tuple[AssetHandle, ...] = attrs.field(init=False, repr=False, eq=False)

    # A hand-written __init__, because attrs validators stop at the first bad field.
    def __init__(
        self,
        *,
        asset_handles: Iterable[str | AssetHandle],
        fmt: str | ExportFormat,
        is_modifier: str | None = None,
        macro: str | None = None,
        email_setting: str | EmailSetting = EmailSetting.NONE,
        client_id: str | None = None,
    ) -> None:
        given = {
            "asset_handles": asset_handles,
            "fmt": fmt,
            "is_modifier": is_modifier,
            "macro": macro,
            "email_setting": email_setting,
            "client_id": client_id,
        }
        self.__attrs_init__(**_check(given, Problems()))
        handles = self.asset_handles
        unique = tuple(dict.fromkeys(handles))
        object.__setattr__(self, "_unique", handles if len(unique) == len(handles) else unique)

    @property
    def repeats(self) -> tuple[bool, ...]:
        """For each submitted handle, whether it repeats an earlier one (and so is skipped).

        The one place that decides what a duplicate is; ``unique_handles``, ``duplicate_handles``,
        the job log and the notebook display all follow it.
        """
        if self._unique is self.asset_handles:
            return (False,) * len(self.asset_handles)
        seen: set[AssetHandle] = set()
        flags: list[bool] = []
        for h in self.asset_handles:
            flags.append(h in seen)
            seen.add(h)
        return tuple(flags)

    @property
    def unique_handles(self) -> tuple[AssetHandle, ...]:
        """The handles to export: each once, in first-seen order."""
        return self._unique

    @property
    def duplicate_handles(self) -> tuple[AssetHandle, ...]:
        """The repeats that are skipped, in the order they appear."""
        if self._unique is self.asset_handles:
            return ()
        return tuple(h for h, rep in zip(self.asset_handles, self.repeats, strict=True) if rep)

    @classmethod
    def from_ips(cls, raw: Mapping[str, Any]) -> ExportJob:
        """Build a job from a dict keyed by the IPS names, reporting every invalid field at once.

        Keys are the IPS spellings (``assetHandleArray``, ``fmt``, ``is_modifier``, ``macro``,
        ``emailSetting``, ``clientId``); enumerated values match case-insensitively.
        ``assetHandleArray`` is a list of strings or the SOAP shape ``{"items": [...]}``.
        ``emailSetting`` is required here, as the IPS schema says.

        Raises:
            InvalidJobError: with one ``FieldProblem`` per invalid, unknown or missing field.
        """
        given, problems = read_wire(raw, EXPORT_JOB_FIELDS, root="exportJob", subject=_SUBJECT)
        handles = given["asset_handles"]
        if isinstance(handles, Mapping) and "items" in handles:
            # The SOAP shape holds its list and nothing else: another key is refused, as at the top,
            # but for the element's XML attributes as SOAP-to-dict tools spell them ("@xsi:type").
            field = EXPORT_JOB_FIELDS["asset_handles"]
            keys = {
                k: v for k, v in handles.items() if not (isinstance(k, str) and k.startswith("@"))
            }
            problems.found += unknown_fields(keys, ("items",), path=f"{field}.")
            given["asset_handles"] = handles["items"]
        return cls(**_check(given, problems))

    def __repr__(self) -> str:
        # Bounded, as JobPlan's and JobLog's are: a log line or a traceback with locals may show
        # a job of 200,000 handles. The fields that are set, then the count and the first handles.
        fields = [f"fmt={self.fmt.value}"]
        for attr in ("is_modifier", "macro", "client_id"):
            value = getattr(self, attr)
            if value is not None:
                fields.append(f"{EXPORT_JOB_FIELDS[attr]}={quoted(value, _SHOWN_CHARS)}")
        fields.append(f"emailSetting={self.email_setting.value}")
        handles = self.asset_handles
        shown = handles if len(handles) <= _SHOWN_HANDLES else handles[: _SHOWN_HANDLES - 2]
        listed = ", ".join(quoted(h.value, _SHOWN_CHARS) for h in shown)
        more = f", … and {len(handles) - len(shown):,} more" if len(shown) < len(handles) else ""
        duplicates = len(handles) - len(self._unique)
        return (
            f"<ExportJob {' '.join(fields)}, {len(handles):,} handle(s), "
            f"{duplicates:,} duplicate(s): {listed}{more}>"
        )

    def _repr_html_(self) -> str:
        from ._display import job_html  # noqa: PLC0415 - display code only when displayed

        return job_html(self)

    def to_ips(self) -> RawExportJob:
        """Return the job as a JSON-compatible dict keyed by the IPS names (``from_ips`` reads it back)."""
        out: RawExportJob = {
            "assetHandleArray": [h.value for h in self.asset_handles],
            "fmt": self.fmt.value,
            "emailSetting": self.email_setting.value,
        }
        if self.is_modifier is not None:
            out["is_modifier"] = self.is_modifier
        if self.macro is not None:
            out["macro"] = self.macro
        if self.client_id is not None:
            out["clientId"] = self.client_id
        return out


class RawExportJob(TypedDict):
    """The IPS wire form of an ExportJob."""

    assetHandleArray: list[str]
    fmt: str
    emailSetting: str
    is_modifier: NotRequired[str]
    macro: NotRequired[str]
    clientId: NotRequired[str]
