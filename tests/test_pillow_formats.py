"""Output formats: every writable fmt, pixel types, compressions, qlt, quantize, reproducibility."""

from __future__ import annotations

import io
import pickle

import attrs
import pytest
from PIL import Image, JpegImagePlugin, features

from exportjob import ConversionError
from exportjob.converters import Limits, PillowConverter
from exportjob.exceptions import ImageTooLargeError, ModifierError, UnsupportedFormatError
from exportjob.language import resolve_request
from exportjob.options import OutputFormat, Quality, Quantize
from exportjob.testing import images

PHOTO = images.encode(images.photo((96, 64)), "PNG")
RGBA = images.encode(images.rgba_with_transparency((64, 64)), "PNG")


def convert_bytes(data: bytes, fmt: str, **options) -> bytes:
    out = PillowConverter().convert(io.BytesIO(data), images.plan(fmt, **options))
    assert isinstance(out.chunks, tuple)  # encoded whole before convert() returned
    return b"".join(out)


def convert(data: bytes, fmt: str, **options) -> Image.Image:
    return Image.open(io.BytesIO(convert_bytes(data, fmt, **options)))


@pytest.mark.parametrize(
    ("fmt", "pillow_format", "mode", "mime"),
    [
        pytest.param("jpeg", "JPEG", "RGB", "image/jpeg", id="jpeg"),
        pytest.param("jpeg,gray", "JPEG", "L", "image/jpeg", id="jpeg-gray"),
        pytest.param("jpeg,cmyk", "JPEG", "CMYK", "image/jpeg", id="jpeg-cmyk"),
        pytest.param("pjpeg", "JPEG", "RGB", "image/jpeg", id="pjpeg"),
        pytest.param("png", "PNG", "RGB", "image/png", id="png"),
        pytest.param("png,gray", "PNG", "L", "image/png", id="png-gray"),
        pytest.param("png-alpha", "PNG", "RGBA", "image/png", id="png-alpha"),
        pytest.param("png-alpha,gray", "PNG", "LA", "image/png", id="png-alpha-gray"),
        pytest.param("png8", "PNG", "P", "image/png", id="png8"),
        pytest.param("png8-alpha", "PNG", "P", "image/png", id="png8-alpha"),
        pytest.param("gif", "GIF", "P", "image/gif", id="gif"),
        pytest.param("gif,gray", "GIF", "P", "image/gif", id="gif-gray"),
        pytest.param("gif-alpha", "GIF", "P", "image/gif", id="gif-alpha"),
        pytest.param("tif", "TIFF", "RGB", "image/tiff", id="tif"),
        pytest.param("tif,gray", "TIFF", "L", "image/tiff", id="tif-gray"),
        pytest.param("tif,cmyk", "TIFF", "CMYK", "image/tiff", id="tif-cmyk"),
        pytest.param("tif-alpha", "TIFF", "RGBA", "image/tiff", id="tif-alpha"),
        pytest.param("tif-alpha,gray", "TIFF", "LA", "image/tiff", id="tif-alpha-gray"),
        pytest.param("webp", "WEBP", "RGB", "image/webp", id="webp"),
        pytest.param("webp-alpha", "WEBP", "RGBA", "image/webp", id="webp-alpha"),
        pytest.param("avif", "AVIF", "RGB", "image/avif", id="avif"),
        pytest.param("avif-alpha", "AVIF", "RGBA", "image/avif", id="avif-alpha"),
        pytest.param("jpeg2000", "JPEG2000", "RGB", "image/jp2", id="jpeg2000"),
        pytest.param("jpeg2000,gray", "JPEG2000", "L", "image/jp2", id="jpeg2000-gray"),
        pytest.param("jpeg2000-alpha", "JPEG2000", "RGBA", "image/jp2", id="jpeg2000-alpha"),
        pytest.param("eps", "EPS", "RGB", "image/eps", id="eps"),
        pytest.param("eps,cmyk", "EPS", "CMYK", "image/eps", id="eps-cmyk"),
    ],
)
def test_every_writable_format(fmt, pillow_format, mode, mime):
    plan = images.plan(fmt, wid=32)
    out = PillowConverter().convert(io.BytesIO(RGBA), plan)
    image = Image.open(io.BytesIO(b"".join(out)))
    assert (image.format, image.mode, image.size) == (pillow_format, mode, (32, 32))
    assert (out.media_type, out.width, out.height) == (mime, 32, 32)
    assert out.format == plan.output_format


