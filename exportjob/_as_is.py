"""Frozen attrs instances built from values already checked, without checking them again."""

from __future__ import annotations

from typing import Generic, TypeVar

import attrs

__all__ = ["AsIs"]

_A = TypeVar("_A", bound=attrs.AttrsInstance)


class AsIs(Generic[_A]):
    """Build instances of a frozen, slotted attrs class from checked values, set as they are.

    Each field is set through its slot's own descriptor: no validator, no converter, and none of
    ``object.__setattr__``'s lookups by name (a log builds two such objects per asset).
    """

    __slots__ = ("_cls", "_setters")

    def __init__(self, cls: type[_A]) -> None:
        self._cls = cls
        self._setters = tuple(cls.__dict__[f.name].__set__ for f in attrs.fields(cls))

    def __call__(self, values: tuple[object, ...]) -> _A:
        """A new instance whose fields, in their declared order, are *values*."""
        instance: _A = object.__new__(self._cls)
        for set_field, value in zip(self._setters, values, strict=True):
            set_field(instance, value)
        return instance
