"""Hostile and broken originals: every one fails as a specific, picklable error for that asset."""

from __future__ import annotations

import io
import pickle
import random
import struct
import time
import zlib

import attrs
import pytest
from PIL import IcoImagePlugin, Image, WebPImagePlugin

from exportjob import ConversionError, ExportJobError
from exportjob.converters import SOURCE_FORMATS, Limits, PillowConverter
from exportjob.exceptions import ImageTooLargeError
from exportjob.testing import images


def convert(data: bytes, fmt: str = "png", converter: PillowConverter | None = None, **options):
    out = (converter or PillowConverter()).convert(io.BytesIO(data), images.plan(fmt, **options))
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
    data = bytearray(images.encode(Image.new("RGB", (16, 16), "red"), "JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


PHOTO_JPEG = images.encode(images.photo((320, 240)), "JPEG", quality=90)
PHOTO_PNG = images.encode(images.photo((320, 240)), "PNG")


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
        pytest.param(images.animated_gif()[:60], "looks like a GIF", id="truncated-gif"),
        pytest.param(
            images.encode(images.photo((64, 48)), "TIFF")[:200],
            "truncated",
            id="truncated-tiff",
        ),
        pytest.param(
            images.encode(images.photo((64, 48)), "WEBP")[:100],
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
        pytest.param(
            {"crop": __import__("exportjob.options").options.Crop(0, 0, 100_000, 100_000)},
            id="crop",
        ),
    ],
)
def test_commands_cannot_build_giant_canvases(options):
    with pytest.raises(ImageTooLargeError, match="canvas"):
        convert(PHOTO_PNG, **options)


def test_wrong_extension_does_not_matter():
    plan = attrs.evolve(images.plan("png"), asset=images.plan("png", file_name="photo.jpg").asset)
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
    out = PillowConverter().convert(_Pipe(PHOTO_JPEG), images.plan("png", wid=32))  # type: ignore[arg-type]
    assert out.width == 32


def test_bad_exif_orientation_counts_as_upright():
    exif = Image.Exif()
    exif[0x0112] = 9
    data = images.encode(images.photo((40, 30)), "JPEG", exif=exif.tobytes())
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
        "PillowConverter(limits=Limits(max_source_pixels=89478485, max_output_pixels=100000000, "
        "memory_budget=None), shrink_on_load=True)"
    )


def test_only_raster_formats_are_read():
    assert "EPS" not in SOURCE_FORMATS
    assert "PDF" not in SOURCE_FORMATS


@pytest.mark.parametrize("fmt", ["BMP", "PPM", "ICO"])
def test_other_raster_formats_are_read(fmt):
    data = images.encode(images.photo((32, 32)), fmt)
    assert Image.open(io.BytesIO(convert(data))).size == (32, 32)


def psd(width: int, height: int, channels: int, colour_mode: int, depth: int) -> bytes:
    """A flat, uncompressed PSD of one plain plane per channel."""
    header = b"8BPS" + struct.pack(">H", 1) + bytes(6)
    header += struct.pack(">HIIHH", channels, height, width, depth, colour_mode)
    planes = bytes(width * height * depth // 8) * channels
    return header + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + planes


@pytest.mark.parametrize(
    ("colour_mode", "channels", "depth", "said"),
    [
        (1, 1, 16, "gray PSD with 16 bits"),
        (3, 3, 16, "RGB PSD with 16 bits"),
        (3, 3, 32, "32 bits"),
    ],
)
def test_a_psd_deeper_than_8_bits_is_unsupported_not_corrupt(
    colour_mode: int, channels: int, depth: int, said: str
) -> None:
    # It said "its header cannot be read (truncated or corrupt): (3, 16)".
    with pytest.raises(ConversionError, match=f"{said} per channel, which is not supported"):
        convert(psd(16, 8, channels, colour_mode, depth))
    assert Image.open(io.BytesIO(convert(psd(16, 8, channels, colour_mode, 8)))).size == (16, 8)


# ------------------------------------------------------------------ ICO: sizes read before Pillow decodes


def ico(*images: bytes, side: int = 256) -> bytes:
    """An ICO whose directory says *side* x *side* for every entry, whatever the embedded images are."""
    offset = 6 + 16 * len(images)
    directory = b""
    for image in images:
        directory += struct.pack(
            "<BBBBHHII", side % 256, side % 256, 0, 0, 1, 32, len(image), offset
        )
        offset += len(image)
    return struct.pack("<HHH", 0, 1, len(images)) + directory + b"".join(images)


def png_ihdr(width: int, height: int) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))


