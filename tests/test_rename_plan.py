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
from tests.s3server import bucket, s3, s3_url

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
    settings = {"endpoint_url": s3_url, "key": "testing", "secret": "testing"}
    store = CountingListings(
        f"s3://{bucket}/src",
        f"s3://{bucket}/out",
        storage_options={**settings, "skip_instance_cache": True},
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
