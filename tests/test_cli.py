"""The exportjob command: export and demo, exit statuses, the summary and the JSON log."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from exportjob import JobLog
from exportjob.cli import main
from exportjob.testing import sample_jpeg


def exported_names(folder: Path) -> list[str]:
    """The files in an export folder, without the job journal's hidden folder."""
    return sorted(p.name for p in folder.iterdir() if p.name != ".exportjob")


def jpeg_bytes(size: tuple[int, int] = (64, 48), colour: str = "orange") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "a.jpg").write_bytes(jpeg_bytes())
    (folder / "photos" / "b.jpg").write_bytes(jpeg_bytes(colour="teal"))
    (folder / "readme.txt").write_text("not an image\n")
    return folder


def cli(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_export_orig_copies_every_asset_and_exits_zero(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    status, stdout, stderr = cli("export", src, "--fmt", "orig", "--out", out)

    assert status == 0, stderr
    assert exported_names(out) == ["a.jpg", "b.jpg", "readme.txt"]
    assert (out / "a.jpg").read_bytes() == (src / "photos" / "a.jpg").read_bytes()
    assert "3 exported, 0 error(s)" in stdout
    assert f"exports in {out}" in stdout
    assert "\r" not in stderr  # no progress line when stderr is not a terminal


def test_handles_select_assets_and_a_failure_exits_one(src: Path, tmp_path: Path) -> None:
    status, stdout, _ = cli(
        "export",
        src,
        "--fmt",
        "orig",
        "--out",
        tmp_path / "o",
        "--handle",
        "photos/a.jpg",
        "--handle",
        "nope.jpg",
    )
    assert status == 1
    assert "1 exported, 1 error(s)" in stdout
    assert "Errors:\n  ERROR   nope.jpg ASSET_NOT_FOUND" in stdout
    assert exported_names(tmp_path / "o") == ["a.jpg"]


def test_json_prints_the_job_log_only(src: Path, tmp_path: Path) -> None:
    status, stdout, _ = cli(
        "export",
        src,
        "--fmt",
        "orig",
        "--out",
        tmp_path / "o",
        "--json",
        "--company",
        "acme",
        "--job-name",
        "nightly",
        "--user",
        "ann",
    )
    log = JobLog.from_dict(json.loads(stdout))
    assert status == 0
    assert (log.company, log.job_name, log.user, log.counts.success) == (
        "acme",
        "nightly",
        "ann",
        3,
    )
    assert {o.handle.value for o in log.outcomes} == {"photos/a.jpg", "photos/b.jpg", "readme.txt"}


def test_manifest_refusals_make_the_export_fail(src: Path, tmp_path: Path) -> None:
    (src / "exportjob.json").write_text(
        json.dumps(
            {"assets": {"photos/b.jpg": {"company": "rival"}, "sets/s": {"type": "ImageSet"}}}
        )
    )
    status, stdout, _ = cli("export", src, "--fmt", "orig", "--out", tmp_path / "o")
    assert status == 1
    assert "NOT_AUTHORIZED" in stdout
    assert "UNSUPPORTED_ASSET_TYPE" in stdout
    assert not (tmp_path / "o" / "b.jpg").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--modifier", "&wid=-3"], "wid", id="bad-modifier"),
        pytest.param(["--macro", "$nope$"], "nope", id="unknown-macro"),
        pytest.param(["--macros", "missing.txt"], "missing.txt", id="missing-macro-file"),
    ],
)
def test_an_invalid_request_exits_two_and_writes_nothing(
    src: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "o"
    status, stdout, stderr = cli("export", src, "--fmt", "convert", "--out", out, *args)
    assert status == 2
    assert stderr.startswith("exportjob: error: ")
    assert message in stderr
    assert stdout == ""
    assert not out.exists()


def test_a_missing_source_or_an_empty_one_exits_two(tmp_path: Path) -> None:
    status, _, stderr = cli("export", tmp_path / "nope", "--fmt", "orig", "--out", tmp_path / "o")
    assert (status, "does not exist" in stderr) == (2, True)
    (tmp_path / "empty").mkdir()
    status, _, stderr = cli("export", tmp_path / "empty", "--fmt", "orig", "--out", tmp_path / "o")
    assert (status, "no assets" in stderr) == (2, True)


def test_usage_errors_exit_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["export", str(tmp_path), "--out", "o"],  # no --fmt
        ["export", str(tmp_path), "--fmt", "zip", "--out", "o"],
        ["export", str(tmp_path), "--fmt", "orig", "--out", "o", "--workers", "0"],
        ["export", str(tmp_path), "--fmt", "orig", "--out", "o", "--email-setting", "Often"],
        [],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    assert "Often" in capsys.readouterr().err


def test_email_setting_notifications_go_to_stderr(src: Path, tmp_path: Path) -> None:
    status, stdout, stderr = cli(
        "export",
        src,
        "--fmt",
        "orig",
        "--out",
        tmp_path / "o",
        "--email-setting",
        "JobCompletion",
        "--user",
        "ann",
        "--workers",
        "2",
    )
    assert status == 0
    assert "exportjob: notification for ann: [exportjob] Export job 'export' completed" in stderr
    assert "notification" not in stdout


def test_python_dash_m_runs_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "exportjob", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "export" in result.stdout
    assert "demo" in result.stdout


def test_export_convert_with_a_modifier_and_a_macro_file(src: Path, tmp_path: Path) -> None:
    macros = tmp_path / "macros.txt"
    macros.write_text("Name\tDefinition\nsmall\twid=16&fmt=gif\n")
    out = tmp_path / "o"
    status, stdout, _ = cli(
        "export",
        src,
        "--fmt",
        "convert",
        "--modifier",
        "&fmt=png&wid=32",
        "--macros",
        macros,
        "--macro",
        "$small$",
        "--out",
        out,
        "--handle",
        "photos/a.jpg",
    )
    assert status == 0, stdout
    with Image.open(out / "a.gif") as img:
        assert (img.format, img.width) == ("GIF", 16)


def test_export_convert_of_a_non_image_fails_that_asset_only(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    status, stdout, _ = cli(
        "export", src, "--fmt", "convert", "--modifier", "&fmt=png&wid=32", "--out", out
    )
    assert status == 1
    assert "2 exported, 1 error(s)" in stdout
    assert "readme.txt" in stdout
    assert exported_names(out) == ["a.png", "b.png"]
    with Image.open(out / "a.png") as img:
        assert (img.format, img.size) == ("PNG", (32, 24))


def test_demo_converts_the_samples_and_shows_both_refusals(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    status, stdout, stderr = cli("demo", "--out", root)

    assert status == 0, stderr
    exports = sorted(p.name for p in (root / "exports").iterdir())
    assert exports == ["forest.png", "harbour.png", "mug.png", "sunset.png"]
    for name in exports:
        with Image.open(root / "exports" / name) as img:
            assert (img.format, img.width) == ("PNG", 400)
    assert "NOT_AUTHORIZED" in stdout
    assert "UNSUPPORTED_ASSET_TYPE" in stdout
    assert f"Exports:   {root / 'exports'}" in stdout
    log = JobLog.from_dict(json.loads((root / "joblog.json").read_text()))
    assert (log.counts.success, log.counts.error, log.counts.total) == (4, 2, 6)


def test_demo_runs_again_over_its_own_folder(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    root.mkdir()  # an empty folder is fine too
    assert cli("demo", "--out", root)[0] == 0
    status, stdout, _ = cli("demo", "--out", root)
    assert status == 0
    next_out = stdout.split("--out ")[-1].strip()
    assert not Path(next_out).is_relative_to(root)  # following the hint keeps the folder the demo's


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("originals/photos/sunset.jpg", id="an-original-of-its-name"),
        pytest.param("exports/sunset.png", id="an-export-of-its-name"),
        pytest.param("joblog.json", id="a-job-log"),
        pytest.param("notes.txt", id="any-other-file"),
    ],
)
def test_demo_refuses_a_folder_that_is_not_a_demos(tmp_path: Path, path: str) -> None:
    """The demo replaced a user's own files of the names it writes, without a word."""
    root = tmp_path / "demo"
    mine = root / path
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_bytes(b"the user's own")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    status, stdout, stderr = cli("demo", "--out", root)

    assert status == 2
    assert stdout == ""
    top = path.split("/", maxsplit=1)[0]
    assert stderr.startswith(f"exportjob: error: {root} holds files that are not a demo's ({top}")
    assert "give --out a new or empty folder" in stderr
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before  # nothing touched


@pytest.mark.parametrize("left", ["killed", "earlier-version", "finder"])
def test_demo_runs_again_in_a_folder_a_demo_left(tmp_path: Path, left: str) -> None:
    # A first version of the refusal above refused these: a demo killed before it recorded its
    # files, a folder an earlier version wrote (no record at all), a .DS_Store dropped in it.
    root = tmp_path / "demo"
    if left == "finder":
        assert cli("demo", "--out", root)[0] == 0
        (root / "exports" / ".DS_Store").write_bytes(b"\0Bud1")
    else:
        (root / "originals" / "photos").mkdir(parents=True)
        (root / "originals" / "photos" / "sunset.jpg").write_bytes(b"half a JPEG")
        if left == "killed":
            (root / ".exportjob-demo.json").write_text('{"written by": "exportjob demo"}\n')
        else:
            manifest = {
                "assets": {
                    "products/mug.png": {"name": "Red mug"},
                    "partner/partner-banner.jpg": {"company": "partner-co"},
                    "sets/mug-views": {"type": "ImageSet", "name": "Red mug, all views"},
                }
            }
            (root / "originals" / "exportjob.json").write_text(json.dumps(manifest, indent=2))
    status, _, stderr = cli("demo", "--out", root)
    assert status == 0, stderr
    assert (root / "exports" / "sunset.png").is_file()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_line_is_drawn_on_a_terminal_only(src: Path, tmp_path: Path) -> None:
    out, err = io.StringIO(), Terminal()
    status = main(
        ["export", str(src), "--fmt", "orig", "--out", str(tmp_path / "o")], stdout=out, stderr=err
    )
    assert status == 0
    text = err.getvalue()
    assert "[3/3] exported" in text
    assert text.endswith("\r\x1b[K")  # the line is cleared before the summary
    assert "\r" not in out.getvalue()

    err = Terminal()
    main(
        ["export", str(src), "--fmt", "orig", "--out", str(tmp_path / "j"), "--json"],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert err.getvalue() == ""


def test_demo_into_an_unwritable_place_is_a_clean_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    err = io.StringIO()
    status = main(["demo", "--out", str(blocker / "demo")], stdout=io.StringIO(), stderr=err)
    assert status == 2
    assert err.getvalue().startswith("exportjob: error: cannot write the demo")


def test_export_refuses_an_output_folder_that_is_the_source(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(sample_jpeg(16, 16))
    err = io.StringIO()
    status = main(
        ["export", str(tmp_path), "--fmt", "orig", "--out", str(tmp_path)],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert status == 2
    assert "would replace the originals" in err.getvalue()


def test_export_with_a_profiles_folder_makes_a_print_tiff(src: Path, tmp_path: Path) -> None:
    from exportjob.testing.images import press_cmyk_profile  # noqa: PLC0415

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "Press.icc").write_bytes(press_cmyk_profile())
    out = tmp_path / "o"
    status, stdout, stderr = cli(
        "export", src, "--fmt", "convert", "--modifier", "&fmt=tif,,lzw&icc=Press&iccEmbed=1",
        "--profiles", profiles, "--keep-metadata", "rights", "--out", out,
        "--handle", "photos/a.jpg",
    )  # fmt: skip
    assert status == 0, stdout + stderr
    with Image.open(out / "a.tiff") as img:
        assert img.mode == "CMYK"
        assert img.info["icc_profile"] == press_cmyk_profile()


def test_an_icc_name_without_profiles_fails_before_any_asset_is_read(
    src: Path, tmp_path: Path
) -> None:
    status, _, stderr = cli(
        "export", src, "--fmt", "convert", "--modifier", "&fmt=tif&icc=Press",
        "--out", tmp_path / "o",
    )  # fmt: skip
    assert status != 0
    assert "no profile of that name" in stderr


@pytest.mark.skipif(sys.platform != "linux", reason="a file name of arbitrary bytes needs Linux")
def test_a_file_name_that_is_not_utf8_is_exported_and_journaled_like_any_other(
    tmp_path: Path,
) -> None:
    """``bad\\xff.pdf`` made the journal's key (and then its lines) fail to encode: the command
    died with a traceback and exported nothing, then could not resume."""
    source, out = tmp_path / "src", tmp_path / "out"
    source.mkdir()
    (source / "ok.pdf").write_bytes(b"%PDF ok")
    (source / b"bad\xff.pdf".decode("utf-8", "surrogateescape")).write_bytes(b"%PDF bad")
    argv = ["export", str(source), "--fmt", "orig", "--out", str(out)]
    assert main(argv, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert written == ["bad_.pdf", "ok.pdf"]  # the undecodable byte made safe
    inodes = {name: (out / name).stat().st_ino for name in written}
    again = io.StringIO()
    assert main(argv, stdout=again, stderr=io.StringIO()) == 0  # resumed from its journal
    assert {name: (out / name).stat().st_ino for name in written} == inodes


# -- a signal at the edges of a job (white-box: the moment is forced from inside, in a child)

SIGNAL_AT = """
import os, signal, sys, threading
from pathlib import Path
from exportjob import cli, _engine, _run
src, out, where, which = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
sig = signal.SIGINT if which == "int" else signal.SIGTERM
if where == "submit":  # the run registered, its thread not yet started
    new_run = _engine.ExportEngine._new_run
    def hooked(self, prepared):
        run = new_run(self, prepared)
        os.kill(os.getpid(), sig)
        return run
    _engine.ExportEngine._new_run = hooked
else:  # the job has ended, its result not yet handed back
    finish = _run.JobRun._finish
    def hooked(self, log):
        os.kill(os.getpid(), sig)
        threading.Event().wait(0.3)
        finish(self, log)
    _run.JobRun._finish = hooked
sys.exit(cli.main(["export", str(src), "--fmt", "orig", "--out", out]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    ("where", "which", "status", "says"),
    [
        # the job starts, then stops at once: its one asset may have been exported meanwhile
        pytest.param("submit", "term", 143, "1 total", id="sigterm-in-submit"),
        pytest.param("submit", "int", 130, "1 total", id="ctrl-c-in-submit"),
        pytest.param("end", "term", 143, "3 exported", id="sigterm-as-it-ends"),
    ],
)
def test_a_signal_at_the_edges_of_a_job_stops_it_with_its_log(
    tmp_path: Path, where: str, which: str, status: int, says: str
) -> None:
    """A signal inside ``submit`` (the run registered, its thread not started) left the command
    waiting forever; one as the job ended said "nothing was exported" with every asset exported."""
    source = tmp_path / "src"
    source.mkdir()
    count = 1 if where == "submit" else 3
    for i in range(count):
        (source / f"a{i}.pdf").write_bytes(b"%PDF " + bytes([i]))
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SIGNAL_AT, str(source), str(tmp_path / "out"), where, which],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == status, done.stderr
    assert says in done.stdout + done.stderr
    assert "nothing was exported" not in done.stderr


class InterruptedOutput(io.StringIO):
    """Standard output on which Ctrl-C lands while the job's log is printed."""

    def write(self, text: str) -> int:
        raise KeyboardInterrupt


def test_ctrl_c_while_the_log_is_printed_exits_130_without_a_traceback(
    src: Path, tmp_path: Path
) -> None:
    """The job had ended, so its own Ctrl-C handling was over: the command died with a traceback."""
    out, err = InterruptedOutput(), io.StringIO()
    argv = ["export", str(src), "--fmt", "orig", "--out", str(tmp_path / "out")]
    assert main(argv, stdout=out, stderr=err) == 130
    assert err.getvalue().endswith("exportjob: interrupted\n")
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_file())  # the job ran


# -- what the command says when its own output or options cannot be used


@pytest.mark.parametrize("size", ["inf", "1e400", "nan", "-inf"])
def test_a_size_that_is_no_number_of_bytes_is_a_usage_error(size: str, tmp_path: Path) -> None:
    # inf and 1e400 raised OverflowError out of argparse: a traceback, exit 1.
    with pytest.raises(SystemExit) as stopped:
        cli("export", tmp_path, "--fmt", "orig", "--out", tmp_path / "o", "--memory-budget", size)
    assert stopped.value.code == 2


@pytest.mark.parametrize(
    ("argv", "argument"),
    [
        pytest.param(["SRC", "--out", ""], "--out", id="out"),
        pytest.param(["SRC", "--zip", ""], "--zip", id="zip"),
        pytest.param(["SRC", "--out", "  "], "--out", id="blank-out"),
        pytest.param(["", "--out", "OUT"], "SRC", id="src"),
    ],
)
def test_an_empty_folder_or_archive_is_a_usage_error_before_the_job(
    argv: list[str],
    argument: str,
    src: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--out ''`` (an unset shell variable) exported into the current folder, and ``--zip ''``
    failed only after the whole job had run (the current folder taken for the archive)."""
    here = tmp_path / "here"
    here.mkdir()
    (here / "mine.pdf").write_bytes(b"%PDF-1.4")
    monkeypatch.chdir(here)
    given = [{"SRC": str(src), "OUT": str(tmp_path / "o")}.get(a, a) for a in argv]
    with pytest.raises(SystemExit) as stopped:
        main(["export", *given, "--fmt", "orig"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {argument}: must not be empty (an unset shell variable?): give " in err
    assert sorted(p.name for p in here.iterdir()) == ["mine.pdf"]
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("json_output", [False, True])
def test_an_output_that_cannot_be_written_is_said_and_the_status_is_the_jobs(
    tmp_path: Path, *, json_output: bool
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.pdf").write_bytes(b"%PDF")
    err = io.StringIO()
    argv = ["export", str(tmp_path / "src"), "--fmt", "orig", "--out", str(tmp_path / "o")]
    with open("/dev/full", "w", encoding="utf-8") as full:  # noqa: PTH123 - a device
        status = main(argv + (["--json"] if json_output else []), stdout=full, stderr=err)
    assert status == 0
    assert "exportjob: cannot write the output: No space left on device" in err.getvalue()
    assert (tmp_path / "o" / "a.pdf").read_bytes() == b"%PDF"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_verify_keeps_its_verdict_when_its_report_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.pdf").write_bytes(b"%PDF")
    out = tmp_path / "o"
    assert (
        cli("export", tmp_path / "src", "--fmt", "orig", "--out", out, "--export-manifest")[0] == 0
    )
    err = io.StringIO()
    with open("/dev/full", "w", encoding="utf-8") as full:  # noqa: PTH123 - a device
        assert main(["verify", str(out)], stdout=full, stderr=err) == 0
    assert "cannot write the output" in err.getvalue()


def test_an_output_folder_that_is_a_file_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "afile").write_text("mine\n")
    status, _, err = cli("export", tmp_path / "src", "--fmt", "orig", "--out", tmp_path / "afile")
    assert status == 2
    assert "is a file, not a folder" in err
    assert (tmp_path / "afile").read_text() == "mine\n"


def test_a_progress_line_and_the_exports_line_stay_one_line_whatever_a_name_holds(
    tmp_path: Path,
) -> None:
    # A file name may hold a line break that is no control character (U+0085, U+2028).
    source = tmp_path / "src\u2028x"
    source.mkdir()
    (source / "a\x85b.bin").write_bytes(b"x")
    out, err = io.StringIO(), Terminal()
    target = tmp_path / "out\u2028INFO forged"
    status = main(
        ["export", str(source), "--fmt", "orig", "--out", str(target)], stdout=out, stderr=err
    )
    assert status == 0, err.getvalue()
    assert "a\\x85b.bin" in err.getvalue()
    assert "\x85" not in err.getvalue()
    assert "\u2028" not in out.getvalue()
    assert "out\\u2028INFO forged" in out.getvalue()
