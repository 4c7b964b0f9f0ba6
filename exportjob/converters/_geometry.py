"""Reply-size math: every size and offset of the pipeline, computed before a pixel is decoded.

Pure arithmetic on the (orientation-corrected) source size and the typed options, so the converter
knows the reply size, and fails over a limit, before it renders anything. Sizes follow Image Serving's
order of operations: crop -> size -> rotate -> extend (layer 0, the composite) -> the view transform
(``scl``/``wid``/``hei``/``fit``/``align``, DefaultPix). Every derived size is rounded half up and is
at least one pixel; offsets are rounded half up.
"""

from __future__ import annotations

import math

import attrs

from ..exceptions import ConversionError, ImageTooLargeError
from ..options import Crop, FitMode, RenderOptions

__all__ = [
    "LayerGeometry",
    "Layout",
    "ViewGeometry",
    "check_layout",
    "plan_layer",
    "plan_layout",
    "plan_view",
    "quarter_turns",
    "rotated_size",
    "round_half_up",
    "size_at_least_one",
]

Size = tuple[int, int]


# A half that floating point computes a hair short still rounds up: 27 * (127 / 54) is
# 63.49999999999999. Pixel sizes keep such errors under 1e-9, and a true fraction of them is at
# least 1e-7 away from a half when it is not one.
_HALF_TOLERANCE = 1e-9


def round_half_up(value: float) -> int:
    """Round *value* half up (``2.5 -> 3``, ``-2.5 -> -2``), the rounding used for every offset."""
    return math.floor(value + 0.5 + _HALF_TOLERANCE)


def size_at_least_one(value: float) -> int:
    """Round a derived length half up, to at least one pixel."""
    return max(1, round_half_up(value))


def quarter_turns(angle: float) -> int | None:
    """Return the clockwise quarter turns (0-3) of *angle* degrees, or None if it is not a multiple of 90."""
    turns = (angle % 360.0) / 90.0
    nearest = round(turns)
    if math.isclose(turns, nearest, abs_tol=1e-9):
        return nearest % 4
    return None


def rotated_size(size: Size, angle: float) -> Size:
    """Return the bounding box of a *size* image rotated by *angle* degrees (nothing is cropped)."""
    turns = quarter_turns(angle)
    width, height = size
    if turns is not None:
        return (height, width) if turns % 2 else (width, height)
    theta = math.radians(angle)
    cos, sin = abs(math.cos(theta)), abs(math.sin(theta))
    return (
        size_at_least_one(width * cos + height * sin),
        size_at_least_one(width * sin + height * cos),
    )


@attrs.frozen
class LayerGeometry:
    """Stage L: layer 0 from the source to the composite, in full-resolution pixels.

    Attributes:
        source: the source size, after EXIF orientation.
        crop: ``(x, y, w, h)`` in source pixels; may reach outside the source (transparent there).
        scaled: the cropped image's size after ``size=`` (the cropped size when no ``size=``).
        canvas: the layer canvas after ``size=``: ``size`` itself when both sides are given, else ``scaled``.
        placed: where the scaled image sits on that canvas.
        rotate: the ``rotate=`` angle in degrees, clockwise.
        rotated: the canvas size after rotation (the bounding box).
        extend: ``(left, top, right, bottom)`` margins; negative ones remove pixels.
        composite: the composite (view source) size.
    """

    source: Size
    crop: tuple[int, int, int, int]
    scaled: Size
    canvas: Size
    placed: Size
    rotate: float
    rotated: Size
    extend: tuple[int, int, int, int]
    composite: Size

    @property
    def size_scale(self) -> tuple[float, float]:
        """Layer pixels per source pixel introduced by ``size=`` (1 when there is none)."""
        return (self.scaled[0] / self.crop[2], self.scaled[1] / self.crop[3])

    @property
    def resized(self) -> bool:
        """Whether ``size=`` resamples the cropped image."""
        return self.scaled != (self.crop[2], self.crop[3])


@attrs.frozen
class ViewGeometry:
    """Stage V: the view transform from the composite to the reply.

    Attributes:
        scaled: the whole composite's size once scaled (it may be larger than the reply: cropped).
        offset: where the scaled composite's top-left corner lands in the reply (negative = cropped).
        reply: the reply size.
    """

    scaled: Size
    offset: tuple[int, int]
    reply: Size

    @property
    def visible(self) -> tuple[int, int, int, int]:
        """The reply rectangle ``(x0, y0, x1, y1)`` covered by image data (empty when x1 <= x0)."""
        x0 = max(0, self.offset[0])
        y0 = max(0, self.offset[1])
        x1 = min(self.reply[0], self.offset[0] + self.scaled[0])
        y1 = min(self.reply[1], self.offset[1] + self.scaled[1])
        return (x0, y0, max(x0, x1), max(y0, y1))

    @property
    def padded(self) -> bool:
        """Whether part of the reply is not covered by image data (filled with ``bgc`` or transparent)."""
        x0, y0, x1, y1 = self.visible
        return (x0, y0, x1, y1) != (0, 0, *self.reply)


