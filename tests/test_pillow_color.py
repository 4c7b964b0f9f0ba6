"""Colour on real images: CMYK/YCCK, ICC profiles, 16-bit, alpha modes, bgc, pixel types, metadata."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from exportjob import ConversionError, ModifierError
from exportjob.converters import PillowConverter
from exportjob.language import resolve_request
from exportjob.options import Color, Quality
from exportjob.testing import images

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
CYAN = (0, 255, 255)
MAGENTA = (255, 0, 255)
YELLOW = (255, 255, 0)
BLACK = (0, 0, 0)


def convert(data: bytes, fmt: str = "png", **options) -> Image.Image:
    out = PillowConverter().convert(io.BytesIO(data), images.plan(fmt, **options))
    return Image.open(io.BytesIO(b"".join(out)))


def close(actual, expected, tolerance=10):
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def profile_description(image: Image.Image) -> str:
    data = image.info["icc_profile"]
    return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(data))).strip()


QUADRANTS = {(16, 16): CYAN, (48, 16): MAGENTA, (16, 48): YELLOW, (48, 48): BLACK}


@pytest.mark.parametrize(
    "original",
    [
        pytest.param(images.cmyk_jpeg(), id="adobe-cmyk-jpeg"),
        pytest.param(images.ycck_jpeg(), id="ycck-jpeg"),
        pytest.param(images.encode(images.cmyk_image(), "TIFF"), id="cmyk-tiff"),
    ],
)
def test_cmyk_originals_become_the_right_rgb(original):
    image = convert(original)
    assert image.mode == "RGB"
    for xy, colour in QUADRANTS.items():
        assert close(image.getpixel(xy), colour), (xy, image.getpixel(xy))


def test_cmyk_profile_is_used_to_convert_to_srgb():
    # In this profile cyan ink prints magenta: the converter must go through the profile.
    image = convert(images.cmyk_jpeg(icc=images.swapped_cmyk_profile()))
    assert close(image.getpixel((16, 16)), MAGENTA)
    assert close(image.getpixel((48, 16)), CYAN)


def test_cmyk_stays_cmyk_for_cmyk_output_and_keeps_its_profile():
    profile = images.swapped_cmyk_profile()
    image = convert(images.cmyk_jpeg(icc=profile), "tif,cmyk,lzw", icc_embed=True)
    assert image.mode == "CMYK"
    assert close(image.getpixel((16, 16)), (255, 0, 0, 0))
    assert close(image.getpixel((48, 48)), (0, 0, 0, 255))
    assert image.info["icc_profile"] == profile


def test_cmyk_output_from_rgb_has_no_profile_to_embed():
    image = convert(
        images.encode(Image.new("RGB", (8, 8), RED), "PNG"), "jpeg,cmyk", icc_embed=True
    )
    assert image.mode == "CMYK"
    assert "icc_profile" not in image.info
    assert close(image.getpixel((4, 4)), (0, 255, 255, 0))


def test_rgb_profile_is_honoured():
    # Red and blue primaries are swapped in this profile: stored red is sRGB blue.
    original = images.tagged(Image.new("RGB", (8, 8), RED), "PNG", images.swapped_rgb_profile())
    assert close(convert(original).getpixel((4, 4)), BLUE, tolerance=2)


def test_adobe_rgb_original_is_converted_like_littlecms_does():
    pixels = images.photo((64, 48))
    profile = images.adobe_rgb_profile()
    image = convert(images.tagged(pixels, "PNG", profile))
    expected = ImageCms.profileToProfile(
        pixels,
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.createProfile("sRGB"),
        renderingIntent=ImageCms.Intent.PERCEPTUAL,
        flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
    )
    assert images.psnr(image, expected) > 50
    assert images.psnr(image, pixels) < 40  # the profile made a visible difference


def test_srgb_tagged_original_is_left_as_is():
    pixels = images.photo((64, 48))
    image = convert(images.tagged(pixels, "PNG", images.srgb_profile()))
    assert images.psnr(image, pixels) == float("inf")


def test_unreadable_profile_is_ignored():
    pixels = Image.new("RGB", (8, 8), RED)
    image = convert(images.tagged(pixels, "PNG", b"not a profile at all" * 10))
    assert image.getpixel((4, 4)) == RED


def test_rgba_with_profile_keeps_its_alpha():
    pixels = images.rgba_with_transparency()
    image = convert(images.tagged(pixels, "PNG", images.adobe_rgb_profile()), "png-alpha")
    assert image.getpixel((60, 4))[3] == 0
    assert image.getpixel((4, 4))[3] == 255


@pytest.mark.parametrize(
    ("fmt", "description"),
    [
        pytest.param("jpeg", "sRGB", id="jpeg-rgb"),
        pytest.param("png", "sRGB", id="png-rgb"),
        pytest.param("tif,rgb,lzw", "sRGB", id="tif-rgb"),
        pytest.param("png8", "sRGB", id="png8"),
        pytest.param("jpeg,gray", "Gray", id="jpeg-gray"),
        pytest.param("png-alpha,gray", "Gray", id="png-gray"),
    ],
)
def test_icc_embed_writes_the_output_profile(fmt, description):
    original = images.tagged(images.photo((32, 24)), "PNG", images.adobe_rgb_profile())
    image = convert(original, fmt, icc_embed=True)
    assert description in profile_description(image)


@pytest.mark.parametrize("fmt", ["gif", "webp", "avif", "jpeg2000"])
def test_icc_embed_is_ignored_where_the_format_takes_no_profile(fmt):
    image = convert(images.encode(images.photo((32, 24)), "PNG"), fmt, icc_embed=True)
    assert "icc_profile" not in image.info or not image.info["icc_profile"]


def test_without_icc_embed_no_profile_is_written_even_if_the_source_had_one():
    original = images.tagged(images.photo((32, 24)), "JPEG", images.adobe_rgb_profile())
    assert "icc_profile" not in convert(original, "jpeg").info


def test_gray_source_profile_is_kept_for_gray_output():
    profile = images.gray_profile("Dot gain 20% (sample)", 1.8)
    original = images.tagged(Image.new("L", (8, 8), 90), "PNG", profile)
    image = convert(original, "png,gray", icc_embed=True)
    assert image.info["icc_profile"] == profile
    assert image.getpixel((4, 4)) == 90


def test_16_bit_gray_is_scaled_not_clipped():
    image = convert(images.png16((256, 4)), "png,gray")
    assert image.mode == "L"
    row = [image.getpixel((x, 0)) for x in range(256)]
    assert row[0] == 0
    assert row[255] == 255
    assert abs(row[128] - 128) <= 1
    assert row == sorted(row)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("I", 128), ("F", 128)],
)
def test_32_bit_gray_modes_are_reduced(mode, expected):
    value = 32896 if mode == "I" else 128 / 255
    image = Image.new(mode, (4, 4), value)
    image = convert(images.encode(image, "TIFF"), "png,gray")
    assert image.getpixel((1, 1)) == expected


def test_gray_with_alpha_is_flattened_onto_bgc():
    image = convert(
        images.encode(images.la_image(), "PNG"),
        "jpeg,gray",
        bgc=Color("gray", (0,)),
        qlt=_quality(100),
    )
    assert close((image.getpixel((10, 10)),), (200,), 2)
    assert close((image.getpixel((50, 10)),), (0,), 2)


def test_gray_with_alpha_stays_la_in_alpha_formats():
    image = convert(images.encode(images.la_image(), "PNG"), "png-alpha,gray")
    assert image.mode == "LA"
    assert image.getpixel((10, 10)) == (200, 255)
    assert image.getpixel((50, 10))[1] == 0


def test_palette_with_transparency():
    image = convert(images.encode(images.palette_with_transparency(), "PNG"), "png-alpha")
    assert image.getpixel((2, 2))[3] == 0
    assert image.getpixel((30, 2)) == (0, 200, 0, 255)


def test_gif_key_colour_transparency_is_read():
    original = images.encode(images.palette_with_transparency(), "GIF")
    image = convert(original, "png-alpha")
    assert image.getpixel((2, 2))[3] == 0


def test_one_bit_images():
    image = convert(images.encode(images.one_bit(), "PNG"), "png,gray")
    assert image.mode == "L"
    assert image.getpixel((2, 2)) == 0
    assert image.getpixel((30, 2)) == 255


@pytest.mark.parametrize(
    "original",
    [
        pytest.param(images.animated_gif(), id="gif"),
        pytest.param(images.animated_webp(), id="webp"),
    ],
)
def test_animated_originals_give_their_first_frame(original):
    image = convert(original, "png")
    assert close(image.getpixel((16, 16)), RED, tolerance=2)


def test_partly_transparent_pixels_blend_onto_bgc():
    image = convert(images.encode(images.rgba_with_transparency(), "PNG"), "png")
    assert image.getpixel((60, 4)) == (255, 255, 255)  # transparent: bgc (white)
    assert close(
        image.getpixel((10, 60)), (127, 127, 255), tolerance=1
    )  # blue at alpha 128 over white


@pytest.mark.parametrize(
    ("bgc", "fmt", "expected"),
    [
        pytest.param(Color("gray", (128,)), "png", (128, 128, 128), id="gray-bgc-on-rgb"),
        pytest.param(Color("cmyk", (0, 0, 0, 255)), "png", (0, 0, 0), id="cmyk-bgc-on-rgb"),
        pytest.param(Color("rgb", (255, 0, 0)), "png,gray", 76, id="rgb-bgc-on-gray-by-luma"),
        pytest.param(
            Color("cmyk", (0, 0, 0, 255)),
            "tif,cmyk",
            (0, 0, 0, 255),
            id="cmyk-bgc-on-cmyk-as-given",
        ),
        pytest.param(
            Color("rgb", (255, 0, 0), alpha=0), "png", (255, 0, 0), id="bgc-alpha-ignored"
        ),
    ],
)
def test_bgc_belongs_to_the_output_colour_space(bgc, fmt, expected):
    image = convert(images.encode(images.rgba_with_transparency(), "PNG"), fmt, bgc=bgc)
    assert image.getpixel((60, 4)) == expected


def test_cmyk_letterbox_uses_the_cmyk_bgc():
    image = convert(
        images.cmyk_jpeg(),
        "jpeg,cmyk",
        wid=64,
        hei=80,
        bgc=Color("cmyk", (0, 0, 0, 255)),
        qlt=_quality(100),
    )
    assert close(image.getpixel((32, 2)), (0, 0, 0, 255), tolerance=3)


@pytest.mark.parametrize(
    ("fmt", "mode", "value"),
    [
        pytest.param("png", "RGB", RED, id="rgb"),
        pytest.param("png,gray", "L", 76, id="gray-luma"),
        pytest.param("tif,cmyk", "CMYK", (0, 255, 255, 0), id="cmyk-naive"),
    ],
)
def test_pixel_types(fmt, mode, value):
    image = convert(images.encode(Image.new("RGB", (8, 8), RED), "PNG"), fmt)
    assert image.mode == mode
    assert image.getpixel((4, 4)) == value


def _gray_as_srgb(value: int, profile: bytes) -> tuple[int, ...]:
    """What LittleCMS makes of gray *value* in *profile*, as sRGB."""
    return ImageCms.profileToProfile(
        Image.new("L", (1, 1), value),
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.createProfile("sRGB"),
        outputMode="RGB",
    ).getpixel((0, 0))


@pytest.mark.parametrize("gamma", [1.0, 1.8, 2.2])
@pytest.mark.parametrize("fmt", ["png", "jpeg", "tif"])
@pytest.mark.parametrize("source", ["PNG", "TIFF"])
def test_a_gray_originals_profile_is_honoured_for_an_rgb_output(
    gamma: float, fmt: str, source: str
) -> None:
    # Spec section 8: the input space is the embedded profile, for a gray original too.
    profile = images.gray_profile(f"Gray gamma {gamma} (sample)", gamma)
    original = images.tagged(Image.new("L", (16, 16), 100), source, profile)
    image = convert(original, fmt, icc_embed=True)
    assert image.mode == "RGB"
    assert close(image.getpixel((8, 8)), _gray_as_srgb(100, profile), tolerance=2)
    assert profile_description(image) == "sRGB built-in"


def test_a_gray_originals_profile_is_honoured_when_a_filter_works_in_rgb() -> None:
    profile = images.gray_profile("Gray gamma 1.0 (sample)", 1.0)
    original = images.tagged(Image.new("LA", (16, 16), (100, 255)), "PNG", profile)
    image = convert(original, "png-alpha", op_saturation=-100)
    assert close(image.getpixel((8, 8))[:3], _gray_as_srgb(100, profile), tolerance=2)
    assert image.getpixel((8, 8))[3] == 255


@pytest.mark.parametrize(
    "description", ["GIMP built-in Linear sRGB", "sRGB-elle-V4-g10", "Linear sRGB"]
)
def test_a_profile_whose_name_holds_srgb_is_converted_by_what_it_says(description: str) -> None:
    profile = images.linear_srgb_profile(description)
    original = images.tagged(Image.new("RGB", (8, 8), (50, 100, 20)), "PNG", profile)
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), (50, 100, 20)),
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.createProfile("sRGB"),
    ).getpixel((0, 0))
    assert close(convert(original).getpixel((4, 4)), expected, tolerance=2)
    assert not close(expected, (50, 100, 20), tolerance=10)  # the profile makes a difference


def test_gray_source_to_rgb_output_replicates():
    image = convert(images.encode(Image.new("L", (8, 8), 77), "PNG"), "png")
    assert image.getpixel((4, 4)) == (77, 77, 77)


def test_metadata_is_stripped():
    exif = Image.Exif()
    exif[0x013B] = "Somebody"  # Artist
    exif[0x0112] = 1
    original = images.encode(images.photo((32, 24)), "JPEG", exif=exif.tobytes(), comment=b"secret")
    image = convert(original, "jpeg")
    assert not image.getexif()
    assert "comment" not in image.info
    png = convert(images.encode(images.photo((32, 24)), "PNG", pnginfo=_text_chunk()), "png")
    assert "Secret" not in png.info


@pytest.mark.parametrize(("fmt", "dpi"), [("jpeg", (300, 300)), ("tif", (300.0, 300.0))])
def test_source_dpi_is_kept(fmt, dpi):
    original = images.encode(images.photo((32, 24)), "JPEG", dpi=(300, 300))
    assert convert(original, fmt).info["dpi"] == dpi


def test_png_dpi_round_trip():
    original = images.encode(images.photo((32, 24)), "JPEG", dpi=(300, 300))
    assert convert(original, "png").info["dpi"] == pytest.approx((300, 300), abs=0.01)


@pytest.mark.parametrize(
    ("fmt", "dpi"), [("jpeg", (72, 72)), ("tif", (72.0, 72.0)), ("png", (72, 72))]
)
def test_print_res_overrides_the_source_dpi(fmt, dpi):
    original = images.encode(images.photo((32, 24)), "JPEG", dpi=(300, 300))
    assert convert(original, fmt, print_res=72.0).info["dpi"] == pytest.approx(dpi, abs=0.01)


@pytest.mark.parametrize("print_res", [65536.0, 70000.0, 0.4])
def test_a_print_res_a_jpeg_cannot_hold_is_refused_not_wrapped(print_res):
    """The JPEG density field is 16 bits of whole dpi: 70,000 dpi was written as 4,464, 65,536 as
    0, and 0.4 (rounded to 0) as a bare aspect ratio."""
    original = images.encode(images.photo((32, 24)), "JPEG")
    with pytest.raises(ConversionError, match="whole dpi from 1 to 65535"):
        convert(original, "jpeg", print_res=print_res)
    assert convert(original, "tif", print_res=print_res).info["dpi"] == (print_res, print_res)


@pytest.mark.parametrize(
    ("fmt", "print_res", "holds"),
    [
        ("png", 0.01, "pixels per metre"),  # was written as 0 dpi
        ("png", 2e8, "pixels per metre"),  # failed "the original could not be converted"
        ("tif", 5e9, "32-bit integers"),  # was written as 4,294,967,295 dpi
        ("tif", 1e11, "32-bit integers"),  # was written as nan
        ("tif", 1e-10, "32-bit integers"),
    ],
)
def test_a_print_res_a_png_or_tiff_cannot_hold_is_refused_not_cut(fmt, print_res, holds):
    original = images.encode(images.photo((32, 24)), "JPEG")
    with pytest.raises(ConversionError, match=holds):
        convert(original, fmt, print_res=print_res)
    with pytest.raises(ModifierError, match=holds):  # a request: before any asset is read
        resolve_request(f"fmt={fmt}&printRes={print_res:.15f}".rstrip("0"), None)


@pytest.mark.parametrize(
    ("fmt", "print_res"), [("png", 0.0254), ("png", 5e7), ("tif", 4e9), ("tif", 1e-3)]
)
def test_a_print_res_at_the_ends_of_a_png_or_tiffs_range_is_written(fmt, print_res):
    original = images.encode(images.photo((32, 24)), "JPEG")
    written = convert(original, fmt, print_res=print_res).info["dpi"]
    assert written == pytest.approx((print_res, print_res), rel=0.01)


def test_an_originals_dpi_a_jpeg_cannot_hold_is_not_written():
    """A 90,000 dpi PNG converted to JPEG came out at 24,464 dpi (wrapped); now none is written."""
    original = images.encode(images.photo((32, 24)), "PNG", dpi=(90000, 90000))
    assert "dpi" not in convert(original, "jpeg").info
    assert convert(original, "jpeg", print_res=300.0).info["dpi"] == (300, 300)


def test_print_res_sets_the_pdf_page_size():
    out = PillowConverter().convert(
        io.BytesIO(images.encode(Image.new("RGB", (300, 150)), "PNG")),
        images.plan("pdf", print_res=150.0),
    )
    data = b"".join(out)
    assert b"/MediaBox [ 0 0 144.0 72.0 ]" in data  # 300 px at 150 dpi = 2 in = 144 pt


def _quality(value):
    return Quality(value)


def _text_chunk():
    info = PngImagePlugin.PngInfo()
    info.add_text("Secret", "value")
    return info


def test_16_bit_tiff_is_scaled():
    ramp = Image.new("I;16", (4, 1))
    ramp.putdata([0, 20000, 40000, 65535])
    image = convert(images.encode(ramp, "TIFF"), "png,gray")
    assert [image.getpixel((x, 0)) for x in range(4)] == [0, 78, 156, 255]


def test_cie_lab_originals_are_converted_to_srgb():
    lab = Image.new("LAB", (8, 8), (128, 128, 128))  # L* 50, a* = b* = 0: middle gray
    assert close(convert(images.encode(lab, "TIFF")).getpixel((4, 4)), (119, 119, 119), 1)


def _exif_without_resolution(jpeg: bytes) -> bytes:
    """*jpeg* with an EXIF block that holds an orientation (1) and no resolution tags."""
    ifd = b"II*\x00\x08\x00\x00\x00\x01\x00" + struct.pack("<HHIHH", 0x112, 3, 1, 1, 0) + bytes(4)
    payload = b"Exif\x00\x00" + ifd
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


@pytest.mark.parametrize(
    ("original", "declared"),
    [
        pytest.param(
            lambda: images.encode(images.photo((32, 24)), "TIFF"), None, id="tiff-no-tags"
        ),
        pytest.param(
            lambda: images.encode(images.photo((32, 24)), "TIFF", dpi=(300, 300)),
            300,
            id="tiff-300",
        ),
        pytest.param(
            lambda: _exif_without_resolution(images.encode(images.photo((32, 24)), "JPEG")),
            None,
            id="jpeg-exif-no-resolution",
        ),
        pytest.param(
            lambda: images.encode(images.photo((32, 24)), "JPEG", dpi=(300, 300)),
            300,
            id="jpeg-300",
        ),
    ],
)
@pytest.mark.parametrize("fmt", ["jpeg", "png", "tif"])
def test_only_a_resolution_the_original_declares_is_written(
    original: Callable[[], bytes], declared: int | None, fmt: str
) -> None:
    # Pillow says 1 dpi for a TIFF with no resolution tags and 72 for a JPEG whose EXIF has none:
    # those came out as 1-dpi and 72-dpi files.
    written = convert(original(), fmt)
    dpi = written.info.get("dpi")
    if fmt == "tif" and 282 not in written.tag_v2:  # type: ignore[attr-defined]
        dpi = None  # what Pillow reads as (1, 1): no XResolution tag
    if declared is None:
        assert dpi is None
    else:
        assert dpi == pytest.approx((declared, declared), abs=0.01)
