"""Benchmark the engine at real scale: latency, memory per asset, orig copies, small conversions.

Builds every input in code (seeded, in a temporary folder or in memory) and measures four things,
the contenders of each interleaved round by round so that machine noise hits them alike:

* ``latency``: 400 assets on a store whose ``describe`` and ``open_original`` each sleep 5 ms,
  exported with ``CopyConverter`` into a ``MemoryStore`` by ``ExportEngine(workers=32)``, against
  the ideal 400 * 10 ms / 32 = 0.125 s (a hand-written 32-thread loop is shown for reference);
  and 800 assets of a store that describes in batches (``describe_many``, 50 ms a call) and opens
  in 10 ms, on 8 workers, against the ideal 0.05 + 800 * 10 ms / 8 = 1.05 s;
* ``memory``: the peak resident memory (``ru_maxrss``) of a fresh process that builds and runs a
  ``fmt=orig`` job of 2,000, 20,000 and 200,000 tiny assets on a store that makes originals from
  the handle and discards the exports, the final ``JobLog`` held; per asset beyond 2,000 assets;
* ``orig``: ``fmt=orig`` of 2,000 x 20 KB and 100 x 4 MB files with ``DirectoryStore`` and
  ``CopyConverter`` (the engine syncs once at the end) against ``shutil.copy`` of each file then
  one ``os.sync()``, into a fresh folder per round (the last round's folder removed and synced
  before, untimed); beside them, for reference, a plain loop of the store's describe, the planner
  and the store's write (what the engine does per asset, without the engine) and, on Linux, the
  system calls of the safe publish alone in plain Python (open, an unnamed file, copy, link), with
  each contender's user and system CPU per file;
* ``convert``: 200 640x480 JPEGs to ``fmt=jpeg&wid=200`` into a ``DirectoryStore``: the engine with
  one worker against a hand-written loop of ``PillowConverter().convert`` and a file write (the same
  plans, from ``plan_exports``, made before timing; one ``os.sync()`` at the end, as the engine
  syncs once); then two workers against one, on threads and on a process pool, each beside the
  same hand loop split over two workers against one (no engine: the machine's own ceiling).

Medians are reported with their ratios and targets. Run from the repository root::

    python benchmarks/bench_engine.py                 # the figures in docs/performance.md
    python benchmarks/bench_engine.py --quick         # smaller inputs, fewer rounds
    python benchmarks/bench_engine.py --only memory --trace 15   # where the bytes go
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import itertools
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from exportjob import (
    Asset,
    AssetHandle,
    ExportEngine,
    ExportJob,
    ExportPlan,
    JobContext,
    JobLog,
    plan_exports,
)
from exportjob.converters import CopyConverter, PillowConverter
from exportjob.plans import Planner
from exportjob.protocols import OnConflict, WrittenExport
from exportjob.stores import DirectoryStore, MemoryStore
from exportjob.testing import images

SEED = 20240501
CONTEXT = JobContext(company="bench", job_name="bench")
BENCHMARKS = ("latency", "memory", "orig", "convert")


class Row(NamedTuple):
    """One line of the table: what was measured against what, the ratio, and its target."""

    bench: str
    case: str
    ours: str
    reference: str
    ratio: float
    target: str
    met: bool


def cpu_times() -> tuple[float, float]:
    """User and system CPU seconds of this process so far, to the microsecond where it can."""
    try:
        import resource  # noqa: PLC0415 - POSIX only

        usage = resource.getrusage(resource.RUSAGE_SELF)
    except ImportError:  # pragma: no cover - Windows: clock ticks
        times = os.times()
        return times.user, times.system
    return usage.ru_utime, usage.ru_stime


def time_interleaved(
    runs: dict[str, Callable[[], object]],
    rounds: int,
    *,
    before: Callable[[], object] | None = None,
    cpu: dict[str, tuple[float, float]] | None = None,
) -> dict[str, float]:
    """Run every contender once per round, in a rotating order, after a warm-up; median seconds.

    *before* runs untimed before every run (a fresh output folder, the last one removed). *cpu*,
    if given, receives each contender's median user and system CPU seconds of the whole process.
    """
    names = list(runs)
    for name in names:
        if before is not None:
            before()
        runs[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    used: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            if before is not None:
                before()
            gc.collect()
            times = cpu_times()
            started = time.perf_counter()
            runs[name]()
            samples[name].append(time.perf_counter() - started)
            after = cpu_times()
            used[name].append((after[0] - times[0], after[1] - times[1]))
    if cpu is not None:
        for name, pairs in used.items():
            cpu[name] = (
                statistics.median(p[0] for p in pairs),
                statistics.median(p[1] for p in pairs),
            )
    return {name: statistics.median(values) for name, values in samples.items()}


def check(log: JobLog, expected: int) -> None:
    """Stop if a timed job did not export everything (a fast failure is no result)."""
    if log.counts.success != expected:
        raise SystemExit(f"a benchmark job did not export everything: {log.summary()}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


class Outputs:
    """A fresh output folder per run, the last one's writes synced first (untimed).

    Folders of many small files are kept until the benchmark ends: on an ext4 file system without
    a journal, creating files just after thousands were removed is several times slower for a
    minute or more (the kernel skips recently deleted inodes one by one), which would time the
    file system, not the contenders. Folders of a few big files are removed after each run.
    """

    def __init__(self, work: Path, prefix: str, *, remove_each: bool = False) -> None:
        self.work = work
        self.prefix = prefix
        self.remove_each = remove_each
        self._numbers = itertools.count()
        self.current = work / f"{prefix}-none"

    def fresh(self) -> None:
        if self.remove_each:
            shutil.rmtree(self.current, ignore_errors=True)
        os.sync()  # the last run's writes (and removals) are not the next contender's to sync
        self.current = self.work / f"{self.prefix}-{next(self._numbers)}"

    def close(self) -> None:
        if self.remove_each:
            shutil.rmtree(self.current, ignore_errors=True)


# -- 1. a latency-bound store


class SlowStore:
    """A ``MemoryStore``'s originals, whose ``describe`` and ``open_original`` take *delay* each."""

    def __init__(self, inner: MemoryStore, delay: float) -> None:
        self.inner = inner
        self.delay = delay
        self.exports = MemoryStore()

    def describe(self, handle: AssetHandle) -> Asset:
        time.sleep(self.delay)
        return self.inner.describe(handle)

    def open_original(self, handle: AssetHandle) -> contextlib.AbstractContextManager[BinaryIO]:
        time.sleep(self.delay)
        return self.inner.open_original(handle)

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        return self.exports.write_export(name, chunks, on_conflict=on_conflict)


