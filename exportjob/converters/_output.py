"""The output stage: pixel type, flattening onto ``bgc`` for formats without alpha, palettes.

Flattening happens in the output colour space, where ``bgc`` belongs: a CMYK ``bgc`` on a CMYK output
is used as given, and one in another space is converted naively (``Color.to_rgb``/``to_gray``/
``to_cmyk``). Partly transparent pixels blend ("over" an opaque background).
"""

from __future__ import annotations

import attrs
from PIL import Image

from .._formats import FormatInfo
from ..options import Color, PixelType, RenderOptions
from ._alpha import join_alpha, split_alpha, with_alpha
from ._color import to_output
from ._palette import quantize
from ._print import to_profile

__all__ = ["Finished", "bgc_for_mode", "finish"]


@attrs.frozen
class Finished:
    """The image ready to encode, and the palette index of the transparent key (palette formats)."""

    image: Image.Image
    transparency: int | None = None


def bgc_for_mode(bgc: Color, mode: str) -> tuple[int, ...]:
    """Return *bgc* as an opaque pixel value of *mode* (``L``, ``LA``, ``RGB``, ``RGBA``, ``CMYK``)."""
    if mode in {"L", "LA"}:
        value: tuple[int, ...] = (bgc.to_gray(),)
    elif mode == "CMYK":
        value = bgc.to_cmyk()
    else:
        value = bgc.to_rgb()
    return (*value, 255) if mode in {"LA", "RGBA"} else value


def _flatten(colour: Image.Image, alpha: Image.Image, bgc: Color) -> Image.Image:
    background = Image.new(colour.mode, colour.size, bgc_for_mode(bgc, colour.mode))
    background.paste(colour, mask=alpha)
    return background


def finish(
    im: Image.Image,
    info: FormatInfo,
    options: RenderOptions,
    pixel_type: PixelType,
    *,
    kept_profile: bytes | None = None,
) -> Finished:
    """Convert the rendered *im* to what the format stores (mode, alpha, palette).

    Args:
        im: the rendered reply in a working mode (``L``, ``LA``, ``RGB``, ``RGBA``, ``CMYK``).
        info: the output format's row.
        options: the commands (``bgc``, ``quantize``).
        pixel_type: the output pixel type.
        kept_profile: the profile still describing *im* (the original's), for ``icc=``.
    """
    colour, alpha = split_alpha(im)
    if options.icc is not None:
        colour = to_profile(colour, kept_profile, options.icc)
    else:
        colour = to_output(colour, pixel_type, kept_profile)
    if alpha is not None and alpha.getextrema() == (255, 255):
        alpha = None
    if alpha is not None and not info.alpha:
        colour, alpha = _flatten(colour, alpha, options.bgc), None
    if info.palette:
        rgb = colour if colour.mode == "RGB" else colour.convert("RGB")
        image, key = quantize(rgb, alpha, options.quantize, key_colour=options.bgc.to_rgb())
        return Finished(image, key)
    if not info.alpha:
        return Finished(colour)
    return Finished(with_alpha(colour) if alpha is None else join_alpha(colour, alpha))
