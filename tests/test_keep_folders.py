"""Keeping the handles' folders under the export area: names, stores, symlinks, the CLI."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import fsspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exportjob import Asset, ExportEngine, ExportJob, JobContext, plan_exports
from exportjob.converters import CopyConverter
from exportjob.exceptions import StoreWriteError
from exportjob.stores import DirectoryStore, FsspecStore, MemoryStore, check_name
from tests.cli import export_command

ACME = JobContext(company="acme")


def tree(tmp_path: Path, files: dict[str, bytes]) -> DirectoryStore:
    source = tmp_path / "src"
    for handle, data in files.items():
        (source / handle).parent.mkdir(parents=True, exist_ok=True)
        (source / handle).write_bytes(data)
    return DirectoryStore(source, tmp_path / "out", default_company="acme")


def orig(handles: list[str]) -> ExportJob:
    return ExportJob(asset_handles=handles, fmt="orig")


def plan_names(handles: list[str], *, keep_folders: bool = True) -> list[str]:
    assets = [
        Asset(handle=h, type="Image", name="x", file_name=h.rsplit("/", 1)[-1] or "x", company="c")
        for h in handles
    ]
    return [p.output_name for p in plan_exports(assets, orig(handles), keep_folders=keep_folders)]


@pytest.mark.parametrize("keep", [True, False])
def test_two_folders_export_as_two_folders_or_flattened(keep: bool, tmp_path: Path) -> None:
    store = tree(tmp_path, {"a/x.jpg": b"from a", "b/x.jpg": b"from b"})
    with ExportEngine(store, CopyConverter(), keep_folders=keep) as engine:
        log = engine.run(orig(["a/x.jpg", "b/x.jpg"]), ACME)
    assert log.counts.success == 2
    names = [o.output_name for o in log.outcomes]
    assert names == (["a/x.jpg", "b/x.jpg"] if keep else ["x.jpg", "x-2.jpg"])
    assert store.read_export(names[1]) == b"from b"
    assert [p.relative_to(store.output_dir).as_posix() for p in store.exported()] == sorted(names)
    if keep:
        assert (store.output_dir / "a" / "x.jpg").read_bytes() == b"from a"
        assert log.outcomes[0].location == str(store.output_dir / "a" / "x.jpg")


@pytest.mark.parametrize(
    ("handle", "expected"),
    [
        pytest.param("../../etc/x.jpg", "etc/x.jpg", id="dot-dot"),
        pytest.param("/abs/x.jpg", "abs/x.jpg", id="absolute"),
        pytest.param("a//b/./x.jpg", "a/b/x.jpg", id="empty-and-dot"),
        pytest.param("CON/x.jpg", "_CON/x.jpg", id="device-name"),
        pytest.param("a\\b/x.jpg", "a/b/x.jpg", id="backslash"),
        pytest.param("ev\u202eil/x.jpg", "evil/x.jpg", id="bidi-override"),
        pytest.param("dir. /x.jpg", "dir/x.jpg", id="trailing-dot-space"),
        pytest.param("a:b|c/x.jpg", "a_b_c/x.jpg", id="forbidden-characters"),
    ],
)
def test_hostile_folder_components_are_made_safe(handle: str, expected: str) -> None:
    assert plan_names([handle]) == [expected]


@given(
    st.lists(
        st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40),
        min_size=1,
        max_size=6,
    )
)
def test_any_handle_keeps_folders_beneath_the_export_area(parts: list[str]) -> None:
    handle = "/".join([*parts, "x.jpg"])
    [name] = plan_names([handle])
    components = name.split("/")
    for component in components:
        check_name(component)
    assert components[-1] == "x.jpg"


def test_names_are_made_distinct_per_path_case_insensitively() -> None:
    assert plan_names(["a/x.jpg", "A/x.jpg", "a/x.jpg.d/y", "b/x.jpg"]) == [
        "a/x.jpg",
        "A/x-2.jpg",
        "a/x.jpg.d/y",
        "b/x.jpg",
    ]


def test_a_symlinked_folder_in_the_export_area_is_never_followed(tmp_path: Path) -> None:
    store = tree(tmp_path, {"a/x.jpg": b"secret", "b/y.jpg": b"fine"})
    outside = tmp_path / "outside"
    outside.mkdir()
    store.output_dir.mkdir()
    (store.output_dir / "a").symlink_to(outside, target_is_directory=True)
    with pytest.raises(StoreWriteError, match="not a plain folder"):
        store.write_export("a/x.jpg", [b"secret"])
    with ExportEngine(store, CopyConverter(), keep_folders=True) as engine:
        log = engine.run(orig(["a/x.jpg", "b/y.jpg"]), ACME)
    assert [o.status.value for o in log.outcomes] == ["failed", "exported"]
    assert "not a plain folder" in (log.outcomes[0].message or "")
    assert list(outside.iterdir()) == []
    assert (store.output_dir / "b" / "y.jpg").read_bytes() == b"fine"
    with pytest.raises(KeyError):
        store.read_export("a/x.jpg")


def test_a_symlink_deeper_down_is_refused_too(tmp_path: Path) -> None:
    store = tree(tmp_path, {"k": b""})
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.output_dir / "a").mkdir(parents=True)
    (store.output_dir / "a" / "b").symlink_to("../../outside")
    with pytest.raises(StoreWriteError):
        store.write_export("a/b/c/x.jpg", [b"x"])
    assert list(outside.iterdir()) == []


def test_the_conflict_policy_applies_within_the_folder(tmp_path: Path) -> None:
    store = tree(tmp_path, {"a/x.jpg": b"new"})
    (store.output_dir / "a").mkdir(parents=True)
    (store.output_dir / "a" / "x.jpg").write_bytes(b"someone else's")
    with ExportEngine(store, CopyConverter(), keep_folders=True, on_conflict="rename") as engine:
        log = engine.run(orig(["a/x.jpg"]), ACME)
    assert log.outcomes[0].output_name == "a/x-2.jpg"
    assert (store.output_dir / "a" / "x-2.jpg").read_bytes() == b"new"
    assert (store.output_dir / "a" / "x.jpg").read_bytes() == b"someone else's"


def test_temporary_files_a_killed_run_left_in_a_subfolder_are_swept(tmp_path: Path) -> None:
    store = tree(tmp_path, {"a/x.jpg": b"x"})
    done = subprocess.Popen([sys.executable, "-c", ""])
    done.wait()
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:32] or "host"
    stale = store.output_dir / "a" / f".exportjob-{host}-{done.pid}-0123456789ab.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left")
    store.write_export("a/x.jpg", [b"x"])
    assert not stale.exists()
    assert [p.name for p in (store.output_dir / "a").iterdir()] == ["x.jpg"]


def test_memory_and_fsspec_stores_keep_keys_with_folders() -> None:
    memory = MemoryStore(default_company="acme")
    memory.add("a/x.jpg", b"a")
    memory.add("b/x.jpg", b"b")
    with ExportEngine(memory, CopyConverter(), keep_folders=True) as engine:
        engine.run(orig(["a/x.jpg", "b/x.jpg"]), ACME)
    assert memory.exports == {"a/x.jpg": b"a", "b/x.jpg": b"b"}
    root = f"/keep-{uuid.uuid4().hex}"
    fsspec.filesystem("memory").pipe(f"{root}/src/a.png", b"png")
    fs = FsspecStore(f"memory://{root}/src", f"memory://{root}/out")
    assert fs.write_export("a/b/x.jpg", [b"deep"]).name == "a/b/x.jpg"
    assert fs.read_export("a/b/x.jpg") == b"deep"
    assert list(fs.exported()) == ["a/b/x.jpg"]


def test_the_cli_keeps_folders(tmp_path: Path) -> None:
    store = tree(tmp_path, {"a/x.jpg": b"from a", "b/x.jpg": b"from b"})
    result = subprocess.run(  # noqa: S603 - this interpreter, arguments of the test
        export_command(
            store.source_dir, "--fmt", "orig", "--out", store.output_dir, "--keep-folders"
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (store.output_dir / "a" / "x.jpg").read_bytes() == b"from a"
    assert (store.output_dir / "b" / "x.jpg").read_bytes() == b"from b"
    assert not (store.output_dir / "x-2.jpg").exists()


def test_kept_folders_are_entries_of_an_archive_that_verifies(tmp_path: Path) -> None:
    store = tree(tmp_path, {"a/x.jpg": b"from a", "b/x.jpg": b"from b"})
    archive = tmp_path / "job.zip"
    base = [sys.executable, "-m", "exportjob"]
    result = subprocess.run(  # noqa: S603 - this interpreter, arguments of the test
        [
            *base,
            "export",
            str(store.source_dir),
            "--fmt",
            "orig",
            "--zip",
            str(archive),
            "--keep-folders",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(archive) as opened:
        assert opened.read("a/x.jpg") == b"from a"
        assert opened.read("b/x.jpg") == b"from b"
    verified = subprocess.run(  # noqa: S603
        [*base, "verify", str(archive)], capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
