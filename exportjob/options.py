"""Typed values of the Image Serving commands the converter honours, and the settings that default them.

The language layer (``_commands``) turns validated command strings into these; the converter reads only
these, never raw strings. Every default that Image Serving keeps in a catalog attribute is a field of
``ConversionSettings``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from ._profiles import ProfileLibrary, RenderIntent
from ._values import instance_of
from .exceptions import InvalidValueError

__all__ = [
    "Color",
    "ColorizeOp",
    "Compression",
    "ConversionSettings",
    "Crop",
    "Fit",
    "FitMode",
    "Flip",
    "IccConversion",
    "MetadataKeep",
    "NoiseOp",
    "OutputFormat",
    "PixelType",
    "ProfileLibrary",
    "Quality",
    "Quantize",
    "RenderIntent",
    "RenderOptions",
    "ResMode",
    "UnsharpMask",
]


class PixelType(enum.Enum):
    """``fmt`` pixel type: the output colour space."""

    RGB = "rgb"
    GRAY = "gray"
    CMYK = "cmyk"


class Compression(enum.Enum):
    """``fmt`` compression option."""

    NONE = "none"
    LZW = "lzw"
    ZIP = "zip"
    JPEG = "jpeg"
    LOSSY = "lossy"
    LOSSLESS = "lossless"


class ResMode(enum.Enum):
    """``resMode``: the resampling filter for every scaling step."""

    BILIN = "bilin"
    BICUB = "bicub"
    SHARP2 = "sharp2"
    BISHARP = "bisharp"
    TRILIN = "trilin"


class FitMode(enum.Enum):
    """``fit`` mode."""

    FIT = "fit"
    CONSTRAIN = "constrain"
    CROP = "crop"
    WRAP = "wrap"
    STRETCH = "stretch"
    HFIT = "hfit"
    VFIT = "vfit"


class Flip(enum.Enum):
    """``flip``: mirror left-right, up-down, or both."""

    LR = "lr"
    UD = "ud"
    LRUD = "lrud"


@attrs.frozen
class OutputFormat:
    """A resolved ``fmt``: canonical format keyword, pixel type and compression.

    ``name`` is canonical (``jpg`` is stored as ``jpeg``). ``compression`` is ``None`` where the format
    takes none. Facts about the format (extension, alpha, Pillow writer) are in ``exportjob._formats``.
    """

    name: str
    pixel_type: PixelType = PixelType.RGB
    compression: Compression | None = None

    def render(self) -> str:
        """Return the ``fmt=`` value that produces this format."""
        parts = [self.name, self.pixel_type.value]
        if self.compression is not None:
            parts.append(self.compression.value)
        return ",".join(parts)


@attrs.frozen
class Color:
    """An opaque-or-not colour in the space it was written in; components are 0-255.

    ``space`` is ``gray`` (one component), ``rgb`` (three) or ``cmyk`` (four); ``alpha`` is 0-255
    (255 = opaque) and is ignored where Image Serving ignores it (``bgc``).
    """

    space: Literal["gray", "rgb", "cmyk"]
    components: tuple[int, ...]
    alpha: int = 255

    def to_rgb(self) -> tuple[int, int, int]:
        """Convert naively to 8-bit RGB, as Image Serving does for a colour in another space."""
        c = self.components
        if self.space == "gray":
            return (c[0], c[0], c[0])
        if self.space == "rgb":
            return (c[0], c[1], c[2])
        cy, m, y, k = (v / 255 for v in c)
        return (
            round(255 * (1 - cy) * (1 - k)),
            round(255 * (1 - m) * (1 - k)),
            round(255 * (1 - y) * (1 - k)),
        )

    def to_gray(self) -> int:
        """Convert to 8-bit gray with ITU-R 601 luma, as Pillow's ``convert("L")`` does."""
        if self.space == "gray":
            return self.components[0]
        r, g, b = self.to_rgb()
        return (r * 299 + g * 587 + b * 114 + 500) // 1000

    def to_cmyk(self) -> tuple[int, int, int, int]:
        """Convert naively to 8-bit CMYK (Pillow's RGB->CMYK: K is 0)."""
        if self.space == "cmyk":
            c = self.components
            return (c[0], c[1], c[2], c[3])
        r, g, b = self.to_rgb()
        return (255 - r, 255 - g, 255 - b, 0)


WHITE = Color("rgb", (255, 255, 255))


@attrs.frozen
class Quality:
    """``qlt=quality[,chroma]``: JPEG quality 1-100; ``chroma`` True disables chroma downsampling."""

    quality: int = 80
    chroma: bool = False


@attrs.frozen
class Quantize:
    """``quantize=type[,dither[,numColors[,colorList]]]`` for palette outputs (gif, png8)."""

    type: Literal["adaptive", "web"] = "adaptive"
    dither: bool = True
    colors: int = 256
    forced: tuple[tuple[int, int, int], ...] = ()


@attrs.frozen
class Fit:
    """``fit=mode[,upscale]``."""

    mode: FitMode = FitMode.FIT
    upscale: bool = False


