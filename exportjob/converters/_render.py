"""The pipeline: Image Serving's order of operations on one decoded original.

Stage L (layer 0): crop -> size -> op_growMask/op_growMaskR -> rotate -> extend. Stage C (the
composite): flip -> the filters in their fixed order. Stage V (the view): scale, align, crop or pad
-> op_sharpen/op_usm -> placement on the reply. The output stage (``_output``) and the encoder
follow. Every size comes from the ``Layout`` computed before decoding.

The layer is a ``Work``: an image plus the rectangle of it the layer occupies, so crop and extend
only move that rectangle and the next resampling applies them. With shrink-on-load the layer may
be held at a lower resolution than full: stage L/C steps that need a whole image (rotate,
flip, filters) run at twice the reply's resolution rather than the composite's, with their spatial
parameters (blur radius, noise strength) scaled to match.
"""

from __future__ import annotations

import math

import attrs
from PIL import Image

from .._formats import FormatInfo
from ..options import Flip, PixelType, RenderOptions
from ._alpha import with_alpha
from ._color import family, to_working, working_family
from ._filters import grow_mask, has_stage_c, sharpen, stage_c
from ._geometry import Layout, quarter_turns, rotated_size
from ._output import bgc_for_mode
from ._region import (
    Fill,
    Work,
    blank,
    inside,
    materialize,
    needs_resolution,
    render_region,
    resample_filter,
)

__all__ = ["DRAFT_GAP", "REDUCING_GAP", "WORK_GAP", "Rendered", "held_resolution", "render"]

# Shrink-on-load decodes at the smallest scale that keeps this many times the reply's resolution.
# JPEG's 1/2-1/8 decodes are block averages; leaving at least 1.5x to the resMode filter keeps the
# PSNR against a full decode at 49 dB or more (1.0 drops to 43 dB; 2.0 costs up to 20 % more time
# and gains nothing visible; docs/performance.md).
DRAFT_GAP = 1.5
# Resize through Image.reduce (a box average) down to this many times the target, then resample:
# 2.0, as Image.thumbnail does; 48-54 dB against a full Lanczos, up to twice as fast as 3.0
# (docs/performance.md).
REDUCING_GAP = 2.0
# With shrink-on-load, stage L/C work runs at this many times the reply's resolution.
WORK_GAP = 2.0


def held_resolution(options: RenderOptions, layout: Layout) -> float | None:
    """How much more resolution than the reply's the layer must keep with shrink-on-load; None = full.

    ``DRAFT_GAP`` when only crop/size/view resample; ``WORK_GAP`` when stage L/C steps work on a
    whole image (rotate, flip, filters), so their rounding stays well under a reply pixel; full
    resolution for ``op_grow``/``op_growMask``, whose integer radii do not scale down.
    """
    if options.op_grow or options.op_grow_mask or options.op_grow_mask_r:
        return None
    layer = layout.layer
    materializes = (
        quarter_turns(layer.rotate) != 0 or options.flip is not None or has_stage_c(options)
    )
    return max(WORK_GAP, DRAFT_GAP) if materializes else DRAFT_GAP


_RESAMPLABLE = frozenset({"L", "LA", "RGB", "RGBA", "CMYK"})
_FLIPS = {
    Flip.LR: Image.Transpose.FLIP_LEFT_RIGHT,
    Flip.UD: Image.Transpose.FLIP_TOP_BOTTOM,
    Flip.LRUD: Image.Transpose.ROTATE_180,
}
_QUARTER_TURNS = {
    1: Image.Transpose.ROTATE_270,  # Pillow's ROTATE_* are counter-clockwise
    2: Image.Transpose.ROTATE_180,
    3: Image.Transpose.ROTATE_90,
}
_TRANSFORM_FILTER = {
    Image.Resampling.LANCZOS: Image.Resampling.BICUBIC,  # transform() has no Lanczos
}


@attrs.frozen
class Rendered:
    """The reply image in a working mode, and the source profile still describing it (if any)."""

    image: Image.Image
    kept_profile: bytes | None


def _inside(work: Work) -> bool:
    return inside(work.box, work.image.size)


