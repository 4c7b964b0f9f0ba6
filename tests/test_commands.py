from __future__ import annotations

import ast
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given

from exportjob import ConversionSettings, ExportJobError, MacroError, MacroLibrary, ModifierError
from exportjob.exceptions import (
    RefusedCommandError,
    UnknownCommandError,
    UnknownMacroError,
    UnsupportedFormatError,
)
from exportjob.language import (
    COMMANDS,
    MAX_EXPANDED_CHARS,
    MAX_EXPANDED_MODIFIERS,
    Kind,
    ResolvedRequest,
    render_commands,
    resolve_request,
)
from exportjob.options import (
    Color,
    ColorizeOp,
    Compression,
    Crop,
    Fit,
    FitMode,
    Flip,
    NoiseOp,
    OutputFormat,
    PixelType,
    Quality,
    Quantize,
    RenderOptions,
    ResMode,
    UnsharpMask,
)
from tests import strategies

DOCS = Path(__file__).parent.parent / "docs" / "language.md"
VIEW = MacroLibrary({"view": "wid=240&fmt=jpeg&qlt=85", "test": "fmt=tif", "sized": "wid=300"})
WARN = ConversionSettings(unknown_commands="warn")


def resolve(modifier: str | None, macro: str | None = None) -> ResolvedRequest:
    return resolve_request(modifier, macro, macros=VIEW)


def options(modifier: str) -> RenderOptions:
    return resolve(modifier).options


# --- the ExportJob request rule ------------------------------------------------------------


def test_seed_case_macro_format_wins_over_modifier_format() -> None:
    request = resolve_request("&fmt=png", "$test$", macros=MacroLibrary({"test": "fmt=tif"}))
    assert request.options.format.name == "tif"
    assert request.options.format.compression is Compression.NONE
    assert [(c.name, c.value, c.origin) for c in request.commands] == [
        ("fmt", "tif", "macro $test$")
    ]


@pytest.mark.parametrize(
    ("modifier", "macro", "wid", "fmt"),
    [
        pytest.param("$view$&wid=480", None, 480, "jpeg", id="after-the-macro-overrides-it"),
        pytest.param("wid=480&$view$", None, 240, "jpeg", id="before-the-macro-is-overridden"),
        pytest.param("wid=480", "$view$", 240, "jpeg", id="macro-field-comes-last"),
        pytest.param("fmt=png", "sized", 300, "png", id="bare-name-without-conflict"),
        pytest.param(None, "$sized$&$view$", 240, "jpeg", id="several-invocations-in-order"),
        pytest.param(None, "view&sized", 300, "jpeg", id="several-bare-names"),
        pytest.param(None, "?$VIEW$", 240, "jpeg", id="leading-question-mark-any-case"),
        pytest.param("$sized$", "$test$", 300, "tif", id="both-fields-invoke"),
    ],
)
def test_request_is_is_modifier_then_macro(
    modifier: str | None, macro: str | None, wid: int, fmt: str
) -> None:
    request = resolve(modifier, macro)
    assert request.options.wid == wid
    assert request.options.format.name == fmt


@pytest.mark.parametrize(
    "macro",
    [
        pytest.param("fmt=tif", id="a-command"),
        pytest.param("$view$&wid=3", id="invocation-then-command"),
        pytest.param("$view$x", id="trailing-text"),
        pytest.param("$a b$", id="whitespace"),
        pytest.param("vi/ew", id="bad-name"),
    ],
)
def test_macro_field_takes_invocations_only(macro: str) -> None:
    with pytest.raises(ModifierError) as info:
        resolve(None, macro)
    assert info.value.origin == "macro"


def test_unknown_macro_in_either_field() -> None:
    with pytest.raises(UnknownMacroError, match=r"\$nope\$"):
        resolve(None, "$nope$")
    with pytest.raises(UnknownMacroError):
        resolve("$nope$", None)
    with pytest.raises(UnknownMacroError, match="no macro library"):
        resolve_request(None, "$view$")


def test_no_request_gives_the_defaults() -> None:
    request = resolve_request(None, None)
    assert request.commands == ()
    assert request.warnings == ()
    assert request.options == RenderOptions()
    assert request.options.format == OutputFormat("jpeg", PixelType.RGB, None)


def test_commands_are_the_winners_in_request_order() -> None:
    request = resolve("wid=1&hei=2&$view$&hei=3", None)
    assert [(c.name, c.value, c.position) for c in request.commands] == [
        ("wid", "240", 3),
        ("fmt", "jpeg", 4),
        ("qlt", "85", 5),
        ("hei", "3", 6),
    ]


def test_only_the_winner_is_validated() -> None:
    assert options("wid=abc&wid=400").wid == 400
    macros = MacroLibrary({"w": "wid=$w$"})
    assert resolve_request("$w$&wid=10", None, macros=macros).options.wid == 10
    with pytest.raises(ModifierError) as info:
        resolve_request("wid=10&$w$", None, macros=macros)
    assert (info.value.value, info.value.origin) == ("$w$", "macro $w$")


@pytest.mark.parametrize(
    ("modifier", "value"),
    [
        pytest.param("$var2=apple&$var1=my$var2$tree&id=$var1$", "my$var2$tree", id="spec-example"),
        pytest.param("$c=ff0000&bgc=$c$", "ff0000", id="colour-variable"),
    ],
)
def test_variables_in_a_resolved_request(modifier: str, value: str) -> None:
    assert resolve(modifier).commands[0].value == value


def test_undefined_variable_in_a_numeric_command_is_an_error() -> None:
    with pytest.raises(ModifierError, match="integer") as info:
        resolve("wid=$number$")
    assert info.value.value == "$number$"


