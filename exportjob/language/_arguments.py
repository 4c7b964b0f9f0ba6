"""Value parsers of the commands the converter honours: decoded text in, typed option out.

One function per command (or family); the command table (``_command_table``) names them. Each
raises ``ModifierError`` (or ``UnsupportedFormatError``) without a location; the resolver adds it.
"""

from __future__ import annotations

import re
from typing import Literal

import attrs

from .._formats import FORMATS, FormatRefusal, format_info, pillow_can_write
from .._quoting import quoted
from ..exceptions import ModifierError, UnsupportedFormatError
from ..options import (
    ColorizeOp,
    Compression,
    ConversionSettings,
    Crop,
    Fit,
    FitMode,
    Flip,
    IccConversion,
    NoiseOp,
    OutputFormat,
    PixelType,
    Quality,
    Quantize,
    RenderIntent,
    RenderOptions,
    ResMode,
    UnsharpMask,
)
from ._color_syntax import parse_color
from ._values import did_you_mean, fields, flag, integer, keyword, real

__all__ = [
    "IccRequest",
    "parse_align",
    "parse_colorbalance",
    "parse_colorize",
    "parse_crop",
    "parse_crop_n",
    "parse_extend",
    "parse_extend_n",
    "parse_fit",
    "parse_fmt",
    "parse_icc",
    "parse_noise",
    "parse_qlt",
    "parse_quantize",
    "parse_size",
    "parse_usm",
    "parse_usm_r",
    "resolve_icc",
]

_PIXEL_TYPES = {p.value: p for p in PixelType}
_COMPRESSIONS = {c.value: c for c in Compression}
_HEX6 = re.compile(r"[0-9a-fA-F]{6}")
_DECIMAL_RGB = re.compile(r"[0-9]+[rRsS]*")


def _unsupported_reason(name: str) -> str:
    info = FORMATS[name]
    if info.pillow_format is None:
        return "no Pillow writer exists for it"
    return f"the installed Pillow cannot write {info.pillow_format}"


def _raise_refusal(refusal: FormatRefusal | None) -> None:
    """Raise the format table's refusal as the language's error for it, if there is one."""
    if refusal is None:
        return
    if refusal.unsupported:
        raise UnsupportedFormatError(refusal.reason)
    raise ModifierError(refusal.reason)


def writable_formats() -> tuple[str, ...]:
    """The ``fmt`` names the installed Pillow can write, in the table's order (``jpg`` first)."""
    return ("jpg", *(name for name in FORMATS if pillow_can_write(name)))


def parse_fmt(value: str, *, icc: bool = False) -> OutputFormat:
    """Parse ``format[,[pixelType][,compression]]``; empty fields take the format's defaults.

    With *icc* (the request gives ``icc=``), the pixel type is only read, not checked against the
    format: the profile's colour space replaces it (``resolve_icc`` checks that one).

    >>> parse_fmt("jpg")
    OutputFormat(name='jpeg', pixel_type=<PixelType.RGB: 'rgb'>, compression=None)
    >>> parse_fmt("tif,,lzw").render()
    'tif,rgb,lzw'
    """
    name, pixel, comp = [*fields(value, 1, 3), "", ""][:3]
    info = format_info(name)
    if info is None:
        raise ModifierError(
            f"unknown output format {quoted(name)}; this installation writes: "
            f"{', '.join(writable_formats())}{did_you_mean(name, writable_formats())}"
        )
    if not pillow_can_write(info.name):
        raise UnsupportedFormatError(
            f"output format {info.name!r} is not supported: {_unsupported_reason(info.name)}; "
            f"this installation writes: {', '.join(writable_formats())}"
        )
    pixel_type = keyword(pixel, _PIXEL_TYPES, what="pixel type") if pixel else PixelType.RGB
    checked = pixel_type  # with icc=, a type the format writes stands in for the profile's
    if icc and info.refusal(pixel_type) is not None:
        written = [
            p for p in sorted(info.pixel_types, key=lambda p: p.value) if not info.refusal(p)
        ]
        checked = written[0] if written else pixel_type
    _raise_refusal(info.refusal(checked))  # before a compression keyword is even read
    compression = keyword(comp, _COMPRESSIONS, what="compression") if comp else None
    _raise_refusal(info.refusal(checked, compression))
    return OutputFormat(info.name, pixel_type, info.compression_for(compression))


