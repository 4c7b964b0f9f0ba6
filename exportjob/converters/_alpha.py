"""Alpha bands of working images: split the colour from the alpha, join them back, add an opaque one.

The working modes with alpha are ``LA`` and ``RGBA``; ``L`` and ``RGB`` are their opaque halves, and
``CMYK`` has none (Pillow has no CMYK mode with alpha). Filters that work on colour only, and the
output stage, split an image here and join it back here.
"""

from __future__ import annotations

from PIL import Image

__all__ = ["alpha_mode", "has_alpha", "join_alpha", "split_alpha", "with_alpha"]

_WITH_ALPHA = {"L": "LA", "RGB": "RGBA"}
_WITHOUT_ALPHA = {alpha: colour for colour, alpha in _WITH_ALPHA.items()}


def has_alpha(im: Image.Image) -> bool:
    """Whether *im* is in a working mode with an alpha band (``LA`` or ``RGBA``)."""
    return im.mode in _WITHOUT_ALPHA


def alpha_mode(mode: str) -> str:
    """Return *mode* with an alpha band: ``L`` -> ``LA``, ``RGB`` -> ``RGBA``; other modes unchanged."""
    return _WITH_ALPHA.get(mode, mode)


def with_alpha(im: Image.Image) -> Image.Image:
    """Return *im* with an (opaque) alpha band: ``L`` -> ``LA``, ``RGB`` -> ``RGBA``."""
    target = _WITH_ALPHA.get(im.mode)
    return im.convert(target) if target else im


def split_alpha(im: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Split ``LA``/``RGBA`` into the colour image and its alpha band (None for opaque modes)."""
    colour = _WITHOUT_ALPHA.get(im.mode)
    if colour is None:
        return im, None
    return im.convert(colour), im.getchannel("A")


def join_alpha(colour: Image.Image, alpha: Image.Image | None) -> Image.Image:
    """Put *alpha* back on an ``L`` or ``RGB`` *colour* image (``split_alpha`` undone); None: as is."""
    if alpha is None:
        return colour
    joined = with_alpha(colour)
    joined.putalpha(alpha)
    return joined