def test_variable_defined_in_is_modifier_reaches_the_macro_field() -> None:
    macros = MacroLibrary({"box": "wid=$s$&hei=$s$"})
    request = resolve_request("$s=64", "$box$", macros=macros)
    assert (request.options.wid, request.options.hei) == (64, 64)


# --- every honoured command: valid values ----------------------------------------------------


@pytest.mark.parametrize(
    ("modifier", "field", "expected"),
    [
        # fmt
        pytest.param("fmt=jpg", "format", OutputFormat("jpeg"), id="fmt-jpg-is-jpeg"),
        pytest.param("fmt=JPEG", "format", OutputFormat("jpeg"), id="fmt-case"),
        pytest.param("fmt=jpeg,gray", "format", OutputFormat("jpeg", PixelType.GRAY), id="fmt-jpeg-gray"),
        pytest.param("fmt=pjpeg,cmyk", "format", OutputFormat("pjpeg", PixelType.CMYK), id="fmt-pjpeg-cmyk"),
        pytest.param("fmt=png-alpha,gray", "format", OutputFormat("png-alpha", PixelType.GRAY), id="fmt-png-alpha-gray"),
        pytest.param("fmt=png8", "format", OutputFormat("png8"), id="fmt-png8"),
        pytest.param("fmt=gif-alpha", "format", OutputFormat("gif-alpha"), id="fmt-gif-alpha"),
        pytest.param("fmt=tif", "format", OutputFormat("tif", PixelType.RGB, Compression.NONE), id="fmt-tif-default-none"),
        pytest.param("fmt=tif,,jpeg", "format", OutputFormat("tif", PixelType.RGB, Compression.JPEG), id="fmt-tif-empty-pixel-type"),
        pytest.param("fmt=tif,CMYK,LZW", "format", OutputFormat("tif", PixelType.CMYK, Compression.LZW), id="fmt-keywords-any-case"),
        pytest.param("fmt=tif-alpha,gray,zip", "format", OutputFormat("tif-alpha", PixelType.GRAY, Compression.ZIP), id="fmt-tif-alpha-zip"),
        pytest.param("fmt=webp", "format", OutputFormat("webp", PixelType.RGB, Compression.LOSSY), id="fmt-webp-default-lossy"),
        pytest.param("fmt=webp-alpha,,lossless", "format", OutputFormat("webp-alpha", PixelType.RGB, Compression.LOSSLESS), id="fmt-webp-lossless"),
        pytest.param("fmt=avif", "format", OutputFormat("avif", PixelType.RGB, Compression.LOSSY), id="fmt-avif"),
        pytest.param("fmt=jpeg2000,gray,lossless", "format", OutputFormat("jpeg2000", PixelType.GRAY, Compression.LOSSLESS), id="fmt-jpeg2000"),
        pytest.param("fmt=pdf", "format", OutputFormat("pdf", PixelType.RGB, Compression.JPEG), id="fmt-pdf-default-jpeg"),
        pytest.param("fmt=eps,cmyk", "format", OutputFormat("eps", PixelType.CMYK), id="fmt-eps"),
        pytest.param("fmt=png,", "format", OutputFormat("png"), id="fmt-trailing-empty-field"),
        # view
        pytest.param("wid=1", "wid", 1, id="wid-min"),
        pytest.param("wid=%2B400", "wid", 400, id="wid-encoded-plus-sign"),
        pytest.param("rotate=-90%2E5", "rotate", -90.5, id="rotate-encoded-dot"),
        pytest.param("hei=300", "hei", 300, id="hei"),
        pytest.param("scl=0.5", "scl", 0.5, id="scl-enlarges"),
        pytest.param("scl=2", "scl", 2.0, id="scl-int"),
        pytest.param("wid=1&fit=fit", "fit", Fit(FitMode.FIT, upscale=False), id="fit-default-upscale"),
        pytest.param("hei=1&fit=Constrain,1", "fit", Fit(FitMode.CONSTRAIN, upscale=True), id="fit-upscale"),
        pytest.param("wid=1&hei=1&fit=vfit,0", "fit", Fit(FitMode.VFIT), id="fit-vfit"),
        pytest.param("align=-1,1", "align", (-1.0, 1.0), id="align-bounds"),
        pytest.param("align=.25,0", "align", (0.25, 0.0), id="align-fraction"),
        pytest.param("bgc=ff0000", "bgc", Color("rgb", (255, 0, 0)), id="bgc-hex"),
        # layer 0
        pytest.param("crop=-10,0,100,50", "crop", Crop(-10, 0, 100, 50), id="crop-negative-offset"),
        pytest.param("crop=0,0,0,0", "crop", None, id="crop-empty-is-none"),
        pytest.param("crop=5,5,0,10", "crop", None, id="crop-zero-width-is-none"),
        pytest.param("cropN=0,0,1,0.8", "crop", Crop(0, 0, 1, 0.8, normalized=True), id="cropN"),
        pytest.param("cropN=0.5,0.5,0,1", "crop", None, id="cropN-empty-is-none"),
        pytest.param("cropN=.2,.3,.8,.9", "crop", Crop(0.2, 0.3, 0.8, 0.9, normalized=True), id="cropN-overflowing-spec-example"),
        pytest.param("size=200,0", "size", (200, 0), id="size-one-side"),
        pytest.param("size=0,0", "size", None, id="size-zero-is-none"),
        pytest.param("rotate=-90", "rotate", -90.0, id="rotate-negative"),
        pytest.param("rotate=725.5", "rotate", 725.5, id="rotate-any"),
        pytest.param("extend=5,-5,0,10", "extend", (5, -5, 0, 10), id="extend"),
        pytest.param("extend=0,0,0,0", "extend", None, id="extend-zero-is-none"),
        pytest.param("flip=LRUD", "flip", Flip.LRUD, id="flip"),
        # output
        pytest.param("qlt=1", "qlt", Quality(1, chroma=False), id="qlt-min"),
        pytest.param("qlt=100,1", "qlt", Quality(100, chroma=True), id="qlt-chroma"),
        pytest.param("quantize=web", "quantize", Quantize("web"), id="quantize-web"),
        pytest.param("quantize=adaptive,off,2,000000,FFFFFF", "quantize", Quantize("adaptive", False, 2, ((0, 0, 0), (255, 255, 255))), id="quantize-spec-bitonal"),
        pytest.param("quantize=ADAPTIVE,diffuse,256", "quantize", Quantize(), id="quantize-default-spelled-out"),
        pytest.param("resMode=bilin", "res_mode", ResMode.BILIN, id="resMode-bilin"),
        pytest.param("resmode=BICUB", "res_mode", ResMode.BICUB, id="resMode-bicub"),
        pytest.param("resMode=sharp", "res_mode", ResMode.SHARP2, id="resMode-sharp-is-sharp2"),
        pytest.param("resMode=bisharp", "res_mode", ResMode.BISHARP, id="resMode-bisharp"),
        pytest.param("resMode=trilin", "res_mode", ResMode.TRILIN, id="resMode-trilin"),
        pytest.param("iccEmbed=1", "icc_embed", True, id="iccEmbed-1"),
        pytest.param("iccEmbed=true", "icc_embed", True, id="iccEmbed-true"),
        pytest.param("iccEmbed=FALSE", "icc_embed", False, id="iccEmbed-false"),
        pytest.param("printRes=300", "print_res", 300.0, id="printRes"),
        pytest.param("xmpEmbed=1", "xmp_embed", True, id="xmpEmbed-1"),
        pytest.param("xmpEmbed=0", "xmp_embed", False, id="xmpEmbed-0"),
        pytest.param("jpegSize=50", "jpeg_size", 50, id="jpegSize"),
        pytest.param("jpegSize=0", "jpeg_size", 0, id="jpegSize-no-limit"),
        pytest.param("extendN=0.1,0,0.1,-0.05", "extend_n", (0.1, 0.0, 0.1, -0.05), id="extendN"),
        pytest.param("extendN=0,0,0,0", "extend_n", None, id="extendN-none"),
        pytest.param("printRes=72.5", "print_res", 72.5, id="printRes-fraction"),
        # filters
        pytest.param("op_brightness=-100", "op_brightness", -100, id="op_brightness-min"),
        pytest.param("op_contrast=100", "op_contrast", 100, id="op_contrast-max"),
        pytest.param("op_colorbalance=10,-20,100", "op_colorbalance", (10, -20, 100), id="op_colorbalance"),
        pytest.param("op_saturation=-100", "op_saturation", -100, id="op_saturation"),
        pytest.param("op_hue=-180", "op_hue", -180, id="op_hue-min"),
        pytest.param("op_hue=180", "op_hue", 180, id="op_hue-max"),
        pytest.param("op_colorize=ff0000", "op_colorize", ColorizeOp((255, 0, 0), normalize=True, contrast=0.0), id="op_colorize-defaults"),
        pytest.param("op_colorize=0,128,255,off,50", "op_colorize", ColorizeOp((0, 128, 255), normalize=False, contrast=50.0), id="op_colorize-decimal"),
        pytest.param("op_colorize=0,128,255", "op_colorize", ColorizeOp((0, 128, 255)), id="op_colorize-decimal-alone"),
        pytest.param("op_colorize=0080ff,norm,100", "op_colorize", ColorizeOp((0, 128, 255), normalize=True, contrast=100.0), id="op_colorize-contrast"),
        pytest.param("op_invert=1", "op_invert", True, id="op_invert"),
        pytest.param("op_blur=100", "op_blur", 100.0, id="op_blur-max"),
        pytest.param("op_blur=2.5", "op_blur", 2.5, id="op_blur-real"),
        pytest.param("op_grow=-100", "op_grow", -100, id="op_grow"),
        pytest.param("op_noise=0", "op_noise", NoiseOp(0), id="op_noise-zero"),
        pytest.param("op_noise=100,Gaussian,1", "op_noise", NoiseOp(100, "gaussian", monochrome=True), id="op_noise-full"),
        pytest.param("op_growMask=5", "op_grow_mask", 5, id="op_growMask"),
        pytest.param("op_growMaskR=-5", "op_grow_mask_r", -5, id="op_growMaskR"),
        pytest.param("op_sharpen=1", "op_sharpen", True, id="op_sharpen"),
        pytest.param("op_usm=5", "op_usm", UnsharpMask(5.0), id="op_usm-amount-only"),
        pytest.param("op_usm=0,250,255,1", "op_usm", UnsharpMask(0.0, 250.0, 255, monochrome=True), id="op_usm-bounds"),
        pytest.param("op_usmR=1.5,0.3", "op_usm", UnsharpMask(1.5, 0.3, scaled=False), id="op_usmR-not-scaled"),
    ],
)  # fmt: skip
def test_valid_values(modifier: str, field: str, expected: object) -> None:
    assert getattr(options(modifier), field) == expected


