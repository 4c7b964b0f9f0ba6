from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exportjob import ExportJobError, MacroError, MacroLibrary, ModifierError
from exportjob.exceptions import UnknownMacroError
from exportjob.language import (
    MAX_EXPANDED_CHARS,
    MAX_EXPANDED_MODIFIERS,
    Command,
    parse_request,
    render_commands,
)
from tests import strategies


def pairs(text: str, macros: MacroLibrary | None = None) -> list[tuple[str, str]]:
    return [(c.name, c.value) for c in parse_request(text, macros)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", [], id="empty"),
        pytest.param("wid=400", [("wid", "400")], id="one"),
        pytest.param("?wid=400", [("wid", "400")], id="leading-question-mark"),
        pytest.param("&wid=400", [("wid", "400")], id="leading-ampersand"),
        pytest.param("?&wid=400&", [("wid", "400")], id="both-and-trailing"),
        pytest.param("wid=1&&&hei=2", [("wid", "1"), ("hei", "2")], id="empty-modifiers-skipped"),
        pytest.param("wid=1&.a+comment&hei=2", [("wid", "1"), ("hei", "2")], id="comment-dropped"),
        pytest.param(".leading=comment&hei=2", [("hei", "2")], id="leading-comment"),
        pytest.param("?.c&hei=2", [("hei", "2")], id="comment-after-question-mark"),
        pytest.param("op_invert", [("op_invert", "")], id="bare-name-empty-value"),
        pytest.param("wid=", [("wid", "")], id="empty-value"),
        pytest.param("wid=1&wid=2", [("wid", "1"), ("wid", "2")], id="every-occurrence-kept"),
        pytest.param("id=a=b", [("id", "a=b")], id="split-at-first-equals"),
    ],
)
def test_split_and_comments(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(text) == expected


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param("WID=1", "wid", id="upper"),
        pytest.param("resmode=bicub", "resMode", id="camel-case-restored"),
        pytest.param("OP_USMR=1", "op_usmR", id="usmR-not-usm"),
        pytest.param("op_GrowMask=1", "op_growMask", id="growMask"),
        pytest.param("iccembed=1", "iccEmbed", id="iccEmbed"),
        pytest.param("Widht=1", "Widht", id="unknown-kept-as-written"),
    ],
)
def test_command_names_are_canonical(text: str, name: str) -> None:
    assert parse_request(text)[0].name == name


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("id=a%26b", "a&b", id="encoded-ampersand-does-not-split"),
        pytest.param("id=a%3Db", "a=b", id="encoded-equals"),
        pytest.param("id=a+b", "a b", id="plus-is-space"),
        pytest.param("id=a%2Bb", "a+b", id="encoded-plus"),
        pytest.param("qlt=80%2C1", "80,1", id="encoded-comma-is-a-comma"),
        pytest.param("id=100%25", "100%", id="encoded-percent"),
        pytest.param("id=%2526", "%26", id="decoded-once"),
        pytest.param("id=caf%C3%A9", "café", id="utf8"),
        pytest.param("id=café", "café", id="raw-non-ascii-kept"),
        pytest.param("id=%0A", "\n", id="encoded-control-allowed-in-value"),
        pytest.param("id=my$image$file.tif", "my$image$file.tif", id="dollar-not-reserved"),
    ],
)
def test_values_are_decoded_once_after_splitting(text: str, value: str) -> None:
    assert parse_request(text)[0].value == value


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("wid=4 00", id="space"),
        pytest.param("wid=400\t", id="tab"),
        pytest.param("wid=400\n&hei=2", id="newline"),
        pytest.param("wid=400\r", id="carriage-return"),
        pytest.param("wid=\x00", id="nul"),
        pytest.param("wid=\x7f", id="delete"),
        pytest.param("wid=\u00a0", id="no-break-space"),
        pytest.param("wid=\u2028", id="line-separator"),
        pytest.param(".a comment", id="inside-comment"),
    ],
)
def test_whitespace_and_control_characters_are_refused(text: str) -> None:
    with pytest.raises(ModifierError, match="not allowed in a request") as info:
        parse_request(text, origin="is_modifier")
    assert info.value.origin == "is_modifier"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("id=%zz", "percent-encoding", id="bad-escape"),
        pytest.param("id=100%", "percent-encoding", id="trailing-percent"),
        pytest.param("id=%4", "percent-encoding", id="short-escape"),
        pytest.param("id=%FF", "not UTF-8", id="not-utf8"),
        pytest.param("id=%ED%A0%80", "not UTF-8", id="encoded-surrogate"),
        pytest.param("1wid=3", "malformed command name", id="name-starts-with-digit"),
        pytest.param("wi-d=3", "malformed command name", id="name-with-dash"),
        pytest.param("=3", "malformed command name", id="no-name"),
        pytest.param("w%69d=3", "malformed command name", id="encoded-name"),
        pytest.param("$=3", "malformed variable definition", id="empty-variable-name"),
        pytest.param("$x", "malformed variable definition", id="variable-without-value"),
        pytest.param("$a$b$", "malformed variable definition", id="not-an-invocation"),
        pytest.param("$a!=1", "malformed variable definition", id="bad-variable-name"),
        pytest.param("$$", "malformed macro invocation", id="empty-macro-name"),
        pytest.param("$a/b$", "malformed macro invocation", id="bad-macro-name"),
        pytest.param("$v=%zz&wid=1", "percent-encoding", id="bad-variable-value"),
    ],
)
def test_malformed_requests_raise(text: str, match: str) -> None:
    with pytest.raises(ModifierError, match=match):
        parse_request(text)


