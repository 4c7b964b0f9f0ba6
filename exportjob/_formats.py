"""The output format table: one row per ``fmt`` keyword, the single source of extensions and writers.

A row also holds the one rule of which pixel types and compressions a format takes
(``FormatInfo.refusal``), which the ``fmt`` parser and the converter both apply.
"""

from __future__ import annotations

import functools

import attrs

from .options import Compression, PixelType

__all__ = [
    "FORMATS",
    "FormatInfo",
    "FormatRefusal",
    "format_info",
    "largest_side",
    "pillow_can_write",
    "print_res_problem",
]

_RGB = frozenset({PixelType.RGB})
_RGB_GRAY = frozenset({PixelType.RGB, PixelType.GRAY})
_ALL_TYPES = frozenset({PixelType.RGB, PixelType.GRAY, PixelType.CMYK})
_TIF_COMP = frozenset({Compression.NONE, Compression.LZW, Compression.ZIP, Compression.JPEG})
_LOSSY = frozenset({Compression.LOSSY, Compression.LOSSLESS})


@attrs.frozen
class FormatRefusal:
    """Why a format cannot be written with a pixel type or compression.

    ``unsupported`` is True when Image Serving writes the combination and only this installation
    cannot (the parser raises ``UnsupportedFormatError``), False when it is not a valid ``fmt`` at
    all (``ModifierError``).
    """

    reason: str
    unsupported: bool


@attrs.frozen
class FormatInfo:
    """What one ``fmt`` keyword means: file extension, MIME type, alpha, pixel types, writer.

    ``compressions`` are those written here; ``unwritable_compressions`` those Image Serving also
    writes in this format and Pillow cannot.
    """

    name: str
    extension: str
    mime: str
    alpha: bool
    pixel_types: frozenset[PixelType]
    compressions: frozenset[Compression]
    default_compression: Compression | None
    pillow_format: str | None
    pillow_feature: str | None = None
    palette: bool = False
    icc: bool = True
    progressive: bool = False
    unwritable_compressions: frozenset[Compression] = frozenset()

    def refusal(
        self, pixel_type: PixelType, compression: Compression | None = None
    ) -> FormatRefusal | None:
        """Say why this format cannot be written with *pixel_type* and *compression*; None if it can.

        The pixel type is checked first; a *compression* of None (the format's default) is allowed.
        """
        return self._refuse_pixel_type(pixel_type) or self._refuse_compression(compression)

    def compression_for(self, compression: Compression | None) -> Compression | None:
        """Return the compression written for *compression*: itself, or the default when None.

        A format that takes no compression field writes None for ``none`` too.
        """
        if not self.compressions:
            return self.default_compression
        return compression or self.default_compression

    def _refuse_pixel_type(self, pixel_type: PixelType) -> FormatRefusal | None:
        if pixel_type not in self.pixel_types:
            allowed = ", ".join(sorted(p.value for p in self.pixel_types))
            return FormatRefusal(
                f"{self.name} has no {pixel_type.value} pixel type (allowed: {allowed})",
                unsupported=False,
            )
        if self.alpha and pixel_type is PixelType.CMYK:
            opaque = self.name.removesuffix("-alpha")
            return FormatRefusal(
                f"{self.name},cmyk is not supported: Pillow has no CMYK mode with alpha; use "
                f"{opaque},cmyk or {self.name},rgb",
                unsupported=True,
            )
        return None

    def _refuse_compression(self, compression: Compression | None) -> FormatRefusal | None:
        if compression is None:
            return None
        if compression is Compression.NONE and not self.compressions:
            return None  # the reference's own default, ``fmt=jpeg,rgb,none``, names it: a no-op
        if compression in self.unwritable_compressions:
            written = " or ".join(sorted(f"{self.name},,{c.value}" for c in self.compressions))
            return FormatRefusal(
                f"{self.name},,{compression.value} is not supported: only {written} can be written",
                unsupported=True,
            )
        if compression not in self.compressions:
            allowed = ", ".join(sorted(c.value for c in self.compressions))
            said = f"allowed: {allowed}" if allowed else "it takes no compression field"
            return FormatRefusal(
                f"{self.name} does not take {compression.value} compression ({said})",
                unsupported=False,
            )
        return None