class BatchStore(SlowStore):
    """A ``SlowStore`` that describes in batches: one round trip of *batch_delay* per call."""

    def __init__(self, inner: MemoryStore, delay: float, batch_delay: float) -> None:
        super().__init__(inner, delay)
        self.batch_delay = batch_delay

    def describe_many(self, handles: Sequence[AssetHandle]) -> Mapping[AssetHandle, Asset]:
        time.sleep(self.batch_delay)
        return {handle: self.inner.describe(handle) for handle in handles}


def bench_latency(rounds: int) -> list[Row]:
    count, delay, workers = 400, 0.005, 32
    inner = MemoryStore(default_company="bench")
    rng = random.Random(SEED)
    for i in range(count):
        inner.add(f"slow/{i:04d}", rng.randbytes(64), file_name=f"slow-{i:04d}.bin")
    job = ExportJob(asset_handles=[f"slow/{i:04d}" for i in range(count)], fmt="orig")
    plans = {
        p.handle: p
        for p in plan_exports([inner.describe(h) for h in job.asset_handles], job, company="bench")
    }
    ideal = count * 2 * delay / workers

    def engine() -> None:
        with ExportEngine(SlowStore(inner, delay), CopyConverter(), workers=workers) as e:
            check(e.run(job, CONTEXT), count)

    def loop() -> None:
        store, converter = SlowStore(inner, delay), CopyConverter()

        def one(handle: AssetHandle) -> None:
            plan = plans[store.describe(handle).handle]
            with store.open_original(handle) as source:
                store.write_export(plan.output_name, converter.convert(source, plan))

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, job.asset_handles))

    # A store with describe_many: 800 assets, 50 ms per batch of handles, 10 ms per open, 8 workers.
    batched = MemoryStore(default_company="bench")
    for i in range(800):
        batched.add(f"b/{i:04d}", rng.randbytes(64), file_name=f"b-{i:04d}.bin")
    batch_job = ExportJob(asset_handles=[f"b/{i:04d}" for i in range(800)], fmt="orig")
    batch_ideal = 0.05 + 800 * 0.01 / 8

    def batches() -> None:
        store = BatchStore(batched, 0.01, 0.05)
        with ExportEngine(store, CopyConverter(), workers=8, max_in_flight=128) as e:
            check(e.run(batch_job, CONTEXT), 800)

    medians = time_interleaved({"engine": engine, "loop": loop, "batches": batches}, rounds)
    ratio = medians["engine"] / ideal
    batch_ratio = medians["batches"] / batch_ideal
    return [
        Row(
            "latency",
            "400 assets, describe+open 5 ms each, 32 workers",
            ms(medians["engine"]),
            f"ideal {ms(ideal)} (32-thread loop {ms(medians['loop'])})",
            ratio,
            "<= 2.00x ideal",
            ratio <= 2.0,
        ),
        Row(
            "latency",
            "  800 assets, describe_many 50 ms per batch, open 10 ms, 8 workers",
            ms(medians["batches"]),
            f"ideal {ms(batch_ideal)}",
            batch_ratio,
            "<= 2.00x ideal",
            batch_ratio <= 2.0,
        ),
    ]