def test_error_carries_command_value_position_and_origin() -> None:
    with pytest.raises(ModifierError) as info:
        parse_request("wid=1&.c&$v=2&id=%zz", origin="is_modifier")
    error = info.value
    assert (error.command, error.value, error.position, error.origin) == (
        "id",
        "%zz",
        2,
        "is_modifier",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "$var2=apple&$var1=my$var2$tree&id=$var1$",
            [("id", "my$var2$tree")],
            id="spec-example-no-rescan",
        ),
        pytest.param("$w=400&wid=$w$", [("wid", "400")], id="defined-before"),
        pytest.param("wid=$w$&$w=400", [("wid", "400")], id="defined-after"),
        pytest.param("$w=1&wid=$w$&$w=2", [("wid", "2")], id="last-definition-wins"),
        pytest.param("$W=400&wid=$w$", [("wid", "400")], id="names-case-insensitive"),
        pytest.param("wid=$number$", [("wid", "$number$")], id="undefined-stays-literal"),
        pytest.param("$a=1&$b=2&id=$a$,$b$", [("id", "1,2")], id="several-references"),
        pytest.param("$a=x&id=$a$$a$", [("id", "xx")], id="adjacent-references"),
        pytest.param("$b=x&id=$a$b$", [("id", "$ax")], id="undefined-then-defined"),
        pytest.param("$v=a%26b&id=$v$", [("id", "a&b")], id="substituted-before-decoding"),
        pytest.param("$v=a+b&id=$v$", [("id", "a b")], id="variable-plus-decoded-once"),
        pytest.param("$v=%2524&id=$v$", [("id", "%24")], id="variable-decoded-once"),
        pytest.param("$x=wid&$x$=1", None, id="no-substitution-in-names"),
        pytest.param("$v=2&layer=$v$&effect=$v$", [("layer", "$v$"), ("effect", "$v$")], id="none-in-layer-effect"),
        pytest.param("$v=1", [], id="definition-is-not-a-command"),
    ],
)  # fmt: skip
def test_custom_variables(text: str, expected: list[tuple[str, str]] | None) -> None:
    if expected is None:
        with pytest.raises(ModifierError):
            parse_request(text)
    else:
        assert pairs(text) == expected


def test_variables_reach_into_macros_and_back() -> None:
    macros = MacroLibrary({"sized": "$w=100&wid=$w$&hei=$h$"})
    assert pairs("$sized$&$h=50", macros) == [("wid", "100"), ("hei", "50")]
    assert pairs("$sized$&$w=300", macros) == [("wid", "300"), ("hei", "$h$")]


def test_positions_are_consecutive_and_origins_recorded() -> None:
    macros = MacroLibrary({"inner": "hei=2", "outer": "wid=1&$inner$"})
    commands = parse_request("fmt=png&.c&$v=1&$outer$&qlt=80", macros, origin="is_modifier")
    assert [(c.name, c.position, c.origin) for c in commands] == [
        ("fmt", 1, "is_modifier"),
        ("wid", 2, "macro $outer$"),
        ("hei", 3, "macro $inner$"),
        ("qlt", 4, "is_modifier"),
    ]


def test_macro_is_expanded_in_place() -> None:
    macros = MacroLibrary({"view": "wid=240&fmt=jpeg"})
    assert pairs("wid=480&$VIEW$&hei=2", macros) == [
        ("wid", "480"),
        ("wid", "240"),
        ("fmt", "jpeg"),
        ("hei", "2"),
    ]


@pytest.mark.parametrize(
    "macros",
    [
        pytest.param(None, id="no-library"),
        pytest.param(MacroLibrary({"b": "wid=1"}), id="not-defined"),
    ],
)
def test_unknown_macro_raises(macros: MacroLibrary | None) -> None:
    with pytest.raises(UnknownMacroError) as info:
        parse_request("wid=1&$a$", macros)
    assert info.value.macro == "a"
    assert isinstance(info.value, LookupError)


