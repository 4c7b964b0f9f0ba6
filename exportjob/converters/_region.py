"""Resampling and the working image: a layer held at some resolution, cropped lazily.

A ``Work`` is the current layer (or composite) as an image plus the rectangle of that image it
occupies. The rectangle is in the image's pixels and may reach outside it (transparent there); its
size over the layer's full-resolution ``logical`` size is the resolution the layer is held at. Crops
and the first resampling are folded into one ``resize(box=...)``, so a shrunk-on-load JPEG, a crop
and the view transform cost one resampling pass.
"""

from __future__ import annotations

import math

import attrs
from PIL import Image, ImageFilter

from ..options import ResMode
from ._alpha import alpha_mode, with_alpha
from ._geometry import size_at_least_one

__all__ = [
    "Fill",
    "Work",
    "blank",
    "inside",
    "materialize",
    "needs_resolution",
    "render_region",
    "resample_filter",
]

Box = tuple[float, float, float, float]
Size = tuple[int, int]
# Where uncovered pixels come from: None = transparent, else an opaque colour in the image's mode.
Fill = tuple[int, ...] | None

_FILTERS = {
    ResMode.BILIN: Image.Resampling.BILINEAR,
    ResMode.BICUB: Image.Resampling.BICUBIC,
    ResMode.SHARP2: Image.Resampling.LANCZOS,
    ResMode.BISHARP: Image.Resampling.BICUBIC,
    ResMode.TRILIN: Image.Resampling.BILINEAR,
}
# "bisharp" (Photoshop's bicubic sharper): bicubic, then this light unsharp mask when reducing.
_BISHARP = ImageFilter.UnsharpMask(radius=0.6, percent=60, threshold=0)


def resample_filter(res_mode: ResMode) -> Image.Resampling:
    """Return the Pillow filter for *res_mode* (``sharp2`` is Lanczos)."""
    return _FILTERS[res_mode]


def blank(mode: str, size: Size, fill: Fill) -> Image.Image:
    """Return a new canvas: transparent (in *mode* with alpha) when *fill* is None, else filled."""
    if fill is None:
        return Image.new(alpha_mode(mode), size, 0)
    return Image.new(mode, size, fill)


def _resize(
    im: Image.Image, size: Size, box: Box, res_mode: ResMode, reducing_gap: float | None
) -> Image.Image:
    if res_mode is ResMode.TRILIN:
        reducing_gap = min(reducing_gap or 2.0, 2.0)
    out = im.resize(size, resample_filter(res_mode), box=box, reducing_gap=reducing_gap)
    if res_mode is ResMode.BISHARP and size[0] < box[2] - box[0]:
        out = out.filter(_BISHARP)
    return out


def _integral(box: Box) -> bool:
    return all(float(v).is_integer() for v in box)


_EPSILON = 1e-6


def snap(box: Box) -> Box:
    """Snap coordinates within a millionth of a pixel of a whole number (float noise) onto it."""
    x0, y0, x1, y1 = (float(round(v)) if abs(v - round(v)) < _EPSILON else v for v in box)
    return (x0, y0, x1, y1)


def inside(box: Box, size: Size) -> bool:
    """Whether the rectangle *box* lies within an image of *size* (up to float noise)."""
    x0, y0, x1, y1 = snap(box)
    return x0 >= 0 and y0 >= 0 and x1 <= size[0] and y1 <= size[1]


def render_region(
    im: Image.Image,
    box: Box,
    size: Size,
    *,
    res_mode: ResMode,
    reducing_gap: float | None,
    fill: Fill,
) -> Image.Image:
    """Resample the rectangle *box* of *im* (which may reach outside it) to an image of *size*.

    Where the rectangle is outside the image, the result is *fill* (or transparent). A rectangle of
    the output's own size at whole-pixel coordinates is a plain crop: no resampling.
    """
    box = snap(box)
    x0, y0, x1, y1 = box
    width, height = im.size
    cx0, cy0, cx1, cy1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(width)), min(y1, float(height))
    inside = (cx0, cy0, cx1, cy1) == (x0, y0, x1, y1)
    if size == (round(x1 - x0), round(y1 - y0)) and _integral(box):
        if inside:
            return (
                im
                if box == (0, 0, width, height)
                else im.crop((int(x0), int(y0), int(x1), int(y1)))
            )
        canvas = blank(im.mode, size, fill)
        if cx1 > cx0 and cy1 > cy0:
            part = im.crop((int(cx0), int(cy0), int(cx1), int(cy1)))
            canvas.paste(with_alpha(part) if fill is None else part, (int(cx0 - x0), int(cy0 - y0)))
        return canvas
    if inside:
        return _resize(im, size, box, res_mode, reducing_gap)
    if cx1 <= cx0 or cy1 <= cy0:
        return blank(im.mode, size, fill)
    # Pad the image with the fill (or transparency) out to the whole rectangle, then resample once:
    # the edge between image and margin keeps its sub-pixel position, and nothing else is read.
    left, top = math.floor(x0), math.floor(y0)
    padded = blank(im.mode, (math.ceil(x1) - left, math.ceil(y1) - top), fill)
    padded.paste(with_alpha(im) if fill is None else im, (-left, -top))
    return _resize(padded, size, (x0 - left, y0 - top, x1 - left, y1 - top), res_mode, reducing_gap)


