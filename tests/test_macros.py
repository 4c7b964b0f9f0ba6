from __future__ import annotations

import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from exportjob import MacroError, MacroLibrary
from exportjob.exceptions import MacroDefinitionError, UnknownMacroError
from exportjob.language import MAX_EXPANDED_CHARS, MAX_EXPANDED_MODIFIERS, parse_request
from tests import strategies


def expanded(library: MacroLibrary, name: str) -> list[tuple[str, str]]:
    return [(c.name, c.value) for c in parse_request(f"${name}$", library)]


# --- built in code -------------------------------------------------------------------------


def test_library_from_a_mapping() -> None:
    library = MacroLibrary({"Thumb": "wid=120&fmt=png", "view": "$thumb$&wid=480"})
    assert library.names == ("Thumb", "view")
    assert len(library) == 2
    assert "THUMB" in library
    assert "thumb" in library
    assert "other" not in library
    assert 3 not in library
    assert library.definition("THUMB") == "wid=120&fmt=png"
    assert expanded(library, "view") == [("wid", "120"), ("fmt", "png"), ("wid", "480")]
    assert library.warnings == ()


def test_empty_library() -> None:
    library = MacroLibrary()
    assert len(library) == 0
    assert repr(library) == "<MacroLibrary with 0 macro(s)>"


def test_repr_is_short() -> None:
    library = MacroLibrary({f"m{i}": "wid=1" for i in range(7)})
    assert repr(library) == "<MacroLibrary with 7 macro(s): m0, m1, m2, m3, m4, ...>"


@pytest.mark.parametrize(
    ("definitions", "macro", "match"),
    [
        pytest.param({"a": "$b$", "b": "wid=1"}, "a", r"invokes \$b\$, which is not defined before it", id="forward-reference"),
        pytest.param({"a": "$nope$"}, "a", r"invokes \$nope\$", id="undefined"),
        pytest.param({"a": "wid=1&$a$"}, "a", "invokes itself", id="self-reference"),
        pytest.param({"a": "wid=1", "b": "wid=2", "A": "$b$&$A$"}, "A", "invokes itself", id="self-on-redefinition"),
        pytest.param({"a b": "wid=1"}, "a b", "invalid macro name", id="space-in-name"),
        pytest.param({"": "wid=1"}, "", "invalid macro name", id="empty-name"),
        pytest.param({"a$": "wid=1"}, "a$", "invalid macro name", id="dollar-in-name"),
        pytest.param({"a": ""}, "a", "defines no commands", id="empty-definition"),
        pytest.param({"a": ".just-a-comment"}, "a", "defines no commands", id="comment-only"),
        pytest.param({"a": "wid=1 "}, "a", "not valid modifier text", id="trailing-space"),
        pytest.param({"a": "id=%zz"}, "a", "not valid modifier text", id="bad-percent"),
        pytest.param({"a": "1wid=2"}, "a", "not valid modifier text", id="bad-command-name"),
    ],
)  # fmt: skip
def test_bad_definitions_raise(definitions: dict[str, str], macro: str, match: str) -> None:
    with pytest.raises(MacroDefinitionError, match=match) as info:
        MacroLibrary(definitions)
    assert info.value.macro == macro
    assert info.value.line is None


def test_nesting_keeps_each_macros_origin() -> None:
    library = MacroLibrary({"a": "wid=1", "b": "$a$&hei=2", "c": "$b$&qlt=90"})
    commands = parse_request("$c$", library)
    assert [c.origin for c in commands] == ["macro $a$", "macro $b$", "macro $c$"]


def test_a_macro_may_hold_only_variable_definitions() -> None:
    library = MacroLibrary({"size": "$w=400"})
    assert [(c.name, c.value) for c in parse_request("$size$&wid=$w$", library)] == [("wid", "400")]


def test_duplicate_names_in_a_mapping_later_wins_with_a_warning() -> None:
    library = MacroLibrary({"a": "wid=1", "A": "wid=2"})
    assert len(library) == 1
    assert library.definition("a") == "wid=2"
    assert len(library.warnings) == 1
    assert "defined again" in library.warnings[0]


def test_with_macro_returns_a_new_library() -> None:
    library = MacroLibrary({"a": "wid=1"})
    bigger = library.with_macro("b", "$a$&hei=2")
    assert "b" in bigger
    assert "b" not in library
    assert expanded(bigger, "b") == [("wid", "1"), ("hei", "2")]
    with pytest.raises(MacroDefinitionError):
        library.with_macro("c", "$missing$")


