"""Command macros: named modifier text, expanded in place where ``$name$`` is a whole modifier.

A definition is bound when it is defined: it may invoke only macros defined before it (spec
section 3), so forward references and recursion are impossible, and redefining a macro later does
not change the macros that already invoked it. Definitions come from code (a mapping, in order) or
from the Image Serving catalog data-file format::

    Name<TAB>Definition
    thumb<TAB>wid=120&hei=120&fmt=png
    view<TAB>$thumb$&wid=480

A definition's full expansion is bounded like a request's (``MAX_EXPANDED_MODIFIERS`` and
``MAX_EXPANDED_CHARS`` in ``_syntax``), checked while it is expanded. Each definition is expanded
once, when it is defined, so one load does work in proportion to the sum of its definitions'
expansions: that sum is bounded too (``MAX_LOAD_MODIFIERS``, ``MAX_LOAD_CHARS``), so a small file of
definitions that each invoke the largest one before it cannot take seconds to load.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping

import attrs

from ..exceptions import MacroDefinitionError, ModifierError, UnknownMacroError
from ._syntax import (
    INVOCATION,
    NAME,
    ExpansionBudget,
    RawModifier,
    build_commands,
    expand,
    split_modifiers,
)

__all__ = ["MAX_LOAD_CHARS", "MAX_LOAD_MODIFIERS", "MacroLibrary", "check_library"]

MAX_LOAD_MODIFIERS = 200_000
"""The most modifiers the definitions of one load (a file, a mapping) may expand to in all."""
MAX_LOAD_CHARS = 8 * 1024 * 1024
"""The most characters the definitions of one load may expand to in all."""

_BOM = b"\xef\xbb\xbf"
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')
_PLAIN = re.compile(r"[^\t\r\n]*")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_COLUMN = re.compile(r"\.?[A-Za-z0-9_\-]+")


@attrs.frozen
class _Macro:
    name: str
    definition: str
    expansion: tuple[RawModifier, ...]
    line: int | None


class _LoadBudget:
    """What the definitions of one load have expanded to so far, against the load caps."""

    __slots__ = ("chars", "modifiers")

    def __init__(self) -> None:
        self.modifiers = 0
        self.chars = 0

    def add(self, spent: ExpansionBudget, *, name: str, line: int | None) -> None:
        self.modifiers += spent.modifiers
        self.chars += spent.chars
        if self.modifiers > MAX_LOAD_MODIFIERS or self.chars > MAX_LOAD_CHARS:
            raise MacroDefinitionError(
                f"{_at(line)}macro ${name}$ passes the load budget: the definitions so far expand "
                f"to more than {MAX_LOAD_MODIFIERS} modifiers or {MAX_LOAD_CHARS} characters in "
                "all (each invocation of a macro copies its whole expansion)",
                macro=name,
                line=line,
            )


def _at(line: int | None) -> str:
    return "" if line is None else f"line {line}: "


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, fields)`` per non-blank record: TAB-separated, CR/LF/CRLF, quoted fields."""
    i, line, end = 0, 1, len(text)
    while i < end:
        start, fields = line, []
        while True:
            if text.startswith('"', i):
                quoted = _QUOTED.match(text, i)
                if quoted is None:
                    raise MacroDefinitionError(f"{_at(line)}unterminated quoted field", line=line)
                fields.append(quoted.group(1).replace('""', '"'))
                line += len(_NEWLINE.findall(quoted.group(0)))
                i = quoted.end()
            else:
                plain = _PLAIN.match(text, i)
                assert plain is not None  # noqa: S101 - the pattern matches the empty string
                fields.append(plain.group(0))
                i = plain.end()
            if i < end and text[i] == "\t":
                i += 1
                continue
            if i < end and text[i] not in "\r\n":
                raise MacroDefinitionError(
                    f"{_at(line)}unexpected {text[i]!r} after a quoted field", line=line
                )
            i += 2 if text.startswith("\r\n", i) else 1
            line += 1
            break
        if any(fields):
            yield start, fields


_NOT_A_TAB = re.compile(r"[ ,;]")
_TAB_HINT = "columns are TAB-separated, and this line has spaces or commas where a TAB belongs"


def _columns(header: list[str], line: int) -> tuple[int, int, list[str]]:
    """Return the Name and Definition column indexes and the warnings about other columns.

    Trailing empty columns (the TABs a spreadsheet leaves at the end of a row) are none.
    """
    width = len(header)
    while width > 1 and header[width - 1] == "":
        width -= 1
    header = header[:width]  # one copy: cutting one column at a time was quadratic in TABs
    if len(header) == 1 and _NOT_A_TAB.search(header[0]):
        raise MacroDefinitionError(
            f"{_at(line)}the header is one column {header[0]!r}: {_TAB_HINT}", line=line
        )
    folded = [name.lower() for name in header]
    for name in header:
        if _COLUMN.fullmatch(name) is None:
            raise MacroDefinitionError(f"{_at(line)}invalid column name {name!r}", line=line)
    if len(set(folded)) != len(folded):
        raise MacroDefinitionError(f"{_at(line)}column names must be unique", line=line)
    if "name" not in folded or "definition" not in folded:
        raise MacroDefinitionError(
            f"{_at(line)}the header must name the columns Name and Definition", line=line
        )
    warnings = [
        f"{_at(line)}unknown column {name!r} is ignored"
        for name in header
        if name.lower() not in {"name", "definition"} and not name.startswith(".")
    ]
    return folded.index("name"), folded.index("definition"), warnings