# --- every honoured command: invalid values ---------------------------------------------------


@pytest.mark.parametrize(
    ("modifier", "command", "value"),
    [
        pytest.param("fmt", "fmt", "", id="fmt-bare"),
        pytest.param("fmt=bmp", "fmt", "bmp", id="fmt-unknown"),
        pytest.param("fmt=web-alpha", "fmt", "web-alpha", id="fmt-doc-typo"),
        pytest.param("fmt=png,cmyk", "fmt", "png,cmyk", id="fmt-png-cmyk"),
        pytest.param("fmt=webp,gray", "fmt", "webp,gray", id="fmt-webp-gray"),
        pytest.param("fmt=png8,gray", "fmt", "png8,gray", id="fmt-png8-gray"),
        pytest.param("fmt=jpeg,rgba", "fmt", "jpeg,rgba", id="fmt-bad-pixel-type"),
        pytest.param("fmt=png,,lzw", "fmt", "png,,lzw", id="fmt-png-compression"),
        pytest.param("fmt=tif-alpha,,jpeg", "fmt", "tif-alpha,,jpeg", id="fmt-tif-alpha-jpeg"),
        pytest.param("fmt=tif,,deflate", "fmt", "tif,,deflate", id="fmt-bad-compression"),
        pytest.param("fmt=webp,,lzw", "fmt", "webp,,lzw", id="fmt-webp-lzw"),
        pytest.param("fmt=tif,rgb,lzw,x", "fmt", "tif,rgb,lzw,x", id="fmt-four-fields"),
        pytest.param("wid", "wid", "", id="wid-bare"),
        pytest.param("wid=0", "wid", "0", id="wid-zero"),
        pytest.param("wid=-5", "wid", "-5", id="wid-negative"),
        pytest.param("wid=+400", "wid", " 400", id="wid-plus-is-a-space"),
        pytest.param("wid=400.0", "wid", "400.0", id="wid-real"),
        pytest.param("wid=4e2", "wid", "4e2", id="wid-exponent"),
        pytest.param("wid=1234567890123456", "wid", "1234567890123456", id="wid-too-many-digits"),
        pytest.param("hei=abc", "hei", "abc", id="hei-word"),
        pytest.param("scl=0", "scl", "0", id="scl-zero"),
        pytest.param("scl=-1", "scl", "-1", id="scl-negative"),
        pytest.param("scl=inf", "scl", "inf", id="scl-inf"),
        pytest.param("scl=nan", "scl", "nan", id="scl-nan"),
        pytest.param("wid=1&fit=fill", "fit", "fill", id="fit-bad-mode"),
        pytest.param("wid=1&fit=fit,2", "fit", "fit,2", id="fit-bad-upscale"),
        pytest.param("align=2,0", "align", "2,0", id="align-out-of-range"),
        pytest.param("align=0", "align", "0", id="align-one-field"),
        pytest.param("crop=0,0,10", "crop", "0,0,10", id="crop-three-fields"),
        pytest.param("crop=0,0,-10,10", "crop", "0,0,-10,10", id="crop-negative-size"),
        pytest.param("crop=0.5,0,10,10", "crop", "0.5,0,10,10", id="crop-real"),
        pytest.param("cropN=0,0,-1,1", "cropN", "0,0,-1,1", id="cropN-negative-size"),
        pytest.param("size=-1,0", "size", "-1,0", id="size-negative"),
        pytest.param("size=100", "size", "100", id="size-one-field"),
        pytest.param("rotate=ninety", "rotate", "ninety", id="rotate-word"),
        pytest.param("extend=1,2,3", "extend", "1,2,3", id="extend-three-fields"),
        pytest.param("flip=h", "flip", "h", id="flip-bad"),
        pytest.param("flip", "flip", "", id="flip-bare"),
        pytest.param("qlt=0", "qlt", "0", id="qlt-zero"),
        pytest.param("qlt=101", "qlt", "101", id="qlt-over"),
        pytest.param("qlt=80,2", "qlt", "80,2", id="qlt-bad-chroma"),
        pytest.param("qlt=80,0,1", "qlt", "80,0,1", id="qlt-three-fields"),
        pytest.param("quantize=median", "quantize", "median", id="quantize-bad-type"),
        pytest.param("quantize=adaptive,fs", "quantize", "adaptive,fs", id="quantize-bad-dither"),
        pytest.param("quantize=adaptive,off,1", "quantize", "adaptive,off,1", id="quantize-too-few-colours"),
        pytest.param("quantize=adaptive,off,257", "quantize", "adaptive,off,257", id="quantize-too-many-colours"),
        pytest.param("quantize=adaptive,off,2,#000000", "quantize", "adaptive,off,2,#000000", id="quantize-hash-colour"),
        pytest.param("quantize=adaptive,off,2,0x000000", "quantize", "adaptive,off,2,0x000000", id="quantize-0x-colour"),
        pytest.param("quantize=adaptive,off,2,000000,ffffff,ff0000", "quantize", "adaptive,off,2,000000,ffffff,ff0000", id="quantize-more-forced-than-colours"),
        pytest.param("resMode=nearest", "resMode", "nearest", id="resMode-bad"),
        pytest.param("iccEmbed=yes", "iccEmbed", "yes", id="iccEmbed-bad"),
        pytest.param("xmpEmbed=2", "xmpEmbed", "2", id="xmpEmbed-bad"),
        pytest.param("jpegSize=-1", "jpegSize", "-1", id="jpegSize-negative"),
        pytest.param("jpegSize=1.5", "jpegSize", "1.5", id="jpegSize-real"),
        pytest.param("extendN=0,0,0", "extendN", "0,0,0", id="extendN-three-fields"),
        pytest.param("printRes=0", "printRes", "0", id="printRes-zero"),
        pytest.param("printRes=-72", "printRes", "-72", id="printRes-negative"),
        pytest.param("op_brightness=101", "op_brightness", "101", id="op_brightness-over"),
        pytest.param("op_contrast=-101", "op_contrast", "-101", id="op_contrast-under"),
        pytest.param("op_contrast=1.5", "op_contrast", "1.5", id="op_contrast-real"),
        pytest.param("op_colorbalance=0,0", "op_colorbalance", "0,0", id="op_colorbalance-two"),
        pytest.param("op_colorbalance=0,0,101", "op_colorbalance", "0,0,101", id="op_colorbalance-over"),
        pytest.param("op_saturation=-101", "op_saturation", "-101", id="op_saturation-under"),
        pytest.param("op_hue=181", "op_hue", "181", id="op_hue-over"),
        pytest.param("op_colorize=50", "op_colorize", "50", id="op_colorize-gray"),
        pytest.param("op_colorize=0,0,0,100k", "op_colorize", "0,0,0,100k", id="op_colorize-cmyk"),
        pytest.param("op_colorize=ff0000,on", "op_colorize", "ff0000,on", id="op_colorize-bad-mode"),
        pytest.param("op_colorize=ff0000,norm,101", "op_colorize", "ff0000,norm,101", id="op_colorize-contrast-over"),
        pytest.param("op_colorize=ff0000,norm,1,2", "op_colorize", "ff0000,norm,1,2", id="op_colorize-too-many-fields"),
        pytest.param("op_colorize=1,2,3,norm,1,2", "op_colorize", "1,2,3,norm,1,2", id="op_colorize-decimal-too-many-fields"),
        pytest.param("op_colorize=256,0,0", "op_colorize", "256,0,0", id="op_colorize-decimal-over"),
        pytest.param("op_invert=2", "op_invert", "2", id="op_invert-bad"),
        pytest.param("op_invert", "op_invert", "", id="op_invert-bare"),
        pytest.param("op_blur=-1", "op_blur", "-1", id="op_blur-negative"),
        pytest.param("op_blur=100.5", "op_blur", "100.5", id="op_blur-over"),
        pytest.param("op_grow=101", "op_grow", "101", id="op_grow-over"),
        pytest.param("op_noise=101", "op_noise", "101", id="op_noise-over"),
        pytest.param("op_noise=10,pink", "op_noise", "10,pink", id="op_noise-bad-distribution"),
        pytest.param("op_noise=10,uniform,2", "op_noise", "10,uniform,2", id="op_noise-bad-monochrome"),
        pytest.param("op_growMask=-101", "op_growMask", "-101", id="op_growMask-under"),
        pytest.param("op_growMaskR=101", "op_growMaskR", "101", id="op_growMaskR-over"),
        pytest.param("op_sharpen=true", "op_sharpen", "true", id="op_sharpen-word"),
        pytest.param("op_usm=5.1", "op_usm", "5.1", id="op_usm-amount-over"),
        pytest.param("op_usm=1,251", "op_usm", "1,251", id="op_usm-radius-over"),
        pytest.param("op_usm=1,1,256", "op_usm", "1,1,256", id="op_usm-threshold-over"),
        pytest.param("op_usm=1,1,1.5", "op_usm", "1,1,1.5", id="op_usm-threshold-real"),
        pytest.param("op_usm=1,1,1,2", "op_usm", "1,1,1,2", id="op_usm-bad-monochrome"),
        pytest.param("op_usmR=1,1,1,1,1", "op_usmR", "1,1,1,1,1", id="op_usmR-five-fields"),
        pytest.param("op_usm=,1", "op_usm", ",1", id="op_usm-empty-amount"),
    ],
)  # fmt: skip
def test_invalid_values_raise_with_their_location(modifier: str, command: str, value: str) -> None:
    with pytest.raises(ModifierError) as info:
        resolve_request(f"id=x&{modifier}", None)
    error = info.value
    assert type(error) is ModifierError
    assert (error.command, error.value, error.origin) == (command, value, "is_modifier")
    assert error.position == len(modifier.split("&")) + 1
    assert command in str(error)