def _row(  # noqa: PLR0917 - a table row
    name: str,
    ext: str,
    mime: str,
    alpha: bool,
    types: frozenset[PixelType],
    comps: frozenset[Compression] = frozenset(),
    default: Compression | None = None,
    pillow: str | None = None,
    feature: str | None = None,
    *,
    palette: bool = False,
    icc: bool = True,
    progressive: bool = False,
    unwritable: frozenset[Compression] = frozenset(),
) -> FormatInfo:
    return FormatInfo(
        name,
        ext,
        mime,
        alpha,
        types,
        comps,
        default,
        pillow,
        feature,
        palette,
        icc,
        progressive,
        unwritable,
    )


FORMATS: dict[str, FormatInfo] = {
    r.name: r
    for r in (
        _row("jpeg", ".jpg", "image/jpeg", False, _ALL_TYPES, pillow="JPEG"),
        _row("pjpeg", ".jpg", "image/jpeg", False, _ALL_TYPES, pillow="JPEG", progressive=True),
        _row("png", ".png", "image/png", False, _RGB_GRAY, pillow="PNG"),
        _row("png-alpha", ".png", "image/png", True, _RGB_GRAY, pillow="PNG"),
        _row("png8", ".png", "image/png", False, _RGB, pillow="PNG", palette=True),
        _row("png8-alpha", ".png", "image/png", True, _RGB, pillow="PNG", palette=True),
        _row("gif", ".gif", "image/gif", False, _RGB_GRAY, pillow="GIF", palette=True, icc=False),
        _row(
            "gif-alpha", ".gif", "image/gif", True, _RGB_GRAY, pillow="GIF", palette=True, icc=False
        ),
        _row(
            "tif",
            ".tiff",
            "image/tiff",
            False,
            _ALL_TYPES,
            _TIF_COMP,
            Compression.NONE,
            "TIFF",
            "libtiff",
        ),
        _row(
            "tif-alpha",
            ".tiff",
            "image/tiff",
            True,
            _ALL_TYPES,
            _TIF_COMP - {Compression.JPEG},
            Compression.NONE,
            "TIFF",
            "libtiff",
        ),
        _row(
            "webp",
            ".webp",
            "image/webp",
            False,
            _RGB,
            _LOSSY,
            Compression.LOSSY,
            "WEBP",
            "webp",
            icc=False,
        ),
        _row(
            "webp-alpha",
            ".webp",
            "image/webp",
            True,
            _RGB,
            _LOSSY,
            Compression.LOSSY,
            "WEBP",
            "webp",
            icc=False,
        ),
        _row(
            "avif",
            ".avif",
            "image/avif",
            False,
            _RGB,
            _LOSSY,
            Compression.LOSSY,
            "AVIF",
            "avif",
            icc=False,
        ),
        _row(
            "avif-alpha",
            ".avif",
            "image/avif",
            True,
            _RGB,
            _LOSSY,
            Compression.LOSSY,
            "AVIF",
            "avif",
            icc=False,
        ),
        _row(
            "jpeg2000",
            ".jp2",
            "image/jp2",
            False,
            _RGB_GRAY,
            _LOSSY,
            Compression.LOSSY,
            "JPEG2000",
            "jpg_2000",
            icc=False,
        ),
        _row(
            "jpeg2000-alpha",
            ".jp2",
            "image/jp2",
            True,
            _RGB_GRAY,
            _LOSSY,
            Compression.LOSSY,
            "JPEG2000",
            "jpg_2000",
            icc=False,
        ),
        _row(
            "pdf",
            ".pdf",
            "application/pdf",
            False,
            _ALL_TYPES,
            frozenset({Compression.JPEG}),
            Compression.JPEG,
            "PDF",
            # Image Serving also writes uncompressed and deflated PDF; Pillow's writer only JPEG.
            unwritable=frozenset({Compression.NONE, Compression.ZIP}),
        ),
        _row("eps", ".eps", "image/eps", False, _ALL_TYPES, pillow="EPS"),  # as IS sends it
        # Known to Image Serving, not writable here: refused with UnsupportedFormatError.
        _row("jpegxr", ".jxr", "image/vnd.ms-photo", False, _RGB, _LOSSY, Compression.LOSSY),
        _row("jpegxr-alpha", ".jxr", "image/vnd.ms-photo", True, _RGB, _LOSSY, Compression.LOSSY),
        _row("heic", ".heic", "image/heic", False, _RGB, frozenset({Compression.LOSSLESS})),
        _row("swf", ".swf", "application/x-shockwave-flash", False, _RGB),
        _row("swf-alpha", ".swf", "application/x-shockwave-flash", True, _RGB),
        _row("swf3", ".swf", "application/x-shockwave-flash", False, _RGB),
        _row("swf3-alpha", ".swf", "application/x-shockwave-flash", True, _RGB),
        _row("f4m", ".f4m", "application/f4m+xml", False, _RGB),
        _row("m3u8", ".m3u8", "application/vnd.apple.mpegurl", False, _RGB),
    )
}

