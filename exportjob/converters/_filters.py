"""The ``op_*`` filters: stage C (the composite), ``op_growMask`` (layer 0) and stage V sharpening.

Stage-C filters run in the fixed order the reference recommends (brightness -> contrast ->
colorbalance -> saturation -> hue -> colorize -> invert -> blur -> grow -> noise) on ``L``/``LA`` or
``RGB``/``RGBA`` images; alpha is left alone except by ``op_grow``, which dilates every component.
Spatial radii are in composite pixels; *scale* (image pixels per composite pixel) converts them when
the composite is held at a lower resolution. Noise is seeded from the image and the command, so the
same original and plan give the same bytes.
"""

from __future__ import annotations

import hashlib
import random
import statistics

from PIL import Image, ImageChops, ImageFilter

from ..options import ColorizeOp, NoiseOp, RenderOptions
from ._alpha import has_alpha, join_alpha, split_alpha
from ._geometry import round_half_up

__all__ = ["grow_mask", "has_stage_c", "needs_rgb", "sharpen", "stage_c"]

_IDENTITY = list(range(256))


def _clamp(value: float) -> int:
    return max(0, min(255, round_half_up(value)))


def _colour_lut(im: Image.Image, *luts: list[int]) -> Image.Image:
    """Map the colour bands through *luts* (one for all, or one per band); alpha unchanged."""
    colour_bands = len(im.getbands()) - (1 if has_alpha(im) else 0)
    tables = list(luts) * colour_bands if len(luts) == 1 else list(luts)
    table = [v for lut in tables for v in lut]
    if has_alpha(im):
        table += _IDENTITY
    return im.point(table)


def needs_rgb(options: RenderOptions) -> bool:
    """Whether a stage-C filter works on RGB only (colour balance, saturation, hue, colorize)."""
    return bool(
        any(options.op_colorbalance)
        or options.op_saturation
        or options.op_hue
        or options.op_colorize is not None
    )


def has_stage_c(options: RenderOptions) -> bool:
    """Whether any stage-C filter (``op_brightness`` ... ``op_noise``) is asked for."""
    return bool(
        needs_rgb(options)
        or options.op_brightness
        or options.op_contrast
        or options.op_invert
        or options.op_blur
        or options.op_grow
        or options.op_noise is not None
    )


def _brightness(im: Image.Image, adjust: int) -> Image.Image:
    shift = adjust * 2.55
    return _colour_lut(im, [_clamp(v + shift) for v in range(256)])


def _contrast(im: Image.Image, adjust: int) -> Image.Image:
    factor = 1 + adjust / 100
    return _colour_lut(im, [_clamp(127.5 + (v - 127.5) * factor) for v in range(256)])


def _colorbalance(im: Image.Image, adjust: tuple[int, int, int]) -> Image.Image:
    luts = [[_clamp(v + a * 2.55) for v in range(256)] for a in adjust]
    return _colour_lut(im, *luts)


def _saturation(im: Image.Image, adjust: int) -> Image.Image:
    colour, alpha = split_alpha(im)
    gray = colour.convert("L").convert("RGB")
    return join_alpha(Image.blend(gray, colour, 1 + adjust / 100), alpha)


def _hue(im: Image.Image, degrees: int) -> Image.Image:
    colour, alpha = split_alpha(im)
    shift = round(degrees * 256 / 360)
    hue, sat, val = colour.convert("HSV").split()
    hue = hue.point([(v + shift) % 256 for v in range(256)])
    return join_alpha(Image.merge("HSV", (hue, sat, val)).convert("RGB"), alpha)


def _percentile(histogram: list[int], fraction: float) -> int:
    total = sum(histogram)
    if total == 0:
        return 0
    target = fraction * total
    running = 0
    for value, count in enumerate(histogram):
        running += count
        if running >= target:
            return value
    return 255  # pragma: no cover - the loop always reaches the total


