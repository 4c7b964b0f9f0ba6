"""Security round two: each finding an attack produced, held by a test that failed before its fix.

``EXPORTJOB_RACE_OPENS`` sets how many opens the symlink race makes (2,000 in CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exportjob import AssetHandle, AssetStatus, ExportEngine, ExportJob, JobContext
from exportjob.converters import CopyConverter
from exportjob.exceptions import AssetNotFoundError
from exportjob.stores import DirectoryStore
from exportjob.testing import sample_jpeg

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


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_foreign_original_is_not_authorized(shared: Path, tmp_path: Path) -> None:
    (shared / "partner" / "secret.jpg").chmod(0)
    engine = ExportEngine(DirectoryStore(shared, tmp_path / "out", default_company="acme"))
    log = engine.run(
        ExportJob(asset_handles=["partner/secret.jpg"], fmt="orig"), JobContext(company="acme")
    )
    assert log.outcome("partner/secret.jpg").code == "NOT_AUTHORIZED"


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


def read_or_none(store: DirectoryStore, handle: str) -> bytes | None:
    try:
        with store.open_original(AssetHandle(handle)) as f:
            return f.read()
    except AssetNotFoundError:
        return None


@POSIX_ONLY
def test_a_symlink_swapped_in_during_opens_never_exports_an_outside_byte(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"OUTSIDE-SECRET" * 100)
    inside = tmp_path / "inside.bytes"
    inside.write_bytes(b"inside" * 100)
    (src / "race.jpg").write_bytes(inside.read_bytes())
    stop = tmp_path / "stop"
    store = DirectoryStore(src, tmp_path / "out")
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
    store = DirectoryStore(src, tmp_path / "out")
    for handle in ["rel.jpg", "abs.jpg", "up.jpg", "dir/b/leaf.jpg"]:
        with store.open_original(AssetHandle(handle)) as f:
            assert f.read() == b"leaf", handle
    for handle in ["loop.jpg", "climb.jpg", "dir", "a/b"]:
        with pytest.raises(AssetNotFoundError):
            store.open_original(AssetHandle(handle))


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