# -- 2. resident memory per asset


class NullStore:
    """Originals made from the handle on the fly; exports read, counted and discarded."""

    def describe(self, handle: AssetHandle) -> Asset:
        value = handle.value
        return Asset(
            handle=handle, type="Asset", name=value, file_name=f"{value}.bin", company="bench"
        )

    def open_original(self, handle: AssetHandle) -> contextlib.AbstractContextManager[BinaryIO]:
        return io.BytesIO(handle.value.encode())

    def write_export(
        self,
        name: str,
        chunks: Iterable[bytes],
        *,
        on_conflict: OnConflict = OnConflict.ERROR,  # noqa: ARG002 - never a conflict here
    ) -> WrittenExport:
        size = sum(len(chunk) for chunk in chunks)
        return WrittenExport(name, f"null://{name}", size)


def memory_child(count: int, trace: int) -> None:
    """Build and run one job of *count* assets here; print the peak RSS (bytes) as JSON."""
    if trace:
        import tracemalloc  # noqa: PLC0415 - only when asked where the bytes go

        tracemalloc.start()
    job = ExportJob(asset_handles=[f"n{i:07d}" for i in range(count)], fmt="orig")
    with ExportEngine(NullStore(), CopyConverter()) as engine:
        log = engine.run(job, CONTEXT)
    check(log, count)
    report: dict[str, Any] = {
        "count": count,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    if trace:
        snapshot = tracemalloc.take_snapshot()
        stats = snapshot.statistics("lineno")
        report["traced"] = sum(stat.size for stat in stats)
        report["peak_traced"] = tracemalloc.get_traced_memory()[1]
        report["top"] = [
            f"{stat.size / count:7.1f} B/asset  "
            f"{'/'.join(Path(stat.traceback[0].filename).parts[-2:])}:{stat.traceback[0].lineno}"
            for stat in stats[:trace]
        ]
    print(json.dumps(report))
    del log


def peak_rss(count: int, trace: int = 0) -> dict[str, Any]:
    """Run ``memory_child`` in a fresh interpreter and return its report."""
    command = [sys.executable, __file__, "--memory-child", str(count), "--trace", str(trace)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def bench_memory(quick: bool, rounds: int, trace: int) -> tuple[list[Row], list[str]]:
    sizes = (2_000, 20_000, 50_000) if quick else (2_000, 20_000, 200_000)
    samples: dict[int, list[int]] = {size: [] for size in sizes}
    for _ in range(max(1, rounds // 2)):
        for size in sizes:
            samples[size].append(peak_rss(size)["peak_rss"])
    peaks = {size: statistics.median(values) for size, values in samples.items()}
    base = sizes[0]
    rows = []
    for size in sizes[1:]:
        per = (peaks[size] - peaks[base]) / (size - base)
        rows.append(
            Row(
                "memory",
                f"peak RSS, {size:,} tiny orig assets, log held",
                f"{peaks[size] / 2**20:.1f} MB",
                f"{base:,} assets {peaks[base] / 2**20:.1f} MB",
                per,
                "<= 1,024 B/asset",
                per <= 1024,
            )
        )
    notes = []
    if trace:
        report = peak_rss(sizes[-1], trace)
        notes.append(f"tracemalloc after the job of {sizes[-1]:,} assets, the log held:")
        notes.extend(f"    {line}" for line in report["top"])
        notes.append(
            f"    {report['traced'] / sizes[-1]:7.1f} B/asset traced in all; "
            f"peak {report['peak_traced'] / sizes[-1]:.1f} B/asset"
        )
    return rows, notes


# -- 3. orig export against shutil.copy


def bench_orig(quick: bool, rounds: int, work: Path) -> tuple[list[Row], list[str]]:
    rng = random.Random(SEED)
    rows: list[Row] = []
    notes: list[str] = []
    for label, count, size in (("20 KB", 2_000, 20_000), ("4 MB", 100, 4_000_000)):
        n = count // 4 if quick else count
        found, said = orig_case(label, n, size, rounds=rounds, work=work, rng=rng)
        rows += found
        notes += said
    return rows, notes


def safe_publish_loop(paths: list[Path], target: Path) -> None:
    """The least the library's safe publish does per file, in plain Python (Linux): open the
    original, an unnamed temporary file in *target*, ``copy_file_range`` to the end, ``link``."""
    target.mkdir()
    folder = str(target)
    for path in paths:
        source = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        temp = os.open(folder, os.O_RDWR | os.O_TMPFILE, 0o666)
        while os.copy_file_range(source, temp, 1 << 30):
            pass
        os.link(f"/proc/self/fd/{temp}", f"{folder}/{path.name}", src_dir_fd=temp)
        os.close(temp)
        os.close(source)
    os.sync()


def orig_case(
    label: str, count: int, size: int, *, rounds: int, work: Path, rng: random.Random
) -> tuple[list[Row], list[str]]:
    source = work / f"orig-{label.replace(' ', '')}"
    source.mkdir()
    paths = []
    for i in range(count):
        path = source / f"file-{i:05d}.bin"
        path.write_bytes(rng.randbytes(size))
        paths.append(path)
    job = ExportJob(
        asset_handles=DirectoryStore(source, work / "unused", default_company="bench").handles(),
        fmt="orig",
    )
    outputs = Outputs(work, f"orig-out-{label.replace(' ', '')}", remove_each=size >= 1_000_000)

    def exportjob() -> None:
        with ExportEngine(
            DirectoryStore(source, outputs.current, default_company="bench"), CopyConverter()
        ) as e:
            check(e.run(job, CONTEXT), count)

    def baseline() -> None:
        target = outputs.current
        target.mkdir()
        for path in paths:
            shutil.copy(path, target / path.name)
        os.sync()

    def plain_loop() -> None:
        # What the engine does per asset, without the engine: describe, plan, open, copy, publish.
        store = DirectoryStore(source, outputs.current, default_company="bench")
        planner = Planner(job, None, company="bench")
        converter = CopyConverter()
        for handle in job.unique_handles:
            plan = planner.plan(store.describe(handle))
            with store.open_original(handle) as original:
                store.write_export(plan.output_name, converter.convert(original, plan).chunks)
        store.sync()

    runs: dict[str, Callable[[], object]] = {
        "exportjob": exportjob,
        "baseline": baseline,
        "plain loop": plain_loop,
    }
    if hasattr(os, "O_TMPFILE") and Path("/proc/self/fd").is_dir():
        runs["safe publish"] = lambda: safe_publish_loop(paths, outputs.current)
    cpu: dict[str, tuple[float, float]] = {}
    medians = time_interleaved(runs, rounds, before=outputs.fresh, cpu=cpu)
    outputs.close()
    ratio = medians["baseline"] / medians["exportjob"]
    floor = medians["baseline"] / medians["plain loop"]
    notes = [
        f"orig, {count:,} x {label}, CPU per file (median user + system): "
        + "; ".join(
            f"{name} {user / count * 1e6:.0f} + {system / count * 1e6:.0f} us"
            for name, (user, system) in cpu.items()
        )
    ]
    extra = []
    if "safe publish" in medians:
        extra.append(
            Row(
                "orig",
                "  the same files, the safe publish alone (open, unnamed file, copy, link)",
                ms(medians["safe publish"]),
                f"baseline {ms(medians['baseline'])}",
                medians["baseline"] / medians["safe publish"],
                "(reference)",
                True,
            )
        )
    return [
        Row(
            "orig",
            f"{count:,} x {label} files, exportjob vs shutil.copy+sync",
            ms(medians["exportjob"]),
            f"baseline {ms(medians['baseline'])}",
            ratio,
            ">= 0.90x its speed",
            ratio >= 0.9,
        ),
        Row(
            "orig",
            "  the same files, a plain describe/plan/write loop vs shutil.copy+sync",
            ms(medians["plain loop"]),
            f"baseline {ms(medians['baseline'])}",
            floor,
            "(reference)",
            True,
        ),
        *extra,
    ], notes


# -- 4. converting small JPEGs


def hand_chunk(source: Path, target: Path, plans: tuple[ExportPlan, ...]) -> None:
    """The hand loop's work for some plans: convert each, write its file (no engine)."""
    converter = PillowConverter()
    for plan in plans:
        with (source / plan.handle.value).open("rb") as original:
            data = b"".join(converter.convert(original, plan))
        (target / plan.output_name).write_bytes(data)


def bench_convert(quick: bool, rounds: int, work: Path) -> list[Row]:
    count = 60 if quick else 200
    source = work / "convert-src"
    source.mkdir()
    for i in range(count):
        photo = images.photo((640, 480), seed=SEED + i)
        (source / f"photo-{i:04d}.jpg").write_bytes(images.encode(photo, "JPEG", quality=90))
    job = ExportJob(
        asset_handles=[f"photo-{i:04d}.jpg" for i in range(count)],
        fmt="convert",
        is_modifier="&fmt=jpeg&wid=200",
    )
    describer = DirectoryStore(source, work / "unused", default_company="bench")
    plans: tuple[ExportPlan, ...] = plan_exports(
        [describer.describe(h) for h in job.asset_handles], job, company=CONTEXT.company
    )
    outputs = Outputs(work, "convert-out")

    def threads(n: int) -> Callable[[], None]:
        def run() -> None:
            store = DirectoryStore(source, outputs.current, default_company="bench")
            with ExportEngine(store, PillowConverter(), workers=n) as e:
                check(e.run(job, CONTEXT), count)

        return run

    # The pools are the host's, made once (their workers start and import Pillow in the warm-up
    # run); the engine is made per run, as for threads.
    pools = {n: ProcessPoolExecutor(n) for n in (1, 2)}

    def processes(n: int) -> Callable[[], None]:
        def run() -> None:
            store = DirectoryStore(source, outputs.current, default_company="bench")
            with ExportEngine(store, PillowConverter(), executor=pools[n]) as e:
                check(e.run(job, CONTEXT), count)

        return run

    def hand() -> None:
        target = outputs.current
        target.mkdir()
        hand_chunk(source, target, plans)
        os.sync()

    # The machine's own ceiling, in the same run: the hand loop split over 1 or 2 workers, in
    # chunks of 4 plans (about the engine's units), no engine.
    chunks = [plans[i : i + 4] for i in range(0, len(plans), 4)]
    thread_pools = {n: ThreadPoolExecutor(n) for n in (1, 2)}

    def plain(pool: Executor) -> Callable[[], None]:
        def run() -> None:
            target = outputs.current
            target.mkdir()
            for future in [pool.submit(hand_chunk, source, target, c) for c in chunks]:
                future.result()
            os.sync()

        return run

    medians = time_interleaved(
        {
            "hand": hand,
            "threads1": threads(1),
            "threads2": threads(2),
            "processes1": processes(1),
            "processes2": processes(2),
            "plain threads1": plain(thread_pools[1]),
            "plain threads2": plain(thread_pools[2]),
            "plain processes1": plain(pools[1]),
            "plain processes2": plain(pools[2]),
        },
        rounds,
        before=outputs.fresh,
    )
    for pool in [*pools.values(), *thread_pools.values()]:
        pool.shutdown()
    outputs.close()
    case = f"{count} JPEGs 640x480 -> fmt=jpeg&wid=200"
    vs_hand = medians["threads1"] / medians["hand"]
    by_threads = medians["threads1"] / medians["threads2"]
    by_processes = medians["processes1"] / medians["processes2"]
    ceiling = {
        kind: medians[f"plain {kind}1"] / medians[f"plain {kind}2"]
        for kind in ("threads", "processes")
    }
    return [
        Row(
            "convert",
            f"{case}, 1 worker vs hand loop (time)",
            ms(medians["threads1"]),
            f"hand loop {ms(medians['hand'])}",
            vs_hand,
            "<= 1.05x its time",
            vs_hand <= 1.05,
        ),
        Row(
            "convert",
            f"{case}, 2 threads vs 1 (speed)",
            ms(medians["threads2"]),
            f"1 thread {ms(medians['threads1'])}",
            by_threads,
            ">= 1.80x",
            by_threads >= 1.8,
        ),
        Row(
            "convert",
            "  the hand loop on 2 threads vs 1 (the machine's ceiling)",
            ms(medians["plain threads2"]),
            f"1 thread {ms(medians['plain threads1'])}",
            ceiling["threads"],
            "(reference)",
            True,
        ),
        Row(
            "convert",
            f"{case}, 2 processes vs 1 (speed)",
            ms(medians["processes2"]),
            f"1 process {ms(medians['processes1'])}",
            by_processes,
            ">= 1.80x",
            by_processes >= 1.8,
        ),
        Row(
            "convert",
            "  the hand loop on 2 processes vs 1 (the machine's ceiling)",
            ms(medians["plain processes2"]),
            f"1 process {ms(medians['plain processes1'])}",
            ceiling["processes"],
            "(reference)",
            True,
        ),
    ]


def environment() -> str:
    return (
        f"Python {platform.python_version()}; {os.cpu_count()} CPUs, {platform.machine()}, "
        f"{platform.system()}"
    )


def table(rows: list[Row]) -> list[str]:
    """The rows as a fixed-width table."""
    header = ("bench", "case", "exportjob", "against", "ratio", "target", "met")
    cells = [
        (
            r.bench,
            r.case,
            r.ours,
            r.reference,
            f"{r.ratio:,.2f}",
            r.target,
            "yes" if r.met else "NO",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(header, widths, strict=True))]
    lines.append("-" * len(lines[0]))
    lines.extend(
        "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True))
        for row in cells
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer rounds")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 7)")
    parser.add_argument("--only", choices=BENCHMARKS, default=None, help="run one benchmark")
    parser.add_argument("--trace", type=int, default=0, help="memory: list the top N lines too")
    parser.add_argument("--dir", default=None, help="where to build inputs (default: temp folder)")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child is not None:
        memory_child(args.memory_child, args.trace)
        return 0
    rounds = args.rounds or (3 if args.quick else 7)
    print(environment())
    print(f"command: {' '.join(['python', *sys.argv])}")
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-engine-", dir=args.dir) as tmp:
        work = Path(tmp)
        for name in [args.only] if args.only else BENCHMARKS:
            print(f"running {name} ...", flush=True)
            if name == "latency":
                rows += bench_latency(rounds)
            elif name == "memory":
                found, extra = bench_memory(args.quick, rounds, args.trace)
                rows += found
                notes += extra
            elif name == "orig":
                found, extra = bench_orig(args.quick, rounds, work)
                rows += found
                notes += extra
            else:
                rows += bench_convert(args.quick, rounds, work)
    print()
    for line in [*table(rows), "", *notes]:
        print(line)
    print("times are medians of interleaved rounds after a warm-up run of each contender;")
    print("memory is the median peak RSS of fresh processes; its ratio is bytes per asset.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