_ALIASES = {"jpg": "jpeg"}


def format_info(name: str) -> FormatInfo | None:
    """Return the row for a ``fmt`` keyword (case-insensitive, ``jpg`` = ``jpeg``), or None."""
    key = name.lower()
    return FORMATS.get(_ALIASES.get(key, key))


@functools.cache
def pillow_can_write(name: str) -> bool:
    """Whether the installed Pillow can write format *name* (checked once, imports Pillow lazily)."""
    info = format_info(name)
    if info is None or info.pillow_format is None:
        return False
    from PIL import Image, features  # noqa: PLC0415 - Pillow is imported only when needed

    Image.init()
    if info.pillow_format not in Image.SAVE:
        return False
    return info.pillow_feature is None or bool(features.check(info.pillow_feature))


# The widest or tallest image each writer can make (and its readers read), in pixels: libjpeg's
# JPEG_MAX_DIMENSION (JPEG; JPEG-compressed TIFF; PDF, whose images Pillow encodes as JPEG), the
# 14 bits of a WebP size, GIF's 16-bit fields, and libavif's default decode limit (a wider AVIF is
# written, and then cannot be read back).
_LARGEST_SIDE = {"JPEG": 65500, "PDF": 65500, "WEBP": 16383, "GIF": 65535, "AVIF": 32768}


def largest_side(info: FormatInfo, compression: Compression | None) -> int | None:
    """The most pixels a side of an image in *info*'s format (with *compression*) may have."""
    if info.pillow_format == "TIFF" and info.compression_for(compression) is Compression.JPEG:
        return _LARGEST_SIDE["JPEG"]
    return _LARGEST_SIDE.get(info.pillow_format or "")


#: A JPEG's density field (JFIF) holds whole dots per inch, 16 bits.
JPEG_MAX_DPI = 65535
_PNG_MAX_PPM = 2**31 - 1  # a PNG's four-byte integers stop there; pHYs counts pixels per metre
_TIFF_MAX = 2**32 - 1  # a TIFF RATIONAL is two 32-bit unsigned integers


def dpi_fits(info: FormatInfo, dpi: float) -> bool:
    """Whether *dpi* can be written into *info*'s format as it is (True where none is stored).

    A JPEG holds whole dpi from 1 to 65,535; a PNG whole pixels per metre from 1 to 2**31 - 1
    (Pillow rounds 300 dpi to 11,811); a TIFF a fraction of two 32-bit integers.
    """
    if info.pillow_format == "JPEG":
        return 1 <= round(dpi) <= JPEG_MAX_DPI
    if info.pillow_format == "PNG":
        return 1 <= int(dpi / 0.0254 + 0.5) <= _PNG_MAX_PPM
    if info.pillow_format == "TIFF":
        return 1 / _TIFF_MAX <= dpi <= _TIFF_MAX
    return True


_HOLDS = {
    "JPEG": f"its density field holds whole dpi from 1 to {JPEG_MAX_DPI}",
    "PNG": "its pHYs field holds whole pixels per metre from 1 to 2,147,483,647 "
    "(about 0.0127 to 54,500,000 dpi)",
    "TIFF": "its resolution is a fraction of 32-bit integers (at most 4,294,967,295 dpi, "
    "at least its inverse)",
}


def print_res_problem(info: FormatInfo, print_res: float | None) -> str | None:
    """Why ``printRes`` cannot be written into *info*'s format as asked; None if it can."""
    if not print_res or dpi_fits(info, print_res):
        return None
    return (
        f"printRes={print_res:g} cannot be written to a {info.pillow_format}: "
        f"{_HOLDS[info.pillow_format or '']} (ask for a value in that range)"
    )
