"""Plug-ins checked where they are passed: an object that is no store or converter is refused there.

The protocols are not ``runtime_checkable`` (nothing needs ``isinstance`` on them), so a plug-in is
checked by hand, for the methods its protocol names: a string passed as the converter fails the
constructor with a ``TypeError`` saying what was needed, not every asset with ``AttributeError``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .protocols import AssetStore, Converter, Notifier

__all__ = ["check_plugin"]

_SHOWN = 60  # characters of a value's repr a message shows
#: A plug-in that would do, for each protocol: the message says what to pass.
_EXAMPLES: dict[type, str] = {
    AssetStore: "such as exportjob.stores.DirectoryStore(source, output)",
    Converter: "such as exportjob.converters.PillowConverter(), the default",
    Notifier: "such as exportjob.notifiers.LoggingNotifier()",
}


def methods_of(protocol: type) -> tuple[str, ...]:
    """The public methods *protocol* declares, in the order it declares them."""
    return tuple(
        name for name, value in vars(protocol).items() if callable(value) and name[0] != "_"
    )


def check_plugin(
    argument: str,
    value: object,
    protocol: type,
    *,
    methods: Sequence[str] | None = None,
    optional: bool = False,
) -> None:
    """Raise ``TypeError`` unless *value* has a callable for each method of *protocol*.

    Args:
        argument: the parameter *value* was passed as, for the message.
        value: the plug-in.
        protocol: the protocol *value* must satisfy.
        methods: the methods needed, when only some of the protocol's are used.
        optional: None is accepted (the parameter's default).
    """
    if value is None and optional:
        return
    needed = tuple(methods) if methods is not None else methods_of(protocol)
    missing = [name for name in needed if not callable(getattr(value, name, None))]
    if not missing:
        return
    shown = repr(value)
    if len(shown) > _SHOWN:
        shown = f"{shown[: _SHOWN - 3]}..."
    got = "None" if value is None else f"{shown} (a {type(value).__name__})"
    example = _EXAMPLES.get(protocol)
    msg = (
        f"{argument} must be {_article(protocol.__name__)} {protocol.__name__}: an object with "
        f"the method{'s' if len(needed) > 1 else ''} {_listed(needed)}"
        f"{f' ({example})' if example else ''}; got {got}, without {_listed(missing, 'or')}"
    )
    raise TypeError(msg)


def _article(noun: str) -> str:
    return "an" if noun[0].lower() in "aeiou" else "a"


def _listed(names: Sequence[str], joint: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {joint} {names[-1]}"
