"""Edges of the language found by review: long decimals, ``fmt=...,none``, messages that say the fix."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exportjob import ConversionSettings
from exportjob.exceptions import (
    ModifierError,
    RefusedCommandError,
    UnknownCommandError,
    UnsupportedFormatError,
)
from exportjob.language import parse_request, resolve_request
from exportjob.options import Compression, PixelType, ProfileLibrary, RenderIntent
from exportjob.testing.images import press_cmyk_profile, srgb_profile

# -- numbers


@pytest.mark.parametrize(
    ("modifier", "attribute", "expected"),
    [
        (f"scl={1 / 3}", "scl", 1 / 3),  # 16 decimals, as Python writes a float
        ("wid=0000000000000100", "wid", 100),  # leading zeros are not digits that count
        ("scl=0.0000000000000001", "scl", 1e-16),
        ("wid=000000000000000000000000000000000000000000000000000000000007", "wid", 7),
    ],
)
def test_long_but_plain_decimals_are_numbers(
    modifier: str, attribute: str, expected: float
) -> None:
    assert getattr(resolve_request(modifier, None).options, attribute) == expected


@pytest.mark.parametrize(
    ("modifier", "said"),
    [
        ("wid=1234567890123456", "at most 15 digits before the decimal point"),
        ("scl=1." + "0" * 80, "at most 64 characters"),
        ("wid=+5", "a '+' in a request is read as a space: send a plus sign as %2B"),
    ],
)
def test_a_refused_number_says_why(modifier: str, said: str) -> None:
    with pytest.raises(ModifierError, match=re.escape(said)):
        resolve_request(modifier, None)


@pytest.mark.parametrize(
    ("modifier", "shown"),
    [
        ("align=1.0000001,0", "align 1.0000001 is out of range"),
        ("op_usm=5.0000001", "amount 5.0000001 is out of range"),
        ("wid=0", "0 is out of range"),
    ],
)
def test_a_value_out_of_range_is_shown_as_written(modifier: str, shown: str) -> None:
    # Rounded (``1`` for 1.0000001) it would look in range.
    with pytest.raises(ModifierError, match=re.escape(shown)):
        resolve_request(modifier, None)


# -- fmt and icc


@pytest.mark.parametrize("fmt", ["jpeg,rgb,none", "jpg,,none", "pjpeg,gray,none", "png,,none"])
def test_none_compression_is_a_no_op_where_a_format_takes_no_compression(fmt: str) -> None:
    # The reference's own default is written ``fmt=jpeg,<defaultType>,none``.
    written = resolve_request(f"fmt={fmt}", None).options.format
    assert written.compression is None
    assert written.pixel_type in {PixelType.RGB, PixelType.GRAY}


def test_none_is_still_what_it_says_for_tiff() -> None:
    assert resolve_request("fmt=tif,,none", None).options.format.compression is Compression.NONE


@pytest.mark.parametrize(
    ("fmt", "said"),
    [
        ("png,,lzw", "png does not take lzw compression (it takes no compression field)"),
        ("webp,,none", "webp does not take none compression (allowed: lossless, lossy)"),
    ],
)
def test_a_compression_a_format_does_not_take_is_refused_plainly(fmt: str, said: str) -> None:
    with pytest.raises(ModifierError, match=re.escape(said)):
        resolve_request(f"fmt={fmt}", None)


def test_a_profile_no_writer_can_take_with_the_format_is_unsupported_not_malformed() -> None:
    settings = ConversionSettings(profiles=ProfileLibrary({"Press": press_cmyk_profile()}))
    with pytest.raises(
        UnsupportedFormatError, match="Pillow has no CMYK mode with alpha"
    ) as caught:
        resolve_request("icc=Press&fmt=tif-alpha", None, settings=settings)
    assert caught.value.code == "UNSUPPORTED_FORMAT"  # as fmt=tif-alpha,cmyk says it


@pytest.mark.parametrize(
    ("modifier", "written", "warned"),
    [
        # The pixel type is ignored when icc= is given: the profile decides it (spec section 8).
        ("fmt=png,cmyk&icc=sRGB", "png,rgb", True),  # refused before icc= was looked at
        ("fmt=jpeg,gray&icc=Press", "jpeg,cmyk", True),  # replaced without a word
        ("icc=sRGB&fmt=tif-alpha,cmyk", "tif-alpha,rgb,none", True),
        ("fmt=png,rgb&icc=sRGB", "png,rgb", False),
        ("fmt=tif,,lzw&icc=Press", "tif,cmyk,lzw", False),
    ],
)
def test_with_icc_the_profile_decides_the_pixel_type_and_says_so(
    modifier: str, written: str, warned: bool
) -> None:
    profiles = ProfileLibrary({"Press": press_cmyk_profile(), "sRGB": srgb_profile()})
    request = resolve_request(modifier, None, settings=ConversionSettings(profiles=profiles))
    assert request.options.format.render() == written
    said = [w for w in request.warnings if "is ignored, icc=" in w]
    assert bool(said) is warned


@pytest.mark.parametrize(
    ("modifier", "said"),
    [
        ("fmt=png,cmyk", "png has no cmyk pixel type"),  # no icc=: the type is the format's
        ("fmt=png,cmyk&icc=Press", "icc=Press is a cmyk profile, and fmt=png cannot take it"),
        ("fmt=png,cmyk,lzw&icc=sRGB", "png does not take lzw compression"),
    ],
)
def test_with_icc_a_format_still_refuses_what_it_cannot_write(modifier: str, said: str) -> None:
    profiles = ProfileLibrary({"Press": press_cmyk_profile(), "sRGB": srgb_profile()})
    with pytest.raises(ModifierError, match=re.escape(said)):
        resolve_request(modifier, None, settings=ConversionSettings(profiles=profiles))


# -- messages


@pytest.mark.parametrize(
    ("modifier", "hint"),
    [("bgColor=ffffff", "use `bgc`"), ("scale=2", "use `scl`"), ("res=72", "use `scl`")],
)
def test_an_unimplemented_layer_command_points_to_the_one_that_is(modifier: str, hint: str) -> None:
    with pytest.raises(UnknownCommandError, match=re.escape(hint)) as caught:
        resolve_request(modifier, None)
    assert "(not implemented)" not in str(caught.value)


def test_an_unimplemented_command_is_not_said_twice() -> None:
    with pytest.raises(UnknownCommandError) as caught:
        resolve_request("rect=0,0,1,1", None)
    assert str(caught.value).startswith(
        "rect is an Image Serving command exportjob does not implement (command 'rect'"
    )


def test_a_huge_value_is_cut_short_in_the_message_but_kept_whole_on_the_error() -> None:
    value = "p" * 60_000
    with pytest.raises(ModifierError) as caught:
        resolve_request(f"fmt={value}", None)
    assert len(str(caught.value)) < 1_000
    assert "(60,000 characters)" in str(caught.value)
    assert caught.value.value == value


# -- variable substitution


def _substituted_one_character_at_a_time(raw: str, variables: dict[str, str]) -> str:
    """The reference reading of spec section 2: at each ``$``, a defined ``$name$`` is replaced."""
    out, i = [], 0
    reference = re.compile(r"\$([A-Za-z0-9_.\-]+)\$")
    while i < len(raw):
        match = reference.match(raw, i)
        if match is not None and match.group(1).lower() in variables:
            out.append(variables[match.group(1).lower()])
            i = match.end()
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


_NAMES = st.sampled_from(["a", "B", "ab", "a.b", "x-1", "K", "s"])


@settings(max_examples=300, deadline=None)
@given(
    defined=st.dictionaries(_NAMES, st.text("xyaK", max_size=4), max_size=3),
    pieces=st.lists(
        st.one_of(
            _NAMES.map(lambda n: f"${n}$"),
            _NAMES.map(lambda n: f"${n.swapcase()}$"),
            st.sampled_from(["$", "$$", "a", "b", "K", "\u212a", "\u017f", "x"]),
        ),
        max_size=12,
    ),
)
def test_variables_are_substituted_as_the_reference_reads_them(
    defined: dict[str, str], pieces: list[str]
) -> None:
    # The Kelvin sign and the long s fold to "k" and "s" in Unicode: names are ASCII here.
    raw = "".join(pieces)
    definitions = "".join(f"${name}={value}&" for name, value in defined.items())
    commands = parse_request(f"{definitions}id={raw}")
    variables = {name.lower(): value for name, value in defined.items()}
    assert [c.value for c in commands if c.name == "id"] == [
        _substituted_one_character_at_a_time(raw, variables)
    ]


@pytest.mark.parametrize(
    ("value", "warned"), [("1", False), ("1.0", False), ("01.00,1", False), ("2", True)]
)
def test_dpr_warns_only_for_a_ratio_that_is_not_1(value: str, warned: bool) -> None:
    assert bool(resolve_request(f"dpr={value}", None).warnings) is warned


@pytest.mark.parametrize(
    ("modifier", "warned"),
    [("fmt=pdf", True), ("fmt=pdf,cmyk", True), ("fmt=pdf,,jpeg", False), ("fmt=tif", False)],
)
def test_a_pdf_written_jpeg_compressed_without_asking_says_so(modifier: str, warned: bool) -> None:
    # Image Serving's default compression for a PDF is none; Pillow's writer only JPEG-encodes.
    said = [w for w in resolve_request(modifier, None).warnings if "JPEG-compressed" in w]
    assert bool(said) is warned
    if warned:
        assert "fmt=pdf,,jpeg" in said[0]


@pytest.mark.parametrize(
    "modifier", ["fmt=jpeg&printRes=65536", "printRes=0.4", "fmt=pjpeg&printRes=100000"]
)
def test_a_print_res_no_jpeg_can_hold_fails_the_request_not_each_asset(modifier: str) -> None:
    with pytest.raises(ModifierError, match="whole dpi from 1 to 65535") as caught:
        resolve_request(modifier, None)
    assert caught.value.command == "printRes"


@pytest.mark.parametrize(
    "modifier", ["fmt=png&printRes=0.4", "fmt=tif&printRes=70000", "printRes=300"]
)
def test_a_print_res_its_format_holds_is_taken(modifier: str) -> None:
    assert resolve_request(modifier, None).options.print_res is not None


@pytest.mark.parametrize(
    ("value", "refused"), [("0,base", False), ("comp,all", False), ("1,0", True)]
)
def test_layer_0_with_a_name_is_a_no_op_too(value: str, refused: bool) -> None:
    # Spec section 11: layer=n[,name]; layer 0 named is still layer 0.
    if refused:
        with pytest.raises(RefusedCommandError):
            resolve_request(f"layer={value}", None)
    else:
        assert resolve_request(f"layer={value}", None).options == resolve_request("", None).options


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("50.5", "a component is a whole number from 0 to 255"),
        ("red", "named colours are not supported"),
        ("ff00zz", "hex digits are 0-9 and a-f"),
    ],
)
def test_a_colour_that_is_none_says_why(value: str, why: str) -> None:
    # 50.5 and ff00zz were told "named colours are not supported".
    with pytest.raises(ModifierError, match=re.escape(why)):
        resolve_request(f"bgc={value}", None)


@pytest.mark.parametrize(
    ("value", "intent", "bpc"),
    [
        ("sRGB,,0", RenderIntent.PERCEPTUAL, False),
        ("sRGB,relative,,1", RenderIntent.RELATIVE, True),
        ("sRGB,,,", RenderIntent.PERCEPTUAL, True),
    ],
)
def test_an_empty_icc_field_takes_its_default(value: str, intent: RenderIntent, bpc: bool) -> None:
    # docs/language.md said only fmt allowed empty fields; icc's optional ones do (documented now).
    settings = ConversionSettings(profiles=ProfileLibrary({"sRGB": srgb_profile()}))
    icc = resolve_request(f"icc={value}", None, settings=settings).options.icc
    assert icc is not None
    assert (icc.name, icc.intent, icc.black_point_compensation) == ("sRGB", intent, bpc)
