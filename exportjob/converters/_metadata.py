"""Metadata carried from the original: ``xmpEmbed`` (its XMP) and the ``keep_metadata`` groups.

Nothing is carried by default (``_encode`` drops the image's own ``info``). ``xmpEmbed=1`` copies the
original's XMP packet with its orientation reset to 1, since the pixels are already upright, and
with its GPS properties removed unless GPS is kept. ``keep_metadata`` adds EXIF fields: ``rights``
keeps Artist and Copyright, and the creator, rights and credit fields of the original's IPTC and
XMP (as elements or as ``rdf:Description`` attributes), written as a small XMP packet when
``xmpEmbed`` does not copy the original's; ``gps`` keeps the EXIF GPS directory (a compressed TIFF
cannot take it, see ``writer_metadata``). Everything else (camera serial numbers, owner names,
maker notes, thumbnails, locations) is always dropped. ``Carried.kept`` names what was written, for
the job log.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

import attrs
from PIL import Image, ImageFile, IptcImagePlugin, PngImagePlugin, TiffImagePlugin

from ..options import MetadataKeep, RenderOptions

__all__ = ["Carried", "carried", "writer_metadata"]

_ARTIST, _COPYRIGHT, _GPS_IFD, _XMP_TAG = 0x013B, 0x8298, 0x8825, 700
_ORIENTATION = re.compile(
    rb'(tiff:Orientation\s*=\s*["\'])\d(["\'])|(<tiff:Orientation>)\s*\d\s*(</tiff:Orientation>)'
)
_GPS = re.compile(
    rb'\s(?:exif|exifEX):GPS\w+\s*=\s*"[^"]*"'
    rb"|\s(?:exif|exifEX):GPS\w+\s*=\s*'[^']*'"
    rb"|<(exif|exifEX):GPS(\w+)\b[^>]*?(?:/>|>.*?</\1:GPS\2>)",
    re.DOTALL,
)
# IPTC IIM datasets of the rights group -> their XMP property.
_IPTC = {
    (2, 80): "dc:creator",
    (2, 116): "dc:rights",
    (2, 110): "photoshop:Credit",
    (2, 115): "photoshop:Source",
}
_RIGHTS_NAME = rb"(dc:creator|dc:rights|photoshop:Credit|photoshop:Source|xmpRights:\w+)"
_XMP_RIGHTS = re.compile(rb"<" + _RIGHTS_NAME + rb"\b[^>]*?(?:/>|>.*?</\1>)", re.DOTALL)
# The same properties written as attributes of an rdf:Description (the compact form Adobe's
# serializer uses for simple values), found in that start tag only.
_VALUE = rb"(\"[^\"<]*\"|'[^'<]*')"
_DESCRIPTION = re.compile(rb"<rdf:Description((?:\s+[\w:.-]+\s*=\s*" + _VALUE + rb")*)\s*/?>")
_RIGHTS_ATTRIBUTE = re.compile(rb"\s" + _RIGHTS_NAME + rb"\s*=\s*" + _VALUE)
_NAMESPACES = (
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
    'xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/"'
)


@attrs.frozen
class Carried:
    """What of the original's metadata goes into the output, and the names of what was kept."""

    exif: Image.Exif | None = None
    xmp: bytes | None = None
    kept: tuple[str, ...] = ()


_NOTHING = Carried()


def _source_xmp(image: Image.Image) -> bytes | None:
    # TIFF first: its tag holds the packet as stored (Pillow edits ``info`` when it orients).
    tags = getattr(image, "tag_v2", None)
    value = tags.get(_XMP_TAG) if tags is not None else None
    if isinstance(value, (bytes, bytearray)) and value:
        return bytes(value)
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = image.info.get(key)
        if value:
            return value.encode() if isinstance(value, str) else bytes(value)
    return None


def _exif(image: Image.Image) -> Image.Exif:
    try:
        return image.getexif()
    except (SyntaxError, ValueError, TypeError, KeyError, IndexError, OSError, EOFError):
        return Image.Exif()


def _iptc_rights(image: ImageFile.ImageFile) -> list[tuple[str, str]]:
    try:
        iptc = IptcImagePlugin.getiptcinfo(image) or {}
    except (SyntaxError, ValueError, TypeError, KeyError, IndexError, OSError, EOFError):
        return []
    out: list[tuple[str, str]] = []
    for key, prop in _IPTC.items():
        values = iptc.get(key)
        listed = values if isinstance(values, list) else [values] if values else []
        out.extend((prop, bytes(value).decode("utf-8", "replace")) for value in listed)
    return out


