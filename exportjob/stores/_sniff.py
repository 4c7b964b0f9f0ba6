"""Typing an original by its first bytes, for stores that hold only files."""

from __future__ import annotations

import re

from .._enums import AssetType
from .._names import split_name

__all__ = ["SNIFF_BYTES", "sniff_type", "stem"]

SNIFF_BYTES = 512

_MAGIC: tuple[tuple[bytes, AssetType], ...] = (
    (b"\xff\xd8\xff", AssetType.IMAGE),  # JPEG
    (b"\x89PNG\r\n\x1a\n", AssetType.IMAGE),
    (b"GIF87a", AssetType.IMAGE),
    (b"GIF89a", AssetType.IMAGE),
    (b"II*\x00", AssetType.IMAGE),  # TIFF, little-endian
    (b"MM\x00*", AssetType.IMAGE),  # TIFF, big-endian
    (b"II+\x00", AssetType.IMAGE),  # BigTIFF
    (b"MM\x00+", AssetType.IMAGE),
    (b"BM", AssetType.IMAGE),  # BMP
    (b"8BPS", AssetType.IMAGE),  # Photoshop
    (b"\x00\x00\x01\x00", AssetType.IMAGE),  # ICO
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", AssetType.IMAGE),  # JPEG 2000 (JP2 box)
    (b"\xffO\xffQ", AssetType.IMAGE),  # JPEG 2000 (raw codestream)
    (b"%PDF-", AssetType.PDF),
)
_NETPBM = re.compile(rb"P[1-6][ \t\r\n#]")  # PBM, PGM, PPM (Pillow's PPM plugin)
_IMAGE_BRANDS = frozenset({b"avif", b"avis"})  # ISO base media files that are AVIF images
_QUICKTIME_ATOMS = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def sniff_type(head: bytes) -> AssetType:
    r"""Return the asset type the first bytes of a file show (``Asset`` when they show nothing known).

    The formats the converter reads (``exportjob.converters.SOURCE_FORMATS``: JPEG, PNG, TIFF, GIF,
    WebP, AVIF, JPEG 2000, BMP, Photoshop, PBM/PGM/PPM, ICO) are images; PDF is ``Pdf``; MP4 and
    QuickTime are ``Video``; an XML or text file whose root is ``<svg`` is ``Svg``.

    >>> sniff_type(b"\x89PNG\r\n\x1a\n..."), sniff_type(b"%PDF-1.7"), sniff_type(b"hello")
    (<AssetType.IMAGE: 'Image'>, <AssetType.PDF: 'Pdf'>, <AssetType.ASSET: 'Asset'>)
    """
    for magic, asset_type in _MAGIC:
        if head.startswith(magic):
            return asset_type
    if (head[:4] == b"RIFF" and head[8:12] == b"WEBP") or _NETPBM.match(head):
        return AssetType.IMAGE
    if head[4:8] == b"ftyp" and _IMAGE_BRANDS.intersection(_brands(head)):
        return AssetType.IMAGE
    if head[4:8] in _QUICKTIME_ATOMS:
        return AssetType.VIDEO
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if (
        text.startswith((b"<?xml", b"<!--", b"<!doctype svg")) and b"<svg" in text
    ) or text.startswith(b"<svg"):
        return AssetType.SVG
    return AssetType.ASSET


def _brands(head: bytes) -> list[bytes]:
    """The major and compatible brands of an ISO base media ``ftyp`` box at the start of *head*."""
    size = int.from_bytes(head[:4], "big")
    box = head[8 : min(size, len(head))]
    return [box[i : i + 4] for i in range(0, len(box), 4) if i != 4]  # skip the minor version


def stem(file_name: str) -> str:
    stem = split_name(file_name)[0]
    return stem or file_name