@pytest.mark.parametrize("fmt", ["pdf", "pdf,gray", "pdf,cmyk,jpeg"])
def test_pdf_holds_one_jpeg_page(fmt):
    data = convert_bytes(PHOTO, fmt)
    assert data.startswith(b"%PDF-")
    assert b"/DCTDecode" in data
    assert b"/Count 1" in data


@pytest.mark.parametrize(
    ("compression", "tag"),
    [("none", "raw"), ("lzw", "tiff_lzw"), ("zip", "tiff_adobe_deflate"), ("jpeg", "jpeg")],
)
def test_tiff_compressions(compression, tag):
    image = convert(PHOTO, f"tif,,{compression}")
    assert image.info["compression"] == tag


@pytest.mark.parametrize(
    "fmt", ["tif,,lzw", "tif,,zip", "tif-alpha,,zip", "png", "webp,,lossless", "jpeg2000,,lossless"]
)
def test_lossless_formats_keep_every_pixel(fmt):
    image = convert(PHOTO, fmt)
    assert images.psnr(image.convert("RGB"), Image.open(io.BytesIO(PHOTO))) == float("inf")


def test_lossless_avif_is_near_lossless():
    image = convert(PHOTO, "avif,,lossless")
    assert images.psnr(image, Image.open(io.BytesIO(PHOTO))) > 40


@pytest.mark.parametrize("fmt", ["jpeg", "tif,,jpeg", "webp", "avif", "jpeg2000", "pdf"])
def test_qlt_sets_the_quality_of_lossy_formats(fmt):
    low = convert_bytes(PHOTO, fmt, qlt=Quality(10))
    high = convert_bytes(PHOTO, fmt, qlt=Quality(95))
    assert len(low) < len(high)


@pytest.mark.parametrize(("quality", "floor"), [(80, 35.0), (95, 40.0)])
def test_jpeg2000_quality_maps_to_a_psnr_target(quality, floor):
    image = convert(PHOTO, "jpeg2000", qlt=Quality(quality))
    assert images.psnr(image, Image.open(io.BytesIO(PHOTO))) >= floor


def test_qlt_chroma_flag_disables_chroma_downsampling():
    normal = convert(PHOTO, "jpeg", qlt=Quality(80, chroma=False))
    full = convert(PHOTO, "jpeg", qlt=Quality(80, chroma=True))
    assert JpegImagePlugin.get_sampling(normal) == 2  # 4:2:0
    assert JpegImagePlugin.get_sampling(full) == 0  # 4:4:4


def test_pjpeg_is_progressive_and_jpeg_is_not():
    assert convert(PHOTO, "pjpeg").info.get("progressive") == 1
    assert "progressive" not in convert(PHOTO, "jpeg").info


def test_qlt_is_ignored_by_lossless_formats():
    assert convert_bytes(PHOTO, "png", qlt=Quality(5)) == convert_bytes(
        PHOTO, "png", qlt=Quality(100)
    )


def palette_colours(image: Image.Image) -> set[tuple[int, int, int]]:
    used = {index for _, index in image.getcolors()}
    flat = image.getpalette() or []
    return {tuple(flat[3 * i : 3 * i + 3]) for i in used}


@pytest.mark.parametrize("colours", [2, 8, 64, 256])
def test_adaptive_quantize_uses_at_most_num_colors(colours):
    image = convert(PHOTO, "png8", quantize=Quantize(colors=colours))
    assert len(image.getcolors()) <= colours


WEB_SAFE = {0, 51, 102, 153, 204, 255}  # the web-safe cube's steps on every component


def test_web_palette_uses_web_safe_colours_only():
    image = convert(PHOTO, "gif", quantize=Quantize(type="web"))
    used = palette_colours(image)
    assert len(used) > 8
    assert all(set(colour) <= WEB_SAFE for colour in used)


def test_forced_colours_are_in_the_palette():
    forced = ((1, 2, 3), (250, 251, 252))
    image = convert(PHOTO, "png8", quantize=Quantize(colors=16, forced=forced))
    flat = image.getpalette() or []
    palette = {tuple(flat[i : i + 3]) for i in range(0, len(flat), 3)}
    assert set(forced) <= palette