class MacroLibrary:
    """Named command macros, built in code or loaded from Image Serving macro definition text.

    Names are ASCII letters, digits, ``-``, ``_`` and ``.``, matched case-insensitively. The
    library does not change once built; ``with_macro`` returns a new one.

    Args:
        definitions: ``{name: definition}`` in order; each may invoke only the macros before it.
        base: a library whose macros come first and may be invoked (the default catalog's).

    Raises:
        MacroDefinitionError: a bad name, a definition that is not modifier text, one that
            invokes a macro not defined before it, or one that expands to more than
            ``MAX_EXPANDED_MODIFIERS`` modifiers or ``MAX_EXPANDED_CHARS`` characters.
        TypeError: *definitions* is not a mapping of ``str`` to ``str``, or *base* is not a
            ``MacroLibrary``.

    >>> lib = MacroLibrary({"thumb": "wid=120&fmt=png", "view": "$thumb$&wid=480"})
    >>> lib
    <MacroLibrary with 2 macro(s): thumb, view>
    >>> "VIEW" in lib, lib.definition("view")
    (True, '$thumb$&wid=480')
    """

    __slots__ = ("_macros", "_warnings")

    def __init__(
        self, definitions: Mapping[str, str] | None = None, *, base: MacroLibrary | None = None
    ) -> None:
        if definitions is not None and not isinstance(definitions, Mapping):
            raise TypeError(
                "MacroLibrary: definitions must be a mapping of names to definitions (or None), "
                f"not {type(definitions).__name__}"
            )
        if base is not None and not isinstance(base, MacroLibrary):
            raise TypeError(
                f"MacroLibrary: base must be a MacroLibrary or None, not {type(base).__name__}"
            )
        self._macros: dict[str, _Macro] = {} if base is None else dict(base._macros)  # noqa: SLF001
        self._warnings: list[str] = [] if base is None else list(base._warnings)  # noqa: SLF001
        seen: dict[str, int | None] = {}
        load = _LoadBudget()
        for name, definition in (definitions or {}).items():
            self._define(name, definition, None, seen, load)

    @classmethod
    def from_text(cls, text: str | bytes, *, base: MacroLibrary | None = None) -> MacroLibrary:
        r"""Load a macro definition file's content (tab-separated, a ``Name``/``Definition`` header).

        Bytes starting with a UTF-8 BOM are UTF-8, other bytes ISO-8859-1. Columns named with a
        leading ``.`` are ignored; other unknown columns are ignored with a warning. A name defined
        twice: the later definition wins, with a warning. See ``docs/language.md``.

        Raises:
            MacroDefinitionError: bad file syntax or a bad definition; ``line`` says where.
            TypeError: *text* is neither ``str`` nor ``bytes``.

        >>> lib = MacroLibrary.from_text("Name\tDefinition\r\nsmall\twid=100\r\n")
        >>> lib.names
        ('small',)
        """
        if not isinstance(text, str | bytes):
            raise TypeError(
                f"MacroLibrary.from_text: text must be a str or bytes, not {type(text).__name__}"
            )
        if isinstance(text, bytes):
            if text.startswith(_BOM):
                try:
                    text = text[len(_BOM) :].decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise MacroDefinitionError(
                        f"a file with a UTF-8 BOM is not UTF-8: {exc}"
                    ) from None
            else:
                text = text.decode("iso-8859-1")
        library = cls(base=base)
        records = _records(text.removeprefix("\ufeff"))
        header = next(records, None)
        if header is None:
            raise MacroDefinitionError("the macro file is empty: it needs a Name/Definition header")
        name_at, definition_at, warnings = _columns(header[1], header[0])
        library._warnings.extend(warnings)
        seen: dict[str, int | None] = {}
        load = _LoadBudget()
        for line, fields in records:
            if len(fields) > len(header[1]):
                raise MacroDefinitionError(
                    f"{_at(line)}{len(fields)} fields, but the header names {len(header[1])}",
                    line=line,
                )
            if len(fields) < len(header[1]) and _NOT_A_TAB.search(fields[0]):
                raise MacroDefinitionError(
                    f"{_at(line)}{len(fields)} field(s), but the header names "
                    f"{len(header[1])}: {_TAB_HINT}",
                    line=line,
                )
            # Padded to the columns read, not the header's trailing TABs: a row per header TAB
            # made a file of many short rows after a long header quadratic to load.
            if len(fields) <= max(name_at, definition_at):
                fields.extend([""] * (max(name_at, definition_at) + 1 - len(fields)))
            library._define(fields[name_at], fields[definition_at], line, seen, load)
        return library

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, base: MacroLibrary | None = None
    ) -> MacroLibrary:
        """Load a macro definition file (see ``from_text``); ``OSError`` if it cannot be read.

        Errors name the file and the line: ``macros.tsv, line 3: ...``; a missing file raises
        ``FileNotFoundError("macro file macros.tsv not found")``.
        """
        try:
            with open(path, "rb") as file:  # noqa: PTH123 - a plain read of a host-given path
                data = file.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"macro file {os.fspath(path)} not found") from None
        except OSError as exc:
            raise OSError(
                f"cannot read macro file {os.fspath(path)}: {exc.strerror or exc}"
            ) from exc
        try:
            return cls.from_text(data, base=base)
        except MacroDefinitionError as exc:
            where = ", " if exc.line is not None else ": "
            raise MacroDefinitionError(
                f"macro file {os.fspath(path)}{where}{exc.message}", macro=exc.macro, line=exc.line
            ) from None

    def with_macro(self, name: str, definition: str) -> MacroLibrary:
        """Return a new library with macro *name* (re)defined; it may invoke this library's macros.

        >>> MacroLibrary().with_macro("small", "wid=100").names
        ('small',)
        """
        library = MacroLibrary(base=self)
        library._define(name, definition, None, {}, _LoadBudget())
        return library

    def _define(
        self,
        name: str,
        definition: str,
        line: int | None,
        seen: dict[str, int | None],
        load: _LoadBudget,
    ) -> None:
        where = _at(line)
        if not isinstance(name, str):
            raise TypeError(f"MacroLibrary: a macro name must be a str, not {type(name).__name__}")
        if not isinstance(definition, str):
            raise TypeError(
                f"MacroLibrary: the definition of macro {name!r} must be a str, "
                f"not {type(definition).__name__}"
            )
        if NAME.fullmatch(name) is None:
            raise MacroDefinitionError(
                f"{where}invalid macro name {name!r}: use ASCII letters, digits, '-', '_' and '.'",
                macro=name,
                line=line,
            )
        key = name.lower()
        for part in split_modifiers(definition):
            call = INVOCATION.fullmatch(part)
            if call is not None and call.group(1).lower() == key:
                raise MacroDefinitionError(
                    f"{where}macro ${name}$ invokes itself", macro=name, line=line
                )
        budget = ExpansionBudget()
        try:
            expansion = expand(definition, self, origin=f"macro ${name}$", budget=budget)
            build_commands(expansion, budget)
        except UnknownMacroError as exc:
            raise MacroDefinitionError(
                f"{where}macro ${name}$ invokes ${exc.macro}$, which is not defined before it",
                macro=name,
                line=line,
            ) from None
        except ModifierError as exc:
            problem = "is too large" if budget.exceeded else "is not valid modifier text"
            raise MacroDefinitionError(
                f"{where}macro ${name}$ {problem}: {exc.message}",
                macro=name,
                line=line,
            ) from None
        if not expansion:
            raise MacroDefinitionError(
                f"{where}macro ${name}$ defines no commands", macro=name, line=line
            )
        load.add(budget, name=name, line=line)
        if key in seen:
            first = "" if seen[key] is None else f" (first on line {seen[key]})"
            self._warnings.append(
                f"{where}macro ${name}$ is defined again{first}; the later one wins"
            )
        seen[key] = line
        self._macros[key] = _Macro(name, definition, expansion, line)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._macros

    def __len__(self) -> int:
        return len(self._macros)

    def __repr__(self) -> str:
        names = list(self.names)
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        return f"<MacroLibrary with {len(names)} macro(s){': ' + shown if names else ''}>"

    @property
    def names(self) -> tuple[str, ...]:
        """The macro names, as defined, in definition order."""
        return tuple(m.name for m in self._macros.values())

    @property
    def warnings(self) -> tuple[str, ...]:
        """What loading noticed and let pass: unknown columns, names defined twice."""
        return tuple(self._warnings)

    def _get(self, name: str) -> _Macro:
        try:
            return self._macros[name.lower()]
        except KeyError:
            raise UnknownMacroError(f"unknown macro ${name}$", macro=name) from None

    def definition(self, name: str) -> str:
        """Return the definition text of macro *name*; ``UnknownMacroError`` if it is not defined."""
        return self._get(name).definition

    def expansion(self, name: str) -> tuple[RawModifier, ...]:
        """Return the raw modifiers macro *name* stands for, nested invocations expanded."""
        return self._get(name).expansion


def check_library(function: str, macros: object) -> None:
    """Raise ``TypeError`` unless *macros* is a ``MacroLibrary`` or None."""
    if macros is not None and not isinstance(macros, MacroLibrary):
        raise TypeError(
            f"{function}: macros must be a MacroLibrary or None, not {type(macros).__name__}"
        )