def test_an_expanded_request_is_capped() -> None:
    # Variable definitions count, comments do not.
    at_cap = "&".join(["wid=1"] * (MAX_EXPANDED_MODIFIERS - 1)) + "&.comments&$v=2&.are_free"
    assert len(parse_request(at_cap)) == MAX_EXPANDED_MODIFIERS - 1
    with pytest.raises(ModifierError, match=f"more than {MAX_EXPANDED_MODIFIERS} modifiers"):
        parse_request(at_cap + "&wid=2")
    with pytest.raises(ModifierError, match=f"at most {MAX_EXPANDED_CHARS:,}, comments included"):
        parse_request("text=" + "a" * MAX_EXPANDED_CHARS)  # written too long: not even read
    half = MacroLibrary({"half": "text=" + "a" * (MAX_EXPANDED_CHARS // 2)})
    with pytest.raises(ModifierError, match=f"more than {MAX_EXPANDED_CHARS} characters"):
        parse_request("$half$&$half$", half)
    macros = MacroLibrary({"half": "&".join(["wid=1"] * 600)})
    with pytest.raises(ModifierError, match="modifiers") as caught:
        parse_request("$half$&$half$", macros, origin="is_modifier")
    assert caught.value.origin == "is_modifier"


def test_variable_substitution_is_capped() -> None:
    value = "x" * 30_000
    assert parse_request(f"$a={value}&text=$a$$a$")[0].value == value * 2
    with pytest.raises(ModifierError, match="after variable substitution") as caught:
        parse_request(f"$a={value}&text=" + "$a$" * 10_000)
    assert (caught.value.command, caught.value.position) == ("text", 1)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: parse_request(123), "text must be a str, not int"),
        (lambda: parse_request(b"wid=1"), "text must be a str, not bytes"),
        (lambda: parse_request("wid=1", {}), "macros must be a MacroLibrary or None, not dict"),
    ],
)
def test_wrong_argument_types_raise_a_clear_type_error(call: Any, match: str) -> None:
    with pytest.raises(TypeError, match=f"^parse_request: {match}"):
        call()


@pytest.mark.parametrize(
    ("commands", "text"),
    [
        pytest.param([Command("wid", "400")], "wid=400", id="plain"),
        pytest.param([Command("fmt", "tif,rgb,lzw")], "fmt=tif,rgb,lzw", id="commas-kept"),
        pytest.param([Command("op_invert", "")], "op_invert", id="bare"),
        pytest.param(
            [Command("id", "a&b=c d+e%")], "id=a%26b%3Dc%20d%2Be%25", id="reserved-encoded"
        ),
        pytest.param([Command("id", "$v$")], "id=%24v%24", id="dollar-encoded-no-reference"),
        pytest.param([Command("id", "é")], "id=%C3%A9", id="utf8"),
        pytest.param([Command("wid", "1"), Command("hei", "2")], "wid=1&hei=2", id="joined"),
        pytest.param([], "", id="none"),
    ],
)
def test_render_commands(commands: list[Command], text: str) -> None:
    assert render_commands(commands) == text


def test_rendered_dollar_is_not_substituted_again() -> None:
    parsed = parse_request("$v=1&id=$w$&$w=$v$")
    assert parsed[0].value == "$v$"
    assert pairs(render_commands(parsed) + "&$v=2") == [("id", "$v$")]


@given(st.lists(strategies.commands(), max_size=8))
def test_render_then_parse_gives_the_same_commands(commands: list[Command]) -> None:
    reparsed = parse_request(render_commands(commands))
    assert [(c.name, c.value) for c in reparsed] == [(c.name, c.value) for c in commands]
    assert [c.position for c in reparsed] == list(range(1, len(commands) + 1))


@given(strategies.request_text)
def test_any_text_parses_or_raises_a_library_error(text: str) -> None:
    macros = MacroLibrary({"a": "wid=1", "b": "$a$&hei=$h$"})
    try:
        commands = parse_request(text, macros)
    except (ModifierError, MacroError) as exc:
        error: ExportJobError | None = exc
    else:
        error = None
        again = parse_request(render_commands(commands))
        assert [(c.name, c.value) for c in again] == [(c.name, c.value) for c in commands]
    assert error is None or str(error)


@given(strategies.well_formed_requests)
def test_well_formed_requests_parse_and_are_stable(text: str) -> None:
    commands = parse_request(text)
    rendered = render_commands(commands)
    assert render_commands(parse_request(rendered)) == rendered
