"""Resolving an ExportJob request: ``is_modifier`` then ``macro``, validated into ``RenderOptions``.

The request is the ``is_modifier`` text followed by the macros named in the ``macro`` field, so a
macro's commands override the same commands in ``is_modifier``. After expansion the last
occurrence of each command wins; the winners are validated against the command table
(``_vocabulary``). Refused commands raise wherever they occur, even when overridden.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._formats import format_info, print_res_problem
from .._quoting import quoted
from ..exceptions import ModifierError, RefusedCommandError, UnknownCommandError
from ..options import ConversionSettings, PixelType, RenderOptions
from ._arguments import parse_fmt, resolve_icc
from ._macros import MacroLibrary, check_library
from ._syntax import (
    INVOCATION,
    NAME,
    Command,
    ExpansionBudget,
    RawModifier,
    build_commands,
    check_characters,
    expand,
    invoke,
    split_modifiers,
)
from ._vocabulary import CommandSpec, Kind, lookup, nearest_command

__all__ = [
    "ResolvedRequest",
    "expand_macro_field",
    "parse_request",
    "resolve_commands",
    "resolve_request",
]

_MACRO_FIELD = "macro"
_LONGEST_SHOWN = 200  # characters of a command name written into a message


@attrs.frozen
class ResolvedRequest:
    """A validated request: effective commands (last occurrence wins), typed options, warnings.

    ``commands`` holds the winning occurrence of each accepted command, in request order (dropped
    unknown commands are not in it); ``warnings`` says what was accepted but dropped.

    >>> macros = MacroLibrary({"test": "fmt=tif"})
    >>> resolve_request("&fmt=png", "$test$", macros=macros).options.format.name
    'tif'
    """

    commands: tuple[Command, ...]
    options: RenderOptions
    warnings: tuple[str, ...] = ()


def expand_macro_field(
    text: str, macros: MacroLibrary | None, budget: ExpansionBudget | None = None
) -> tuple[RawModifier, ...]:
    """Expand the ExportJob ``macro`` field: ``$name$`` or a bare ``name``, several joined by ``&``.

    *budget* is shared with the request's ``is_modifier`` expansion (a fresh one by default).

    Raises:
        ModifierError: the field holds anything but macro invocations (put commands in
            ``is_modifier``), or whitespace, or the expansion passes a cap.
        UnknownMacroError: a named macro is not defined.
    """
    if budget is None:
        budget = ExpansionBudget()
    check_characters(text, origin=_MACRO_FIELD)
    out: list[RawModifier] = []
    for part in split_modifiers(text):
        call = INVOCATION.fullmatch(part)
        name = call.group(1) if call is not None else part
        if NAME.fullmatch(name) is None:
            raise ModifierError(
                f"the macro field takes macro invocations ($name$ or name, joined by '&'), "
                f"not {part!r}: put commands in is_modifier",
                value=part,
                origin=_MACRO_FIELD,
            )
        origin = f"the {_MACRO_FIELD} field"
        expansion = invoke(name, macros, origin=origin)
        budget.take(expansion, origin=origin)
        out.extend(expansion)
    return tuple(out)


def _located(error: ModifierError, command: Command) -> ModifierError:
    return type(error)(
        error.message,
        command=command.name,
        value=command.value,
        position=command.position,
        origin=command.origin,
    )


def _where(command: Command) -> str:
    return f"position {command.position}, in {command.origin}"


def _refuse(spec: CommandSpec, command: Command) -> None:
    if spec.kind is Kind.REFUSED and not spec.allows(command.value):
        raise RefusedCommandError(
            f"{spec.name}={command.value} is refused ({spec.note}): "
            "an export never reads another image or resource",
            command=command.name,
            value=command.value,
            position=command.position,
            origin=command.origin,
        )


def _unknown(command: Command, spec: CommandSpec | None, settings: ConversionSettings) -> str:
    what = (
        "is not an Image Serving command"
        if spec is None
        else "is an Image Serving command exportjob does not implement"
        + (f" ({spec.note})" if spec.note else "")
    )
    hint = nearest_command(command.name) if spec is None else ""
    name = command.name if len(command.name) <= _LONGEST_SHOWN else quoted(command.name)
    if settings.unknown_commands == "error":
        raise UnknownCommandError(
            f"{name} {what}{hint}",
            command=command.name,
            value=command.value,
            position=command.position,
            origin=command.origin,
        )
    return f"{name}={command.value} ({_where(command)}) {what}: dropped{hint}"


def _cross_checks(winners: dict[str, Command]) -> list[str]:
    warnings: list[str] = []
    fit = winners.get("fit")
    if fit is not None and "wid" not in winners and "hei" not in winners:
        raise _located(ModifierError("fit= needs wid= and/or hei="), fit)
    if fit is not None and "scl" in winners:
        warnings.append(f"fit={fit.value} ({_where(fit)}) is ignored: scl= is given")
    for first, second in (("crop", "cropN"), ("op_usm", "op_usmR"), ("extend", "extendN")):
        if first in winners and second in winners:
            early, late = sorted((winners[first], winners[second]), key=lambda c: c.position)
            warnings.append(
                f"{late.name} ({_where(late)}) overrides {early.name} ({_where(early)}): "
                "they set the same option"
            )
    return warnings


def _format_warnings(
    by_name: dict[str, Command], spelled: PixelType, options: RenderOptions
) -> list[str]:
    """What ``fmt`` asked for that is written otherwise (*spelled*: ``fmt``'s own pixel type).

    A pixel type ``icc=`` replaced, and a PDF's compression left to a default Pillow cannot write.
    """
    fmt = by_name.get("fmt")
    if fmt is None:
        return []
    warnings = []
    _, pixel, compression = [*fmt.value.split(","), "", ""][:3]  # format,pixelType,compression
    icc = by_name.get("icc")
    if icc is not None and pixel.strip() and spelled is not options.format.pixel_type:
        warnings.append(
            f"fmt={fmt.value} ({_where(fmt)}): its pixel type {spelled.value} is ignored, "
            f"icc={icc.value} decides it ({options.format.pixel_type.value})"
        )
    if options.format.name == "pdf" and not compression.strip():
        warnings.append(
            f"fmt={fmt.value} ({_where(fmt)}) is written JPEG-compressed: "
            "Image Serving's default for a PDF is none, which Pillow's PDF writer cannot write "
            "(fmt=pdf,,jpeg asks for what is written)"
        )
    return warnings


def resolve_commands(
    commands: tuple[Command, ...], settings: ConversionSettings | None = None
) -> ResolvedRequest:
    """Validate parsed *commands* (all occurrences, in order) into a ``ResolvedRequest``.

    Raises:
        RefusedCommandError: a command that reads another image or resource, wherever it occurs.
        UnknownCommandError: an unknown or unimplemented command (unless the settings say warn).
        UnsupportedFormatError: an output format or palette this installation cannot write.
        ModifierError: a malformed or out-of-range value; ``command``, ``value``, ``position``
            and ``origin`` say which.
    """
    settings = settings or ConversionSettings()
    winners: dict[str, Command] = {}
    for command in commands:
        spec = lookup(command.name)
        if spec is not None:
            _refuse(spec, command)
        winners[command.name] = command
    kept: list[Command] = []
    warnings: list[str] = []
    changes: dict[str, Any] = {}
    for command in sorted(winners.values(), key=lambda c: c.position):
        spec = lookup(command.name)
        if spec is None or spec.kind is Kind.UNSUPPORTED:
            warnings.append(_unknown(command, spec, settings))
            continue
        try:
            if command.name == "fmt" and "icc" in winners:  # the profile decides the pixel type
                changes["format"] = parse_fmt(command.value, icc=True)
            elif spec.parse is not None and spec.field is not None:
                changes[spec.field] = spec.parse(command.value)
            elif spec.check is not None:
                reason = spec.check(command.value)
                if reason is not None:
                    warnings.append(
                        f"{command.name}={command.value} ({_where(command)}) is ignored: {reason}"
                    )
        except ModifierError as exc:
            raise _located(exc, command) from None
        kept.append(command)
    by_name = {c.name: c for c in kept}
    warnings.extend(_cross_checks(by_name))
    if "extend" in by_name and "extendN" in by_name:
        # They set different fields: the later one wins, as for commands setting one field.
        early = min(by_name["extend"], by_name["extendN"], key=lambda c: c.position)
        changes.pop(lookup(early.name).field or "", None)  # type: ignore[union-attr]
    options = RenderOptions(
        bgc=settings.bkg_color,
        qlt=settings.jpeg_quality,
        res_mode=settings.res_mode,
        default_pix=settings.default_pix,
        max_pix=settings.max_pix,
        keep_metadata=settings.keep_metadata,
        source_profiles=_source_profiles(settings),
    )
    options = attrs.evolve(options, **changes)
    spelled = options.format.pixel_type
    try:
        options = resolve_icc(options, settings)
    except ModifierError as exc:
        icc = by_name.get("icc") or by_name.get("fmt")
        raise (exc if icc is None else _located(exc, icc)) from None
    warnings.extend(_format_warnings(by_name, spelled, options))
    info = format_info(options.format.name)
    problem = None if info is None else print_res_problem(info, options.print_res)
    if problem is not None:  # before any asset: it would fail every one
        raise _located(ModifierError(problem), by_name["printRes"])
    return ResolvedRequest(tuple(kept), options, tuple(warnings))


def _source_profiles(settings: ConversionSettings) -> tuple[tuple[PixelType, bytes], ...]:
    """The settings' default profile per pixel type: what untagged pixels are read in (s8)."""
    named = ((t, settings.default_profile(t)) for t in PixelType)
    return tuple((t, settings.profiles[name]) for t, name in named if name is not None)


def resolve_request(
    is_modifier: str | None,
    macro: str | None,
    *,
    macros: MacroLibrary | None = None,
    settings: ConversionSettings | None = None,
) -> ResolvedRequest:
    """Resolve ``is_modifier`` followed by the ``macro`` invocation into a validated request.

    Args:
        is_modifier: Image Serving modifier text (``&fmt=png&wid=400``); may invoke macros.
        macro: macro invocations only: ``$name$`` (or ``name``), several joined by ``&``.
        macros: the macro library both fields invoke.
        settings: the defaults Image Serving keeps in catalog attributes, and the unknown-command
            policy.

    Raises:
        ModifierError: a malformed request or value (see ``resolve_commands`` for the subclasses),
            or an expanded request larger than ``MAX_EXPANDED_MODIFIERS`` modifiers or
            ``MAX_EXPANDED_CHARS`` characters.
        MacroError: an unknown macro (``UnknownMacroError``).
        TypeError: an argument of the wrong type (a programming error, not a bad request).

    >>> resolve_request("wid=480&$view$", None, macros=MacroLibrary({"view": "wid=240"})).options.wid
    240
    """
    for parameter, text in (("is_modifier", is_modifier), ("macro", macro)):
        if text is not None and not isinstance(text, str):
            raise TypeError(
                f"resolve_request: {parameter} must be a str or None, not {type(text).__name__}"
            )
    check_library("resolve_request", macros)
    if settings is not None and not isinstance(settings, ConversionSettings):
        raise TypeError(
            "resolve_request: settings must be a ConversionSettings or None, "
            f"not {type(settings).__name__}"
        )
    budget = ExpansionBudget()
    modifiers = (
        *expand(is_modifier or "", macros, origin="is_modifier", budget=budget),
        *expand_macro_field(macro or "", macros, budget),
    )
    return resolve_commands(build_commands(modifiers, budget), settings)


def parse_request(
    text: str, macros: MacroLibrary | None = None, *, origin: str = "request"
) -> tuple[Command, ...]:
    """Parse an Image Serving modifier string into its commands, in request order.

    Every occurrence is returned (the last one of a name wins later, when the request is
    resolved). Comments and variable definitions are not commands and are not returned.

    Args:
        text: the query text, optionally starting with ``?`` or ``&``.
        macros: the library ``$name$`` invocations are expanded from.
        origin: recorded on the commands written in *text* (a macro's carry ``macro $name$``).

    Raises:
        ModifierError: malformed syntax, whitespace or a control character, or an expansion
            larger than ``MAX_EXPANDED_MODIFIERS`` or ``MAX_EXPANDED_CHARS``.
        UnknownMacroError: an invoked macro is not defined.
        TypeError: *text* is not a ``str`` or *macros* not a ``MacroLibrary`` (or None).

    >>> [(c.name, c.value) for c in parse_request("?$w=400&wid=$w$&.note&bgc=ff0000&qlt=80%2C1")]
    [('wid', '400'), ('bgc', 'ff0000'), ('qlt', '80,1')]
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_request: text must be a str, not {type(text).__name__}")
    check_library("parse_request", macros)
    budget = ExpansionBudget()
    return build_commands(expand(text, macros, origin=origin, budget=budget), budget)
