"""``PillowConverter``: Image Serving conversions of originals with Pillow.

The flow of one conversion, each step in its own module::

    _decode   identify the original, read its header (no pixels yet)
    _screens  refuse it over the source limit, an ICO embedding or a WebP claiming too large an
              image, a JPEG whose data is far too short for the size it claims or that is
              arithmetic-coded, a JPEG 2000 file with a tile missing or cut short
    _geometry plan every size from the header; fail over a limit before decoding
    _decode   decode the first frame (shrunk on load when the reply is much smaller)
    _render   crop, size, rotate, extend, flip, filters, view transform, sharpening
    _output   pixel type, flattening onto bgc, palette
    _encode   write the format in memory

Foreign errors (Pillow, LittleCMS, codecs) are translated into ``ConversionError`` in one place,
``PillowConverter.convert``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import BinaryIO, TypeVar

import attrs
from PIL import Image, ImageCms, UnidentifiedImageError

from .._formats import FormatInfo, format_info, largest_side, pillow_can_write
from ..exceptions import (
    ConversionError,
    ExportJobError,
    ImageTooLargeError,
    InvalidValueError,
    StoreReadError,
)
from ..options import OutputFormat, RenderOptions
from ..plans import ExportPlan
from ..protocols import ConversionOutput
from ._budget import Hold, estimate, shared_budget
from ._color import output_profile
from ._copy import copy_output
from ._decode import decode, draft, open_header, oriented_size, peek_orientation, upright_size
from ._encode import encode, writer_options, written_dpi
from ._filters import has_stage_c
from ._geometry import Layout, check_layout, plan_layout
from ._jpeg_size import fit_budget
from ._metadata import carried, writer_metadata
from ._output import finish
from ._print import input_profile
from ._render import held_resolution, render

__all__ = ["Limits", "PillowConverter"]

_T = TypeVar("_T")

# What hostile or broken files make Pillow, its codecs and LittleCMS raise.
_FOREIGN_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    ValueError,
    SyntaxError,  # Pillow's "not a ... file"
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    MemoryError,
    RuntimeError,
    ImageCms.PyCMSError,
)


def _positive(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValueError(attribute.name, value, "must be a positive int")


@attrs.frozen(kw_only=True)
class Limits:
    """Pixel limits that protect a converter from decompression bombs and oversized replies.

    Args:
        max_source_pixels: the largest original (width x height, from its header) that is decoded,
            and the largest canvas ``crop``/``size``/``rotate``/``extend`` may build.
        max_output_pixels: the largest reply (width x height); checked before rendering.
        memory_budget: the bytes the conversions of one process may hold at once (None: half the
            machine's physical memory). Each conversion estimates its working set from the header
            and waits for room; one larger than the whole budget fails with ``MemoryBudgetError``.

    The source default is Pillow's own decompression-bomb threshold (``PIL.Image.MAX_IMAGE_PIXELS``,
    about 89.5 megapixels), so Pillow never warns about an original this limit admits. A host that
    raises it must raise ``PIL.Image.MAX_IMAGE_PIXELS`` too.

    >>> Limits()
    Limits(max_source_pixels=89478485, max_output_pixels=100000000, memory_budget=None)
    >>> Limits(max_source_pixels=0)
    Traceback (most recent call last):
      ...
    exportjob.exceptions.InvalidValueError: max_source_pixels: must be a positive int (got 0)
    """

    max_source_pixels: int = attrs.field(default=89_478_485, validator=_positive)
    max_output_pixels: int = attrs.field(default=100_000_000, validator=_positive)
    memory_budget: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_positive)
    )


@attrs.frozen
class PillowConverter:
    """Converts originals as a plan's Image Serving commands say, with Pillow.

    Args:
        limits: the source and output pixel limits.
        shrink_on_load: decode JPEGs at reduced scale, and hold intermediate images at twice the
            reply's resolution, when the reply is much smaller than the original. ``False`` always
            works at full resolution (slower; the reference shrink-on-load is tested against).

    A plan with no output format (``fmt=orig``) is streamed through unchanged. Otherwise the whole
    output is encoded in memory before ``convert`` returns, so a failure never leaves a partial file.
    Picklable: it holds nothing but its settings.

    >>> import io
    >>> from PIL import Image
    >>> from exportjob import Asset, ExportFormat, ExportPlan
    >>> from exportjob.options import OutputFormat, RenderOptions
    >>> original = io.BytesIO()
    >>> Image.new("RGB", (400, 300), "red").save(original, "PNG")
    >>> plan = ExportPlan(
    ...     asset=Asset(handle="a|1", type="Image", name="a", file_name="a.png", company="c"),
    ...     fmt=ExportFormat.CONVERT,
    ...     output_name="a.jpg",
    ...     output_format=OutputFormat("jpeg"),
    ...     options=RenderOptions(format=OutputFormat("jpeg"), wid=200),
    ... )
    >>> out = PillowConverter().convert(original, plan)
    >>> out.media_type, out.width, out.height
    ('image/jpeg', 200, 150)
    """

    limits: Limits = attrs.field(factory=Limits)
    shrink_on_load: bool = attrs.field(default=True, kw_only=True)

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        """Convert *source* as *plan* says; return the encoded output as one chunk.

        Raises:
            ImageTooLargeError: the original or the reply is over a limit (``MaxPix`` included).
            StoreReadError: reading *source* failed with a system error (an ``OSError`` with an
                ``errno``: a disk or a network failing), not with bytes the decoder refused.
            ConversionError: the original cannot be read (empty, truncated, corrupt, not an image,
                a format that is not read) or the plan asks for something this converter cannot
                write. ``handle`` names the asset.
        """
        if plan.output_format is None:
            return copy_output(source)
        handle = plan.handle.value
        try:
            with shared_budget(self.limits.memory_budget).hold() as hold:
                return self._convert(source, plan, plan.output_format, handle, hold)
        except ExportJobError:
            raise
        except Image.DecompressionBombError as exc:
            raise ImageTooLargeError(f"the original is too large: {exc}", handle=handle) from exc
        except UnidentifiedImageError as exc:
            raise ConversionError(
                f"the original is not an image in a format the converter reads: {exc}",
                handle=handle,
            ) from exc
        except _FOREIGN_ERRORS as exc:
            raise ConversionError(_describe(exc), handle=handle) from exc

    def _convert(
        self, source: BinaryIO, plan: ExportPlan, fmt: OutputFormat, handle: str, hold: Hold
    ) -> ConversionOutput:
        info = _writable(fmt, handle)
        options = plan.options or RenderOptions(format=fmt)
        # Refuses an original over max_source_pixels (ImageTooLargeError) before any pixel is decoded.
        header = _reading(
            handle, lambda: open_header(source, handle, max_pixels=self.limits.max_source_pixels)
        )
        width, height = header.size
        orientation = peek_orientation(header)
        layout = self._layout(upright_size(header, orientation or 1), options, handle)
        reply_w, reply_h = layout.view.reply
        _check_writable_size(info, fmt, (reply_w, reply_h), handle)
        reduction = _draft_reduction(layout, options) if self.shrink_on_load else 1
        valid = draft(header, reduction)
        # What is decoded (a JPEG's draft: 1/reduction a side) and what is built from it, which
        # shrinks with it but for the reply; all known before a pixel is decoded.
        shrunk = header.size[0] * header.size[1] / max(1, width * height)
        need = estimate(
            header.size,
            header.mode,
            header.format,
            canvas=max(int(layout.work_pixels * shrunk), reply_w * reply_h),
            extra_frames=int(info.palette) + int(has_stage_c(options)),
        )
        hold.reserve(need, handle=handle)
        decoded, applied, valid = _reading(
            handle, lambda: decode(header, orientation, valid, handle=handle)
        )
        if orientation is None and applied >= 5:
            # The orientation was only known after decoding (PNG eXIf after the pixels).
            layout = self._layout(oriented_size((width, height), applied), options, handle)
        rendered = render(
            decoded,
            valid,
            layout,
            options=options,
            info=info,
            pixel_type=fmt.pixel_type,
            # Spec section 8: untagged pixels are in the settings' default for their pixel type.
            icc=input_profile(
                decoded.mode, decoded.info.get("icc_profile") or None, options.source_profiles
            ),
            shrink_on_load=self.shrink_on_load,
        )
        finished = finish(
            rendered.image, info, options, fmt.pixel_type, kept_profile=rendered.kept_profile
        )
        icc = _embedded_profile(options, fmt, rendered.kept_profile)
        writer = writer_options(
            info,
            fmt,
            options.qlt,
            icc=icc,
            dpi=written_dpi(info, options.print_res, _source_dpi(header), handle),
            transparency=finished.transparency,
        )
        extra, kept = writer_metadata(info.pillow_format, carried(header, options), writer)
        writer |= extra
        if options.jpeg_size and info.pillow_format == "JPEG":
            data, _quality = fit_budget(
                lambda chosen: encode(finished.image, info, chosen),
                writer,
                options.jpeg_size,
                handle=handle,
            )
        else:
            data = encode(finished.image, info, writer)
        return ConversionOutput(
            (data,),
            fmt,
            media_type=info.mime,
            width=finished.image.width,
            height=finished.image.height,
            metadata=kept,
        )

    def _layout(self, upright: tuple[int, int], options: RenderOptions, handle: str) -> Layout:
        layout = plan_layout(upright, options)
        check_layout(
            layout,
            max_pix=options.max_pix,
            max_output_pixels=self.limits.max_output_pixels,
            max_work_pixels=self.limits.max_source_pixels,
            handle=handle,
        )
        return layout


def _embedded_profile(
    options: RenderOptions, fmt: OutputFormat, kept: bytes | None
) -> bytes | None:
    """The profile ``iccEmbed=1`` writes: the output profile of ``icc=``, else the working one."""
    if not options.icc_embed:
        return None
    if options.icc is not None:
        return options.icc.profile
    return output_profile(fmt.pixel_type, kept)


def _check_writable_size(
    info: FormatInfo, fmt: OutputFormat, reply: tuple[int, int], handle: str
) -> None:
    """Refuse, before decoding, a reply wider or taller than the output format can hold."""
    most = largest_side(info, fmt.compression)
    if most is not None and max(reply) > most:
        raise ImageTooLargeError(
            f"the reply would be {reply[0]}x{reply[1]} pixels, and fmt={fmt.render()} holds at "
            f"most {most} pixels a side: ask for a smaller wid, hei or scl, or another format",
            handle=handle,
        )


def _writable(fmt: OutputFormat, handle: str) -> FormatInfo:
    """Return the format's row, or raise ``ConversionError`` if it cannot be written as *fmt* says."""
    info = format_info(fmt.name)
    if info is None or not pillow_can_write(fmt.name):
        raise ConversionError(
            f"fmt={fmt.render()}: this installation cannot write {fmt.name}", handle=handle
        )
    refusal = info.refusal(fmt.pixel_type, fmt.compression)
    if refusal is not None:
        raise ConversionError(f"fmt={fmt.render()}: {refusal.reason}", handle=handle)
    return info


