"""What the same export command resumes, and what makes it another job that meets the files."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from exportjob import ExportEngine, ExportJob, JobContext, JobLog
from exportjob.cli import main
from exportjob.converters import CopyConverter
from exportjob.delivery import MANIFEST_CSV, MANIFEST_JSON
from exportjob.exceptions import StoreWriteError
from exportjob.stores import DirectoryStore, ZipStore
from tests.cli import export_command


def cli(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_the_same_command_again_resumes_and_exports_nothing_twice(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.pdf").write_bytes(b"AAAA")
    out = tmp_path / "out"
    assert cli("export", tmp_path / "src", "--fmt", "orig", "--out", out)[0] == 0
    stamp = (out / "a.pdf").stat().st_mtime_ns
    status, stdout, _ = cli("export", tmp_path / "src", "--fmt", "orig", "--out", out)
    assert (status, (out / "a.pdf").stat().st_mtime_ns) == (0, stamp)
    assert "1 exported" in stdout


def test_another_source_into_the_same_folder_is_another_job(tmp_path: Path) -> None:
    # It used to resume the first one's journal and say "1 exported" for a file it never wrote.
    for name, data in (("srcA", b"AAAA"), ("srcB", b"BBBB")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.pdf").write_bytes(data)
    out = tmp_path / "out"
    assert cli("export", tmp_path / "srcA", "--fmt", "orig", "--out", out)[0] == 0
    status, stdout, _ = cli("export", tmp_path / "srcB", "--fmt", "orig", "--out", out)
    assert status == 1
    assert "OUTPUT_EXISTS" in stdout
    assert (out / "a.pdf").read_bytes() == b"AAAA"


def test_another_company_never_resumes_a_job_it_may_not_run(tmp_path: Path) -> None:
    # It used to resume acme's journal and log acme's asset as exported for company "other".
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.pdf").write_bytes(b"%PDF")
    (src / "exportjob.json").write_text(json.dumps({"assets": {"a.pdf": {"company": "acme"}}}))
    out = tmp_path / "out"
    assert cli("export", src, "--fmt", "orig", "--out", out, "--company", "acme")[0] == 0
    status, stdout, _ = cli("export", src, "--fmt", "orig", "--out", out, "--company", "other")
    assert status == 1
    assert "NOT_AUTHORIZED" in stdout
    assert "0 exported" in stdout


@pytest.mark.parametrize("given", [True, False])
def test_an_asset_the_edited_manifest_gives_another_company_is_never_resumed(
    tmp_path: Path, given: bool
) -> None:
    # The journal was named by the manifest's path only: the same command after the manifest
    # gave a.pdf to a rival resumed it and said "1 exported" (exit 0) for an asset acme may not
    # export. A manifest added later (the default exportjob.json) did the same.
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.pdf").write_bytes(b"%PDF")
    manifest = tmp_path / "manifest.json" if given else src / "exportjob.json"
    options = ("--manifest", manifest) if given else ()
    out = tmp_path / "out"
    if given:
        manifest.write_text(json.dumps({"assets": {}}))
    assert cli("export", src, "--fmt", "orig", "--out", out, "--company", "acme", *options)[0] == 0
    manifest.write_text(json.dumps({"assets": {"a.pdf": {"company": "rival"}}}))
    status, stdout, _ = cli(
        "export", src, "--fmt", "orig", "--out", out, "--company", "acme", *options
    )
    assert status == 1, stdout
    assert "NOT_AUTHORIZED" in stdout
    assert (out / "a.pdf").read_bytes() == b"%PDF"  # left as it was


# -- an unfinished archive


def zip_names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as z:
        return z.namelist()


def test_an_unfinished_archive_of_another_job_is_never_published_as_this_ones(
    tmp_path: Path,
) -> None:
    # Job A's publish is refused (the name holds a foreign file), so its spool stays; job B, of
    # one handle, used to finish it and publish A's secret.txt too, exiting 0.
    src = tmp_path / "src"
    src.mkdir()
    (src / "public.txt").write_text("public\n")
    (src / "secret.txt").write_text("secret\n")
    archive = tmp_path / "o.zip"
    archive.write_bytes(b"foreign")
    assert cli("export", src, "--fmt", "orig", "--zip", archive)[0] == 2
    b = ("export", src, "--fmt", "orig", "--zip", archive, "--handle", "public.txt")
    status, _, err = cli(*b, "--on-conflict", "replace")
    assert status == 2
    assert "secret.txt and more that this job did not export" in err
    assert "--restart" in err
    assert archive.read_bytes() == b"foreign"
    # --restart discards the unfinished archive (it used to keep it: the same error every time).
    assert cli(*b, "--on-conflict", "replace", "--restart")[0] == 0
    assert zip_names(archive) == ["public.txt", MANIFEST_JSON, MANIFEST_CSV]
    assert not archive.with_name("o.zip.parts").exists()


def _zip_in_another_process(src: Path, archive: Path) -> subprocess.CompletedProcess[str]:
    """The CLI, in a process of its own, exporting *src* as it is into the archive *archive*."""
    return subprocess.run(  # noqa: S603 - our own interpreter and command
        export_command(src, "--fmt", "orig", "--zip", archive),
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_second_process_writing_the_same_archive_is_refused_at_once(tmp_path: Path) -> None:
    # Two identical --zip commands at once used to publish a corrupt archive with exit 0.
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a\n")
    archive = tmp_path / "o.zip"
    held = ZipStore(DirectoryStore(src, tmp_path / "unused"), archive)
    other = _zip_in_another_process(src, archive)
    assert other.returncode == 2
    assert f"another process is writing the archive {archive}" in other.stderr
    assert not archive.exists()
    # This process goes on with it (a store made again takes over), and then the other may.
    again = ZipStore(DirectoryStore(src, tmp_path / "unused"), archive)
    job = ExportJob(asset_handles=["a.txt"], fmt="orig")
    with ExportEngine(again, CopyConverter()) as engine:
        again.finish(engine.run(job, JobContext(company="default")))
    with pytest.raises(StoreWriteError, match="taken over by another store of this process"):
        held.discard()  # it no longer owns the spool: it must not touch it
    assert zip_names(archive) == ["a.txt", MANIFEST_JSON, MANIFEST_CSV]


def test_a_store_dropped_unfinished_lets_another_process_take_its_archive(
    tmp_path: Path,
) -> None:
    # A ZipStore neither finished nor closed (dropped in a notebook) kept its lock until the
    # process exited: every other process was refused the archive meanwhile.
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a\n")
    archive = tmp_path / "o.zip"
    held = ZipStore(DirectoryStore(src, tmp_path / "unused"), archive)
    del held
    gc.collect()
    other = _zip_in_another_process(src, archive)
    assert other.returncode == 0, other.stderr
    assert zip_names(archive) == ["a.txt", MANIFEST_JSON, MANIFEST_CSV]


_DROPPED_IN_A_CYCLE = """
import gc, sys
from pathlib import Path
from exportjob.stores import MemoryStore, ZipStore

