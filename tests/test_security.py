"""Security round two: each finding an attack produced, held by a test that failed before its fix.

``EXPORTJOB_RACE_OPENS`` sets how many opens the symlink race makes (2,000 in CI);
``EXPORTJOB_PILLOW_IMAGES`` names a folder of Pillow's own test images (``.ci/run`` downloads them).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from exportjob import (
    Asset,
    AssetHandle,
    AssetStatus,
    ConversionError,
    ConversionOutput,
    ExportEngine,
    ExportFormat,
    ExportJob,
    ExportPlan,
    JobContext,
)
from exportjob.cli import byte_size, main
from exportjob.converters import CopyConverter, Limits, MemoryBudget, PillowConverter
from exportjob.exceptions import AssetNotFoundError, ExportJobError, MemoryBudgetError
from exportjob.options import OutputFormat, RenderOptions
from exportjob.stores import DirectoryStore, FsspecStore, MemoryStore
from exportjob.testing import images, sample_jpeg

RACE_OPENS = int(os.environ.get("EXPORTJOB_RACE_OPENS", "2000"))
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def opened() -> Iterator[list[str]]:
    """Every path opened while the test runs (the interpreter's own ``open`` audit events)."""
    global _OPENED  # noqa: PLW0603 - an audit hook cannot be removed, only told to stop
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


# -- 2: authorization before any byte


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "partner").mkdir(parents=True)
    (src / "ours.jpg").write_bytes(sample_jpeg())
    (src / "partner" / "secret.jpg").write_bytes(sample_jpeg())
    (src / "exportjob.json").write_text(
        '{"assets": {"partner/secret.jpg": {"company": "partner-co"}}}'
    )
    return src


def test_plan_and_run_never_open_another_companys_original(
    shared: Path, tmp_path: Path, opened: list[str]
) -> None:
    engine = ExportEngine(DirectoryStore(shared, tmp_path / "out", default_company="acme"))
    job = ExportJob(asset_handles=["ours.jpg", "partner/secret.jpg"], fmt="orig")
    context = JobContext(company="acme")

    plan = engine.plan(job, context)
    log = engine.run(job, context)

    assert [p.asset.handle.value for p in plan.accepted] == ["ours.jpg"]
    assert [p.refusal.code for p in plan.refused if p.refusal] == ["NOT_AUTHORIZED"]
    assert log.outcome("partner/secret.jpg").code == "NOT_AUTHORIZED"
    assert log.outcome("ours.jpg").status is AssetStatus.EXPORTED
    assert not [p for p in opened if p.endswith("secret.jpg")]
    assert [p for p in opened if p.endswith("ours.jpg")]  # the hook does see opens


NOBODY = 65534


def _outcome_codes(src: Path, out: Path, handles: list[str]) -> list[str | None]:
    with ExportEngine(DirectoryStore(src, out, default_company="acme"), workers=1) as engine:
        log = engine.run(ExportJob(asset_handles=handles, fmt="orig"), JobContext(company="acme"))
    return [log.outcome(h).code for h in handles]


def _read_error(path: Path) -> str | None:
    try:
        path.read_bytes()
    except OSError as exc:
        return type(exc).__name__
    return None


def _as_nobody(check: Callable[[], list[str | None]]) -> list[str | None]:
    """Run *check* in a forked child that dropped root for ``nobody``; return what it returned.

    Forked, not executed: the interpreter may live where ``nobody`` cannot read it (``/root``).
    """
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a threaded process
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write_end, repr(check()).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, answer
    result: list[str | None] = eval(answer)  # noqa: S307 - the repr of a list of str/None
    return result


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_an_unreadable_foreign_original_is_not_authorized(shared: Path, tmp_path: Path) -> None:
    """Run as a user the file denies, whoever runs the suite: as root, in a child as ``nobody``."""
    handles = ["partner/secret.jpg", "ours.jpg"]
    (shared / "partner" / "secret.jpg").chmod(0)
    if os.geteuid() != 0:
        assert _outcome_codes(shared, tmp_path / "out", handles) == ["NOT_AUTHORIZED", None]
        return
    # A folder nobody can traverse (pytest's own tmp_path is root's only), out writable by nobody.
    base = Path(tempfile.mkdtemp(prefix="exportjob-nobody-"))
    try:
        base.chmod(0o755)
        src, out = base / "src", base / "out"
        shutil.copytree(shared, src)
        for folder in (src, src / "partner"):
            folder.chmod(0o755)
        (src / "partner" / "secret.jpg").chmod(0)
        out.mkdir(mode=0o777)
        out.chmod(0o777)
        _outcome_codes(src, base / "warm", ["ours.jpg"])  # import what a run needs, as root
        # The check is real: the child can read the folder and our file, not the secret.
        probe = [src / "ours.jpg", src / "partner" / "secret.jpg"]
        assert _as_nobody(lambda: [_read_error(p) for p in probe]) == [None, "PermissionError"]
        assert _as_nobody(lambda: _outcome_codes(src, out, handles)) == ["NOT_AUTHORIZED", None]
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_describe_types_by_manifest_then_extension(shared: Path, tmp_path: Path) -> None:
    (shared / "scan").write_bytes(sample_jpeg())
    store = DirectoryStore(shared, tmp_path / "out")
    assert store.describe(AssetHandle("ours.jpg")).type.value == "Image"
    assert store.describe(AssetHandle("scan")).type.value == "Asset"


