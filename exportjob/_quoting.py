"""User text quoted in a message: whole when short, cut short when long (the error keeps it all)."""

from __future__ import annotations

__all__ = ["quoted"]


def quoted(text: str, most: int = 200) -> str:
    """*text* as ``repr`` shows it, or its first *most* characters and how many there were.

    >>> quoted("wid"), quoted("p" * 1000, most=3)
    ("'wid'", "'ppp'... (1,000 characters)")
    """
    if len(text) <= most:
        return repr(text)
    return f"{text[:most]!r}... ({len(text):,} characters)"