@attrs.frozen
class Layout:
    """Every size of one conversion: stage L (``layer``) and stage V (``view``)."""

    layer: LayerGeometry
    view: ViewGeometry

    @property
    def view_scale(self) -> tuple[float, float]:
        """Reply pixels per composite pixel, horizontally and vertically."""
        composite = self.layer.composite
        return (self.view.scaled[0] / composite[0], self.view.scaled[1] / composite[1])

    @property
    def total_scale(self) -> float:
        """Reply pixels per source pixel (the larger axis): how much resolution the output needs."""
        size_x, size_y = self.layer.size_scale
        view_x, view_y = self.view_scale
        return max(size_x * view_x, size_y * view_y)

    @property
    def work_pixels(self) -> int:
        """The largest intermediate canvas of stage L, in pixels (crop, size, rotate, extend)."""
        layer = self.layer
        sizes = (layer.crop[2:], layer.canvas, layer.rotated, layer.composite)
        return max(w * h for w, h in sizes)


def _crop_rect(source: Size, crop: Crop | None) -> tuple[int, int, int, int]:
    width, height = source
    if crop is None:
        return (0, 0, width, height)
    if crop.normalized:
        rect = (
            round_half_up(crop.x * width),
            round_half_up(crop.y * height),
            # A positive fraction is at least one pixel (the parser turned zero into no crop).
            max(1, round_half_up(crop.w * width)),
            max(1, round_half_up(crop.h * height)),
        )
    else:
        rect = (
            round_half_up(crop.x),
            round_half_up(crop.y),
            round_half_up(crop.w),
            round_half_up(crop.h),
        )
    if rect[2] <= 0 or rect[3] <= 0:
        # ``crop=0,0,0,0`` (seen in real URLs) means "no crop", as the size data type's "0 = default".
        return (0, 0, width, height)
    return rect


def _size_layer(cropped: Size, size: tuple[int, int] | None) -> tuple[Size, Size, Size]:
    """Return (scaled, canvas, placed) for ``size=w,h`` applied to a *cropped* image."""
    if size is None or (size[0] <= 0 and size[1] <= 0):
        return cropped, cropped, (0, 0)
    width, height = cropped
    target_w, target_h = size
    if target_w > 0 and target_h > 0:
        factor = min(target_w / width, target_h / height)
        scaled = (size_at_least_one(width * factor), size_at_least_one(height * factor))
        placed = (
            round_half_up((target_w - scaled[0]) / 2),
            round_half_up((target_h - scaled[1]) / 2),
        )
        return scaled, (target_w, target_h), placed
    if target_w > 0:
        scaled = (target_w, size_at_least_one(height * target_w / width))
    else:
        scaled = (size_at_least_one(width * target_h / height), target_h)
    return scaled, scaled, (0, 0)


def plan_layer(source: Size, options: RenderOptions) -> LayerGeometry:
    """Compute stage L for a *source* of that size (after EXIF orientation)."""
    crop = _crop_rect(source, options.crop)
    scaled, canvas, placed = _size_layer((crop[2], crop[3]), options.size)
    rotated = rotated_size(canvas, options.rotate)
    extend = options.extend or (0, 0, 0, 0)
    if options.extend_n is not None:
        # extendN: fractions of the layer after crop, size and rotate, in whole pixels.
        fl, ft, fr, fb = options.extend_n
        width, height = rotated
        extend = (
            round_half_up(fl * width),
            round_half_up(ft * height),
            round_half_up(fr * width),
            round_half_up(fb * height),
        )
    left, top, right, bottom = extend
    composite = (rotated[0] + left + right, rotated[1] + top + bottom)
    # A negative extend may remove everything; the parser cannot know the image size, so
    # ``check_layout`` turns that into a per-asset failure.
    composite = (max(composite[0], 0), max(composite[1], 0))
    return LayerGeometry(
        source=source,
        crop=crop,
        scaled=scaled,
        canvas=canvas,
        placed=placed,
        rotate=options.rotate,
        rotated=rotated,
        extend=extend,
        composite=composite,
    )


def _align(reply: int, scaled: int, align: float) -> int:
    return round_half_up((reply - scaled) * (align + 1) / 2)


def _scaled(composite: Size, sx: float, sy: float) -> Size:
    return (size_at_least_one(composite[0] * sx), size_at_least_one(composite[1] * sy))


def _one_side(composite: Size, wid: int | None, hei: int | None, *, clamp: bool) -> ViewGeometry:
    """Scale to the one given side; with ``fit=`` and no upscale flag, never enlarge. No fill."""
    if wid is not None:
        factor = wid / composite[0]
    elif hei is not None:
        factor = hei / composite[1]
    else:  # pragma: no cover - the caller handles "neither"
        factor = 1.0
    if clamp:
        factor = min(factor, 1.0)
    scaled = _scaled(composite, factor, factor)
    if not clamp:
        # "Fixed width": the given side is exact, whatever the rounding of the factor.
        scaled = (wid or scaled[0], hei or scaled[1])
    return ViewGeometry(scaled, (0, 0), scaled)


