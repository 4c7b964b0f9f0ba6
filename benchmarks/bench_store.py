"""Measure the per-file cost of a ``fmt=orig`` export through ``DirectoryStore``, against its floor.

Contenders, each over the same *count* originals of *size* bytes, into a fresh folder per round,
interleaved round by round so that machine noise hits them alike (no sync: the engine syncs once
per job, which is not a per-file cost):

* ``work``: the engine's work unit, ``exportjob._work.export_asset(store, CopyConverter(), plan)``,
  in a single-threaded loop over plans made before timing (what each engine worker runs);
* ``store``: the public calls it makes, ``open_original`` -> ``CopyConverter().convert`` ->
  ``write_export``;
* ``syscalls``: the floor, a plain loop of the system calls a safe publish needs on Linux: ``openat``
  of the original (``O_NOFOLLOW``) from a descriptor of the source folder, ``O_TMPFILE`` in the
  output folder, ``copy_file_range``, ``linkat`` of ``/proc/self/fd/N``;
* ``shutil``: ``shutil.copy`` of each file.

Run from the repository root (``--work /dev/shm`` takes the disk's journal out of the figures)::

    python benchmarks/bench_store.py --count 500 --rounds 9 [--work /dev/shm] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from exportjob import AssetHandle, ExportFormat, ExportPlan
from exportjob._work import export_asset
from exportjob.converters import CopyConverter
from exportjob.stores import DirectoryStore


def _prepared(
    source: Path, out: Path, names: list[str]
) -> tuple[DirectoryStore, CopyConverter, list[ExportPlan]]:
    """The store, the converter and the plans, made before timing."""
    store = DirectoryStore(source, out)
    plans = [
        ExportPlan(asset=store.describe(AssetHandle(n)), fmt=ExportFormat.ORIG, output_name=n)
        for n in names
    ]
    return store, CopyConverter(), plans


def work(source: Path, out: Path, names: list[str]) -> float:
    store, converter, plans = _prepared(source, out, names)
    start = time.perf_counter()
    for plan in plans:
        outcome = export_asset(store, converter, plan)
        if outcome.status.value != "exported":
            raise RuntimeError(outcome)
    return time.perf_counter() - start


def store_calls(source: Path, out: Path, names: list[str]) -> float:
    store, converter, plans = _prepared(source, out, names)
    start = time.perf_counter()
    for plan in plans:
        with store.open_original(plan.handle) as original:
            store.write_export(plan.output_name, converter.convert(original, plan).chunks)
    return time.perf_counter() - start


def syscalls(source: Path, out: Path, names: list[str]) -> float:
    out.mkdir()
    folder = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_PATH)
    target = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    start = time.perf_counter()
    for name in names:
        original = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
        temp = os.open(".", os.O_WRONLY | os.O_TMPFILE | os.O_CLOEXEC, 0o666, dir_fd=target)
        while os.copy_file_range(original, temp, 1 << 30):
            pass
        os.link(f"/proc/self/fd/{temp}", name, dst_dir_fd=target, follow_symlinks=True)
        os.close(temp)
        os.close(original)
    elapsed = time.perf_counter() - start
    os.close(folder)
    os.close(target)
    return elapsed


def shutil_copy(source: Path, out: Path, names: list[str]) -> float:
    out.mkdir()
    start = time.perf_counter()
    for name in names:
        shutil.copy(source / name, out / name)
    return time.perf_counter() - start


CONTENDERS: dict[str, Callable[[Path, Path, list[str]], float]] = {
    "work": work,
    "store": store_calls,
    "syscalls": syscalls,
    "shutil": shutil_copy,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--work", default=None, help="where the folders go (default: the temp dir)")
    parser.add_argument("--only", nargs="*", choices=sorted(CONTENDERS), default=None)
    parser.add_argument("--json", action="store_true", help="print the per-round figures as JSON")
    args = parser.parse_args(argv)
    if sys.platform != "linux":
        parser.error("the syscall floor is Linux's (O_TMPFILE, copy_file_range)")
    chosen = {k: v for k, v in CONTENDERS.items() if args.only is None or k in args.only}
    base = Path(tempfile.mkdtemp(prefix="bench-store-", dir=args.work))
    try:
        source = base / "src"
        source.mkdir()
        rng = random.Random(20240501)
        names = [f"f{i:05d}.bin" for i in range(args.count)]
        for name in names:
            (source / name).write_bytes(rng.randbytes(args.size))
        figures: dict[str, list[float]] = {k: [] for k in chosen}
        for round_ in range(args.rounds):
            for key, run in chosen.items():
                out = base / f"out-{key}-{round_}"
                figures[key].append(run(source, out, names) / args.count * 1e6)
                shutil.rmtree(out)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{args.count} x {args.size:,} B, {args.rounds} rounds, us per file:")
    for key, values in figures.items():
        print(f"  {key:9s} median {statistics.median(values):7.1f}   min {min(values):7.1f}")


if __name__ == "__main__":
    main()