def _colorize(im: Image.Image, op: ColorizeOp) -> Image.Image:
    colour, alpha = split_alpha(im)
    luma = colour.convert("L")
    levels = [v / 255 for v in range(256)]
    if op.normalize:
        mask = alpha.point(lambda a: 255 if a else 0) if alpha is not None else None
        histogram = luma.histogram(mask)
        low, high = _percentile(histogram, 0.005) / 255, _percentile(histogram, 0.995) / 255
        if high > low and op.contrast:
            weight = op.contrast / 100
            levels = [
                v + weight * (min(1.0, max(0.0, (v - low) / (high - low))) - v) for v in levels
            ]
        stretched = [0] * 256
        for value, count in enumerate(histogram):
            stretched[min(255, round(levels[value] * 255))] += count
        median = _percentile(stretched, 0.5) / 255
        if 0 < median < 1:
            levels = [
                v * 0.5 / median if v <= median else 0.5 + (v - median) * 0.5 / (1 - median)
                for v in levels
            ]
    bands = []
    for component in op.color:
        c = component / 255
        lut = [_clamp(255 * (c * 2 * v if v <= 0.5 else c + (1 - c) * (2 * v - 1))) for v in levels]
        bands.append(luma.point(lut))
    return join_alpha(Image.merge("RGB", bands), alpha)


def _invert(im: Image.Image) -> Image.Image:
    return _colour_lut(im, [255 - v for v in range(256)])


def _premultiplied(im: Image.Image) -> tuple[Image.Image, str | None]:
    if im.mode in {"RGBA", "LA"}:
        return im.convert("RGBa" if im.mode == "RGBA" else "La"), im.mode
    return im, None


def _blur(im: Image.Image, radius: float) -> Image.Image:
    if radius <= 0:
        return im
    work, restore = _premultiplied(im)
    out = work.filter(ImageFilter.GaussianBlur(radius))
    return out.convert(restore) if restore else out


def _shift(im: Image.Image, dx: int, dy: int) -> Image.Image:
    """Return *im* moved by (dx, dy) pixels, the uncovered edge replicating the nearest row/column."""
    width, height = im.size
    out = im.copy()
    if dx:
        step = min(abs(dx), width)
        if dx > 0:  # out[x] = im[x - dx]
            out.paste(im.crop((0, 0, width - step, height)), (step, 0))
            out.paste(im.crop((0, 0, 1, height)).resize((step, height)), (0, 0))
        else:  # out[x] = im[x + |dx|]
            out.paste(im.crop((step, 0, width, height)), (0, 0))
            out.paste(
                im.crop((width - 1, 0, width, height)).resize((step, height)), (width - step, 0)
            )
    if dy:
        step = min(abs(dy), height)
        if dy > 0:
            out.paste(im.crop((0, 0, width, height - step)), (0, step))
            out.paste(im.crop((0, 0, width, 1)).resize((width, step)), (0, 0))
        else:
            out.paste(im.crop((0, step, width, height)), (0, 0))
            out.paste(
                im.crop((0, height - 1, width, height)).resize((width, step)), (0, height - step)
            )
    return out


def _morphology(im: Image.Image, radius: int) -> Image.Image:
    """Dilate (radius > 0) or erode (< 0) every band with a square of side 2|radius|+1.

    Separable, and the window doubles at each step, so the cost grows with log(radius).
    """
    combine = ImageChops.lighter if radius > 0 else ImageChops.darker
    target = abs(radius)
    for axis in (0, 1):
        reach = 0  # the window covers [-reach, reach] along this axis
        while reach < target:
            step = min(2 * reach + 1, target - reach)
            forward = _shift(im, step, 0) if axis == 0 else _shift(im, 0, step)
            backward = _shift(im, -step, 0) if axis == 0 else _shift(im, 0, -step)
            im = combine(combine(im, forward), backward)
            reach += step
    return im