def test_dither_off_maps_to_the_nearest_colour():
    gradient = images.encode(images.gradient((256, 16), "L").convert("RGB"), "PNG")
    bitonal = Quantize(colors=2, forced=((0, 0, 0), (255, 255, 255)))
    dithered = convert(gradient, "gif", quantize=bitonal).convert("L")
    nearest = convert(
        gradient, "gif", quantize=Quantize(colors=2, dither=False, forced=bitonal.forced)
    ).convert("L")
    assert nearest.getpixel((60, 8)) == 0  # below 128: black, every pixel
    assert nearest.getpixel((200, 8)) == 255
    assert {dithered.getpixel((x, 8)) for x in range(100, 156)} == {0, 255}  # diffused


def test_gif_alpha_bitonal_example_from_the_reference():
    # fmt=gif-alpha&quantize=adaptive,off,2,000000,ffffff: black/white plus the transparent key.
    image = convert(
        RGBA,
        "gif-alpha",
        quantize=Quantize(dither=False, colors=2, forced=((0, 0, 0), (255, 255, 255))),
    )
    key = image.info["transparency"]
    assert image.getpixel((60, 4)) == key  # transparent area
    assert image.getpixel((4, 4)) != key  # opaque red
    flat = image.getpalette() or []
    opaque = {tuple(flat[3 * i : 3 * i + 3]) for _, i in image.getcolors() if i != key}
    assert opaque <= {(0, 0, 0), (255, 255, 255)}


@pytest.mark.parametrize(
    ("alpha", "transparent"), [(0, True), (127, True), (128, False), (255, False)]
)
def test_gif_alpha_thresholds_alpha_at_half(alpha, transparent):
    original = images.encode(Image.new("RGBA", (8, 8), (200, 30, 30, alpha)), "PNG")
    image = convert(original, "gif-alpha")
    assert (image.getpixel((4, 4)) == image.info.get("transparency")) is transparent


@pytest.mark.parametrize("fmt", ["gif-alpha", "png8-alpha"])
def test_palette_alpha_formats_keep_at_most_255_colours_plus_the_key(fmt):
    image = convert(images.encode(images.photo((64, 64)).convert("RGBA"), "PNG"), fmt)
    colours = image.getcolors()
    assert len(colours) <= 256
    rgba = convert(RGBA, fmt).convert("RGBA")
    assert rgba.getpixel((60, 4))[3] == 0
    assert rgba.getpixel((4, 4)) == (255, 0, 0, 255)


def test_quantize_is_ignored_for_other_formats():
    assert convert_bytes(PHOTO, "png", quantize=Quantize(colors=2)) == convert_bytes(PHOTO, "png")


ALL_FORMATS = [
    "jpeg",
    "pjpeg",
    "jpeg,gray",
    "jpeg,cmyk",
    "png",
    "png-alpha",
    "png8",
    "png8-alpha",
    "gif",
    "gif-alpha",
    "tif",
    "tif,,lzw",
    "tif,,zip",
    "tif,,jpeg",
    "tif-alpha",
    "webp",
    "webp-alpha",
    "webp,,lossless",
    "avif",
    "avif-alpha",
    "jpeg2000",
    "jpeg2000-alpha",
    "pdf",
    "eps",
]


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_outputs_are_reproducible(fmt):
    first = convert_bytes(RGBA, fmt, wid=48, icc_embed=True, print_res=200.0)
    second = convert_bytes(RGBA, fmt, wid=48, icc_embed=True, print_res=200.0)
    assert first == second


def test_reproducible_across_a_pickled_converter():
    converter = pickle.loads(pickle.dumps(PillowConverter(Limits(max_source_pixels=10**7))))
    plan = images.plan("jpeg", wid=40)
    direct = b"".join(PillowConverter().convert(io.BytesIO(PHOTO), plan))
    assert b"".join(converter.convert(io.BytesIO(PHOTO), plan)) == direct


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        pytest.param("jpegxr", "cannot write", id="no-writer"),
        pytest.param("heic", "cannot write", id="no-plugin"),
        pytest.param("png,cmyk", "no cmyk pixel type", id="bad-pixel-type"),
        pytest.param("png,,lzw", "does not take lzw", id="bad-compression"),
        pytest.param("tif-alpha,cmyk", "CMYK mode with alpha", id="cmyk-alpha"),
        pytest.param("nosuchformat", "cannot write", id="unknown"),
    ],
)
def test_formats_this_installation_cannot_write_are_conversion_errors(fmt, message):
    with pytest.raises(ConversionError, match=message) as info:
        convert_bytes(PHOTO, fmt)
    assert info.value.handle == "sample|1"


# -- one format rule: the fmt parser and the converter refuse the same values, for the same reason

