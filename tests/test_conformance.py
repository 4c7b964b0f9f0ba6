"""Conformance of the Pillow converter to image-serving-spec.md, checked on pixels and sizes.

Every test goes through the public path: a modifier string is planned with ``plan_export`` and
executed by ``PillowConverter``; originals are built in code. The crop tests below caught a real
deviation (a crop's removed pixels leaked into resampled edges), fixed since.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageFilter, ImageStat, JpegImagePlugin

from exportjob import Asset, ConversionSettings, ExportJob, plan_exports
from exportjob.converters import PillowConverter
from exportjob.exceptions import ImageTooLargeError

YELLOW, CYAN, RED, BLUE = (255, 255, 0), (0, 255, 255), (255, 0, 0), (0, 0, 255)
BLACK, WHITE, GREEN = (0, 0, 0), (255, 255, 255), (0, 255, 0)
CLEAR = (0, 0, 0, 0)


def quads(width: int = 40, height: int = 20) -> Image.Image:
    """Four solid quadrants: top-left yellow, top-right cyan, bottom-left red, bottom-right blue."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(YELLOW, (0, 0, width // 2, height // 2))
    image.paste(CYAN, (width // 2, 0, width, height // 2))
    image.paste(RED, (0, height // 2, width // 2, height))
    return image


def framed(size: int = 48, border: int = 4) -> Image.Image:
    """White, with a black frame *border* pixels wide."""
    image = Image.new("RGB", (size, size), BLACK)
    image.paste(WHITE, (border, border, size - border, size - border))
    return image


def convert_bytes(
    image: Image.Image, modifier: str, settings: ConversionSettings | None = None
) -> bytes:
    source = io.BytesIO()
    image.save(source, "PNG")
    job = ExportJob(asset_handles=["h"], fmt="convert", is_modifier=modifier)
    asset = Asset(handle="h", type="Image", name="f", file_name="f.png", company="c")
    plan = plan_exports([asset], job, settings=settings)[0]
    return b"".join(PillowConverter().convert(io.BytesIO(source.getvalue()), plan))


def convert(
    image: Image.Image, modifier: str, settings: ConversionSettings | None = None
) -> Image.Image:
    out = Image.open(io.BytesIO(convert_bytes(image, modifier, settings)))
    out.load()
    return out


def content_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of everything that is not (near) black."""
    return image.convert("L").point(lambda v: 255 if v > 3 else 0).getbbox()


def check_pixels(image: Image.Image, expected: dict[tuple[int, int], tuple[int, ...]]) -> None:
    for point, colour in expected.items():
        assert image.getpixel(point) == colour, point


# --- section 13: reply sizes; section 15.3: align ----------------------------------------------

_QUADS_CORNERS = {(0, 0): YELLOW, (39, 0): CYAN, (0, 19): RED, (39, 19): BLUE}


@pytest.mark.parametrize(
    ("modifier", "size", "pixels"),
    [
        ("", (40, 20), _QUADS_CORNERS),
        ("&scl=1", (40, 20), _QUADS_CORNERS),
        ("&wid=80", (80, 40), {(0, 0): YELLOW, (79, 39): BLUE}),
        ("&hei=10", (20, 10), {(0, 0): YELLOW, (19, 9): BLUE}),
        ("&wid=11", (11, 6), {}),  # 5.5 rounds half up
        ("&scl=2", (20, 10), {(0, 0): YELLOW, (19, 9): BLUE}),
        ("&scl=3", (13, 7), {}),
        ("&scl=0.5", (80, 40), {(0, 0): YELLOW, (79, 39): BLUE}),
        # wid + hei: letterbox, centred / align extremes
        ("&wid=20&hei=20", (20, 20), {(0, 0): BLACK, (19, 19): BLACK, (0, 5): YELLOW}),
        ("&wid=20&hei=20&align=-1,-1", (20, 20), {(0, 0): YELLOW, (0, 10): BLACK}),
        ("&wid=20&hei=20&align=1,1", (20, 20), {(0, 9): BLACK, (19, 19): BLUE}),
        ("&wid=20&align=1,1", (20, 10), {(0, 0): YELLOW}),  # align ignored with one side
        # scl + wid/hei: pad or crop, placed by align
        ("&scl=1&wid=60", (60, 20), {(9, 0): BLACK, (10, 0): YELLOW, (50, 0): BLACK}),
        ("&scl=1&wid=20", (20, 20), {(0, 0): YELLOW, (19, 19): BLUE}),
        ("&scl=1&wid=20&align=-1,0", (20, 20), {(19, 0): YELLOW, (19, 19): RED}),
        ("&scl=1&wid=20&align=1,0", (20, 20), {(0, 0): CYAN, (0, 19): BLUE}),
        ("&scl=1&wid=60&hei=40&align=1,1", (60, 40), {(19, 19): BLACK, (20, 20): YELLOW}),
        ("&scl=2&wid=40&hei=40", (40, 40), {(9, 14): BLACK, (10, 15): YELLOW}),
        ("&scl=1&wid=20&hei=20&fit=crop,1", (20, 20), {(0, 0): YELLOW}),  # fit ignored
    ],
)
def test_reply_size_table(modifier, size, pixels):
    out = convert(quads(), "fmt=png&bgc=0,0,0" + modifier)
    assert out.size == size
    check_pixels(out, pixels)


@pytest.mark.parametrize(
    ("settings", "modifier", "size"),
    [
        (ConversionSettings(default_pix=(20, 20)), "", (20, 10)),
        (ConversionSettings(default_pix=(100, 100)), "", (40, 20)),  # never enlarged
        (ConversionSettings(default_pix=(0, 10)), "", (20, 10)),  # 0 = side unbounded
        (ConversionSettings(default_pix=(20, 20)), "&scl=1", (40, 20)),
        (ConversionSettings(default_pix=(20, 20)), "&wid=30", (30, 15)),
        (ConversionSettings(default_pix=(20, 20)), "&rotate=90", (10, 20)),  # composite size
        (ConversionSettings(max_pix=(30, 30)), "&wid=30", (30, 15)),
        (ConversionSettings(default_pix=(20, 20), max_pix=(30, 30)), "", (20, 10)),
    ],
)
def test_default_pix_and_max_pix_within(settings, modifier, size):
    assert convert(quads(), "fmt=png" + modifier, settings).size == size


@pytest.mark.parametrize(
    ("max_pix", "modifier"),
    [((30, 30), ""), ((30, 30), "&wid=31"), ((100, 30), "&hei=31"), ((79, 99), "&extend=0,0,40,0")],
)
def test_max_pix_exceeded(max_pix, modifier):
    with pytest.raises(ImageTooLargeError):
        convert(quads(), "fmt=png" + modifier, ConversionSettings(max_pix=max_pix))


def test_max_pix_fails_before_decoding():
    # A PNG cut after its header: only the header-based check can answer.
    source = io.BytesIO()
    Image.new("RGB", (400, 300)).save(source, "PNG")
    job = ExportJob(asset_handles=["h"], fmt="convert", is_modifier="fmt=png")
    asset = Asset(handle="h", type="Image", name="f", file_name="f.png", company="c")
    plan = plan_exports([asset], job, settings=ConversionSettings(max_pix=(100, 100)))[0]
    with pytest.raises(ImageTooLargeError):
        PillowConverter().convert(io.BytesIO(source.getvalue()[:60]), plan)


# --- section 15.4: fit modes -------------------------------------------------------------------
# 40x20 quads on black bgc; the box is where image content lands in the reply.


@pytest.mark.parametrize(
    ("modifier", "size", "box"),
    [
        # downscale: sx = 0.5, sy = 1
        ("wid=20&hei=20&fit=fit", (20, 20), (0, 5, 20, 15)),
        ("wid=20&hei=20&fit=constrain", (20, 10), (0, 0, 20, 10)),
        ("wid=20&hei=20&fit=crop", (20, 20), (0, 0, 20, 20)),
        ("wid=20&hei=20&fit=wrap", (40, 20), (0, 0, 40, 20)),
        ("wid=20&hei=20&fit=stretch", (20, 20), (0, 0, 20, 20)),
        ("wid=20&hei=20&fit=hfit", (20, 20), (0, 5, 20, 15)),
        ("wid=20&hei=20&fit=vfit", (20, 20), (0, 0, 20, 20)),
        # upscale target: sx = 2, sy = 4; no flag = no enlarging, with fit=
        ("wid=80&hei=80", (80, 80), (0, 20, 80, 60)),  # no fit=: may enlarge
        ("wid=80&hei=80&fit=fit", (80, 80), (20, 30, 60, 50)),
        ("wid=80&hei=80&fit=fit,1", (80, 80), (0, 20, 80, 60)),
        ("wid=80&hei=80&fit=constrain", (40, 20), (0, 0, 40, 20)),
        ("wid=80&hei=80&fit=constrain,1", (80, 40), (0, 0, 80, 40)),
        ("wid=80&hei=80&fit=crop", (80, 80), (20, 30, 60, 50)),
        ("wid=80&hei=80&fit=crop,1", (80, 80), (0, 0, 80, 80)),
        ("wid=80&hei=80&fit=wrap", (40, 20), (0, 0, 40, 20)),
        ("wid=80&hei=80&fit=wrap,1", (160, 80), (0, 0, 160, 80)),
        ("wid=80&hei=80&fit=stretch", (80, 80), (20, 30, 60, 50)),
        ("wid=80&hei=80&fit=stretch,1", (80, 80), (0, 0, 80, 80)),
        ("wid=80&hei=80&fit=hfit,1", (80, 80), (0, 20, 80, 60)),
        ("wid=80&hei=80&fit=vfit,1", (80, 80), (0, 0, 80, 80)),
        # mixed: sx = 2 (clamped to 1 without the flag), sy = 0.5
        ("wid=80&hei=10&fit=fit", (80, 10), (30, 0, 50, 10)),
        ("wid=80&hei=10&fit=crop", (80, 10), (20, 0, 60, 10)),
        ("wid=80&hei=10&fit=crop,1", (80, 10), (0, 0, 80, 10)),
        # one side with fit=: the scaled image, clamped by the flag
        ("wid=20&fit=constrain", (20, 10), (0, 0, 20, 10)),
        ("wid=80&fit=constrain", (40, 20), (0, 0, 40, 20)),
        ("wid=80&fit=constrain,1", (80, 40), (0, 0, 80, 40)),
        ("hei=10&fit=crop", (20, 10), (0, 0, 20, 10)),
        ("hei=40&fit=fit", (40, 20), (0, 0, 40, 20)),
        ("hei=40&fit=vfit,1", (80, 40), (0, 0, 80, 40)),
    ],
)
def test_fit_modes(modifier, size, box):
    out = convert(quads(), f"fmt=png&bgc=0,0,0&{modifier}")
    assert out.size == size
    assert content_box(out) == box


@pytest.mark.parametrize(
    ("align", "pixels"),
    [("-1,-1", {(0, 0): YELLOW, (19, 19): RED}), ("1,1", {(0, 0): CYAN, (19, 19): BLUE})],
)
def test_fit_crop_align_extremes(align, pixels):
    check_pixels(convert(quads(), f"fmt=png&wid=20&hei=20&fit=crop&align={align}"), pixels)


# --- section 16: crop, size, rotate, extend, flip ----------------------------------------------


@pytest.mark.parametrize(
    ("modifier", "size", "pixels"),
    [
        ("crop=20,0,20,10", (20, 10), {(0, 0): CYAN, (19, 9): CYAN}),
        ("cropN=0.5,0.5,0.5,0.5", (20, 10), {(0, 0): BLUE, (19, 9): BLUE}),
        ("cropN=0.1,0,0.8,1", (32, 20), {(0, 0): YELLOW, (31, 19): BLUE}),
        ("crop=0,0,0,0", (40, 20), _QUADS_CORNERS),
        ("crop=-10,-5,30,15", (30, 15), {(0, 0): GREEN, (9, 14): GREEN, (10, 5): YELLOW}),
        ("crop=30,15,20,10", (20, 10), {(0, 0): BLUE, (10, 0): GREEN, (0, 5): GREEN}),
        ("crop=500,500,10,10", (10, 10), {(0, 0): GREEN, (9, 9): GREEN}),
        ("size=20,0", (20, 10), {(0, 0): YELLOW, (19, 9): BLUE}),
        ("size=80,0", (80, 40), {(0, 0): YELLOW, (79, 39): BLUE}),  # size may enlarge
        ("size=20,20", (20, 20), {(0, 0): GREEN, (0, 4): GREEN, (0, 5): YELLOW}),
        # positive = clockwise; quarter turns exact
        ("rotate=90", (20, 40), {(0, 0): RED, (19, 0): YELLOW, (0, 39): BLUE, (19, 39): CYAN}),
        ("rotate=-90", (20, 40), {(0, 0): CYAN, (19, 0): BLUE, (0, 39): YELLOW}),
        ("rotate=180", (40, 20), {(0, 0): BLUE, (39, 19): YELLOW}),
        ("rotate=45", (42, 42), {(0, 0): GREEN, (41, 41): GREEN}),
        ("rotate=30", (45, 37), {(0, 0): GREEN}),
        ("flip=lr", (40, 20), {(0, 0): CYAN, (39, 0): YELLOW, (0, 19): BLUE}),
        ("flip=ud", (40, 20), {(0, 0): RED, (0, 19): YELLOW, (39, 19): CYAN}),
        ("flip=lrud", (40, 20), {(0, 0): BLUE, (39, 19): YELLOW}),
        # A7: rotate (layer 0) before flip (comp), whatever the URL order
        ("flip=lr&rotate=90", (20, 40), {(0, 0): YELLOW, (19, 0): RED, (0, 39): CYAN}),
        # crop is in source pixels, before the composite flip
        ("flip=lr&crop=0,0,20,20", (20, 20), {(0, 0): YELLOW, (19, 19): RED}),
        ("extend=5,0,0,0", (45, 20), {(4, 19): GREEN, (5, 0): YELLOW}),
        ("extend=0,5,10,0", (50, 25), {(0, 4): GREEN, (0, 5): YELLOW, (40, 24): GREEN}),
        ("extend=-20,0,0,-10", (20, 10), {(0, 0): CYAN, (19, 9): CYAN}),
        ("extend=-10,-5,-10,-5", (20, 10), {(0, 0): YELLOW, (19, 9): BLUE}),
        ("extend=10,0,0,0&flip=lr", (50, 20), {(0, 0): CYAN, (40, 0): GREEN}),  # extend, then flip
    ],
)
def test_layer_geometry(modifier, size, pixels):
    out = convert(quads(), f"fmt=png&bgc=0,255,0&{modifier}")
    assert out.size == size
    check_pixels(out, pixels)


@pytest.mark.parametrize(
    ("modifier", "pixels"),
    [
        ("crop=-10,-5,30,15", {(0, 0): CLEAR, (10, 5): (*YELLOW, 255)}),
        ("cropN=-0.25,0,1.5,1", {(9, 10): CLEAR, (10, 0): (*YELLOW, 255), (50, 0): CLEAR}),
        ("size=20,20", {(0, 0): CLEAR, (0, 5): (*YELLOW, 255)}),
        ("rotate=45", {(0, 0): CLEAR}),
        ("extend=5,5,5,5", {(0, 0): CLEAR, (5, 5): (*YELLOW, 255), (49, 29): CLEAR}),
        ("wid=20&hei=20", {(0, 0): CLEAR, (0, 5): (*YELLOW, 255)}),
    ],
)
def test_alpha_output_keeps_new_areas_transparent(modifier, pixels):
    out = convert(quads(), f"fmt=png-alpha&bgc=0,255,0&{modifier}")
    assert out.mode == "RGBA"
    check_pixels(out, pixels)


def test_rotate_arbitrary_angle_is_clockwise():
    square = Image.new("RGB", (41, 41), BLACK)
    square.paste(WHITE, (18, 0, 23, 6))  # a mark at the top centre
    out = convert(square, "fmt=png&bgc=0,0,0&rotate=45")
    assert out.size == (58, 58)
    left, top, right, bottom = content_box(out.point(lambda v: 255 if v > 128 else 0))
    assert (left + right) / 2 > 35  # the mark moved right of the centre (29), near the top
    assert (top + bottom) / 2 < 20


# --- section 14: order of operations -----------------------------------------------------------


def _noise() -> Image.Image:
    image = Image.effect_noise((80, 80), 64).convert("RGB")
    return image.filter(ImageFilter.GaussianBlur(1.5))


def _mean_difference(first: Image.Image, second: Image.Image) -> float:
    return max(ImageStat.Stat(ImageChops.difference(first, second)).mean)


def test_sharpen_runs_after_scaling():
    source = _noise()
    out = convert(source, "fmt=png&wid=40&op_sharpen=1")
    after = source.resize((40, 40), Image.Resampling.LANCZOS).filter(ImageFilter.SHARPEN)
    assert _mean_difference(out, after) < 0.5


def test_blur_runs_on_the_composite_before_scaling():
    source = _noise()
    out = convert(source, "fmt=png&wid=40&op_blur=3")
    before = source.filter(ImageFilter.GaussianBlur(3)).resize((40, 40), Image.Resampling.LANCZOS)
    assert _mean_difference(out, before) < 0.5


def test_crop_selects_source_pixels_before_scaling():
    out = convert(quads(), "fmt=png&crop=20,0,20,10&wid=40")
    assert out.size == (40, 20)
    assert out.getpixel((20, 10)) == CYAN  # the cropped quadrant fills the reply


# Spec 14 steps 2 and 6, 16.1, 16.4: what a crop or a negative extend removes is gone; later
# resampling must not read it at the edges, and a later positive extend must not reveal it.


@pytest.mark.parametrize(
    ("size", "modifier"),
    [
        (48, "crop=4,4,40,40&wid=80"),
        (48, "crop=4,4,40,40&wid=20"),
        (40, "cropN=0.1,0.1,0.8,0.8&scl=2"),
    ],
)
def test_crop_then_scale_does_not_see_cropped_out_pixels(size, modifier):
    # The crop is pure white: every reply pixel must be white.
    out = convert(framed(size), f"fmt=png&{modifier}")
    assert out.convert("L").getextrema() == (255, 255)


def test_crop_then_size_does_not_see_cropped_out_pixels():
    out = convert(framed(), "fmt=png&crop=4,4,40,40&size=20,0")
    assert out.convert("L").getextrema() == (255, 255)


def test_negative_extend_then_scale_does_not_see_removed_pixels():
    out = convert(framed(), "fmt=png&extend=-4,-4,-4,-4&wid=80")
    assert out.convert("L").getextrema() == (255, 255)


@pytest.mark.parametrize(
    "modifier", ["crop=4,4,40,40&extend=4,4,4,4", "crop=4,4,40,40&extend=4,4,4,4&wid=96"]
)
def test_a_positive_extend_after_a_crop_adds_background_not_the_cropped_frame(modifier):
    # The frame is black and bgc is red: the margins must be red (or blends of red and white at
    # a resampled edge), never the black the crop removed.
    red, green, _ = convert(framed(), f"fmt=png&bgc=ff0000&{modifier}").convert("RGB").split()
    assert green.getpixel((1, 1)) == 0  # the margin is red...
    assert red.getpixel((1, 1)) == 255
    assert red.getextrema()[0] >= 200  # ...and no black anywhere


# --- sections 4, 5, 6, 7, 9: bgc, alpha, palette key, qlt chroma, printRes ----------------------


def _half_clear() -> Image.Image:
    """Opaque red left half, fully clear right half, a 50 % black column at x = 5."""
    image = Image.new("RGBA", (20, 20), (*RED, 255))
    image.paste((0, 0, 255, 0), (10, 0, 20, 20))
    image.paste((0, 0, 0, 128), (5, 0, 6, 20))
    return image


@pytest.mark.parametrize(
    ("fmt", "pixels"),
    [
        ("png", {(0, 0): RED, (5, 0): (0, 127, 0), (15, 0): GREEN}),
        ("png-alpha", {(0, 0): (*RED, 255), (5, 0): (0, 0, 0, 128), (15, 0): (0, 0, 255, 0)}),
        ("tif-alpha", {(0, 0): (*RED, 255), (15, 0): (0, 0, 255, 0)}),
    ],
)
def test_bgc_flattens_only_formats_without_alpha(fmt, pixels):
    check_pixels(convert(_half_clear(), f"fmt={fmt}&bgc=0,255,0"), pixels)


def test_jpeg_is_flattened_on_bgc():
    out = convert(_half_clear(), "fmt=jpeg&bgc=0,255,0&qlt=100,1")
    assert all(abs(a - b) <= 3 for a, b in zip(out.getpixel((15, 10)), GREEN, strict=True))
    assert all(abs(a - b) <= 3 for a, b in zip(out.getpixel((1, 10)), RED, strict=True))


def test_bgc_alpha_is_ignored():
    assert convert(quads(), "fmt=png&wid=20&hei=20&bgc=ff000000").getpixel((0, 0)) == RED


@pytest.mark.parametrize("fmt", ["gif-alpha", "png8-alpha"])
def test_palette_alpha_uses_one_key_entry(fmt):
    out = convert(_half_clear(), f"fmt={fmt}&bgc=0,255,0")
    assert out.mode == "P"
    key = out.info["transparency"]
    assert out.getpixel((15, 0)) == key
    assert out.getpixel((0, 0)) != key
    assert out.convert("RGBA").getpixel((0, 0)) == (*RED, 255)
    assert out.convert("RGBA").getpixel((15, 0))[3] == 0


def test_gif_without_alpha_is_flattened_on_bgc():
    out = convert(_half_clear(), "fmt=gif&bgc=0,255,0")
    assert "transparency" not in out.info
    assert out.convert("RGB").getpixel((15, 0)) == GREEN


@pytest.mark.parametrize(
    ("modifier", "sampling"),
    [
        ("fmt=jpeg", 2),
        ("fmt=jpeg&qlt=90,0", 2),
        ("fmt=jpeg&qlt=90,1", 0),
        ("fmt=pjpeg&qlt=90,1", 0),
    ],
)
def test_qlt_chroma_flag_sets_subsampling(modifier, sampling):
    out = convert(quads(64, 64), modifier)
    assert JpegImagePlugin.get_sampling(out) == sampling


@pytest.mark.parametrize(
    ("modifier", "dpi"),
    [("fmt=jpeg&printRes=300", 300), ("fmt=tif&printRes=150", 150), ("fmt=png&printRes=300", 300)],
)
def test_print_res_is_written(modifier, dpi):
    out = convert(quads(), modifier)
    assert out.size == (40, 20)  # pixel size unchanged
    assert round(out.info["dpi"][0]) == dpi


# --- section 18: op_* filters (200, 100, 50 has Rec.601 luma 124.2) ---------------------------


@pytest.mark.parametrize(
    ("modifier", "expected"),
    [
        ("op_invert=1", (55, 155, 205)),
        ("op_brightness=20", (251, 151, 101)),
        ("op_brightness=-100", (0, 0, 0)),
        ("op_contrast=50", (236, 86, 11)),
        ("op_contrast=-100", (128, 128, 128)),
        ("op_saturation=-100", (124, 124, 124)),
        ("op_colorbalance=10,0,-10", (226, 100, 25)),
        ("op_hue=120", (50, 200, 100)),
    ],
)
def test_filter_values(modifier, expected):
    assert (
        convert(Image.new("RGB", (8, 8), (200, 100, 50)), f"fmt=png&{modifier}").getpixel((4, 4))
        == expected
    )


def test_hue_positive_goes_red_to_yellow_to_green():
    plus = convert(Image.new("RGB", (8, 8), (200, 100, 50)), "fmt=png&op_hue=30").getpixel((4, 4))
    minus = convert(Image.new("RGB", (8, 8), (200, 100, 50)), "fmt=png&op_hue=-30").getpixel((4, 4))
    assert plus[1] > 100  # towards yellow: green rises
    assert minus[2] > 50  # towards magenta: blue rises
    assert plus[0] == minus[0] == 200  # value kept


def test_invert_does_not_invert_the_background():
    image = Image.new("RGBA", (8, 8), CLEAR)
    image.putpixel((0, 0), (10, 20, 30, 255))
    out = convert(image, "fmt=png&op_invert=1")
    assert out.getpixel((0, 0)) == (245, 235, 225)
    assert out.getpixel((4, 4)) == WHITE
