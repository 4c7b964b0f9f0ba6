"""A resumed job checks its journal against the export area (``ExportInventory``).

The journal says which assets were exported. An export removed since (by a user, a clean-up)
is exported again on the next run of the same job, under the same name; every other journaled
asset is skipped, as before. A store that cannot tell is trusted as the journal is.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest

from exportjob import ExportEngine, ExportJob, JobContext, JobLog
from exportjob.cli import main
from exportjob.converters import CopyConverter
from exportjob.protocols import ExportInventory
from exportjob.stores import DirectoryStore, FsspecStore, MemoryStore
from tests.s3server import bucket, options, s3, s3_url
from tests.test_engine_review import two_of_one_name

__all__ = ["bucket", "s3", "s3_url"]  # the fixtures

ACME = JobContext(company="acme")
NAMES = [f"asset-{i}.bin" for i in range(4)]


def memory_store(store: MemoryStore | None = None) -> MemoryStore:
    """*store* (a new ``MemoryStore`` of acme by default) holding the originals ``NAMES``."""
    store = MemoryStore(default_company="acme") if store is None else store
    for i, name in enumerate(NAMES):
        store.add(name, bytes([i]) * 10, file_name=name)
    return store


def run_removing(store: MemoryStore, removed: str, tmp_path: Path) -> JobLog:
    """Export ``NAMES`` with a journal, remove the export *removed*, run the job again."""
    job = ExportJob(asset_handles=NAMES, fmt="orig")
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter()) as engine:
        engine.run(job, ACME, journal=journal)
        store.remove_export(removed)
        return engine.run(job, ACME, journal=journal)


def folder_store(tmp_path: Path) -> DirectoryStore:
    source = tmp_path / "src"
    source.mkdir()
    for i, name in enumerate(NAMES):
        (source / name).write_bytes(bytes([i]) * 10)
    return DirectoryStore(source, tmp_path / "out", default_company="acme")


def test_an_export_removed_from_a_memory_store_is_exported_again(tmp_path: Path) -> None:
    store = memory_store()
    job = ExportJob(asset_handles=NAMES, fmt="orig")
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter()) as engine:
        assert engine.run(job, ACME, journal=journal).ok
        store.remove_export("asset-2.bin")
        opened = len(store.opened)
        again = engine.run(job, ACME, journal=journal)
    assert again.ok, again.errors
    assert [h.value for h in store.opened[opened:]] == ["asset-2.bin"]  # it alone ran again
    assert again.outcome("asset-2.bin").output_name == "asset-2.bin"
    assert store.exports == {name: bytes([i]) * 10 for i, name in enumerate(NAMES)}
    assert again.counts.success == len(NAMES)


def test_an_export_removed_from_a_folder_is_exported_again_and_nothing_else(
    tmp_path: Path,
) -> None:
    store = folder_store(tmp_path)
    job = ExportJob(asset_handles=NAMES, fmt="orig")
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter()) as engine:
        assert engine.run(job, ACME, journal=journal).ok
        inodes = {p.name: p.stat().st_ino for p in store.exported()}
        (store.output_dir / "asset-0.bin").unlink()
        again = engine.run(job, ACME, journal=journal)
    assert again.ok, again.errors
    assert again.counts.success == len(NAMES)
    assert sorted(p.name for p in store.exported()) == NAMES
    assert (store.output_dir / "asset-0.bin").read_bytes() == bytes([0]) * 10
    for name in NAMES[1:]:  # the others were not written again
        assert (store.output_dir / name).stat().st_ino == inodes[name]


def test_nothing_removed_nothing_runs_again(tmp_path: Path) -> None:
    store = memory_store()
    job = ExportJob(asset_handles=NAMES, fmt="orig")
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter()) as engine:
        engine.run(job, ACME, journal=journal)
        before = list(store.opened)
        again = engine.run(job, ACME, journal=journal)
    assert again.ok
    assert list(store.opened) == before  # no original opened the second time


class Untellable(MemoryStore):
    """A memory store whose inventory fails: the journal is trusted, as before."""

    def existing_exports(self, names: Collection[str]) -> set[str]:
        raise OSError("the inventory is down")


def test_a_store_that_cannot_tell_is_trusted_as_the_journal_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = memory_store(Untellable(default_company="acme"))
    again = run_removing(store, "asset-1.bin", tmp_path)
    assert again.ok
    assert "asset-1.bin" not in store.exports  # trusted: not written again
    assert "cannot tell which exports of its journal are still there" in caplog.text


@pytest.mark.parametrize("store", ["memory", "directory"])
def test_the_stores_tell_which_exports_are_there(store: str, tmp_path: Path) -> None:
    if store == "memory":
        made: Any = MemoryStore()
    else:
        (tmp_path / "src").mkdir()
        made = DirectoryStore(tmp_path / "src", tmp_path / "out")
    assert isinstance(made, ExportInventory)
    assert set(made.existing_exports(["a.bin", "b/c.bin"])) == set()  # nothing written yet
    made.write_export("a.bin", [b"a"])
    made.write_export("b/c.bin", [b"c"])
    assert set(made.existing_exports(["a.bin", "b/c.bin", "d.bin", "b/a.bin"])) == {
        "a.bin",
        "b/c.bin",
    }


def test_a_symlink_planted_for_an_export_is_not_an_export(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"not ours")
    store = DirectoryStore(tmp_path / "src", tmp_path / "out")
    store.write_export("a.bin", [b"a"])
    (tmp_path / "out" / "a.bin").unlink()
    (tmp_path / "out" / "a.bin").symlink_to(outside)
    assert set(store.existing_exports(["a.bin"])) == set()


def test_the_same_command_writes_a_removed_export_again_on_s3(
    s3: Any, bucket: str, s3_url: str, tmp_path: Path
) -> None:
    for i, name in enumerate(NAMES):
        s3.put_object(Bucket=bucket, Key=f"src/{name}", Body=bytes([i]) * 10)
    store = FsspecStore(
        f"s3://{bucket}/src",
        f"s3://{bucket}/out",
        storage_options=options(s3_url),
        default_company="acme",
    )
    assert isinstance(store, ExportInventory)
    job = ExportJob(asset_handles=NAMES, fmt="orig")
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter()) as engine:
        assert engine.run(job, ACME, journal=journal).ok
        s3.delete_object(Bucket=bucket, Key="out/asset-3.bin")
        seen: list[str] = []
        again = engine.run(
            job, ACME, journal=journal, progress=lambda e: seen.append(e.outcome.handle.value)
        )
    assert again.ok, again.errors
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"]
    assert sorted(o["Key"] for o in listed) == [f"out/{n}" for n in NAMES]
    body = s3.get_object(Bucket=bucket, Key="out/asset-3.bin")["Body"].read()
    assert body == bytes([3]) * 10
    assert store.existing_exports(NAMES) == set(NAMES)


def test_the_cli_run_again_after_a_removal_writes_it_and_exits_0(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for i, name in enumerate(NAMES):
        (source / name).write_bytes(bytes([i]) * 10)
    out = tmp_path / "out"
    argv = ["export", str(source), "--fmt", "orig", "--out", str(out)]
    assert main(argv, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    (out / "asset-1.bin").unlink()
    stdout = io.StringIO()
    assert main(argv, stdout=stdout, stderr=io.StringIO()) == 0
    assert (out / "asset-1.bin").read_bytes() == bytes([1]) * 10
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == NAMES


def test_a_renamed_export_removed_is_written_again_under_its_own_name(tmp_path: Path) -> None:
    """Under ``rename`` the journal holds the name the store chose; the re-export gets it back."""
    store = two_of_one_name(tmp_path)  # x/a.bin, y/a.bin, and someone else's a.bin in out
    job = ExportJob(asset_handles=["x/a.bin", "y/a.bin"], fmt="orig")
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter(), workers=1, on_conflict="rename") as engine:
        first = engine.run(job, ACME, journal=journal)
        names = {o.handle.value: o.output_name for o in first.outcomes}
        (tmp_path / "out" / str(names["y/a.bin"])).unlink()
        again = engine.run(job, ACME, journal=journal)
    assert {o.handle.value: o.output_name for o in again.outcomes} == names
    assert (tmp_path / "out" / str(names["y/a.bin"])).read_bytes() == b"second"
    assert (tmp_path / "out" / "a.bin").read_bytes() == b"someone else's"


def test_an_asset_that_failed_last_time_does_not_take_a_removed_exports_name(
    tmp_path: Path,
) -> None:
    store = MemoryStore(default_company="acme")
    store.add("y/a.bin", b"second", file_name="a.bin")  # x/a.bin is missing the first time
    job = ExportJob(asset_handles=["x/a.bin", "y/a.bin"], fmt="orig")
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter()) as engine:
        first = engine.run(job, ACME, journal=journal)
        assert first.outcome("y/a.bin").output_name == "a.bin"
        store.add("x/a.bin", b"first", file_name="a.bin")
        store.remove_export("a.bin")
        again = engine.run(job, ACME, journal=journal)
    assert again.ok, again.errors
    assert again.outcome("y/a.bin").output_name == "a.bin"
    assert store.read_export("a.bin") == b"second"
    assert store.read_export(str(again.outcome("x/a.bin").output_name)) == b"first"


def test_a_symlink_planted_where_an_export_was_is_reported_not_exported(tmp_path: Path) -> None:
    store = folder_store(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    job = ExportJob(asset_handles=NAMES, fmt="orig")
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter()) as engine:
        assert engine.run(job, ACME, journal=journal).ok
        moved = elsewhere / "asset-1.bin"
        (store.output_dir / "asset-1.bin").rename(moved)
        (store.output_dir / "asset-1.bin").symlink_to(moved)  # the same bytes, not ours
        again = engine.run(job, ACME, journal=journal)
    assert again.outcome("asset-1.bin").code == "OUTPUT_EXISTS"
    assert (store.output_dir / "asset-1.bin").is_symlink()  # left untouched
    assert again.counts.success == len(NAMES) - 1


def test_a_folder_replaced_by_a_symlink_holds_no_export(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    store = DirectoryStore(tmp_path / "src", tmp_path / "out")
    store.write_export("c/f.bin", [b"f"])
    (tmp_path / "out" / "d").symlink_to(tmp_path / "out" / "c")
    assert set(store.existing_exports(["c/f.bin", "d/f.bin"])) == {"c/f.bin"}


class ListInventory(MemoryStore):
    """An inventory that answers with a list (a ``Collection``), or with nothing at all."""

    def __init__(self, answer_none: bool) -> None:
        super().__init__(default_company="acme")
        self.answer_none = answer_none

    def existing_exports(self, names: Collection[str]) -> Any:
        if self.answer_none:
            return None
        return list(super().existing_exports(names))


@pytest.mark.parametrize("answer_none", [False, True], ids=["list", "none"])
def test_an_inventory_answering_a_list_or_nothing_is_handled(
    answer_none: bool, tmp_path: Path
) -> None:
    store = memory_store(ListInventory(answer_none))
    again = run_removing(store, "asset-0.bin", tmp_path)
    assert again.ok
    # a list is used; nothing (a broken inventory) leaves the journal trusted
    assert ("asset-0.bin" in store.exports) is not answer_none
