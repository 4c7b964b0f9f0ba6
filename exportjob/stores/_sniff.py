"""Typing an original by its first bytes, for stores that hold only files."""

from __future__ import annotations

from .._enums import AssetType
from .._names import split_name

__all__ = ["SNIFF_BYTES", "sniff_type", "stem", "type_from_name"]

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
    (b"%PDF-", AssetType.PDF),
)
_QUICKTIME_ATOMS = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def sniff_type(head: bytes) -> AssetType:
    r"""Return the asset type the first bytes of a file show (``Asset`` when they show nothing known).

    JPEG, PNG, GIF, TIFF, WebP and BMP are images; PDF is ``Pdf``; MP4 and QuickTime are ``Video``;
    an XML or text file whose root is ``<svg`` is ``Svg``.

    >>> sniff_type(b"\x89PNG\r\n\x1a\n..."), sniff_type(b"%PDF-1.7"), sniff_type(b"hello")
    (<AssetType.IMAGE: 'Image'>, <AssetType.PDF: 'Pdf'>, <AssetType.ASSET: 'Asset'>)
    """
    for magic, asset_type in _MAGIC:
        if head.startswith(magic):
            return asset_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return AssetType.IMAGE
    if head[4:8] in _QUICKTIME_ATOMS:
        return AssetType.VIDEO
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if (
        text.startswith((b"<?xml", b"<!--", b"<!doctype svg")) and b"<svg" in text
    ) or text.startswith(b"<svg"):
        return AssetType.SVG
    return AssetType.ASSET


_EXTENSIONS = {
    **dict.fromkeys(
        ("jpg", "jpeg", "jpe", "png", "gif", "tif", "tiff", "webp", "bmp", "jp2", "avif", "heic"),
        AssetType.IMAGE,
    ),
    "pdf": AssetType.PDF,
    "svg": AssetType.SVG,
    **dict.fromkeys(("mp4", "m4v", "mov", "qt"), AssetType.VIDEO),
}


def type_from_name(file_name: str) -> AssetType:
    """Return the asset type a file name's extension shows (``Asset`` for any other).

    For stores that must not read an original to describe it (object stores: one HEAD each).

    >>> type_from_name("leaf.JPG"), type_from_name("brochure.pdf"), type_from_name("notes.txt")
    (<AssetType.IMAGE: 'Image'>, <AssetType.PDF: 'Pdf'>, <AssetType.ASSET: 'Asset'>)
    """
    extension = split_name(file_name)[1].lstrip(".").lower()
    return _EXTENSIONS.get(extension, AssetType.ASSET)


def stem(file_name: str) -> str:
    stem = split_name(file_name)[0]
    return stem or file_name
