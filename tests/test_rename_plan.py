"""Under ``rename``, names taken in the export area are skipped when assets are planned.

The variant an asset gets (``a-2.bin``, ``a-3.bin``) is decided in job order, so it does not depend
on which write lands first; a journaled job gives each asset the name it was planned with again,
so a crash between writing and journaling never makes a second copy.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from pathlib import Path
from typing import Any

import fsspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exportjob import AssetStatus, ExportEngine, ExportJob, JobContext, JobLog
from exportjob.converters import CopyConverter
from exportjob.stores import DirectoryStore, FsspecStore, MemoryStore
from tests.s3server import bucket, options, s3, s3_url

__all__ = ["bucket", "s3", "s3_url"]  # the fixtures

ACME = JobContext(company="acme")
FOLDERS = ["x", "y", "z"]
JOB = ExportJob(asset_handles=[f"{f}/a.bin" for f in FOLDERS], fmt="orig")


def one_name_store(contents: dict[str, bytes], taken: dict[str, bytes]) -> MemoryStore:
    """Assets ``<folder>/a.bin`` with *contents*, in a store whose exports already hold *taken*."""
    store = MemoryStore(default_company="acme")
    for handle, data in contents.items():
        store.add(handle, data, file_name="a.bin")
    for name, data in taken.items():
        store.add_export(name, data)
    return store


def names(log: JobLog) -> dict[str, str | None]:
    return {o.handle.value: o.output_name for o in log.outcomes}


def exported_once(store: MemoryStore, contents: dict[str, bytes], taken: dict[str, bytes]) -> None:
    """Every asset's bytes are in exactly one export besides the files that were there before."""
    exports = store.exports
    for name, data in taken.items():
        assert exports.pop(name) == data
    assert sorted(exports.values()) == sorted(contents.values())


def test_two_assets_with_the_same_bytes_get_a_file_each() -> None:
    """The first was renamed at write time to the name planned for the second, whose write then
    found its own bytes there and reported that one file as its export too."""
    contents = {f"{f}/a.bin": b"same" for f in FOLDERS[:2]}
    store = one_name_store(contents, {"a.bin": b"someone else's"})
    with ExportEngine(store, CopyConverter(), workers=1, on_conflict="rename") as engine:
        log = engine.run(ExportJob(asset_handles=list(contents), fmt="orig"), ACME)
    assert names(log) == {"x/a.bin": "a-2.bin", "y/a.bin": "a-3.bin"}
    assert store.exports == {"a.bin": b"someone else's", "a-2.bin": b"same", "a-3.bin": b"same"}


def test_resuming_after_a_crash_between_writing_and_journaling_writes_nothing_twice(
    tmp_path: Path,
) -> None:
    """A resumed job planned again from the names its journal held (the names written, not those
    planned), so an asset written but not journaled was planned under another asset's variant and
    written a second time."""
    contents = {f"{f}/a.bin": f"bytes of {f}".encode() for f in FOLDERS}
    taken = {"a.bin": b"someone else's"}
    store = one_name_store(contents, taken)
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter(), workers=1, on_conflict="rename") as engine:
        first = names(engine.run(JOB, ACME, journal=journal))
    # A kill after every file was written, before x's and z's outcomes were journaled.
    lines = journal.read_text().splitlines()
    kept = [ln for ln in lines if json.loads(ln).get("handle") not in {"x/a.bin", "z/a.bin"}]
    assert len(kept) == len(lines) - 2
    journal.write_text("".join(f"{ln}\n" for ln in kept))
    with ExportEngine(store, CopyConverter(), workers=1, on_conflict="rename") as engine:
        log = engine.run(JOB, ACME, journal=journal)
    assert log.counts.success == 3
    assert names(log) == first == {"x/a.bin": "a-2.bin", "y/a.bin": "a-3.bin", "z/a.bin": "a-4.bin"}
    exported_once(store, contents, taken)


