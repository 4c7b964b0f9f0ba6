"""The job model: handles, asset types, assets, the ExportJob record and the submitJob context.

Wire names (the IPS spellings) live here too, in the ``from_ips``/``to_ips`` constructors, so that the rest
of the library only sees snake_case attributes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs
from typing_extensions import NotRequired, Self, TypedDict

from .exceptions import FieldProblem, InvalidJobError

__all__ = [
    "Asset",
    "AssetHandle",
    "AssetType",
    "EmailSetting",
    "ExportFormat",
    "ExportJob",
    "JobContext",
    "RawExportJob",
    "RawJobContext",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")


class _IpsEnum(enum.Enum):
    """An enum whose values are IPS wire spellings, parsed case-insensitively."""

    @classmethod
    def parse(cls, value: str | Self) -> Self:
        """Return the member for *value*, matching its IPS spelling case-insensitively."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            folded = value.strip().casefold()
            for member in cls:
                if member.value.casefold() == folded or folded in _aliases(member):
                    return member
        allowed = ", ".join(m.value for m in cls)
        msg = f"{value!r} is not one of {allowed}"
        raise ValueError(msg)


def _aliases(member: enum.Enum) -> tuple[str, ...]:
    return _ALIASES.get(member, ())


class ExportFormat(_IpsEnum):
    """ExportJob ``fmt``: export the originals as they are, or convert them."""

    ORIG = "orig"
    CONVERT = "convert"


class EmailSetting(_IpsEnum):
    """ExportJob ``emailSetting``: when the job's user is notified (see docs/email.md)."""

    ALL = "All"
    ERROR = "Error"
    ERROR_AND_WARNING = "ErrorAndWarning"
    JOB_COMPLETION = "JobCompletion"
    NONE = "None"


class AssetType(_IpsEnum):
    """Every IPS asset type, plus the set kinds ExportJob names that have no IPS constant.

    ``is_set`` is the one place that decides which types ExportJob refuses.
    """

    ACO = "Aco"
    ADJUSTED_VIEW = "AdjustedView"
    ANIMATED_GIF = "AnimatedGif"
    ASSET = "Asset"
    ASSET_SET = "AssetSet"
    AUDIO = "Audio"
    CABINET = "Cabinet"
    CATALOG = "Catalog"
    COLOR_SWATCH = "ColorSwatch"
    CUE_POINT = "CuePoint"
    EXCEL = "Excel"
    FLASH = "Flash"
    FONT = "Font"
    ICC_PROFILE = "IccProfile"
    ILLUSTRATOR = "Illustrator"
    IMAGE = "Image"
    IMAGE_MAP = "ImageMap"
    IMAGE_SET = "ImageSet"
    IN_DESIGN = "InDesign"
    LAYER_VIEW = "LayerView"
    MASK = "Mask"
    MASTER_VIDEO = "MasterVideo"
    MEDIA_SET = "MediaSet"
    MULTI_BITRATE_SET = "MultiBitrateSet"
    OFFER_SET = "OfferSet"
    PDF = "Pdf"
    PDF_SETTINGS = "PDFSettings"
    POST_SCRIPT = "PostScript"
    POWER_POINT = "PowerPoint"
    PREMIER_EXPRESS_REMIX = "PremierExpressRemix"
    PSD_TEMPLATE = "PsdTemplate"
    RENDER_SCENE = "RenderScene"
    RENDER_SET = "RenderSet"
    RTF = "Rtf"
    SPIN_SET = "SpinSet"
    SVG = "Svg"
    TEMPLATE = "Template"
    VIDEO = "Video"
    VIDEO_CAPTION = "VideoCaption"
    VIDEO_SET = "VideoSet"
    VIEWER_PRESET = "ViewerPreset"
    VIEWER_SWF = "ViewerSwf"
    VIGNETTE = "Vignette"
    WATERMARK = "Watermark"
    WINDOWS_COVERING = "WindowsCovering"
    WORD = "Word"
    XML = "Xml"
    XSL = "Xsl"
    ZIP = "Zip"
    ZOOM_TARGET = "ZoomTarget"

    @property
    def is_set(self) -> bool:
        """Whether this is a set asset, which ExportJob refuses."""
        return self in _SET_LABELS

    @property
    def label(self) -> str:
        """A human label: the set kind as the ExportJob page names it, else the IPS spelling."""
        return _SET_LABELS.get(self, self.value)


