"""Count the user-space instructions per file of a ``fmt=orig`` export: the engine against a plain loop.

Wall time on a shared 2-core machine moves by ±15 µs per small file from run to run, more than
most of what the engine does per asset; instructions do not move. Each contender runs under
``valgrind --tool=callgrind`` twice, over 500 and over 1,500 files of 20 KB in ``/dev/shm`` (or
``--work``), and the difference of the two counts, divided by 1,000, is its cost per file (the
interpreter's start, the imports and the job's fixed costs cancel out):

* ``engine``: ``ExportEngine(DirectoryStore(...), CopyConverter())`` with its own pool, as in
  ``bench_engine.py``'s orig case;
* ``plain``: a plain loop of the store's ``describe``, the planner's ``plan``, ``open_original`` and
  ``write_export`` (the engine's per-asset work without the engine), then one ``sync``.

Under valgrind everything runs about 50 times slower, which the engine's pacing would take for
slow assets (and run on its describe pool and several workers, a path a real run of quick copies
does not take): the child scales the pacing's time thresholds by ``--slowdown`` (50) so that the
counted run takes the path of the real one. Needs ``valgrind``; run it by hand::

    python benchmarks/bench_instructions.py             # engine and plain loop, per file
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES = (500, 1_500)
MODES = ("engine", "plain")


def child(mode: str, count: int, work: Path, slowdown: float) -> None:
    """Build *count* files in *work* and export them by *mode* (run under valgrind)."""
    # In the child only: the parent imports nothing of the library.
    from exportjob import ExportEngine, ExportJob, JobContext, _crowd, _pipeline  # noqa: PLC0415
    from exportjob.converters import CopyConverter  # noqa: PLC0415
    from exportjob.plans import Planner  # noqa: PLC0415
    from exportjob.stores import DirectoryStore  # noqa: PLC0415

    # The pacing's thresholds, in the time valgrind stretches (private: a benchmark's knob).
    _pipeline._QUICK_DESCRIBE *= slowdown  # noqa: SLF001
    _pipeline._DESCRIBE_TARGET *= slowdown  # noqa: SLF001
    _crowd._QUICK_SECONDS *= slowdown  # noqa: SLF001
    _crowd._SLOW_SECONDS *= slowdown  # noqa: SLF001
    source = work / "source"
    source.mkdir()
    for i in range(count):
        (source / f"file-{i:05d}.bin").write_bytes(b"x" * 20_000)
    handles = DirectoryStore(source, work / "unused", default_company="bench").handles()
    job = ExportJob(asset_handles=handles, fmt="orig")
    store = DirectoryStore(source, work / "out", default_company="bench")
    converter = CopyConverter()
    if mode == "engine":
        with ExportEngine(store, converter) as engine:
            log = engine.run(job, JobContext(company="bench"))
        assert log.counts.success == count, log.counts  # noqa: S101 - a benchmark's own check
        return
    planner = Planner(job, None, company="bench")
    for handle in job.unique_handles:
        plan = planner.plan(store.describe(handle))
        with store.open_original(handle) as original:
            store.write_export(plan.output_name, converter.convert(original, plan).chunks)
    store.sync()


def count_instructions(mode: str, count: int, work: Path, slowdown: float) -> int:
    """The instructions valgrind counts for one child process of *mode* over *count* files."""
    out = work / f"callgrind.{mode}.{count}"
    folder = work / f"{mode}-{count}"
    folder.mkdir()
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        mode,
        str(count),
        str(folder),
        "--slowdown",
        str(slowdown),
    ]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - our own command
    totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    if totals is None:
        msg = f"no totals in {out}"
        raise RuntimeError(msg)
    shutil.rmtree(folder)
    return int(totals.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    memory = "/dev/shm"  # noqa: S108 - tmpfs, for the files: the disk is not what is counted
    parser.add_argument("--work", default=memory if Path(memory).is_dir() else None)
    parser.add_argument("--slowdown", type=float, default=50.0, help="valgrind's, for the pacing")
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "COUNT", "FOLDER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        mode, count, folder = args.child
        child(mode, int(count), Path(folder), args.slowdown)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    per_file: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-instructions-", dir=args.work) as tmp:
        for mode in MODES:
            small, large = (count_instructions(mode, n, Path(tmp), args.slowdown) for n in SIZES)
            per_file[mode] = (large - small) / (SIZES[1] - SIZES[0])
    print(f"command: python {' '.join(sys.argv)}")
    for mode, value in per_file.items():
        print(f"{mode:7s} {value:10,.0f} instructions per file")
    overhead = per_file["engine"] - per_file["plain"]
    print(f"the engine's own work: {overhead:,.0f} per file ({overhead / per_file['engine']:.0%})")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
