"""Encoding: Pillow writer options per format, from ``qlt``, the compression, ``iccEmbed``, ``printRes``.

The image's own ``info`` (EXIF, XMP, comments, text chunks, the source's profile) is dropped: only
what is passed here is written, so metadata never leaks from the original by accident, and nothing
time-dependent is written (PDF dates are left out), so the same input gives the same bytes.
"""

from __future__ import annotations

import io
import os
from typing import Any

from PIL import Image, ImageFile

from .._formats import FormatInfo, dpi_fits, print_res_problem
from ..exceptions import ConversionError
from ..options import Compression, OutputFormat, PixelType, Quality

__all__ = ["encode", "jpeg2000_psnr", "writer_options"]

_TIFF_COMPRESSION = {
    Compression.NONE: "raw",
    Compression.LZW: "tiff_lzw",
    Compression.ZIP: "tiff_adobe_deflate",
    Compression.JPEG: "jpeg",
}


def jpeg2000_psnr(quality: int) -> float:
    """Map ``qlt`` (1-100) to the PSNR target (dB) of a lossy JPEG 2000 layer: 80 -> 40 dB."""
    return 16 + 0.3 * quality


def _jpeg(fmt: OutputFormat, qlt: Quality, *, progressive: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"quality": qlt.quality}
    if qlt.chroma and fmt.pixel_type is PixelType.RGB:
        options["subsampling"] = 0  # 4:4:4, chroma downsampling off
    if progressive:
        options["progressive"] = True
    return options


def written_dpi(
    info: FormatInfo, print_res: float | None, source_dpi: float | None, handle: str
) -> float | None:
    """The dpi to write: ``printRes``, else the original's; None where the format cannot hold it.

    Raises:
        ConversionError: ``printRes`` asks the format for what its field cannot hold
            (``print_res_problem``): written anyway, it would be wrapped, cut or zero.
    """
    problem = print_res_problem(info, print_res)
    if problem is not None:
        raise ConversionError(problem, handle=handle)
    dpi = print_res or source_dpi
    return dpi if dpi and dpi_fits(info, dpi) else None  # the original's, if it fits


def writer_options(
    info: FormatInfo,
    fmt: OutputFormat,
    qlt: Quality,
    *,
    icc: bytes | None,
    dpi: float | None,
    transparency: int | None,
) -> dict[str, Any]:
    """Return the keyword arguments for ``Image.save`` in format *info* (*dpi*: ``written_dpi``)."""
    writer = info.pillow_format
    compression = info.compression_for(fmt.compression)
    options: dict[str, Any] = {}
    if writer == "JPEG":
        options |= _jpeg(fmt, qlt, progressive=info.progressive)
    elif writer == "TIFF":
        options["compression"] = _TIFF_COMPRESSION[compression or Compression.NONE]
        if compression is Compression.JPEG:
            options["quality"] = qlt.quality
    elif writer == "WEBP":
        if compression is Compression.LOSSLESS:
            options["lossless"] = True
        else:
            options["quality"] = qlt.quality
    elif writer == "AVIF":
        if compression is Compression.LOSSLESS:
            options |= {"quality": 100, "subsampling": "4:4:4"}
        else:
            options["quality"] = qlt.quality
        options["max_threads"] = 1  # byte-identical output whatever the machine
    elif writer == "JPEG2000":
        options["no_jp2"] = False
        if compression is Compression.LOSSLESS:
            options["irreversible"] = False
        else:
            options |= {
                "irreversible": True,
                "quality_mode": "dB",
                "quality_layers": [jpeg2000_psnr(qlt.quality)],
            }
    elif writer == "PDF":
        options |= {"quality": qlt.quality, "title": None, "creationDate": None, "modDate": None}
        options["resolution"] = float(dpi) if dpi else 72.0
    if transparency is not None:
        options["transparency"] = transparency
    if icc is not None and info.icc:
        options["icc_profile"] = icc
    if dpi and writer in {"JPEG", "PNG", "TIFF"}:
        value: float = round(dpi) if writer == "JPEG" else float(dpi)
        options["dpi"] = (value, value)
    return options


def encode(image: Image.Image, info: FormatInfo, options: dict[str, Any]) -> bytes:
    """Encode *image* in memory with the writer of *info*; nothing of ``image.info`` is written."""
    if info.pillow_format is None:  # pragma: no cover - refused before rendering
        msg = f"no Pillow writer for {info.name}"
        raise ValueError(msg)
    if isinstance(image, ImageFile.ImageFile):
        # A decoded original written unchanged: Pillow's TIFF writer would copy its tags (EXIF,
        # XMP, orientation, GPS) from the file object; a plain copy carries none.
        image = image.copy()
    image.info = {}
    if info.pillow_format == "JPEG":
        data = _encode_unlocked(image, options)
        if data is not None:
            return data
    buffer = io.BytesIO()
    image.save(buffer, format=info.pillow_format, **options)
    return buffer.getvalue()


def _encode_unlocked(image: Image.Image, options: dict[str, Any]) -> bytes | None:
    """Encode a JPEG into an anonymous in-memory file; None where the platform has none.

    Pillow's JPEG encoder keeps the GIL while it writes into a Python buffer, and releases it while
    it writes to a file descriptor, so threads converting side by side encode in parallel only this
    way. The bytes are the same either way (the encoder's output does not depend on its sink).
    """
    try:
        fd = os.memfd_create("exportjob-encode", os.MFD_CLOEXEC)
    except (AttributeError, OSError):  # not Linux, or no memfd in this sandbox
        return None
    try:
        with open(fd, "w+b", buffering=0, closefd=False) as sink:
            image.save(sink, format="JPEG", **options)
        size = os.fstat(fd).st_size
        data = os.pread(fd, size, 0)
    finally:
        os.close(fd)
    return data if len(data) == size else None  # a short read: encode again in a buffer
