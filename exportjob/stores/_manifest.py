"""The manifest of a source folder: what it says about each handle (type, company, names)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

import attrs

from .._enums import AssetType
from .._values import text_problem
from ..exceptions import StoreReadError

__all__ = ["MANIFEST_NAME", "ManifestEntry", "manifest_digest", "read_manifest"]

#: The manifest file ``DirectoryStore`` reads from its source folder when none is given.
MANIFEST_NAME = "exportjob.json"


def _optional_type(value: str | AssetType | None) -> AssetType | None:
    return None if value is None else AssetType.parse(value)


@attrs.frozen(kw_only=True)
class ManifestEntry:
    """What a manifest says about one handle: any of type, company, name and file name."""

    type: AssetType | None = attrs.field(default=None, converter=_optional_type)
    company: str | None = None
    name: str | None = None
    file_name: str | None = None


_ENTRY_KEYS = frozenset({"type", "company", "name", "file_name"})


def read_manifest(
    source: Mapping[str, Any] | str | os.PathLike[str], *, where: str = "<mapping>"
) -> dict[str, ManifestEntry]:
    """Read the manifest *source* (a mapping, or a JSON file); *where* names a mapping in errors."""
    if isinstance(source, Mapping):
        raw: Any = source
    else:
        where = os.fspath(source)
        try:
            with open(source, encoding="utf-8") as f:  # noqa: PTH123 - plain open is clearest
                raw = json.load(f)
        except OSError as exc:
            raise StoreReadError(f"cannot read the manifest {where}: {exc}") from exc
        except ValueError as exc:
            raise StoreReadError(f"the manifest {where} is not valid JSON: {exc}") from exc

    def bad(problem: str) -> StoreReadError:
        return StoreReadError(f"invalid manifest {where}: {problem}")

    if not isinstance(raw, Mapping) or set(raw) - {"assets"}:
        raise bad('expected an object with one key, "assets"')
    assets = raw.get("assets", {})
    if not isinstance(assets, Mapping):
        raise bad('"assets" must map handles to objects')
    entries: dict[str, ManifestEntry] = {}
    for handle, spec in assets.items():
        if not isinstance(handle, str) or not handle.strip():
            raise bad(f"handle {handle!r} must be a non-empty string")
        problem = text_problem(handle)
        if problem is not None:  # a handle a job could never name
            raise bad(f"handle {handle!r} {problem}")
        if not isinstance(spec, Mapping) or set(spec) - _ENTRY_KEYS:
            raise bad(f"{handle!r}: expected an object with keys among {sorted(_ENTRY_KEYS)}")
        for key, value in spec.items():
            if not isinstance(value, str) or not value.strip():
                raise bad(f"{handle!r}: {key} must be a non-empty string, got {value!r}")
        try:
            entries[handle] = ManifestEntry(**spec)
        except ValueError as exc:
            raise bad(f"{handle!r}: {exc}") from exc
    return entries


def manifest_digest(entries: Mapping[str, ManifestEntry]) -> str:
    """A digest of what *entries* say (not of a file's bytes); empty when they say nothing."""
    if not entries:
        return ""
    said = {
        handle: {
            k: str(v.value if isinstance(v, AssetType) else v)
            for k, v in attrs.asdict(e).items()
            if v is not None
        }
        for handle, e in entries.items()
    }
    text = json.dumps(said, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
