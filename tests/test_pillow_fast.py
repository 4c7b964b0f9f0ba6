"""The fast path (shrink-on-load, reducing_gap, reduced-resolution stage L/C) against full decoding.

Quality floors, stated once: a fast thumbnail has a PSNR of at least 45 dB against the output of
the full-resolution pipeline (``PillowConverter(shrink_on_load=False)``), and a fast conversion with
stage L/C steps (crop, rotate, extend, flip, filters, letterbox) at least 40 dB; measured: 47-54 dB
and 42-57 dB (two resamplings, one at twice the reply's size, cost a few dB against one). Noise is compared by its strength, not by PSNR (two random realisations never match pixel
for pixel). No timing is asserted here: see benchmarks/.
"""

from __future__ import annotations

import functools
import io

import pytest
from PIL import Image, ImageStat

from exportjob.converters import PillowConverter
from exportjob.options import Color, Crop, Fit, FitMode, Flip, NoiseOp, RenderOptions, UnsharpMask
from exportjob.testing import images

FAST = PillowConverter()
FULL = PillowConverter(shrink_on_load=False)
THUMBNAIL_FLOOR = 45.0
PIPELINE_FLOOR = 40.0


@functools.cache
def original(kind: str) -> bytes:
    photo = images.photo((2000, 1500), seed=7)
    if kind == "jpeg":
        return images.encode(photo, "JPEG", quality=92)
    if kind == "png":
        return images.encode(photo, "PNG", compress_level=1)
    return images.encode(photo, "TIFF")


def convert(converter: PillowConverter, kind: str, **options) -> Image.Image:
    out = converter.convert(io.BytesIO(original(kind)), images.plan("png", **options))
    return Image.open(io.BytesIO(b"".join(out)))


@pytest.mark.parametrize("kind", ["jpeg", "png", "tif"])
@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"wid": 200}, id="wid-200"),
        pytest.param({"wid": 400}, id="wid-400"),
        pytest.param({"wid": 150, "hei": 150, "fit": Fit(FitMode.CROP)}, id="square-crop"),
        pytest.param({"wid": 300, "hei": 300, "bgc": Color("rgb", (0, 0, 0))}, id="letterbox"),
        pytest.param({"hei": 100, "size": (1000, 0)}, id="size-then-view"),
    ],
)
def test_fast_thumbnails_match_full_decoding(kind, options):
    fast, full = convert(FAST, kind, **options), convert(FULL, kind, **options)
    assert fast.size == full.size
    assert images.psnr(fast, full) >= THUMBNAIL_FLOOR


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"op_blur": 4.0}, id="blur"),
        pytest.param({"op_brightness": 20, "op_contrast": 30, "op_saturation": -40}, id="colour"),
        pytest.param({"rotate": 30.0, "bgc": Color("rgb", (0, 0, 0))}, id="rotate"),
        pytest.param(
            {"crop": Crop(100, 100, 1200, 900), "extend": (50, 60, 70, 80), "flip": Flip.LR},
            id="crop-extend-flip",
        ),
        pytest.param({"op_grow": 3}, id="grow-at-full-resolution"),
        pytest.param({"op_grow_mask": 2}, id="grow-mask"),
        pytest.param({"op_usm": UnsharpMask(1.0, 20.0)}, id="usm"),
        pytest.param({"size": (1000, 1000)}, id="size-letterbox-canvas"),
        pytest.param({"rotate": 90.0}, id="quarter-turn"),
        pytest.param({"crop": Crop(-200, -100, 2400, 1700), "hei": 200}, id="crop-outside"),
        pytest.param({"extend": (-300, -200, 100, 0), "flip": Flip.UD}, id="negative-extend-flip"),
        pytest.param({"hei": 100, "fit": Fit(FitMode.STRETCH)}, id="stretch"),
        pytest.param({"scl": 10.0, "hei": 300}, id="scl-pads"),
    ],
)
@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_fast_pipelines_match_full_decoding(kind, options):
    fast, full = (
        convert(FAST, kind, wid=200, **options),
        convert(FULL, kind, wid=200, **options),
    )
    assert fast.size == full.size
    assert images.psnr(fast, full) >= PIPELINE_FLOOR


def test_fast_noise_is_as_strong_as_full_resolution_noise():
    flat = images.encode(Image.new("RGB", (1600, 1200), (128, 128, 128)), "JPEG", quality=95)
    options = RenderOptions(wid=400, op_noise=NoiseOp(40))

    def deviation(converter: PillowConverter) -> float:
        plan = images.plan("png", wid=options.wid, op_noise=options.op_noise)
        out = converter.convert(io.BytesIO(flat), plan)
        return ImageStat.Stat(Image.open(io.BytesIO(b"".join(out)))).stddev[0]

    fast, full = deviation(FAST), deviation(FULL)
    assert 0.5 * full <= fast <= 2.0 * full