# --- colours ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("ffffff", Color("rgb", (255, 255, 255)), id="hex6"),
        pytest.param("FF8000", Color("rgb", (255, 128, 0)), id="hex6-upper"),
        pytest.param("0xff8000", Color("rgb", (255, 128, 0)), id="hex6-0x"),
        pytest.param("0XFF8000R", Color("rgb", (255, 128, 0)), id="hex6-0x-r-upper"),
        pytest.param("a0b1c2d3", Color("rgb", (160, 177, 194), 211), id="hex8-alpha-last"),
        pytest.param("100200", Color("rgb", (16, 2, 0)), id="six-decimal-digits-are-hex"),
        pytest.param("ff0000s", Color("rgb", (255, 0, 0)), id="source-suffix-ignored"),
        pytest.param("ff0000rs", Color("rgb", (255, 0, 0)), id="r-then-s"),
        pytest.param("0x80", Color("gray", (128,)), id="hex-gray"),
        pytest.param("0X70G", Color("gray", (112,)), id="hex-gray-spec-example"),
        pytest.param("0x8040g", Color("gray", (128,), 64), id="hex-gray-alpha"),
        pytest.param("00000000k", Color("cmyk", (0, 0, 0, 0)), id="hex-cmyk"),
        pytest.param("0x000000ff80k", Color("cmyk", (0, 0, 0, 255), 128), id="hex-cmyk-alpha"),
        pytest.param("50", Color("gray", (128,)), id="decimal-is-gray-percent"),
        pytest.param("0", Color("gray", (0,)), id="decimal-black"),
        pytest.param("100g", Color("gray", (255,)), id="decimal-gray-suffix"),
        pytest.param("100,50", Color("gray", (255,), 128), id="decimal-gray-alpha"),
        pytest.param("255,128,0", Color("rgb", (255, 128, 0)), id="decimal-rgb"),
        pytest.param("255,128,0,10r", Color("rgb", (255, 128, 0), 10), id="decimal-rgba"),
        pytest.param(
            "0,0,0,100", Color("rgb", (0, 0, 0), 100), id="four-decimals-without-k-are-rgba"
        ),
        pytest.param("0,0,0,100k", Color("cmyk", (0, 0, 0, 255)), id="decimal-cmyk"),
        pytest.param("0,0,0,100,0k", Color("cmyk", (0, 0, 0, 255), 0), id="decimal-cmyk-alpha"),
    ],
)
def test_bgc_colour_syntax(value: str, expected: Color) -> None:
    assert options(f"bgc={value}").bgc == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("%23ff0000", id="hash"),
        pytest.param("fff", id="three-digit"),
        pytest.param("red", id="named"),
        pytest.param("ff", id="hex-gray-without-0x"),
        pytest.param("255", id="gray-percent-over-100"),
        pytest.param("256,0,0", id="rgb-over-255"),
        pytest.param("0,0,0,101k", id="cmyk-over-100"),
        pytest.param("0,0,0k", id="three-components-k"),
        pytest.param("ff0000g", id="hex6-gray-suffix"),
        pytest.param("0xffr", id="hex-gray-rgb-suffix"),
        pytest.param("1,2,3,4,5", id="five-decimals"),
        pytest.param("-1,0,0", id="negative"),
        pytest.param("1.5", id="real"),
        pytest.param("ffffffffff", id="ten-digits-without-k"),
        pytest.param("s", id="suffix-only"),
        pytest.param("0xzz", id="0x-not-hex"),
        pytest.param("", id="empty"),
    ],
)
def test_bad_colours_raise(value: str) -> None:
    with pytest.raises(ModifierError) as info:
        resolve_request(f"bgc={value}", None)
    assert info.value.command == "bgc"


