"""Frozen attrs instances built from values already checked, without checking them again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import attrs

__all__ = ["as_is"]

_A = TypeVar("_A", bound=attrs.AttrsInstance)


def as_is(cls: type[_A]) -> Callable[..., _A]:
    """A builder of instances of the frozen, slotted attrs class *cls* from checked values.

    It takes the values of every field, positionally, in their declared order, and sets each
    through its slot's own descriptor: no validator, no converter, and none of
    ``object.__setattr__``'s lookups by name. Its code is written out field by field, as attrs
    writes an ``__init__`` (a log builds two such objects per asset).
    """
    names = [f.name for f in attrs.fields(cls)]
    setters = {f"_set_{i}": cls.__dict__[name].__set__ for i, name in enumerate(names)}
    values = ", ".join(f"v{i}" for i in range(len(names)))
    body = "".join(f"    _set_{i}(instance, v{i})\n" for i in range(len(names)))
    source = f"def build({values}):\n    instance = _new(_cls)\n{body}    return instance\n"
    namespace: dict[str, object] = {"_new": object.__new__, "_cls": cls, **setters}
    exec(compile(source, f"<as_is {cls.__qualname__}>", "exec"), namespace)  # noqa: S102 - our own code
    build = namespace["build"]
    assert callable(build)  # noqa: S101 - defined just above
    return build