# -- 1: the check is the open


SWAPPER = textwrap.dedent(
    """
    import os, sys
    race, outside, inside, stop = sys.argv[1:]
    tmp = race + ".tmp"
    while not os.path.exists(stop):
        with open(tmp, "wb") as f:
            f.write(open(inside, "rb").read())
        os.replace(tmp, race)
        os.symlink(outside, tmp)
        os.replace(tmp, race)
    """
)


def read_or_none(store: DirectoryStore | FsspecStore, handle: str) -> bytes | None:
    try:
        with store.open_original(AssetHandle(handle)) as f:
            return f.read()
    except AssetNotFoundError:
        return None


@POSIX_ONLY
@pytest.mark.parametrize("kind", ["directory", "fsspec-file"])
def test_a_symlink_swapped_in_during_opens_never_exports_an_outside_byte(
    tmp_path: Path, kind: str
) -> None:
    """``FsspecStore`` on a local source checked the resolved path, then opened the unresolved
    one: a link swapped in between read the outside file (about 3 % of the opens)."""
    src = tmp_path / "src"
    src.mkdir()
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"OUTSIDE-SECRET" * 100)
    inside = tmp_path / "inside.bytes"
    inside.write_bytes(b"inside" * 100)
    (src / "race.jpg").write_bytes(inside.read_bytes())
    stop = tmp_path / "stop"
    store: DirectoryStore | FsspecStore = (
        DirectoryStore(src, tmp_path / "out")
        if kind == "directory"
        else FsspecStore(src.as_uri(), "memory://race/out")
    )
    swapper = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SWAPPER, src / "race.jpg", outside, inside, stop]
    )
    leaked = found = 0
    try:
        for _ in range(RACE_OPENS):
            data = read_or_none(store, "race.jpg")  # not found mid-swap is fine; a leak is not
            found += data is not None
            leaked += data is not None and b"OUTSIDE" in data
    finally:
        stop.touch()
        swapper.wait(timeout=30)
    assert leaked == 0
    assert found > 0


@POSIX_ONLY
def test_symlinks_inside_the_folder_still_resolve(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "leaf.jpg").write_bytes(b"leaf")
    (src / "rel.jpg").symlink_to("a/b/leaf.jpg")
    (src / "abs.jpg").symlink_to(src / "a" / "b" / "leaf.jpg")
    (src / "up.jpg").symlink_to("a/b/../b/leaf.jpg")
    (src / "dir").symlink_to("a")
    (src / "loop.jpg").symlink_to("loop.jpg")
    (src / "climb.jpg").symlink_to("../src/a/b/leaf.jpg")
    (src / "a" / "b" / "near.jpg").symlink_to("leaf.jpg")  # a link as the last of several parts
    (src / "a" / "b" / "far.jpg").symlink_to(src / "rel.jpg")  # to a link, from the root again
    (src / "a" / "b" / "out.jpg").symlink_to(tmp_path / "outside.jpg")
    (tmp_path / "outside.jpg").write_bytes(b"outside")
    store = DirectoryStore(src, tmp_path / "out")
    for handle in ["rel.jpg", "abs.jpg", "up.jpg", "dir/b/leaf.jpg", "a/b/near.jpg", "a/b/far.jpg"]:
        with store.open_original(AssetHandle(handle)) as f:
            assert f.read() == b"leaf", handle
        assert store.describe(AssetHandle(handle)).size == len(b"leaf"), handle
    for handle in ["loop.jpg", "climb.jpg", "dir", "a/b", "a/b/out.jpg"]:
        with pytest.raises(AssetNotFoundError):
            store.open_original(AssetHandle(handle))
        with pytest.raises(AssetNotFoundError):
            store.describe(AssetHandle(handle))