@given(strategies.rgb_colors())
def test_hex_and_decimal_colours_agree(rgb: tuple[int, int, int]) -> None:
    hex_value = "".join(f"{c:02x}" for c in rgb)
    decimal = ",".join(str(c) for c in rgb)
    assert options(f"bgc={hex_value}").bgc == options(f"bgc={decimal}").bgc == Color("rgb", rgb)


# --- formats this installation cannot write -----------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "jpegxr",
        "jpegxr-alpha",
        "heic",
        "swf",
        "swf-alpha",
        "swf3",
        "swf3-alpha",
        "f4m",
        "m3u8",
        "tif-alpha,cmyk",
        "pdf,,none",
        "pdf,,zip",
    ],
)
def test_unsupported_formats(value: str) -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        resolve_request(f"fmt={value}", None)
    assert (info.value.command, info.value.value, info.value.position) == ("fmt", value, 1)


#: A run of exportjob against a Pillow built without an AVIF writer (removed before exportjob asks).
_PILLOW_WITHOUT_AVIF = """
from PIL import Image
Image.init()
del Image.SAVE["AVIF"]
from exportjob.exceptions import UnsupportedFormatError
from exportjob.language import resolve_request
try:
    resolve_request("fmt=avif", None)
except UnsupportedFormatError as exc:
    print(repr((exc.command, exc.value, exc.position, str(exc))))
else:
    print("resolved")
print(resolve_request("fmt=webp", None).options.format.name)
"""