def test_a_plan_shows_the_names_a_rename_run_writes() -> None:
    contents = {f"{f}/a.bin": f.encode() for f in FOLDERS[:2]}
    store = one_name_store(contents, {"a.bin": b"taken", "a-3.bin": b"taken too"})
    job = ExportJob(asset_handles=list(contents), fmt="orig")
    with ExportEngine(store, CopyConverter(), on_conflict="rename") as engine:
        plan = engine.plan(job, ACME)
        log = engine.run(job, ACME)
    assert [p.output_name for p in plan] == ["a-2.bin", "a-4.bin"]
    assert names(log) == {"x/a.bin": "a-2.bin", "y/a.bin": "a-4.bin"}
    assert plan.plans[0].warnings == (
        "output name 'a.bin' is taken by a file in the export area; written as 'a-2.bin'",
    )
    assert "taken by a file in the export area" in plan.plans[1].warnings[0]
    assert log.outcome("y/a.bin").warnings == plan.plans[1].warnings


class BlindStore(MemoryStore):
    """A store whose inventory fails: it cannot tell which names its export area holds."""

    def existing_exports(self, names: Collection[str]) -> set[str]:
        raise OSError("the listing service is down")

    def occupied_names(self, names: Collection[str]) -> set[str]:
        raise OSError("the listing service is down")


def test_a_store_that_cannot_tell_what_is_taken_still_renames_at_write_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = BlindStore(default_company="acme")
    store.add("x/a.bin", b"mine", file_name="a.bin")
    store.add_export("a.bin", b"someone else's")
    with (
        caplog.at_level(logging.WARNING, logger="exportjob.engine"),
        ExportEngine(store, CopyConverter(), on_conflict="rename") as engine,
    ):
        log = engine.run(ExportJob(asset_handles=["x/a.bin"], fmt="orig"), ACME)
    assert names(log) == {"x/a.bin": "a-2.bin"}
    assert store.exports == {"a.bin": b"someone else's", "a-2.bin": b"mine"}
    assert "cannot tell which output names" in caplog.text


