"""Pre-decode screens: what an original must pass before Pillow opens or decodes it.

The source limit applies to every header. Beyond it, one section per format, as Pillow keeps one
plugin per format:

- ICO and WebP, before the plugin sees the stream: Pillow's ICO plugin decodes the embedded image
  inside ``_open``, and its WebP plugin allocates the canvas (two buffers of width x height x 4
  bytes) there, so their sizes are read here first. Every other accepted plugin only parses headers.
- JPEG and JPEG 2000, after the header is read and before decoding: their decoders turn a damaged
  file into a grey- or black-filled "success", so the data is checked against the header.

Each screen reads a few bytes, never pixels, and raises the library's own errors.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

from PIL import ImageFile

from ..exceptions import ConversionError, ImageTooLargeError

__all__ = ["check_source_size", "screen_before_decoding", "screen_before_opening"]


# ------------------------------------------------------------------ the source limit


def check_source_size(
    size: tuple[int, int], max_pixels: int, handle: str | None, where: str = ""
) -> None:
    """Raise ``ImageTooLargeError`` if an image of *size* is over *max_pixels* source pixels."""
    width, height = size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"the original{where} is {width}x{height} = {width * height} pixels, over the limit "
            f"of {max_pixels} source pixels",
            handle=handle,
        )


# ------------------------------------------------------------------ when each screen runs


def screen_before_opening(
    name: str, stream: BinaryIO, prefix: bytes, max_pixels: int, handle: str | None
) -> None:
    """Check the sizes plugin *name* would act on inside ``_open``, before it sees the stream.

    Raises:
        ImageTooLargeError: an image inside an ICO, or a WebP canvas, is over *max_pixels*.
    """
    if name == "ICO":
        for size in _ico_sizes(stream):
            check_source_size(size, max_pixels, handle, where=" (an image inside the ICO file)")
    elif name == "WEBP":
        canvas = _webp_size(prefix)
        if canvas is not None:
            check_source_size(canvas, max_pixels, handle)


def screen_before_decoding(
    image: ImageFile.ImageFile, stream: BinaryIO, handle: str | None
) -> None:
    """Check an opened JPEG or JPEG 2000 original's data against its header, before decoding.

    Raises:
        ConversionError: a JPEG whose data is too short for its claimed size, an arithmetic-coded
            JPEG, or a JPEG 2000 codestream with a tile missing or cut short.
    """
    if image.format in {"JPEG", "MPO"}:
        _check_jpeg_data(image, stream, handle)
    elif image.format == "JPEG2000":
        _check_jpeg2000_tiles(stream, handle)


# ------------------------------------------------------------------ ICO


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Chunks where Pillow's PNG reader stops reading the header (pixel data or the end).
_PNG_HEADER_END = frozenset({b"IDAT", b"fdAT", b"IEND"})
# The DIB header sizes Pillow's BMP reader takes a 32-bit width and height from.
_DIB_HEADERS = frozenset({40, 52, 56, 64, 108, 124})


def _ico_sizes(stream: BinaryIO) -> list[tuple[int, int]]:
    """The size of every image an ICO file embeds, read from the PNG or DIB headers themselves.

    The directory's own sizes (at most 256) are not trusted: Pillow decodes what the entry points at,
    whatever its size. Entries that cannot be read are left to Pillow, which fails on them without
    decoding. Never raises; reads a few bytes per entry (PNG chunk chains are followed once however
    many entries point into them).
    """
    stream.seek(4)
    count_bytes = stream.read(2)
    if len(count_bytes) < 2:
        return []
    (count,) = struct.unpack("<H", count_bytes)
    offsets: list[int] = []
    for _ in range(count):
        entry = stream.read(16)
        if len(entry) < 16:
            break
        offsets.append(struct.unpack_from("<I", entry, 12)[0])
    sizes: list[tuple[int, int]] = []
    walked: dict[int, tuple[int, int] | None] = {}
    for offset in offsets:
        stream.seek(offset)
        magic = stream.read(8)
        size = (
            _png_size(stream, offset + 8, walked)
            if magic == _PNG_MAGIC
            else _dib_size(magic, stream)
        )
        if size is not None:
            sizes.append(size)
    return sizes


def _png_size(
    stream: BinaryIO, position: int, walked: dict[int, tuple[int, int] | None]
) -> tuple[int, int] | None:
    """The size the last IHDR chunk before the pixel data declares (Pillow keeps the last one).

    *walked* maps the chunk positions already followed to their answer, so a hostile file whose
    entries all point into one long chunk chain is still read once.
    """
    path: list[tuple[int, tuple[int, int] | None]] = []
    found: tuple[int, int] | None = None
    while True:
        if position in walked:
            found = walked[position]
            break
        stream.seek(position)
        head = stream.read(8)
        if len(head) < 8 or head[4:] in _PNG_HEADER_END:
            break
        length, kind = struct.unpack(">I4s", head)
        size = None
        if kind == b"IHDR" and length >= 13:
            body = stream.read(8)
            if len(body) == 8:
                width, height = struct.unpack(">II", body)
                size = (width, height)
        path.append((position, size))
        position += 12 + length  # length, type, data, CRC
    for chunk, size in reversed(path):
        found = found or size  # a later IHDR wins
        walked[chunk] = found
    return found


def _dib_size(start: bytes, stream: BinaryIO) -> tuple[int, int] | None:
    """The size of a DIB embedded in an ICO, as Pillow reads it (the height counts the AND mask)."""
    if len(start) < 8:
        return None
    (header_size,) = struct.unpack_from("<I", start)
    if header_size == 12:
        width, height = struct.unpack_from("<HH", start, 4)
    elif header_size in _DIB_HEADERS:
        rest = stream.read(4)
        if len(rest) < 4:
            return None
        width, height = struct.unpack("<II", start[4:] + rest)
        if height >> 24 == 0xFF:  # top-down: Pillow takes 2**32 - height
            height = 2**32 - height
    else:
        return None
    return (width, height // 2)


# ------------------------------------------------------------------ WebP


def _webp_size(prefix: bytes) -> tuple[int, int] | None:
    """The canvas size from a WebP file's first 30 bytes (VP8, VP8L or VP8X), without decoding."""
    if len(prefix) < 30:
        return None
    chunk = prefix[12:16]
    if chunk == b"VP8 " and prefix[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", prefix, 26)
        return (width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and prefix[20] == 0x2F:
        (bits,) = struct.unpack_from("<I", prefix, 21)
        return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        width = int.from_bytes(prefix[24:27], "little") + 1
        height = int.from_bytes(prefix[27:30], "little") + 1
        return (width, height)
    return None


# ------------------------------------------------------------------ JPEG

_ARITHMETIC_FRAMES = frozenset({0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_NOT_FRAMES = frozenset({0xC4, 0xC8, 0xCC})  # DHT, JPG, DAC share the SOFn range
# Bits of entropy-coded data per 8x8 block of every component, at least: see _check_jpeg_data.
_JPEG_MIN_BITS_PER_BLOCK = 0.5
# The bytes read at once to find the first scan: its headers, an EXIF thumbnail and an ICC profile.
_JPEG_HEAD = 1 << 16


def _check_jpeg_data(image: ImageFile.ImageFile, stream: BinaryIO, handle: str | None) -> None:
    """Refuse an arithmetic-coded JPEG, or a Huffman-coded one too short for its claimed size.

    libjpeg decodes a short file as a success: it warns "premature end of data segment" and fills the
    rest with grey, and Pillow has no way to surface that warning. A Huffman-coded scan spends at
    least one bit on the DC coefficient of every 8x8 block of every component (a uniform image, the
    most compressible, measures 2.0 bits per block with libjpeg's encoder and 1.0 with a progressive
    script without DC refinement), so data under half a bit per block cannot hold the image. The data
    is counted from the first scan to the end of the file, which can only overcount.

    Arithmetic coding has no such floor (a uniform 2000x2000 image fits in 125 bytes), so a damaged
    arithmetic-coded file could not be told from a complete one; browsers do not read them and
    originals essentially never use them, so they are refused as an unsupported source format.
    """
    position = stream.tell()
    try:
        length = stream.seek(0, io.SEEK_END)
        frame, scan = _jpeg_scan_start(stream, length)
    finally:
        stream.seek(position)
    if frame in _ARITHMETIC_FRAMES:
        raise ConversionError(
            "the original is an arithmetic-coded JPEG, which the converter does not read (a "
            "damaged one cannot be told from a complete one, and browsers do not read them either); "
            "re-encode it as a standard Huffman-coded JPEG, e.g. jpegtran -optimize",
            handle=handle,
        )
    layers: list[tuple[int, int, int, int]] = getattr(image, "layer", [])
    width, height = image.size
    if not layers or any(h <= 0 or v <= 0 for _, h, v, _ in layers):
        return
    h_max = max(h for _, h, _, _ in layers)
    v_max = max(v for _, _, v, _ in layers)
    blocks = sum(
        -(-width * h // (h_max * 8)) * -(-height * v // (v_max * 8)) for _, h, v, _ in layers
    )
    data = length - scan
    if data * 8 < blocks * _JPEG_MIN_BITS_PER_BLOCK:
        raise ConversionError(
            f"JPEG data is too short for its claimed size: corrupt or truncated ({data} bytes of "
            f"image data for {width}x{height} pixels in {blocks} blocks)",
            handle=handle,
        )


def _jpeg_scan_start(stream: BinaryIO, length: int) -> tuple[int | None, int]:
    """The last frame marker before the first scan, and where that scan's data starts.

    Follows the marker segments as Pillow does (junk between segments and fill bytes are skipped).
    If the segments cannot be followed, the scan is taken to start at 0: the whole file counts.
    The file is read a window at a time (one read for the usual headers), not a byte at a time.
    """
    frame: int | None = None
    start = 2
    while True:
        stream.seek(start)
        data = stream.read(_JPEG_HEAD)
        last = len(data) < _JPEG_HEAD or start + len(data) >= length
        frame, scan, resume = _walk_segments(data, frame, last=last)
        if resume is None:
            return frame, scan if scan == 0 else start + scan
        start += resume


def _walk_segments(
    data: bytes, frame: int | None, *, last: bool
) -> tuple[int | None, int, int | None]:
    """Walk the segments in *data*: (frame, scan start in *data* or 0, None) once found.

    Where the walk runs past the end of *data* and more of the file follows (not *last*), returns
    where to go on from instead: a byte before which the walk is in the same state.
    """
    end = len(data)
    position = 0
    while True:
        if position >= end:
            return frame, 0, None if last else position
        byte = data[position]
        position += 1
        if byte != 0xFF:
            continue
        code = 0xFF
        while code == 0xFF:
            if position >= end:
                return frame, 0, None if last else position - 1  # at a fill byte
            code = data[position]
            position += 1
        if code in {0x00, 0x01} or 0xD0 <= code <= 0xD8:
            continue  # stuffed byte, TEM, RSTn, SOI: no length
        if code == 0xD9:
            return frame, 0, None
        if position + 2 > end:
            return frame, 0, None if last else position - 2  # at the 0xFF before the marker
        length = (data[position] << 8) | data[position + 1]
        if length < 2:
            return frame, 0, None
        if 0xC0 <= code <= 0xCF and code not in _NOT_FRAMES:
            frame = code
        position += length
        if code == 0xDA:
            return frame, position, None


# ------------------------------------------------------------------ JPEG 2000

_J2K_SOC_SIZ = b"\xff\x4f\xff\x51"
_J2K_SOT = b"\xff\x90"
_J2K_EOC = b"\xff\xd9"
# The standard numbers tiles with 16 bits; OpenJPEG refuses a grid of more tiles by itself.
_J2K_MAX_TILES = 65_535


def _check_jpeg2000_tiles(stream: BinaryIO, handle: str | None) -> None:
    """Refuse a JPEG 2000 codestream with a tile missing, or a tile-part running past its end.

    OpenJPEG decodes both as a success: a missing tile is left black, a cut tile-part is read as
    far as it goes (it only warns, and Pillow does not surface its warnings). The SIZ marker fixes
    the tile grid, and a tile's data is carried in tile-parts, each starting with an SOT marker
    that gives the tile's index and the tile-part's length; a tile with no tile-part has no data at
    all. So the tile-parts are followed from one SOT to the next (a few bytes read for each) and
    every tile index must be seen. This is a structural check, not a data floor: compressed data
    can be arbitrarily small (a uniform tile), and a tile-part that is present but damaged is
    decoded as OpenJPEG sees fit.
    """
    position = stream.tell()
    try:
        problem = _jpeg2000_tile_problem(stream)
    finally:
        stream.seek(position)
    if problem is not None:
        raise ConversionError(
            f"JPEG 2000 codestream is incomplete: corrupt or truncated ({problem})", handle=handle
        )


def _jpeg2000_tile_problem(stream: BinaryIO) -> str | None:
    """What is missing from the codestream, or None if every tile is there.

    None too if there is no SIZ marker or tile grid to read: OpenJPEG then fails on it by itself.
    Tile-parts are followed until one is not where the previous one's length says, or has length 0
    (the last one, up to the EOC marker); the tiles not seen by then count as missing.
    """
    end = stream.seek(0, io.SEEK_END)
    start = 0
    stream.seek(0)
    if stream.read(4) != _J2K_SOC_SIZ:
        found = _jp2_codestream(stream, end)
        if found is None:
            return None
        start, end = found
    stream.seek(start + 4)
    siz = stream.read(38)
    if len(siz) < 38:
        return None
    width, height, x_offset, y_offset, tile_width, tile_height, tile_x, tile_y = struct.unpack_from(
        ">8I", siz, 4
    )
    if tile_width == 0 or tile_height == 0 or width <= tile_x or height <= tile_y:
        return None
    columns = -(-(width - tile_x) // tile_width)
    rows = -(-(height - tile_y) // tile_height)
    tiles = columns * rows
    if tiles > _J2K_MAX_TILES:
        return None
    (siz_length,) = struct.unpack_from(">H", siz)
    sot = _first_sot(stream, start + 4 + siz_length, end)
    seen: set[int] = set()
    while sot is not None and sot + 12 <= end:
        stream.seek(sot)
        head = stream.read(12)
        if head[:2] != _J2K_SOT:
            break
        tile, length = struct.unpack_from(">HI", head, 4)
        seen.add(tile)
        if length == 0:  # the last tile-part, up to the EOC marker
            break
        if sot + length > end:
            return f"tile {tile} ends {sot + length - end} bytes past the end of the data"
        sot += length
    missing = tiles - len({tile for tile in seen if tile < tiles})
    if missing:
        return (
            f"{missing} of the {tiles} tiles its {width - x_offset}x{height - y_offset} "
            f"size needs are missing"
        )
    return None


def _first_sot(stream: BinaryIO, position: int, end: int) -> int | None:
    """Where the first SOT marker is, following the main header's marker segments from *position*."""
    while position + 4 <= end:
        stream.seek(position)
        head = stream.read(4)
        if head[:2] == _J2K_SOT:
            return position
        if head[0] != 0xFF or head[:2] == _J2K_EOC:
            return None
        (length,) = struct.unpack_from(">H", head, 2)
        if length < 2:
            return None
        position += 2 + length
    return None


def _jp2_codestream(stream: BinaryIO, end: int) -> tuple[int, int] | None:
    """Where the JP2 file's contiguous codestream box (jp2c) starts and ends, if it has one."""
    position = 0
    while position + 8 <= end:
        stream.seek(position)
        head = stream.read(8)
        (length,) = struct.unpack_from(">I", head)
        header = 8
        if length == 1:
            extended = stream.read(8)
            if len(extended) < 8:
                return None
            (length,) = struct.unpack(">Q", extended)
            header = 16
        elif length == 0:
            length = end - position
        if length < header:
            return None
        if head[4:] == b"jp2c":
            return position + header, min(position + length, end)
        position += length
    return None
