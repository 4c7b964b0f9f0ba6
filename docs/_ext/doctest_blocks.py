"""A griffe extension for the API reference: docstring ``>>>`` examples rendered as code.

In Markdown a bare ``>>>`` line starts a block quote, so a doctest would show as run-on quoted text.
This wraps every doctest block (from a ``>>>`` line to the next blank line) in a ``pycon`` fence.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """Wrap each doctest block of *text* in a fenced ``pycon`` code block."""
    out: list[str] = []
    inside = False
    fenced = False
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("```"):
            fenced = not fenced
        if not fenced and not inside and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```pycon")
            inside = True
        elif inside and not stripped:
            out.append(f"{indent}```")
            inside = False
        out.append(line)
    if inside:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fence the doctest blocks of every docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:  # noqa: ARG002
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
