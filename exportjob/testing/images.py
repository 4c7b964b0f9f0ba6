r"""Sample originals built in code: the images real users have, without binary fixtures.

Every function is deterministic (same arguments, same pixels and bytes) and imports Pillow lazily
through the converter modules, so the host test kit, the demo, the benchmarks and exportjob's own
tests share them. Images come back as ``PIL.Image.Image``; encoded originals as ``bytes``.

>>> from exportjob.testing import images
>>> images.photo((64, 48)).size
(64, 48)
>>> images.encode(images.gradient((8, 8)), "PNG")[:4]
b'\x89PNG'
"""

from __future__ import annotations

import io
import math
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

    from ..plans import ExportPlan

__all__ = [
    "adobe_rgb_profile",
    "animated_gif",
    "animated_webp",
    "cmyk_image",
    "cmyk_jpeg",
    "encode",
    "exif_oriented_jpeg",
    "gradient",
    "gray_profile",
    "la_image",
    "marker_image",
    "one_bit",
    "palette_with_transparency",
    "photo",
    "plan",
    "png16",
    "press_cmyk_profile",
    "psnr",
    "rgba_with_transparency",
    "srgb_profile",
    "swapped_cmyk_profile",
    "swapped_rgb_profile",
    "tagged",
    "ycck_jpeg",
]

Size = tuple[int, int]


