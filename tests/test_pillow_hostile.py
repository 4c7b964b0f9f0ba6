"""Hostile and broken originals: every one fails as a specific, picklable error for that asset."""

from __future__ import annotations

import io
import pickle
import random
import struct
import zlib

import attrs
import pytest
from PIL import Image

from exportjob import ConversionError, ExportJobError, ImageTooLargeError, _samples
from exportjob.converters import Limits, PillowConverter
from exportjob.converters._decode import ACCEPTED_FORMATS


def convert(data: bytes, fmt: str = "png", converter: PillowConverter | None = None, **options):
    out = (converter or PillowConverter()).convert(io.BytesIO(data), _samples.plan(fmt, **options))
    return b"".join(out)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims *width* x *height* gray pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + png_chunk(b"IEND", b"")
    )


def jpeg_with_header(width: int, height: int) -> bytes:
    """A small JPEG whose SOF segment is patched to claim *width* x *height*."""
    data = bytearray(_samples.encode(Image.new("RGB", (16, 16), "red"), "JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


PHOTO_JPEG = _samples.encode(_samples.photo((320, 240)), "JPEG", quality=90)
PHOTO_PNG = _samples.encode(_samples.photo((320, 240)), "PNG")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "empty", id="zero-bytes"),
        pytest.param(b"hello, world\n" * 10, "not an image", id="text"),
        pytest.param(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n", "PDF", id="pdf"),
        pytest.param(
            b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "PostScript", id="eps-never-run"
        ),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "SVG", id="svg"
        ),
        pytest.param(b"PK\x03\x04" + bytes(100), "ZIP", id="zip"),
        pytest.param(bytes(random.Random(1).randbytes(5000)), "not an image", id="random-bytes"),
        pytest.param(
            b"\xff\xd8\xff\xe0" + bytes(random.Random(2).randbytes(3000)),
            "truncated",
            id="jpeg-magic-then-noise",
        ),
        pytest.param(PHOTO_JPEG[: len(PHOTO_JPEG) // 2], "truncated", id="truncated-jpeg"),
        pytest.param(PHOTO_PNG[: len(PHOTO_PNG) // 2], "truncated", id="truncated-png"),
        pytest.param(PHOTO_PNG[:40], "looks like a PNG", id="png-header-only"),
        pytest.param(_samples.animated_gif()[:60], "looks like a GIF", id="truncated-gif"),
        pytest.param(
            _samples.encode(_samples.photo((64, 48)), "TIFF")[:200],
            "truncated",
            id="truncated-tiff",
        ),
        pytest.param(
            _samples.encode(_samples.photo((64, 48)), "WEBP")[:100],
            "could not be converted",
            id="truncated-webp",
        ),
    ],
)
def test_unreadable_originals_are_conversion_errors(data, message):
    with pytest.raises(ConversionError, match=message) as info:
        convert(data)
    assert type(info.value) is ConversionError
    assert info.value.handle == "sample|1"


def test_corrupt_png_data_is_a_conversion_error_with_the_foreign_cause():
    data = bytearray(PHOTO_PNG)
    idat = data.find(b"IDAT")
    data[idat + 20 : idat + 60] = bytes(40)  # damaged deflate stream (CRC now wrong too)
    with pytest.raises(ConversionError) as info:
        convert(bytes(data))
    assert info.value.__cause__ is not None
    assert not isinstance(info.value.__cause__, ExportJobError)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(png_with_header(100_000, 100_000), id="png-10-gigapixel-header"),
        pytest.param(jpeg_with_header(65_000, 65_000), id="jpeg-4-gigapixel-header"),
    ],
)
def test_decompression_bombs_fail_on_the_header(data):
    with pytest.raises(ImageTooLargeError, match="source pixels") as info:
        convert(data)
    assert info.value.handle == "sample|1"


def test_source_limit_is_configurable():
    small = PillowConverter(Limits(max_source_pixels=320 * 240 - 1))
    with pytest.raises(ImageTooLargeError, match="76800 pixels"):
        convert(PHOTO_PNG, converter=small)
    assert convert(PHOTO_PNG, converter=PillowConverter(Limits(max_source_pixels=320 * 240)))


def test_pillow_global_limit_is_neither_the_mechanism_nor_changed(monkeypatch):
    before = Image.MAX_IMAGE_PIXELS
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(ImageTooLargeError):
        convert(png_with_header(100_000, 100_000))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    # Far over Pillow's limit (which would warn, an error here), within the converter's own.
    assert convert(PHOTO_PNG, wid=32)
    monkeypatch.undo()
    assert before == Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"extend": (0, 0, 0, 500_000)}, id="extend"),
        pytest.param({"size": (100_000, 100_000)}, id="size"),
        pytest.param({"crop": __import__("exportjob").Crop(0, 0, 100_000, 100_000)}, id="crop"),
    ],
)
def test_commands_cannot_build_giant_canvases(options):
    with pytest.raises(ImageTooLargeError, match="canvas"):
        convert(PHOTO_PNG, **options)


def test_wrong_extension_does_not_matter():
    plan = attrs.evolve(
        _samples.plan("png"), asset=_samples.plan("png", file_name="photo.jpg").asset
    )
    out = PillowConverter().convert(io.BytesIO(PHOTO_PNG), plan)
    assert Image.open(io.BytesIO(b"".join(out))).size == (320, 240)


class _Pipe(io.RawIOBase):
    """A stream that cannot seek, like a socket or a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_non_seekable_streams_are_read():
    out = PillowConverter().convert(_Pipe(PHOTO_JPEG), _samples.plan("png", wid=32))  # type: ignore[arg-type]
    assert out.width == 32


def test_bad_exif_orientation_counts_as_upright():
    exif = Image.Exif()
    exif[0x0112] = 9
    data = _samples.encode(_samples.photo((40, 30)), "JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(convert(data))).size == (40, 30)


def test_errors_pickle_with_their_handle():
    with pytest.raises(ConversionError) as info:
        convert(b"")
    clone = pickle.loads(pickle.dumps(info.value))
    assert (type(clone), clone.handle, clone.message) == (
        ConversionError,
        "sample|1",
        info.value.message,
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_source_pixels": 0},
        {"max_output_pixels": -1},
        {"max_source_pixels": 1.5},
        {"max_output_pixels": True},
        {"max_source_pixels": "100"},
    ],
)
def test_limits_are_validated(kwargs):
    with pytest.raises(ValueError, match="must be a positive int"):
        Limits(**kwargs)


def test_converter_is_a_frozen_picklable_value():
    converter = PillowConverter(Limits(max_source_pixels=5), shrink_on_load=False)
    assert pickle.loads(pickle.dumps(converter)) == converter
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        converter.limits = Limits()  # type: ignore[misc]
    assert repr(PillowConverter()) == (
        "PillowConverter(limits=Limits(max_source_pixels=89478485, max_output_pixels=100000000), "
        "shrink_on_load=True)"
    )


def test_only_raster_formats_are_read():
    assert "EPS" not in ACCEPTED_FORMATS
    assert "PDF" not in ACCEPTED_FORMATS


@pytest.mark.parametrize("fmt", ["BMP", "PPM", "ICO"])
def test_other_raster_formats_are_read(fmt):
    data = _samples.encode(_samples.photo((32, 32)), fmt)
    assert Image.open(io.BytesIO(convert(data))).size == (32, 32)
