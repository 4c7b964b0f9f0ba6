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
    "press_cmyk_profile",
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


def _mft2(inputs: int, outputs: int, grid: int, clut: bytes) -> bytes:
    """An ICC v2 ``lut16Type`` with identity matrix and curves around a *grid*-point CLUT."""
    identity = struct.pack(">HH", 0, 65535)
    identity_matrix = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    data = (
        b"mft2"
        + bytes(4)
        + bytes((inputs, outputs, grid, 0))
        + identity_matrix
        + struct.pack(">HH", 2, 2)
        + identity * inputs
        + clut
        + identity * outputs
    )
    return data + bytes(-len(data) % 4)


def _lab16(lab: tuple[float, float, float]) -> tuple[int, int, int]:
    # ICC v2 16-bit Lab: L 0-100 -> 0-0xFF00, a/b -128..127.996 -> 0-0xFFFF.
    return (
        round(max(0.0, min(100.0, lab[0])) * 0xFF00 / 100),
        round((max(-128.0, min(127.99, lab[1])) + 128) * 256),
        round((max(-128.0, min(127.99, lab[2])) + 128) * 256),
    )


def _cmyk_tags(description: str, tags: Sequence[tuple[bytes, bytes]]) -> bytes:
    common = (
        (b"desc", _text_description(description)),
        (b"cprt", _text("No copyright, use freely")),
        (b"wtpt", _xyz(D50)),
    )
    profile = bytearray(_assemble(b"CMYK", (*common, *tags)))
    profile[12:16] = b"prtr"
    profile[20:24] = b"Lab "
    return bytes(profile)


def cmyk_profile(
    description: str, ink_to_rgb: Callable[[tuple[int, int, int, int]], tuple[float, float, float]]
) -> bytes:
    """Build a CMYK output profile whose 16 ink corners (each ink 0 or 1) print *ink_to_rgb*'s sRGB colour.

    Between the corners LittleCMS interpolates; the profile is a test instrument, not a press profile.
    Only the device-to-PCS direction (``A2B0``) is written, so it can only be a source profile.
    """
    clut = bytearray()
    for corner in itertools.product(range(2), repeat=4):
        clut += struct.pack(">3H", *_lab16(_srgb_to_lab(ink_to_rgb(corner))))  # type: ignore[arg-type]
    return _cmyk_tags(description, ((b"A2B0", _mft2(4, 3, 2, bytes(clut))),))


def _lab_to_srgb(lab: tuple[float, float, float]) -> tuple[float, float, float]:
    """Convert CIE Lab (D50) to sRGB components 0-1, clipped to the gamut."""
    l_star, a_star, b_star = lab
    fy = (l_star + 16) / 116
    fx, fz = fy + a_star / 500, fy - b_star / 200
    delta = 6 / 29

    def finv(t: float) -> float:
        return t**3 if t > delta else 3 * delta**2 * (t - 4 / 29)

    xyz = [finv(f) * D50[axis] for axis, f in enumerate((fx, fy, fz))]
    linear = [sum(row[j] * xyz[j] for j in range(3)) for row in _SRGB_D50_INVERSE]
    out = []
    for value in linear:
        v = max(0.0, min(1.0, value))
        out.append(12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055)
    return (out[0], out[1], out[2])


def _inverse3(m: tuple[XYZ, XYZ, XYZ]) -> tuple[XYZ, XYZ, XYZ]:
    # Rows of the matrix whose columns are *m*'s colorants: XYZ = sum(linear[i] * m[i]).
    (a, d, g), (b, e, h), (c, f, i) = m
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return (
        ((e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det),
        ((f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det),
        ((d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det),
    )


_SRGB_D50_INVERSE = _inverse3(SRGB_D50)


def press_cmyk_profile(description: str, *, grid: int = 9) -> bytes:
    """Build a two-way CMYK output profile: a naive press (full black generation) for tests.

    Ink to colour (``A2B0``) is the naive device: ``R = (1 - C)(1 - K)``, and so on, read as
    sRGB. Colour to ink (``B2A0``) inverts it with full grey-component replacement,
    ``K = 1 - max(R, G, B)``. Both are CLUTs LittleCMS interpolates, so a conversion to this profile
    is a real, table-driven ICC conversion, checked against ``PIL.ImageCms`` directly. Not a press
    profile: its only purpose is to make print exports testable without shipping one.
    """
    forward = bytearray()
    for ink in itertools.product(range(5), repeat=4):
        c, m, y, k = (v / 4 for v in ink)
        rgb = ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
        forward += struct.pack(">3H", *_lab16(_srgb_to_lab(rgb)))
    backward = bytearray()
    for point in itertools.product(range(grid), repeat=3):
        encoded = [v * 65535 / (grid - 1) for v in point]
        lab = (encoded[0] * 100 / 0xFF00, encoded[1] / 256 - 128, encoded[2] / 256 - 128)
        r, g, b = _lab_to_srgb(lab)
        k = 1 - max(r, g, b)
        inks = (0.0, 0.0, 0.0, 1.0) if k >= 1 else (*((1 - v - k) / (1 - k) for v in (r, g, b)), k)
        backward += struct.pack(">4H", *(round(max(0.0, min(1.0, v)) * 65535) for v in inks))
    return _cmyk_tags(
        description,
        ((b"A2B0", _mft2(4, 3, 5, bytes(forward))), (b"B2A0", _mft2(3, 4, grid, bytes(backward)))),
    )