def parse_qlt(value: str) -> Quality:
    """Parse ``quality[,chroma]``: quality 1-100, chroma 0|1.

    >>> parse_qlt("90,1")
    Quality(quality=90, chroma=True)
    """
    parts = fields(value, 1, 2)
    chroma = flag(parts[1], what="chroma") if len(parts) == 2 else False
    return Quality(integer(parts[0], 1, 100, what="quality"), chroma=chroma)


_QUANTIZE_TYPES: dict[str, Literal["adaptive", "web"] | None] = {
    "adaptive": "adaptive",
    "web": "web",
    "mac": None,
}


def parse_quantize(value: str) -> Quantize:
    """Parse ``type[,dither[,numColors[,colorList]]]``; ``mac`` is not supported.

    >>> parse_quantize("adaptive,off,2,000000,ffffff")
    Quantize(type='adaptive', dither=False, colors=2, forced=((0, 0, 0), (255, 255, 255)))
    """
    parts = fields(value, 1, 3 + 256)
    kind = keyword(parts[0], _QUANTIZE_TYPES, what="palette type")
    if kind is None:
        raise UnsupportedFormatError(
            "quantize=mac is not supported: the Mac OS system palette is not shipped"
        )
    dither = (
        keyword(parts[1], {"diffuse": True, "off": False}, what="dither")
        if len(parts) > 1
        else True
    )
    colors = integer(parts[2], 2, 256, what="numColors") if len(parts) > 2 else 256
    forced = []
    for entry in parts[3:]:
        if _HEX6.fullmatch(entry) is None:
            raise ModifierError(f"colorList entries are hex rrggbb without 0x, got {entry!r}")
        forced.append((int(entry[0:2], 16), int(entry[2:4], 16), int(entry[4:6], 16)))
    if len(forced) > colors:
        raise ModifierError(f"colorList has {len(forced)} colours, more than numColors={colors}")
    return Quantize(kind, dither, colors, tuple(forced))


def parse_size(value: str) -> tuple[int, int] | None:
    """Parse ``w,h`` (ints >= 0, 0 = from the aspect ratio); ``0,0`` means no size.

    >>> parse_size("200,0"), parse_size("0,0")
    ((200, 0), None)
    """
    w, h = (integer(p, 0, what="size") for p in fields(value, 2, 2))
    return None if (w, h) == (0, 0) else (w, h)


def parse_fit(value: str) -> Fit:
    """Parse ``mode[,upscale]``.

    >>> parse_fit("constrain,1")
    Fit(mode=<FitMode.CONSTRAIN: 'constrain'>, upscale=True)
    """
    parts = fields(value, 1, 2)
    mode = keyword(parts[0], {m.value: m for m in FitMode}, what="fit mode")
    return Fit(mode, upscale=flag(parts[1], what="upscale") if len(parts) == 2 else False)


def parse_align(value: str) -> tuple[float, float]:
    """Parse ``horiz,vert`` reals in -1..1.

    >>> parse_align("1,-1")
    (1.0, -1.0)
    """
    h, v = (real(p, -1, 1, what="align") for p in fields(value, 2, 2))
    return (h, v)


def parse_crop(value: str) -> Crop | None:
    """Parse ``x,y,w,h`` in source pixels (w, h >= 0); an empty rectangle means no crop.

    >>> parse_crop("10,-5,100,50"), parse_crop("0,0,0,0")
    (Crop(x=10, y=-5, w=100, h=50, normalized=False), None)
    """
    x, y, w, h = fields(value, 4, 4)
    width, height = integer(w, 0, what="crop width"), integer(h, 0, what="crop height")
    if width == 0 or height == 0:
        return None
    return Crop(integer(x, what="crop x"), integer(y, what="crop y"), width, height)


