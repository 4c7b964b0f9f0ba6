"""User text in a message or a line of plain text: quoted and cut short, or with its breaks escaped."""

from __future__ import annotations

import unicodedata

__all__ = ["escaped", "quoted"]


def quoted(text: str, most: int = 200) -> str:
    """*text* as ``repr`` shows it, or its first *most* characters and how many there were.

    >>> quoted("wid"), quoted("p" * 1000, most=3)
    ("'wid'", "'ppp'... (1,000 characters)")
    """
    if len(text) <= most:
        return repr(text)
    return f"{text[:most]!r}... ({len(text):,} characters)"


def escaped(text: str) -> str:
    r"""*text* with what could break or reorder its line escaped as ``repr`` escapes it, unquoted.

    For one line of plain text (a log line, an email's detail) that holds user data, such as a
    file name: control characters (``\n``, ``\x1b``, ``\x85``), line and paragraph separators and
    the bidirectional overrides and isolates (which can make text read as other text) are escaped,
    so a name cannot start a line that looks like another, nor an escape sequence reach a terminal.
    Everything else is left as it is: accents, other scripts, emoji, no-break and other spaces,
    joiners. A backslash is not doubled, so an escape reads as one.

    >>> print(escaped("x.jpg\nINFO b"), escaped("\x1b[31mred\u2028"), escaped("été.jpg"))
    x.jpg\nINFO b \x1b[31mred\u2028 été.jpg
    >>> escaped("10.00\u202fAM.png") == "10.00\u202fAM.png"  # a narrow no-break space stays
    True
    """
    if text.isprintable():
        return text
    return "".join(repr(c)[1:-1] if _breaks(c) else c for c in text)


# The bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def _breaks(c: str) -> bool:
    """Whether *c* can break a line or reorder it: a control, a separator, a bidi override."""
    return unicodedata.category(c) in {"Cc", "Zl", "Zp"} or c in _BIDI_CONTROLS