def encode(image: Image.Image, format: str, **options: Any) -> bytes:  # noqa: A002 - Pillow's name
    """Encode *image* in *format* (a Pillow format name) with writer *options*; return the bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def gradient(size: Size = (256, 192), mode: str = "RGB") -> Image.Image:
    """Red rises left to right, green top to bottom, blue is constant 128; then converted to *mode*."""
    from PIL import Image  # noqa: PLC0415 - Pillow only when used

    width, height = size
    # linear_gradient runs 0 (top) to 255 (bottom); turned a quarter counter-clockwise, 0 is at the left.
    red = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize(size)
    green = Image.linear_gradient("L").resize(size)
    blue = Image.new("L", (width, height), 128)
    image = Image.merge("RGB", (red, green, blue))
    return image if mode == "RGB" else image.convert(mode)


def photo(size: Size = (640, 480), seed: int = 0) -> Image.Image:
    """A photo-like RGB image: smooth colour fields, hard-edged shapes, fine grain.

    Natural enough for quality measurements (PSNR) and for realistic JPEG/PNG sizes; built in well
    under a second at 24 megapixels.
    """
    from PIL import Image, ImageChops, ImageDraw, ImageFilter  # noqa: PLC0415

    rng = random.Random(seed)  # noqa: S311 - reproducible pixels, not secrets
    width, height = size
    # Low-frequency colour field: a small random grid, smoothly upscaled.
    grid = Image.frombytes("RGB", (8, 6), rng.randbytes(8 * 6 * 3))
    image = grid.resize(size, Image.Resampling.BICUBIC)
    # Hard edges: shapes of random colours.
    draw = ImageDraw.Draw(image)
    for _ in range(24):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        w = rng.randrange(max(2, width // 10), max(3, width // 3))
        h = rng.randrange(max(2, height // 10), max(3, height // 3))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour)
        else:
            draw.rectangle((x0, y0, x0 + w, y0 + h), fill=colour)
    for _ in range(12):
        points = [(rng.randrange(width), rng.randrange(height)) for _ in range(2)]
        draw.line(points, fill=(rng.randrange(256),) * 3, width=max(1, width // 200))
    image = image.filter(ImageFilter.GaussianBlur(max(0.6, width / 1200)))
    # Grain: a little luminance noise, softened so it looks like texture.
    grain = Image.frombytes("L", size, rng.randbytes(width * height))
    grain = grain.filter(ImageFilter.GaussianBlur(0.7))
    up = grain.point([max(0, (v - 128) // 6) for v in range(256)])
    down = grain.point([max(0, (128 - v) // 6) for v in range(256)])
    bands = [ImageChops.subtract(ImageChops.add(b, up), down) for b in image.split()]
    return Image.merge("RGB", bands)


def marker_image(size: Size = (60, 40)) -> Image.Image:
    """White, with a red top-left, green top-right and blue bottom-left quarter-size corner block."""
    from PIL import Image, ImageDraw  # noqa: PLC0415

    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    bw, bh = width // 4, height // 4
    draw.rectangle((0, 0, bw - 1, bh - 1), fill=(255, 0, 0))
    draw.rectangle((width - bw, 0, width - 1, bh - 1), fill=(0, 255, 0))
    draw.rectangle((0, height - bh, bw - 1, height - 1), fill=(0, 0, 255))
    return image


def exif_oriented_jpeg(orientation: int, size: Size = (60, 40)) -> bytes:
    """A JPEG that *displays* as ``marker_image(size)`` once EXIF *orientation* (1-8) is applied."""
    from PIL import Image  # noqa: PLC0415

    inverse = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    shown = marker_image(size)
    stored = shown.transpose(inverse[orientation]) if orientation in inverse else shown
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif.tobytes())


def rgba_with_transparency(size: Size = (64, 64)) -> Image.Image:
    """Transparent, with an opaque red square in the top-left quarter and a half-transparent blue band.

    The band covers the bottom quarter (alpha 128); everything else is fully transparent (0, 0, 0, 0).
    """
    from PIL import Image, ImageDraw  # noqa: PLC0415

    width, height = size
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=(255, 0, 0, 255))
    draw.rectangle((0, height * 3 // 4, width - 1, height - 1), fill=(0, 0, 255, 128))
    return image


def la_image(size: Size = (64, 64)) -> Image.Image:
    """Gray 200 with alpha: the left half opaque, the right half fully transparent."""
    from PIL import Image  # noqa: PLC0415

    width, _ = size
    alpha = Image.new("L", size, 0)
    alpha.paste(255, (0, 0, width // 2, size[1]))
    image = Image.new("LA", size, (200, 255))
    image.putalpha(alpha)
    return image


def palette_with_transparency(size: Size = (32, 32)) -> Image.Image:
    """A ``P`` image: index 0 is transparent (left half), index 1 is opaque green (right half)."""
    from PIL import Image  # noqa: PLC0415

    width, _ = size
    image = Image.new("P", size, 0)
    image.putpalette([0, 0, 0, 0, 200, 0])
    image.paste(1, (width // 2, 0, width, size[1]))
    image.info["transparency"] = 0
    return image


def one_bit(size: Size = (32, 32)) -> Image.Image:
    """A mode ``1`` image: black left half, white right half."""
    from PIL import Image  # noqa: PLC0415

    image = Image.new("1", size, 0)
    image.paste(1, (size[0] // 2, 0, size[0], size[1]))
    return image


def png16(size: Size = (256, 16)) -> bytes:
    """A 16-bit gray PNG: a ramp from 0 at the left to 65535 at the right."""
    from PIL import Image  # noqa: PLC0415

    width, height = size
    row = [round(x * 65535 / (width - 1)) for x in range(width)]
    image = Image.new("I;16", size)
    image.putdata(row * height)
    return encode(image, "PNG")


def cmyk_image(size: Size = (64, 64)) -> Image.Image:
    """CMYK quadrants: pure cyan, magenta, yellow and black ink (top-left, top-right, bottom-left, -right)."""
    from PIL import Image  # noqa: PLC0415

    width, height = size
    image = Image.new("CMYK", size, (0, 0, 0, 0))
    hw, hh = width // 2, height // 2
    image.paste((255, 0, 0, 0), (0, 0, hw, hh))
    image.paste((0, 255, 0, 0), (hw, 0, width, hh))
    image.paste((0, 0, 255, 0), (0, hh, hw, height))
    image.paste((0, 0, 0, 255), (hw, hh, width, height))
    return image


def cmyk_jpeg(size: Size = (64, 64), *, icc: bytes | None = None) -> bytes:
    """``cmyk_image`` as an Adobe (inverted) CMYK JPEG, as Photoshop writes them, optionally tagged."""
    options: dict[str, Any] = {"quality": 95}
    if icc is not None:
        options["icc_profile"] = icc
    return encode(cmyk_image(size), "JPEG", **options)


def ycck_jpeg(size: Size = (64, 64)) -> bytes:
    """``cmyk_image`` as a YCCK JPEG (Adobe transform 2), the other way Photoshop stores CMYK.

    Pillow writes CMYK JPEGs only; this computes the YCCK planes itself, stores them as CMYK and
    marks the Adobe segment's transform as YCCK, which is exactly what a YCCK encoder writes.
    """
    from PIL import Image  # noqa: PLC0415

    cyan, magenta, yellow, black = cmyk_image(size).split()
    # Adobe YCCK: YCbCr of the (inverted-stored) C, M, Y, and K stored inverted.
    luma, cb, cr = Image.merge("RGB", (cyan, magenta, yellow)).convert("YCbCr").split()
    stored_k = black.point(lambda v: 255 - v)
    # Pillow inverts CMYK when it writes a JPEG; pre-invert so the planes land as computed.
    planes = [p.point(lambda v: 255 - v) for p in (luma, cb, cr, stored_k)]
    data = bytearray(encode(Image.merge("CMYK", planes), "JPEG", quality=95, subsampling=0))
    marker = data.find(b"Adobe")
    data[marker + 11] = 2  # transform: 0 = CMYK, 2 = YCCK
    return bytes(data)


def animated_gif(
    size: Size = (32, 32), colours: tuple[str, ...] = ("red", "lime", "blue")
) -> bytes:
    """An animated GIF, one solid frame per colour (the first frame is the first colour)."""
    from PIL import Image  # noqa: PLC0415

    frames = [Image.new("RGB", size, c) for c in colours]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def animated_webp(
    size: Size = (32, 32), colours: tuple[str, ...] = ("red", "lime", "blue")
) -> bytes:
    """An animated lossless WebP, one solid frame per colour."""
    from PIL import Image  # noqa: PLC0415

    frames = [Image.new("RGB", size, c) for c in colours]
    return encode(
        frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True
    )


def adobe_rgb_profile() -> bytes:
    """An Adobe RGB (1998)-like profile: wide-gamut primaries, gamma 563/256."""
    from ..converters._icc import ADOBE_RGB_D50, rgb_profile  # noqa: PLC0415

    return rgb_profile("Adobe RGB (1998)-like (exportjob sample)", ADOBE_RGB_D50, 563 / 256)


def srgb_profile() -> bytes:
    """The sRGB profile the converter embeds for RGB output (``iccEmbed``): LittleCMS's, fixed date."""
    from ..converters._color import srgb_profile  # noqa: PLC0415

    return srgb_profile()