def dib(width: int, height: int, header_size: int = 40) -> bytes:
    """A DIB header (no pixels) for an icon of *width* x *height*: its height counts the AND mask."""
    if header_size == 12:
        return struct.pack("<IHHHH", 12, width, height * 2, 1, 32)
    return struct.pack("<IIiHHIIiiII", header_size, width, height * 2, 1, 32, 0, 0, 0, 0, 0, 0)


def small_png() -> bytes:
    return images.encode(Image.new("RGBA", (16, 16), "red"), "PNG")


@pytest.fixture
def no_ico_decoding(monkeypatch):
    """Fail the test if Pillow's ICO plugin starts decoding (it does so inside ``_open``)."""

    def load(self):
        raise AssertionError("the ICO plugin decoded an image")

    monkeypatch.setattr(IcoImagePlugin.IcoImageFile, "load", load)


LIMITED = PillowConverter(Limits(max_source_pixels=1_000_000))


@pytest.mark.usefixtures("no_ico_decoding")
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(ico(b"\x89PNG\r\n\x1a\n" + png_ihdr(4000, 4000)), id="png"),
        pytest.param(
            ico(small_png(), b"\x89PNG\r\n\x1a\n" + png_ihdr(4000, 4000)), id="second-entry"
        ),
        pytest.param(
            ico(b"\x89PNG\r\n\x1a\n" + png_ihdr(16, 16) + png_ihdr(4000, 4000)),
            id="png-second-ihdr",
        ),
        pytest.param(
            ico(
                b"\x89PNG\r\n\x1a\n"
                + png_ihdr(16, 16)
                + png_chunk(b"tEXt", b"a\0b")
                + png_ihdr(2_000_000, 1)
            ),
            id="png-ihdr-after-a-chunk",
        ),
        pytest.param(ico(dib(4000, 4000)), id="dib"),
        pytest.param(ico(dib(4000, 4000, header_size=124)), id="dib-v5"),
        pytest.param(ico(dib(2_000_000, 1)), id="dib-wide"),
    ],
)
def test_ico_embedded_images_are_checked_before_pillow_decodes_them(data):
    with pytest.raises(ImageTooLargeError, match="inside the ICO file") as info:
        convert(data, converter=LIMITED)
    assert info.value.handle == "sample|1"


def test_ico_dib_core_header_is_read():
    # A 12-byte core header: 16-bit sides, at most 65535 x 32767 after the mask is taken off.
    with pytest.raises(ImageTooLargeError, match="4000x4000"):
        convert(ico(dib(4000, 4000, header_size=12)), converter=LIMITED)


def test_ico_under_the_limit_still_converts():
    data = ico(small_png(), side=16)
    assert Image.open(io.BytesIO(convert(data, converter=LIMITED))).size == (16, 16)


def ico_sharing_one_chunk_chain(count: int, chain: bytes) -> bytes:
    """An ICO of *count* entries, each a PNG signature and a chunk whose length jumps onto *chain*."""
    heads = 6 + 16 * count  # where the first entry's PNG starts
    directory = b"".join(
        struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, 16, heads + 16 * index)
        for index in range(count)
    )
    pngs = b"".join(
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I4s", 16 * (count - index - 1), b"skIp")
        for index in range(count)
    )
    return struct.pack("<HHH", 0, 1, count) + directory + pngs + bytes(4) + chain


def test_ico_entries_sharing_one_long_chunk_chain_are_read_once():
    # 4000 entries whose PNGs all lead into one chain of 20 000 chunks: 80 million chunk reads if
    # every entry followed the chain itself.
    chain = png_chunk(b"tEXt", b"") * 20_000 + png_ihdr(4000, 4000) + png_chunk(b"IEND", b"")
    data = ico_sharing_one_chunk_chain(4000, chain)
    started = time.perf_counter()
    with pytest.raises(ImageTooLargeError, match=r"inside the ICO file\) is 4000x4000 "):
        convert(data, converter=LIMITED)
    assert time.perf_counter() - started < 5


