"""The export command's conversion options: print profiles, metadata kept, the memory budget.

Each group adds its arguments to the ``export`` parser and turns the parsed values into what the
engine takes (``ConversionSettings``, a converter with a memory budget).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from ._enums import ExportFormat
from .converters import CopyConverter
from .options import ConversionSettings, MetadataKeep, ProfileLibrary
from .protocols import Converter

__all__ = [
    "add_conversion_settings",
    "add_memory_budget",
    "budgeted_converter",
    "byte_size",
    "conversion_settings",
    "converter_for",
    "non_empty",
]


def add_conversion_settings(export: argparse.ArgumentParser) -> None:
    """The ``ConversionSettings`` options of ``export``: print profiles and metadata kept."""
    group = export.add_argument_group("conversion settings")
    group.add_argument(
        "--profiles",
        type=Path,
        metavar="DIR",
        help="load every NAME.icc / NAME.icm in DIR as the ICC profile NAME, for icc=NAME",
    )
    group.add_argument(
        "--keep-metadata",
        action="append",
        choices=[m.value for m in MetadataKeep],
        metavar="GROUP",
        help="copy this group of the originals' metadata into conversions: rights (EXIF "
        "Artist/Copyright, IPTC/XMP creator, rights, credit) or gps; repeatable; default none",
    )


def conversion_settings(args: argparse.Namespace) -> ConversionSettings | None:
    """Build the settings the conversion options ask for; None when none is given."""
    if args.profiles is None and not args.keep_metadata:
        return None
    profiles = ProfileLibrary.from_folder(args.profiles) if args.profiles else ProfileLibrary()
    return ConversionSettings(profiles=profiles, keep_metadata=args.keep_metadata or ())


def converter_for(fmt: ExportFormat, memory_budget: int | None = None) -> Converter | None:
    """The converter of an export: originals need no decoding; None is the engine's default."""
    if fmt is ExportFormat.ORIG:
        return CopyConverter()
    return None if memory_budget is None else budgeted_converter(memory_budget)


def non_empty(what: str) -> Callable[[str], str]:
    """An argument type refusing an empty or blank value, such as an unset shell variable gives.

    Empty, ``--out`` and ``SRC`` would be the current folder (exported into, or from, silently)
    and ``--zip`` an archive named after it, refused only once the whole job has run.
    """

    def parse(text: str) -> str:
        if not text.strip():
            msg = f"must not be empty (an unset shell variable?): give {what}"
            raise argparse.ArgumentTypeError(msg)
        return text

    return parse


# -- the memory budget (--memory-budget)

_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def byte_size(text: str) -> int:
    """Parse a SIZE option (``--memory-budget``, ``--zip-volume-size``): bytes, or K/M/G/T units.

    The units are powers of 1024 (``2G`` is 2 GiB).
    """
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = value[-1:] if value[-1:] in _SIZE_UNITS else ""
    try:
        number = float(value[: len(value) - len(unit)]) * _SIZE_UNITS[unit]
    except ValueError:
        number = 0.0
    size = int(number) if math.isfinite(number) else 0  # inf, 1e400, nan: no size
    if size <= 0:
        msg = f"invalid size {text!r}: expected bytes or a number with K, M, G or T, e.g. 2G"
        raise argparse.ArgumentTypeError(msg)
    return size


def add_memory_budget(export: argparse.ArgumentParser) -> None:
    """The ``--memory-budget SIZE`` option of ``export``."""
    export.add_argument(
        "--memory-budget",
        type=byte_size,
        metavar="SIZE",
        help="the memory all conversions may hold at once, e.g. 2G (default: half the RAM); "
        "a conversion that needs more than all of it fails with MEMORY_BUDGET_EXCEEDED",
    )


def budgeted_converter(memory_budget: int) -> Converter:
    """A Pillow converter whose conversions share *memory_budget* bytes."""
    from .converters import Limits, PillowConverter  # noqa: PLC0415 - Pillow only when converting

    return PillowConverter(Limits(memory_budget=memory_budget))