def gray_profile(
    description: str = "Gray gamma 2.2 (exportjob sample)", gamma: float = 2.2
) -> bytes:
    """A gray display profile whose tone curve is a pure *gamma*, named *description*."""
    from ..converters._icc import gray_profile  # noqa: PLC0415

    return gray_profile(description, gamma)


def linear_srgb_profile(description: str = "Linear sRGB (exportjob sample)") -> bytes:
    """An RGB profile with sRGB's primaries and a linear tone curve (gamma 1), named *description*.

    What GIMP and Krita embed in linear-light exports ("GIMP built-in Linear sRGB"): not sRGB,
    whatever its name says.
    """
    from ..converters._icc import SRGB_D50, rgb_profile  # noqa: PLC0415

    return rgb_profile(description, SRGB_D50, 1.0)


def swapped_rgb_profile() -> bytes:
    """An RGB profile whose red and blue primaries are swapped: (255, 0, 0) in it is sRGB blue.

    A test instrument: if a converter honours the profile, red pixels come out blue.
    """
    from ..converters._icc import SRGB_D50, rgb_profile, srgb_curve  # noqa: PLC0415

    red, green, blue = SRGB_D50
    return rgb_profile("Swapped red/blue (exportjob sample)", (blue, green, red), srgb_curve())


