"""Typing an original by its file name, for stores that must not read it before authorization."""

from __future__ import annotations

from .._enums import AssetType
from .._names import split_name

__all__ = ["type_from_name"]

_IMAGE = (
    "jpg jpeg jpe jfif png gif tif tiff webp bmp dib psd ico jp2 j2k jpc jpf jpx j2c "
    "tga pcx ppm pgm pbm pnm sgi rgb dds eps avif heic"
)
_BY_EXTENSION: dict[str, AssetType] = {
    **dict.fromkeys(_IMAGE.split(), AssetType.IMAGE),
    "pdf": AssetType.PDF,
    "svg": AssetType.SVG,
    **dict.fromkeys(["mp4", "m4v", "mov", "qt"], AssetType.VIDEO),
}


def type_from_name(file_name: str) -> AssetType:
    """Return the asset type a file name's extension shows (``Asset`` when it shows nothing known).

    >>> type_from_name("Leaf.JPG"), type_from_name("spec.pdf"), type_from_name("README")
    (<AssetType.IMAGE: 'Image'>, <AssetType.PDF: 'Pdf'>, <AssetType.ASSET: 'Asset'>)
    """
    extension = split_name(file_name)[1].lstrip(".").lower()
    return _BY_EXTENSION.get(extension, AssetType.ASSET)
