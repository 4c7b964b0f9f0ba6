"""Print colour: ``icc=`` with a host profile library, checked against ``PIL.ImageCms`` directly."""

from __future__ import annotations

import io

import attrs
import pytest
from PIL import Image, ImageChops, ImageCms

from exportjob.converters import PillowConverter
from exportjob.exceptions import InvalidValueError, ModifierError
from exportjob.language import resolve_request
from exportjob.options import ConversionSettings, ProfileLibrary, RenderIntent
from exportjob.testing import images

PRESS = images.press_cmyk_profile()
ADOBE = images.adobe_rgb_profile()
GRAY22 = images.gray_profile("Gray 2.2 (test)", 2.2)
LIBRARY = ProfileLibrary({"Press": PRESS, "AdobeRGB": ADOBE, "Gray22": GRAY22})
SETTINGS = ConversionSettings(profiles=LIBRARY)


def export(data: bytes, modifier: str, settings: ConversionSettings = SETTINGS) -> Image.Image:
    options = resolve_request(modifier, None, settings=settings).options
    plan = attrs.evolve(
        images.plan(options.format.render()), options=options, output_format=options.format
    )
    out = PillowConverter().convert(io.BytesIO(data), plan)
    return Image.open(io.BytesIO(b"".join(out)))


def cms(profile: bytes) -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(io.BytesIO(profile))


def expected(
    original: Image.Image, source: bytes | None, target: bytes, mode: str, intent=0, *, bpc=True
) -> Image.Image:
    flags = ImageCms.Flags.BLACKPOINTCOMPENSATION if bpc else ImageCms.Flags.NONE
    src = cms(source or images.srgb_profile())  # the sRGB the converter embeds
    return ImageCms.profileToProfile(
        original, src, cms(target), renderingIntent=intent, outputMode=mode, flags=flags
    )


def max_difference(first: Image.Image, second: Image.Image) -> int:
    assert first.mode == second.mode, (first.mode, second.mode)
    extrema = ImageChops.difference(first, second).getextrema()
    if first.mode == "L":
        extrema = (extrema,)
    return max(high for _, high in extrema)


PHOTO = images.photo((96, 64))


@pytest.mark.parametrize(
    ("source", "tagged"),
    [
        pytest.param(None, images.encode(PHOTO, "PNG"), id="untagged-srgb"),
        pytest.param(ADOBE, images.tagged(PHOTO, "PNG", ADOBE), id="adobe-rgb"),
    ],
)
def test_print_tiff_from_rgb_is_cmyk_converted_by_littlecms_with_the_profile_embedded(
    source, tagged
):
    out = export(tagged, "fmt=tif,,lzw&icc=Press&iccEmbed=1")
    assert out.format == "TIFF"
    assert out.mode == "CMYK"
    assert out.info["compression"] == "tiff_lzw"
    assert out.info["icc_profile"] == PRESS
    assert max_difference(out, expected(PHOTO, source, PRESS, "CMYK")) <= 1


@pytest.mark.parametrize("intent", list(RenderIntent), ids=lambda i: i.name.lower())
@pytest.mark.parametrize("bpc", [0, 1])
def test_intent_and_black_point_compensation_are_littlecms_s(intent, bpc):
    tagged = images.tagged(PHOTO, "PNG", ADOBE)
    out = export(tagged, f"fmt=png&icc=Gray22,{intent.name.lower()},{bpc}")
    assert out.mode == "L"
    want = expected(PHOTO, ADOBE, GRAY22, "L", intent.value, bpc=bool(bpc))
    assert max_difference(out, want) <= 1


def test_the_profile_decides_the_pixel_type_and_fmt_s_is_ignored():
    out = export(images.encode(PHOTO, "PNG"), "fmt=tif,gray&icc=AdobeRGB")
    assert out.mode == "RGB"
    assert max_difference(out, expected(PHOTO, None, ADOBE, "RGB")) <= 1
    assert max_difference(out, PHOTO) > 10


def test_iccembed_without_it_writes_no_profile():
    out = export(images.encode(PHOTO, "PNG"), "fmt=tif&icc=Press")
    assert out.mode == "CMYK"
    assert "icc_profile" not in out.info


def test_resizing_happens_in_the_source_space_then_one_conversion():
    tagged = images.tagged(PHOTO, "PNG", ADOBE)
    out = export(tagged, "fmt=tif&icc=Press&wid=48")
    small = PHOTO.resize((48, 32), Image.Resampling.LANCZOS)
    assert max_difference(out, expected(small, ADOBE, PRESS, "CMYK")) <= 3


def test_a_cmyk_original_converts_from_its_own_profile_to_the_requested_one():
    original = images.cmyk_jpeg(icc=images.swapped_cmyk_profile())
    out = export(original, "fmt=tif&icc=Press")
    source = Image.open(io.BytesIO(original))
    want = expected(source.convert("CMYK"), images.swapped_cmyk_profile(), PRESS, "CMYK")
    assert max_difference(out, want) <= 1


