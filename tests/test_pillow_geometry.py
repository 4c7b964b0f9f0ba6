"""Geometry: the reply-size math (pure) and crop/size/rotate/extend/flip/view on real pixels."""

from __future__ import annotations

import io
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from exportjob import ConversionError
from exportjob.converters import Limits, PillowConverter
from exportjob.exceptions import ImageTooLargeError
from exportjob.options import Color, Crop, Fit, FitMode, Flip, UnsharpMask
from exportjob.testing import images

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)


def convert(data: bytes, fmt: str = "png", converter: PillowConverter | None = None, **options):
    out = (converter or PillowConverter()).convert(io.BytesIO(data), images.plan(fmt, **options))
    image = Image.open(io.BytesIO(b"".join(out)))
    assert (out.width, out.height) == image.size
    return image


def close(actual, expected, tolerance=12):
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def solid(colour, size=(400, 300), fmt="PNG"):
    return images.encode(Image.new("RGB", size, colour), fmt)


MARKER = images.encode(images.marker_image((60, 40)), "PNG")


# -- reply-size rules, measured on the reply ----------------------------------------------------


def halves(size=(400, 300)) -> bytes:
    """An opaque source whose red band marks its left half and whose green band marks its top half."""
    width, height = size
    image = Image.new("RGB", size, (0, 0, 0))
    image.paste((255, 0, 0), (0, height // 2, width // 2, height))
    image.paste((255, 255, 0), (0, 0, width // 2, height // 2))
    image.paste((0, 255, 0), (width // 2, 0, width, height // 2))
    return images.encode(image, "PNG")


def ruler(size=(400, 300)) -> bytes:
    """An opaque source whose every pixel spells its own coordinates (see ``source_xy``)."""
    width, height = size
    image = Image.new("RGB", size)
    image.putdata(
        [
            (x % 256, y % 256, (x // 256) * 16 + y // 256)
            for y in range(height)
            for x in range(width)
        ]
    )
    return images.encode(image, "PNG")


def source_xy(pixel) -> tuple[int, int]:
    """The source coordinates a ``ruler`` pixel shows, where the reply is not resampled."""
    red, green, blue = pixel[:3]
    return (red + 256 * (blue // 16), green + 256 * (blue % 16))


def placement(image: Image.Image) -> tuple[tuple[int, int, int, int], tuple[float, float]]:
    """On a ``png-alpha`` reply of ``halves``: the opaque rectangle, and where the source's centre lands.

    The centre is measured through the middle of the rectangle: the red (left) pixels of that row
    and the green (top) pixels of that column, counted with their partial coverage at the edge.
    """
    box = image.getchannel("A").getbbox()
    assert box is not None
    x0, y0, x1, y1 = box
    row, column = (y0 + y1) // 2, (x0 + x1) // 2
    red = sum(image.getpixel((x, row))[0] for x in range(x0, x1)) / 255
    green = sum(image.getpixel((column, y))[1] for y in range(y0, y1)) / 255
    return box, (x0 + red, y0 + green)


@pytest.mark.parametrize(
    ("options", "scaled", "offset", "reply"),
    [
        pytest.param({}, (400, 300), (0, 0), (400, 300), id="nothing-full-size"),
        pytest.param({"default_pix": (200, 200)}, (200, 150), (0, 0), (200, 150), id="defaultpix"),
        pytest.param(
            {"default_pix": (0, 100)}, (133, 100), (0, 0), (133, 100), id="defaultpix-one-side"
        ),
        pytest.param(
            {"default_pix": (1000, 1000)},
            (400, 300),
            (0, 0),
            (400, 300),
            id="defaultpix-never-enlarges",
        ),
        pytest.param({"wid": 200}, (200, 150), (0, 0), (200, 150), id="wid-only"),
        pytest.param({"hei": 150}, (200, 150), (0, 0), (200, 150), id="hei-only"),
        pytest.param({"wid": 800}, (800, 600), (0, 0), (800, 600), id="wid-enlarges-without-fit"),
        pytest.param(
            {"wid": 200, "hei": 200}, (200, 150), (0, 25), (200, 200), id="wid-hei-letterbox"
        ),
        pytest.param(
            {"wid": 200, "hei": 200, "align": (-1.0, -1.0)},
            (200, 150),
            (0, 0),
            (200, 200),
            id="align-top-left",
        ),
        pytest.param(
            {"wid": 200, "hei": 200, "align": (1.0, 1.0)},
            (200, 150),
            (0, 50),
            (200, 200),
            id="align-bottom-right",
        ),
        pytest.param({"scl": 2.0}, (200, 150), (0, 0), (200, 150), id="scl-halves"),
        pytest.param({"scl": 0.5}, (800, 600), (0, 0), (800, 600), id="scl-below-one-enlarges"),
        pytest.param(
            {"scl": 1.0, "wid": 100}, (400, 300), (-150, 0), (100, 300), id="scl-wid-crops-one-side"
        ),
        pytest.param(
            {"scl": 2.0, "wid": 300, "hei": 100, "align": (-1.0, 1.0)},
            (200, 150),
            (0, -50),
            (300, 100),
            id="scl-pads-and-crops",
        ),
        pytest.param(
            {"scl": 1.0, "default_pix": (10, 10)},
            (400, 300),
            (0, 0),
            (400, 300),
            id="scl-bypasses-defaultpix",
        ),
        pytest.param(
            {"wid": 800, "hei": 800, "fit": Fit()},
            (400, 300),
            (200, 250),
            (800, 800),
            id="fit-no-upscale",
        ),
        pytest.param(
            {"wid": 800, "hei": 800, "fit": Fit(upscale=True)},
            (800, 600),
            (0, 100),
            (800, 800),
            id="fit-upscale",
        ),
        pytest.param(
            {"wid": 200, "hei": 200, "fit": Fit(FitMode.CONSTRAIN)},
            (200, 150),
            (0, 0),
            (200, 150),
            id="constrain",
        ),
        pytest.param(
            {"wid": 800, "hei": 800, "fit": Fit(FitMode.CONSTRAIN)},
            (400, 300),
            (0, 0),
            (400, 300),
            id="constrain-never-enlarges",
        ),
        pytest.param(
            {"wid": 200, "hei": 200, "fit": Fit(FitMode.CROP)},
            (267, 200),
            (-33, 0),
            (200, 200),
            id="crop",
        ),
        pytest.param(
            {"wid": 200, "hei": 200, "fit": Fit(FitMode.WRAP)},
            (267, 200),
            (0, 0),
            (267, 200),
            id="wrap",
        ),
        pytest.param(
            {"wid": 200, "hei": 100, "fit": Fit(FitMode.STRETCH)},
            (200, 100),
            (0, 0),
            (200, 100),
            id="stretch",
        ),
        pytest.param(
            {"wid": 200, "hei": 100, "fit": Fit(FitMode.HFIT)},
            (200, 150),
            (0, -25),
            (200, 100),
            id="hfit",
        ),
        pytest.param(
            {"wid": 200, "hei": 200, "fit": Fit(FitMode.VFIT)},
            (267, 200),
            (-33, 0),
            (200, 200),
            id="vfit",
        ),
        pytest.param(
            {"wid": 1970, "fit": Fit(FitMode.CONSTRAIN)},
            (400, 300),
            (0, 0),
            (400, 300),
            id="one-side-fit-never-enlarges",
        ),
        pytest.param(
            {"wid": 200, "fit": Fit(FitMode.CONSTRAIN)},
            (200, 150),
            (0, 0),
            (200, 150),
            id="one-side-fit-shrinks",
        ),
    ],
)
def test_view_size_rules(options, scaled, offset, reply):
    """Reply size exact; the scaled image placed at offset: its visible part opaque (the rest is
    padding), its centre at offset + scaled / 2 (which pins the parts cropped off the reply)."""
    image = convert(halves(), "png-alpha", **options)
    assert image.size == reply
    visible = (
        max(0, offset[0]),
        max(0, offset[1]),
        min(reply[0], offset[0] + scaled[0]),
        min(reply[1], offset[1] + scaled[1]),
    )
    box, centre = placement(image)
    assert box == visible
    assert centre == pytest.approx((offset[0] + scaled[0] / 2, offset[1] + scaled[1] / 2), abs=0.1)


@pytest.mark.parametrize(
    ("options", "composite", "opaque", "corner"),
    [
        pytest.param({}, (400, 300), (0, 0, 400, 300), (0, 0), id="nothing"),
        pytest.param(
            {"crop": Crop(10, 20, 100, 50)}, (100, 50), (0, 0, 100, 50), (10, 20), id="crop"
        ),
        pytest.param(
            {"crop": Crop(0.1, 0, 0.8, 1, normalized=True)},
            (320, 300),
            (0, 0, 320, 300),
            (40, 0),
            id="cropN",
        ),
        pytest.param(
            {"crop": Crop(0, 0, 0, 0)}, (400, 300), (0, 0, 400, 300), (0, 0), id="crop-zero-is-none"
        ),
        pytest.param(
            {"crop": Crop(-50, 0, 500, 300)},
            (500, 300),
            (50, 0, 450, 300),
            (0, 0),
            id="crop-extends",
        ),
        pytest.param({"size": (200, 0)}, (200, 150), (0, 0, 200, 150), None, id="size-width"),
        pytest.param({"size": (0, 100)}, (133, 100), (0, 0, 133, 100), None, id="size-height"),
        pytest.param(
            {"size": (200, 200)}, (200, 200), (0, 25, 200, 175), None, id="size-both-letterbox"
        ),
        pytest.param({"size": (800, 0)}, (800, 600), (0, 0, 800, 600), None, id="size-enlarges"),
        pytest.param({"rotate": 90.0}, (300, 400), (0, 0, 300, 400), (0, 299), id="rotate-90"),
        pytest.param(
            {"rotate": -270.0}, (300, 400), (0, 0, 300, 400), (0, 299), id="rotate-minus-270"
        ),
        # The corners of the bounding box are transparent, its sides touched to a tenth of a pixel.
        pytest.param({"rotate": 30.0}, (496, 460), None, None, id="rotate-30-bbox"),
        pytest.param(
            {"extend": (10, 20, 30, 40)}, (440, 360), (10, 20, 410, 320), (0, 0), id="extend"
        ),
        pytest.param(
            {"extend": (-10, 0, -10, 0)},
            (380, 300),
            (0, 0, 380, 300),
            (10, 0),
            id="extend-negative",
        ),
        pytest.param(
            {
                "crop": Crop(0, 0, 200, 300),
                "size": (100, 0),
                "rotate": 90.0,
                "extend": (5, 5, 5, 5),
            },
            (160, 110),
            (5, 5, 155, 105),
            None,
            id="crop-size-rotate-extend",
        ),
    ],
)
def test_layer_rules(options, composite, opaque, corner):
    """Without view commands the reply is the composite: its size, where the layer lies on it, and
    (where nothing resamples) which source pixel lands at the layer's top-left corner."""
    image = convert(ruler(), "png-alpha", **options)
    assert image.size == composite
    if opaque is not None:
        assert image.getchannel("A").getbbox() == opaque
    if corner is not None:
        assert source_xy(image.getpixel(opaque[:2])) == corner


def test_rotated_size_is_the_bounding_box_rounded_half_up():
    # 200 cos 30 + 100 sin 30 = 223.2, 200 sin 30 + 100 cos 30 = 186.6
    assert convert(solid(RED, (200, 100)), rotate=30.0).size == (223, 187)


@pytest.mark.parametrize(
    ("options", "reply", "first_opaque_x", "source_x"),
    [
        pytest.param({"scl": 1.0, "wid": 333}, (333, 300), 0, 33, id="offset-minus-33.5-is-33"),
        pytest.param({"scl": 1.0, "wid": 395}, (395, 300), 0, 2, id="offset-minus-2.5-is-2"),
        pytest.param({"scl": 1.0, "wid": 405}, (405, 300), 3, 0, id="offset-2.5-is-3"),
        pytest.param({"wid": 6}, (6, 5), 0, None, id="height-4.5-is-5"),
    ],
)
def test_sizes_and_offsets_round_half_up(options, reply, first_opaque_x, source_x):
    image = convert(ruler(), "png-alpha", **options)
    assert image.size == reply
    box = image.getchannel("A").getbbox()
    assert box is not None
    assert box[0] == first_opaque_x
    if source_x is not None:
        assert source_xy(image.getpixel((first_opaque_x, 0))) == (source_x, 0)


@pytest.mark.parametrize(
    ("options", "scale"),
    [
        pytest.param({"wid": 200}, 0.5, id="view-halves"),
        pytest.param({"size": (200, 0), "wid": 100}, 0.25, id="size-and-view-multiply"),
        pytest.param({"wid": 800}, 1.0, id="enlarging-is-capped-at-one"),
        pytest.param({}, 1.0, id="full-size"),
    ],
)
def test_usm_radius_scales_with_reply_pixels_per_source_pixel(options, scale):
    source = images.encode(images.photo((400, 300)), "PNG")
    scaled = convert(source, op_usm=UnsharpMask(2.0, 8.0), **options)
    as_is = convert(source, op_usm=UnsharpMask(2.0, 8.0 * scale, scaled=False), **options)
    other = convert(source, op_usm=UnsharpMask(2.0, 8.0 * scale * 0.8, scaled=False), **options)
    assert images.psnr(scaled, as_is) == float("inf")
    assert images.psnr(scaled, other) < float("inf")


# -- limits, checked before decoding ----------------------------------------------------------

TRUNCATED = images.encode(images.photo((400, 300)), "JPEG")[:2000]  # a header, and too little data


@pytest.mark.parametrize(
    ("options", "limits", "message"),
    [
        pytest.param({"wid": 200, "max_pix": (100, 0)}, {}, "MaxPix", id="maxpix-width"),
        pytest.param({"hei": 200, "max_pix": (0, 100)}, {}, "MaxPix", id="maxpix-height"),
        pytest.param(
            {"wid": 200}, {"max_output_pixels": 1000}, "output pixels", id="output-pixels"
        ),
        pytest.param(
            {"extend": (100_000, 0, 0, 0)},
            {"max_source_pixels": 10_000_000},
            "canvas",
            id="extend-canvas",
        ),
    ],
)
def test_limits_refuse_before_decoding(options, limits, message):
    converter = PillowConverter(Limits(**limits))
    with pytest.raises(ImageTooLargeError, match=message) as info:
        convert(TRUNCATED, converter=converter, **options)
    assert info.value.handle == "sample|1"


def test_maxpix_zero_means_unlimited():
    image = convert(solid(RED, (40, 30)), wid=500, max_pix=(0, 0))
    assert image.size == (500, 375)


def test_extend_removing_everything_is_a_conversion_error():
    with pytest.raises(ConversionError, match="removes the whole") as info:
        convert(TRUNCATED, extend=(-200, 0, -200, 0))
    assert info.value.handle == "sample|1"


# -- on real pixels -------------------------------------------------------------------------


def test_crop_selects_source_pixels():
    image = convert(MARKER, crop=Crop(0, 0, 15, 10))
    assert image.size == (15, 10)
    assert image.convert("RGB").getcolors() == [(150, RED)]


def test_crop_n_is_a_fraction_from_the_top_left():
    image = convert(MARKER, crop=Crop(0.75, 0, 0.25, 0.25, normalized=True)).convert("RGB")
    assert image.size == (15, 10)
    assert image.getpixel((7, 5)) == GREEN


def test_crop_outside_the_source_is_transparent_with_alpha_formats():
    image = convert(MARKER, "png-alpha", crop=Crop(-10, 0, 70, 40))
    assert image.size == (70, 40)
    assert image.getpixel((0, 0))[3] == 0
    assert image.getpixel((12, 2)) == (*RED, 255)


def test_crop_outside_the_source_shows_bgc_without_alpha():
    image = convert(MARKER, "png", crop=Crop(-10, 0, 70, 40), bgc=Color("rgb", GREEN))
    assert image.getpixel((0, 0)) == GREEN
    assert image.getpixel((12, 2)) == RED


@pytest.mark.parametrize(
    ("size", "expected"), [((30, 0), (30, 20)), ((0, 20), (30, 20)), ((120, 0), (120, 80))]
)
def test_size_scales_keeping_aspect(size, expected):
    assert convert(MARKER, size=size).size == expected


def test_size_with_both_sides_fits_and_centres_on_an_exact_canvas():
    image = convert(solid(RED, (60, 40)), "png-alpha", size=(100, 100))
    assert image.size == (100, 100)
    assert image.getpixel((50, 5))[3] == 0  # letterbox above the image: transparent
    assert image.getpixel((50, 50)) == (*RED, 255)
    flat = convert(solid(RED, (60, 40)), "png", size=(100, 100), bgc=Color("rgb", BLUE))
    assert flat.getpixel((50, 5)) == BLUE


@pytest.mark.parametrize(
    ("angle", "size", "corners"),
    [
        pytest.param(90.0, (40, 60), {(39, 0): RED, (0, 0): BLUE}, id="90-clockwise"),
        pytest.param(180.0, (60, 40), {(59, 39): RED, (0, 39): GREEN}, id="180"),
        pytest.param(270.0, (40, 60), {(0, 59): RED, (0, 0): GREEN}, id="270"),
        pytest.param(-90.0, (40, 60), {(0, 59): RED}, id="minus-90"),
        pytest.param(450.0, (40, 60), {(39, 0): RED}, id="450"),
    ],
)
def test_rotate_quarter_turns_are_exact_and_clockwise(angle, size, corners):
    image = convert(MARKER, rotate=angle)
    assert image.size == size
    for xy, colour in corners.items():
        assert image.getpixel(xy) == colour


def test_rotate_any_angle_grows_the_canvas_with_transparent_corners():
    image = convert(solid(RED, (100, 100)), "png-alpha", rotate=45.0)
    assert image.size == (141, 141)
    assert image.getpixel((0, 0))[3] == 0
    assert image.getpixel((70, 70)) == (*RED, 255)
    flat = convert(solid(RED, (100, 100)), "png", rotate=45.0, bgc=Color("rgb", BLUE))
    assert flat.getpixel((0, 0)) == BLUE


def test_extend_adds_transparent_or_bgc_margins():
    image = convert(solid(RED, (10, 10)), "png-alpha", extend=(5, 5, 5, 5))
    assert image.size == (20, 20)
    assert image.getpixel((0, 0))[3] == 0
    assert image.getpixel((10, 10)) == (*RED, 255)
    flat = convert(solid(RED, (10, 10)), "png", extend=(5, 0, 0, 0), bgc=Color("rgb", GREEN))
    assert flat.size == (15, 10)
    assert flat.getpixel((2, 5)) == GREEN


def test_negative_extend_removes_pixels():
    image = convert(MARKER, extend=(-15, 0, 0, 0))
    assert image.size == (45, 40)
    assert image.getpixel((0, 0)) == WHITE  # the red block is gone
    assert image.getpixel((44, 0)) == GREEN


@pytest.mark.parametrize(
    ("flip", "red_at"),
    [(Flip.LR, (59, 0)), (Flip.UD, (0, 39)), (Flip.LRUD, (59, 39))],
)
def test_flip(flip, red_at):
    assert convert(MARKER, flip=flip).getpixel(red_at) == RED


def test_rotate_runs_before_flip_in_a_plain_request():
    # Rotate first: red goes top-right, then flip lr brings it top-left. The other order would
    # leave it bottom-right.
    image = convert(MARKER, rotate=90.0, flip=Flip.LR)
    assert image.getpixel((0, 0)) == RED


def test_extend_runs_before_flip():
    image = convert(
        solid(RED, (10, 10)), "png", extend=(5, 0, 0, 0), flip=Flip.LR, bgc=Color("rgb", GREEN)
    )
    assert image.getpixel((14, 5)) == GREEN
    assert image.getpixel((0, 5)) == RED


@pytest.mark.parametrize(
    ("options", "checks"),
    [
        pytest.param(
            {"wid": 200, "hei": 200},
            {(100, 10): BLUE, (100, 100): RED, (100, 190): BLUE},
            id="letterbox-centred",
        ),
        pytest.param(
            {"wid": 200, "hei": 200, "align": (0.0, -1.0)},
            {(100, 10): RED, (100, 190): BLUE},
            id="align-top",
        ),
        pytest.param(
            {"wid": 200, "hei": 200, "fit": Fit(FitMode.CROP)},
            {(0, 0): RED, (199, 199): RED},
            id="fit-crop-no-fill",
        ),
        pytest.param({"scl": 1.0, "wid": 500}, {(10, 150): BLUE, (250, 150): RED}, id="scl-pads"),
    ],
)
def test_view_letterbox_and_padding_use_bgc(options, checks):
    image = convert(solid(RED), "png", bgc=Color("rgb", BLUE), **options)
    for xy, colour in checks.items():
        assert image.getpixel(xy) == colour


def test_view_padding_is_transparent_for_alpha_formats():
    image = convert(solid(RED), "png-alpha", wid=200, hei=200, bgc=Color("rgb", BLUE))
    assert image.getpixel((100, 5)) == (0, 0, 0, 0)
    assert image.getpixel((100, 100)) == (*RED, 255)


def test_fit_crop_keeps_the_aligned_part():
    # 60x40 marker cropped to a 40x40 square aligned right: the green top-right block stays.
    image = convert(MARKER, wid=40, hei=40, fit=Fit(FitMode.CROP), align=(1.0, 0.0))
    assert image.size == (40, 40)
    assert image.getpixel((39, 0)) == GREEN
    assert image.getpixel((0, 0)) == WHITE


@pytest.mark.parametrize(
    ("options", "size"),
    [
        ({"wid": 200}, (200, 150)),
        ({"hei": 60}, (80, 60)),
        ({"scl": 4.0}, (100, 75)),
        ({"default_pix": (100, 100)}, (100, 75)),
        ({"wid": 100, "hei": 100, "fit": Fit(FitMode.WRAP)}, (133, 100)),
    ],
)
def test_reply_sizes_on_real_pixels(options, size):
    assert convert(solid(RED), **options).size == size


def test_maxpix_fails_before_decoding():
    truncated = images.encode(images.photo((400, 300)), "JPEG")[:2000]
    with pytest.raises(ImageTooLargeError, match="MaxPix") as info:
        convert(truncated, wid=200, max_pix=(100, 100))
    assert info.value.handle == "sample|1"


def test_output_pixel_limit_fails_before_decoding():
    truncated = images.encode(images.photo((400, 300)), "JPEG")[:2000]
    with pytest.raises(ImageTooLargeError, match="output pixels"):
        convert(truncated, converter=PillowConverter(Limits(max_output_pixels=1000)), wid=200)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_baked_in(orientation):
    image = convert(images.exif_oriented_jpeg(orientation), "png")
    assert image.size == (60, 40)
    assert close(image.getpixel((3, 3)), RED)
    assert close(image.getpixel((56, 3)), GREEN)
    assert close(image.getpixel((3, 36)), BLUE)
    assert close(image.getpixel((56, 36)), WHITE)


def test_exif_orientation_counts_for_the_reply_size():
    image = convert(images.exif_oriented_jpeg(6), "png", wid=30)
    assert image.size == (30, 20)


def test_a_tiny_positive_crop_n_is_one_pixel_not_the_whole_image():
    plan = images.plan("png", crop=Crop(0.5, 0.5, 1e-7, 1e-7, normalized=True))
    out = PillowConverter().convert(io.BytesIO(images.encode(images.photo((64, 48)), "PNG")), plan)
    assert (out.width, out.height) == (1, 1)


@pytest.mark.parametrize(
    ("size", "options", "reply"),
    [
        pytest.param((54, 27), {"wid": 127}, (127, 64), id="27*127/54-is-63.5-up-to-64"),
        pytest.param((21, 28), {"hei": 150}, (113, 150), id="21*150/28-is-112.5-up-to-113"),
        pytest.param((54, 27), {"size": (127, 0)}, (127, 64), id="size-agrees"),
    ],
)
def test_a_derived_side_of_exactly_a_half_rounds_up(size, options, reply):
    """Computed as ``27 * (127 / 54)`` a half came out a hair short (63.49999999999999) and
    rounded down: the reply was a pixel short on the derived side."""
    assert convert(solid(RED, size), **options).size == reply


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(1, 80),
    height=st.integers(1, 80),
    wid=st.integers(1, 240),
)
def test_a_derived_side_is_the_exact_ratio_rounded_half_up(width, height, wid):
    from fractions import Fraction  # noqa: PLC0415

    expected = max(1, math.floor(Fraction(height * wid, width) + Fraction(1, 2)))
    assert convert(solid(RED, (width, height)), wid=wid).size == (wid, expected)