def test_a_macro_is_bound_when_defined() -> None:
    library = MacroLibrary({"a": "wid=1", "b": "$a$"}).with_macro("a", "wid=2")
    assert expanded(library, "a") == [("wid", "2")]
    assert expanded(library, "b") == [("wid", "1")]


def test_unknown_macro_lookup() -> None:
    library = MacroLibrary({"a": "wid=1"})
    with pytest.raises(UnknownMacroError) as info:
        library.definition("b")
    assert info.value.macro == "b"
    assert isinstance(info.value, LookupError)


def test_library_pickles() -> None:
    library = MacroLibrary({"a": "wid=1", "b": "$a$&hei=2"})
    copy = pickle.loads(pickle.dumps(library))
    assert copy.names == library.names
    assert expanded(copy, "b") == expanded(library, "b")


# --- the definition file format ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Name\tDefinition\na\twid=1\nb\t$a$&hei=2\n", id="lf"),
        pytest.param("Name\tDefinition\r\na\twid=1\r\nb\t$a$&hei=2\r\n", id="crlf"),
        pytest.param("Name\tDefinition\ra\twid=1\rb\t$a$&hei=2", id="cr-no-final"),
        pytest.param("NAME\tdefinition\na\twid=1\nb\t$a$&hei=2", id="header-case"),
        pytest.param("Definition\tName\nwid=1\ta\n$a$&hei=2\tb", id="columns-swapped"),
        pytest.param(
            "Name\t.note\tDefinition\na\tx\twid=1\nb\t\t$a$&hei=2", id="dot-column-ignored"
        ),
        pytest.param("\n\nName\tDefinition\n\na\twid=1\n\t\nb\t$a$&hei=2\n\n", id="blank-records"),
        pytest.param('Name\tDefinition\n"a"\t"wid=1"\nb\t"$a$&hei=2"', id="quoted-fields"),
        pytest.param("\ufeffName\tDefinition\na\twid=1\nb\t$a$&hei=2", id="str-with-bom"),
        pytest.param(b"Name\tDefinition\na\twid=1\nb\t$a$&hei=2", id="bytes"),
    ],
)
def test_file_format(text: str | bytes) -> None:
    library = MacroLibrary.from_text(text)
    assert library.names == ("a", "b")
    assert expanded(library, "b") == [("wid", "1"), ("hei", "2")]
    assert library.warnings == ()


def test_unknown_columns_are_ignored_with_a_warning() -> None:
    library = MacroLibrary.from_text("Name\tOwner\tDefinition\na\tme\twid=1\n")
    assert library.definition("a") == "wid=1"
    assert library.warnings == ("line 1: unknown column 'Owner' is ignored",)


def test_later_duplicate_wins_with_a_warning_naming_both_lines() -> None:
    library = MacroLibrary.from_text("Name\tDefinition\na\twid=1\nb\t$a$\nA\twid=2\n")
    assert library.definition("a") == "wid=2"
    assert expanded(library, "b") == [("wid", "1")]
    assert library.warnings == (
        "line 4: macro $A$ is defined again (first on line 2); the later one wins",
    )


def test_quoted_field_with_doubled_quote_and_line_breaks() -> None:
    library = MacroLibrary.from_text(
        'Name\tDefinition\tOwner\na\t"id=x""y"\t"two\nlines"\nb\twid=2\n'
    )
    assert library.definition("a") == 'id=x"y'
    assert library.definition("b") == "wid=2"
    assert library.warnings == ("line 1: unknown column 'Owner' is ignored",)


def test_line_numbers_count_lines_inside_quoted_fields() -> None:
    with pytest.raises(MacroDefinitionError) as info:
        MacroLibrary.from_text('Name\tDefinition\t.c\na\twid=1\t"x\r\ny"\nb\t$zz$\n')
    assert info.value.line == 4
    assert info.value.macro == "b"