@POSIX_ONLY
def test_a_fifo_is_not_an_original(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "pipe.jpg")
    store = DirectoryStore(src, tmp_path / "out")
    with pytest.raises(AssetNotFoundError):
        store.open_original(AssetHandle("pipe.jpg"))
    log = ExportEngine(store, converter=CopyConverter()).run(
        ExportJob(asset_handles=["pipe.jpg"], fmt="orig"), JobContext(company="default")
    )
    assert log.outcome("pipe.jpg").code == "ASSET_NOT_FOUND"


@POSIX_ONLY
@pytest.mark.parametrize("where", ["", "deep/"])
@pytest.mark.parametrize("kind", ["socket", "folder", "fifo"])
def test_what_is_no_regular_file_is_not_an_original(tmp_path: Path, kind: str, where: str) -> None:
    # The open comes before any look at the file: what it opens that is no file is closed unread.
    src = tmp_path / "src"
    (src / "deep").mkdir(parents=True)
    path = src / f"{where}thing.jpg"
    if kind == "socket":
        listener = socket.socket(socket.AF_UNIX)  # the open of a socket fails (ENXIO)
        listener.bind(str(path))
    elif kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)
    store = DirectoryStore(src, tmp_path / "out")
    handle = AssetHandle(f"{where}thing.jpg")
    try:
        with pytest.raises(AssetNotFoundError):
            store.open_original(handle)
        with pytest.raises(AssetNotFoundError):
            store.describe(handle)
    finally:
        if kind == "socket":
            listener.close()


# -- 4: data that ends before the declared image is not a success

PILLOW_IMAGES = os.environ.get("EXPORTJOB_PILLOW_IMAGES")


def convert(data: bytes, fmt: str = "png") -> ConversionOutput:
    plan = ExportPlan(
        asset=Asset(handle="a", type="Image", name="a", file_name="a.bin", company="c"),
        fmt=ExportFormat.CONVERT,
        output_name=f"a.{fmt}",
        output_format=OutputFormat(fmt),
        options=RenderOptions(format=OutputFormat(fmt), wid=64),
    )
    return PillowConverter().convert(io.BytesIO(data), plan)


def noise(size: tuple[int, int] = (64, 48), fmt: str = "PNG", **save: Any) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 64).convert("RGB").save(out, fmt, **save)
    return out.getvalue()


def png_taller(data: bytes) -> bytes:
    """The PNG with its header height doubled and the header's checksum fixed."""
    ihdr = bytearray(data[16:29])
    ihdr[4:8] = struct.pack(">I", 2 * struct.unpack(">I", ihdr[4:8])[0])
    return data[:16] + bytes(ihdr) + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + data[33:]


def tiff_taller(data: bytes) -> bytes:
    """The little-endian TIFF with its ImageLength tag doubled."""
    out = bytearray(data)
    ifd = struct.unpack_from("<I", out, 4)[0]
    for i in range(struct.unpack_from("<H", out, ifd)[0]):
        entry = ifd + 2 + 12 * i
        tag, kind = struct.unpack_from("<HH", out, entry)
        if tag == 257:
            fmt = "<H" if kind == 3 else "<I"
            struct.pack_into(fmt, out, entry + 8, 2 * struct.unpack_from(fmt, out, entry + 8)[0])
    return bytes(out)


def tiled_tiff(tiles: list[bytes | None], *, side: int = 32, height: int | None = None) -> bytes:
    """An uncompressed RGB TIFF of 2x2 tiles of *side* pixels, *height* rows (2 * side by
    default); a None tile is sparse (no data)."""
    body, offsets, counts = b"", [], []
    for tile in tiles:
        offsets.append(0 if tile is None else 8 + len(body))
        counts.append(0 if tile is None else len(tile))
        body += tile or b""
    arrays = 8 + len(body)
    blob = struct.pack("<4I", *offsets) + struct.pack("<4I", *counts) + struct.pack("<3H", 8, 8, 8)
    entries = [
        (256, 4, 1, 2 * side), (257, 4, 1, height or 2 * side), (258, 3, 3, arrays + 32), (259, 3, 1, 1),
        (262, 3, 1, 2), (277, 3, 1, 3), (284, 3, 1, 1), (322, 4, 1, side), (323, 4, 1, side),
        (324, 4, 4, arrays), (325, 4, 4, arrays + 16),
    ]  # fmt: skip
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHIHH", tag, kind, n, value, 0)
        if kind == 3 and n == 1
        else struct.pack("<HHII", tag, kind, n, value)
        for tag, kind, n, value in entries
    )
    return b"II*\0" + struct.pack("<I", arrays + len(blob)) + body + blob + ifd + bytes(4)