def parse_crop_n(value: str) -> Crop | None:
    """Parse ``x,y,w,h`` as fractions of the source (w, h >= 0); an empty rectangle means no crop.

    >>> parse_crop_n(".1,0,.8,1")
    Crop(x=0.1, y=0.0, w=0.8, h=1.0, normalized=True)
    """
    x, y, w, h = fields(value, 4, 4)
    width, height = real(w, 0, what="cropN width"), real(h, 0, what="cropN height")
    if width == 0 or height == 0:
        return None
    return Crop(real(x, what="cropN x"), real(y, what="cropN y"), width, height, normalized=True)


def parse_extend(value: str) -> tuple[int, int, int, int] | None:
    """Parse ``left,top,right,bottom`` ints (negative removes); all zero means none.

    >>> parse_extend("5,5,5,5")
    (5, 5, 5, 5)
    """
    left, top, right, bottom = (integer(p, what="extend") for p in fields(value, 4, 4))
    margins = (left, top, right, bottom)
    return None if margins == (0, 0, 0, 0) else margins


def parse_extend_n(value: str) -> tuple[float, float, float, float] | None:
    """Parse ``extendN=left,top,right,bottom``: fractions of the layer after crop, size, rotate.

    >>> parse_extend_n("0.1,0,0.1,0")
    (0.1, 0.0, 0.1, 0.0)
    """
    left, top, right, bottom = (real(p, what="extendN") for p in fields(value, 4, 4))
    margins = (left, top, right, bottom)
    return None if margins == (0, 0, 0, 0) else margins


@attrs.frozen
class IccRequest:
    """``icc=profile[,renderIntent[,blackpointComp[,dither]]]`` as written; None = the setting's."""

    profile: str
    intent: RenderIntent | None = None
    black_point_compensation: bool | None = None
    dither: bool | None = None


def parse_icc(value: str) -> IccRequest:
    """Parse ``icc=``; the profile is a library name, never a path (resolved with the settings).

    >>> parse_icc("CoatedFogra39,relative,1")
    IccRequest(profile='CoatedFogra39', intent=<RenderIntent.RELATIVE: 1>, black_point_compensation=True, dither=None)
    """
    parts = [*fields(value, 1, 4), "", "", ""]
    name, intent, bpc, dither = parts[:4]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", name) or ".." in name:
        raise ModifierError(
            f"icc={name!r}: a profile is named from the host's profile library "
            "(letters, digits, '_', '-', '.'), never by a path"
        )
    return IccRequest(
        name,
        keyword(intent, {i.name.lower(): i for i in RenderIntent}, what="renderIntent")
        if intent
        else None,
        flag(bpc, what="blackpointComp") if bpc else None,
        flag(dither, what="dither") if dither else None,
    )


def parse_flip(value: str) -> Flip:
    """Parse ``lr|ud|lrud``."""
    return keyword(value, {f.value: f for f in Flip}, what="flip")


def parse_res_mode(value: str) -> ResMode:
    """Parse ``bilin|bicub|sharp2|bisharp|trilin``; the legacy ``sharp`` means ``sharp2``.

    >>> parse_res_mode("sharp")
    <ResMode.SHARP2: 'sharp2'>
    """
    return keyword(
        value, {"sharp": ResMode.SHARP2, **{m.value: m for m in ResMode}}, what="resMode"
    )


def parse_colorbalance(value: str) -> tuple[int, int, int]:
    """Parse ``r,g,b`` ints in -100..100."""
    r, g, b = (integer(p, -100, 100, what="colour balance") for p in fields(value, 3, 3))
    return (r, g, b)


def parse_colorize(value: str) -> ColorizeOp:
    """Parse ``color[,off|norm[,contrast]]``: an RGB colour (hex, or decimal ``r,g,b``), contrast 0-100.

    >>> parse_colorize("ff8000,off")
    ColorizeOp(color=(255, 128, 0), normalize=False, contrast=0.0)
    >>> parse_colorize("255,128,0,norm,50").contrast
    50.0
    """
    parts = fields(value, 1, 5)
    taken = 3 if len(parts) >= 3 and all(_DECIMAL_RGB.fullmatch(x) for x in parts[:3]) else 1
    color = parse_color(",".join(parts[:taken]))
    rest = parts[taken:]
    if color.space != "rgb":
        raise ModifierError(f"op_colorize takes an RGB colour, got a {color.space} one")
    if len(rest) > 2:
        raise ModifierError("expected color[,off|norm[,contrast]]")
    normalize = keyword(rest[0], {"norm": True, "off": False}, what="mode") if rest else True
    contrast = real(rest[1], 0, 100, what="contrast") if len(rest) > 1 else 0.0
    r, g, b = color.components
    return ColorizeOp((r, g, b), normalize, contrast)


