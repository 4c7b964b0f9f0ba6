"""The CLI's delivery at its edges: a source file named like the manifest, an archive in the source."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import fsspec
import pytest

from exportjob import ExportEngine, ExportJob, JobContext
from exportjob.converters import CopyConverter
from exportjob.delivery import MANIFEST_CSV, MANIFEST_JSON, MANIFEST_NAMES, ExportManifest, verify
from exportjob.stores import DirectoryStore, MemoryStore, ZipStore
from tests.test_cli_delivery import run

NOT_A_MANIFEST = b'{"a source file": "named like the manifest"}\n'


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / MANIFEST_JSON).write_bytes(NOT_A_MANIFEST)
    (folder / MANIFEST_CSV).write_bytes(b"a,b\n1,2\n")
    (folder / "a.pdf").write_bytes(b"%PDF-1.4 a")
    return folder


def test_a_source_file_named_like_the_manifest_is_numbered_beside_it(
    src: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    for attempt in range(2):  # and again: the job is done, the manifest the same
        status, printed, err = run(
            "export", str(src), "--fmt", "orig", "--out", str(out), "--export-manifest"
        )
        assert status == 0, err
        assert (out / "exportjob-manifest-2.json").read_bytes() == NOT_A_MANIFEST
        assert (out / "exportjob-manifest-2.csv").read_bytes() == b"a,b\n1,2\n"
        manifest = ExportManifest.from_json((out / MANIFEST_JSON).read_bytes())
        assert sorted(manifest.files()) == [
            "a.pdf",
            "exportjob-manifest-2.csv",
            "exportjob-manifest-2.json",
        ]
        if attempt == 0:
            assert "is taken by a file written beside the exports" in printed
    assert verify(out).ok


def test_a_source_file_named_like_the_manifest_is_numbered_in_an_archive(
    src: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "job.zip"
    status, _, err = run("export", str(src), "--fmt", "orig", "--zip", str(archive))
    assert status == 0, err
    with zipfile.ZipFile(archive) as opened:
        assert opened.read("exportjob-manifest-2.json") == NOT_A_MANIFEST
        ExportManifest.from_json(opened.read(MANIFEST_JSON))
    assert verify(archive).ok


@pytest.mark.parametrize("name", MANIFEST_NAMES)
def test_a_file_of_the_export_area_named_like_the_manifest_is_never_replaced(
    name: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.pdf").write_bytes(b"%PDF-1.4 a")
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_bytes(b"the user's own file\n")
    status, _, err = run(
        "export", str(src), "--fmt", "orig", "--out", str(out), "--export-manifest"
    )
    assert status == 2
    assert f"holds a {name} that is not an export manifest" in err
    assert (out / name).read_bytes() == b"the user's own file\n"
    assert not (out / "a.pdf").exists()  # refused before the job: nothing exported


def test_an_earlier_manifest_is_replaced(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "a.pdf").write_bytes(b"%PDF-1.4 a")
    assert run("export", str(src), "--fmt", "orig", "--out", str(out), "--export-manifest")[0] == 0
    (src / "b.pdf").write_bytes(b"%PDF-1.4 b")
    assert run("export", str(src), "--fmt", "orig", "--out", str(out), "--export-manifest")[0] == 0
    assert sorted(ExportManifest.from_json((out / MANIFEST_JSON).read_bytes()).files()) == [
        "a.pdf",
        "b.pdf",
    ]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_an_earlier_manifest_is_replaced_through_an_out_folder_reached_by_a_link(
    tmp_path: Path,
) -> None:
    src, real, link = tmp_path / "src", tmp_path / "real", tmp_path / "link"
    src.mkdir()
    (src / "a.pdf").write_bytes(b"%PDF-1.4 a")
    link.symlink_to(real, target_is_directory=True)
    assert run("export", str(src), "--fmt", "orig", "--out", str(real), "--export-manifest")[0] == 0
    (src / "b.pdf").write_bytes(b"%PDF-1.4 b")
    status, _, err = run(
        "export", str(src), "--fmt", "orig", "--out", str(link), "--export-manifest"
    )
    assert status == 0, err
    assert sorted(ExportManifest.from_json((real / MANIFEST_JSON).read_bytes()).files()) == [
        "a.pdf",
        "b.pdf",
    ]


def test_an_engine_keeps_reserved_names_from_exports(tmp_path: Path) -> None:
    originals = MemoryStore()
    originals.add("m", NOT_A_MANIFEST, file_name=MANIFEST_JSON, type="Asset")
    store = ZipStore(originals, tmp_path / "job.zip")
    job = ExportJob(asset_handles=["m"], fmt="orig")
    with ExportEngine(store, CopyConverter(), reserved_names=MANIFEST_NAMES) as engine:
        assert engine.plan(job, JobContext(company="default")).plans[0].output_name == (
            "exportjob-manifest-2.json"
        )
        log = engine.run(job, JobContext(company="default"), progress=store.stream(job))
    assert log.ok
    store.finish(log)
    assert verify(tmp_path / "job.zip").ok


@pytest.mark.parametrize("volumes", [[], ["--zip-volume-size", "1K"]])
def test_an_archive_inside_the_source_folder_is_no_asset_of_the_next_run(
    volumes: list[str], tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"p{i}.pdf").write_bytes(b"%PDF-1.4 " + bytes([i]) * 600)
    archive = src / "job.zip"
    written: list[dict[str, bytes]] = []
    for _ in range(2):
        status, _, err = run("export", str(src), "--fmt", "orig", "--zip", str(archive), *volumes)
        assert status == 0, err
        written.append({p.name: p.read_bytes() for p in sorted(src.glob("job*.zip"))})
    assert written[0] == written[1]  # the same assets, the same archive
    entries = []
    for volume in written[1]:
        with zipfile.ZipFile(src / volume) as opened:
            entries += [n for n in opened.namelist() if not n.startswith("exportjob-manifest")]
    assert sorted(entries) == ["p0.pdf", "p1.pdf", "p2.pdf"]


def test_the_spool_of_an_unfinished_archive_inside_the_source_is_no_asset(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.pdf").write_bytes(b"%PDF-1.4 a")
    store = ZipStore(DirectoryStore(src, tmp_path / "unused"), src / "sub" / "job.zip")
    with ExportEngine(store, CopyConverter()) as engine:  # never finished: the spool stays
        engine.run(
            ExportJob(asset_handles=["sub/a.pdf"], fmt="orig"), JobContext(company="default")
        )
    assert (src / "sub" / "job.zip.parts" / "a.pdf").exists()
    (src / "sub" / "job.zip").write_bytes(b"an archive of an earlier run")
    (src / "sub" / "job-001.zip").write_bytes(b"not a volume of this archive")
    assert [h.value for h in store.handles()] == ["sub/a.pdf", "sub/job-001.zip"]


def test_a_job_into_another_url_keeps_a_journal_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Journals of URL outputs were all kept in ./.exportjob/ by the job's key alone: the same job
    into another URL resumed the first one's journal and reported a file someone else had put
    there under an export's name as exported (exit 0), where a job of its own fails it."""
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "originals"
    source.mkdir()
    (source / "a.pdf").write_bytes(b"%PDF-1.4 a")
    fs = fsspec.filesystem("memory")
    first, second = (f"memory://journals-{id(tmp_path)}-{n}" for n in ("first", "second"))
    fs.pipe(f"{second}/a.pdf", b"someone else's")
    assert run("export", str(source), "--fmt", "orig", "--out", first)[0] == 0
    status, out, _ = run("export", str(source), "--fmt", "orig", "--out", second)
    assert status == 1
    assert "OUTPUT_EXISTS" in out
    assert fs.cat(f"{second}/a.pdf") == b"someone else's"


