"""A minimal ICC v2 profile writer: matrix/TRC RGB and TRC gray display profiles, byte-stable.

LittleCMS can build only sRGB, Lab and XYZ profiles, and stamps them with the current time; the
converter needs a gray output profile and stable bytes, and the sample images need Adobe RGB-like and
deliberately odd profiles. Colorants are given already adapted to D50 (as ICC v4 and LittleCMS expect).
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable, Sequence

__all__ = [
    "ADOBE_RGB_D50",
    "SRGB_D50",
    "cmyk_profile",
    "gray_profile",
    "rgb_profile",
    "srgb_curve",
]

XYZ = tuple[float, float, float]

D50: XYZ = (0.9642, 1.0, 0.8249)
# Red, green and blue colorants (XYZ, Bradford-adapted to D50).
SRGB_D50: tuple[XYZ, XYZ, XYZ] = (
    (0.4361, 0.2225, 0.0139),
    (0.3851, 0.7169, 0.0971),
    (0.1431, 0.0606, 0.7141),
)
ADOBE_RGB_D50: tuple[XYZ, XYZ, XYZ] = (
    (0.6097, 0.3111, 0.0195),
    (0.2053, 0.6257, 0.0609),
    (0.1492, 0.0632, 0.7446),
)
# A fixed creation date (2024-01-01 00:00:00): profiles must not change from one run to the next.
_DATE = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)


def srgb_curve(points: int = 256) -> tuple[float, ...]:
    """Sample the sRGB transfer function (encoded -> linear) at *points* evenly spaced inputs."""
    out = []
    for i in range(points):
        v = i / (points - 1)
        out.append(v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4)
    return tuple(out)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(value: XYZ) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15(v) for v in value)


def _curve(curve: float | Sequence[float]) -> bytes:
    if isinstance(curve, (int, float)):
        # A pure gamma, stored as u8Fixed8.
        return b"curv" + bytes(4) + struct.pack(">IH", 1, round(curve * 256)) + bytes(2)
    body = b"".join(struct.pack(">H", round(v * 65535)) for v in curve)
    data = b"curv" + bytes(4) + struct.pack(">I", len(curve)) + body
    return data + bytes(-len(data) % 4)


def _text_description(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    data = (
        b"desc"
        + bytes(4)
        + struct.pack(">I", len(ascii_text))
        + ascii_text
        + bytes(8)  # Unicode language code and count
        + bytes(3)  # ScriptCode code and count
        + bytes(67)  # ScriptCode string
    )
    return data + bytes(-len(data) % 4)


def _text(text: str) -> bytes:
    data = b"text" + bytes(4) + text.encode("ascii") + b"\0"
    return data + bytes(-len(data) % 4)


def _assemble(color_space: bytes, tags: Sequence[tuple[bytes, bytes]]) -> bytes:
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    entries = []
    blobs = []
    shared: dict[bytes, int] = {}
    for signature, data in tags:
        if data in shared:
            entries.append(struct.pack(">4sII", signature, shared[data], len(data)))
            continue
        shared[data] = offset
        entries.append(struct.pack(">4sII", signature, offset, len(data)))
        blobs.append(data)
        offset += len(data)
    body = struct.pack(">I", len(tags)) + b"".join(entries) + b"".join(blobs)
    size = 128 + len(body)
    header = (
        struct.pack(">I", size)
        + bytes(4)  # preferred CMM
        + bytes((2, 0x10, 0, 0))  # version 2.1
        + b"mntr"
        + color_space
        + b"XYZ "
        + _DATE
        + b"acsp"
        + bytes(4)  # platform
        + bytes(4)  # flags
        + bytes(4)  # manufacturer
        + bytes(4)  # model
        + bytes(8)  # attributes
        + struct.pack(">I", 0)  # rendering intent: perceptual
        + b"".join(_s15(v) for v in D50)
        + bytes(4)  # creator
        + bytes(16)  # profile ID (not computed in v2)
        + bytes(28)
    )
    return header + body


def rgb_profile(
    description: str,
    colorants: tuple[XYZ, XYZ, XYZ],
    curve: float | Sequence[float],
) -> bytes:
    """Build an RGB display profile from D50 *colorants* and one tone *curve* (gamma or samples).

    >>> profile = rgb_profile("Adobe RGB-like", ADOBE_RGB_D50, 563 / 256)
    >>> profile[36:40], profile[16:20]
    (b'acsp', b'RGB ')
    """
    red, green, blue = colorants
    trc = _curve(curve)
    return _assemble(
        b"RGB ",
        (
            (b"desc", _text_description(description)),
            (b"cprt", _text("No copyright, use freely")),
            (b"wtpt", _xyz(D50)),
            (b"rXYZ", _xyz(red)),
            (b"gXYZ", _xyz(green)),
            (b"bXYZ", _xyz(blue)),
            (b"rTRC", trc),
            (b"gTRC", trc),
            (b"bTRC", trc),
        ),
    )


def gray_profile(description: str, curve: float | Sequence[float]) -> bytes:
    """Build a gray display profile with one tone *curve* (gamma or samples)."""
    return _assemble(
        b"GRAY",
        (
            (b"desc", _text_description(description)),
            (b"cprt", _text("No copyright, use freely")),
            (b"wtpt", _xyz(D50)),
            (b"kTRC", _curve(curve)),
        ),
    )


def _srgb_to_lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """Convert an sRGB colour (components 0-1) to CIE Lab under D50."""
    linear = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
    xyz = [sum(linear[i] * SRGB_D50[i][axis] for i in range(3)) for axis in range(3)]

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = (f(xyz[axis] / D50[axis]) for axis in range(3))
    return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))


def cmyk_profile(
    description: str, ink_to_rgb: Callable[[tuple[int, int, int, int]], tuple[float, float, float]]
) -> bytes:
    """Build a CMYK output profile whose 16 ink corners (each ink 0 or 1) print *ink_to_rgb*'s sRGB colour.

    Between the corners LittleCMS interpolates; the profile is a test instrument, not a press profile.
    Only the device-to-PCS direction (``A2B0``) is written, so it can only be a source profile.
    """
    grid = 2
    identity = struct.pack(">HH", 0, 65535)
    clut = bytearray()
    for corner in itertools.product(range(grid), repeat=4):
        lab = _srgb_to_lab(ink_to_rgb(corner))  # type: ignore[arg-type]
        # ICC v2 16-bit Lab: L 0-100 -> 0-0xFF00, a/b -128..127.996 -> 0-0xFFFF.
        encoded = (
            round(max(0.0, min(100.0, lab[0])) * 0xFF00 / 100),
            round((max(-128.0, min(127.99, lab[1])) + 128) * 256),
            round((max(-128.0, min(127.99, lab[2])) + 128) * 256),
        )
        clut += struct.pack(">3H", *encoded)
    identity_matrix = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    a2b0 = (
        b"mft2"
        + bytes(4)
        + bytes((4, 3, grid, 0))
        + identity_matrix
        + struct.pack(">HH", 2, 2)
        + identity * 4
        + bytes(clut)
        + identity * 3
    )
    a2b0 += bytes(-len(a2b0) % 4)
    tags = (
        (b"desc", _text_description(description)),
        (b"cprt", _text("No copyright, use freely")),
        (b"wtpt", _xyz(D50)),
        (b"A2B0", a2b0),
    )
    profile = bytearray(_assemble(b"CMYK", tags))
    profile[12:16] = b"prtr"
    profile[20:24] = b"Lab "
    return bytes(profile)
