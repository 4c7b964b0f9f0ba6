"""Benchmark PillowConverter against a naive Pillow loop and, when installed, pyvips's thumbnail.

Builds its own originals in memory (24-megapixel JPEGs, a large PNG, large TIFFs), then times, per
image, interleaved round by round so that machine noise hits every contender alike:

* ``exportjob``: ``PillowConverter().convert(original, plan)`` for ``fmt=jpeg&wid=N``;
* ``naive``:     ``Image.open`` -> ``resize((N, h), LANCZOS)`` -> ``save(JPEG)``;
* ``pyvips``:    ``pyvips.Image.thumbnail_buffer(original, N)`` -> ``write_to_buffer(".jpg")``;
* ``floor``:     the bare Pillow decode, ``Image.open`` -> ``load()`` (a JPEG drafted to the reply's
  size first): the least any Pillow pipeline must spend before it resamples anything.

Every contender reads the same bytes from memory and writes a quality-80 JPEG to memory (the
conversion rows at the end: CMYK -> sRGB, sRGB -> a CMYK print profile as LZW TIFF, WebP and AVIF
outputs, write what their label says, pyvips the same). Medians
are reported with ratios (> 1: exportjob is faster), and a separate, untimed pass reports each
contender's PSNR against a full-resolution reference (Lanczos on the fully decoded original), so
speed is compared at known quality. Run from the repository root::

    .venv/bin/python benchmarks/bench_convert.py            # the figures in docs/performance.md
    .venv/bin/python benchmarks/bench_convert.py --quick    # smaller images, fewer rounds
    .venv/bin/python benchmarks/bench_convert.py --only JPEG --vips-concurrency 1
    .venv/bin/python benchmarks/bench_convert.py --sweep    # how DRAFT_GAP/REDUCING_GAP were chosen
    .venv/bin/python benchmarks/bench_convert.py --alternatives --quick  # cheaper filters, scored
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from PIL import Image, features

from exportjob.converters import PillowConverter
from exportjob.language import resolve_request
from exportjob.options import ConversionSettings, ProfileLibrary
from exportjob.plans import ExportPlan
from exportjob.testing import images

try:
    import pyvips
except ImportError:  # pragma: no cover - the bench extra is optional
    pyvips = None


def build_originals(quick: bool) -> list[tuple[str, bytes]]:
    """Return (label, bytes) for every original, built in code."""
    big = (3000, 2000) if quick else (6000, 4000)
    mid = (2000, 1500) if quick else (4000, 3000)
    started = time.perf_counter()
    photo = images.photo(big, seed=11)
    mp = big[0] * big[1] / 1e6
    originals = [
        (f"JPEG q92 {mp:.0f} MP", images.encode(photo, "JPEG", quality=92)),
        (f"JPEG q75 {mp:.0f} MP", images.encode(photo, "JPEG", quality=75)),
        (f"TIFF raw {mp:.0f} MP", images.encode(photo, "TIFF")),
    ]
    del photo
    gc.collect()
    smaller = images.photo(mid, seed=12)
    mp = mid[0] * mid[1] / 1e6
    originals += [
        (f"PNG {mp:.0f} MP", images.encode(smaller, "PNG", compress_level=6)),
        (f"TIFF LZW {mp:.0f} MP", images.encode(smaller, "TIFF", compression="tiff_lzw")),
    ]
    print(f"built {len(originals)} originals in {time.perf_counter() - started:.1f} s")
    return originals


PRESS = images.press_cmyk_profile()
SETTINGS = ConversionSettings(profiles=ProfileLibrary({"Press": PRESS}))


@attrs.frozen
class Conversion:
    """A conversion row beyond JPEG -> JPEG: the modifier exportjob gets, and what pyvips does."""

    label: str
    data: bytes
    modifier: str  # without wid=
    vips_save: Callable[[Any], bytes]  # the thumbnail -> the encoded reply
    vips_options: dict[str, Any] = attrs.field(factory=dict)


def build_conversions(quick: bool) -> list[Conversion]:
    """CMYK/ICC conversions and WebP/AVIF outputs, from a 6 (quick) or 24 MP photo."""
    size = (3000, 2000) if quick else (6000, 4000)
    mp = size[0] * size[1] / 1e6
    photo = images.photo(size, seed=11)
    jpeg = images.encode(photo, "JPEG", quality=92)
    cmyk = images.tagged(photo.convert("CMYK"), "JPEG", PRESS, quality=92)
    del photo
    gc.collect()
    press = Path(tempfile.mkdtemp()) / "press.icc"
    press.write_bytes(PRESS)
    return [
        Conversion(
            f"CMYK+ICC {mp:.0f} MP",
            cmyk,
            "fmt=jpeg",
            lambda im: im.write_to_buffer(".jpg[Q=80]"),
            {"export_profile": "srgb"},
        ),
        Conversion(
            f"->CMYK TIF {mp:.0f}",
            jpeg,
            "fmt=tif,,lzw&icc=Press&iccEmbed=1",
            lambda im: im.icc_transform(str(press), intent="relative").tiffsave_buffer(
                compression="lzw"
            ),
        ),
        Conversion(
            f"->WebP {mp:.0f} MP", jpeg, "fmt=webp", lambda im: im.write_to_buffer(".webp[Q=80]")
        ),
        Conversion(
            f"->AVIF {mp:.0f} MP", jpeg, "fmt=avif", lambda im: im.write_to_buffer(".avif[Q=80]")
        ),
    ]


def resolved_plan(modifier: str) -> ExportPlan:
    options = resolve_request(modifier, None, settings=SETTINGS).options
    if options.format is None:
        raise SystemExit(f"{modifier}: no output format")
    return attrs.evolve(
        images.plan(options.format.render()), options=options, output_format=options.format
    )


def decode_floor(data: bytes, width: int) -> Callable[[], object]:
    """The bare Pillow decode: a JPEG at the smallest draft scale that still covers the reply."""

    def floor() -> object:
        image = Image.open(io.BytesIO(data))
        if image.format == "JPEG":
            image.draft(None, (width, max(1, round(image.height * width / image.width))))
        image.load()
        return image

    return floor


def conversion_contenders(row: Conversion, width: int) -> dict[str, Callable[[], object]]:
    converter = PillowConverter()
    plan = resolved_plan(f"{row.modifier}&wid={width}")
    found: dict[str, Callable[[], object]] = {
        "exportjob": lambda: b"".join(converter.convert(io.BytesIO(row.data), plan)),
        "floor": decode_floor(row.data, width),
    }
    if pyvips is not None:
        found["pyvips"] = lambda: row.vips_save(
            pyvips.Image.thumbnail_buffer(row.data, width, **row.vips_options)
        )
    return found


def contenders(data: bytes, width: int) -> dict[str, Callable[[], object]]:
    converter = PillowConverter()
    plan = images.plan("jpeg", wid=width)

    def exportjob() -> bytes:
        return b"".join(converter.convert(io.BytesIO(data), plan))

    def naive() -> bytes:
        image = Image.open(io.BytesIO(data))
        height = round(image.height * width / image.width)
        image = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        return buffer.getvalue()

    found: dict[str, Callable[[], object]] = {
        "exportjob": exportjob,
        "naive": naive,
        "floor": decode_floor(data, width),
    }
    if pyvips is not None:

        def vips() -> bytes:
            return pyvips.Image.thumbnail_buffer(data, width).write_to_buffer(".jpg[Q=80]")

        found["pyvips"] = vips
    return found


def time_interleaved(runs: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Run every contender once per round, in a rotating order; return median seconds."""
    for run in runs.values():  # warm-up: imports, codec initialisation, caches
        run()
    names = list(runs)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            started = time.perf_counter()
            runs[name]()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def quality(data: bytes, width: int) -> dict[str, float]:
    """PSNR of each contender's thumbnail (as PNG) against Lanczos on the full decode."""
    full = Image.open(io.BytesIO(data)).convert("RGB")
    height = round(full.height * width / full.width)
    reference = full.resize((width, height), Image.Resampling.LANCZOS)
    del full
    out = PillowConverter().convert(io.BytesIO(data), images.plan("png", wid=width))
    scores = {
        "exportjob": images.psnr(Image.open(io.BytesIO(b"".join(out))).convert("RGB"), reference)
    }
    scores["naive"] = float("inf")  # it is the reference
    if pyvips is not None:
        png = pyvips.Image.thumbnail_buffer(data, width).write_to_buffer(".png")
        vips = Image.open(io.BytesIO(png)).convert("RGB")
        if vips.size == reference.size:
            scores["pyvips"] = images.psnr(vips, reference)
    return scores