def jpeg_taller(data: bytes) -> bytes:
    """The baseline JPEG with its frame height doubled."""
    out = bytearray(data)
    sof = out.find(b"\xff\xc0")
    struct.pack_into(">H", out, sof + 5, 2 * struct.unpack_from(">H", out, sof + 5)[0])
    return bytes(out)


def animated_webp(*, canvas_scale: int = 1) -> bytes:
    frames = [Image.effect_noise((64, 48), 64).convert("RGB") for _ in range(2)]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    data = bytearray(out.getvalue())
    vp8x = data.find(b"VP8X")
    for at in (vp8x + 12, vp8x + 15):  # canvas width - 1, height - 1: 24-bit little-endian
        side = int.from_bytes(data[at : at + 3], "little") + 1
        data[at : at + 3] = (side * canvas_scale - 1).to_bytes(3, "little")
    return bytes(data)


def animated_png() -> bytes:
    """A two-frame APNG whose first frame is its default image (the IDAT data)."""
    frames = [Image.effect_noise((64, 48), 64).convert("RGB") for _ in range(2)]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:])
    return out.getvalue()


def with_actl(data: bytes) -> bytes:
    """The still PNG with an ``acTL`` chunk (two frames) after its header: Pillow calls it animated."""
    actl = struct.pack(">II", 2, 0)
    chunk = (
        struct.pack(">I", len(actl))
        + b"acTL"
        + actl
        + struct.pack(">I", zlib.crc32(b"acTL" + actl))
    )
    return data[:33] + chunk + data[33:]


@pytest.mark.parametrize(
    ("damaged", "complete"),
    [
        pytest.param(lambda: png_taller(noise()), noise, id="png-height-doubled"),
        pytest.param(lambda: png_taller(animated_png()), animated_png, id="apng-height-doubled"),
        pytest.param(
            lambda: with_actl(png_taller(noise())), lambda: with_actl(noise()), id="png-actl-added"
        ),
        pytest.param(
            lambda: tiled_tiff([bytes(range(256)) * 12, None, bytes(3072), bytes(3072)]),
            lambda: tiled_tiff([bytes(range(256)) * 12, bytes(3072), bytes(3072), bytes(3072)]),
            id="tiff-sparse-tile",
        ),
        pytest.param(
            lambda: jpeg_taller(images.cmyk_jpeg((64, 48))),
            lambda: images.cmyk_jpeg((64, 48)),
            id="cmyk-jpeg-taller",
        ),
        pytest.param(
            lambda: jpeg_taller(images.ycck_jpeg((64, 48))),
            lambda: images.ycck_jpeg((64, 48)),
            id="ycck-jpeg-taller",
        ),
        pytest.param(
            lambda: tiff_taller(noise(fmt="TIFF")), lambda: noise(fmt="TIFF"), id="tiff-taller"
        ),
        pytest.param(
            lambda: jpeg_taller(noise(fmt="JPEG")), lambda: noise(fmt="JPEG"), id="jpeg-taller"
        ),
        pytest.param(
            lambda: animated_webp(canvas_scale=2), animated_webp, id="webp-canvas-enlarged"
        ),
    ],
)
def test_pixel_data_shorter_than_its_header_is_an_error(
    damaged: Callable[[], bytes], complete: Callable[[], bytes]
) -> None:
    assert convert(complete()).width == 64
    with pytest.raises(ConversionError, match="pixel data is incomplete"):
        convert(damaged())