_SET_LABELS: dict[AssetType, str] = {
    AssetType.IMAGE_SET: "image set",
    AssetType.RENDER_SET: "render set",
    AssetType.SPIN_SET: "spin set",
    AssetType.MEDIA_SET: "media set",
    AssetType.ASSET_SET: "media set",
    AssetType.MULTI_BITRATE_SET: "multi-bitrate set",
    AssetType.VIDEO_SET: "video set",
    AssetType.CATALOG: "eCatalog",
    AssetType.OFFER_SET: "offer set",
}

_ALIASES: dict[enum.Enum, tuple[str, ...]] = {
    AssetType.CATALOG: ("ecatalog",),
    AssetType.SPIN_SET: ("spinset2d", "spin_set_2d", "spin_set"),
    AssetType.MULTI_BITRATE_SET: ("mbrset", "mbr_set", "adaptivevideoset"),
    AssetType.MEDIA_SET: ("mixed_media_set", "mixedmediaset"),
    AssetType.IMAGE_SET: ("image_set",),
    AssetType.RENDER_SET: ("render_set",),
    AssetType.VIDEO_SET: ("video_set",),
    AssetType.OFFER_SET: ("offer_set",),
}


def _text_problem(value: object, *, allow_empty: bool = False) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not allow_empty and not value.strip():
        return "must not be empty or only whitespace"
    if _CONTROL.search(value):
        return "must not contain control characters"
    return None


def _check_text(field: str, value: object) -> None:
    problem = _text_problem(value)
    if problem is not None:
        raise InvalidJobError([FieldProblem(field, value, problem)])


@attrs.frozen(order=True)
class AssetHandle:
    """An opaque IPS asset handle: a non-empty string without control characters.

    >>> AssetHandle("a|1801|44|1801")
    AssetHandle('a|1801|44|1801')
    """

    value: str

    def __attrs_post_init__(self) -> None:
        _check_text("assetHandle", self.value)

    @classmethod
    def of(cls, value: str | AssetHandle) -> AssetHandle:
        """Return *value* as a handle, building one from a string."""
        return value if isinstance(value, AssetHandle) else cls(value)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"AssetHandle({self.value!r})"


def _to_handle(value: str | AssetHandle) -> AssetHandle:
    return AssetHandle.of(value)


def _to_type(value: str | AssetType) -> AssetType:
    return AssetType.parse(value)


def _to_fmt(value: str | ExportFormat) -> ExportFormat:
    return _parse_field("fmt", ExportFormat, value)


def _to_email(value: str | EmailSetting) -> EmailSetting:
    return _parse_field("emailSetting", EmailSetting, value)


_E = TypeVar("_E", bound=_IpsEnum)


def _parse_field(field: str, kind: type[_E], value: str | _E) -> _E:
    """Parse an enumerated job field, reporting a bad value as an ``InvalidJobError`` on *field*."""
    try:
        return kind.parse(value)
    except ValueError as exc:
        raise InvalidJobError([FieldProblem(field, value, str(exc))]) from None


