"""``quantize``: palette conversion for ``gif``, ``gif-alpha``, ``png8`` and ``png8-alpha``.

``adaptive`` computes a median-cut palette of ``numColors`` entries (forced ``colorList`` colours
first, the rest computed from the image); ``web`` is the 216-colour web-safe cube. ``diffuse`` maps
pixels with Floyd-Steinberg error diffusion, ``off`` to the nearest entry. The ``-alpha`` formats
get one key (transparent) entry: alpha is thresholded at 50 %, so at most 255 real colours remain.
"""

from __future__ import annotations

from PIL import Image, ImageStat

from ..options import Quantize

__all__ = ["WEB_PALETTE", "quantize"]

_STEPS = (0, 51, 102, 153, 204, 255)
WEB_PALETTE: tuple[tuple[int, int, int], ...] = tuple(
    (r, g, b) for r in _STEPS for g in _STEPS for b in _STEPS
)
_ALPHA_THRESHOLD = 128


def _adaptive(rgb: Image.Image, count: int) -> list[tuple[int, int, int]]:
    if count <= 0:
        return []
    flat = rgb.quantize(colors=count, method=Image.Quantize.MEDIANCUT).getpalette() or []
    return [(flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3)]


def _palette_image(colours: list[tuple[int, int, int]]) -> Image.Image:
    palette = Image.new("P", (1, 1))
    palette.putpalette([c for colour in colours for c in colour])
    return palette


def quantize(
    rgb: Image.Image,
    alpha: Image.Image | None,
    options: Quantize,
    *,
    key_colour: tuple[int, int, int],
) -> tuple[Image.Image, int | None]:
    """Convert *rgb* to a palette image; with *alpha*, add a transparent key entry.

    Args:
        rgb: the opaque colour image (``RGB``).
        alpha: the alpha band for a ``-alpha`` format, or None.
        options: the ``quantize`` command.
        key_colour: the RGB colour stored in the key entry (what a viewer without transparency shows).

    Returns:
        The ``P`` image and the key's palette index (None without alpha).
    """
    limit = min(options.colors, 255) if alpha is not None else options.colors
    mask = None
    source = rgb
    if alpha is not None:
        mask = alpha.point(lambda a: 255 if a >= _ALPHA_THRESHOLD else 0)
        if mask.getextrema() == (0, 0):
            # Nothing is opaque: one key entry only.
            image = Image.new("P", rgb.size, 0)
            image.putpalette(list(key_colour))
            return image, 0
        # Transparent pixels must not spend palette entries: paint them the opaque pixels' mean.
        mean = tuple(round(v) for v in ImageStat.Stat(rgb, mask).mean)
        source = Image.new("RGB", rgb.size, mean)
        source.paste(rgb, mask=mask)
    if options.type == "web":
        colours = list(WEB_PALETTE)
    else:
        forced = list(options.forced[:limit])
        colours = forced + _adaptive(source, limit - len(forced))
    dither = Image.Dither.FLOYDSTEINBERG if options.dither else Image.Dither.NONE
    image = source.quantize(palette=_palette_image(colours), dither=dither)
    if alpha is None or mask is None:
        return image, None
    key = len(colours)
    image.putpalette([c for colour in (*colours, key_colour) for c in colour])
    transparent = mask.point(lambda v: 255 - v)
    image.paste(key, mask=transparent)
    return image, key
