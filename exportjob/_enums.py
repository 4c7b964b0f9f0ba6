"""The closed vocabularies of the job model: export format, email setting and asset type.

Each is an ``IpsEnum``, whose values are the IPS wire spellings and whose ``parse`` reads them
case-insensitively (the job-log enumerations in ``_records`` are ``IpsEnum``s too).
"""

from __future__ import annotations

import enum

from typing_extensions import Self

from .exceptions import InvalidValueError

__all__ = ["AssetType", "EmailSetting", "ExportFormat", "IpsEnum"]


class IpsEnum(enum.Enum):
    """An enum whose values are IPS wire spellings, parsed case-insensitively."""

    @classmethod
    def parse(cls, value: str | Self, *, field: str | None = None) -> Self:
        """Return the member for *value*, matching its IPS spelling case-insensitively.

        Raises:
            InvalidValueError: *value* spells no member; ``field`` is *field*, else the class name.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            folded = value.strip().casefold()
            for member in cls:
                if member.value.casefold() == folded or folded in _aliases(member):
                    return member
        allowed = ", ".join(m.value for m in cls)
        raise InvalidValueError(field or cls.__name__, value, f"{value!r} is not one of {allowed}")


def _aliases(member: enum.Enum) -> tuple[str, ...]:
    return _ALIASES.get(member, ())


class ExportFormat(IpsEnum):
    """ExportJob ``fmt``: export the originals as they are, or convert them."""

    ORIG = "orig"
    CONVERT = "convert"


class EmailSetting(IpsEnum):
    """ExportJob ``emailSetting``: when the job's user is notified (see docs/email.md)."""

    ALL = "All"
    ERROR = "Error"
    ERROR_AND_WARNING = "ErrorAndWarning"
    JOB_COMPLETION = "JobCompletion"
    NONE = "None"


class AssetType(IpsEnum):
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