@functools.cache
def drafted(jpeg: bytes, reduction: int) -> bytes:
    """*jpeg* decoded as libjpeg decodes it at 1/*reduction* scale, stored losslessly (PNG)."""
    image = Image.open(io.BytesIO(jpeg))
    image.draft(None, (image.width // reduction, image.height // reduction))
    image.load()
    return images.encode(image, "PNG", compress_level=1)


@functools.cache
def camera_jpeg() -> bytes:
    """A 2400x1600 camera-like JPEG: whole 16x16 MCUs, so every reduced decode has whole pixels."""
    return images.encode(images.photo((2400, 1600), seed=3), "JPEG", quality=90)


def shrunk_by(reduction: int, options: dict, jpeg: bytes) -> Image.Image:
    """The reply the converter gives if it decodes *jpeg* at 1/*reduction*: the same commands on
    that reduced decode, ``op_blur``'s radius (in composite pixels) divided to match."""
    reduced = dict(options)
    if "op_blur" in reduced:
        reduced["op_blur"] = reduced["op_blur"] / reduction
    out = FAST.convert(io.BytesIO(drafted(jpeg, reduction)), images.plan("png", **reduced))
    return Image.open(io.BytesIO(b"".join(out)))


def thumbnail(converter: PillowConverter, options: dict, jpeg: bytes) -> Image.Image:
    out = converter.convert(io.BytesIO(jpeg), images.plan("png", **options))
    return Image.open(io.BytesIO(b"".join(out)))


@pytest.mark.parametrize(
    ("options", "reduction"),
    [
        pytest.param({"wid": 160}, 8, id="a-fifteenth"),
        pytest.param({"wid": 200}, 8, id="a-twelfth-just-keeps-1.5x"),
        pytest.param({"wid": 240}, 4, id="a-tenth"),
        pytest.param({"wid": 600}, 2, id="a-quarter"),
        pytest.param({"wid": 1000}, 1, id="five-twelfths"),
        pytest.param({"wid": 150, "op_blur": 2.0}, 8, id="filters-keep-twice-the-reply"),
        pytest.param({"wid": 160, "op_blur": 2.0}, 4, id="filters-need-twice-the-reply"),
        pytest.param(
            {"crop": Crop(0, 0, 1200, 800), "wid": 80, "op_grow": 1},
            1,
            id="grow-needs-full-resolution",
        ),
        pytest.param({"size": (600, 0), "wid": 240}, 4, id="size-and-view-both-count"),
        pytest.param({"crop": Crop(0, 0, 240, 160), "wid": 160}, 1, id="crop-then-reduce-a-little"),
        pytest.param({"crop": Crop(0, 0, 200, 100), "wid": 400}, 1, id="crop-then-enlarge"),
    ],
)
def test_shrink_on_load_factor(options, reduction):
    """A JPEG decodes at the largest reduction of 8, 4, 2 that keeps 1.5x the reply's resolution
    (2x with stage L/C filters; none for op_grow): the reply is, pixel for pixel, the one made
    from the original decoded at that reduction."""
    jpeg = camera_jpeg()
    reply = thumbnail(FAST, options, jpeg)
    assert images.psnr(reply, shrunk_by(reduction, options, jpeg)) == float("inf")


def test_jpeg_thumbnails_are_shrunk_on_load():
    jpeg = original("jpeg")
    fast, full = (thumbnail(c, {"wid": 200}, jpeg) for c in (FAST, FULL))
    assert fast.size == full.size == (200, 150)
    # 2000 -> 200: 1/8 would leave 1.25x to the filter, under DRAFT_GAP (1.5); so 1/4.
    assert images.psnr(fast, shrunk_by(4, {"wid": 200}, jpeg)) == float("inf")
    assert images.psnr(fast, shrunk_by(8, {"wid": 200}, jpeg)) < float("inf")
    assert images.psnr(fast, shrunk_by(2, {"wid": 200}, jpeg)) < float("inf")
    # Without shrink-on-load: the full decode, and no pre-reduction before the resampling.
    reference = FULL.convert(io.BytesIO(drafted(jpeg, 1)), images.plan("png", wid=200))
    assert images.psnr(full, Image.open(io.BytesIO(b"".join(reference)))) == float("inf")


def test_full_size_conversions_do_not_resample():
    source = images.photo((320, 240))
    out = FAST.convert(io.BytesIO(images.encode(source, "PNG")), images.plan("png"))
    assert images.psnr(Image.open(io.BytesIO(b"".join(out))), source) == float("inf")


@pytest.mark.parametrize("orientation", [2, 3, 5, 6, 7, 8])
def test_shrink_on_load_with_exif_orientation_and_partial_blocks(orientation):
    # 1996 x 1500 is not a multiple of 8: the 1/8 decode has a partial last block on two sides,
    # which the orientation moves to the top or the left.
    data = images.exif_oriented_jpeg(orientation, (1996, 1500))
    plan = images.plan("png", wid=120)
    fast, full = (
        Image.open(io.BytesIO(b"".join(c.convert(io.BytesIO(data), plan)))) for c in (FAST, FULL)
    )
    assert fast.size == full.size == (120, 90)
    assert images.psnr(fast, full) >= THUMBNAIL_FLOOR