def swapped_cmyk_profile() -> bytes:
    """A CMYK profile in which the cyan and magenta inks are swapped (cyan ink prints magenta)."""
    from ..converters._icc import cmyk_profile  # noqa: PLC0415

    def ink(corner: tuple[int, int, int, int]) -> tuple[float, float, float]:
        cyan, magenta, yellow, black = corner
        return ((1 - magenta) * (1 - black), (1 - cyan) * (1 - black), (1 - yellow) * (1 - black))

    return cmyk_profile("Swapped cyan/magenta (exportjob sample)", ink)


def tagged(image: Image.Image, format: str, profile: bytes, **options: Any) -> bytes:  # noqa: A002
    """Encode *image* in *format* with the ICC *profile* embedded."""
    return encode(image, format, icc_profile=profile, **options)


def plan(
    fmt: str = "jpeg",
    *,
    handle: str = "sample|1",
    file_name: str = "sample.jpg",
    **options: Any,
) -> ExportPlan:
    """Build an accepted ``fmt=convert`` plan for *fmt* (``"tif,cmyk,lzw"`` syntax) and *options*.

    Skips the modifier parser: *options* are ``RenderOptions`` fields (``wid=200``, ``bgc=...``).

    >>> p = plan("tif,gray,lzw", wid=10)
    >>> p.output_format.render(), p.options.wid, p.output_name
    ('tif,gray,lzw', 10, 'sample.tiff')
    """
    from .._assets import Asset  # noqa: PLC0415
    from .._enums import ExportFormat  # noqa: PLC0415
    from .._formats import format_info  # noqa: PLC0415
    from ..options import Compression, OutputFormat, PixelType, RenderOptions  # noqa: PLC0415
    from ..plans import ExportPlan  # noqa: PLC0415

    name, _, rest = fmt.partition(",")
    pixel_type, _, compression = rest.partition(",")
    info = format_info(name)
    output = OutputFormat(
        info.name if info is not None else name,
        PixelType(pixel_type) if pixel_type else PixelType.RGB,
        Compression(compression) if compression else None,
    )
    stem = file_name.rsplit(".", 1)[0]
    return ExportPlan(
        asset=Asset(handle=handle, type="Image", name=stem, file_name=file_name, company="c"),
        fmt=ExportFormat.CONVERT,
        output_name=stem + (info.extension if info is not None else ""),
        output_format=output,
        options=RenderOptions(format=output, **options),
    )


def psnr(first: Image.Image, second: Image.Image) -> float:
    """Return the peak signal-to-noise ratio (dB) between two images of the same size and mode.

    ``inf`` for identical images. Computed over every band with Pillow only (no NumPy).
    """
    from PIL import ImageChops  # noqa: PLC0415

    if first.size != second.size or first.mode != second.mode:
        msg = f"cannot compare {first.mode} {first.size} with {second.mode} {second.size}"
        raise ValueError(msg)
    histogram = ImageChops.difference(first, second).histogram()
    squared = sum(count * (i % 256) ** 2 for i, count in enumerate(histogram))
    samples = first.width * first.height * len(first.getbands())
    if squared == 0:
        return math.inf
    return 10 * math.log10(255**2 / (squared / samples))


def press_cmyk_profile() -> bytes:
    """A two-way CMYK output profile (a naive press with full black generation), for print tests.

    ``icc=`` can convert to it, unlike ``swapped_cmyk_profile``; LittleCMS reads it as any press
    profile. Built in code: no press profile is shipped.
    """
    from ..converters._icc import press_cmyk_profile  # noqa: PLC0415

    return press_cmyk_profile("Naive press, full GCR (exportjob sample)")