@attrs.frozen
class Crop:
    """``crop=x,y,w,h`` in source pixels, or ``cropN`` (``normalized``) as fractions of the source."""

    x: float
    y: float
    w: float
    h: float
    normalized: bool = False


@attrs.frozen
class UnsharpMask:
    """``op_usm``/``op_usmR``: amount 0-5, radius 0-250, threshold 0-255, monochrome.

    ``scaled`` is True for ``op_usm`` (the radius refers to the full-resolution image and is scaled
    down with it) and False for ``op_usmR`` (the radius is used as is).
    """

    amount: float
    radius: float = 0.0
    threshold: int = 0
    monochrome: bool = False
    scaled: bool = True


@attrs.frozen
class ColorizeOp:
    """``op_colorize=color[,off|norm[,contrast]]``."""

    color: tuple[int, int, int]
    normalize: bool = True
    contrast: float = 0.0


@attrs.frozen
class NoiseOp:
    """``op_noise=val[,uniform|gaussian[,monochrome]]``."""

    amount: int
    distribution: Literal["uniform", "gaussian"] = "uniform"
    monochrome: bool = False


class MetadataKeep(enum.Enum):
    """A group of the original's metadata a host may keep in conversions (``keep_metadata``)."""

    RIGHTS = "rights"
    """EXIF Artist and Copyright; IPTC By-line, Credit, Source, Copyright Notice; XMP ``dc:creator``,
    ``dc:rights``, ``photoshop:Credit``/``Source``, ``xmpRights:*``."""
    GPS = "gps"
    """The EXIF GPS directory (dropped unless kept, as all other personal data always is)."""


@attrs.frozen(kw_only=True)
class IccConversion:
    """A resolved ``icc=``: the output profile (from the host's ``ProfileLibrary``) and how to convert.

    ``pixel_type`` is the profile's colour space: it replaces ``fmt``'s pixel type. ``dither`` is
    accepted and has no effect (LittleCMS's 8-bit transforms do not dither).
    """

    name: str
    profile: bytes = attrs.field(repr=False)
    pixel_type: PixelType
    intent: RenderIntent = RenderIntent.PERCEPTUAL
    black_point_compensation: bool = True
    dither: bool = False


@attrs.frozen(kw_only=True)
class RenderOptions:
    """Every command the converter honours, typed and with defaults applied.

    A field that is ``None`` (or its no-effect default) means the command was not given. The converter
    executes them in the order documented in ``docs/converter.md`` (Image Serving's order of operations).
    """

    format: OutputFormat = OutputFormat("jpeg")
    # view size
    wid: int | None = None
    hei: int | None = None
    scl: float | None = None
    fit: Fit | None = None
    align: tuple[float, float] = (0.0, 0.0)
    # layer-0 geometry
    crop: Crop | None = None
    size: tuple[int, int] | None = None
    rotate: float = 0.0
    extend: tuple[int, int, int, int] | None = None
    extend_n: tuple[float, float, float, float] | None = None
    flip: Flip | None = None
    # colour and output
    bgc: Color = WHITE
    qlt: Quality = Quality()
    quantize: Quantize = Quantize()
    res_mode: ResMode = ResMode.SHARP2
    icc_embed: bool = False
    icc: IccConversion | None = None
    # The settings' default profiles (IccProfileRgb/Gray/Cmyk): the space of untagged pixels (s8).
    source_profiles: tuple[tuple[PixelType, bytes], ...] = attrs.field(default=(), repr=False)
    print_res: float | None = None
    jpeg_size: int = 0
    xmp_embed: bool = False
    keep_metadata: frozenset[MetadataKeep] = frozenset()
    # stage-C filters (composite)
    op_brightness: int = 0
    op_contrast: int = 0
    op_colorbalance: tuple[int, int, int] = (0, 0, 0)
    op_saturation: int = 0
    op_hue: int = 0
    op_colorize: ColorizeOp | None = None
    op_invert: bool = False
    op_blur: float = 0.0
    op_grow: int = 0
    op_noise: NoiseOp | None = None
    op_grow_mask: int = 0
    op_grow_mask_r: int = 0
    # stage-V filters (final view image)
    op_sharpen: bool = False
    op_usm: UnsharpMask | None = None
    # limits carried from the settings
    default_pix: tuple[int, int] | None = None
    max_pix: tuple[int, int] | None = None