def sweep(quick: bool, rounds: int) -> None:
    """Time and score the fast path's two tuning constants on JPEG and TIFF originals."""
    from exportjob.converters import _render  # noqa: PLC0415 - tuning knobs, benchmark only

    sizes = [(2000, 1500)] if quick else [(2000, 1500), (6000, 4000)]
    defaults = (_render.DRAFT_GAP, _render.REDUCING_GAP)
    print("D = DRAFT_GAP (JPEG), R = REDUCING_GAP (TIFF): PSNR against a full Lanczos, median time")
    for size in sizes:
        photo = images.photo(size, seed=11)
        for label, data, knob, values in (
            (
                f"JPEG q92 {size[0]}",
                images.encode(photo, "JPEG", quality=92),
                "DRAFT_GAP",
                (1.0, 1.5, 2.0),
            ),
            (
                f"TIFF raw {size[0]}",
                images.encode(photo, "TIFF"),
                "REDUCING_GAP",
                (1.5, 2.0, 3.0),
            ),
        ):
            full = Image.open(io.BytesIO(data)).convert("RGB")
            for width in (200, 400, 600, 1200):
                height = round(full.height * width / full.width)
                reference = full.resize((width, height), Image.Resampling.LANCZOS)
                cells = []
                for value in values:
                    setattr(_render, knob, value)
                    converter = PillowConverter()
                    png = converter.convert(io.BytesIO(data), images.plan("png", wid=width))
                    score = images.psnr(Image.open(io.BytesIO(b"".join(png))), reference)
                    runs = {"x": contenders(data, width)["exportjob"]}
                    seconds = time_interleaved(runs, rounds)["x"]
                    cells.append(f"{knob[0]}{value}: {score:4.1f}dB {seconds * 1000:4.0f}ms")
                print(f"{label:<18} {width:>5}  " + "  ".join(f"{c:>17}" for c in cells))
        _render.DRAFT_GAP, _render.REDUCING_GAP = defaults