def test_a_folder_store_renames_in_job_order_and_leaves_every_file_there_untouched(
    tmp_path: Path,
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    for f in FOLDERS:
        (src / f).mkdir(parents=True)
        (src / f / "a.bin").write_bytes(f.encode())
    out.mkdir()
    (out / "a.bin").write_bytes(b"theirs")
    (out / "a-2.bin").write_bytes(b"theirs too")
    store = DirectoryStore(src, out, default_company="acme")
    with ExportEngine(store, CopyConverter(), workers=3, on_conflict="rename") as engine:
        log = engine.run(JOB, ACME)
    assert names(log) == {"x/a.bin": "a-3.bin", "y/a.bin": "a-4.bin", "z/a.bin": "a-5.bin"}
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == {
        "a.bin": b"theirs",
        "a-2.bin": b"theirs too",
        "a-3.bin": b"x",
        "a-4.bin": b"y",
        "a-5.bin": b"z",
    }


@settings(max_examples=60, deadline=None)
@given(
    taken=st.sets(st.sampled_from(["a.bin", "a-2.bin", "a-3.bin", "A-4.bin", "a-5.bin"])),
    count=st.integers(1, 4),
    same=st.booleans(),
    dropped=st.sets(st.integers(0, 3)),
)
def test_names_are_distinct_and_survive_a_crash_whatever_is_taken(
    tmp_path_factory: pytest.TempPathFactory,
    taken: set[str],
    count: int,
    same: bool,
    dropped: set[int],
) -> None:
    contents = {f"f{i}/a.bin": b"same" if same else f"{i}".encode() for i in range(count)}
    there = {name: f"theirs {name}".encode() for name in taken}
    store = one_name_store(contents, there)
    job = ExportJob(asset_handles=list(contents), fmt="orig")
    journal = tmp_path_factory.mktemp("journal") / "job.jsonl"
    with ExportEngine(store, CopyConverter(), workers=2, on_conflict="rename") as engine:
        first = engine.run(job, ACME, journal=journal)
        given_names = [o.output_name for o in first.outcomes]
        assert all(o.status is AssetStatus.EXPORTED for o in first.outcomes)
        assert len(set(given_names)) == count
        assert not set(given_names) & taken
        lost = {f"f{i}/a.bin" for i in dropped}
        lines = journal.read_text().splitlines()
        journal.write_text(
            "".join(f"{ln}\n" for ln in lines if json.loads(ln).get("handle") not in lost)
        )
        again = engine.run(job, ACME, journal=journal)
    assert [o.output_name for o in again.outcomes] == given_names
    exported_once(store, contents, there)


class CountingListings(FsspecStore):
    """An ``FsspecStore`` that counts the listings of its whole output."""

    listings = 0

    def _listed(self) -> Any:
        type(self).listings += 1
        return super()._listed()


def test_an_object_store_renames_in_job_order_without_listing_its_output_per_plan(
    s3: Any, bucket: str, s3_url: str
) -> None:
    for f in FOLDERS:
        s3.put_object(Bucket=bucket, Key=f"src/{f}/a.bin", Body=f.encode())
    s3.put_object(Bucket=bucket, Key="out/a.bin", Body=b"theirs")
    s3.put_object(Bucket=bucket, Key="out/a-3.bin", Body=b"theirs too")
    store = CountingListings(
        f"s3://{bucket}/src",
        f"s3://{bucket}/out",
        storage_options=options(s3_url),
        default_company="acme",
    )
    with ExportEngine(store, CopyConverter(), on_conflict="rename") as engine:
        log = engine.run(JOB, ACME)
    assert names(log) == {"x/a.bin": "a-2.bin", "y/a.bin": "a-4.bin", "z/a.bin": "a-5.bin"}
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"]
    bodies = {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}
    assert bodies == {
        "out/a.bin": b"theirs",
        "out/a-2.bin": b"x",
        "out/a-3.bin": b"theirs too",
        "out/a-4.bin": b"y",
        "out/a-5.bin": b"z",
    }
    assert CountingListings.listings == 0


def test_a_memory_url_renames_in_job_order() -> None:
    root = f"memory://rename-{id(object())}"
    fs = fsspec.filesystem("memory")
    for f in FOLDERS:
        fs.pipe(f"{root}/src/{f}/a.bin", f.encode())
    fs.pipe(f"{root}/out/a.bin", b"theirs")
    store = FsspecStore(f"{root}/src", f"{root}/out", default_company="acme")
    with ExportEngine(store, CopyConverter(), workers=3, on_conflict="rename") as engine:
        log = engine.run(JOB, ACME)
    assert names(log) == {"x/a.bin": "a-2.bin", "y/a.bin": "a-3.bin", "z/a.bin": "a-4.bin"}
    assert fs.cat(f"{root}/out/a.bin") == b"theirs"


def two_alike(tmp_path: Path) -> tuple[Path, Path]:
    """Sources ``x/a.bin`` and ``y/a.bin`` with the same bytes, and an empty export folder."""
    src, out = tmp_path / "src", tmp_path / "out"
    for f in FOLDERS[:2]:
        (src / f).mkdir(parents=True)
        (src / f / "a.bin").write_bytes(b"same")
    out.mkdir()
    return src, out


@pytest.mark.parametrize("entry", ["symlink", "dangling-symlink", "folder"])
def test_a_name_held_by_a_folder_or_a_link_is_skipped_when_planned(
    tmp_path: Path, entry: str
) -> None:
    """Only regular files were counted: the plan took a.bin, the store's write-time renaming moved
    the first asset onto the second's planned a-2.bin, and both were logged to that one file."""
    src, out = two_alike(tmp_path)
    if entry == "folder":
        (out / "a.bin").mkdir()
    else:
        target = tmp_path / ("elsewhere" if entry == "symlink" else "nowhere")
        if entry == "symlink":
            target.write_bytes(b"other")
        (out / "a.bin").symlink_to(target)
    store = DirectoryStore(src, out, default_company="acme")
    job = ExportJob(asset_handles=["x/a.bin", "y/a.bin"], fmt="orig")
    with ExportEngine(store, CopyConverter(), workers=2, on_conflict="rename") as engine:
        planned = [p.output_name for p in engine.plan(job, ACME)]
        log = engine.run(job, ACME)
    assert planned == [o.output_name for o in log.outcomes] == ["a-2.bin", "a-3.bin"]
    assert (out / "a-2.bin").read_bytes() == (out / "a-3.bin").read_bytes() == b"same"


def test_a_memory_folder_of_exports_is_a_name_taken_when_planned() -> None:
    store = one_name_store({"x/a.bin": b"mine"}, {"a.bin/inside.txt": b"theirs"})
    with ExportEngine(store, CopyConverter(), on_conflict="rename") as engine:
        log = engine.run(ExportJob(asset_handles=["x/a.bin"], fmt="orig"), ACME)
    assert names(log) == {"x/a.bin": "a-2.bin"}


def test_a_name_given_back_but_taken_since_is_renamed_and_the_file_there_kept(
    tmp_path: Path,
) -> None:
    """Planned (and journaled) a.bin and a-2.bin, killed before writing; a file a.bin appeared.
    The store renames the first asset at write time: the file there is untouched, every asset is
    exported, and a variant holding the same bytes is not taken for an earlier attempt unless it
    is the asset's own planned name (docs/scale.md#conflicts: such names depend on timing)."""
    src, out = two_alike(tmp_path)
    (src / "y" / "a.bin").write_bytes(b"other")
    store = DirectoryStore(src, out, default_company="acme")
    job = ExportJob(asset_handles=["x/a.bin", "y/a.bin"], fmt="orig")
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter(), workers=1, on_conflict="rename") as engine:
        engine.run(job, ACME, journal=journal)
        planned_only = [ln for ln in journal.read_text().splitlines() if '"handle"' not in ln]
        journal.write_text("".join(f"{ln}\n" for ln in planned_only))
        for export in out.glob("*.bin"):
            export.unlink()
        (out / "a.bin").write_bytes(b"someone else's")
        log = engine.run(job, ACME, journal=journal)
    assert log.counts.success == 2
    given = {o.handle.value: o.output_name for o in log.outcomes}
    assert len(set(given.values())) == 2
    assert (out / "a.bin").read_bytes() == b"someone else's"
    assert {p.name: p.read_bytes() for p in out.glob("*.bin")} == {
        "a.bin": b"someone else's",
        given["x/a.bin"]: b"same",
        given["y/a.bin"]: b"other",
    }


