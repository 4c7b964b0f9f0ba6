"""The Image Serving request syntax: split, comments, macro expansion, custom variables, decoding.

(Owned by the language work; ``Command`` is the shared type.)
"""

from __future__ import annotations

import attrs

__all__ = ["Command"]


@attrs.frozen
class Command:
    """One command of an expanded request.

    ``name`` is the canonical spelling from the command table (``wid``, ``resMode``, ``op_usm``) or,
    for an unknown command, the name as written; ``value`` is decoded (``""`` for a bare name);
    ``position`` is the 1-based index in the expanded request; ``origin`` says where it came from
    (``"is_modifier"`` or ``"macro $thumb$"``).
    """

    name: str
    value: str
    position: int = 0
    origin: str = "request"
