"""Asset handles and what a store knows of an asset.

Both raise ``InvalidValueError`` naming the attribute (``handle``, ``type``, ``company``, ...).
"""

from __future__ import annotations

from typing import Any

import attrs

from ._as_is import as_is
from ._enums import AssetType
from ._values import (
    clean_text,
    name_text,
    optional_count,
    optional_string,
    plain_clean,
    plain_name,
    text,
)

__all__ = ["Asset", "AssetHandle", "asset_of", "to_handle"]


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


_asset_as_is = as_is(Asset)


def asset_of(
    handle: AssetHandle,
    kind: AssetType,
    *,
    name: str,
    file_name: str,
    company: str,
    size: int | None = None,
) -> Asset:
    """``Asset(handle=..., type=kind, ...)`` of a store's values, built at once when they are plain.

    Plain: of the exact types the checks accept unchanged, each valid (``plain_name``,
    ``plain_clean``, a size that is None or a non-negative ``int``): a store describes every asset
    of a job. Anything else goes through the checks, which say what is wrong.
    """
    if (
        type(handle) is AssetHandle
        and type(kind) is AssetType
        and plain_name(name)
        and plain_name(file_name)
        and plain_clean(company)
        and (size is None or (type(size) is int and size >= 0))
    ):
        return _asset_as_is(handle, kind, name, file_name, company, size, None)
    return Asset(
        handle=handle, type=kind, name=name, file_name=file_name, company=company, size=size
    )
