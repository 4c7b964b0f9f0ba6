"""Refusing originals whose pixel data ends before the image their header declares does.

Several decoders finish "successfully" when the data runs out: zlib ends and Pillow's PNG reader
stops, leaving the remaining rows zero; libtiff reads the strips there are; libjpeg, meeting the end
of the data, fills the remaining blocks with flat grey; libwebp's animation decoder paints the canvas
that no frame covers with the background. Each gives a blank "success". The checks here, one per
format, refuse such a file with a ``ConversionError`` that says the data is incomplete:

- before the plugin opens it: an animated WebP whose frames, all together, do not cover its
  declared canvas (libwebp would allocate that canvas twice, and paint what no frame covers with
  the background: a 9.6 KB file declaring 89 megapixels took 1.4 GB);
- before decoding, from the header alone: a TIFF with fewer strips or tiles than its size needs,
  or uncompressed strips shorter than their rows (a strip cut short at the end of the file fails
  in the decoder already);
- after decoding, only when the last row looks like a decoder's fill: a PNG whose last row is all
  zero is inflated once more, counting bytes, and refused if the data is shorter than the rows the
  header declares (an exact test, so a genuinely black last row passes); a JPEG whose last row is
  exactly the flat grey (128 in every band) libjpeg writes for blocks it has no data for, while its
  first row is not, is refused. That last test is a heuristic: a genuine JPEG whose last row, and
  not its first, is exactly flat mid-grey in every band is refused too (no photograph is; a
  synthetic image may be). A uniformly grey JPEG passes.

``ImageFile.LOAD_TRUNCATED_IMAGES`` is never set: a file cut short at the byte level already fails.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterator
from typing import IO, BinaryIO

from PIL import Image, ImageFile

from ..exceptions import ConversionError

__all__ = ["check_before_opening", "check_decoded", "check_header"]

_INCOMPLETE = "the original's pixel data is incomplete: "


def _refuse(problem: str, handle: str | None) -> ConversionError:
    return ConversionError(_INCOMPLETE + problem, handle=handle)


def check_before_opening(name: str, stream: BinaryIO, prefix: bytes, handle: str | None) -> None:
    """Refuse an animated WebP whose frames leave its canvas uncovered, before libwebp allocates it."""
    if name == "WEBP" and prefix[12:16] == b"VP8X" and len(prefix) >= 30:
        canvas = (
            1 + int.from_bytes(prefix[24:27], "little"),
            1 + int.from_bytes(prefix[27:30], "little"),
        )
        problem = _webp_problem(stream, canvas)
        stream.seek(0)
        if problem is not None:
            raise _refuse(problem, handle)


def check_header(image: ImageFile.ImageFile, stream: BinaryIO, handle: str | None) -> None:  # noqa: ARG001
    """Refuse, before decoding, a TIFF whose strips or tiles cannot fill its size."""
    problem = _tiff_problem(image) if image.format == "TIFF" else None
    if problem is not None:
        raise _refuse(problem, handle)


def check_decoded(image: Image.Image, stream: IO[bytes] | None, handle: str | None) -> None:
    """Refuse, after decoding, a PNG or JPEG whose last rows are a decoder's fill, not data.

    An animated PNG is checked too: its IDAT data is the default image, always of the header's
    size, whether or not the animation shows it.
    """
    if image.format == "PNG" and stream is not None:
        if image.info.get("interlace") or _row_is(image, -1, 0):
            problem = _png_problem(stream)
            if problem is not None:
                raise _refuse(problem, handle)
    elif image.format in {"JPEG", "MPO"} and any(
        _row_is(image, -1, fill) and not _row_is(image, 0, fill) for fill in _jpeg_fills(image)
    ):
        raise _refuse(
            "its last rows are the flat grey a JPEG decoder writes where the data has ended "
            "(the frame header claims more rows than the scan holds)",
            handle,
        )


def _jpeg_fills(image: Image.Image) -> tuple[int | tuple[int, ...], ...]:
    """The pixel libjpeg's fill (128 per component) becomes once decoded, as the file says.

    Pillow reads CMYK JPEGs with an Adobe marker as inverted CMYK: the fill arrives as 127 in every
    band of a CMYK one, and as (128, 128, 128, 127) from YCCK (transform 2: its mid grey, inverted).
    """
    if image.mode != "CMYK" or "adobe" not in image.info:
        return (128,)
    return ((128, 128, 128, 127),) if image.info.get("adobe_transform") == 2 else (127,)


def _chunks(stream: IO[bytes], start: int, *, big_endian: bool) -> Iterator[tuple[bytes, int]]:
    """Yield each chunk's (type, length) from *start*: PNG's big-endian or RIFF's little-endian.

    The caller reads or skips the chunk's body before asking for the next one.
    """
    stream.seek(start)
    while len(head := stream.read(8)) == 8:
        if big_endian:
            length, kind = struct.unpack(">I4s", head)
        else:
            kind, length = struct.unpack("<4sI", head)
        yield kind, length


def _row_is(image: Image.Image, row: int, value: int | tuple[int, ...]) -> bool:
    """Whether every pixel of the row *row* (-1: the last) is *value* (an int: in every band)."""
    width, height = image.size
    pixels = image.load()  # not crop(), which would apply Pillow's global pixel limit
    if width == 0 or height == 0 or pixels is None:
        return False
    row %= height
    bands = len(image.getbands())
    fill = value if bands == 1 or isinstance(value, tuple) else (value,) * bands
    return all(pixels[x, row] == fill for x in range(width))


# ------------------------------------------------------------------ PNG

_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def _png_problem(stream: IO[bytes]) -> str | None:
    """Inflate the IDAT data, counting bytes; say what is missing if it is short of the rows."""
    inflater = zlib.decompressobj()
    expected = got = 0
    header_read = False
    for kind, length in _chunks(stream, 8, big_endian=True):
        if kind == b"IHDR":
            ihdr = stream.read(13)
            if len(ihdr) < 13:
                return None
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
            expected = _png_size(width, height, depth * _PNG_CHANNELS.get(colour, 4), interlace)
            header_read = True
            stream.seek(length - 13 + 4, 1)
            continue
        if kind == b"IDAT":
            remaining = length
            while remaining > 0 and got < expected:
                chunk = stream.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)
                try:
                    got += _inflated(inflater, chunk)
                except zlib.error:
                    return None  # corrupt, not short: Pillow has said what it will
            stream.seek(remaining + 4, 1)
            if got >= expected:
                return None
            continue
        if kind == b"IEND":
            break
        stream.seek(length + 4, 1)
    if not header_read or got >= expected:
        return None
    return f"the PNG data holds {got} of the {expected} bytes its {_rows(expected, got)}"


def _rows(expected: int, got: int) -> str:
    return f"header declares ({100 * got // max(expected, 1)}% present)"


def _inflated(inflater: zlib._Decompress, chunk: bytes) -> int:
    total = 0
    data = chunk
    while data:
        out = inflater.decompress(data, 1 << 20)
        total += len(out)
        data = inflater.unconsumed_tail
    return total


def _png_size(width: int, height: int, bits_per_pixel: int, interlace: int) -> int:
    def rows(w: int, h: int) -> int:
        return 0 if w == 0 or h == 0 else h * (1 + math.ceil(w * bits_per_pixel / 8))

    if not interlace:
        return rows(width, height)
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        total += rows(max(0, math.ceil((width - x0) / dx)), max(0, math.ceil((height - y0) / dy)))
    return total


# ------------------------------------------------------------------ TIFF

_WIDTH, _LENGTH = 256, 257
_STRIP_OFFSETS, _ROWS_PER_STRIP, _STRIP_BYTES = 273, 278, 279
_TILE_WIDTH, _TILE_LENGTH, _TILE_OFFSETS, _TILE_BYTES = 322, 323, 324, 325
_COMPRESSION, _BITS, _SAMPLES, _PLANAR = 259, 258, 277, 284


def _tiff_problem(image: ImageFile.ImageFile) -> str | None:
    tags = getattr(image, "tag_v2", None)
    if tags is None:
        return None
    # The file's own dimensions: Pillow may report the size already turned by the orientation tag.
    width = int(tags.get(_WIDTH, image.size[0]) or 0)
    height = int(tags.get(_LENGTH, image.size[1]) or 0)
    samples = int(tags.get(_SAMPLES, 1) or 1)
    planes = samples if tags.get(_PLANAR, 1) == 2 else 1
    if _TILE_OFFSETS in tags:
        tile_w, tile_h = int(tags.get(_TILE_WIDTH, 0) or 0), int(tags.get(_TILE_LENGTH, 0) or 0)
        if tile_w <= 0 or tile_h <= 0:
            return None
        needed = math.ceil(width / tile_w) * math.ceil(height / tile_h) * planes
        offsets, counts = _tuple(tags.get(_TILE_OFFSETS)), _tuple(tags.get(_TILE_BYTES))
        what = "tiles"
        if tags.get(_COMPRESSION, 1) == 1 and len(counts) >= needed:
            # Every tile is whole, edge tiles too: a sparse one (0 bytes) would be read from the
            # start of the file instead.
            bits = _tuple(tags.get(_BITS)) or (1,)
            row_bytes = math.ceil(tile_w * int(bits[0]) * (samples // planes) / 8)
            across, down = math.ceil(width / tile_w), math.ceil(height / tile_h)
            for index, count in enumerate(counts[:needed]):
                # A tile of the last row needs only the image's rows in it (Pillow reads those).
                row = index % (across * down) // across
                wanted = row_bytes * min(tile_h, height - row * tile_h)
                if count < wanted:
                    return (
                        f"its uncompressed tile {index} holds {count} of the {wanted} bytes "
                        "its rows need"
                    )
    else:
        rows = int(tags.get(_ROWS_PER_STRIP, height) or height)
        rows = min(max(rows, 1), height) if height else 1
        needed = math.ceil(height / rows) * planes
        offsets, counts = _tuple(tags.get(_STRIP_OFFSETS)), _tuple(tags.get(_STRIP_BYTES))
        what = "strips"
        if tags.get(_COMPRESSION, 1) == 1 and len(counts) >= needed:
            bits = _tuple(tags.get(_BITS)) or (1,)
            row_bytes = math.ceil(width * int(bits[0]) * (samples // planes) / 8)
            wanted = row_bytes * height * planes
            if sum(counts[:needed]) < wanted:
                return f"its uncompressed strips hold {sum(counts[:needed])} of {wanted} bytes"
    if offsets and len(offsets) < needed:
        return f"its size needs {needed} {what} but the file has {len(offsets)}"
    return None


def _tuple(value: object) -> tuple[int, ...]:
    if isinstance(value, tuple):
        return tuple(int(v) for v in value)
    return () if value is None else (int(value),)  # type: ignore[call-overload]


# ------------------------------------------------------------------ WebP


def _webp_problem(stream: BinaryIO, canvas: tuple[int, int]) -> str | None:
    """For an animated WebP: refuse when the frames together leave part of the canvas uncovered."""
    frames = 0
    x0 = y0 = math.inf
    x1 = y1 = 0
    for kind, size in _chunks(stream, 12, big_endian=False):
        if kind == b"ANMF":
            body = stream.read(16)
            if len(body) < 16:
                break
            x = 2 * int.from_bytes(body[0:3], "little")
            y = 2 * int.from_bytes(body[3:6], "little")
            w = 1 + int.from_bytes(body[6:9], "little")
            h = 1 + int.from_bytes(body[9:12], "little")
            frames += 1
            x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x + w), max(y1, y + h)
            stream.seek(size + (size & 1) - 16, 1)
        else:
            stream.seek(size + (size & 1), 1)
    if frames == 0:
        return None
    width, height = canvas
    if x0 <= 0 and y0 <= 0 and x1 >= width and y1 >= height:
        return None
    covered = max(0, min(x1, width) - max(0, int(x0))) * max(0, min(y1, height) - max(0, int(y0)))
    return (
        f"its {frames} animation frame(s) cover {covered} of the {width * height} pixels of the "
        "canvas it declares (the rest would be background)"
    )
