"""Output names: safe (never escape the export folder) and distinct within a job."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exportjob._names import MAX_NAME_BYTES, check_name, distinct_names, safe_name, split_name
from exportjob.exceptions import UnsafeNameError


@pytest.mark.parametrize(
    ("name", "extension", "expected"),
    [
        pytest.param("fileToExport.jpg", ".tiff", "fileToExport.tiff", id="seed"),
        pytest.param("photo.JPG", None, "photo.JPG", id="orig-keeps-name"),
        pytest.param("../../etc/passwd", None, "passwd", id="dotdot"),
        pytest.param("/abs/path/x.png", ".jpg", "x.jpg", id="absolute"),
        pytest.param("C:\\Users\\x\\y.tif", ".png", "y.png", id="windows-path"),
        pytest.param("a\x00b.jpg", None, "a_b.jpg", id="nul"),
        pytest.param('we<i>rd:"na|me?*.jpg', None, "we_i_rd__na_me__.jpg", id="reserved-chars"),
        pytest.param("CON.jpg", None, "_CON.jpg", id="reserved-device"),
        pytest.param("nul", ".png", "_nul.png", id="reserved-device-no-ext"),
        pytest.param("..", ".png", "asset.png", id="dotdot-only"),
        pytest.param("", ".png", "asset.png", id="empty"),
        pytest.param("noext", ".png", "noext.png", id="no-extension"),
        pytest.param(".hidden", None, ".hidden", id="dotfile"),
        pytest.param("trailing. ", ".png", "trailing.png", id="trailing-dot-space"),
        pytest.param("archive.tar.gz", ".png", "archive.tar.png", id="double-ext"),
        pytest.param("Ünïcødé 写真.jpg", ".png", "Ünïcødé 写真.png", id="unicode"),
    ],
)
def test_safe_name(name: str, extension: str | None, expected: str) -> None:
    assert safe_name(name, extension=extension) == expected


def test_long_names_are_truncated_to_the_byte_limit_keeping_the_extension() -> None:
    out = safe_name("é" * 300 + ".jpg", extension=".tiff")
    assert out.endswith(".tiff")
    assert len(out.encode()) <= MAX_NAME_BYTES


@given(st.text(max_size=300), st.sampled_from([None, ".jpg", ".tiff", ""]))
def test_safe_name_always_yields_a_checked_plain_name(name: str, extension: str | None) -> None:
    out = safe_name(name, extension=extension)
    assert check_name(out) == out
    assert "/" not in out
    assert "\\" not in out
    assert out not in {".", ".."}


@pytest.mark.parametrize(
    "name",
    ["", "a/b", "a\\b", "..", ".", "CON", "lpt1.txt", "x.", "x ", "a\x00", "a" * 201],
)
def test_check_name_refuses_unsafe_names(name: str) -> None:
    with pytest.raises(UnsafeNameError) as info:
        check_name(name)
    assert info.value.name == name


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["a.jpg", "b.jpg"], ["a.jpg", "b.jpg"]),
        (["a.jpg", "a.jpg", "a.jpg"], ["a.jpg", "a-2.jpg", "a-3.jpg"]),
        (["a.jpg", "A.JPG"], ["a.jpg", "A-2.JPG"]),
        (["a.jpg", "a.jpg", "a-2.jpg"], ["a.jpg", "a-2.jpg", "a-2-2.jpg"]),
        (["noext", "noext"], ["noext", "noext-2"]),
    ],
)
def test_distinct_names(names: list[str], expected: list[str]) -> None:
    assert distinct_names(names) == expected


@given(st.lists(st.sampled_from(["a.jpg", "A.jpg", "a-2.jpg", "b.png", "a"]), max_size=30))
def test_distinct_names_are_distinct_deterministic_and_keep_firsts(names: list[str]) -> None:
    out = distinct_names(names)
    assert len({n.casefold() for n in out}) == len(out)
    assert out == distinct_names(names)
    if names:
        assert out[0] == names[0]


@pytest.mark.parametrize(
    ("name", "parts"),
    [("a.jpg", ("a", ".jpg")), ("a", ("a", "")), (".rc", (".rc", "")), ("a.b.c", ("a.b", ".c"))],
)
def test_split_name(name: str, parts: tuple[str, str]) -> None:
    assert split_name(name) == parts


@pytest.mark.parametrize(
    ("name", "extension", "fallback", "expected"),
    [
        pytest.param("...", None, "Q1/Q2 report", "Q1_Q2 report", id="unsafe-fallback"),
        pytest.param("", ".png", "a\x00b", "a_b.png", id="control-in-fallback"),
        pytest.param("", ".png", " . ", "asset.png", id="blank-fallback"),
        pytest.param("caf\udce9.jpg", None, "x", "caf_.jpg", id="surrogate"),
        pytest.param("x.jpg", ".t\udce9f", "x", "x.t_f", id="surrogate-extension"),
    ],
)
def test_safe_name_never_fails(
    name: str, extension: str | None, fallback: str, expected: str
) -> None:
    assert safe_name(name, extension=extension, fallback=fallback) == expected


def test_an_overlong_extension_is_cut_too() -> None:
    out = safe_name("photo." + "x" * 210)
    assert out.startswith("photo.xxx")
    assert len(out.encode()) <= MAX_NAME_BYTES
    assert check_name(out) == out


def test_check_name_refuses_undecodable_names() -> None:
    with pytest.raises(UnsafeNameError, match="valid Unicode"):
        check_name("caf\udce9.png")


_ANY_CHAR = st.characters(exclude_categories=())  # surrogates included: undecodable file names


@given(
    st.text(_ANY_CHAR, max_size=50),
    st.text(_ANY_CHAR, max_size=300),
    st.text(_ANY_CHAR, max_size=30),
)
def test_safe_name_never_raises(name: str, extension: str, fallback: str) -> None:
    out = safe_name(name, extension=extension or None, fallback=fallback)
    assert check_name(out) == out
