"""User text in a message or a line of plain text: quoted and cut short, or with its breaks escaped."""

from __future__ import annotations

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
    r"""*text* with each character that is not printable escaped as ``repr`` escapes it, unquoted.

    For one line of plain text (a log line, an email's detail) that holds user data, such as a
    file name, which may hold control characters: a newline cannot start a line that looks like
    another, nor an escape sequence reach a terminal. Printable text is left as it is.

    >>> print(escaped("x.jpg\nINFO b"), escaped("\x1b[31mred\u2028"), escaped("été.jpg"))
    x.jpg\nINFO b \x1b[31mred\u2028 été.jpg
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
