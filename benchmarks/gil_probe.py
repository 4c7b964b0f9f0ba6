"""How long one small JPEG conversion holds the GIL, and a plain 2-thread loop against one thread.

The conversion is bench_engine's (a 640x480 JPEG at quality 90 -> ``fmt=jpeg&wid=200``). Per
round, over *count* conversions of different originals:

* thread CPU per conversion of a plain loop of ``PillowConverter().convert`` (no profiler);
* the time inside the C calls that release the GIL (Pillow's decoder, resampler and file encoder),
  from a second loop under a profile hook that fires at each call and return, never inside one;
* GIL-held = the first minus the second: Python, and C that keeps the GIL;
* the wall time of the same loop on two threads (half the originals each) against one thread:
  the ceiling the engine's 2-thread row can reach.

Medians over the rounds; a loaded machine moves every figure, so compare versions interleaved::

    python benchmarks/gil_probe.py --rounds 12
"""

from __future__ import annotations

import argparse
import collections
import io
import statistics
import sys
import threading
import time
from typing import Any

from exportjob import Asset, ExportJob, plan_exports
from exportjob.converters import PillowConverter
from exportjob.testing import images

# (type of the C method's owner, method name) of the calls that run with the GIL released.
RELEASING = frozenset(
    {
        ("ImagingDecoder", "decode"),
        ("ImagingCore", "resize"),
        ("ImagingCore", "reduce"),
        ("ImagingEncoder", "encode_to_file"),
    }
)


def setup(count: int) -> tuple[list[bytes], list[Any]]:
    originals = [
        images.encode(images.photo((640, 480), seed=7 + i), "JPEG", quality=90)
        for i in range(count)
    ]
    handles = [f"p{i}.jpg" for i in range(count)]
    assets = [Asset(handle=h, type="Image", name=h[:-4], file_name=h, company="c") for h in handles]
    job = ExportJob(asset_handles=handles, fmt="convert", is_modifier="&fmt=jpeg&wid=200")
    return originals, list(plan_exports(assets, job, company="c"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args(argv)
    originals, plans = setup(args.count)
    converter = PillowConverter()

    def loop(indices: range) -> None:
        for i in indices:
            b"".join(converter.convert(io.BytesIO(originals[i]), plans[i]))

    inside: collections.Counter[str] = collections.Counter()
    started: dict[int, tuple[str, float]] = {}

    def hook(_frame: object, event: str, arg: Any) -> None:
        if event == "c_call":
            key = (type(getattr(arg, "__self__", None)).__name__, getattr(arg, "__name__", ""))
            if key in RELEASING:
                started[id(arg)] = (key[1], time.thread_time())
        elif event in {"c_return", "c_exception"} and id(arg) in started:
            name, start = started.pop(id(arg))
            inside[name] += time.thread_time() - start

    every = range(args.count)
    loop(every)  # warm-up
    rows: list[dict[str, float]] = []
    for _ in range(args.rounds):
        cpu, wall = time.thread_time(), time.perf_counter()
        loop(every)
        one_thread, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        inside.clear()
        sys.setprofile(hook)
        loop(every)
        sys.setprofile(None)
        free = sum(inside.values())
        threads = [threading.Thread(target=loop, args=(range(k, args.count, 2),)) for k in (0, 1)]
        wall = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        two_threads = time.perf_counter() - wall
        per = 1e6 / args.count
        rows.append(
            {"cpu": cpu * per, "free": free * per, "held": (cpu - free) * per}
            | {"ratio": one_thread / two_threads}
        )
    median = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    print(
        f"per conversion (medians of {args.rounds} rounds of {args.count}): "
        f"CPU {median['cpu']:.0f} us, in GIL-releasing C {median['free']:.0f} us, "
        f"GIL held {median['held']:.0f} us ({100 * median['held'] / median['cpu']:.0f} %); "
        f"plain loop on 2 threads vs 1: {median['ratio']:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
