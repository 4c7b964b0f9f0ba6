"""The Image Serving request syntax: split, comments, macro expansion, custom variables, decoding.

Processing order (spec section 1): split on raw ``&``; drop empty modifiers and ``.comments``; expand
``$macro$`` invocations in place; split each modifier at its first ``=``; collect every ``$var=``
definition (the last one wins); substitute ``$var$`` references in the raw values (no re-scan,
undefined references stay literal); percent-decode each value once (``+`` is a space).

Expansion is bounded: an expanded request or macro holds at most ``MAX_EXPANDED_MODIFIERS``
modifiers and ``MAX_EXPANDED_CHARS`` characters, and its values at most ``MAX_EXPANDED_CHARS``
characters after variable substitution. The caps are checked as the expansion grows, so a
definition that doubles at every level is refused after bounded work, never built first.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Protocol
from urllib.parse import quote, unquote

import attrs

from .._quoting import quoted
from ..exceptions import ModifierError, UnknownMacroError
from ._values import did_you_mean
from ._vocabulary import canonical_name

__all__ = [
    "INVOCATION",
    "MAX_EXPANDED_CHARS",
    "MAX_EXPANDED_MODIFIERS",
    "NAME",
    "Command",
    "ExpansionBudget",
    "MacroLookup",
    "RawModifier",
    "build_commands",
    "check_characters",
    "expand",
    "invoke",
    "render_commands",
    "split_modifiers",
]

NAME = re.compile(r"[A-Za-z0-9_.\-]+")
"""A macro or variable name: ASCII letters, digits, ``-``, ``_`` and ``.``."""
_COMMAND_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
INVOCATION = re.compile(r"\$([^$=]*)\$")
"""A whole modifier that invokes a macro: ``$name$``."""
_REFERENCE = re.compile(r"\$([A-Za-z0-9_.\-]+)\$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_NO_SUBSTITUTION = frozenset({"layer", "effect"})
# Kept literal when rendering: unreserved characters plus the separators values use.
_SAFE = ",:/"

MAX_EXPANDED_MODIFIERS = 1000
"""The most modifiers (commands and ``$var=`` definitions) an expanded request or macro may hold."""
MAX_EXPANDED_CHARS = 64 * 1024
"""The most characters an expanded request or macro may hold, and its values after substitution."""


@attrs.frozen
class Command:
    """One command of an expanded request.

    ``name`` is the canonical spelling from the command table (``wid``, ``resMode``, ``op_usm``) or,
    for an unknown command, the name as written; ``value`` is decoded (``""`` for a bare name);
    ``position`` is the 1-based index among the commands of the expanded request (comments,
    variable definitions and invocations are not counted); ``origin`` says where it was written
    (``"is_modifier"``, or ``"macro $thumb$"`` for a command in macro ``thumb``).

    >>> Command("wid", "400", 1)
    Command(name='wid', value='400', position=1, origin='request')
    """

    name: str
    value: str
    position: int = 0
    origin: str = "request"


@attrs.frozen
class RawModifier:
    """One modifier of an expanded request, not yet decoded: a command or a ``$var=`` definition."""

    text: str
    origin: str


class ExpansionBudget:
    """What one expansion (a request, or a macro definition) has produced so far, against the caps.

    ``take`` is called before each piece is added, so the work done is bounded by the caps however
    large the full expansion would be; ``exceeded`` says whether a cap was hit.
    """

    __slots__ = ("chars", "exceeded", "modifiers", "values")

    def __init__(self) -> None:
        self.modifiers = 0
        self.chars = 0
        self.values = 0
        self.exceeded = False

    def refuse(
        self, message: str, *, origin: str, command: str | None = None, position: int | None = None
    ) -> ModifierError:
        """Record that a cap was hit and return the ``ModifierError`` to raise."""
        self.exceeded = True
        return ModifierError(message, command=command, position=position, origin=origin)

    def take(self, modifiers: Sequence[RawModifier], *, origin: str) -> None:
        """Count *modifiers* in; ``ModifierError`` if the expansion would pass a cap."""
        count = self.modifiers + len(modifiers)
        if count > MAX_EXPANDED_MODIFIERS:
            raise self.refuse(
                f"the expansion holds more than {MAX_EXPANDED_MODIFIERS} modifiers "
                "(commands and variable definitions)",
                origin=origin,
            )
        chars = self.chars + sum(len(modifier.text) for modifier in modifiers)
        if chars > MAX_EXPANDED_CHARS:
            raise self.refuse(
                f"the expansion holds more than {MAX_EXPANDED_CHARS} characters", origin=origin
            )
        self.modifiers, self.chars = count, chars


# What ``str.isspace`` calls whitespace (``\\s`` on str), and categories Cc and Cs.
_NOT_ALLOWED = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def check_characters(text: str, *, origin: str) -> None:
    """Raise ``ModifierError`` if *text* holds whitespace or a control character (spec section 1).

    Text longer than ``MAX_EXPANDED_CHARS`` (comments included) is refused before it is read.
    """
    if len(text) > MAX_EXPANDED_CHARS:
        raise ModifierError(
            f"the text is {len(text):,} characters long; a request or a macro definition may be "
            f"at most {MAX_EXPANDED_CHARS:,}, comments included",
            origin=origin,
        )
    bad = _NOT_ALLOWED.search(text)
    if bad is not None:
        raise ModifierError(
            f"character {bad.group()!r} at offset {bad.start()} is not allowed in a request: "
            "whitespace and control characters must be percent-encoded (a space is %20)",
            origin=origin,
        )


def split_modifiers(text: str) -> list[str]:
    """Split raw request text on ``&``, dropping a leading ``?`` and empty modifiers.

    >>> split_modifiers("?&wid=1&&.note&hei=2&")
    ['wid=1', '.note', 'hei=2']
    """
    return [part for part in text.removeprefix("?").split("&") if part]


class MacroLookup(Protocol):
    """What the syntax layer needs of a macro library: membership and a bound expansion."""

    def __contains__(self, name: object) -> bool:
        """Whether macro *name* is defined."""
        ...

    def expansion(self, name: str) -> tuple[RawModifier, ...]:
        """The modifiers macro *name* expands to (its invocations already expanded)."""
        ...


def _no_macro(name: str, macros: MacroLookup | None) -> str:
    """Why macro *name* cannot be expanded, and what would fix it."""
    if macros is None:
        return (
            "no macro library was given (pass one as the engine's macros=, "
            "or a macro file with --macros FILE on the command line)"
        )
    # A MacroLibrary knows its names; another MacroLookup may not say them.
    names = sorted(getattr(macros, "names", ()))
    if not names:
        return "the library defines no macros"
    nearest = did_you_mean(name, names, spell="${}$")
    if nearest:
        return f"the library does not define it{nearest}"
    shown = ", ".join(f"${n}$" for n in names[:10])
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    return f"the library does not define it; it defines {shown}{more}"


def invoke(name: str, macros: MacroLookup | None, *, origin: str) -> tuple[RawModifier, ...]:
    """Return the modifiers macro *name* expands to; ``UnknownMacroError`` if it is not defined."""
    if macros is None or name not in macros:
        where = _no_macro(name, macros)
        raise UnknownMacroError(f"unknown macro ${name}$ in {origin}: {where}", macro=name)
    return macros.expansion(name)


def expand(
    text: str,
    macros: MacroLookup | None,
    *,
    origin: str,
    budget: ExpansionBudget | None = None,
) -> tuple[RawModifier, ...]:
    """Split *text*, drop comments and expand ``$macro$`` invocations in place.

    Args:
        text: raw request text (the query part, not decoded).
        macros: the library invocations are looked up in; None means none is defined.
        origin: where *text* comes from, recorded on each of its modifiers.
        budget: shared by the expansions of one request; a fresh one by default.

    Raises:
        ModifierError: *text* holds whitespace or a control character, or a malformed invocation,
            or the expansion passes ``MAX_EXPANDED_MODIFIERS`` or ``MAX_EXPANDED_CHARS``.
        UnknownMacroError: an invoked macro is not defined.
    """
    if budget is None:
        budget = ExpansionBudget()
    check_characters(text, origin=origin)
    out: list[RawModifier] = []
    for part in split_modifiers(text):
        if part.startswith("."):
            continue
        call = INVOCATION.fullmatch(part)
        if call is None:
            modifier = RawModifier(part, origin)
            budget.take((modifier,), origin=origin)
            out.append(modifier)
            continue
        name = call.group(1)
        if NAME.fullmatch(name) is None:
            raise ModifierError(
                f"malformed macro invocation {part!r}: a name is ASCII letters, digits, '-', '_' or '.'",
                origin=origin,
            )
        expansion = invoke(name, macros, origin=origin)
        budget.take(expansion, origin=origin)
        out.extend(expansion)
    return tuple(out)


def _decode(raw: str, *, name: str, position: int | None, origin: str) -> str:
    bad = _BAD_PERCENT.search(raw)
    if bad is not None:
        raise ModifierError(
            f"malformed percent-encoding at {raw[bad.start() : bad.start() + 3]!r}: write '%' as %25",
            command=name,
            value=raw,
            position=position,
            origin=origin,
        )
    try:
        return unquote(raw.replace("+", " "), errors="strict")
    except UnicodeDecodeError:
        raise ModifierError(
            "percent-encoded bytes are not UTF-8",
            command=name,
            value=raw,
            position=position,
            origin=origin,
        ) from None


def _substitute(raw: str, variables: dict[str, str], room: int) -> str | None:
    """Replace each ``$name$`` whose name is defined; scanning resumes after the substituted text.

    Return None as soon as the result would be longer than *room* characters.
    """
    if not variables or "$" not in raw:
        return raw if len(raw) <= room else None
    out: list[str] = []
    i = size = 0
    # Only the defined names match, so the text between them is copied whole, not read here.
    for match in _references_to(frozenset(variables)).finditer(raw):
        value = variables[match.group(1).lower()]
        size += match.start() - i + len(value)
        if size > room:
            return None
        out += (raw[i : match.start()], value)
        i = match.end()
    if size + len(raw) - i > room:
        return None
    out.append(raw[i:])
    return "".join(out)


@functools.lru_cache(maxsize=64)
def _references_to(names: frozenset[str]) -> re.Pattern[str]:
    """``$name$`` for the variable *names* only (in any case); a name is exactly the text between."""
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"\$({alternatives})\$", re.IGNORECASE | re.ASCII)


def build_commands(
    modifiers: Iterable[RawModifier], budget: ExpansionBudget | None = None
) -> tuple[Command, ...]:
    """Turn expanded modifiers into decoded commands: variables collected, substituted, decoded.

    Raises:
        ModifierError: a malformed command name, variable definition or percent-encoding, or
            values longer than ``MAX_EXPANDED_CHARS`` in all after variable substitution.
    """
    if budget is None:
        budget = ExpansionBudget()
    variables: dict[str, str] = {}
    pending: list[tuple[str, str, RawModifier]] = []
    for modifier in modifiers:
        name, _, raw = modifier.text.partition("=")
        position = len(pending) + 1
        if name.startswith("$"):
            var = name[1:]
            if "=" not in modifier.text or NAME.fullmatch(var) is None:
                raise ModifierError(
                    f"malformed variable definition {modifier.text!r}: expected $name=value",
                    origin=modifier.origin,
                )
            _decode(raw, name=name, position=None, origin=modifier.origin)
            variables[var.lower()] = raw
        elif _COMMAND_NAME.fullmatch(name) is None:
            raise ModifierError(
                f"malformed command name {quoted(name)}: a name is letters, digits and '_', "
                "and starts with a letter or '_'",
                command=name,
                value=raw,
                position=position,
                origin=modifier.origin,
            )
        else:
            pending.append((canonical_name(name), raw, modifier))
    commands = []
    for position, (name, raw, modifier) in enumerate(pending, start=1):
        room = MAX_EXPANDED_CHARS - budget.values
        text = raw if name in _NO_SUBSTITUTION else _substitute(raw, variables, room)
        if text is None or len(text) > room:
            raise budget.refuse(
                f"the values hold more than {MAX_EXPANDED_CHARS} characters after variable "
                "substitution",
                command=name,
                position=position,
                origin=modifier.origin,
            )
        budget.values += len(text)
        value = _decode(text, name=name, position=position, origin=modifier.origin)
        commands.append(Command(name, value, position, modifier.origin))
    return tuple(commands)


def render_commands(commands: Iterable[Command]) -> str:
    """Render commands as modifier text that parses back to the same names and values.

    >>> render_commands([Command("wid", "400"), Command("text", "a&b c"), Command("op_invert", "")])
    'wid=400&text=a%26b%20c&op_invert'
    """
    return "&".join(
        c.name if c.value == "" else f"{c.name}={quote(c.value, safe=_SAFE)}" for c in commands
    )