TINY = images.encode(images.photo((8, 8)), "PNG")
WRITABLE = sorted({fmt.split(",")[0] for fmt in ALL_FORMATS})
PIXEL_TYPES = ("rgb", "gray", "cmyk")
COMPRESSIONS = ("", "none", "lzw", "zip", "jpeg", "lossy", "lossless")


def parse_fmt(value: str) -> OutputFormat | ModifierError:
    """What the modifier parser makes of ``fmt=value``: the format, or the error it raises."""
    try:
        return resolve_request(f"fmt={value}", None).options.format
    except ModifierError as error:
        return error


@pytest.mark.parametrize("name", WRITABLE)
def test_the_parser_and_the_converter_apply_one_format_rule(name):
    """Every pixel type and compression: refused by both for the same reason, or parsed and written."""
    refused = 0
    for pixel in PIXEL_TYPES:
        for comp in COMPRESSIONS:
            value = f"{name},{pixel},{comp}" if comp else f"{name},{pixel}"
            parsed = parse_fmt(value)
            if isinstance(parsed, ModifierError):
                refused += 1
                with pytest.raises(ConversionError) as info:  # before decoding: not an image
                    PillowConverter().convert(io.BytesIO(b"never decoded"), images.plan(value))
                reason = info.value.message.removeprefix(f"fmt={value}: ")
                assert reason != info.value.message
                assert parsed.message.startswith(reason)
            else:
                out = PillowConverter().convert(io.BytesIO(TINY), images.plan(parsed.render()))
                assert out.format == parsed
                assert b"".join(out)
    assert 0 < refused < len(PIXEL_TYPES) * len(COMPRESSIONS)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        pytest.param("png,cmyk", ModifierError, id="pixel-type-not-in-fmt"),
        pytest.param("png,,lzw", ModifierError, id="compression-not-in-fmt"),
        pytest.param("tif-alpha,,jpeg", ModifierError, id="alpha-tiff-has-no-jpeg"),
        pytest.param("tif-alpha,cmyk", UnsupportedFormatError, id="no-cmyk-with-alpha"),
        pytest.param("pdf,,zip", UnsupportedFormatError, id="image-serving-only-compression"),
    ],
)
def test_a_refused_fmt_says_whether_image_serving_writes_it(value, error):
    with pytest.raises(ModifierError) as parsed:
        resolve_request(f"fmt={value}", None)
    assert type(parsed.value) is error
    with pytest.raises(ConversionError) as converted:
        convert_bytes(PHOTO, value)
    assert converted.value.message.startswith(f"fmt={images.plan(value).output_format.render()}: ")


def test_fmt_orig_is_a_verbatim_copy_without_decoding():
    data = b"not an image, but an original all the same" * 1000
    plan = images.plan("jpeg")
    plan = attrs.evolve(plan, output_format=None, options=None)
    out = PillowConverter().convert(io.BytesIO(data), plan)
    assert out.format is None
    assert b"".join(out) == data


@pytest.mark.parametrize(
    ("fmt", "side", "most"),
    [
        ("jpeg", 65501, 65500),
        ("pjpeg", 65501, 65500),
        ("pdf", 65501, 65500),
        ("webp", 16384, 16383),
        ("gif", 70000, 65535),
        ("avif", 32769, 32768),
    ],
)
def test_a_reply_wider_than_its_format_holds_fails_before_decoding_saying_so(
    fmt: str, side: int, most: int
) -> None:
    # They failed after a full render with the writer's own words ("broken data stream when
    # writing image file", "encoding error 5", OverflowError), blamed on the original.
    if fmt == "avif" and not features.check("avif"):
        pytest.skip("no AVIF writer in this Pillow")
    tiny = images.encode(images.photo((10, 10)), "PNG")
    with pytest.raises(ImageTooLargeError, match=f"holds at most {most} pixels a side"):
        PillowConverter().convert(io.BytesIO(tiny), images.plan(fmt, wid=side, hei=1))


def test_a_jpeg_compressed_tiff_is_held_to_jpeg_s_limit_and_an_uncompressed_one_is_not() -> None:
    tiny = images.encode(images.photo((10, 10)), "PNG")
    plan = images.plan("tif", wid=70000, hei=1)
    assert PillowConverter().convert(io.BytesIO(tiny), plan).width == 70000
    with pytest.raises(ImageTooLargeError, match="holds at most 65500"):
        PillowConverter().convert(io.BytesIO(tiny), images.plan("tif,,jpeg", wid=70000, hei=1))
