"""The Image Serving colour syntax (spec section 7): decimal and hex gray, RGB and CMYK values.

Forms, all case-insensitive, each optionally followed by ``s`` (source colour space, accepted and ignored)::

    g[,a][g]            gray 0-100 %, alpha 0-100 %   (a lone decimal is gray in percent)
    r,g,b[,a][r]        RGB 0-255, alpha 0-255
    c,m,y,k[,a]k        CMYK 0-100 %, alpha 0-100 %   (the k suffix is required)
    0xGG[AA][g]         hex gray (the 0x prefix is required)
    [0x]RRGGBB[AA][r]   hex RGB, alpha last
    [0x]CCMMYYKK[AA]k   hex CMYK

``#rrggbb``, three-digit shorthand and named colours are not Image Serving colours and raise.
"""

from __future__ import annotations

import re

from ..exceptions import ModifierError
from ..options import Color

__all__ = ["parse_color"]

_HEX = re.compile(r"[0-9a-f]+")
_DECIMAL = re.compile(r"[0-9]{1,6}")


def _percent(text: str) -> int:
    """Convert a decimal percentage 0-100 to 0-255, rounding half up."""
    value = _decimal(text, 100)
    return (value * 255 + 50) // 100


def _decimal(text: str, top: int) -> int:
    if _DECIMAL.fullmatch(text) is None:
        raise ModifierError(f"colour component {text!r} is not a decimal integer")
    value = int(text)
    if value > top:
        raise ModifierError(f"colour component {value} is out of range 0-{top}")
    return value


def _from_decimals(parts: list[str], suffix: str) -> Color:
    if suffix == "k":
        if len(parts) not in {4, 5}:
            raise ModifierError(
                "a decimal CMYK colour has 4 components (and an alpha): c,m,y,k[,a]k"
            )
        cmyk = tuple(_percent(p) for p in parts[:4])
        return Color("cmyk", cmyk, _percent(parts[4]) if len(parts) == 5 else 255)
    if len(parts) in {1, 2} and suffix in {"", "g"}:
        return Color("gray", (_percent(parts[0]),), _percent(parts[1]) if len(parts) == 2 else 255)
    if len(parts) in {3, 4} and suffix in {"", "r"}:
        rgb = tuple(_decimal(p, 255) for p in parts[:3])
        return Color("rgb", rgb, _decimal(parts[3], 255) if len(parts) == 4 else 255)
    raise ModifierError(
        "a decimal colour is g[,a][g] (percent), r,g,b[,a][r] (0-255) or c,m,y,k[,a]k (percent)"
    )


def _from_hex(digits: str, suffix: str, *, prefixed: bool) -> Color:
    if _HEX.fullmatch(digits) is None:
        raise ModifierError(f"{digits!r} is not a hexadecimal colour")
    values = tuple(int(digits[i : i + 2], 16) for i in range(0, len(digits), 2))
    size = len(digits)
    if suffix == "k" and size in {8, 10}:
        return Color("cmyk", values[:4], values[4] if size == 10 else 255)
    if suffix in {"", "r"} and size in {6, 8}:
        return Color("rgb", values[:3], values[3] if size == 8 else 255)
    if prefixed and suffix in {"", "g"} and size in {2, 4}:
        return Color("gray", values[:1], values[1] if size == 4 else 255)
    raise ModifierError(
        "a hex colour is 0xGG[AA][g], [0x]RRGGBB[AA][r] or [0x]CCMMYYKK[AA]k "
        f"(got {size} digit(s){' with suffix ' + suffix if suffix else ''})"
    )


def parse_color(value: str) -> Color:
    """Parse an Image Serving colour value into a ``Color``.

    Args:
        value: the decoded colour text, for example ``ff0000``, ``0x80g``, ``255,0,0`` or ``0,0,0,100k``.

    Raises:
        ModifierError: *value* is not in the colour syntax or a component is out of range.

    >>> parse_color("a0b1c2d3")
    Color(space='rgb', components=(160, 177, 194), alpha=211)
    >>> parse_color("50")
    Color(space='gray', components=(128,), alpha=255)
    >>> parse_color("0,0,0,100k").to_rgb()
    (0, 0, 0)
    """
    text = value.lower()
    if not text:
        raise ModifierError("a colour value is required")
    if text.startswith("#"):
        raise ModifierError("'#rrggbb' is not an Image Serving colour: write rrggbb without '#'")
    text = text.removesuffix("s")
    suffix = text[-1] if text[-1:] in {"g", "r", "k"} else ""
    body = text[: len(text) - len(suffix)]
    if not body:
        raise ModifierError(f"{value!r} is not an Image Serving colour")
    if "," in body:
        return _from_decimals(body.split(","), suffix)
    if body.startswith("0x"):
        return _from_hex(body[2:], suffix, prefixed=True)
    if suffix == "g" or (
        _DECIMAL.fullmatch(body) is not None and len(body) not in {6, 8} and suffix == ""
    ):
        return _from_decimals([body], suffix)
    if _HEX.fullmatch(body) is None:
        if "." in body:
            why = "a component is a whole number from 0 to 255"
        elif body.isalpha():
            why = "named colours are not supported"
        else:
            why = "hex digits are 0-9 and a-f"
        raise ModifierError(
            f"{value!r} is not an Image Serving colour ({why}; use hex rrggbb or decimal r,g,b)"
        )
    return _from_hex(body, suffix, prefixed=False)