@pytest.mark.parametrize(
    ("data", "value"),
    [
        pytest.param(b"\xef\xbb\xbfName\tDefinition\na\tid=caf\xc3\xa9\n", "café", id="bom-utf8"),
        pytest.param(b"Name\tDefinition\na\tid=caf\xe9\n", "café", id="latin-1"),
        pytest.param(
            b"Name\tDefinition\na\tid=caf\xc3\xa9\n", "cafÃ©", id="utf8-without-bom-is-latin-1"
        ),
    ],
)
def test_encoding(data: bytes, value: str) -> None:
    library = MacroLibrary.from_text(data)
    assert parse_request("$a$", library)[0].value == value


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        pytest.param("", None, "empty", id="empty-file"),
        pytest.param("\n\n", None, "empty", id="blank-file"),
        pytest.param("Name\tBody\na\twid=1", 1, "Name and Definition", id="no-definition-column"),
        pytest.param("Key\tDefinition\na\twid=1", 1, "Name and Definition", id="no-name-column"),
        pytest.param("Name\tname\tDefinition\n", 1, "unique", id="duplicate-column"),
        pytest.param("Name\t\tDefinition\n", 1, "invalid column name", id="empty-column-name"),
        pytest.param("Name\tDef inition\n", 1, "invalid column name", id="space-in-column-name"),
        pytest.param("Name\tDefinition\na\twid=1\textra\n", 2, "fields", id="too-many-fields"),
        pytest.param("Name\tDefinition\na\n", 2, "defines no commands", id="missing-definition"),
        pytest.param("Name\tDefinition\n\twid=1\n", 2, "invalid macro name", id="missing-name"),
        pytest.param('Name\tDefinition\na\t"wid=1\n', 2, "unterminated", id="unterminated-quote"),
        pytest.param('Name\tDefinition\na\t"wid=1"x\n', 2, "after a quoted field", id="text-after-quote"),
        pytest.param("Name\tDefinition\na\t$b$\nb\twid=1\n", 2, r"invokes \$b\$", id="forward-reference"),
        pytest.param("Name\tDefinition\na\twid=1 \n", 2, "not valid modifier text", id="trailing-space-kept"),
        pytest.param(b"\xef\xbb\xbfName\tDefinition\na\t\xff\n", None, "not UTF-8", id="bom-but-not-utf8"),
    ],
)  # fmt: skip
def test_bad_files_raise_naming_the_line(text: str | bytes, line: int | None, match: str) -> None:
    with pytest.raises(MacroDefinitionError, match=match) as info:
        MacroLibrary.from_text(text)
    assert info.value.line == line
    if line is not None:
        assert str(info.value).startswith(f"line {line}: ")


def test_file_on_top_of_a_base_library() -> None:
    base = MacroLibrary({"small": "wid=100", "fmt": "fmt=png"})
    library = MacroLibrary.from_text(
        "Name\tDefinition\nthumb\t$small$&$fmt$\nsmall\twid=50\n", base=base
    )
    assert library.names == ("small", "fmt", "thumb")
    assert expanded(library, "thumb") == [("wid", "100"), ("fmt", "png")]
    assert expanded(library, "small") == [("wid", "50")]
    assert library.warnings == ()
    assert base.definition("small") == "wid=100"


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "macros.txt"
    path.write_bytes(b"Name\tDefinition\r\nthumb\twid=120&fmt=png\r\n")
    assert MacroLibrary.from_file(path).definition("thumb") == "wid=120&fmt=png"
    assert MacroLibrary.from_file(str(path)).names == ("thumb",)
    with pytest.raises(FileNotFoundError):
        MacroLibrary.from_file(tmp_path / "missing.txt")


def test_errors_are_macro_errors() -> None:
    with pytest.raises(MacroError):
        MacroLibrary.from_text("nothing useful")


# --- expansion caps ------------------------------------------------------------------------


def doubling(levels: int) -> dict[str, str]:
    """``m0`` holds 2 commands and each ``m<i>`` invokes ``m<i-1>`` twice: 2**(i+1) commands."""
    table = {"m0": "wid=1&wid=2"}
    table.update({f"m{i}": f"$m{i - 1}$&$m{i - 1}$" for i in range(1, levels + 1)})
    return table


def test_an_expansion_bomb_defined_in_code_is_refused_quickly() -> None:
    start = time.perf_counter()
    with pytest.raises(MacroDefinitionError, match=r"macro \$m9\$ is too large") as caught:
        MacroLibrary(doubling(40))
    assert time.perf_counter() - start < 2
    assert caught.value.macro == "m9"  # m9 would hold 1024 commands
    assert str(MAX_EXPANDED_MODIFIERS) in caught.value.message
    with pytest.raises(MacroDefinitionError, match="too large"):
        MacroLibrary(doubling(8)).with_macro("m9", "$m8$&$m8$")


