"""The command table: which commands exist, which are refused, and their validation (stub)."""

from __future__ import annotations

import attrs

from ._macros import MacroLibrary
from ._options import ConversionSettings, RenderOptions
from ._syntax import Command

__all__ = ["ResolvedRequest", "resolve_request"]


@attrs.frozen
class ResolvedRequest:
    """A validated request: effective commands (last occurrence wins), typed options, warnings."""

    commands: tuple[Command, ...]
    options: RenderOptions
    warnings: tuple[str, ...] = ()


def resolve_request(
    is_modifier: str | None,
    macro: str | None,
    *,
    macros: MacroLibrary | None = None,
    settings: ConversionSettings | None = None,
) -> ResolvedRequest:
    """Resolve ``is_modifier`` followed by the ``macro`` invocation into a validated request."""
    raise NotImplementedError
