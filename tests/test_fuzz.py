"""Mutation fuzz: damaged originals in several formats through a real engine into a real folder.

Originals are built in code (``exportjob.testing.images``), then mutated with a seeded generator:
bit flips, truncations, header bytes overwritten. The batch runs in a child process (this module run
as a script), so its peak memory is its own. Asserted: no exception escapes ``run()``; every asset has
exactly one outcome; no partial or temporary file is left in the export folder, and nothing but the
exported outputs; no output of a truncated original is flat-filled; the child's peak memory stays
within the converter's memory budget (plus the interpreter's own).

``EXPORTJOB_FUZZ_MUTANTS`` sets the number of mutants (300 in CI), ``EXPORTJOB_FUZZ_SEED`` the seed.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from PIL import Image, features

MUTANTS = int(os.environ.get("EXPORTJOB_FUZZ_MUTANTS", "300"))
SEED = int(os.environ.get("EXPORTJOB_FUZZ_SEED", "20240501"))
BUDGET = 64 << 20
#: What the child may hold besides the budget: Pillow's and zlib's buffers, the thread stacks.
SLACK = 48 << 20
TEMP_PREFIX = ".exportjob-"


def originals() -> dict[str, bytes]:
    """One small photo-like original per format and encoder variant, by file name."""
    from exportjob.testing.images import encode, photo  # noqa: PLC0415 - in the parent only

    image = photo((64, 48), seed=7)
    out = {
        "baseline.jpg": encode(image, "JPEG", quality=90),
        "progressive.jpg": encode(image, "JPEG", quality=90, progressive=True),
        "rgb.png": encode(image, "PNG"),
        "interlaced.png": encode(image, "PNG", interlace=1),
        "palette.png": encode(image.convert("P"), "PNG"),
        "still.gif": encode(image.convert("P"), "GIF"),
        "raw.tif": encode(image, "TIFF"),
        "lzw.tif": encode(image, "TIFF", compression="tiff_lzw"),
        "image.bmp": encode(image, "BMP"),
    }
    if features.check("webp"):
        out["lossy.webp"] = encode(image, "WEBP", quality=90)
        out["lossless.webp"] = encode(image, "WEBP", lossless=True)
    return out


def _flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) // 5, len(data) - 1)]


def _header(rng: random.Random, data: bytes) -> bytes:
    """Overwrite a few bytes where the header's fields are: sizes, counts, offsets."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(min(64, len(out)))
        out[i] = rng.choice([0x00, 0x7F, 0xFF, rng.randrange(256)])
    return bytes(out)


MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip": _flip,
    "truncate": _truncate,
    "header": _header,
}


def mutants(count: int, seed: int) -> dict[str, tuple[str, bytes]]:
    """*count* mutants, by file name: ``(mutation kind, bytes)``; the same for the same seed."""
    rng = random.Random(seed)
    sources = sorted(originals().items())
    out: dict[str, tuple[str, bytes]] = {}
    for n in range(count):
        name, data = sources[n % len(sources)]
        kind = rng.choice(sorted(MUTATIONS))
        out[f"m{n:05d}-{kind}-{name}"] = (kind, MUTATIONS[kind](rng, data))
    return out


def flat(data: bytes) -> bool:
    """Whether a decoded image is flat-filled: its last row one colour, or one colour mostly."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
    width, height = rgb.size
    raw = rgb.tobytes()
    pixels = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    last_row = set(pixels[(height - 1) * width :])
    _, most = Counter(pixels).most_common(1)[0]
    return len(last_row) == 1 or most > len(pixels) // 2


def test_no_original_counts_as_flat() -> None:
    """The flat-fill check cannot pass vacuously: every undamaged original is far from flat."""
    assert not [name for name, data in originals().items() if flat(data)]


def test_damaged_originals_never_escape_leave_files_or_export_flat_fills(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    batch = mutants(MUTANTS, SEED)
    for name, (_, data) in batch.items():
        (src / name).write_bytes(data)

    child = subprocess.run(  # noqa: S603 - this very module, run as the batch
        [sys.executable, __file__, str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=600,  # a bound only so that a regression cannot hang the suite
        check=False,
    )
    assert child.returncode == 0, child.stderr[-4000:]
    report = json.loads(child.stdout.splitlines()[-1])

    assert report["raised"] is None
    outcomes = {handle: (status, name) for handle, status, name in report["outcomes"]}
    assert len(report["outcomes"]) == len(batch) == len(outcomes)
    assert set(outcomes) == set(batch)
    assert {status for status, _ in outcomes.values()} <= {"exported", "failed"}
    exported = {name for status, name in outcomes.values() if status == "exported"}
    left = {p.name for p in out.iterdir()} if out.exists() else set()
    assert not [n for n in left if n.startswith(TEMP_PREFIX)]
    assert left == exported
    flat_fills = [
        handle
        for handle, (status, name) in outcomes.items()
        if status == "exported"
        and batch[handle][0] == "truncate"
        and flat((out / name).read_bytes())
    ]
    assert flat_fills == []
    assert report["peak_rss"] - report["start_rss"] <= BUDGET + SLACK, report
    # The batch really exercises both paths: some damage is refused, some survives.
    assert 0 < len(exported) < len(batch)


def _batch(src: str, out: str) -> None:
    """Run every file of *src* through a real engine into *out*; print a JSON report (the child)."""
    import resource  # noqa: PLC0415 - POSIX, and only in the child

    from exportjob import ExportEngine, ExportJob, JobContext  # noqa: PLC0415
    from exportjob.converters import Limits, PillowConverter  # noqa: PLC0415
    from exportjob.stores import DirectoryStore  # noqa: PLC0415

    def rss() -> int:  # ru_maxrss is in KiB on Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    handles = sorted(p.name for p in Path(src).iterdir())
    store = DirectoryStore(src, out, default_company="acme")
    converter = PillowConverter(limits=Limits(memory_budget=BUDGET))
    job = ExportJob(asset_handles=handles, fmt="convert", is_modifier="fmt=png")
    start = rss()
    raised = None
    outcomes: list[tuple[str, str, str | None]] = []
    try:
        with ExportEngine(store, converter) as engine:
            log = engine.run(job, JobContext(company="acme"))
        outcomes = [(o.handle.value, o.status.value, o.output_name) for o in log.outcomes]
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails on it
        raised = f"{type(exc).__name__}: {exc}"
    report = {"raised": raised, "outcomes": outcomes, "start_rss": start, "peak_rss": rss()}
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    _batch(sys.argv[1], sys.argv[2])