def parse_noise(value: str) -> NoiseOp:
    """Parse ``val[,uniform|gaussian[,monochrome]]``: val 0-100.

    >>> parse_noise("20,gaussian,1")
    NoiseOp(amount=20, distribution='gaussian', monochrome=True)
    """
    parts = fields(value, 1, 3)
    amount = integer(parts[0], 0, 100, what="noise")
    distributions: dict[str, Literal["uniform", "gaussian"]] = {
        "uniform": "uniform",
        "gaussian": "gaussian",
    }
    distribution = (
        keyword(parts[1], distributions, what="distribution") if len(parts) > 1 else "uniform"
    )
    monochrome = flag(parts[2], what="monochrome") if len(parts) > 2 else False
    return NoiseOp(amount, distribution, monochrome)


def _usm(value: str, *, scaled: bool) -> UnsharpMask:
    parts = fields(value, 1, 4)
    return UnsharpMask(
        real(parts[0], 0, 5, what="amount"),
        real(parts[1], 0, 250, what="radius") if len(parts) > 1 else 0.0,
        integer(parts[2], 0, 255, what="threshold") if len(parts) > 2 else 0,
        flag(parts[3], what="monochrome") if len(parts) > 3 else False,
        scaled=scaled,
    )


def parse_usm(value: str) -> UnsharpMask:
    """Parse ``amount[,radius[,threshold[,monochrome]]]``; the radius scales with the view.

    >>> parse_usm("1.5,2,10,1")
    UnsharpMask(amount=1.5, radius=2.0, threshold=10, monochrome=True, scaled=True)
    """
    return _usm(value, scaled=True)


def parse_usm_r(value: str) -> UnsharpMask:
    """Parse ``op_usmR``: as ``op_usm``, with the radius used as is."""
    return _usm(value, scaled=False)


def resolve_icc(options: RenderOptions, settings: ConversionSettings) -> RenderOptions:
    """Turn a parsed ``icc=`` (or the settings' default profile) into ``RenderOptions.icc``.

    The profile's colour space replaces ``fmt``'s pixel type; a format that cannot take it is an
    error (spec section 8). With no ``icc=``, the settings' default output profile for the pixel
    type applies, if one is set.

    Raises:
        ModifierError: the profile is not in the settings' profile library, or the format has no
            pixel type of the profile's colour space.
    """
    # The parser leaves icc= as an IccRequest in the field; this turns it into an IccConversion.
    request: object = options.icc
    fmt = options.format
    if request is None:
        default = settings.default_profile(fmt.pixel_type)
        if default is None:
            return options
        request = IccRequest(default)
    if not isinstance(request, IccRequest):
        return options
    profiles = settings.profiles
    if request.profile not in profiles:
        known = ", ".join(sorted(profiles)) or "none are defined"
        raise ModifierError(
            f"icc={request.profile}: no profile of that name in the profile library "
            f"(the settings' profiles: {known})"
        )
    pixel_type = PixelType(profiles.space(request.profile))
    info = format_info(fmt.name)
    refusal = None if info is None else info.refusal(pixel_type, fmt.compression)
    if refusal is not None:
        error = UnsupportedFormatError if refusal.unsupported else ModifierError
        raise error(
            f"icc={request.profile} is a {pixel_type.value} profile, and fmt={fmt.name} cannot "
            f"take it: {refusal.reason}"
        )
    conversion = IccConversion(
        name=profiles.canonical(request.profile),
        profile=profiles[request.profile],
        pixel_type=pixel_type,
        intent=request.intent or settings.icc_render_intent,
        black_point_compensation=(
            settings.icc_black_point_compensation
            if request.black_point_compensation is None
            else request.black_point_compensation
        ),
        dither=settings.icc_dither if request.dither is None else request.dither,
    )
    return attrs.evolve(options, icc=conversion, format=attrs.evolve(fmt, pixel_type=pixel_type))