def _draft_reduction(layout: Layout, options: RenderOptions) -> int:
    """The JPEG draft factor: the largest of 8, 4, 2 that keeps the resolution the reply needs."""
    gap = held_resolution(options, layout)
    if gap is None:
        return 1
    needed = layout.total_scale * gap
    for factor in (8, 4, 2):
        if needed <= 1 / factor:
            return factor
    return 1


_X_RESOLUTION = 282  # TIFF and EXIF: XResolution


def _source_dpi(image: Image.Image) -> float | None:
    """The resolution the original declares (JFIF, EXIF, pHYs, TIFF tags), if it is a usable number.

    Only a declared one: Pillow says 1 dpi for a TIFF without resolution tags, and 72 for a JPEG
    whose EXIF block has none (and whose JFIF density is a bare aspect ratio).
    """
    if image.format == "TIFF" and _X_RESOLUTION not in getattr(image, "tag_v2", {}):
        return None
    if (
        image.format in {"JPEG", "MPO"}
        and image.info.get("jfif_unit") not in {1, 2}
        and _X_RESOLUTION not in image.getexif()
    ):
        return None
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return None
    return value if math.isfinite(value) and 1 <= value <= 100_000 else None


def _reading(handle: str, read: Callable[[], _T]) -> _T:
    """Run *read*, which reads the original: the system's ``OSError`` there is a read failure.

    One with an ``errno`` (a disk, a network failing under the stream; Pillow's own carry none) is
    ``StoreReadError``, as with ``fmt=orig``. Only while the original is read: writing the output
    can fail with the system's errors too (a file size limit), which stay conversion failures.
    """
    try:
        return read()
    except OSError as exc:
        if exc.errno is None or isinstance(exc, ExportJobError):
            raise
        message = f"could not read the original: {type(exc).__name__}: {exc}"
        raise StoreReadError(message, handle=handle) from exc


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, MemoryError):
        return "not enough memory to convert the original"
    if "truncated" in text.lower():
        return f"the original is truncated: {text}"
    return f"the original could not be converted ({type(exc).__name__}: {text})"
