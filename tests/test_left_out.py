"""Files a folder job cannot take as assets are left out with a word: one warning, how many, the first.

A name with a control character or a backslash cannot be a handle; a folder past ``PATH_MAX`` cannot
be listed. Before, ``DirectoryStore.handles`` and ``FsspecStore.handles`` passed over them silently.
"""

from __future__ import annotations

import io
import logging
import os
import uuid
from pathlib import Path

import fsspec
import pytest

from exportjob.cli import main
from exportjob.stores import DirectoryStore, FsspecStore

DEEP = "d" * 250  # 17 of these make a path past Linux's PATH_MAX of 4096 bytes


def source(tmp_path: Path, *, deep: bool = False) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.pdf").write_bytes(b"%PDF-1.4 ok")
    (src / "bad\x01name.pdf").write_bytes(b"%PDF-1.4 bad")
    (src / "sub").mkdir()
    (src / "sub" / "back\\slash.pdf").write_bytes(b"%PDF-1.4 slash")
    if deep:  # made folder by folder: no path this long can be given to mkdir
        fd = os.open(src, os.O_RDONLY)
        try:
            for _ in range(18):
                os.mkdir(DEEP, dir_fd=fd)
                inner = os.open(DEEP, os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = inner
            made = os.open("deep.pdf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.close(made)
        finally:
            os.close(fd)
    return src


def left_out(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "exportjob.stores"]


@pytest.mark.parametrize("kind", ["directory", "fsspec-file"])
def test_a_local_folder_job_warns_of_what_it_leaves_out(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src = source(tmp_path, deep=True)
    if kind == "directory":
        store: DirectoryStore | FsspecStore = DirectoryStore(src, tmp_path / "out")
    else:
        store = FsspecStore(src.as_uri(), (tmp_path / "out").as_uri())
    with caplog.at_level(logging.WARNING, logger="exportjob.stores"):
        assert [h.value for h in store.handles()] == ["ok.pdf"]
    [warning] = left_out(caplog)
    # the control character, the backslash, and the first folder past PATH_MAX
    assert warning.startswith("3 file(s) or folder(s) under ")
    assert "are left out of the assets; the first: 'bad\\x01name.pdf'" in warning
    assert "must not contain control characters" in warning


def test_an_object_store_job_warns_of_keys_no_handle_can_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    root = f"/left-out-{uuid.uuid4().hex}"
    memory = fsspec.filesystem("memory")
    memory.pipe(f"{root}/src/ok.pdf", b"%PDF")
    memory.pipe(f"{root}/src/a\u202e\x1bb.pdf", b"%PDF")
    store = FsspecStore(f"memory://{root}/src", f"memory://{root}/out")
    with caplog.at_level(logging.WARNING, logger="exportjob.stores"):
        assert [h.value for h in store.handles()] == ["ok.pdf"]
    [warning] = left_out(caplog)
    assert warning.startswith(f"1 file(s) or folder(s) under memory://{root}/src")
    assert "the first: 'a\\u202e\\x1bb.pdf'" in warning  # escaped: no terminal control reaches it


def test_nothing_left_out_says_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "ok.pdf").write_bytes(b"%PDF")
    with caplog.at_level(logging.WARNING, logger="exportjob.stores"):
        DirectoryStore(tmp_path / "src", tmp_path / "out").handles()
    assert left_out(caplog) == []


def test_the_cli_says_on_stderr_what_it_left_out(tmp_path: Path) -> None:
    src = source(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["export", str(src), "--fmt", "orig", "--out", str(tmp_path / "out")],
        stdout=out,
        stderr=err,
    )
    assert status == 0, err.getvalue()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".exportjob", "ok.pdf"]
    assert (
        f"exportjob: 2 file(s) or folder(s) under {src} are left out of the assets; the first: "
        "'bad\\x01name.pdf'"
    ) in err.getvalue()
    assert "\x01" not in err.getvalue()


def test_the_cli_says_why_a_folder_of_unnamable_files_has_no_assets(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "bad\x01name.pdf").write_bytes(b"%PDF")
    err = io.StringIO()
    status = main(["export", str(src), "--fmt", "orig", "--out", str(tmp_path / "out")], stderr=err)
    assert status == 2
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("exportjob: 1 file(s) or folder(s) under ")
    assert lines[1] == f"exportjob: error: no assets in {src}"
