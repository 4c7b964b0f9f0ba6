"""Decoding originals: identify among the raster formats we accept, read the header, load one frame.

The header is read without decoding pixels, so the converter can check the source size against its
limit, and plan the whole conversion, before any pixel is decoded. Only raster formats Pillow reads
natively are accepted: no EPS/PDF (Ghostscript would run the file), no SVG. The check is the
converter's own; Pillow's global ``Image.MAX_IMAGE_PIXELS`` is neither read nor changed at opening.
The per-format checks run before a plugin opens or decodes a file are in ``_screens``.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

from PIL import Image, ImageFile

from ..exceptions import ConversionError
from ._complete import check_before_opening, check_decoded, check_header
from ._screens import check_source_size, screen_before_decoding, screen_before_opening

__all__ = [
    "ORIENTATION_TRANSPOSE",
    "SOURCE_FORMATS",
    "decode",
    "draft",
    "open_header",
    "oriented_size",
    "peek_orientation",
    "upright_size",
]

# The Pillow format ids of the originals the converter reads, tried in this order to identify one.
SOURCE_FORMATS: tuple[str, ...] = (
    "JPEG",
    "PNG",
    "TIFF",
    "GIF",
    "WEBP",
    "AVIF",
    "JPEG2000",
    "BMP",
    "PSD",
    "PPM",
    "ICO",
)

ORIENTATION_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION = 0x0112
_JPEG_READ = ImageFile.SAFEBLOCK  # 1 MiB


_PSD_COLOUR_MODES = {0: "bitmap", 1: "gray", 2: "indexed", 3: "RGB", 4: "CMYK", 7: "multichannel"}
_PSD_COLOUR_MODES |= {8: "duotone", 9: "Lab"}


def _raise_unsupported_layout(plugin: str, failure: Exception, handle: str | None) -> None:
    """Raise for a valid file Pillow will not read, saying why, instead of "corrupt".

    A TIFF or PSD whose layout Pillow has no mode for (a 16-bit PSD), a PNG with a chunk over its
    text limit (an ICC profile over 1 MiB).
    """
    reason = failure.args[0] if failure.args else None
    key = reason.args[0] if isinstance(reason, KeyError) and reason.args else None
    if plugin == "PSD" and isinstance(key, tuple) and len(key) == 2:
        colour, bits = key  # Pillow's own (mode, bits) key, which it lacks
        name = _PSD_COLOUR_MODES.get(colour, f"colour mode {colour}")
        raise ConversionError(
            f"the original is a {name} PSD with {bits} bits per channel, which is not supported: "
            "the converter reads PSDs of 8 bits per channel (and 1-bit bitmaps); save it so, or "
            "as TIFF",
            handle=handle,
        ) from failure
    if plugin == "PNG" and "MAX_TEXT_CHUNK" in str(failure):
        raise ConversionError(
            "the original is a PNG with an embedded ICC profile or text chunk larger than the "
            "1 MiB the converter reads: save it with a smaller profile, or in another format",
            handle=handle,
        ) from failure
    if plugin != "TIFF" or "unknown pixel mode" not in str(failure):
        return
    from PIL import TiffImagePlugin  # noqa: PLC0415 - registered by Image.init() already

    modes = sorted({info[0] for info in TiffImagePlugin.OPEN_INFO.values()})
    raise ConversionError(
        "the original is a TIFF whose sample layout is not supported (its combination of bits "
        "per sample, sample format, samples per pixel and planar configuration has no pixel "
        f"mode); the converter reads TIFFs in the pixel modes {', '.join(modes)}",
        handle=handle,
    ) from failure


def open_header(stream: BinaryIO, handle: str | None, *, max_pixels: int) -> ImageFile.ImageFile:
    """Identify *stream*, read its header (size, mode, metadata) and vet it, without decoding pixels.

    Raises:
        ImageTooLargeError: the image is over *max_pixels* (width x height), or an ICO embeds one.
        ConversionError: the stream is empty, is not an image in an accepted format, is a JPEG
            whose data is too short for the size its header claims, is an arithmetic-coded JPEG,
            or is a JPEG 2000 codestream with a tile missing or cut short.
    """
    if not _seekable(stream):
        stream = io.BytesIO(stream.read())
    stream.seek(0)
    prefix = stream.read(32)
    if not prefix:
        raise ConversionError("the original is empty (0 bytes)", handle=handle)
    Image.init()
    damaged: tuple[str, Exception] | None = None
    for name in SOURCE_FORMATS:
        entry = Image.OPEN.get(name)
        if entry is None:
            continue
        factory, accept = entry
        accepted = True if accept is None else accept(prefix[:16])
        if isinstance(accepted, str) or not accepted:
            continue
        screen_before_opening(name, stream, prefix, max_pixels, handle)
        check_before_opening(name, stream, prefix, handle)
        stream.seek(0)
        try:
            image = factory(stream, "")
        except (SyntaxError, IndexError, TypeError, ValueError, EOFError, struct.error) as exc:
            # As Image.open does: the plugin knew the prefix but not the file; try the next one.
            damaged = damaged or (name, exc)
            continue
        check_source_size(image.size, max_pixels, handle)
        screen_before_decoding(image, stream, handle)
        check_header(image, stream, handle)
        return image
    if damaged is not None:
        plugin, failure = damaged
        _raise_unsupported_layout(plugin, failure, handle)
        raise ConversionError(
            f"the original looks like a {plugin} file but its header cannot be read "
            f"(truncated or corrupt): {failure or type(failure).__name__}",
            handle=handle,
        ) from failure
    kind = _describe(prefix)
    raise ConversionError(
        f"the original is not an image in a format the converter reads ({kind})", handle=handle
    )


def _seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _describe(prefix: bytes) -> str:
    known = {
        b"%PDF": "a PDF document",
        b"%!PS": "a PostScript/EPS document",
        b"\xc5\xd0\xd3\xc6": "a DOS EPS document",
        b"<?xm": "an XML document (SVG is not read)",
        b"<svg": "an SVG document (not read)",
        b"PK\x03\x04": "a ZIP archive",
    }
    for magic, label in known.items():
        if prefix.startswith(magic):
            return label
    return f"unrecognised data starting {prefix[:8].hex(' ')}"


def peek_orientation(image: ImageFile.ImageFile) -> int | None:
    """Return the EXIF orientation (1-8) from the header, or None if it is not known before decoding.

    PNG may carry its eXIf chunk after the pixels; reading it would decode the image, so it is read
    after decoding instead. Malformed EXIF counts as orientation 1: bad metadata never fails an asset.
    """
    if image.format == "PNG" and "exif" not in image.info:
        return None
    return _orientation(image)


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except (SyntaxError, ValueError, TypeError, KeyError, IndexError, OSError, EOFError):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """Return *size* as it is once *orientation* is applied (orientations 5-8 swap the sides)."""
    return (size[1], size[0]) if orientation >= 5 else size


def upright_size(image: ImageFile.ImageFile, orientation: int) -> tuple[int, int]:
    """Return the size of *image* once *orientation* is applied, from its header.

    Recent Pillow versions apply a TIFF's orientation tag themselves while loading, and report the
    upright size from the header already; older ones report the stored size and leave the pixels
    as stored. Both are recognised here, and in ``decode``.
    """
    if image.format == "TIFF" and orientation >= 5:
        stored = (image.tag_v2.get(256), image.tag_v2.get(257))  # type: ignore[attr-defined]
        if image.size == (stored[1], stored[0]):
            return image.size
    return oriented_size(image.size, orientation)


def _consumed_by_plugin(image: Image.Image, orientation: int) -> bool:
    """Whether loading *image* applied *orientation* already (recent Pillow does it for TIFF)."""
    tags = getattr(image, "tag_v2", None)
    return (
        image.format == "TIFF"
        and orientation != 1
        and tags is not None
        and _EXIF_ORIENTATION not in tags
    )


Box = tuple[float, float, float, float]


def draft(image: ImageFile.ImageFile, reduction: int) -> Box:
    """Ask a JPEG decoder to decode at 1/*reduction* scale (1, 2, 4 or 8); other formats ignore it.

    This is the "load" half of shrink-on-load (Pillow calls it a draft).

    Returns where the whole original lies in the image that will be decoded. At 1/8 a 1500-row
    JPEG decodes to 188 rows of which the original covers 187.5: the last row is a partial block.
    """
    width, height = image.size
    if reduction > 1 and image.format in {"JPEG", "MPO"}:
        drafted = image.draft(None, (max(1, width // reduction), max(1, height // reduction)))
        if drafted is not None:
            return drafted[1]
    return (0.0, 0.0, float(width), float(height))


def _transpose_box(box: Box, size: tuple[int, int], method: Image.Transpose) -> Box:
    """Map a rectangle of an image of *size* through a transposition (continuous coordinates)."""
    x0, y0, x1, y1 = box
    width, height = size
    T = Image.Transpose  # noqa: N806 - a local alias for a long enum name
    mapped = {
        T.FLIP_LEFT_RIGHT: (width - x1, y0, width - x0, y1),
        T.FLIP_TOP_BOTTOM: (x0, height - y1, x1, height - y0),
        T.ROTATE_180: (width - x1, height - y1, width - x0, height - y0),
        T.TRANSPOSE: (y0, x0, y1, x1),
        T.ROTATE_90: (y0, width - x1, y1, width - x0),
        T.ROTATE_270: (height - y1, x0, height - y0, x1),
        T.TRANSVERSE: (height - y1, width - x1, height - y0, width - x0),
    }
    return mapped[method]


def decode(
    image: ImageFile.ImageFile,
    orientation: int | None,
    box: Box | None = None,
    *,
    handle: str | None = None,
) -> tuple[Image.Image, int, Box]:
    """Decode the first frame and bake in the EXIF orientation.

    Animated GIF, WebP, APNG and multi-page TIFF give their first frame. Returns the decoded image,
    the orientation applied (read now if the header did not have it), and where the original lies
    in the decoded image (*box*, from ``draft``, carried through the orientation).

    Raises:
        ConversionError: the pixel data ended before the image its header declares (``_complete``).
    """
    stream = image.fp
    if image.format in {"JPEG", "MPO"}:
        # Fewer, larger reads: each decoder call is one release and re-take of the GIL.
        image.decodermaxblock = max(image.decodermaxblock, _JPEG_READ)
    image.load()
    check_decoded(image, stream, handle)
    if box is None:
        box = (0.0, 0.0, float(image.width), float(image.height))
    if orientation is None:
        orientation = _orientation(image)
    decoded: Image.Image = image
    if _consumed_by_plugin(image, orientation):
        return decoded, orientation, box
    transpose = ORIENTATION_TRANSPOSE.get(orientation)
    if transpose is not None:
        box = _transpose_box(box, image.size, transpose)
        decoded = image.transpose(transpose)
    return decoded, orientation, box