def test_a_tiled_tiff_whose_bottom_tiles_hold_only_the_image_s_rows_is_whole() -> None:
    # Valid, and read by Pillow exactly as with full tiles; it was refused as incomplete.
    full, rows = bytes(range(256)) * 3, bytes(range(64)) * 3 * 4  # 16 x 16 and 16 x 4 tiles
    converted = convert(tiled_tiff([full, full, rows, rows], side=16, height=20))
    assert converted.height == 40  # wid=64 of a 32 x 20 image
    with pytest.raises(ConversionError, match="tile 3 holds 100 of the 192 bytes"):
        convert(tiled_tiff([full, full, rows, rows[:100]], side=16, height=20))


def test_a_cmyk_jpeg_is_checked_for_its_own_fill_only() -> None:
    # Its Adobe marker (transform 0) makes the fill 127 in every band: a genuine last band of
    # (128, 128, 128, 127), YCCK's fill, was refused as incomplete.
    image = Image.effect_noise((64, 64), 64).convert("CMYK")
    image.paste(Image.new("CMYK", (64, 16), (128, 128, 128, 127)), (0, 48))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=100)
    assert convert(out.getvalue()).height == 64


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "1"])
def test_a_genuinely_black_png_is_not_taken_for_a_truncated_one(mode: str) -> None:
    out = io.BytesIO()
    Image.new(mode, (64, 48)).save(out, "PNG")
    assert convert(out.getvalue()).height == 48


@pytest.mark.skipif(
    PILLOW_IMAGES is None, reason="EXPORTJOB_PILLOW_IMAGES is unset (.ci/run downloads them)"
)
def test_no_image_pillow_decodes_fully_is_refused_as_incomplete() -> None:
    """Pillow's own test images (the sdist's Tests/images, HPND licence), each as Pillow reads it."""
    assert PILLOW_IMAGES is not None
    decoded, refused = 0, []
    for path in sorted(Path(PILLOW_IMAGES).rglob("*")):
        if not path.is_file() or path.stat().st_size > 20_000_000:
            continue
        data = path.read_bytes()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(io.BytesIO(data)) as image:
                    image.load()
        except Exception:  # noqa: BLE001, S112 - Pillow itself cannot read it: not our concern
            continue
        decoded += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                convert(data)
        except ExportJobError as exc:
            if "incomplete" in str(exc):
                refused.append(f"{path.name}: {exc}")
    assert decoded > 500
    assert refused == []


# -- 3: a memory budget, and no giant blank canvases


def webp_giant_canvas() -> bytes:
    """A small animated WebP whose canvas field claims just under the source limit (89.4 MP)."""
    data = bytearray(animated_webp())
    vp8x = data.find(b"VP8X")
    data[vp8x + 12 : vp8x + 15] = (16384 - 1).to_bytes(3, "little")
    data[vp8x + 15 : vp8x + 18] = (5461 - 1).to_bytes(3, "little")
    return bytes(data)


def test_an_animation_whose_canvas_dwarfs_its_frames_is_refused_before_decoding() -> None:
    data = webp_giant_canvas()
    assert len(data) < 20_000
    with pytest.raises(ConversionError, match="cover 3072 of the 89473024 pixels"):
        convert(data)


def test_a_conversion_larger_than_the_whole_budget_fails_that_asset_only() -> None:
    store = MemoryStore(default_company="c")
    store.add("big.png", noise((400, 300)))
    store.add("small.png", noise((10, 10)))
    converter = PillowConverter(Limits(memory_budget=400 * 300 * 4))  # one frame, not three
    log = ExportEngine(store, converter).run(
        ExportJob(asset_handles=["big.png", "small.png"], fmt="convert", is_modifier="&fmt=png"),
        JobContext(company="c"),
    )
    assert log.outcome("big.png").code == "MEMORY_BUDGET_EXCEEDED"
    assert log.outcome("small.png").status is AssetStatus.EXPORTED


@pytest.mark.parametrize(
    ("original", "modifier"),
    [
        pytest.param((1, 1), "&wid=4000&hei=3000", id="tiny-original-huge-reply"),
        pytest.param((100, 100), "&crop=-1500,-1500,3100,3100", id="crop-canvas"),
        pytest.param((100, 100), "&extend=1500,1500,1500,1500", id="extend-canvas"),
    ],
)
def test_the_budget_counts_the_canvases_and_the_reply_not_only_the_original(
    original: tuple[int, int], modifier: str
) -> None:
    # Two RGBA frames of 4000 x 3000 (or 3100 x 3100): less than such a conversion holds at once.
    store = MemoryStore(default_company="c")
    store.add("o.png", noise(original))
    converter = PillowConverter(Limits(memory_budget=4000 * 3000 * 4 * 2))
    log = ExportEngine(store, converter).run(
        ExportJob(asset_handles=["o.png"], fmt="convert", is_modifier=f"&fmt=png{modifier}"),
        JobContext(company="c"),
    )
    assert log.outcome("o.png").code == "MEMORY_BUDGET_EXCEEDED"
    assert store.exports == {}


