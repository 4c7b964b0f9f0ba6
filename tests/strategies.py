"""Hypothesis strategies for the modifier and macro language."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import strategies as st

from exportjob.language import COMMANDS, Command, CommandSpec

_BY_NAME = {spec.name.lower(): spec for spec in COMMANDS}


def command_spec(name: str) -> CommandSpec | None:
    """The row of the public command table for *name* (command names are case-insensitive)."""
    return _BY_NAME.get(name.lower())


def canonical_name(name: str) -> str:
    """The table's spelling of *name*, or *name* itself if the table has no such command."""
    spec = command_spec(name)
    return name if spec is None else spec.name


# Characters that matter to the syntax, plus ordinary ones, plus anything at all.
_SYNTAX_CHARS = "&=$%.+?,#0123456789abcdefxgrkABCDEF_-"
request_text = st.text(
    alphabet=st.one_of(st.sampled_from(_SYNTAX_CHARS), st.characters()), max_size=60
)
"""Arbitrary text, biased towards the request syntax."""

known_names = st.sampled_from([spec.name for spec in COMMANDS])
unknown_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda name: command_spec(name) is None
)
command_names = st.one_of(known_names, unknown_names)
"""Command names in their canonical spelling (table names, or names the table does not have)."""

values = st.text(max_size=30)
"""Any decoded value: Hypothesis leaves out lone surrogates, which no request can carry."""


@st.composite
def commands(draw: st.DrawFn) -> Command:
    """A command with a canonical name and any value."""
    return Command(draw(command_names), draw(values))


macro_names = st.from_regex(r"[A-Za-z0-9_.\-]{1,10}", fullmatch=True)
var_names = macro_names


@st.composite
def modifier_text(draw: st.DrawFn) -> str:
    """One well-formed modifier: a command, a comment, a variable definition or a reference."""
    kind = draw(st.sampled_from(["command", "comment", "define", "reference", "bare"]))
    if kind == "comment":
        return "." + quote(draw(values), safe="")
    if kind == "define":
        return f"${draw(var_names)}={quote(draw(values), safe='')}"
    name = draw(command_names)
    if kind == "bare":
        return name
    if kind == "reference":
        return f"{name}=${draw(var_names)}$"
    return f"{name}={quote(draw(values), safe=',')}"


well_formed_requests = st.lists(modifier_text(), max_size=8).map("&".join)
"""Requests that always parse."""


@st.composite
def rgb_colors(draw: st.DrawFn) -> tuple[int, int, int]:
    """An 8-bit RGB triple."""
    channel = st.integers(0, 255)
    return (draw(channel), draw(channel), draw(channel))


@st.composite
def macro_tables(draw: st.DrawFn) -> dict[str, str]:
    """A macro table in definition order; later macros sometimes invoke earlier ones."""
    names = draw(st.lists(macro_names, min_size=1, max_size=5, unique_by=str.lower))
    table: dict[str, str] = {}
    for name in names:
        body = draw(st.lists(modifier_text(), min_size=1, max_size=3).map("&".join))
        if table and draw(st.booleans()):
            body = f"${draw(st.sampled_from(sorted(table)))}$&{body}"
        if not any(part and not part.startswith(".") for part in body.split("&")):
            body += "&wid=1"
        table[name] = body
    return table