@pytest.mark.parametrize("kind", ["fifo", "link-to-a-manifest", "dangling-link", "folder"])
def test_what_is_no_file_under_the_manifest_name_is_refused_without_reading_it(
    tmp_path: Path, kind: str
) -> None:
    """The check before the job read the whole file through any link: a FIFO there hung the
    command, a link to /dev/zero read without end, and a folder gave a raw IsADirectoryError."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "a.pdf").write_bytes(b"%PDF-1.4 a")
    out.mkdir()
    there = out / MANIFEST_JSON
    if kind == "fifo":
        os.mkfifo(there)
    elif kind == "folder":
        there.mkdir()
    else:
        target = tmp_path / "elsewhere.json"
        if kind == "link-to-a-manifest":
            target.write_bytes(ExportManifest(()).to_json())
        there.symlink_to(target)
    status, _, err = run(
        "export", str(src), "--fmt", "orig", "--out", str(out), "--export-manifest"
    )
    assert status == 2
    assert f"holds a {MANIFEST_JSON} that is not an export manifest" in err
    assert not (out / "a.pdf").exists()
    assert there.is_symlink() or there.exists()  # left as it was


def test_a_manifest_is_known_by_its_first_bytes_not_read_whole(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "a.pdf").write_bytes(b"%PDF-1.4 a")
    out.mkdir()
    # A large earlier manifest: its opening bytes say what it is (the rest is not parsed first).
    padded = b'{\n "records": [' + b" " * (8 << 20) + b'],\n "version": 1\n}\n'
    ExportManifest.from_json(padded)
    (out / MANIFEST_JSON).write_bytes(padded)
    assert run("export", str(src), "--fmt", "orig", "--out", str(out), "--export-manifest")[0] == 0
    assert sorted(ExportManifest.from_json((out / MANIFEST_JSON).read_bytes()).files()) == ["a.pdf"]


def test_reserved_names_given_as_one_string_is_one_name() -> None:
    """A bare string was taken for a collection of one-character names (UnsafeNameError on '.')."""
    store = MemoryStore(default_company="acme")
    store.add("m", b"x", file_name="manifest.json")
    with ExportEngine(store, CopyConverter(), reserved_names="manifest.json") as engine:
        log = engine.run(ExportJob(asset_handles=["m"], fmt="orig"), JobContext(company="acme"))
    assert engine.reserved_names == ("manifest.json",)
    assert log.outcome("m").output_name == "manifest-2.json"