class EverythingTaken(MemoryStore):
    """A store that says every name is taken, as a folder it may not search does."""

    asked = 0

    def occupied_names(self, names: Collection[str]) -> set[str]:
        type(self).asked += 1
        return set(names)

    existing_exports = occupied_names


def test_a_store_that_says_every_name_is_taken_is_asked_a_bounded_number_of_times() -> None:
    """Planning asked it 10,000 times per asset (about 10 s), then failed the asset with an
    UNEXPECTED_ERROR and a traceback."""
    store = EverythingTaken(default_company="acme")
    store.add("a.bin", b"x", file_name="a.bin")
    with ExportEngine(store, CopyConverter(), workers=1, on_conflict="rename") as engine:
        log = engine.run(ExportJob(asset_handles=["a.bin"], fmt="orig"), ACME)
    assert EverythingTaken.asked <= 40
    assert log.outcome("a.bin").status is AssetStatus.EXPORTED  # the store's write decided
    assert store.exports == {"a.bin": b"x"}


@pytest.mark.parametrize(
    "line",
    [
        {"planned": "a.bin"},
        {"planned": "a.bin", "name": None},
        {"planned": "a.bin", "name": "a .bin "},
        {"planned": "a.bin", "name": "../escape.bin"},
        {"planned": ["a.bin"], "name": "b.bin"},
    ],
)
def test_a_torn_or_forged_planned_line_is_ignored(tmp_path: Path, line: dict[str, Any]) -> None:
    """A line without a name crashed every run of the job (KeyError); an unsafe name was given
    back as it was and failed the asset on every run after."""
    store = MemoryStore(default_company="acme")
    store.add("a.bin", b"x", file_name="a.bin")
    job = ExportJob(asset_handles=["a.bin"], fmt="orig")
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter(), on_conflict="rename") as engine:
        engine.run(job, ACME, journal=journal)
        header = journal.read_text().splitlines()[0]
        journal.write_text(f"{header}\n{json.dumps(line)}\n")
        store.remove_export("a.bin")
        log = engine.run(job, ACME, journal=journal)
    assert names(log) == {"a.bin": "a.bin"}
    assert store.exports == {"a.bin": b"x"}


