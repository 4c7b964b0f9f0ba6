"""The dict (JSON) form of log records: timestamps in UTC, and reading a record back by field path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import attrs
from attrs import AttrsInstance

from ._values import unknown_fields
from .exceptions import FieldProblem, InvalidValueError, JobLogFormatError

__all__ = ["aware", "read_list", "read_record", "to_utc", "utc_now"]

_T = TypeVar("_T", bound=AttrsInstance)


def utc_now() -> dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def to_utc(value: dt.datetime) -> dt.datetime:
    """Convert a timestamp to UTC; leave anything else for ``aware`` to refuse."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        if value.tzinfo is dt.timezone.utc:
            return value  # already: the same object, not a copy
        return value.astimezone(dt.timezone.utc)
    return value


def aware(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    """Validate a timezone-aware datetime (a naive one's time zone is unknown)."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise InvalidValueError(attr.name, value, "must be a timezone-aware datetime")


def read_list(path: str, value: object) -> Sequence[Any]:
    """Return *value* if it is a list (not a string); else raise ``JobLogFormatError`` on *path*."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise JobLogFormatError([FieldProblem(path, value, "must be a list")])
    return value


def read_record(cls: type[_T], raw: object, path: str) -> _T:
    """Build *cls* from *raw*, its ``to_dict`` form found at *path* in the dict being read.

    Timestamps (the fields validated by ``aware``) are read from ISO 8601 strings. Every problem
    names its field by its path from the root (``jobLog.details[2].severity``).

    Raises:
        JobLogFormatError: *raw* is not a mapping, has unknown or missing fields, or a bad value.
    """
    if not isinstance(raw, Mapping):
        raise JobLogFormatError([FieldProblem(path, raw, "must be a mapping")])
    fields = attrs.fields_dict(cls)
    problems = unknown_fields(raw, tuple(fields), path=f"{path}.")
    problems.extend(
        FieldProblem(f"{path}.{name}", None, "is required")
        for name, a in fields.items()
        if a.default is attrs.NOTHING and name not in raw
    )
    kwargs = {k: v for k, v in raw.items() if k in fields}
    for name, a in fields.items():
        value = kwargs.get(name)
        if a.validator is aware and isinstance(value, str):
            try:
                kwargs[name] = dt.datetime.fromisoformat(value)
            except ValueError:
                problems.append(
                    FieldProblem(f"{path}.{name}", value, "must be an ISO 8601 timestamp")
                )
    if problems:
        raise JobLogFormatError(problems)
    try:
        return cls(**kwargs)
    except InvalidValueError as exc:
        raise JobLogFormatError(
            [FieldProblem(f"{path}.{exc.field}", exc.value, exc.reason)]
        ) from exc
