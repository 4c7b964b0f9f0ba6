"""Colour-managed output (``icc=`` and the default output profiles): LittleCMS, as ``ImageCms`` does.

The pipeline keeps the pixels in the original's own colour space when an output profile is given
(an Adobe RGB original stays Adobe RGB through resizing), and this stage converts them once, from
that space to the output profile, with the request's intent and black-point compensation. The
source space (spec section 8) is the original's embedded profile, else the settings' default profile
for its pixel type (``icc_profile_rgb``/``_gray``/``_cmyk``), else sRGB for RGB, gray with the sRGB
curve for gray; unprofiled CMYK with no default is first converted naively to RGB, read as sRGB. A
source profile that is the output profile leaves the pixels as they are.
"""

from __future__ import annotations

import functools
import io
import threading

from PIL import Image, ImageCms

from .._profiles import profile_space
from ..options import IccConversion, PixelType, RenderIntent
from ._color import family, gray_output_profile, srgb_profile, transform_to_srgb

__all__ = ["input_profile", "source_profile_for", "to_profile"]

#: The settings' default profile per pixel type (``RenderOptions.source_profiles``).
Defaults = tuple[tuple[PixelType, bytes], ...]

_MODES = {PixelType.RGB: "RGB", PixelType.GRAY: "L", PixelType.CMYK: "CMYK"}
_LOCK = threading.Lock()


def input_profile(mode: str, embedded: bytes | None, defaults: Defaults) -> bytes | None:
    """Return the profile the original's pixels of *mode* are in (spec section 8).

    The embedded profile if LittleCMS can use it for pixels of that colour space, else the
    settings' default for their pixel type (*defaults*, ``RenderOptions.source_profiles``); with
    no default, *embedded* as it is (the pipeline ignores an unusable one). Lab pixels are in no
    device space: no default applies to them.
    """
    default = None if mode == "LAB" else dict(defaults).get(family(mode))
    if default is None or (embedded is not None and _describes(embedded, family(mode))):
        return embedded
    return default


def _describes(data: bytes, pixel_type: PixelType) -> bool:
    """Whether LittleCMS can read *data* as the space of pixels of *pixel_type* (to sRGB)."""
    return (
        profile_space(data) == pixel_type.value
        and transform_to_srgb(data, _MODES[pixel_type], "RGB") is not None
    )


def source_profile_for(mode: str, kept: bytes | None) -> bytes | None:
    """Return the profile describing opaque pixels of *mode*: *kept*, else the mode's default."""
    if kept is not None:
        return kept
    if mode == "RGB":
        return srgb_profile()
    if mode == "L":
        return gray_output_profile()
    return None


@functools.lru_cache(maxsize=32)
def _transform(  # noqa: PLR0917 - the cache key
    source: bytes, target: bytes, in_mode: str, out_mode: str, intent: int, bpc: bool
) -> ImageCms.ImageCmsTransform:
    with _LOCK:
        src = ImageCms.ImageCmsProfile(io.BytesIO(source))
        dst = ImageCms.ImageCmsProfile(io.BytesIO(target))
        chosen = ImageCms.Intent(intent)
        # An intent the output profile has no table for is ignored (spec section 8): perceptual.
        if ImageCms.isIntentSupported(dst, chosen, ImageCms.Direction.OUTPUT) != 1:
            chosen = ImageCms.Intent.PERCEPTUAL
        flags = ImageCms.Flags.NOCACHE
        if bpc:
            flags |= ImageCms.Flags.BLACKPOINTCOMPENSATION
        return ImageCms.buildTransform(src, dst, in_mode, out_mode, chosen, flags)


def to_profile(colour: Image.Image, kept: bytes | None, conversion: IccConversion) -> Image.Image:
    """Convert opaque *colour* (``L``, ``RGB``, ``CMYK``) to *conversion*'s profile and pixel type.

    Args:
        colour: the rendered pixels, in the space *kept* describes (or the mode's default).
        kept: the profile still describing *colour* (the original's, or the settings' default
            for untagged pixels: ``input_profile``), or None.
        conversion: the output profile, intent and black-point compensation.
    """
    try:
        return _converted(colour, kept, conversion)
    except ImageCms.PyCMSError:
        if kept is None:
            raise
    # The original's profile opens but no transform can be built from it (damaged tags): it is
    # ignored, as any unreadable embedded profile is, and the pixels read in the mode's default.
    return _converted(colour, None, conversion)


def _converted(colour: Image.Image, kept: bytes | None, conversion: IccConversion) -> Image.Image:
    source = source_profile_for(colour.mode, kept)
    if source is None:  # unprofiled CMYK: naive to RGB, read as sRGB
        colour, source = colour.convert("RGB"), srgb_profile()
    out_mode = _MODES[conversion.pixel_type]
    if source == conversion.profile and colour.mode == out_mode:
        return colour
    transform = _transform(
        source,
        conversion.profile,
        colour.mode,
        out_mode,
        conversion.intent.value,
        conversion.black_point_compensation,
    )
    return transform.apply(colour)


# Kept importable for the docs: the intent numbers are LittleCMS's.
assert [i.value for i in RenderIntent] == [int(i) for i in ImageCms.Intent]  # noqa: S101