def test_a_format_pillow_cannot_write_is_unsupported() -> None:
    result = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-c", _PILLOW_WITHOUT_AVIF], capture_output=True, text=True, check=True
    )
    refusal, webp = result.stdout.splitlines()
    command, value, position, message = ast.literal_eval(refusal)
    assert (command, value, position) == ("fmt", "avif", 1)
    assert "Pillow cannot write AVIF" in message
    assert webp == "webp"
    assert options("fmt=avif").format.name == "avif"  # this Pillow writes it


def test_mac_palette_is_unsupported() -> None:
    with pytest.raises(UnsupportedFormatError, match="mac"):
        resolve_request("fmt=gif&quantize=mac", None)


# --- checks between commands ----------------------------------------------------------------


@pytest.mark.parametrize(
    "modifier",
    [pytest.param("fit=crop", id="alone"), pytest.param("scl=2&fit=fit", id="with-scl-only")],
)
def test_fit_needs_wid_or_hei(modifier: str) -> None:
    with pytest.raises(ModifierError, match="needs wid") as info:
        resolve_request(modifier, None)
    assert info.value.command == "fit"


def test_fit_with_scl_is_ignored_with_a_warning() -> None:
    request = resolve_request("wid=10&scl=2&fit=crop", None)
    assert request.options.fit == Fit(FitMode.CROP)
    assert any("fit=crop" in w and "scl" in w for w in request.warnings)


@pytest.mark.parametrize(
    ("modifier", "field", "expected"),
    [
        pytest.param("crop=0,0,10,10&cropN=0,0,1,1", "crop", Crop(0, 0, 1, 1, normalized=True), id="cropN-after-crop"),
        pytest.param("cropN=0,0,1,1&crop=0,0,10,10", "crop", Crop(0, 0, 10, 10), id="crop-after-cropN"),
        pytest.param("op_usm=1&op_usmR=2", "op_usm", UnsharpMask(2.0, scaled=False), id="usmR-after-usm"),
        pytest.param("op_usmR=2&op_usm=1", "op_usm", UnsharpMask(1.0), id="usm-after-usmR"),
    ],
)  # fmt: skip
def test_commands_sharing_an_option_later_wins_with_a_warning(
    modifier: str, field: str, expected: object
) -> None:
    request = resolve_request(modifier, None)
    assert getattr(request.options, field) == expected
    assert len(request.warnings) == 1
    assert "overrides" in request.warnings[0]


