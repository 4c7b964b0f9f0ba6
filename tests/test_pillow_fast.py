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
from exportjob.converters import _pillow as pillow_module
from exportjob.converters._geometry import plan_layout
from exportjob.converters._pillow import _draft_reduction
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


@pytest.mark.parametrize(
    ("source", "options", "reduction"),
    [
        pytest.param((6000, 4000), {"wid": 400}, 8, id="24mp-to-400"),
        pytest.param((6000, 4000), {"wid": 500}, 8, id="24mp-to-500"),
        pytest.param((6000, 4000), {"wid": 750}, 4, id="24mp-to-750"),
        pytest.param((6000, 4000), {"wid": 1500}, 2, id="24mp-to-1500"),
        pytest.param((6000, 4000), {"wid": 2500}, 1, id="24mp-to-2500"),
        pytest.param(
            (6000, 4000), {"wid": 375, "op_blur": 2.0}, 8, id="filters-keep-twice-the-reply"
        ),
        pytest.param(
            (6000, 4000), {"wid": 400, "op_blur": 2.0}, 4, id="filters-need-twice-the-reply"
        ),
        pytest.param((6000, 4000), {"wid": 400, "op_grow": 1}, 1, id="grow-needs-full-resolution"),
        pytest.param(
            (6000, 4000), {"crop": Crop(0, 0, 600, 400), "wid": 400}, 1, id="crop-then-upscale"
        ),
        pytest.param((400, 300), {"wid": 800}, 1, id="enlarging"),
    ],
)
def test_shrink_on_load_factor(source, options, reduction):
    opts = RenderOptions(**options)
    assert _draft_reduction(plan_layout(source, opts), opts) == reduction


def test_jpeg_thumbnails_are_shrunk_on_load(monkeypatch):
    seen: list[int] = []
    real = pillow_module.draft

    def spy(image, factor):
        seen.append(factor)
        return real(image, factor)

    monkeypatch.setattr(pillow_module, "draft", spy)
    out = FAST.convert(io.BytesIO(original("jpeg")), images.plan("png", wid=200))
    assert seen == [4]  # 2000 -> 200: 1/8 would leave 1.25x to the filter, under DRAFT_GAP (1.5)
    assert (out.width, out.height) == (200, 150)
    seen.clear()
    FULL.convert(io.BytesIO(original("jpeg")), images.plan("png", wid=200))
    assert seen == [1]  # full resolution


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
