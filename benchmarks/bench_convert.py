"""Benchmark PillowConverter against a naive Pillow loop and, when installed, pyvips's thumbnail.

Builds its own originals in memory (24-megapixel JPEGs, a large PNG, large TIFFs), then times, per
image, interleaved round by round so that machine noise hits every contender alike:

* ``exportjob``: ``PillowConverter().convert(original, plan)`` for ``fmt=jpeg&wid=N``;
* ``naive``:     ``Image.open`` -> ``resize((N, h), LANCZOS)`` -> ``save(JPEG)``;
* ``pyvips``:    ``pyvips.Image.thumbnail_buffer(original, N)`` -> ``write_to_buffer(".jpg")``.

Every contender reads the same bytes from memory and writes a quality-80 JPEG to memory. Medians
are reported with ratios (> 1: exportjob is faster), and a separate, untimed pass reports each
contender's PSNR against a full-resolution reference (Lanczos on the fully decoded original), so
speed is compared at known quality. Run from the repository root::

    .venv/bin/python benchmarks/bench_convert.py            # the figures in docs/performance.md
    .venv/bin/python benchmarks/bench_convert.py --quick    # smaller images, fewer rounds
    .venv/bin/python benchmarks/bench_convert.py --only JPEG --vips-concurrency 1
    .venv/bin/python benchmarks/bench_convert.py --sweep    # how DRAFT_GAP/REDUCING_GAP were chosen
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, features

from exportjob.converters import PillowConverter
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


def contenders(data: bytes, width: int) -> dict[str, Callable[[], bytes]]:
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

    found: dict[str, Callable[[], bytes]] = {"exportjob": exportjob, "naive": naive}
    if pyvips is not None:

        def vips() -> bytes:
            return pyvips.Image.thumbnail_buffer(data, width).write_to_buffer(".jpg[Q=80]")

        found["pyvips"] = vips
    return found


def time_interleaved(runs: dict[str, Callable[[], bytes]], rounds: int) -> dict[str, float]:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 MP originals, 3 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 9)")
    parser.add_argument(
        "--widths", type=int, nargs="+", default=[400, 1200], help="reply widths (default 400 1200)"
    )
    parser.add_argument("--only", default="", help="only originals whose label contains this")
    parser.add_argument("--sweep", action="store_true", help="tune DRAFT_GAP and REDUCING_GAP")
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
    originals = [o for o in build_originals(args.quick) if args.only in o[0]]
    header = (
        f"{'original':<16} {'size':>8} {'wid':>5} {'exportjob':>10} {'naive':>9} {'pyvips':>9} "
        f"{'naive/ej':>9} {'vips/ej':>8} {'PSNR ej':>8} {'PSNR vips':>9}"
    )
    print()
    print(header)
    print("-" * len(header))
    for label, data in originals:
        for width in args.widths:
            medians = time_interleaved(contenders(data, width), rounds)
            scores = quality(data, width)
            ours = medians["exportjob"]
            vips = medians.get("pyvips")
            print(
                f"{label:<16} {len(data) / 1e6:>6.1f}MB {width:>5} {ours * 1000:>8.1f}ms "
                f"{medians['naive'] * 1000:>7.1f}ms "
                + (f"{vips * 1000:>7.1f}ms " if vips else f"{'-':>9} ")
                + f"{medians['naive'] / ours:>8.2f}x "
                + (f"{vips / ours:>7.2f}x " if vips else f"{'-':>8} ")
                + f"{scores['exportjob']:>7.1f} "
                + (f"{scores['pyvips']:>8.1f}" if "pyvips" in scores else f"{'-':>9}")
            )
    print()
    print("times are medians of interleaved rounds; ratios > 1 mean exportjob is faster;")
    print("PSNR (dB) is against Lanczos on the fully decoded original, before JPEG encoding.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
