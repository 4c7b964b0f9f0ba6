"""Errors that say the fix: suggestions for typos, the macros a library defines, the formats that
can be written, macro files named with their line, an unsupported TIFF named as unsupported."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from exportjob import ExportEngine, ExportJob, JobContext
from exportjob.exceptions import (
    MacroDefinitionError,
    ModifierError,
    UnknownCommandError,
    UnknownMacroError,
    UnsupportedFormatError,
)
from exportjob.language import MacroLibrary, resolve_request
from exportjob.options import ConversionSettings
from exportjob.stores import MemoryStore

LENIENT = ConversionSettings(unknown_commands="warn")


@pytest.mark.parametrize(
    ("modifier", "suggestion"),
    [
        pytest.param("&wdi=200", "did you mean wid?", id="wdi"),
        pytest.param("&fmtt=png", "did you mean fmt?", id="fmtt"),
        pytest.param("&qtl=80", "did you mean qlt?", id="qtl"),
        pytest.param("&op_sharpn=1", "did you mean op_sharpen?", id="op_sharpn"),
    ],
)
def test_a_misspelt_command_gets_the_nearest_name(modifier: str, suggestion: str) -> None:
    with pytest.raises(UnknownCommandError) as info:
        resolve_request(modifier, None)
    assert suggestion in str(info.value)
    dropped = resolve_request(modifier, None, settings=LENIENT)  # dropped, with a warning
    assert any(suggestion in w for w in dropped.warnings)


def test_a_name_like_no_command_gets_no_guess() -> None:
    with pytest.raises(UnknownCommandError) as info:
        resolve_request("&zzzzzz=1", None)
    assert "did you mean" not in str(info.value)


def test_an_unknown_macro_gets_the_nearest_defined_one() -> None:
    library = MacroLibrary({"thumb": "wid=100", "web": "wid=800"})
    with pytest.raises(UnknownMacroError, match=r"did you mean \$thumb\$\?"):
        resolve_request(None, "$thum$", macros=library)


def test_an_unknown_macro_far_from_all_lists_the_defined_ones() -> None:
    library = MacroLibrary({"thumb": "wid=100", "web": "wid=800"})
    with pytest.raises(UnknownMacroError, match=r"it defines \$thumb\$, \$web\$"):
        resolve_request(None, "$zzzz$", macros=library)


def test_no_macro_library_says_how_to_give_one() -> None:
    with pytest.raises(UnknownMacroError) as info:
        resolve_request(None, "$thumb$")
    assert "no macro library was given" in str(info.value)
    assert "macros=" in str(info.value)
    assert "--macros FILE" in str(info.value)


@pytest.mark.parametrize(
    ("fmt", "error"),
    [
        pytest.param("bmp", ModifierError, id="unknown"),
        pytest.param("heic", UnsupportedFormatError, id="no-writer"),
    ],
)
def test_an_unwritable_format_lists_only_what_can_be_written(
    fmt: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as info:
        resolve_request(f"&fmt={fmt}", None)
    listed = str(info.value).split("this installation writes: ")[1].split(" (")[0].split(", ")
    assert {"jpg", "png", "tif"} <= set(listed)
    assert not {"heic", "swf", "f4m", "m3u8", "jpegxr"} & set(listed)
    for name in listed:
        resolve_request(f"&fmt={name}", None)  # every one listed is writable


def test_a_misspelt_format_gets_the_nearest_one() -> None:
    with pytest.raises(ModifierError, match=r"did you mean png\?"):
        resolve_request("&fmt=pgn", None)


# -- macro files


def test_a_missing_macro_file_is_not_found_by_name(tmp_path: Path) -> None:
    path = tmp_path / "macros.tsv"
    with pytest.raises(FileNotFoundError) as info:
        MacroLibrary.from_file(path)
    assert str(info.value) == f"macro file {path} not found"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("Name Definition\nthumb wid=100\n", 1, id="header-with-spaces"),
        pytest.param("Name,Definition\nthumb,wid=100\n", 1, id="header-with-commas"),
        pytest.param("Name\tDefinition\nthumb wid=100\n", 2, id="row-with-spaces"),
        pytest.param("Name\tDefinition\nok\twid=1\nthumb,wid=100\n", 3, id="row-with-a-comma"),
    ],
)
def test_a_macro_file_with_spaces_for_tabs_says_columns_are_tab_separated(
    tmp_path: Path, text: str, line: int
) -> None:
    path = tmp_path / "macros.tsv"
    path.write_text(text)
    with pytest.raises(MacroDefinitionError) as info:
        MacroLibrary.from_file(path)
    assert str(info.value).startswith(f"macro file {path}, line {line}: ")
    assert "TAB-separated" in str(info.value)
    assert info.value.line == line


def test_any_macro_file_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "macros.tsv"
    path.write_text("Name\tDefinition\nthumb\twid=100\nbad\t$nope$\n")
    with pytest.raises(MacroDefinitionError) as info:
        MacroLibrary.from_file(path)
    assert str(info.value).startswith(f"macro file {path}, line 3: macro $bad$ invokes $nope$")


def test_a_valid_tab_separated_file_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "macros.tsv"
    path.write_text("Name\tDefinition\nthumb\twid=100,hei=100\n")  # commas inside a definition
    assert MacroLibrary.from_file(path).definition("thumb") == "wid=100,hei=100"


# -- an unsupported TIFF


def planar_float64_tiff(width: int = 4, height: int = 4, pages: int = 2) -> bytes:
    """A valid little-endian TIFF of *pages* pages, 3 planar float64 samples per pixel (no Pillow mode)."""
    out = io.BytesIO()
    out.write(b"II*\x00" + struct.pack("<I", 8))
    offset, plane = 8, width * height * 8
    for page in range(pages):
        extra = offset + 2 + 11 * 12 + 4  # the arrays after the IFD
        bits_at, format_at, strips_at, counts_at, data_at = (extra + k for k in (0, 6, 12, 24, 36))
        next_ifd = data_at + 3 * plane if page < pages - 1 else 0
        short, long_ = 3, 4
        entries = [
            (256, short, 1, width), (257, short, 1, height), (258, short, 3, bits_at),
            (259, short, 1, 1), (262, short, 1, 2), (273, long_, 3, strips_at), (277, short, 1, 3),
            (278, short, 1, height), (279, long_, 3, counts_at), (284, short, 1, 2),
            (339, short, 3, format_at),
        ]  # fmt: skip
        out.seek(offset)
        out.write(struct.pack("<H", len(entries)))
        for tag, kind, count, value in entries:
            inline = kind == short and count == 1
            out.write(
                struct.pack("<HHIHH", tag, kind, count, value, 0)
                if inline
                else struct.pack("<HHII", tag, kind, count, value)
            )
        out.write(struct.pack("<I", next_ifd))
        out.write(
            struct.pack("<3H", 64, 64, 64) + struct.pack("<3H", 3, 3, 3)
        )  # 64 bits, IEEE float
        out.write(
            struct.pack("<3I", *(data_at + i * plane for i in range(3)))
            + struct.pack("<3I", *[plane] * 3)
        )
        out.write(b"\x00" * (3 * plane))
        offset = next_ifd
    return out.getvalue()


def test_an_unsupported_tiff_is_reported_as_unsupported_with_the_modes_that_are() -> None:
    store = MemoryStore(default_company="acme")
    store.add("t|1", planar_float64_tiff(), file_name="scan.tif")
    job = ExportJob(asset_handles=["t|1"], fmt="convert", is_modifier="&fmt=png")
    with ExportEngine(store) as engine:
        log = engine.run(job, JobContext(company="acme"))
    [error] = log.errors
    assert error.code == "CONVERSION_FAILED"
    assert "not supported" in error.message
    assert "corrupt" not in error.message
    assert "pixel modes" in error.message
    assert "RGB" in error.message
    assert "I;16" in error.message
