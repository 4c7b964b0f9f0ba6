"""The source folder itself swapped, removed or deep: no byte from outside, and the right error.

A file directly in the source folder is found from a descriptor of the folder opened without
following a link, as every handle is: a fast path by the absolute path (``f"{root}/{name}"``) was
tried and dropped, because it followed the folder's own last component when it became a symlink
(outside bytes read), read a removed folder as a missing asset, and missed a file whose whole
path passed ``PATH_MAX``. Each test of sections 1-3 failed on it. Section 4: the store holds the
folder open from its first lookup on, as Go's ``os.Root`` does (the folder held is read, renamed;
one removed is a store failure, whatever is put in its place).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from exportjob import AssetHandle, AssetStatus, ExportEngine, ExportJob, JobContext
from exportjob.exceptions import AssetNotFoundError, StoreReadError
from exportjob.stores import DirectoryStore, FsspecStore

POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="symlinks, dir_fd")
SECRET = b"OUTSIDE-SECRET" * 100


def _store(kind: str, src: Path, out: Path) -> DirectoryStore | FsspecStore:
    if kind == "directory":
        return DirectoryStore(src, out)
    return FsspecStore(src.as_uri(), f"memory://review-{out.name}/out")


def _read_or_error(store: DirectoryStore | FsspecStore, handle: str) -> bytes | Exception:
    try:
        with store.open_original(AssetHandle(handle)) as f:
            return f.read()
    except (AssetNotFoundError, StoreReadError) as exc:
        return exc


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jpg").write_bytes(b"inside" * 100)
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "a.jpg").write_bytes(SECRET)
    return src, evil


# -- 1: the source folder itself swapped for a symlink to a folder outside


def _swap_for_a_link(src: Path, evil: Path) -> None:
    """Move *src* aside and put a link to *evil* in its place: the root's last part leads out."""
    src.rename(src.with_name("src.moved"))
    src.symlink_to(evil)


@POSIX_ONLY
@pytest.mark.parametrize("kind", ["directory", "fsspec-file"])
@pytest.mark.parametrize("looked_first", [False, True], ids=["unused-store", "after-a-lookup"])
def test_source_folder_swapped_for_a_symlink_never_yields_an_outside_byte(
    tmp_path: Path, kind: str, *, looked_first: bool
) -> None:
    src, evil = _folders(tmp_path)
    store = _store(kind, src, tmp_path / "out")
    if looked_first:
        assert _read_or_error(store, "a.jpg") == b"inside" * 100
    _swap_for_a_link(src, evil)

    data = _read_or_error(store, "a.jpg")
    assert not (isinstance(data, bytes) and b"OUTSIDE" in data), "read a file outside the root"
    if looked_first:  # the store holds its folder from its first lookup on: moved, it is read
        assert data == b"inside" * 100
        assert store.describe(AssetHandle("a.jpg")).size == 600
        return
    with pytest.raises((AssetNotFoundError, StoreReadError)):
        store.describe(AssetHandle("a.jpg"))  # nor says the outside file is there, or its size


@POSIX_ONLY
def test_source_folder_swapped_for_a_symlink_during_a_job_exports_no_outside_byte(
    tmp_path: Path,
) -> None:
    src, evil = _folders(tmp_path)
    out = tmp_path / "out"
    engine = ExportEngine(DirectoryStore(src, out), workers=1)
    src.rename(tmp_path / "src.moved")
    src.symlink_to(evil)
    log = engine.run(ExportJob(asset_handles=["a.jpg"], fmt="orig"), JobContext(company="default"))
    assert log.outcome("a.jpg").status is not AssetStatus.EXPORTED
    leaked = [p for p in out.rglob("*") if p.is_file() and b"OUTSIDE" in p.read_bytes()]
    assert leaked == []


ROOT_SWAPPER = textwrap.dedent(
    """
    import os, sys, time
    src, real, evil, stop = sys.argv[1:]
    tmp = src + ".link"
    deadline = time.monotonic() + 20
    while not os.path.exists(stop) and time.monotonic() < deadline:
        os.rename(src, real)                 # the real folder away ...
        os.symlink(evil, tmp)
        os.rename(tmp, src)                  # ... a link out in its place
        os.unlink(src)
        os.rename(real, src)                 # and back
    """
)


@POSIX_ONLY
@pytest.mark.parametrize("kind", ["directory", "fsspec-file"])
def test_a_source_folder_swapped_with_a_symlink_during_opens_never_yields_an_outside_byte(
    tmp_path: Path, kind: str
) -> None:
    src, evil = _folders(tmp_path)
    store = _store(kind, src, tmp_path / "out")
    stop = tmp_path / "stop"
    swapper = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", ROOT_SWAPPER, src, tmp_path / "src.real", evil, stop]
    )
    leaked = opens = 0
    deadline = time.monotonic() + 3
    try:
        while time.monotonic() < deadline and opens < 20_000:
            data = _read_or_error(store, "a.jpg")  # failing mid-swap is fine; a leak is not
            opens += 1
            leaked += isinstance(data, bytes) and b"OUTSIDE" in data
    finally:
        stop.touch()
        swapper.wait(timeout=30)
    assert leaked == 0, f"{leaked} of {opens} opens read the file outside the root"


