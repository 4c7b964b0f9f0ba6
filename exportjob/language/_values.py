"""Scalar value parsers shared by the command table: fields, numbers, flags and keywords.

Each raises ``ModifierError`` without a location; the resolver adds the command, value, position
and origin. Numbers are plain decimals (no exponent, ``inf`` or ``nan``); nothing is clamped.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

from .._quoting import quoted
from ..exceptions import ModifierError

__all__ = ["fields", "flag", "integer", "keyword", "real"]

T = TypeVar("T")

# At most 15 significant digits before the point (so every value is exact and fits the pixel
# maths), any number after it (``str(1 / 3)`` has 16), leading zeros free; 64 characters in all.
_INT = re.compile(r"[+-]?0*[0-9]{1,15}")
_REAL = re.compile(r"[+-]?(?:0*[0-9]{1,15}(?:\.[0-9]*)?|\.[0-9]+)")
_DIGITS = re.compile(r"[+-]?0*([0-9]*)(?:\.[0-9]*)?")
_MOST_CHARACTERS = 64
_MOST_DIGITS = 15


def fields(value: str, least: int, most: int) -> list[str]:
    """Split *value* at commas into *least* to *most* fields.

    >>> fields("1,2", 2, 2)
    ['1', '2']
    """
    if value == "":
        raise ModifierError("a value is required")
    parts = value.split(",")
    if not least <= len(parts) <= most:
        count = str(least) if least == most else f"{least} to {most}"
        raise ModifierError(f"expected {count} comma-separated field(s), got {len(parts)}")
    return parts


def _describe(what: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{what} from {low:g} to {high:g}"
    if low is not None:
        return f"{what} >= {low:g}"
    return what


def integer(text: str, low: int | None = None, high: int | None = None, *, what: str = "") -> int:
    """Parse a decimal integer within ``[low, high]`` (either bound optional).

    >>> integer("-5", -100, 100)
    -5
    """
    label = f"{what} " if what else ""
    if len(text) > _MOST_CHARACTERS or _INT.fullmatch(text) is None:
        expected = _describe("an integer", low, high)
        raise ModifierError(
            f"{label}expected {expected}, got {quoted(text, _MOST_CHARACTERS)}{_why_not(text)}"
        )
    number = int(text)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ModifierError(
            f"{label}{text} is out of range: expected {_describe('an integer', low, high)}"
        )
    return number


def real(
    text: str,
    low: float | None = None,
    high: float | None = None,
    *,
    what: str = "",
    positive: bool = False,
) -> float:
    """Parse a decimal real within ``[low, high]``; *positive* also excludes 0.

    >>> real(".5", 0, 1)
    0.5
    """
    label = f"{what} " if what else ""
    expected = "a number > 0" if positive else _describe("a number", low, high)
    if len(text) > _MOST_CHARACTERS or _REAL.fullmatch(text) is None:
        raise ModifierError(
            f"{label}expected {expected}, got {quoted(text, _MOST_CHARACTERS)}{_why_not(text)}"
        )
    number = float(text)
    if not math.isfinite(number):  # pragma: no cover - 15 digits cannot overflow
        raise ModifierError(f"{label}{text!r} is not a finite number")
    if (
        (positive and number <= 0)
        or (low is not None and number < low)
        or (high is not None and number > high)
    ):
        raise ModifierError(f"{label}{text} is out of range: expected {expected}")
    return number


def _why_not(text: str) -> str:
    """Why a number that looks like one was refused anyway (its length, a ``+`` read as a space)."""
    if " " in text:
        return " (a '+' in a request is read as a space: send a plus sign as %2B)"
    digits = _DIGITS.fullmatch(text)
    if digits is not None and digits.group(1) and len(digits.group(1)) > _MOST_DIGITS:
        return f" (at most {_MOST_DIGITS} digits before the decimal point)"
    if digits is not None and len(text) > _MOST_CHARACTERS:
        return f" (at most {_MOST_CHARACTERS} characters)"
    return ""


def flag(text: str, *, what: str = "", words: bool = False) -> bool:
    """Parse ``0`` or ``1`` (and ``true``/``false`` when *words*).

    >>> flag("1"), flag("False", words=True)
    (True, False)
    """
    folded = text.lower()
    if folded == "1" or (words and folded == "true"):
        return True
    if folded == "0" or (words and folded == "false"):
        return False
    label = f"{what} " if what else ""
    allowed = "0, 1, true or false" if words else "0 or 1"
    raise ModifierError(f"{label}expected {allowed}, got {text!r}")


def keyword(text: str, choices: Mapping[str, T], *, what: str = "") -> T:
    """Look *text* up case-insensitively among *choices* (keys in lower case).

    >>> keyword("LR", {"lr": 1, "ud": 2})
    1
    """
    try:
        return choices[text.lower()]
    except KeyError:
        label = f"{what} " if what else ""
        allowed = "|".join(choices)
        raise ModifierError(f"{label}expected one of {allowed}, got {text!r}") from None


def did_you_mean(name: str, choices: Iterable[str], *, spell: str = "{}") -> str:
    """``"; did you mean wid?"`` when one of *choices* is close to *name*, else ``""``.

    Case-insensitive; *spell* formats the suggestion (``"${}$"`` for a macro).

    >>> did_you_mean("wdi", ["wid", "hei", "fmt"])
    '; did you mean wid?'
    >>> did_you_mean("zzz", ["wid"])
    ''
    """
    by_key = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(by_key), n=1, cutoff=0.6)
    return f"; did you mean {spell.format(by_key[close[0]])}?" if close else ""