def test_a_resumed_asset_is_warned_of_the_name_it_was_given_before(tmp_path: Path) -> None:
    store = one_name_store({"x/a.bin": b"mine"}, {"a.bin": b"theirs"})
    job = ExportJob(asset_handles=["x/a.bin"], fmt="orig")
    journal = tmp_path / "job.jsonl"
    with ExportEngine(store, CopyConverter(), on_conflict="rename") as engine:
        first = engine.run(job, ACME, journal=journal)
        planned_only = [ln for ln in journal.read_text().splitlines() if '"handle"' not in ln]
        journal.write_text("".join(f"{ln}\n" for ln in planned_only))
        again = engine.run(job, ACME, journal=journal)
    assert first.outcome("x/a.bin").output_name == again.outcome("x/a.bin").output_name
    assert again.outcome("x/a.bin").warnings == (
        "output name 'a.bin' is taken; written as 'a-2.bin', as when the job ran before",
    )


@pytest.mark.parametrize("kind", ["memory", "directory", "memory-url"])
def test_under_rename_an_existing_folder_is_no_clash_and_a_file_on_the_path_is(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An object store's listing-free check took a folder of the path for a clash: every name in
    a folder that already held exports went through every variant. A folder of the path that is
    a file there is numbered as a whole (f-2/g.pdf), as for a file of the job; only the leaf was
    numbered, under the file, until the asset failed STORE_WRITE_FAILED."""
    theirs = {"x/other.pdf": b"theirs", "f": b"a file named like a folder"}
    mine = {"x/y.pdf": b"mine", "f/g.pdf": b"mine too"}
    store: MemoryStore | DirectoryStore | FsspecStore
    if kind == "memory":
        store = MemoryStore(default_company="acme")
        for handle, data in mine.items():
            store.add(handle, data, file_name=handle.rpartition("/")[2])
        for name, data in theirs.items():
            store.add_export(name, data)
    else:
        src = tmp_path / "src"
        for handle, data in mine.items():
            (src / handle).parent.mkdir(parents=True, exist_ok=True)
            (src / handle).write_bytes(data)
        if kind == "directory":
            out = tmp_path / "out"
            for name, data in theirs.items():
                (out / name).parent.mkdir(parents=True, exist_ok=True)
                (out / name).write_bytes(data)
            store = DirectoryStore(src, out, default_company="acme")
        else:
            url = f"memory://folders-{id(tmp_path)}/out"
            for name, data in theirs.items():
                fsspec.filesystem("memory").pipe(f"{url}/{name}", data)
            store = FsspecStore(src.as_uri(), url, default_company="acme")
    job = ExportJob(asset_handles=list(mine), fmt="orig")
    with (
        caplog.at_level(logging.WARNING, logger="exportjob.engine"),
        ExportEngine(store, CopyConverter(), on_conflict="rename", keep_folders=True) as engine,
    ):
        log = engine.run(job, ACME)
    # x/y.pdf was found free at once, not kept after every variant was said to be taken
    assert "variants of the output name 'x/y.pdf'" not in caplog.text
    assert log.outcome("x/y.pdf").output_name == "x/y.pdf"
    assert log.outcome("x/y.pdf").status is AssetStatus.EXPORTED
    assert log.outcome("f/g.pdf").output_name == "f-2/g.pdf"
    assert log.outcome("f/g.pdf").warnings == (
        "output name 'f/g.pdf' is taken by a file in the export area; written as 'f-2/g.pdf'",
    )


def test_a_folder_numbered_for_a_file_of_the_job_skips_a_file_in_the_export_area() -> None:
    """The job's file x moved the folder of x/y.pdf to x-2/, onto a file x-2 someone had put in
    the export area: every variant beneath it was tried, then the asset failed."""
    store = MemoryStore(default_company="acme")
    store.add("x", b"a file named x", file_name="x")
    store.add("x/y.pdf", b"in a folder named x", file_name="y.pdf")
    store.add_export("x-2", b"theirs")
    job = ExportJob(asset_handles=["x", "x/y.pdf"], fmt="orig")
    with ExportEngine(store, CopyConverter(), on_conflict="rename", keep_folders=True) as engine:
        log = engine.run(job, ACME)
    assert names(log) == {"x": "x", "x/y.pdf": "x-3/y.pdf"}
    assert store.exports["x-2"] == b"theirs"