# -- 2: the source folder gone is a store failure, as before, not a missing asset


@POSIX_ONLY
@pytest.mark.parametrize("becomes", ["removed", "a file"])
def test_a_source_folder_gone_is_a_store_read_error_not_a_missing_asset(
    tmp_path: Path, becomes: str
) -> None:
    src, _ = _folders(tmp_path)
    store = DirectoryStore(src, tmp_path / "out")
    (src / "a.jpg").unlink()
    src.rmdir()
    if becomes == "a file":
        src.write_bytes(b"not a folder")
    with pytest.raises(StoreReadError):
        store.describe(AssetHandle("a.jpg"))
    with pytest.raises(StoreReadError):
        store.open_original(AssetHandle("a.jpg"))
    log = ExportEngine(store, workers=1).run(
        ExportJob(asset_handles=["a.jpg"], fmt="orig"), JobContext(company="default")
    )
    assert log.outcome("a.jpg").code == "STORE_READ_FAILED"


# -- 3: a file whose whole path is longer than PATH_MAX (each of root and name is not)


def _deep_root(tmp_path: Path, length: int) -> Path:
    """A folder under *tmp_path* whose absolute path is exactly *length* characters."""
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    path = str(tmp_path)
    try:
        while len(path) < length:
            part = "d" * min(200, length - len(path) - 1)
            os.mkdir(part, dir_fd=fd)
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd, path = child, f"{path}/{part}"
    finally:
        os.close(fd)
    return Path(path)


@POSIX_ONLY
def test_a_file_directly_in_a_deep_source_folder_is_still_found(tmp_path: Path) -> None:
    path_max = os.pathconf("/", "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096
    # The root and its manifest's path are shorter than PATH_MAX; root + "/" + name is not.
    root = _deep_root(tmp_path, path_max - 200)
    name = "f" * 240 + ".jpg"  # a legal name (under NAME_MAX)
    assert len(f"{root}/{name}") >= path_max
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        file_fd = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(file_fd, b"deep")
        os.close(file_fd)
    finally:
        os.close(fd)
    store = DirectoryStore(root, tmp_path / "out")

    assert [h.value for h in store.handles()] == [name]
    assert store.describe(AssetHandle(name)).size == 4
    with store.open_original(AssetHandle(name)) as f:
        assert f.read() == b"deep"


# -- 4: the folder is held from the store's first lookup on (one descriptor, not one per lookup)


def _descriptors_of(folder: Path) -> int:
    """How many of this process's open descriptors are of *folder* (other tests' come and go)."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # closed since listed
            count += fd.readlink() == folder.resolve()
    return count


@POSIX_ONLY
@pytest.mark.parametrize("becomes", ["removed", "a file", "another folder"])
def test_a_source_folder_gone_after_the_first_lookup_is_a_store_read_error(
    tmp_path: Path, becomes: str
) -> None:
    src, _ = _folders(tmp_path)
    store = DirectoryStore(src, tmp_path / "out")
    assert store.describe(AssetHandle("a.jpg")).size == 600
    (src / "a.jpg").unlink()
    src.rmdir()
    if becomes == "a file":
        src.write_bytes(b"not a folder")
    elif becomes == "another folder":
        src.mkdir()
        (src / "a.jpg").write_bytes(b"new")  # not read: the store's folder is gone

    with pytest.raises(StoreReadError, match="was removed"):
        store.describe(AssetHandle("a.jpg"))
    with pytest.raises(StoreReadError, match="was removed"):
        store.open_original(AssetHandle("a.jpg"))
    log = ExportEngine(store, workers=1).run(
        ExportJob(asset_handles=["a.jpg"], fmt="orig"), JobContext(company="default")
    )
    assert log.outcome("a.jpg").code == "STORE_READ_FAILED"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")
def test_a_store_opens_its_source_folder_once_and_closes_it_with_itself(tmp_path: Path) -> None:
    src, _ = _folders(tmp_path)
    store = DirectoryStore(src, tmp_path / "out")
    for _ in range(50):
        store.describe(AssetHandle("a.jpg"))
        with store.open_original(AssetHandle("a.jpg")) as f:
            f.read()
        with pytest.raises(AssetNotFoundError):
            store.describe(AssetHandle("missing.jpg"))
    assert _descriptors_of(src) == 1  # the folder, held
    copy = pickle.loads(pickle.dumps(store))  # a worker's copy opens its own
    assert copy.describe(AssetHandle("a.jpg")).size == 600
    assert _descriptors_of(src) == 2
    del store, copy
    gc.collect()
    assert _descriptors_of(src) == 0