def ico_entries_into_one_chain(sizes: list[tuple[int, int]], chain: bytes) -> bytes:
    """An ICO whose entries are PNGs of an IHDR of each size, each then jumping onto one *chain*."""
    count = len(sizes)
    heads = 6 + 16 * count
    entry = 8 + 25 + 8  # signature, IHDR chunk, the header of a chunk whose length jumps
    directory = b"".join(
        struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, entry, heads + entry * index)
        for index in range(count)
    )
    pngs = b"".join(
        b"\x89PNG\r\n\x1a\n"
        + png_ihdr(*size)
        + struct.pack(">I4s", entry * (count - index - 1), b"skIp")
        for index, size in enumerate(sizes)
    )
    return struct.pack("<HHH", 0, 1, count) + directory + pngs + bytes(4) + chain


@pytest.mark.usefixtures("no_ico_decoding")
def test_ico_entries_sharing_a_chunk_chain_each_keep_their_own_size():
    # The first entry's walk remembers the shared chain (no IHDR in it); the second entry's own,
    # earlier IHDR must still count, not the first entry's answer.
    chain = png_chunk(b"tEXt", b"") * 1000 + png_chunk(b"IEND", b"")
    data = ico_entries_into_one_chain([(16, 16), (4000, 4000)], chain)
    with pytest.raises(ImageTooLargeError, match=r"inside the ICO file\) is 4000x4000 "):
        convert(data, converter=LIMITED)


# ------------------------------------------------------------------ WebP: canvas size read before opening


def webp_claiming(width: int, height: int, kind: str) -> bytes:
    """A real 16x16 WebP whose header claims *width* x *height* (VP8, VP8L or VP8X)."""
    image = Image.new("RGBA" if kind == "VP8X" else "RGB", (16, 16), (10, 20, 30, 128))
    data = bytearray(
        images.encode(
            image, "WEBP", lossless=kind != "VP8 ", exif=b"Exif\0\0MM" if kind == "VP8X" else b""
        )
    )
    assert data[12:16] == kind.encode()
    if kind == "VP8 ":
        data[26:30] = struct.pack("<HH", width, height)
    elif kind == "VP8L":
        data[21:25] = struct.pack("<I", (width - 1) | (height - 1) << 14 | (data[24] >> 4) << 28)
    else:
        data[24:30] = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return bytes(data)


@pytest.mark.parametrize("kind", ["VP8 ", "VP8L", "VP8X"])
def test_webp_canvas_is_checked_before_the_decoder_allocates_it(kind, monkeypatch):
    def decoder(data):
        raise AssertionError("the WebP decoder was created")

    monkeypatch.setattr(WebPImagePlugin._webp, "WebPAnimDecoder", decoder)
    with pytest.raises(ImageTooLargeError, match="4000x4000"):
        convert(webp_claiming(4000, 4000, kind), converter=LIMITED)


# ------------------------------------------------------------------ JPEG data too short for its size


