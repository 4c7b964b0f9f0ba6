"""Command macros: a case-insensitive table of named command strings (stub; the language work owns it)."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["MacroLibrary"]


class MacroLibrary:
    """Named command macros, built in code or loaded from Image Serving macro definition text."""

    def __init__(self, definitions: Mapping[str, str] | None = None) -> None:
        self._defs = {k.lower(): v for k, v in (definitions or {}).items()}
