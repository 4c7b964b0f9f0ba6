"""The exportjob command as a user meets it, through a real process: pipes, hints, progress, version."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from exportjob import __version__
from exportjob.testing import sample_jpeg
from tests.cli import export_command


def run(
    *argv: str | Path, cwd: Path | None = None, stdout: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m exportjob`` with *argv*; stdout and stderr captured unless *stdout* is given."""
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "exportjob", *map(str, argv)],
        cwd=cwd,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=120,
    )


def folder_of(tmp_path: Path, count: int, size: tuple[int, int] = (8, 8)) -> Path:
    """A folder of *count* small JPEGs, ``a00.jpg``, ``a01.jpg``..."""
    src = tmp_path / "many"
    src.mkdir()
    for i in range(count):
        (src / f"a{i:02}.jpg").write_bytes(sample_jpeg(*size))
    return src


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "sk"
    folder.mkdir()
    for i in range(3):
        (folder / f"p{i}.jpg").write_bytes(sample_jpeg(16, 12))
    (folder / "coffee.png").write_bytes(sample_jpeg(8, 8))
    return folder


@pytest.mark.parametrize(
    "json_flag", [pytest.param((), id="summary"), pytest.param(("--json",), id="json")]
)
def test_a_closed_stdout_ends_quietly_with_the_jobs_status(
    photos: Path, tmp_path: Path, json_flag: tuple[str, ...]
) -> None:
    """``exportjob export ... | head`` with the reader gone: no traceback, the job's own exit status."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes a byte
    try:
        result = run(
            "export", photos, "--fmt", "orig", "--out", tmp_path / "o", *json_flag, stdout=write_end
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr
    assert len(list((tmp_path / "o").glob("*.jpg"))) == 3  # the job itself ran


def test_version_prints_the_installed_version() -> None:
    result = run("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"exportjob {__version__}")


def test_a_file_given_as_src_dir_is_not_a_folder(photos: Path, tmp_path: Path) -> None:
    result = run("export", photos / "p0.jpg", "--fmt", "orig", "--out", tmp_path / "o")
    assert result.returncode == 2
    assert "is not a folder" in result.stderr
    assert "does not exist" not in result.stderr


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        pytest.param("./sk/coffee.png", "coffee.png", id="path-from-here"),
        pytest.param("sk/coffee.png", "coffee.png", id="including-src-dir"),
        pytest.param("./coffee.png", "coffee.png", id="dot-slash"),
        pytest.param("{abs}/coffee.png", "coffee.png", id="absolute"),
    ],
)
def test_a_handle_written_as_a_path_gets_the_handle_it_meant(
    photos: Path, given: str, meant: str
) -> None:
    handle = given.replace("{abs}", str(photos))
    result = run(
        "export", "sk", "--fmt", "orig", "--out", "o", "--handle", handle, cwd=photos.parent
    )
    assert result.returncode == 1  # the asset is still not found: a hint, not a guess
    assert "ASSET_NOT_FOUND" in result.stdout
    assert "handles are paths relative to SRC_DIR" in result.stderr
    assert f"did you mean --handle {meant!r}?" in result.stderr


def test_a_handle_that_names_an_asset_gets_no_hint(photos: Path) -> None:
    result = run(
        "export", "sk", "--fmt", "orig", "--out", "o", "--handle", "coffee.png", cwd=photos.parent
    )
    assert (result.returncode, "hint" in result.stderr) == (0, False)


def test_a_folder_of_outside_symlinks_says_they_were_skipped(photos: Path, tmp_path: Path) -> None:
    links = tmp_path / "links"
    links.mkdir()
    for name in ("p0.jpg", "p1.jpg"):
        (links / name).symlink_to(photos / name)
    result = run("export", links, "--fmt", "orig", "--out", tmp_path / "o")
    assert result.returncode == 2
    assert "no assets in" in result.stderr
    assert "2 symlink(s) pointing outside it were skipped" in result.stderr


def test_progress_off_a_terminal_is_at_most_ten_lines(tmp_path: Path) -> None:
    src = folder_of(tmp_path, 37, size=(8, 8))
    result = run("export", src, "--fmt", "orig", "--out", tmp_path / "o")
    lines = [line for line in result.stderr.splitlines() if line.startswith("exportjob: progress")]
    assert result.returncode == 0
    assert 1 <= len(lines) <= 10
    assert lines[-1].startswith("exportjob: progress [37/37]")
    assert "37 exported" in result.stdout  # stdout keeps the log only
    assert "exportjob: progress" not in result.stdout


def test_progress_on_a_terminal_shows_count_rate_and_time_left(tmp_path: Path) -> None:
    src = folder_of(tmp_path, 12, size=(8, 8))
    primary, secondary = pty.openpty()
    try:
        result = subprocess.run(  # noqa: S603 - our own command
            export_command(src, "--fmt", "orig", "--out", tmp_path / "o"),
            stdout=subprocess.PIPE,
            stderr=secondary,
            text=True,
            check=False,
            timeout=120,
        )
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the terminal's other side is closed: all was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    text = shown.decode()
    assert result.returncode == 0
    assert "[12/12]" in text
    assert re.search(r"\d+\.\d assets/s, \d+ s left", text)
    assert "\r" not in result.stdout


def test_a_problem_of_the_request_is_printed_once(tmp_path: Path) -> None:
    src = folder_of(tmp_path, 8, size=(8, 6))
    plain = run("export", src, "--fmt", "convert", "--out", tmp_path / "o")
    assert plain.returncode == 0
    assert plain.stdout.count("converting to the default JPEG") == 1
    assert "1 job-level warning(s)" in plain.stdout

    huge = run(
        "export", src, "--fmt", "convert", "--modifier", "&wid=99999999", "--out", tmp_path / "h"
    )
    assert huge.returncode == 1
    assert huge.stdout.count("is the likely cause") == 1
    assert (
        "IMAGE_TOO_LARGE for 8 assets: a00.jpg, a01.jpg, a02.jpg, a03.jpg, a04.jpg, … and 3 more"
        in huge.stdout
    )
    errors = [line for line in huge.stdout.splitlines() if line.startswith("  ERROR")]
    assert len(errors) == 2  # the job-level error and the folded line, not 8 lines


def test_a_handle_with_a_line_break_is_printed_on_one_line(tmp_path: Path) -> None:
    """A handle may hold a C1 control or a line separator (only C0 ones are refused): the log's
    lines show it escaped, so no file name prints a line of its own."""
    src = tmp_path / "src"
    src.mkdir()
    for char in ("\x85", "\u2028"):
        (src / f"a{char}ERROR   forged.jpg").write_bytes(b"not an image")
    (src / "ok.jpg").write_bytes(sample_jpeg(8, 8))  # so the request itself is not to blame
    result = run("export", src, "--fmt", "convert", "--out", tmp_path / "o")
    assert result.returncode == 1
    assert "\x85" not in result.stdout
    assert "\u2028" not in result.stdout
    errors = [line for line in result.stdout.splitlines() if "ERROR" in line]
    assert [line.split(" (")[0] for line in errors] == [
        "  ERROR   a\\x85ERROR   forged.jpg",
        "  ERROR   a\\u2028ERROR   forged.jpg",
    ]