class _Pipeline:
    """One conversion's state: the options, the layout, and how uncovered pixels are filled."""

    def __init__(
        self,
        layout: Layout,
        options: RenderOptions,
        info: FormatInfo,
        pixel_type: PixelType,
        *,
        source_mode: str,
        icc: bytes | None,
        shrink_on_load: bool,
    ) -> None:
        self.layout = layout
        self.options = options
        self.info = info
        self.pixel_type = pixel_type
        self.icc = icc
        self.shrink_on_load = shrink_on_load
        self.kept_profile: bytes | None = None
        self.family = working_family(family(source_mode), pixel_type, options)
        # Stage L/C leave uncovered pixels transparent (flattened onto bgc at the output stage);
        # CMYK has no alpha, so a CMYK pipeline (only ever with a CMYK output) fills with bgc.
        self.fill: Fill = options.bgc.to_cmyk() if self.family is PixelType.CMYK else None
        self.gap = REDUCING_GAP if shrink_on_load else None
        view_x, view_y = layout.view_scale
        held = held_resolution(options, layout) if shrink_on_load else None
        self.wanted_scale = math.inf if held is None else WORK_GAP * max(view_x, view_y)

    # -- helpers ---------------------------------------------------------------------------------

    def working(self, work: Work) -> Work:
        """Convert the layer's pixels to the working mode (once)."""
        if work.working:
            return work
        return attrs.evolve(work, image=self.working_image(work.image), working=True)

    def working_image(self, image: Image.Image) -> Image.Image:
        """Convert an image in the original's mode to the working mode."""
        converted, kept = to_working(
            image, self.family, self.icc, managed=self.options.icc is not None
        )
        self.kept_profile = kept
        return converted

    def hold(self, work: Work) -> Work:
        """Make the layer a whole image in the working mode, at the resolution stage L/C work needs."""
        if not _inside(work):
            work = self.working(work)
        scale = needs_resolution(work, self.wanted_scale) if self.shrink_on_load else None
        work = materialize(
            work, scale=scale, res_mode=self.options.res_mode, reducing_gap=self.gap, fill=self.fill
        )
        return self.working(work)

    def region(
        self, work: Work, box: tuple[float, float, float, float], size: tuple[int, int]
    ) -> Image.Image:
        return render_region(
            work.image,
            box,
            size,
            res_mode=self.options.res_mode,
            reducing_gap=self.gap,
            fill=self.fill,
        )

    # -- stage L ---------------------------------------------------------------------------------

    def size(self, work: Work) -> Work:
        layer = self.layout.layer
        if layer.resized:
            if not _inside(work):
                work = self.working(work)
            image = self.region(work, work.box, layer.scaled)
            work = Work.whole(image, layer.scaled, working=work.working)
        if layer.canvas != layer.scaled:
            # The letterbox of size=w,h: transparent margins around the fitted image.
            left, top = layer.placed
            right = layer.canvas[0] - layer.scaled[0] - left
            bottom = layer.canvas[1] - layer.scaled[1] - top
            work = work.extended((left, top, right, bottom), layer.canvas)
        return work

    def grow_mask(self, work: Work) -> Work:
        options = self.options
        if not (options.op_grow_mask or options.op_grow_mask_r):
            return work
        work = self.hold(work)
        image = work.image
        if options.op_grow_mask:
            size_scale = max(self.layout.layer.size_scale)
            image = grow_mask(image, options.op_grow_mask * size_scale * work.scale)
        if options.op_grow_mask_r:
            image = grow_mask(image, options.op_grow_mask_r * work.scale)
        return attrs.evolve(work, image=image)

    def rotate(self, work: Work) -> Work:
        angle = self.layout.layer.rotate
        turns = quarter_turns(angle)
        if turns == 0:
            return work
        work = self.hold(work)
        logical = self.layout.layer.rotated
        if turns is not None:
            image = work.image.transpose(_QUARTER_TURNS[turns])
            return Work.whole(image, logical, working=True)
        image = work.image if self.fill is not None else with_alpha(work.image)
        width, height = image.size
        out_w, out_h = rotated_size(image.size, angle)
        theta = math.radians(angle)
        cos, sin = math.cos(theta), math.sin(theta)
        # Output pixel -> input pixel, about the centres; positive angles turn clockwise.
        matrix = (
            cos,
            sin,
            width / 2 - cos * out_w / 2 - sin * out_h / 2,
            -sin,
            cos,
            height / 2 + sin * out_w / 2 - cos * out_h / 2,
        )
        chosen = resample_filter(self.options.res_mode)
        resample = _TRANSFORM_FILTER.get(chosen, chosen)
        fill = self.fill if self.fill is not None else 0
        rotated = image.transform(
            (out_w, out_h), Image.Transform.AFFINE, matrix, resample=resample, fillcolor=fill
        )
        return Work.whole(rotated, logical, working=True)

    def extend(self, work: Work) -> Work:
        margins = self.layout.layer.extend
        if not any(margins):
            return work
        return work.extended(margins, self.layout.layer.composite)

    # -- stage C ---------------------------------------------------------------------------------

    def flip(self, work: Work) -> Work:
        if self.options.flip is None:
            return work
        work = self.hold(work)
        return attrs.evolve(work, image=work.image.transpose(_FLIPS[self.options.flip]))

    def filters(self, work: Work) -> Work:
        if not has_stage_c(self.options):
            return work
        work = self.hold(work)
        return attrs.evolve(work, image=stage_c(work.image, self.options, work.scale))

    # -- stage V ---------------------------------------------------------------------------------

    def view(self, work: Work) -> Image.Image:
        view = self.layout.view
        composite_w, composite_h = self.layout.layer.composite
        scaled_w, scaled_h = view.scaled
        offset_x, offset_y = view.offset
        x0, y0, x1, y1 = view.visible
        if x1 <= x0 or y1 <= y0:
            work = self.working(work)
            return blank(work.image.mode, view.reply, self._reply_fill(work.image.mode))
        rect = (
            (x0 - offset_x) * composite_w / scaled_w,
            (y0 - offset_y) * composite_h / scaled_h,
            (x1 - offset_x) * composite_w / scaled_w,
            (y1 - offset_y) * composite_h / scaled_h,
        )
        box = work.map_box(rect)
        if not _inside(attrs.evolve(work, box=box)):
            work = self.working(work)
        image = self.region(work, box, (x1 - x0, y1 - y0))
        if not work.working:
            image = self.working_image(image)
        image = sharpen(image, self.options, self.layout.total_scale)
        if not view.padded:
            return image
        fill = self._reply_fill(image.mode)
        canvas = blank(image.mode, view.reply, fill)
        canvas.paste(image if fill is not None else with_alpha(image), (x0, y0))
        return canvas

    def _reply_fill(self, mode: str) -> Fill:
        """The view padding: bgc itself where it survives to the output unchanged, else transparent."""
        if self.fill is not None:
            return self.fill
        if self.info.alpha:
            return None
        same_space = {
            PixelType.RGB: {"RGB", "RGBA"},
            PixelType.GRAY: {"L", "LA"},
            PixelType.CMYK: {"CMYK"},
        }[self.pixel_type]
        if mode in same_space:
            return bgc_for_mode(self.options.bgc, mode)
        return None


