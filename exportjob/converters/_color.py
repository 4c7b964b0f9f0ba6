"""Colour: any decoded mode -> an 8-bit working mode in sRGB, and the working mode -> the output type.

Working modes are ``L``/``LA`` (gray), ``RGB``/``RGBA`` and ``CMYK`` (no alpha). Embedded ICC profiles
are honoured with LittleCMS: RGB and CMYK sources are converted to sRGB (a shipped sRGB profile is
taken as is), and so is a gray source that becomes RGB; a CMYK source that stays CMYK keeps its
profile, and so does a gray source that stays gray, so ``iccEmbed`` can embed it. A profile
LittleCMS cannot read is ignored, as browsers do.
"""

from __future__ import annotations

import functools
import io
import threading

from PIL import Image, ImageCms

from .._profiles import profile_space
from ..options import PixelType, RenderOptions
from ._alpha import has_alpha
from ._filters import has_stage_c, needs_rgb
from ._icc import gray_profile, srgb_curve

__all__ = [
    "family",
    "output_profile",
    "to_output",
    "to_working",
    "transform_to_srgb",
    "working_family",
]

_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_ICC_SPACES = {"RGB ": PixelType.RGB, "GRAY": PixelType.GRAY, "CMYK": PixelType.CMYK}
_FLAGS = ImageCms.Flags.BLACKPOINTCOMPENSATION | ImageCms.Flags.NOCACHE
_LOCK = threading.Lock()
# A fixed creation date for LittleCMS's sRGB profile, which it stamps with the current time.
_FIXED_DATE = bytes((0x07, 0xE8, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0))
# The descriptions of the sRGB profiles that ship with systems and tools, taken as sRGB without a
# conversion. Only these: a name that merely contains "sRGB" ("GIMP built-in Linear sRGB", Krita's
# "sRGB-elle-V4-g10") may have another tone curve, and converting a true sRGB is harmless.
_SRGB_DESCRIPTIONS = frozenset(
    {
        "sRGB",
        "sRGB built-in",
        "sRGB IEC61966-2.1",
        "sRGB IEC61966-2-1",
        "sRGB IEC61966-2-1 black scaled",
        "sRGB IEC61966-2-1 no black scaling",
        "GIMP built-in sRGB",
    }
)


def family(mode: str) -> PixelType:
    """Return the colour family of a Pillow *mode*: gray, CMYK, or RGB for everything else."""
    if mode in _GRAY_MODES:
        return PixelType.GRAY
    if mode == "CMYK":
        return PixelType.CMYK
    return PixelType.RGB


def working_family(source: PixelType, output: PixelType, options: RenderOptions) -> PixelType:
    """Choose the colour family the pipeline works in.

    Gray stays gray and CMYK stays CMYK when the output allows it and no filter needs RGB (CMYK also
    needs no filter at all, since the reference converts CMYK to RGB for them); RGB is converted to
    gray early for a gray output, except when an output profile (``icc=``) converts it at the
    end. Everything else works in sRGB.
    """
    if source is PixelType.CMYK:
        return (
            PixelType.CMYK
            if output is PixelType.CMYK and not has_stage_c(options)
            else PixelType.RGB
        )
    if needs_rgb(options):
        return PixelType.RGB
    if options.icc is not None and source is PixelType.RGB:
        return PixelType.RGB
    if source is PixelType.GRAY or output is PixelType.GRAY:
        return PixelType.GRAY
    return PixelType.RGB


@functools.lru_cache(maxsize=32)
def _profile_space(data: bytes) -> tuple[PixelType | None, bool]:
    """Return (colour family, is sRGB) of an embedded profile; family None if it is unusable."""
    try:
        with _LOCK:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
            space = _ICC_SPACES.get(profile.profile.xcolor_space)
            description = profile.profile.profile_description or ""
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None, False
    return space, space is PixelType.RGB and description.strip() in _SRGB_DESCRIPTIONS


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@functools.lru_cache(maxsize=32)
def transform_to_srgb(data: bytes, mode: str, out_mode: str) -> ImageCms.ImageCmsTransform | None:
    """Build (once) a transform from profile *data* to sRGB; None if LittleCMS refuses it."""
    try:
        with _LOCK:
            source = ImageCms.ImageCmsProfile(io.BytesIO(data))
            return ImageCms.buildTransform(
                source, _srgb(), mode, out_mode, ImageCms.Intent.PERCEPTUAL, _FLAGS
            )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


@functools.cache
def _lab_transform() -> ImageCms.ImageCmsTransform:
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
    return ImageCms.buildTransform(lab, _srgb(), "LAB", "RGB", ImageCms.Intent.PERCEPTUAL, _FLAGS)


def _to_8bit_gray(im: Image.Image) -> Image.Image:
    """Reduce a 16-bit (``I;16*``, ``I``) or float (``F``) gray image to ``L`` by scaling, not clipping.

    ``I`` holds 16-bit samples (0-65535) and ``F`` holds 0.0-1.0, as Pillow's readers produce them.
    """
    if im.mode == "F":
        return im.point(lambda v: v * 255 + 0.5).convert("L")
    if im.mode != "I":
        im = im.convert("I")
    return im.point(lambda v: v * (1 / 257) + 0.5).convert("L")