def alternatives(quick: bool, widths: list[int], rounds: int) -> None:
    """PSNR and time of cheaper resampling pipelines than the converter's, on the decoded original.

    The evidence for keeping the filter at the 1200-pixel rows: each is scored against Lanczos on
    the full decode (what the converter does there), beside pyvips's thumbnail.
    """
    size = (3000, 2000) if quick else (6000, 4000)
    photo = images.photo(size, seed=11)
    sources = {
        "JPEG q92": images.encode(photo, "JPEG", quality=92),
        "TIFF raw": images.encode(photo, "TIFF"),
    }
    del photo
    for label, data in sources.items():
        full = Image.open(io.BytesIO(data)).convert("RGB")
        for width in widths:
            score_alternatives(label, data, full, width, rounds)


def score_alternatives(label: str, data: bytes, full: Image.Image, width: int, rounds: int) -> None:
    """Print PSNR and median time of each pipeline for one original and reply width."""
    lanczos, bicubic = Image.Resampling.LANCZOS, Image.Resampling.BICUBIC
    hamming, bilinear = Image.Resampling.HAMMING, Image.Resampling.BILINEAR
    reply = (width, round(full.height * width / full.width))
    reference = full.resize(reply, lanczos)

    def half_decode() -> Image.Image:
        image = Image.open(io.BytesIO(data))
        image.draft(None, (image.width // 2, image.height // 2))
        return image.resize(reply, lanczos)

    pipelines: dict[str, Callable[[], Image.Image]] = {
        "lanczos (the converter)": lambda: full.resize(reply, lanczos),
        "bicubic": lambda: full.resize(reply, bicubic),
        "hamming": lambda: full.resize(reply, hamming),
        "bilinear": lambda: full.resize(reply, bilinear),
        "lanczos, reducing_gap 1.5": lambda: full.resize(reply, lanczos, reducing_gap=1.5),
        "reduce(2) + lanczos": lambda: full.reduce(2).resize(reply, lanczos),
    }
    if label.startswith("JPEG"):
        pipelines["1/2 decode+lanczos, w/ decode"] = half_decode
    for name, run in pipelines.items():
        score = images.psnr(run(), reference)
        seconds = time_interleaved({"x": run}, rounds)["x"]
        print(f"{label} {width:>5}  {name:<26} {score:5.1f} dB {seconds * 1000:6.1f} ms")
    if pyvips is not None:
        png = pyvips.Image.thumbnail_buffer(data, width).write_to_buffer(".png")
        score = images.psnr(Image.open(io.BytesIO(png)).convert("RGB"), reference)
        print(f"{label} {width:>5}  {'pyvips thumbnail':<26} {score:5.1f} dB")


def environment() -> str:
    parts = [
        f"Python {platform.python_version()}",
        (
            f"Pillow {Image.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')}, "
            f"zlib {features.version('zlib')}, libtiff {features.version('libtiff')})"
        ),
    ]
    if pyvips is not None:
        parts.append(
            f"pyvips {pyvips.__version__} (libvips {pyvips.version(0)}.{pyvips.version(1)}."
            f"{pyvips.version(2)}, concurrency {pyvips.concurrency_get()})"
        )
    else:
        parts.append("pyvips not installed (pip install 'exportjob[bench]')")
    parts.append(f"{os.cpu_count()} CPUs, {platform.machine()}, {platform.system()}")
    return "; ".join(parts)


def row(
    label: str, data: bytes, width: int, medians: dict[str, float], scores: dict[str, float]
) -> str:
    """One line of the table; '-' where a contender or a score does not apply."""

    def ms(name: str) -> str:
        return f"{medians[name] * 1000:>7.1f}ms" if name in medians else f"{'-':>9}"

    def db(name: str, width: int) -> str:
        return f"{scores[name]:>{width}.1f}" if name in scores else f"{'-':>{width}}"

    ours = medians["exportjob"]
    naive = f"{medians['naive'] / ours:>8.2f}x" if "naive" in medians else f"{'-':>9}"
    vips = f"{medians['pyvips'] / ours:>7.2f}x" if "pyvips" in medians else f"{'-':>8}"
    return (
        f"{label:<16} {len(data) / 1e6:>6.1f}MB {width:>5} {ours * 1000:>8.1f}ms {ms('naive')} "
        f"{ms('pyvips')} {medians['floor'] * 1000:>6.1f}ms {naive} {vips} "
        f"{ours / medians['floor']:>7.2f}x {db('exportjob', 8)} {db('pyvips', 9)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 MP originals, 3 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 9)")
    parser.add_argument(
        "--widths", type=int, nargs="+", default=[400, 1200], help="reply widths (default 400 1200)"
    )
    parser.add_argument(
        "--only",
        default="",
        help="only originals whose label contains this ('conversions': only the conversion rows)",
    )
    parser.add_argument("--sweep", action="store_true", help="tune DRAFT_GAP and REDUCING_GAP")
    parser.add_argument(
        "--alternatives", action="store_true", help="score cheaper resampling pipelines"
    )
    parser.add_argument(
        "--vips-concurrency", type=int, default=None, help="libvips threads (default: its own)"
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 9)
    if args.vips_concurrency and pyvips is not None:
        pyvips.concurrency_set(args.vips_concurrency)
    print(environment())
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    if args.sweep:
        sweep(args.quick, rounds=args.rounds or 3)
        return 0
    if args.alternatives:
        alternatives(args.quick, args.widths, rounds=args.rounds or 3)
        return 0
    originals = [o for o in build_originals(args.quick) if args.only in o[0]]
    header = (
        f"{'original':<16} {'size':>8} {'wid':>5} {'exportjob':>10} {'naive':>9} {'pyvips':>9} "
        f"{'floor':>8} {'naive/ej':>9} {'vips/ej':>8} {'ej/floor':>8} {'PSNR ej':>8} "
        f"{'PSNR vips':>9}"
    )
    print()
    print(header)
    print("-" * len(header))
    for label, data in originals:
        for width in args.widths:
            medians = time_interleaved(contenders(data, width), rounds)
            scores = quality(data, width)
            print(row(label, data, width, medians, scores))
    if not args.only or args.only == "conversions":
        for conversion in build_conversions(args.quick):
            for width in args.widths:
                medians = time_interleaved(conversion_contenders(conversion, width), rounds)
                print(row(conversion.label, conversion.data, width, medians, {}))
    print()
    print("times are medians of interleaved rounds; ratios > 1 mean exportjob is faster;")
    print("PSNR (dB) is against Lanczos on the fully decoded original, before JPEG encoding;")
    print("floor is the bare Pillow decode (a JPEG drafted to the reply's size), ej/floor over it.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