def _optional_size(_inst: object, _attr: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        msg = f"size must be a non-negative int or None, got {value!r}"
        raise ValueError(msg)


def _text_validator(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    problem = _text_problem(value)
    if problem is not None:
        msg = f"{attr.name} {problem}: {value!r}"
        raise ValueError(msg)


def _name_validator(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    # Names are user data: any non-blank string; output names are made safe when planned.
    if not isinstance(value, str) or not value.strip():
        msg = f"{attr.name} must be a non-blank string: {value!r}"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class Asset:
    """What a store knows of one asset: handle, type, names, owning company and size.

    >>> a = Asset(handle="h1", type="image", name="Leaves", file_name="Leaves.jpg", company="acme")
    >>> a.type, a.type.is_set
    (<AssetType.IMAGE: 'Image'>, False)
    """

    handle: AssetHandle = attrs.field(converter=_to_handle)
    type: AssetType = attrs.field(converter=_to_type)
    name: str = attrs.field(validator=_name_validator)
    file_name: str = attrs.field(validator=_name_validator)
    company: str = attrs.field(validator=_text_validator)
    size: int | None = attrs.field(default=None, validator=_optional_size)
    sub_type: str | None = None


def _handles(value: Iterable[str | AssetHandle] | str) -> tuple[AssetHandle, ...]:
    if isinstance(value, str):
        msg = "must be a sequence of handles, not a single string"
        raise InvalidJobError([FieldProblem("assetHandleArray", value, msg)])
    try:
        items = tuple(value)
    except TypeError:
        msg = f"must be a sequence of handles, not {type(value).__name__}"
        raise InvalidJobError([FieldProblem("assetHandleArray", value, msg)]) from None
    return tuple(AssetHandle.of(v) for v in items)


def _optional_text(value: str | None) -> str | None:
    return None if value is None or value == "" else value


@attrs.frozen(kw_only=True)
class ExportJob:
    """The ExportJob record: which assets, and how to export them.

    ``asset_handles`` keeps what was submitted; a handle listed twice is exported once (the first time)
    and the job log records a ``DuplicateSkipped`` warning for the repeat (see ``unique_handles``).
    ``email_setting`` defaults to ``None`` (no notifications) when built in Python; IPS payloads must
    name it, as the schema requires. ``client_id`` is reserved: kept and echoed, never acted on.

    >>> job = ExportJob(asset_handles=["a1", "a2"], fmt="convert", is_modifier="&fmt=png&wid=400")
    >>> job.fmt, job.email_setting
    (<ExportFormat.CONVERT: 'convert'>, <EmailSetting.NONE: 'None'>)
    """

    asset_handles: tuple[AssetHandle, ...] = attrs.field(converter=_handles)
    fmt: ExportFormat = attrs.field(converter=_to_fmt)
    is_modifier: str | None = attrs.field(default=None, converter=_optional_text)
    macro: str | None = attrs.field(default=None, converter=_optional_text)
    email_setting: EmailSetting = attrs.field(default=EmailSetting.NONE, converter=_to_email)
    client_id: str | None = attrs.field(default=None, converter=_optional_text)

    def __attrs_post_init__(self) -> None:
        problems: list[FieldProblem] = []
        if not self.asset_handles:
            problems.append(
                FieldProblem("assetHandleArray", [], "must list at least one asset handle")
            )
        for name, value in (
            ("is_modifier", self.is_modifier),
            ("macro", self.macro),
            ("clientId", self.client_id),
        ):
            if value is not None:
                problem = _text_problem(value)
                if problem is not None:
                    problems.append(FieldProblem(name, value, problem))
        if problems:
            raise InvalidJobError(problems)

    @property
    def unique_handles(self) -> tuple[AssetHandle, ...]:
        """The handles to export: each once, in first-seen order."""
        return tuple(dict.fromkeys(self.asset_handles))

    @property
    def duplicate_handles(self) -> tuple[AssetHandle, ...]:
        """The repeats that are skipped, in the order they appear."""
        seen: set[AssetHandle] = set()
        dups: list[AssetHandle] = []
        for h in self.asset_handles:
            if h in seen:
                dups.append(h)
            seen.add(h)
        return tuple(dups)

    @classmethod
    def from_ips(cls, raw: Mapping[str, Any]) -> ExportJob:
        """Build a job from a dict keyed by the IPS names, reporting every invalid field at once.

        Keys are the IPS spellings (``assetHandleArray``, ``fmt``, ``is_modifier``, ``macro``,
        ``emailSetting``, ``clientId``); enumerated values match case-insensitively.
        ``assetHandleArray`` is a list of strings or the SOAP shape ``{"items": [...]}``.

        Raises:
            InvalidJobError: with one ``FieldProblem`` per invalid or missing field.
        """
        problems: list[FieldProblem] = []
        if not isinstance(raw, Mapping):
            raise InvalidJobError([FieldProblem("exportJob", raw, "must be a mapping")])
        unknown = sorted(set(raw) - set(_JOB_KEYS))
        problems.extend(
            FieldProblem(key, raw[key], f"unknown field; expected one of {', '.join(_JOB_KEYS)}")
            for key in unknown
        )
        kwargs: dict[str, Any] = {}

        handles = raw.get("assetHandleArray")
        if isinstance(handles, Mapping):
            handles = handles.get("items", [])
        if handles is None:
            problems.append(FieldProblem("assetHandleArray", None, "is required"))
        elif isinstance(handles, str) or not isinstance(handles, Sequence):
            problems.append(FieldProblem("assetHandleArray", handles, "must be a list of handles"))
        elif not handles:
            problems.append(FieldProblem("assetHandleArray", handles, "must not be empty"))
        else:
            for i, h in enumerate(handles):
                problem = _text_problem(h)
                if problem is not None:
                    problems.append(FieldProblem(f"assetHandleArray[{i}]", h, problem))
            kwargs["asset_handles"] = handles

        for key, attr, enum_cls, required in (
            ("fmt", "fmt", ExportFormat, True),
            ("emailSetting", "email_setting", EmailSetting, True),
        ):
            value = raw.get(key)
            if value is None:
                if required:
                    problems.append(FieldProblem(key, None, "is required"))
                continue
            try:
                kwargs[attr] = enum_cls.parse(value)
            except ValueError as exc:
                problems.append(FieldProblem(key, value, str(exc)))

        for key, attr in (
            ("is_modifier", "is_modifier"),
            ("macro", "macro"),
            ("clientId", "client_id"),
        ):
            value = raw.get(key)
            if value is None or value == "":
                continue
            problem = _text_problem(value)
            if problem is not None:
                problems.append(FieldProblem(key, value, problem))
            else:
                kwargs[attr] = value

        if problems:
            raise InvalidJobError(problems)
        return cls(**kwargs)

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


_JOB_KEYS = ("assetHandleArray", "fmt", "is_modifier", "macro", "emailSetting", "clientId")


class RawExportJob(TypedDict):
    """The IPS wire form of an ExportJob."""

    assetHandleArray: list[str]
    fmt: str
    emailSetting: str
    is_modifier: NotRequired[str]
    macro: NotRequired[str]
    clientId: NotRequired[str]


class RawJobContext(TypedDict):
    """The IPS wire form of the submitJob context."""

    companyHandle: str
    jobName: str
    userHandle: NotRequired[str]
    submitUser: NotRequired[str]
    locale: NotRequired[str]
    description: NotRequired[str]


def _locale_validator(_inst: object, _attr: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not _LOCALE.match(value):
        raise InvalidJobError(
            [FieldProblem("locale", value, "must be 'll' or 'll-CC', for example 'en-US'")]
        )


def _context_text(_inst: object, attr: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    problem = _text_problem(value)
    if problem is not None:
        raise InvalidJobError([FieldProblem(_CONTEXT_WIRE[attr.name], value, problem)])


_CONTEXT_WIRE = {
    "company": "companyHandle",
    "job_name": "jobName",
    "user": "userHandle",
    "submit_user": "submitUser",
    "locale": "locale",
    "description": "description",
}


@attrs.frozen(kw_only=True)
class JobContext:
    """The submitJob context around a job: who submits it, for which company, under what name.

    ``company`` is required: only that company's assets are exported. Notifications go to ``user``,
    or to ``submit_user`` (the submitter) when no user is given, as submitJob's ``userHandle`` rule says.

    >>> JobContext(company="acme", user="ann@example.com").recipient
    'ann@example.com'
    """

    company: str = attrs.field(validator=_context_text)
    job_name: str = attrs.field(default="export", validator=_context_text)
    user: str | None = attrs.field(default=None, validator=_context_text)
    submit_user: str | None = attrs.field(default=None, validator=_context_text)
    locale: str | None = attrs.field(default=None, validator=_locale_validator)
    description: str | None = attrs.field(default=None, validator=_context_text)

    @property
    def recipient(self) -> str | None:
        """Who is notified: the job's user, else the submitter, else nobody."""
        return self.user or self.submit_user

    @classmethod
    def from_ips(cls, raw: Mapping[str, Any]) -> JobContext:
        """Build a context from the submitJob names (``companyHandle``, ``jobName``, ...)."""
        problems: list[FieldProblem] = []
        wire_to_attr = {v: k for k, v in _CONTEXT_WIRE.items()}
        problems.extend(
            FieldProblem(key, raw[key], "unknown field")
            for key in sorted(set(raw) - set(wire_to_attr))
        )
        problems.extend(
            FieldProblem(required, raw.get(required), "is required")
            for required in ("companyHandle", "jobName")
            if raw.get(required) in (None, "")
        )
        kwargs = {wire_to_attr[k]: v for k, v in raw.items() if k in wire_to_attr and v is not None}
        if problems:
            raise InvalidJobError(problems)
        return cls(**kwargs)

    def to_ips(self) -> RawJobContext:
        """Return the context keyed by the submitJob names."""
        out: RawJobContext = {"companyHandle": self.company, "jobName": self.job_name}
        if self.user is not None:
            out["userHandle"] = self.user
        if self.submit_user is not None:
            out["submitUser"] = self.submit_user
        if self.locale is not None:
            out["locale"] = self.locale
        if self.description is not None:
            out["description"] = self.description
        return out
