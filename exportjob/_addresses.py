"""What a notification recipient may be: exactly one email address, or one plain user handle.

A user handle comes from the job's caller, an address from the host's address book; neither may add
a recipient. ``ann@example.com,eve@evil.example``, ``Ann <ann@x>, eve@y``, a line break (a header
injection) and anything but one bare ASCII ``local@domain`` are refused, so a notifier sends to one
address or to none.
"""

from __future__ import annotations

import re

__all__ = ["address_problem", "handle_problem"]

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})*")
#: Characters that separate, quote or group addresses, or start a header line.
_LIST_SYNTAX = re.compile(r"""[,;<>"()\[\]:\\\s]""")
_MAX_ADDRESS = 254


def address_problem(value: object) -> str | None:
    """Say why *value* is not exactly one bare email address; ``None`` if it is.

    >>> address_problem("ann@example.com") is None
    True
    >>> address_problem("ann@example.com,eve@evil.example")
    'names more than one address or a display name'
    """
    if not isinstance(value, str):
        return f"is {type(value).__name__}, not an address"
    if _LIST_SYNTAX.search(value):
        if any(c in value for c in "\r\n"):
            return "contains a line break"
        return "names more than one address or a display name"
    if len(value) > _MAX_ADDRESS or not _ADDRESS.fullmatch(value):
        return "is not one email address (local@domain)"
    return None


def handle_problem(value: str) -> str | None:
    """Say why the user handle *value* cannot name one recipient; ``None`` if it can.

    A handle without ``@`` is looked up in the notifier's address book; one with ``@`` is an address
    and must be exactly one.
    """
    if "@" in value or _LIST_SYNTAX.search(value):
        return address_problem(value)
    return None