def _normalize_mode(im: Image.Image) -> Image.Image:
    """Bring a decoded image to ``L``, ``LA``, ``RGB``, ``RGBA`` or ``CMYK``, 8 bits per component."""
    mode = im.mode
    if mode in {"L", "RGB"} and "transparency" in im.info:
        return im.convert("LA" if mode == "L" else "RGBA")
    if mode in {"L", "LA", "RGB", "RGBA", "CMYK"}:
        return im
    if mode in {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}:
        return _to_8bit_gray(im)
    if mode == "1":
        return im.convert("L")
    if mode == "La":
        return im.convert("LA")
    if mode in {"P", "PA"}:
        return im.convert("RGBA" if im.has_transparency_data or mode == "PA" else "RGB")
    if mode == "LAB":
        return _lab_transform().apply(im)
    if mode in {"RGBa", "RGBX"}:
        return im.convert("RGBA" if mode == "RGBa" else "RGB")
    return im.convert("RGB")


def _apply_profile(im: Image.Image, data: bytes) -> Image.Image:
    mode = "CMYK" if im.mode == "CMYK" else im.mode
    out_mode = "RGB" if mode == "CMYK" else mode
    transform = transform_to_srgb(data, mode, out_mode)
    if transform is None:
        return im if mode != "CMYK" else im.convert("RGB")
    return transform.apply(im)


def to_working(
    im: Image.Image, working: PixelType, icc: bytes | None, *, managed: bool = False
) -> tuple[Image.Image, bytes | None]:
    """Convert a decoded image to the *working* family in sRGB (gray and CMYK kept as they are).

    Args:
        im: the decoded image, any Pillow mode.
        working: the family chosen by ``working_family``.
        icc: the source's embedded ICC profile, if any.
        managed: an output profile converts the result (``icc=``): an RGB source in another RGB
            space than sRGB keeps its pixels and its profile, for one conversion at the end.

    Returns:
        The image in ``L``/``LA``/``RGB``/``RGBA``/``CMYK``, and the source profile when it still
        describes the working pixels (a gray or CMYK source kept as is), for ``iccEmbed``.
    """
    im = _normalize_mode(im)
    source = family(im.mode)
    space, is_srgb = _profile_space(icc) if icc else (None, False)
    kept_profile: bytes | None = None
    if space is not source:
        space = None  # a profile of another colour space than the pixels describes nothing
    if source is PixelType.CMYK:
        if working is PixelType.CMYK:
            return im, icc if space is PixelType.CMYK else None
        im = _apply_profile(im, icc) if icc and space else im.convert("RGB")
    elif source is PixelType.RGB and space is PixelType.RGB and not is_srgb and icc:
        if managed and working is PixelType.RGB:
            return im, icc
        im = _apply_profile(im, icc)
    elif source is PixelType.GRAY and space is PixelType.GRAY:
        kept_profile = icc
    current = family(im.mode)
    alpha = has_alpha(im)
    if working is PixelType.GRAY and current is not PixelType.GRAY:
        im = im.convert("LA" if alpha else "L")
    elif working is PixelType.RGB and current is PixelType.GRAY:
        im = _gray_to_srgb(im, kept_profile)
        kept_profile = None
    return im, kept_profile


def _gray_to_srgb(im: Image.Image, profile: bytes | None) -> Image.Image:
    """Gray (``L``/``LA``) as sRGB: through its gray *profile* with LittleCMS, else as it is."""
    alpha = im.getchannel("A") if im.mode == "LA" else None
    gray = im.getchannel("L") if alpha is not None else im
    transform = transform_to_srgb(profile, "L", "RGB") if profile else None
    rgb = gray.convert("RGB") if transform is None else transform.apply(gray)
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb


def to_output(color: Image.Image, pixel_type: PixelType, kept: bytes | None = None) -> Image.Image:
    """Convert an opaque working image (``L``, ``RGB``, ``CMYK``) to the output *pixel_type*.

    Gray described by its own profile (*kept*, the original's) becomes RGB through that profile,
    to sRGB, as an RGB original's profile is honoured (spec section 8: the input space is the
    embedded profile). The other conversions between families are the naive ones Image Serving
    uses without colour management: RGB -> gray by ITU-R 601 luma, RGB -> CMYK by complement
    (K = 0), gray -> CMYK on the K plate.
    """
    target = {PixelType.RGB: "RGB", PixelType.GRAY: "L", PixelType.CMYK: "CMYK"}[pixel_type]
    if color.mode == target:
        return color
    if color.mode == "L" and target == "RGB":
        return _gray_to_srgb(color, kept)
    return color.convert(target)


@functools.cache
def srgb_profile() -> bytes:
    """Return LittleCMS's sRGB profile with a fixed creation date, so outputs are reproducible."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[24:36] = _FIXED_DATE
    return bytes(data)


@functools.cache
def gray_output_profile() -> bytes:
    """Return the gray output profile: the sRGB tone curve, matching gray made from sRGB by luma."""
    return gray_profile("Gray with sRGB tone curve (exportjob)", srgb_curve())


def output_profile(pixel_type: PixelType, kept: bytes | None) -> bytes | None:
    """Return the profile that describes the output pixels, for ``iccEmbed``; None if there is none.

    RGB output is sRGB. Gray output is the source's gray profile when the source was gray, else gray
    with the sRGB tone curve. CMYK output has a profile only when a profiled CMYK source stayed CMYK.
    """
    if pixel_type is PixelType.RGB:
        return srgb_profile()
    # The kept profile describes the output only if it is of the output's pixel type: a gray
    # original's does not describe the naive CMYK made from it (spec section 8).
    if kept is not None and profile_space(kept) != pixel_type.value:
        kept = None
    if pixel_type is PixelType.GRAY:
        return kept or gray_output_profile()
    return kept