@pytest.mark.parametrize("side", [900, 9000])
def test_jpeg_claiming_more_than_its_data_holds_is_refused(side):
    data = bytearray(images.encode(images.photo((16, 16)), "JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", side, side)
    with pytest.raises(ConversionError, match="too short for its claimed size") as info:
        convert(bytes(data))
    assert type(info.value) is ConversionError
    assert info.value.handle == "sample|1"


def test_jpeg_data_is_counted_from_the_scan_not_the_metadata():
    # A big EXIF block before the scan does not make up for the missing image data.
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription
    data = bytearray(jpeg_with_header(16, 16))
    padded = bytearray(
        images.encode(Image.new("RGB", (16, 16), "red"), "JPEG", exif=exif.tobytes())
    )
    sof = padded.find(b"\xff\xc0")
    padded[sof + 5 : sof + 9] = struct.pack(">HH", 2000, 2000)
    assert len(padded) > len(data) + 60_000
    with pytest.raises(ConversionError, match="too short"):
        convert(bytes(padded))


@pytest.mark.parametrize("mode", ["L", "RGB", "CMYK"])
@pytest.mark.parametrize("quality", [1, 100])
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
@pytest.mark.parametrize("size", [(1, 1), (8, 8), (17, 3), (1, 3000), (2000, 2000)])
def test_uniform_jpegs_the_most_compressible_are_not_refused(mode, quality, progressive, size):
    colour = {"L": 128, "RGB": (200, 30, 40), "CMYK": (10, 20, 30, 40)}[mode]
    data = images.encode(
        Image.new(mode, size, colour),
        "JPEG",
        quality=quality,
        progressive=progressive,
        optimize=True,
    )
    assert Image.open(io.BytesIO(convert(data))).size == size
    # Shrink-on-load (draft) decodes a reduced image: the check uses the frame header's size.
    assert convert(data, wid=max(1, size[0] // 8))


# A 2000x2000 uniform gray JPEG, arithmetic-coded (jpegtran -arithmetic): 125 bytes for 62 500
# blocks. Arithmetic coding has no useful lower bound, so a damaged file could not be told from this.
ARITHMETIC_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a1816"
    "16183123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c6567"
    "63ffc9000b0807d007d001011100ffcc000600101005ffda0008010100003f001eb780ffd9"
)


@pytest.mark.parametrize("converter", [PillowConverter(), PillowConverter(shrink_on_load=False)])
def test_arithmetic_coded_jpegs_are_refused_as_an_unsupported_source(converter):
    with pytest.raises(ConversionError, match="arithmetic-coded JPEG") as info:
        convert(ARITHMETIC_JPEG, wid=100, converter=converter)
    assert type(info.value) is ConversionError
    assert info.value.handle == "sample|1"


# ------------------------------------------------------------------ GIF frames claiming more than their data


def gif_descriptor(data: bytes) -> int:
    """Where the first image descriptor (``,``) of a GIF is, past the colour table and extensions."""
    flags = data[10]
    position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while data[position] == 0x21:  # extension: label, then sub-blocks up to a 0 terminator
        position += 2
        while data[position]:
            position += data[position] + 1
        position += 1
    assert data[position] == 0x2C
    return position


def gif_frame_claiming(data: bytes, width: int, height: int) -> bytes:
    patched = bytearray(data)
    descriptor = gif_descriptor(data)
    patched[descriptor + 5 : descriptor + 9] = struct.pack("<HH", width, height)
    return bytes(patched)


def animated_photo_gif(interlace: bool) -> bytes:
    frames = [images.photo((64, 48), seed=seed).convert("P") for seed in range(3)]
    out = io.BytesIO()
    frames[0].save(
        out, "GIF", save_all=True, append_images=frames[1:], interlace=interlace, duration=100
    )
    return out.getvalue()


@pytest.mark.parametrize("converter", [PillowConverter(), PillowConverter(shrink_on_load=False)])
@pytest.mark.parametrize(
    "original",
    [
        pytest.param(images.encode(images.photo((64, 48)), "GIF", interlace=0), id="photo"),
        pytest.param(
            images.encode(images.photo((64, 48)), "GIF", interlace=1), id="photo-interlaced"
        ),
        pytest.param(images.encode(Image.new("P", (64, 48), 3), "GIF"), id="uniform"),
        pytest.param(
            images.encode(images.photo((64, 48)), "GIF", transparency=0), id="transparent"
        ),
        pytest.param(animated_photo_gif(interlace=False), id="animated"),
        pytest.param(animated_photo_gif(interlace=True), id="animated-interlaced"),
    ],
)
def test_gif_frame_claiming_more_than_its_data_is_refused(original, converter):
    # Pillow's GIF decoder only reports completion once every pixel of the frame is written; when
    # the LZW data ends (end code, then the block terminator) first, loading fails as truncated.
    assert Image.open(io.BytesIO(convert(original, converter=converter))).size == (64, 48)
    with pytest.raises(ConversionError, match="truncated") as info:
        convert(gif_frame_claiming(original, 640, 480), converter=converter)
    assert type(info.value) is ConversionError


def test_gif_screen_larger_than_its_frame_is_a_valid_gif_and_converts():
    # The logical screen is the canvas; a frame may cover part of it (GIF89a). Not a corruption.
    data = bytearray(images.encode(images.photo((64, 48)), "GIF"))
    data[6:10] = struct.pack("<HH", 640, 480)
    assert Image.open(io.BytesIO(convert(bytes(data)))).size == (640, 480)


# ------------------------------------------------------------------ JPEG 2000 tiles missing or cut short


def jpeg2000(image: Image.Image, *, jp2: bool = True, **options) -> bytes:
    return images.encode(image, "JPEG2000", no_jp2=not jp2, **options)


def j2k_claiming(data: bytes, width: int, height: int, *, tiles: bool = False) -> bytes:
    """*data* with its SIZ marker (and JP2 ihdr box) patched to claim *width* x *height*; with
    *tiles*, the tile size too (one tile of the claimed size)."""
    patched = bytearray(data)
    siz = patched.find(b"\xff\x51")
    patched[siz + 6 : siz + 14] = struct.pack(">II", width, height)
    if tiles:
        patched[siz + 22 : siz + 30] = struct.pack(">II", width, height)
    ihdr = patched.find(b"ihdr")
    if ihdr >= 0:
        patched[ihdr + 4 : ihdr + 12] = struct.pack(">II", height, width)
    return bytes(patched)


@pytest.mark.parametrize("jp2", [True, False], ids=["jp2", "j2k"])
@pytest.mark.parametrize("lossless", [True, False], ids=["lossless", "lossy"])
@pytest.mark.parametrize("tile_size", [None, (16, 16)], ids=["one-tile", "tiled"])
def test_jpeg2000_claiming_more_tiles_than_it_holds_is_refused(jp2, lossless, tile_size):
    original = jpeg2000(
        images.photo((64, 48)), jp2=jp2, irreversible=not lossless, tile_size=tile_size
    )
    assert Image.open(io.BytesIO(convert(original))).size == (64, 48)
    with pytest.raises(ConversionError, match="JPEG 2000 codestream is incomplete") as info:
        convert(j2k_claiming(original, 640, 480))
    assert "tiles" in info.value.message
    assert type(info.value) is ConversionError
    assert info.value.handle == "sample|1"


def test_jpeg2000_with_a_tile_left_out_is_refused():
    data = jpeg2000(images.photo((64, 64)), jp2=False, tile_size=(32, 32))
    second = data.find(b"\xff\x90", data.find(b"\xff\x90") + 2)
    (length,) = struct.unpack_from(">I", data, second + 6)
    with pytest.raises(ConversionError, match="1 of the 4 tiles"):
        convert(data[:second] + data[second + length :])


@pytest.mark.parametrize("jp2", [True, False], ids=["jp2", "j2k"])
def test_truncated_jpeg2000_is_refused(jp2):
    data = jpeg2000(images.photo((320, 240)), jp2=jp2)
    with pytest.raises(ConversionError, match="past the end of the data"):
        convert(data[: len(data) * 3 // 4])


@pytest.mark.parametrize("converter", [PillowConverter(), PillowConverter(shrink_on_load=False)])
@pytest.mark.parametrize("jp2", [True, False], ids=["jp2", "j2k"])
@pytest.mark.parametrize("lossless", [True, False], ids=["lossless", "lossy"])
@pytest.mark.parametrize("tile_size", [None, (256, 192)], ids=["one-tile", "tiled"])
@pytest.mark.parametrize("size", [(1, 1), (17, 3), (1, 2000), (2000, 1500)])
def test_uniform_jpeg2000_the_most_compressible_is_not_refused(
    size, tile_size, lossless, jp2, converter
):
    data = jpeg2000(
        Image.new("RGB", size, (200, 30, 40)),
        jp2=jp2,
        irreversible=not lossless,
        tile_size=tile_size,
    )
    out = convert(data, wid=max(1, size[0] // 4), converter=converter)
    assert Image.open(io.BytesIO(out)).width == max(1, size[0] // 4)


@pytest.mark.xfail(strict=True, reason="known gap: the tile grid patched along with the size")
def test_jpeg2000_with_its_tile_grid_patched_too_is_refused():
    # One tile claiming the larger size: every tile is there. OpenJPEG reads the packets against
    # the wrong geometry and decodes noise without an error; no structural check can tell.
    original = jpeg2000(images.photo((64, 48)), jp2=False)
    with pytest.raises(ConversionError):
        convert(j2k_claiming(original, 640, 480, tiles=True))


def test_an_arithmetic_frame_behind_long_headers_is_refused_too():
    # 150 KB of APP15 segments before the frame header: the segment walk goes past its first read.
    padding = b"".join(b"\xff\xef" + struct.pack(">H", 50_002) + bytes(50_000) for _ in range(3))
    data = ARITHMETIC_JPEG[:2] + padding + ARITHMETIC_JPEG[2:]
    with pytest.raises(ConversionError, match="arithmetic-coded JPEG"):
        convert(data, wid=100)


def test_a_png_whose_profile_is_over_pillow_s_limit_says_so() -> None:
    # It said "its header cannot be read (truncated or corrupt): Decompressed data too large for
    # PngImagePlugin.MAX_TEXT_CHUNK".
    huge = images.adobe_rgb_profile() + bytes(5 << 20)
    data = images.encode(images.photo((16, 16)), "PNG", icc_profile=huge)
    with pytest.raises(ConversionError, match="ICC profile or text chunk larger than the 1 MiB"):
        convert(data)