def plan_view(composite: Size, options: RenderOptions) -> ViewGeometry:
    """Compute the view transform (section 13 of the reference) for a *composite* of that size."""
    width, height = composite
    wid, hei, align = options.wid, options.hei, options.align
    if options.scl is not None:
        factor = 1 / options.scl
        scaled = _scaled(composite, factor, factor)
        reply = (wid or scaled[0], hei or scaled[1])
        offset = (
            _align(reply[0], scaled[0], align[0]) if wid else 0,
            _align(reply[1], scaled[1], align[1]) if hei else 0,
        )
        return ViewGeometry(scaled, offset, reply)
    if wid is None and hei is None:
        bound_w, bound_h = options.default_pix or (0, 0)
        factor = min(
            1.0,
            bound_w / width if bound_w > 0 else math.inf,
            bound_h / height if bound_h > 0 else math.inf,
        )
        scaled = composite if factor == 1.0 else _scaled(composite, factor, factor)
        return ViewGeometry(scaled, (0, 0), scaled)
    fit = options.fit
    if wid is None or hei is None:
        return _one_side(composite, wid, hei, clamp=fit is not None and not fit.upscale)
    sx, sy = wid / width, hei / height
    if fit is None:
        factor = min(sx, sy)
        scaled = _scaled(composite, factor, factor)
        offset = (_align(wid, scaled[0], align[0]), _align(hei, scaled[1], align[1]))
        return ViewGeometry(scaled, offset, (wid, hei))
    if not fit.upscale:
        sx, sy = min(sx, 1.0), min(sy, 1.0)
    mode = fit.mode
    if mode is FitMode.STRETCH:
        scaled = _scaled(composite, sx, sy)
        offset = (_align(wid, scaled[0], 0.0), _align(hei, scaled[1], 0.0))
        return ViewGeometry(scaled, offset, (wid, hei))
    factor = {
        FitMode.FIT: min(sx, sy),
        FitMode.CONSTRAIN: min(sx, sy),
        FitMode.CROP: max(sx, sy),
        FitMode.WRAP: max(sx, sy),
        FitMode.HFIT: sx,
        FitMode.VFIT: sy,
    }[mode]
    scaled = _scaled(composite, factor, factor)
    if mode in {FitMode.CONSTRAIN, FitMode.WRAP}:
        return ViewGeometry(scaled, (0, 0), scaled)
    offset = (_align(wid, scaled[0], align[0]), _align(hei, scaled[1], align[1]))
    return ViewGeometry(scaled, offset, (wid, hei))


def plan_layout(source: Size, options: RenderOptions) -> Layout:
    """Compute every size of the conversion of a *source* of that size (after EXIF orientation).

    >>> from exportjob.options import RenderOptions
    >>> layout = plan_layout((4000, 3000), RenderOptions(wid=400))
    >>> layout.view.reply
    (400, 300)
    """
    layer = plan_layer(source, options)
    if layer.composite[0] <= 0 or layer.composite[1] <= 0:
        return Layout(layer, ViewGeometry((0, 0), (0, 0), (0, 0)))
    return Layout(layer, plan_view(layer.composite, options))


def check_layout(
    layout: Layout,
    *,
    max_pix: tuple[int, int] | None,
    max_output_pixels: int,
    max_work_pixels: int,
    handle: str | None,
) -> None:
    """Raise ``ImageTooLargeError`` if the reply or an intermediate canvas is over a limit.

    Raises ``ConversionError`` if ``extend`` leaves no image at all.

    ``max_pix`` is Image Serving's MaxPix (a reply larger on either side fails; 0 = unlimited on that
    side); ``max_output_pixels`` bounds the reply's pixel count; ``max_work_pixels`` bounds the
    canvases that ``crop``, ``size``, ``rotate`` and ``extend`` create.
    """
    composite_w, composite_h = layout.layer.composite
    if composite_w <= 0 or composite_h <= 0:
        raise ConversionError(
            f"extend={','.join(map(str, layout.layer.extend))} removes the whole "
            f"{layout.layer.rotated[0]}x{layout.layer.rotated[1]} image",
            handle=handle,
        )
    if layout.work_pixels > max_work_pixels:
        raise ImageTooLargeError(
            f"crop/size/rotate/extend would build a canvas of {layout.work_pixels} pixels, over the "
            f"limit of {max_work_pixels} source pixels",
            handle=handle,
        )
    reply_w, reply_h = layout.view.reply
    if max_pix is not None:
        limit_w, limit_h = max_pix
        if (limit_w > 0 and reply_w > limit_w) or (limit_h > 0 and reply_h > limit_h):
            raise ImageTooLargeError(
                f"the reply would be {reply_w}x{reply_h} pixels, over MaxPix {limit_w}x{limit_h}",
                handle=handle,
            )
    if reply_w * reply_h > max_output_pixels:
        raise ImageTooLargeError(
            f"the reply would be {reply_w}x{reply_h} = {reply_w * reply_h} pixels, over the "
            f"limit of {max_output_pixels} output pixels",
            handle=handle,
        )