def test_a_default_output_profile_setting_applies_without_icc():
    settings = attrs.evolve(SETTINGS, icc_profile_cmyk="press")
    out = export(images.encode(PHOTO, "PNG"), "fmt=tif,cmyk", settings)
    assert max_difference(out, expected(PHOTO, None, PRESS, "CMYK")) <= 1
    naive = export(images.encode(PHOTO, "PNG"), "fmt=tif,cmyk")
    assert max_difference(naive, out) > 20


@pytest.mark.parametrize(
    ("modifier", "message"),
    [
        pytest.param("fmt=png&icc=Press", "png has no cmyk", id="format-cannot-take-cmyk"),
        pytest.param("fmt=webp&icc=Gray22", "webp has no gray", id="webp-gray"),
        pytest.param("icc=Fogra39", "no profile of that name", id="unknown-name"),
        pytest.param("icc=../x.icc", "never by a path", id="a-path"),
        pytest.param("icc=profiles/Press", "never by a path", id="a-folder"),
        pytest.param("icc=Press,vivid", "renderIntent", id="bad-intent"),
        pytest.param("icc=Press,relative,2", "blackpointComp", id="bad-bpc"),
    ],
)
def test_bad_icc_requests_fail_before_any_asset_is_read(modifier, message):
    with pytest.raises(ModifierError, match=message) as caught:
        resolve_request(modifier, None, settings=SETTINGS)
    assert caught.value.command in {"icc", "fmt"}


def test_the_library_loads_a_folder_of_icc_and_icm_files(tmp_path):
    (tmp_path / "Press.icc").write_bytes(PRESS)
    (tmp_path / "Wide.ICM").write_bytes(ADOBE)
    (tmp_path / "notes.txt").write_text("not a profile")
    library = ProfileLibrary.from_folder(tmp_path)
    assert sorted(library) == ["Press", "Wide"]
    assert library.space("wide") == "rgb"
    assert library["PRESS"] == PRESS
    (tmp_path / "Broken.icc").write_bytes(b"x" * 200)
    with pytest.raises(InvalidValueError, match="Broken"):
        ProfileLibrary.from_folder(tmp_path)


def test_a_library_repr_changes_with_a_profile_so_resume_keys_do():
    assert repr(ProfileLibrary({"a": PRESS})) != repr(ProfileLibrary({"a": ADOBE}))
    assert ProfileLibrary({"a": PRESS}) == ProfileLibrary({"a": PRESS})


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"icc_profile_rgb": "Press"}, id="cmyk-profile-as-rgb-default"),
        pytest.param({"icc_profile_cmyk": "Missing"}, id="not-in-library"),
        pytest.param({"keep_metadata": ["everything"]}, id="unknown-metadata-group"),
    ],
)
def test_settings_refuse_bad_profile_defaults(changes):
    with pytest.raises(InvalidValueError):
        ConversionSettings(profiles=LIBRARY, **changes)


def damaged_profile(profile: bytes) -> bytes:
    """*profile* with the types of its colorant tags spoiled: it opens, no transform builds from it."""
    data = bytearray(profile)
    count = int.from_bytes(data[128:132], "big")
    for i in range(count):
        entry = 132 + 12 * i
        if bytes(data[entry : entry + 4]) in {b"rXYZ", b"gXYZ", b"bXYZ"}:
            offset = int.from_bytes(data[entry + 4 : entry + 8], "big")
            data[offset : offset + 4] = b"zzzz"
    return bytes(data)


@pytest.mark.parametrize("modifier", ["icc=Press&fmt=tif", "icc=AdobeRGB&fmt=png"])
def test_a_damaged_embedded_profile_is_ignored_under_icc_too(modifier: str) -> None:
    # It failed the asset with "PyCMSError: cannot build transform"; without icc= it was ignored.
    damaged = damaged_profile(ADOBE)
    cms(damaged)  # it opens
    with pytest.raises(ImageCms.PyCMSError):
        ImageCms.buildTransform(cms(damaged), cms(images.srgb_profile()), "RGB", "RGB")
    tagged = images.tagged(PHOTO, "PNG", damaged)
    untagged = images.encode(PHOTO, "PNG")
    assert max_difference(export(tagged, modifier), export(untagged, modifier)) == 0


# Spec section 8: the input space is the embedded profile, else the catalog default for the pixel
# type (``icc_profile_rgb``/``_gray``/``_cmyk``). Untagged pixels were read as sRGB (RGB), gray with
# the sRGB curve (gray) or naively (CMYK) even with a default set.

