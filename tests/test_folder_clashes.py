"""A file and a folder of one export area never share a name: numbered in job order, every store.

``x.`` is made safe as ``x``, so a folder of originals holding ``x.`` and ``x/y.pdf`` asks, under
``keep_folders``, for ``x`` both as a file and as a folder.
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import fsspec
import pytest

from exportjob import Asset, ExportEngine, ExportJob, JobContext, plan_exports
from exportjob.converters import CopyConverter
from exportjob.exceptions import OutputExistsError, StoreWriteError
from exportjob.protocols import AssetStore, OnConflict
from exportjob.stores import DirectoryStore, FsspecStore, MemoryStore, ZipStore

ACME = JobContext(company="acme")
FILES = {"x.": b"the file x", "x/y.pdf": b"%PDF-1.4 y"}
Exports = Callable[[], dict[str, bytes]]


def local_source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    for handle, data in FILES.items():
        (src / handle).parent.mkdir(parents=True, exist_ok=True)
        (src / handle).write_bytes(data)
    return src


def directory(tmp_path: Path) -> tuple[AssetStore, Exports]:
    store = DirectoryStore(local_source(tmp_path), tmp_path / "out", default_company="acme")
    out = store.output_dir
    return store, lambda: {p.relative_to(out).as_posix(): p.read_bytes() for p in store.exported()}


def memory(tmp_path: Path) -> tuple[AssetStore, Exports]:
    store = MemoryStore(default_company="acme")
    for handle, data in FILES.items():
        store.add(handle, data, type="Asset")
    return store, lambda: store.exports


def fsspec_memory(tmp_path: Path) -> tuple[AssetStore, Exports]:
    root = f"/clash-{uuid.uuid4().hex}"
    for handle, data in FILES.items():
        fsspec.filesystem("memory").pipe(f"{root}/src/{handle}", data)
    store = FsspecStore(f"memory://{root}/src", f"memory://{root}/out", default_company="acme")
    return store, lambda: {name: store.read_export(name) for name in store.exported()}


def fsspec_file(tmp_path: Path) -> tuple[AssetStore, Exports]:
    src, out = local_source(tmp_path), tmp_path / "out"
    store = FsspecStore(src.as_uri(), out.as_uri(), default_company="acme")
    return store, lambda: {name: store.read_export(name) for name in store.exported()}


STORES = [directory, memory, fsspec_memory, fsspec_file]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (["x.", "x/y.pdf"], {"x": b"the file x", "x-2/y.pdf": b"%PDF-1.4 y"}),
        (["x/y.pdf", "x."], {"x/y.pdf": b"%PDF-1.4 y", "x-2": b"the file x"}),
    ],
)
@pytest.mark.parametrize("make", [*STORES, "zip"])
def test_a_file_and_a_folder_named_alike_are_numbered_in_job_order(
    make: Callable[[Path], tuple[AssetStore, Exports]] | str,
    order: list[str],
    expected: dict[str, bytes],
    tmp_path: Path,
) -> None:
    job = ExportJob(asset_handles=order, fmt="orig")
    if make == "zip":
        zipped = ZipStore(directory(tmp_path)[0], tmp_path / "job.zip")
        with ExportEngine(zipped, CopyConverter(), keep_folders=True) as engine:
            log = engine.run(job, ACME, progress=zipped.stream(job))
        zipped.finish(log)
        with zipfile.ZipFile(tmp_path / "job.zip") as archive:
            found = {n: archive.read(n) for n in archive.namelist() if "manifest" not in n}
            archive.extractall(tmp_path / "unzipped")  # a file and a folder x would not extract
    else:
        assert callable(make)
        store, exports = make(tmp_path)
        with ExportEngine(store, CopyConverter(), keep_folders=True) as engine:
            log = engine.run(job, ACME)
        found = exports()
    assert log.ok, [o.message for o in log.outcomes]
    assert found == expected
    [renamed] = [d.message for d in log.warnings if d.handle is not None]
    assert "is taken by another asset of this job" in renamed


def test_the_planner_numbers_files_and_folders_named_alike_deterministically() -> None:
    handles = ["x", "x/a.pdf", "x-2", "x/b.pdf", "D/e.pdf", "d"]
    assets = [
        Asset(handle=h, type="Pdf", name="n", file_name=h.rsplit("/", 1)[-1], company="c")
        for h in handles
    ]
    job = ExportJob(asset_handles=handles, fmt="orig")
    names = [p.output_name for p in plan_exports(assets, job, keep_folders=True)]
    # x-2 is a folder by then, so the file x-2 is numbered; the folder x is x-2 throughout.
    assert names == ["x", "x-2/a.pdf", "x-2-2", "x-2/b.pdf", "D/e.pdf", "d-2"]
    assert names == [p.output_name for p in plan_exports(assets, job, keep_folders=True)]


@pytest.mark.parametrize("make", STORES)
@pytest.mark.parametrize("policy", list(OnConflict))
def test_a_write_beneath_a_file_of_the_export_area_fails_as_a_write(
    make: Callable[[Path], tuple[AssetStore, Exports]], policy: OnConflict, tmp_path: Path
) -> None:
    store, exports = make(tmp_path)
    store.write_export("x", [b"an earlier job's file"])
    with pytest.raises(StoreWriteError, match=r"cannot write x/y\.pdf") as raised:
        store.write_export("x/y.pdf", [b"%PDF"], on_conflict=policy)
    assert not isinstance(raised.value, OutputExistsError)
    assert "variants" not in str(raised.value)  # not 10,000 names tried in vain
    assert exports() == {"x": b"an earlier job's file"}


def test_an_archive_entry_is_no_folder_for_a_later_write(tmp_path: Path) -> None:
    originals = MemoryStore(default_company="acme")
    originals.add("x", b"the file x", type="Asset")
    zipped = ZipStore(originals, tmp_path / "job.zip")
    job = ExportJob(asset_handles=["x"], fmt="orig")
    with ExportEngine(zipped, CopyConverter()) as engine:
        log = engine.run(job, ACME, progress=zipped.stream(job))
    assert not (zipped.spool / "x").exists()  # appended to the archive: gone from the spool
    with pytest.raises(StoreWriteError, match="x is an entry, not a folder"):
        zipped.write_export("x/y.pdf", [b"%PDF"])
    zipped.finish(log)
    with zipfile.ZipFile(tmp_path / "job.zip") as archive:
        assert [n for n in archive.namelist() if "manifest" not in n] == ["x"]


@pytest.mark.parametrize("make", STORES)
def test_a_name_that_is_a_folder_of_the_export_area_is_taken(
    make: Callable[[Path], tuple[AssetStore, Exports]], tmp_path: Path
) -> None:
    """Under replace too: memory:// wrote the file over the folder, whose export x/y.pdf was then
    unreadable."""
    store, exports = make(tmp_path)
    store.write_export("x/y.pdf", [b"%PDF"])
    with pytest.raises(OutputExistsError):
        store.write_export("x", [b"a file"])
    with pytest.raises(StoreWriteError, match="cannot write x"):
        store.write_export("x", [b"a file"], on_conflict=OnConflict.REPLACE)
    assert exports() == {"x/y.pdf": b"%PDF"}
    assert store.write_export("x", [b"a file"], on_conflict=OnConflict.RENAME).name == "x-2"
    assert exports() == {"x/y.pdf": b"%PDF", "x-2": b"a file"}


def test_a_folder_numbered_near_the_path_limit_keeps_the_path_valid() -> None:
    """Numbering a folder (x -> x-2) pushed a 1,000-byte path past the limit: UNSAFE_NAME."""
    first = "a" * 190
    deep = f"{first}/{'b' * 190}/{'c' * 190}/{'d' * 190}/{'e' * 35}/{'l' * 196}.bin"
    assert len(deep.encode()) == 1000
    store = MemoryStore(default_company="acme")
    for handle in (first, deep):
        store.add(handle, handle.encode()[:10], type="Asset", file_name=handle.rsplit("/", 1)[-1])
    job = ExportJob(asset_handles=[first, deep], fmt="orig")
    with ExportEngine(store, CopyConverter(), keep_folders=True) as engine:
        log = engine.run(job, ACME)
    moved = log.outcome(deep)
    assert moved.status.value == "exported", moved.message
    assert moved.output_name is not None
    assert moved.output_name.startswith(f"{first}-2/")
    assert len(moved.output_name.encode()) <= 1000
