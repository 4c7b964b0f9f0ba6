"""Asset handles and what a store knows of an asset.

Both raise ``InvalidValueError`` naming the attribute (``handle``, ``type``, ``company``, ...).
"""

from __future__ import annotations

from typing import Any

import attrs

from ._enums import AssetType
from ._values import clean_text, name_text, optional_count, optional_string, text

__all__ = ["Asset", "AssetHandle", "to_handle"]


def _handle_text(_inst: object, _attr: attrs.Attribute[Any], value: object) -> None:
    text("handle", value)


@attrs.frozen(order=True, hash=False)
class AssetHandle:
    """An opaque IPS asset handle: a non-empty string without control characters.

    >>> AssetHandle("a|1801|44|1801")
    AssetHandle('a|1801|44|1801')

    Raises:
        InvalidValueError: on the field ``handle``, for anything else.
    """

    value: str = attrs.field(validator=_handle_text)

    @classmethod
    def of(cls, value: str | AssetHandle) -> AssetHandle:
        """Return *value* as a handle, building one from a string."""
        return value if isinstance(value, AssetHandle) else cls(value)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"AssetHandle({self.value!r})"

    def __hash__(self) -> int:
        # The string's own (cached) hash: a job looks its handles up several times per asset.
        return hash(self.value)


def to_handle(value: str | AssetHandle) -> AssetHandle:
    """Convert a ``handle`` field: a string or a handle becomes a handle."""
    return AssetHandle.of(value)


def _to_type(value: str | AssetType) -> AssetType:
    return AssetType.parse(value, field="type")


@attrs.frozen(kw_only=True)
class Asset:
    """What a store knows of one asset: handle, type, names, owning company and size.

    >>> a = Asset(handle="h1", type="image", name="Leaves", file_name="Leaves.jpg", company="acme")
    >>> a.type, a.type.is_set
    (<AssetType.IMAGE: 'Image'>, False)

    Names are user data: any non-blank string (output names are made safe when planned).

    Raises:
        InvalidValueError: naming the first bad attribute.
    """

    handle: AssetHandle = attrs.field(converter=to_handle)
    type: AssetType = attrs.field(converter=_to_type)
    name: str = attrs.field(validator=name_text)
    file_name: str = attrs.field(validator=name_text)
    company: str = attrs.field(validator=clean_text)
    size: int | None = attrs.field(default=None, validator=optional_count)
    sub_type: str | None = attrs.field(default=None, validator=optional_string)