GRAY_PHOTO = PHOTO.convert("L")
CMYK_PHOTO = PHOTO.convert("CMYK")
GRAY18 = images.gray_profile("Gray 1.8 (test)", 1.8)
#: pixel type -> (the untagged original, its encoding, the setting naming the default, the default)
ORIGINALS = {
    "rgb": (PHOTO, images.encode(PHOTO, "PNG"), "icc_profile_rgb", "AdobeRGB", ADOBE),
    "gray": (GRAY_PHOTO, images.encode(GRAY_PHOTO, "PNG"), "icc_profile_gray", "Gray22", GRAY22),
    "cmyk": (CMYK_PHOTO, images.encode(CMYK_PHOTO, "TIFF"), "icc_profile_cmyk", "Press", PRESS),
}
BY_TYPE = pytest.mark.parametrize("pixel_type", list(ORIGINALS))


def with_default(pixel_type: str) -> ConversionSettings:
    _, _, setting, name, _ = ORIGINALS[pixel_type]
    return attrs.evolve(SETTINGS, **{setting: name})


@BY_TYPE
def test_untagged_pixels_in_the_default_profile_of_their_type_are_left_as_they_are(pixel_type):
    # The default is also the output profile: source and output are the same, nothing converts.
    original, data, _, _, default = ORIGINALS[pixel_type]
    fmt = {"rgb": "png", "gray": "png,gray", "cmyk": "tif,cmyk"}[pixel_type]
    out = export(data, f"fmt={fmt}&iccEmbed=1", with_default(pixel_type))
    assert out.info["icc_profile"] == default
    assert max_difference(out.convert(original.mode), original) == 0


@BY_TYPE
def test_untagged_pixels_are_converted_from_the_default_profile_of_their_type(pixel_type):
    original, data, _, _, default = ORIGINALS[pixel_type]
    modifier, target, mode = {
        "rgb": ("fmt=tif&icc=Press", PRESS, "CMYK"),
        "gray": ("fmt=png&icc=AdobeRGB", ADOBE, "RGB"),
        "cmyk": ("fmt=png", images.srgb_profile(), "RGB"),  # no RGB default: to sRGB
    }[pixel_type]
    out = export(data, modifier, with_default(pixel_type))
    assert max_difference(out, expected(original, default, target, mode)) <= 1


@pytest.mark.parametrize(
    ("pixel_type", "embedded"),
    [
        pytest.param("rgb", images.srgb_profile(), id="rgb-srgb"),
        pytest.param("rgb", images.swapped_rgb_profile(), id="rgb-swapped"),
        pytest.param("gray", GRAY18, id="gray-1.8"),
        pytest.param("cmyk", images.swapped_cmyk_profile(), id="cmyk-swapped"),
    ],
)
def test_an_embedded_profile_wins_over_the_default_of_its_type(pixel_type, embedded):
    original, _, _, _, default = ORIGINALS[pixel_type]
    data = images.tagged(original, "TIFF", embedded)
    fmt = {"rgb": "tif", "gray": "tif,gray", "cmyk": "tif,cmyk"}[pixel_type]
    out = export(data, f"fmt={fmt}", with_default(pixel_type))  # converted to the default
    assert max_difference(out, expected(original, embedded, default, original.mode)) <= 1
    assert max_difference(out, original) > 5


def test_a_damaged_embedded_profile_is_ignored_for_the_default_of_its_type():
    settings = with_default("rgb")
    tagged = images.tagged(PHOTO, "PNG", damaged_profile(ADOBE))
    assert max_difference(export(tagged, "fmt=png", settings), PHOTO) == 0  # read as AdobeRGB
    for modifier in ("fmt=png", "fmt=tif&icc=Press", "fmt=png,gray"):
        untagged = export(images.encode(PHOTO, "PNG"), modifier, settings)
        assert max_difference(export(tagged, modifier, settings), untagged) == 0


@pytest.mark.parametrize(
    ("data", "settings"),
    [
        pytest.param(images.tagged(GRAY_PHOTO, "PNG", GRAY22), SETTINGS, id="embedded"),
        pytest.param(images.encode(GRAY_PHOTO, "PNG"), with_default("gray"), id="gray-default"),
    ],
)
def test_a_gray_profile_is_not_embedded_in_a_naive_cmyk_output(data, settings):
    out = export(data, "fmt=tif,cmyk&iccEmbed=1", settings)
    assert out.mode == "CMYK"
    assert "icc_profile" not in out.info


def test_an_untagged_gray_original_becomes_rgb_through_the_gray_default() -> None:
    # No icc= and no RGB default: the gray default is the pixels' space, sRGB the output's.
    original, data, _, _, default = ORIGINALS["gray"]
    out = export(data, "fmt=png", with_default("gray"))
    assert max_difference(out, expected(original, default, images.srgb_profile(), "RGB")) <= 1


def test_settings_take_a_plain_mapping_of_profiles() -> None:
    settings = ConversionSettings(profiles={"Gray18": GRAY18}, icc_profile_gray="Gray18")
    assert isinstance(settings.profiles, ProfileLibrary)
    assert settings.profiles["gray18"] == GRAY18
    with pytest.raises(InvalidValueError, match="is not an ICC profile"):
        ConversionSettings(profiles={"Bad": b"not a profile" * 100})
