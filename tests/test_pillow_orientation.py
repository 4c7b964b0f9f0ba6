"""Orientation from every source format: what ``ImageOps.exif_transpose`` would apply, applied once."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageOps, PngImagePlugin, features

from exportjob.converters import PillowConverter
from exportjob.testing import images


def xmp(orientation: int) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        f'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="{orientation}"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()


def exif(orientation: int) -> Image.Exif:
    data = Image.Exif()
    data[0x0112] = orientation
    return data


def png_xmp(image: Image.Image, orientation: int) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp(orientation).decode())
    return images.encode(image, "PNG", pnginfo=info)


MARKER = images.marker_image((60, 40))
SOURCES = {
    "tiff-tag-ccitt-g4": lambda o: images.encode(
        MARKER.convert("1"), "TIFF", compression="group4", tiffinfo={274: o}
    ),
    "tiff-tag-rgb-lzw": lambda o: images.encode(
        MARKER, "TIFF", compression="tiff_lzw", tiffinfo={274: o}
    ),
    "tiff-tag-raw": lambda o: images.encode(MARKER, "TIFF", tiffinfo={274: o}),
    "png-exif": lambda o: images.encode(MARKER, "PNG", exif=exif(o)),
    "png-xmp": lambda o: png_xmp(MARKER, o),
    "webp-exif": lambda o: images.encode(MARKER, "WEBP", exif=exif(o), lossless=True),
    "webp-xmp": lambda o: images.encode(MARKER, "WEBP", xmp=xmp(o), lossless=True),
    "jpeg-exif": images.exif_oriented_jpeg,
    "jpeg-xmp": lambda o: images.encode(MARKER, "JPEG", xmp=xmp(o), quality=95),
}
if features.check("avif"):
    SOURCES["avif-exif"] = lambda o: images.encode(MARKER, "AVIF", exif=exif(o), quality=95)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("wid", [None, 30], ids=["full", "wid30"])
def test_orientation_is_applied_as_exif_transpose_would(source, orientation, wid):
    data = SOURCES[source](orientation)
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    if wid is not None:
        upright = upright.resize((wid, round(upright.height * wid / upright.width)))
    out = PillowConverter().convert(io.BytesIO(data), images.plan("png", wid=wid))
    image = Image.open(io.BytesIO(b"".join(out))).convert("RGB")
    assert image.size == upright.size
    # The marker's quadrants differ by far more than resampling or JPEG changes a pixel.
    small = (8, 8)
    difference = ImageChops.difference(image.resize(small), upright.resize(small))
    assert max(high for _, high in difference.getextrema()) < 60