def _pair_or_none(value: tuple[int, int] | None) -> tuple[int, int] | None:
    """Normalise a ``(width, height)`` pair of whole numbers; leave anything else to ``_pixels``."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and len(value) == 2:
        whole = [v for v in value if _is_whole(v)]
        if len(whole) == 2:
            return (int(whole[0]), int(whole[1]))
    return value


def _is_whole(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _pixels(_inst: object, attr: attrs.Attribute[Any], value: tuple[int, int] | None) -> None:
    # The converter turned any pair of whole numbers into ints, so anything else is refused here.
    if value is not None and (
        not isinstance(value, tuple)
        or len(value) != 2
        or not all(type(v) is int and v >= 0 for v in value)
    ):
        raise InvalidValueError(
            attr.name, value, "must be None or a (width, height) pair of ints >= 0 (0 = unlimited)"
        )


def _unknown_commands(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    if value not in ("error", "warn"):
        raise InvalidValueError(attr.name, value, "must be 'error' or 'warn'")


def _default_profile(space: str) -> Any:
    def check(inst: ConversionSettings, attr: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if not isinstance(value, str) or value not in inst.profiles:
            raise InvalidValueError(attr.name, value, "must name a profile in profiles")
        if inst.profiles.space(value) != space:
            raise InvalidValueError(attr.name, value, f"must name a {space} profile")

    return check


def _metadata_groups(value: object) -> frozenset[MetadataKeep]:
    if isinstance(value, (str, MetadataKeep)):
        value = (value,)
    try:
        return frozenset(MetadataKeep(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        names = ", ".join(m.value for m in MetadataKeep)
        raise InvalidValueError("keep_metadata", value, f"must name groups of: {names}") from None


def _profile_library(value: object) -> object:
    """A plain mapping of names to profiles, as a ``ProfileLibrary`` (which checks each)."""
    if isinstance(value, Mapping) and not isinstance(value, ProfileLibrary):
        return ProfileLibrary(value)
    return value


@attrs.frozen(kw_only=True)
class ConversionSettings:
    """Library settings for what Image Serving keeps in catalog attributes (see docs/language.md).

    Args:
        default_pix: DefaultPix: the reply size bound when no ``wid``/``hei``/``scl`` is given.
            ``None`` (the default) converts at full size; ``(1280, 1280)`` behaves like IS.
        max_pix: MaxPix: a reply larger than this on either side fails before rendering.
            ``None`` (the default) sets no side limit; the converter's pixel-count limit still holds.
        bkg_color: BkgColor, the default ``bgc``; white.
        jpeg_quality: JpegQuality, the default ``qlt``; ``80,0``.
        res_mode: ResMode, the default ``resMode``; ``sharp2`` (Lanczos).
        unknown_commands: ``"error"`` (the default) refuses an unknown command name; ``"warn"``
            drops it with a warning in the plan.
        profiles: the ICC profiles ``icc=`` may name (empty by default: then ``icc=`` fails): a
            ``ProfileLibrary``, or a mapping of names to profile bytes that is made one.
        icc_profile_rgb, icc_profile_gray, icc_profile_cmyk: IccProfileRgb/Gray/Cmyk: the name
            of the library profile an output of that pixel type is converted to when the request
            has no ``icc=``, and the space an original of that pixel type with no embedded profile
            is read in (spec section 8). ``None`` (the default): sRGB, gray with the sRGB curve,
            naive CMYK.
        icc_render_intent: IccRenderIntent, the default intent of ``icc=``; perceptual.
        icc_black_point_compensation: IccBlackPointCompensation, the default of ``icc=``; on.
        icc_dither: IccDither, the default of ``icc=``; off (accepted, no effect).
        keep_metadata: the groups of the original's metadata (``MetadataKeep``, or their names)
            copied into conversions; empty (the default) copies none. GPS is kept only if named.

    Raises:
        InvalidValueError: naming the first bad field.

    >>> ConversionSettings(default_pix=(1280, 1280)).default_pix
    (1280, 1280)
    """

    default_pix: tuple[int, int] | None = attrs.field(
        default=None, converter=_pair_or_none, validator=_pixels
    )
    max_pix: tuple[int, int] | None = attrs.field(
        default=None, converter=_pair_or_none, validator=_pixels
    )
    bkg_color: Color = attrs.field(default=WHITE, validator=instance_of(Color))
    jpeg_quality: Quality = attrs.field(
        default=Quality(80, chroma=False), validator=instance_of(Quality)
    )
    res_mode: ResMode = attrs.field(default=ResMode.SHARP2, validator=instance_of(ResMode))
    unknown_commands: Literal["error", "warn"] = attrs.field(
        default="error", validator=_unknown_commands
    )
    profiles: ProfileLibrary = attrs.field(
        factory=ProfileLibrary, converter=_profile_library, validator=instance_of(ProfileLibrary)
    )
    icc_profile_rgb: str | None = attrs.field(default=None, validator=_default_profile("rgb"))
    icc_profile_gray: str | None = attrs.field(default=None, validator=_default_profile("gray"))
    icc_profile_cmyk: str | None = attrs.field(default=None, validator=_default_profile("cmyk"))
    icc_render_intent: RenderIntent = attrs.field(
        default=RenderIntent.PERCEPTUAL, validator=instance_of(RenderIntent)
    )
    icc_black_point_compensation: bool = attrs.field(default=True, validator=instance_of(bool))
    icc_dither: bool = attrs.field(default=False, validator=instance_of(bool))
    keep_metadata: frozenset[MetadataKeep] = attrs.field(
        default=frozenset(), converter=_metadata_groups
    )

    def default_profile(self, pixel_type: PixelType) -> str | None:
        """Return the name of the default output profile for *pixel_type*, if one is set."""
        return {
            PixelType.RGB: self.icc_profile_rgb,
            PixelType.GRAY: self.icc_profile_gray,
            PixelType.CMYK: self.icc_profile_cmyk,
        }[pixel_type]