def test_a_thumbnail_of_a_large_jpeg_reserves_what_its_draft_decodes() -> None:
    # Shrink-on-load decodes 2000 x 2000 at 1/8: about 1 MB of work, not the 64 MB of the full
    # frame the estimate counted (a 70 MP JPEG to wid=200 was refused under a 1 GB budget).
    store = MemoryStore(default_company="c")
    store.add("big.jpg", noise((2000, 2000), fmt="JPEG", quality=60))
    converter = PillowConverter(Limits(memory_budget=8 << 20))
    job = ExportJob(asset_handles=["big.jpg"], fmt="convert", is_modifier="&fmt=jpeg&wid=200")
    log = ExportEngine(store, converter).run(job, JobContext(company="c"))
    assert log.outcome("big.jpg").status is AssetStatus.EXPORTED
    # Without shrink-on-load the whole frame is decoded, and counted.
    full = PillowConverter(Limits(memory_budget=8 << 20), shrink_on_load=False)
    log = ExportEngine(store, full).run(job, JobContext(company="c"))
    assert log.outcome("big.jpg").code == "MEMORY_BUDGET_EXCEEDED"


def test_conversions_are_admitted_only_while_the_budget_allows() -> None:
    budget = MemoryBudget(1000)
    seen: list[int] = []
    admitted = threading.Event()

    def second() -> None:
        with budget.hold() as hold:
            hold.reserve(600, handle="b")
            seen.append(budget.in_use)
            admitted.set()

    with budget.hold() as hold:
        hold.reserve(600, handle="a")
        thread = threading.Thread(target=second)
        thread.start()
        assert not admitted.wait(0.05)  # it waits while "a" holds 600 of 1000
    thread.join()
    assert seen == [600]
    assert budget.in_use == 0
    with pytest.raises(MemoryBudgetError), budget.hold() as hold:
        hold.reserve(1001, handle="c")


@pytest.mark.parametrize(
    ("text", "size"), [("512", 512), ("64K", 65536), ("2G", 2 << 30), ("1.5MiB", 1572864)]
)
def test_memory_budget_sizes_parse(text: str, size: int) -> None:
    assert byte_size(text) == size


def test_the_cli_takes_a_memory_budget(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.png").write_bytes(noise((400, 300)))
    status = main(
        ["export", str(src), "--fmt", "convert", "--modifier", "&fmt=png",
         "--out", str(tmp_path / "out"), "--memory-budget", "64K", "--json"],
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip
    assert status != 0
    assert not (tmp_path / "out" / "a.png").exists()


def test_another_companys_asset_reveals_nothing_of_itself_in_the_log_or_an_archive(
    tmp_path: Path,
) -> None:
    """Its file name and type (an image set) were in the log's outcome and in the archive's
    manifest: a foreign asset must tell nothing about itself but its handle."""
    import json  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    from exportjob.stores import ZipStore  # noqa: PLC0415

    inner = MemoryStore(default_company="acme")
    inner.add("h1", b"%PDF ok", file_name="ok.pdf")
    inner.add("h2", b"%PDF", file_name="rival-merger-plan.pdf", name="Merger", company="rival")
    inner.add("h3", None, type="ImageSet", file_name="rival-set", company="rival")
    archive = tmp_path / "x.zip"
    store = ZipStore(inner, archive)
    with ExportEngine(store, CopyConverter()) as engine:
        job = ExportJob(asset_handles=["h1", "h2", "h3"], fmt="orig")
        log = engine.run(job, JobContext(company="acme"))
    store.finish(log)
    manifest = zipfile.ZipFile(archive).read("exportjob-manifest.json").decode()
    told = json.dumps(log.to_dict()) + manifest + "\n".join(str(d) for d in log.details)
    for secret in ("rival-merger-plan", "Merger", "rival-set", "ImageSet", "Pdf"):
        assert secret not in told, secret
    for handle in ("h2", "h3"):
        assert log.outcome(handle).code == "NOT_AUTHORIZED"