def render(
    decoded: Image.Image,
    valid: tuple[float, float, float, float],
    layout: Layout,
    *,
    options: RenderOptions,
    info: FormatInfo,
    pixel_type: PixelType,
    icc: bytes | None,
    shrink_on_load: bool,
) -> Rendered:
    """Run the pipeline on the *decoded* original (EXIF orientation applied, maybe shrunk on load).

    Args:
        decoded: the decoded first frame, at full or reduced (shrink-on-load) resolution.
        valid: where the whole original lies in *decoded* (JPEG's 1/8 decode of 1500 rows is
            188 rows, of which the original covers 187.5).
        layout: every size, computed from the full-resolution source size.
        options: the commands.
        info: the output format's row.
        pixel_type: the output pixel type.
        icc: the source's embedded ICC profile.
        shrink_on_load: hold the layer at the resolution the reply needs rather than at full
            resolution (the decode itself is shrunk by ``_decode.draft``).
    """
    pipeline = _Pipeline(
        layout,
        options,
        info,
        pixel_type,
        source_mode=decoded.mode,
        icc=icc,
        shrink_on_load=shrink_on_load,
    )
    layer = layout.layer
    vx, vy = valid[0], valid[1]
    kx = (valid[2] - valid[0]) / layer.source[0]
    ky = (valid[3] - valid[1]) / layer.source[1]
    x, y, w, h = layer.crop
    work = Work(
        decoded, (vx + x * kx, vy + y * ky, vx + (x + w) * kx, vy + (y + h) * ky), (w, h)
    ).clipped()
    if decoded.mode not in _RESAMPLABLE or "transparency" in decoded.info:
        work = pipeline.working(work)
    for step in (
        pipeline.size,
        pipeline.grow_mask,
        pipeline.rotate,
        pipeline.extend,
        pipeline.flip,
        pipeline.filters,
    ):
        work = step(work)
    image = pipeline.view(work)
    return Rendered(image, pipeline.kept_profile)