# --- refused, ignored and unknown commands --------------------------------------------------


REFUSED = [spec.name for spec in COMMANDS if spec.kind is Kind.REFUSED]


@pytest.mark.parametrize(
    "modifier",
    [
        *(pytest.param(f"{name}=x", id=name) for name in REFUSED),
        pytest.param("SRC=x", id="src-any-case"),
        pytest.param("defaultimage=x", id="defaultImage-lower"),
        pytest.param("src", id="src-bare"),
        pytest.param("layer=1", id="layer-1"),
        pytest.param("req=mask", id="req-mask"),
        pytest.param("req=props", id="req-props"),
        pytest.param("req=saveToFile", id="req-saveToFile"),
        pytest.param("src=x&src=y&wid=1", id="overridden-still-refused"),
        pytest.param("req=props&req=img", id="overridden-by-allowed-still-refused"),
    ],
)
@pytest.mark.parametrize("settings", [None, WARN], ids=["error", "warn"])
def test_refused_commands_always_raise(modifier: str, settings: ConversionSettings | None) -> None:
    with pytest.raises(RefusedCommandError) as info:
        resolve_request(modifier, None, settings=settings)
    assert info.value.position == 1
    assert info.value.command is not None
    assert strategies.command_spec(info.value.command) is not None


def test_refused_command_in_a_macro_names_the_macro() -> None:
    macros = MacroLibrary({"wm": "wid=1&src=logo"})
    with pytest.raises(RefusedCommandError) as info:
        resolve_request(None, "$wm$", macros=macros)
    assert (info.value.command, info.value.origin, info.value.position) == ("src", "macro $wm$", 2)


@pytest.mark.parametrize(
    "modifier",
    ["layer=0", "layer=comp", "layer=COMP", "req=img", "req=IMG"],
)
def test_allowed_values_of_refused_commands_are_no_ops(modifier: str) -> None:
    request = resolve_request(f"{modifier}&wid=5", None)
    assert request.options == RenderOptions(wid=5)
    assert request.warnings == ()
    assert [c.name for c in request.commands] == [modifier.split("=", maxsplit=1)[0].lower(), "wid"]


@pytest.mark.parametrize(
    ("modifier", "warning"),
    [
        pytest.param("id=anything", None, id="id"),
        pytest.param("id", None, id="id-bare"),
        pytest.param("cache=off", None, id="cache"),
        pytest.param("bfc=on", None, id="bfc"),
        pytest.param("network=off", None, id="network"),
        pytest.param("dpr=off", None, id="dpr-off"),
        pytest.param("dpr=1", None, id="dpr-1"),
        pytest.param("dpr=2", "device pixel ratio", id="dpr-2"),
        pytest.param("pscan=auto", None, id="pscan-auto"),
        pytest.param("pscan=3", "progressive scans", id="pscan-3"),
        pytest.param("pathEmbed=1", "path", id="pathEmbed-1"),
        pytest.param("anchor=10,-20", None, id="anchor"),
        pytest.param("anchorN=-0.5,-0.5", None, id="anchorN"),
        pytest.param("origin=0,0", None, id="origin"),
        pytest.param("originN=.1,.1", None, id="originN"),
        pytest.param("pos=5,5", None, id="pos"),
        pytest.param("posN=.5,.5", None, id="posN"),
    ],
)
def test_ignored_commands_are_accepted(modifier: str, warning: str | None) -> None:
    request = resolve_request(modifier, None)
    assert request.options == RenderOptions()
    assert [c.name for c in request.commands] == [
        strategies.canonical_name(modifier.split("=", maxsplit=1)[0])
    ]
    if warning is None:
        assert request.warnings == ()
    else:
        assert len(request.warnings) == 1
        assert warning in request.warnings[0]
        assert "position 1" in request.warnings[0]


@pytest.mark.parametrize(
    "modifier",
    [
        "pscan=6",
        "pathEmbed=yes",
        "anchor=1",
        "anchor=0.5,1",
        "anchorN=a,b",
        "pos=1,2,3",
    ],
)
def test_ignored_commands_are_still_validated(modifier: str) -> None:
    with pytest.raises(ModifierError) as info:
        resolve_request(modifier, None)
    assert info.value.command == strategies.canonical_name(modifier.split("=", maxsplit=1)[0])


@pytest.mark.parametrize(
    ("modifier", "match"),
    [
        pytest.param("widht=300", "not an Image Serving command", id="typo"),
        pytest.param("rgn=0,0,10,10", "does not implement", id="unimplemented"),
        pytest.param("sizeN=.5,.5", "not permitted for layer 0", id="sizeN"),
        pytest.param("a1b2", "not an Image Serving command", id="request-lock-token"),
    ],
)
def test_unknown_commands_raise_by_default(modifier: str, match: str) -> None:
    with pytest.raises(UnknownCommandError, match=match) as info:
        resolve_request(f"wid=1&{modifier}", None)
    assert info.value.position == 2
    assert info.value.origin == "is_modifier"


def test_unknown_commands_can_be_dropped_with_a_warning() -> None:
    request = resolve_request("Widht=300&wid=10&rgn=0,0,1,1&widht=5", None, settings=WARN)
    assert request.options.wid == 10
    assert [c.name for c in request.commands] == ["wid"]
    assert len(request.warnings) == 3
    assert "Widht=300" in request.warnings[0]
    assert "dropped" in request.warnings[0]