def test_an_expansion_bomb_in_a_file_is_refused_quickly_with_its_line() -> None:
    text = "Name\tDefinition\n" + "".join(f"{n}\t{d}\n" for n, d in doubling(24).items())
    start = time.perf_counter()
    with pytest.raises(
        MacroDefinitionError, match=r"^line 11: macro \$m9\$ is too large"
    ) as caught:
        MacroLibrary.from_text(text)
    assert time.perf_counter() - start < 2
    assert (caught.value.macro, caught.value.line) == ("m9", 11)


def test_a_definition_over_the_character_cap_is_refused() -> None:
    with pytest.raises(MacroDefinitionError, match=f"at most {MAX_EXPANDED_CHARS:,}, comments"):
        MacroLibrary({"long": "wid=" + "1" * MAX_EXPANDED_CHARS})  # written too long
    half = "id=" + "a" * (MAX_EXPANDED_CHARS // 2)
    with pytest.raises(MacroDefinitionError, match=f"more than {MAX_EXPANDED_CHARS} characters"):
        MacroLibrary({"half": half, "long": "$half$&$half$"})  # expands too long
    # A variable substituted many times is capped after substitution too.
    bomb = "$a=" + "x" * 30_000 + "&wid=" + "$a$" * 10_000
    with pytest.raises(MacroDefinitionError, match="after variable substitution"):
        MacroLibrary({"subst": bomb})


def test_large_but_reasonable_macros_still_work() -> None:
    library = MacroLibrary(doubling(8))  # m8: 512 commands through 8 levels of nesting
    assert len(library.expansion("m8")) == 512
    exact = "&".join(f"wid={i}" for i in range(1, MAX_EXPANDED_MODIFIERS + 1))
    library = library.with_macro("exact", exact)  # exactly at the cap
    assert len(library.expansion("exact")) == MAX_EXPANDED_MODIFIERS
    assert expanded(library, "exact")[-1] == ("wid", str(MAX_EXPANDED_MODIFIERS))
    with pytest.raises(MacroDefinitionError, match="too large"):
        library.with_macro("over", exact + "&hei=1")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: MacroLibrary({"a": None}), "definition of macro 'a' must be a str, not NoneType"),
        (lambda: MacroLibrary({1: "wid=1"}), "macro name must be a str, not int"),
        (lambda: MacroLibrary("wid=1"), "definitions must be a mapping .* not str"),
        (lambda: MacroLibrary(base={}), "base must be a MacroLibrary or None, not dict"),
        (lambda: MacroLibrary.from_text(None), "text must be a str or bytes, not NoneType"),
        (lambda: MacroLibrary.from_text(3), "text must be a str or bytes, not int"),
        (lambda: MacroLibrary().with_macro("a", b"wid=1"), "must be a str, not bytes"),
    ],
)
def test_wrong_argument_types_raise_a_clear_type_error(call: Any, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        call()


# --- properties ----------------------------------------------------------------------------


@given(strategies.macro_tables())
def test_a_mapping_and_its_file_give_the_same_library(table: dict[str, str]) -> None:
    text = "Name\tDefinition\r\n" + "".join(f'{name}\t"{body}"\r\n' for name, body in table.items())
    from_code, from_file = MacroLibrary(table), MacroLibrary.from_text(text)
    assert from_file.names == from_code.names == tuple(table)
    for name, body in table.items():
        assert from_file.definition(name) == body
        assert from_file.expansion(name) == from_code.expansion(name)


def test_trailing_tabs_of_a_spreadsheet_export_are_no_columns() -> None:
    # "Name<TAB>Definition<TAB>" failed with "invalid column name ''".
    library = MacroLibrary.from_text("Name\tDefinition\t\t\nthumb\twid=100\t\t\n")
    assert [m.text for m in library.expansion("thumb")] == ["wid=100"]
    with pytest.raises(MacroDefinitionError, match="invalid column name ''"):
        MacroLibrary.from_text("Name\t\tDefinition\nthumb\t\twid=1\n")  # an empty one between


_MANY_TABS = """
from exportjob import MacroLibrary
text = "Name\\tDefinition" + "\\t" * 1_000_000 + "\\n" + "".join(f"m{i}\\twid={i + 1}\\n" for i in range(5_000))
library = MacroLibrary.from_text(text)
assert len(library.names) == 5_000 and library.definition("m4999") == "wid=5000"
"""


def test_a_header_of_a_million_trailing_tabs_loads_like_any_other() -> None:
    # Trailing TABs were cut one copy at a time, and every row padded to them: quadratic, a
    # 1 MB header took hours. Linear now (about a second here); a subprocess bounds a regression.
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _MANY_TABS], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
