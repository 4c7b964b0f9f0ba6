"""The field checks every value type shares, each raising ``InvalidValueError`` naming its field.

The job and its context collect the same checks into one ``InvalidJobError`` with ``Problems``;
the other value types use the attrs validators here, which raise at the first bad field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, TypeGuard, TypeVar

import attrs

from .exceptions import FieldProblem, InvalidJobError, InvalidValueError

__all__ = [
    "Problems",
    "clean_text",
    "count",
    "instance_of",
    "name_text",
    "optional_count",
    "optional_string",
    "plain_clean",
    "plain_name",
    "read_wire",
    "string",
    "text",
    "text_problem",
    "unknown_fields",
]

_T = TypeVar("_T")
_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def text_problem(value: object, *, allow_control: bool = False) -> str | None:
    """Say why *value* is not a non-blank string without control characters; ``None`` if it is."""
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not value.strip():
        return "must not be empty or only whitespace"
    if not allow_control and _CONTROL.search(value):
        return "must not contain control characters"
    return None


def text(field: str, value: object) -> str:
    """Return *value* if it is a non-blank string without control characters, else raise."""
    problem = text_problem(value)
    if problem is not None:
        raise InvalidValueError(field, value, problem)
    return str(value)


def _count_problem(value: object) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return "must be a non-negative int"
    return None


def _check(attr: attrs.Attribute[Any], value: object, problem: str | None) -> None:
    if problem is not None:
        raise InvalidValueError(attr.name, value, problem)


def plain_name(value: object) -> TypeGuard[str]:
    """Whether *value* is a ``str`` (not a subclass) that ``name_text`` accepts: not blank."""
    # Blank is empty or only whitespace: what ``strip`` removes, which ``isspace`` tells.
    return type(value) is str and bool(value) and not value.isspace()


def plain_clean(value: object) -> TypeGuard[str]:
    """Whether *value* is a ``str`` (not a subclass) that ``clean_text`` accepts."""
    return plain_name(value) and _CONTROL.search(value) is None


def clean_text(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    """Validate a non-blank string without control characters (handles, company names)."""
    if not plain_clean(value):
        _check(attr, value, text_problem(value))


def name_text(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    """Validate a non-blank string: a user's name for something, which may hold anything else."""
    if not plain_name(value):
        _check(attr, value, text_problem(value, allow_control=True))


def string(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    """Validate any string, empty included (messages, codes)."""
    if not isinstance(value, str):
        _check(attr, value, f"must be a string, not {type(value).__name__}")


def optional_string(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    """Validate ``None`` or any string."""
    if value is not None:
        string(inst, attr, value)


def count(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    """Validate a non-negative int (``bool`` is not a count)."""
    _check(attr, value, _count_problem(value))


def optional_count(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    """Validate ``None`` or a non-negative int."""
    if value is not None:
        _check(attr, value, _count_problem(value))


def instance_of(kind: type[Any]) -> _Validator:
    """Return a validator that accepts only instances of *kind*."""

    def validate(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            _check(attr, value, f"must be a {kind.__name__}, not {type(value).__name__}")

    return validate


def unknown_fields(
    raw: Mapping[Any, object], known: Collection[str], *, path: str = ""
) -> list[FieldProblem]:
    """Return one problem per key of *raw* that is not in *known*, non-string keys included.

    String keys come first, sorted; a key that is not a string is named by its ``repr``.
    """
    strange = [k for k in raw if not isinstance(k, str) or k not in known]
    strange.sort(key=lambda k: (not isinstance(k, str), str(k)))
    expected = f"unknown field; expected one of {', '.join(known)}"
    return [
        FieldProblem(
            f"{path}{k}" if isinstance(k, str) else f"{path}{k!r}",
            raw[k],
            expected if isinstance(k, str) else "field names must be strings",
        )
        for k in strange
    ]


class Problems:
    """The problems found while checking several fields, each under the name the caller gives.

    The job and its context check every field with this and raise one ``InvalidJobError``.
    """

    def __init__(self, found: Iterable[FieldProblem] = ()) -> None:
        self.found: list[FieldProblem] = list(found)

    def raise_any(self, subject: str) -> None:
        """Raise ``InvalidJobError`` about *subject* if any problem was found."""
        if self.found:
            raise InvalidJobError(self.found, subject=subject)

    def check(self, field: str, parse: Callable[[str, Any], _T], value: object) -> _T | None:
        """Return ``parse(field, value)``; record its ``InvalidValueError`` and return ``None``."""
        try:
            return parse(field, value)
        except InvalidValueError as exc:
            self.found.append(FieldProblem(field, exc.value, exc.reason))
            return None


def read_wire(
    raw: object, wire: Mapping[str, str], *, root: str, subject: str
) -> tuple[dict[str, Any], Problems]:
    """Map *raw*, keyed by the IPS names in *wire* (attribute -> wire name), to attribute names.

    Absent fields become ``None``; unknown keys are the first problems. *raw* that is not a mapping
    raises ``InvalidJobError`` on the field *root*.
    """
    if not isinstance(raw, Mapping):
        raise InvalidJobError([FieldProblem(root, raw, "must be a mapping")], subject=subject)
    problems = Problems(unknown_fields(raw, tuple(wire.values())))
    return {attr: raw.get(name) for attr, name in wire.items()}, problems