# --- settings -----------------------------------------------------------------------------


def test_settings_supply_the_defaults() -> None:
    settings = ConversionSettings(
        default_pix=(1280, 1280),
        max_pix=(3000, 3000),
        bkg_color=Color("rgb", (0, 0, 0)),
        jpeg_quality=Quality(90, chroma=True),
        res_mode=ResMode.BICUB,
    )
    opts = resolve_request(None, None, settings=settings).options
    assert opts.bgc == Color("rgb", (0, 0, 0))
    assert opts.qlt == Quality(90, chroma=True)
    assert opts.res_mode is ResMode.BICUB
    assert (opts.default_pix, opts.max_pix) == ((1280, 1280), (3000, 3000))
    opts = resolve_request("bgc=ffffff&qlt=50&resMode=bilin", None, settings=settings).options
    assert opts.bgc == Color("rgb", (255, 255, 255))
    assert opts.qlt == Quality(50)
    assert opts.res_mode is ResMode.BILIN
    assert opts.default_pix == (1280, 1280)


# --- the table and its documentation ------------------------------------------------------


def test_table_names_are_unique_case_insensitively() -> None:
    names = [spec.name.lower() for spec in COMMANDS]
    assert len(names) == len(set(names))


def test_honoured_rows_name_real_option_fields() -> None:
    fields = attrs.fields_dict(RenderOptions)
    for spec in COMMANDS:
        assert (spec.kind is Kind.HONOURED) == (spec.parse is not None)
        assert (spec.kind is Kind.IGNORED) == (spec.check is not None)
        if spec.kind is Kind.HONOURED:
            assert spec.field in fields


def test_docs_list_every_command_as_the_table_does() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for spec in COMMANDS:
        assert spec.markdown_row() in docs, spec.name
    tables = docs[docs.index("\n## Commands\n") : docs.index("\n## Settings\n")]
    documented = re.findall(r"^\| `([A-Za-z_]+)` \|", tables, flags=re.MULTILINE)
    assert len(documented) == len(set(documented))
    assert set(documented) == {spec.name for spec in COMMANDS}


# --- expansion caps and argument types -------------------------------------------------------

# m8 holds 512 commands (m0 = 2 commands, each level invokes the one before twice).
BIG = MacroLibrary({"m0": "wid=1&wid=2"} | {f"m{i}": f"$m{i - 1}$&$m{i - 1}$" for i in range(1, 9)})


@pytest.mark.parametrize(
    ("modifier", "macro", "origin"),
    [
        ("&".join(["$m8$"] * 10_000), None, "is_modifier"),
        (None, "&".join(["m8"] * 10_000), "the macro field"),
        ("$m8$", "$m8$", "the macro field"),  # the two fields share one cap
    ],
)
def test_repeated_invocations_are_refused_quickly(
    modifier: str | None, macro: str | None, origin: str
) -> None:
    start = time.perf_counter()
    with pytest.raises(
        ModifierError, match=f"more than {MAX_EXPANDED_MODIFIERS} modifiers"
    ) as caught:
        resolve_request(modifier, macro, macros=BIG)
    assert time.perf_counter() - start < 2
    assert caught.value.origin == origin


@pytest.mark.parametrize(
    ("modifier", "macro", "origin"),
    [
        ("&".join(["$m8$"] * 100_000), None, "is_modifier"),
        (None, "&".join(["m8"] * 100_000), "macro"),
        ("&".join([".a-comment"] * 10_000), None, "is_modifier"),  # comments count here
    ],
)
def test_a_text_longer_than_the_cap_is_refused_before_it_is_read(
    modifier: str | None, macro: str | None, origin: str
) -> None:
    text = modifier or macro or ""
    with pytest.raises(ModifierError, match=f"is {len(text):,} characters long") as caught:
        resolve_request(modifier, macro, macros=BIG)
    assert f"at most {MAX_EXPANDED_CHARS:,}, comments included" in str(caught.value)
    assert caught.value.origin == origin


def test_a_large_but_reasonable_request_resolves() -> None:
    request = resolve_request("$m8$&hei=5", "m7", macros=BIG)  # 512 + 1 + 256 modifiers
    assert (request.options.wid, request.options.hei) == (2, 5)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: resolve_request(123, None), "is_modifier must be a str or None, not int"),
        (lambda: resolve_request([1], None), "is_modifier must be a str or None, not list"),
        (lambda: resolve_request(None, 5), "macro must be a str or None, not int"),
        (lambda: resolve_request("", None, macros={}), "macros must be a MacroLibrary or None"),
        (lambda: resolve_request("", None, settings={}), "settings must be a ConversionSettings"),
    ],
)
def test_wrong_argument_types_raise_a_clear_type_error(call: Any, match: str) -> None:
    with pytest.raises(TypeError, match=f"^resolve_request: {match}"):
        call()


# --- properties ----------------------------------------------------------------------------


@given(strategies.request_text, strategies.request_text)
def test_any_request_resolves_or_raises_a_library_error(modifier: str, macro: str) -> None:
    try:
        request = resolve_request(modifier, macro, macros=VIEW, settings=WARN)
    except (ModifierError, MacroError) as exc:
        error: ExportJobError | None = exc
    else:
        error = None
        assert isinstance(request.options, RenderOptions)
    assert error is None or str(error)


@given(strategies.well_formed_requests)
def test_resolving_the_rendered_commands_gives_the_same_options(modifier: str) -> None:
    try:
        request = resolve_request(modifier, None, settings=WARN)
    except ModifierError:
        return
    again = resolve_request(render_commands(request.commands), None, settings=WARN)
    assert again.options == request.options