def _xmp_rights(xmp: bytes) -> tuple[list[bytes], list[bytes]]:
    """The rights properties of *xmp*: its elements, and its attributes (``name="value"``)."""
    matches = list(_XMP_RIGHTS.finditer(xmp))
    elements = [m.group(0) for m in matches]
    present = {m.group(1) for m in matches}
    attributes: list[bytes] = []
    for description in _DESCRIPTION.finditer(xmp):
        for m in _RIGHTS_ATTRIBUTE.finditer(description.group(1)):
            if m.group(1) not in present:  # once each: a repeated attribute is not well-formed
                present.add(m.group(1))
                attributes.append(m.group(1) + b"=" + m.group(2))
    return elements, attributes


def _rights_packet(
    elements: list[bytes], attributes: list[bytes], iptc: list[tuple[str, str]]
) -> bytes:
    present = {re.match(rb"<?([\w:]+)", e).group(1).decode() for e in elements + attributes}  # type: ignore[union-attr]
    body = (
        b"".join(elements)
        + "".join(
            f"<{prop}>{escape(text)}</{prop}>" for prop, text in iptc if prop not in present
        ).encode()
    )
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        + _NAMESPACES.encode()
        + b"".join(b" " + a for a in attributes)
        + b">"
        + body
        + b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def carried(image: ImageFile.ImageFile, options: RenderOptions) -> Carried:
    """Collect what *options* carry of the original *image*'s metadata (read from its header)."""
    keep = options.keep_metadata
    if not keep and not options.xmp_embed:
        return _NOTHING  # the usual case: no EXIF or XMP is parsed or built
    kept: list[str] = []
    xmp = _source_xmp(image) if options.xmp_embed or MetadataKeep.RIGHTS in keep else None
    packet: bytes | None = None
    if options.xmp_embed and xmp:
        packet = _ORIENTATION.sub(lambda m: (m[1] or m[3]) + b"1" + (m[2] or m[4]), xmp)
        if MetadataKeep.GPS not in keep:
            packet = _GPS.sub(b"", packet)
        kept.append("xmp")
    exif = Image.Exif()
    source = _exif(image) if keep else Image.Exif()
    if MetadataKeep.RIGHTS in keep:
        for tag, name in ((_ARTIST, "exif:Artist"), (_COPYRIGHT, "exif:Copyright")):
            if source.get(tag):
                exif[tag] = source[tag]
                kept.append(name)
        if packet is None:
            elements, attributes = _xmp_rights(xmp or b"")
            iptc = _iptc_rights(image)
            if elements or attributes or iptc:
                packet = _rights_packet(elements, attributes, iptc)
                kept.append("xmp:rights")
    if MetadataKeep.GPS in keep and _GPS_IFD in source:
        gps = source.get_ifd(_GPS_IFD)
        if gps:
            exif.get_ifd(_GPS_IFD).update(gps)
            kept.append("exif:GPS")
    return Carried(exif if len(exif) or exif.get_ifd(_GPS_IFD) else None, packet, tuple(kept))


def writer_metadata(
    writer: str | None, metadata: Carried, save: dict[str, Any] | None = None
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Return the ``Image.save`` options that write *metadata* in *writer*, and what they write.

    JPEG, WebP and AVIF take ``exif=`` and ``xmp=``; PNG ``exif=`` and an uncompressed iTXt chunk
    (XMP Part 3); TIFF its own tags (XMP is tag 700, GPS a sub-IFD). A compressed TIFF (*save*, the
    writer's options, names its compression) is written by libtiff, to which Pillow cannot hand a
    GPS directory: it is left out, and not recorded as kept. Other formats store none of it, and
    record nothing as kept.
    """
    options: dict[str, Any] = {}
    kept = metadata.kept
    if writer in {"JPEG", "WEBP", "AVIF"}:
        if metadata.exif is not None:
            options["exif"] = metadata.exif
        if metadata.xmp is not None:
            options["xmp"] = metadata.xmp
    elif writer == "PNG":
        if metadata.exif is not None:
            options["exif"] = metadata.exif
        if metadata.xmp is not None:
            info = PngImagePlugin.PngInfo()
            info.add_itxt("XML:com.adobe.xmp", metadata.xmp.decode("utf-8", "replace"))
            options["pnginfo"] = info
    elif writer == "TIFF":
        tags: dict[int, Any] = {}
        if metadata.exif is not None:
            tags.update(metadata.exif)
            gps = metadata.exif.get_ifd(_GPS_IFD)
            libtiff = (
                TiffImagePlugin.WRITE_LIBTIFF or (save or {}).get("compression", "raw") != "raw"
            )
            if gps and not libtiff:
                tags[_GPS_IFD] = dict(gps)  # a dict value is written as a sub-IFD
            elif gps:
                kept = tuple(name for name in kept if name != "exif:GPS")
        if metadata.xmp is not None:
            tags[_XMP_TAG] = metadata.xmp
        if tags:
            options["tiffinfo"] = tags
    else:
        return {}, ()
    return options, kept