def _noise(im: Image.Image, op: NoiseOp, scale: float) -> Image.Image:
    colour, alpha = split_alpha(im)
    # Seeded from the command and a small digest of the pixels: reproducible, and different images
    # get different noise.
    digest = hashlib.sha256(repr(op).encode())
    digest.update(repr(colour.size).encode())
    digest.update(colour.resize((64, 64), Image.Resampling.NEAREST).tobytes())
    rng = random.Random(digest.digest())  # noqa: S311 - reproducible noise
    # Noise added at full resolution is averaged away by the view's reduction; added at a lower
    # resolution it must be weaker by the same linear factor to look the same in the reply.
    amount = op.amount / 100 * 255 * min(1.0, scale)
    if op.distribution == "uniform":
        offsets = [round((u / 255 * 2 - 1) * amount) for u in range(256)]
    else:
        normal = statistics.NormalDist(0, amount / 2)
        offsets = [round(normal.inv_cdf((u + 0.5) / 256)) for u in range(256)]
    raise_lut = [max(0, v) for v in offsets]
    lower_lut = [max(0, -v) for v in offsets]
    bands = colour.split()
    shared = op.monochrome or len(bands) == 1
    pixels = colour.width * colour.height
    plane = Image.frombytes("L", colour.size, rng.randbytes(pixels))
    noisy = []
    for band in bands:
        if not shared:
            plane = Image.frombytes("L", colour.size, rng.randbytes(pixels))
        raised = ImageChops.add(band, plane.point(raise_lut))
        noisy.append(ImageChops.subtract(raised, plane.point(lower_lut)))
    return join_alpha(Image.merge(colour.mode, noisy), alpha)


def stage_c(im: Image.Image, options: RenderOptions, scale: float) -> Image.Image:
    """Apply the stage-C filters to the composite *im*, held at *scale* pixels per composite pixel."""
    if options.op_brightness:
        im = _brightness(im, options.op_brightness)
    if options.op_contrast:
        im = _contrast(im, options.op_contrast)
    if any(options.op_colorbalance):
        im = _colorbalance(im, options.op_colorbalance)
    if options.op_saturation:
        im = _saturation(im, options.op_saturation)
    if options.op_hue:
        im = _hue(im, options.op_hue)
    if options.op_colorize is not None:
        im = _colorize(im, options.op_colorize)
    if options.op_invert:
        im = _invert(im)
    if options.op_blur:
        im = _blur(im, options.op_blur * scale)
    if options.op_grow:
        im = _morphology(im, round_half_up(options.op_grow * scale))
    if options.op_noise is not None and options.op_noise.amount:
        im = _noise(im, options.op_noise, scale)
    return im


def grow_mask(im: Image.Image, radius: float) -> Image.Image:
    """Dilate (radius > 0) or erode (< 0) the alpha band only; images without alpha are unchanged."""
    steps = round_half_up(abs(radius))
    if not has_alpha(im) or steps == 0:
        return im
    alpha = _morphology(im.getchannel("A"), steps if radius > 0 else -steps)
    out = im.copy()
    out.putalpha(alpha)
    return out


def sharpen(im: Image.Image, options: RenderOptions, total_scale: float) -> Image.Image:
    """Apply ``op_sharpen`` then ``op_usm``/``op_usmR`` to the scaled view image, alpha included.

    ``op_usm``'s radius refers to the full-resolution source and shrinks with it (*total_scale*
    reply pixels per source pixel, capped at 1); ``op_usmR``'s is used as is.
    """
    if options.op_sharpen:
        im = im.filter(ImageFilter.SHARPEN)
    usm = options.op_usm
    if usm is None or usm.amount <= 0:
        return im
    radius = usm.radius * (min(1.0, total_scale) if usm.scaled else 1.0)
    if radius <= 0:
        return im
    mask = ImageFilter.UnsharpMask(
        radius=radius, percent=round(usm.amount * 100), threshold=usm.threshold
    )
    if not usm.monochrome or im.mode in {"L", "LA"}:
        return im.filter(mask)
    colour, alpha = split_alpha(im)
    y, cb, cr = colour.convert("YCbCr").split()
    colour = Image.merge("YCbCr", (y.filter(mask), cb, cr)).convert("RGB")
    return join_alpha(colour, alpha.filter(mask) if alpha is not None else None)
