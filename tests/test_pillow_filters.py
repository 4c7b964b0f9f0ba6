"""The op_* filters, their fixed order, sharpening after scaling, and resMode."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageStat

from exportjob.converters import PillowConverter
from exportjob.options import Color, ColorizeOp, NoiseOp, ResMode, UnsharpMask
from exportjob.testing import images


def convert_bytes(data: bytes, fmt: str = "png", **options) -> bytes:
    out = PillowConverter().convert(io.BytesIO(data), images.plan(fmt, **options))
    return b"".join(out)


def convert(data: bytes, fmt: str = "png", **options) -> Image.Image:
    return Image.open(io.BytesIO(convert_bytes(data, fmt, **options)))


def solid(colour, size=(16, 16), mode="RGB") -> bytes:
    return images.encode(Image.new(mode, size, colour), "PNG")


def step_edge(size=(40, 20)) -> bytes:
    image = Image.new("L", size, 60)
    image.paste(190, (size[0] // 2, 0, size[0], size[1]))
    return images.encode(image.convert("RGB"), "PNG")


@pytest.mark.parametrize(
    ("options", "source", "expected"),
    [
        pytest.param({"op_brightness": 20}, (100, 100, 100), (151, 151, 151), id="brightness-up"),
        pytest.param({"op_brightness": -100}, (100, 150, 200), (0, 0, 0), id="brightness-clamps"),
        pytest.param({"op_contrast": 100}, (200, 100, 128), (255, 73, 129), id="contrast-up"),
        pytest.param({"op_contrast": -100}, (200, 10, 90), (128, 128, 128), id="contrast-flat"),
        pytest.param(
            {"op_colorbalance": (10, 0, -10)}, (100, 100, 100), (126, 100, 75), id="colorbalance"
        ),
        pytest.param(
            {"op_saturation": -100}, (200, 100, 50), (124, 124, 124), id="saturation-gray"
        ),
        pytest.param({"op_invert": True}, (10, 20, 30), (245, 235, 225), id="invert"),
        pytest.param(
            {"op_colorize": ColorizeOp((255, 0, 0), normalize=False)},
            (128, 128, 128),
            (255, 1, 1),
            id="colorize-off",
        ),
        pytest.param(
            {"op_colorize": ColorizeOp((255, 0, 0))},
            (90, 90, 90),
            (255, 0, 0),
            id="colorize-norm-median-to-half",
        ),
        pytest.param(
            {"op_colorize": ColorizeOp((0, 0, 255), normalize=False)},
            (0, 0, 0),
            (0, 0, 0),
            id="colorize-keeps-shadows",
        ),
        pytest.param(
            {"op_colorize": ColorizeOp((0, 0, 255), normalize=False)},
            (255, 255, 255),
            (255, 255, 255),
            id="colorize-keeps-highlights",
        ),
    ],
)
def test_point_filters(options, source, expected):
    assert convert(solid(source), **options).getpixel((8, 8)) == expected


def test_hue_turns_red_towards_green():
    red, green, blue = convert(solid((255, 0, 0)), op_hue=120).getpixel((8, 8))
    assert green > 240
    assert red < 10
    assert blue < 10


def test_saturation_up_moves_away_from_gray():
    red, green, _blue = convert(solid((150, 120, 120)), op_saturation=100).getpixel((8, 8))
    assert red > 150
    assert green < 120


def test_colorize_output_is_rgb_even_for_gray_originals():
    image = convert(
        solid(128, mode="L"), "png", op_colorize=ColorizeOp((0, 255, 0), normalize=False)
    )
    assert image.mode == "RGB"
    assert image.getpixel((8, 8))[1] == 255


def test_invert_leaves_alpha_alone():
    image = convert(
        images.encode(images.rgba_with_transparency(), "PNG"), "png-alpha", op_invert=True
    )
    assert image.getpixel((4, 4)) == (0, 255, 255, 255)
    assert image.getpixel((4, 60)) == (255, 255, 0, 128)
    assert image.getpixel((60, 4))[3] == 0


def test_filters_run_in_the_documented_order():
    # brightness -> invert: 100 + 25.5 -> 126, inverted 129. Inverting first would give 181.
    image = convert(solid((100, 100, 100)), op_brightness=10, op_invert=True)
    assert image.getpixel((8, 8)) == (129, 129, 129)


def test_filters_apply_to_the_composite_not_to_the_view_padding():
    image = convert(
        solid((0, 0, 0), (40, 20)),
        "png",
        wid=40,
        hei=40,
        op_invert=True,
        bgc=Color("rgb", (255, 0, 0)),
    )
    assert image.getpixel((20, 20)) == (255, 255, 255)  # the inverted image
    assert image.getpixel((20, 2)) == (255, 0, 0)  # bgc padding, not inverted


def test_blur_softens_an_edge_without_dark_borders():
    image = convert(step_edge(), op_blur=3.0)
    values = [image.getpixel((x, 10))[0] for x in range(40)]
    assert values[0] == 60  # edges replicated, not darkened
    assert values[39] == 190
    assert 60 < values[20] < 190
    assert values == sorted(values)


def test_blur_keeps_the_colour_of_semi_transparent_pixels():
    image = convert(images.encode(images.rgba_with_transparency(), "PNG"), "png-alpha", op_blur=4.0)
    red, green, _blue, alpha = image.getpixel((33, 10))
    assert 0 < alpha < 255
    assert red > 245
    assert green < 10


def test_blur_radius_is_in_composite_pixels():
    narrow = convert(step_edge((400, 20)), op_blur=2.0, wid=40)
    wide = convert(step_edge((400, 20)), op_blur=60.0, wid=40)
    assert wide.getpixel((15, 1))[0] > narrow.getpixel((15, 1))[0]


@pytest.mark.parametrize(("grow", "white_pixels"), [(1, 9), (2, 25), (-1, 0)])
def test_grow_dilates_and_erodes(grow, white_pixels):
    image = Image.new("L", (11, 11), 0)
    image.putpixel((5, 5), 255)
    result = convert(images.encode(image, "PNG"), "png,gray", op_grow=grow)
    assert result.histogram()[255] == white_pixels


def test_grow_mask_changes_alpha_only():
    image = Image.new("RGBA", (21, 21), (255, 0, 0, 0))
    image.paste((255, 0, 0, 255), (8, 8, 13, 13))
    grown = convert(images.encode(image, "PNG"), "png-alpha", op_grow_mask=2)
    alpha = grown.getchannel("A")
    assert alpha.getbbox() == (6, 6, 15, 15)
    assert grown.getpixel((10, 10)) == (255, 0, 0, 255)
    shrunk = convert(images.encode(image, "PNG"), "png-alpha", op_grow_mask_r=-1)
    assert shrunk.getchannel("A").getbbox() == (9, 9, 12, 12)


@pytest.mark.parametrize(
    ("distribution", "reach"),
    [
        ("uniform", 51),
        ("gaussian", 77),
    ],  # 20 % of 255; gaussian: sigma 25.5, 256 quantiles reach 2.9 sigma
)
def test_noise_is_seeded_and_reproducible(distribution, reach):
    source = solid((128, 128, 128), (64, 64))
    noise = NoiseOp(20, distribution=distribution)
    first = convert_bytes(source, op_noise=noise)
    assert first == convert_bytes(source, op_noise=noise)
    image = Image.open(io.BytesIO(first))
    low, high = image.getextrema()[0]
    assert low < 128 < high
    assert low >= 128 - reach
    assert high <= 128 + reach
    assert abs(ImageStat.Stat(image).mean[0] - 128) < 4


def test_noise_differs_between_images_and_between_colour_channels():
    noise = NoiseOp(30)
    first = convert(solid((128, 128, 128), (64, 64)), op_noise=noise)
    second = convert(solid((120, 120, 120), (64, 64)), op_noise=noise)
    first_noise = [first.getpixel((x, 5))[0] - 128 for x in range(64)]
    second_noise = [second.getpixel((x, 5))[0] - 120 for x in range(64)]
    assert first_noise != second_noise
    red, green, _blue = first.split()
    assert red.tobytes() != green.tobytes()


def test_monochrome_noise_is_the_same_on_every_channel():
    image = convert(solid((128, 128, 128), (64, 64)), op_noise=NoiseOp(30, monochrome=True))
    red, green, blue = image.split()
    assert red.tobytes() == green.tobytes() == blue.tobytes()


def test_sharpen_overshoots_an_edge():
    plain = convert(step_edge())
    sharp = convert(step_edge(), op_sharpen=True)
    assert plain.getextrema()[0] == (60, 190)
    low, high = sharp.getextrema()[0]
    assert low < 60 or high > 190


def test_unsharp_mask_overshoots_an_edge():
    image = convert(step_edge(), op_usm=UnsharpMask(amount=2.0, radius=2.0))
    low, high = image.getextrema()[0]
    assert low < 60
    assert high > 190


def test_usm_radius_scales_with_the_image_but_usm_r_does_not():
    source = step_edge((400, 40))
    plain = convert(source, wid=40)
    scaled = convert(source, wid=40, op_usm=UnsharpMask(amount=3.0, radius=2.0))
    raw = convert(source, wid=40, op_usm=UnsharpMask(amount=3.0, radius=2.0, scaled=False))
    assert images.psnr(scaled, plain) > images.psnr(raw, plain)


def test_monochrome_usm_sharpens_luma_only():
    image = Image.new("RGB", (40, 20), (200, 40, 40))
    image.paste((40, 40, 200), (20, 0, 40, 20))
    source = images.encode(image, "PNG")
    colour = convert(source, op_usm=UnsharpMask(amount=3.0, radius=2.0))
    mono = convert(source, op_usm=UnsharpMask(amount=3.0, radius=2.0, monochrome=True))
    assert colour.tobytes() != mono.tobytes()


def test_sharpening_happens_after_scaling_and_not_on_the_padding():
    image = convert(
        step_edge((400, 200)),
        "png",
        wid=100,
        hei=100,
        op_sharpen=True,
        bgc=Color("rgb", (0, 0, 255)),
    )
    assert image.getpixel((50, 2)) == (0, 0, 255)
    assert image.getpixel((50, 97)) == (0, 0, 255)


@pytest.mark.parametrize("res_mode", list(ResMode))
def test_every_res_mode_scales(res_mode):
    image = convert(images.encode(images.photo((200, 150)), "PNG"), wid=50, res_mode=res_mode)
    assert image.size == (50, 38)


def test_res_modes_differ():
    source = images.encode(images.photo((200, 150)), "PNG")
    results = {mode: convert_bytes(source, wid=50, res_mode=mode) for mode in ResMode}
    assert results[ResMode.BILIN] != results[ResMode.SHARP2]
    assert results[ResMode.BICUB] != results[ResMode.BISHARP]