@attrs.frozen
class Work:
    """The current layer: *image*, the rectangle *box* of it the layer occupies, its *logical* size.

    ``logical`` is in full-resolution layer pixels, as ``_geometry`` computes them; ``box`` is in the
    image's pixels. ``working`` says whether the image is already in the working colour mode.
    """

    image: Image.Image
    box: Box
    logical: Size
    working: bool = False

    @classmethod
    def whole(cls, image: Image.Image, logical: Size, *, working: bool) -> Work:
        """Wrap an *image* that is exactly the layer."""
        return cls(image, (0.0, 0.0, float(image.width), float(image.height)), logical, working)

    @property
    def scale(self) -> float:
        """Image pixels per logical pixel (the larger axis): the resolution the layer is held at."""
        x0, y0, x1, y1 = self.box
        return max((x1 - x0) / self.logical[0], (y1 - y0) / self.logical[1])

    @property
    def materialized(self) -> bool:
        """Whether the image is exactly the layer (no pending crop)."""
        return self.box == (0.0, 0.0, float(self.image.width), float(self.image.height))

    def clipped(self) -> Work:
        """Cut the image down to the pixels the layer's rectangle touches.

        After a crop, resampling (whose filter reads neighbouring pixels) and a later ``extend``
        must never see what the crop removed: outside the cut image there is only transparency.
        """
        x0, y0, x1, y1 = snap(self.box)
        width, height = self.image.size
        left, top = max(0, math.floor(x0)), max(0, math.floor(y0))
        right, bottom = min(width, math.ceil(x1)), min(height, math.ceil(y1))
        if (left, top, right, bottom) == (0, 0, width, height) or right <= left or bottom <= top:
            return self
        image = self.image.crop((left, top, right, bottom))
        box = (x0 - left, y0 - top, x1 - left, y1 - top)
        return Work(image, box, self.logical, self.working)

    def extended(self, margins: tuple[int, int, int, int], logical: Size) -> Work:
        """Add (or, negative, remove) logical margins around the layer: the rectangle grows or shrinks.

        Nothing is resampled: what the larger rectangle adds lies outside the image (transparent),
        and what a negative margin removes is cut from the image, so no later step sees it.
        """
        x0, y0, x1, y1 = self.box
        kx = (x1 - x0) / self.logical[0]
        ky = (y1 - y0) / self.logical[1]
        left, top, right, bottom = margins
        box = (x0 - left * kx, y0 - top * ky, x1 + right * kx, y1 + bottom * ky)
        return Work(self.image, box, logical, self.working).clipped()

    def map_box(self, rect: Box) -> Box:
        """Map a rectangle in logical pixels to the image's pixels."""
        x0, y0, x1, y1 = self.box
        kx = (x1 - x0) / self.logical[0]
        ky = (y1 - y0) / self.logical[1]
        return (x0 + rect[0] * kx, y0 + rect[1] * ky, x0 + rect[2] * kx, y0 + rect[3] * ky)


def materialize(
    work: Work,
    *,
    scale: float | None,
    res_mode: ResMode,
    reducing_gap: float | None,
    fill: Fill,
) -> Work:
    """Make the layer a whole image, at *scale* image pixels per logical pixel (None: as held).

    At the held scale this is a crop (or, off whole pixels, a resampling at about 1:1); at another
    scale it is one resampling pass.
    """
    if work.materialized and scale is None:
        return work
    logical_w, logical_h = work.logical
    box = work.box
    if scale is None:
        # As held: a crop when the rectangle is on whole pixels; else a resampling at (about) 1:1
        # that keeps the sub-pixel position rather than snapping it by up to half a pixel.
        size = (max(1, round(box[2] - box[0])), max(1, round(box[3] - box[1])))
    else:
        size = (size_at_least_one(logical_w * scale), size_at_least_one(logical_h * scale))
    image = render_region(
        work.image, box, size, res_mode=res_mode, reducing_gap=reducing_gap, fill=fill
    )
    return Work.whole(image, work.logical, working=work.working)


def needs_resolution(work: Work, wanted: float) -> float | None:
    """Return a lower scale to hold the layer at, or None when resampling now would not pay off."""
    if wanted <= 0 or math.isinf(wanted):
        return None
    return wanted if wanted < work.scale / 2 else None