base = Path(sys.argv[1])

def dropped_in_a_cycle(folder):
    store = ZipStore(MemoryStore(), folder / "first.zip")
    try:
        raise ValueError("a notebook cell failed")
    except ValueError as exc:
        kept = exc  # the exception -> its traceback -> this frame -> the store: a cycle

for threshold in range(1, 121):  # until a collection falls inside the locked section
    folder = base / str(threshold)
    folder.mkdir()
    gc.collect()
    dropped_in_a_cycle(folder)
    gc.set_threshold(threshold)
    second = ZipStore(MemoryStore(), folder / "second.zip")
    second.close()
    gc.set_threshold(700)
    gc.collect()
print("ok")
"""


def test_a_store_collected_while_another_takes_the_lock_does_not_deadlock(tmp_path: Path) -> None:
    # The collector runs a dropped store's finalizer wherever it runs, here in the thread that
    # held the lock table's lock while the next store took its lock: it waited for itself.
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _DROPPED_IN_A_CYCLE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr


def _streamed(store: ZipStore, handles: list[str]) -> JobLog:
    job = ExportJob(asset_handles=handles, fmt="orig")
    with ExportEngine(store, CopyConverter()) as engine:
        return engine.run(job, JobContext(company="default"), progress=store.stream(job))


def test_a_store_taken_over_in_the_same_process_never_publishes(tmp_path: Path) -> None:
    # A second store's discard() emptied the spool under the first, whose finish() then
    # published a zero-filled archive as a success.
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}.bin").write_bytes(bytes([i]) * 1000)
    originals = DirectoryStore(src, tmp_path / "unused")
    first = ZipStore(originals, tmp_path / "a.zip")
    log = _streamed(first, [f"f{i}.bin" for i in range(3)])
    ZipStore(originals, tmp_path / "a.zip").discard()
    with pytest.raises(StoreWriteError, match="taken over"):
        first.finish(log)
    assert not (tmp_path / "a.zip").exists()


def test_the_spool_is_one_lock_however_it_is_spelled(tmp_path: Path) -> None:
    # Through a symlinked folder it was refused as "another process is writing".
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a\n")
    (tmp_path / "link").symlink_to(tmp_path)
    originals = DirectoryStore(src, tmp_path / "unused")
    first = ZipStore(originals, tmp_path / "c.zip")
    second = ZipStore(originals, tmp_path / "link" / "c.zip")  # takes it over
    second.finish(_streamed(second, ["a.txt"]))
    assert zip_names(tmp_path / "c.zip") == ["a.txt", MANIFEST_JSON, MANIFEST_CSV]
    with pytest.raises(StoreWriteError, match="taken over"):
        first.write_export("b.txt", [b"b"])


def test_a_finished_archive_leaves_the_spool_to_the_next_writer(tmp_path: Path) -> None:
    # finish() removed the spool's lock file while another holder of this process kept it, so a
    # third writer could lock a new one beside it.
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a\n")
    originals = DirectoryStore(src, tmp_path / "unused")
    stale, current = (
        ZipStore(originals, tmp_path / "e.zip"),
        ZipStore(originals, tmp_path / "e.zip"),
    )
    current.finish(_streamed(current, ["a.txt"]))
    assert not (tmp_path / "e.zip.parts").exists()
    with pytest.raises(StoreWriteError, match="taken over"):
        stale.finish(_streamed(ZipStore(originals, tmp_path / "other.zip"), ["a.txt"]))
    script = (
        "from exportjob.stores import DirectoryStore, ZipStore; import sys;"
        f"ZipStore(DirectoryStore({str(src)!r}, {str(tmp_path / 'unused')!r}), {str(tmp_path / 'e.zip')!r})"
    )
    other = subprocess.run([sys.executable, "-c", script], check=False)  # noqa: S603 - ours
    assert other.returncode == 0  # the lock is free once the archive is finished


@pytest.mark.parametrize("empty", [False, True])
def test_a_command_that_stops_before_its_job_leaves_no_spool(
    tmp_path: Path, *, empty: bool
) -> None:
    # An invalid modifier, or a source without assets: a .lock was left in z.zip.parts/.archive/.
    src = tmp_path / "src"
    src.mkdir()
    if not empty:
        (src / "a.txt").write_text("a\n")
    argv = ("--fmt", "orig") if empty else ("--fmt", "convert", "--modifier", "&wid=abc")
    status, _, _ = cli("export", src, *argv, "--zip", tmp_path / "z.zip")
    assert status == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_a_manifest_never_vouches_for_an_export_changed_since_it_was_written(
    tmp_path: Path,
) -> None:
    # The resumed run hashed whatever was now under the name, and listed the journal's size.
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}.pdf").write_text(f"file{i}\n")
    out = tmp_path / "out"
    command = ("export", src, "--fmt", "orig", "--out", out, "--export-manifest")
    assert cli(*command)[0] == 0
    (out / "f2.pdf").write_text("changed, and longer\n")
    status, _, err = cli(*command)
    assert status == 2
    assert "the export f2.pdf holds 20 bytes where the job wrote 6" in err
    assert "remove it" in err
    (out / "f2.pdf").unlink()  # as the message says: it is exported afresh
    assert cli(*command)[0] == 0
    assert cli("verify", out)[0] == 0


def test_a_journal_folder_that_is_a_symlink_is_never_followed(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.pdf").write_bytes(b"%PDF")
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / ".exportjob").symlink_to(elsewhere)
    status, _, err = cli("export", tmp_path / "src", "--fmt", "orig", "--out", out)
    assert status == 2
    assert ".exportjob is a symlink" in err
    assert list(elsewhere.iterdir()) == []
    assert not (out / "a.pdf").exists()


def test_a_file_that_is_no_journal_says_how_to_start_afresh(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.pdf").write_bytes(b"%PDF")
    out = tmp_path / "out"
    command = ("export", tmp_path / "src", "--fmt", "orig", "--out", out)
    assert cli(*command)[0] == 0
    (journal,) = (out / ".exportjob").glob("*.jsonl")
    journal.write_bytes(b"\x00\xffgarbage\n")
    status, _, err = cli(*command)
    assert status == 2
    assert "is not an exportjob journal: remove it, or start the job afresh" in err
    assert cli(*command, "--restart")[0] == 0
