"""DirectoryStore publishing: unnamed temporaries on Linux, their fallbacks, folders made again.

On Linux an export is written to an unnamed file (``O_TMPFILE``) and linked into place, so a kill
mid-write leaves nothing; without ``O_TMPFILE``, on a file system that refuses it, and for
``replace``, a named temporary file is used. Every conflict policy must hold on every path.

Two fallbacks cannot be had for real on a test machine, so they are simulated at the ``os`` seam,
never in the library's private modules: a platform without ``O_TMPFILE`` (the attribute removed
from ``os``), and a file system that refuses unnamed files or hard links (``os.open`` or
``os.link`` failing with the errno such a file system gives).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from exportjob.exceptions import OutputExistsError, StoreReadError
from exportjob.protocols import OnConflict
from exportjob.stores import DirectoryStore

LINUX = sys.platform == "linux" and hasattr(os, "O_TMPFILE")
linux_only = pytest.mark.skipif(not LINUX, reason="unnamed temporary files are Linux's O_TMPFILE")


def make_store(tmp_path: Path) -> DirectoryStore:
    (tmp_path / "src").mkdir(exist_ok=True)
    return DirectoryStore(tmp_path / "src", tmp_path / "out")


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def watching(folder: Path, seen: list[list[str]], data: bytes = b"body") -> Iterator[bytes]:
    """Chunks that note what the folder holds while the export is being written."""
    yield data[:2]
    seen.append(names_in(folder))
    yield data[2:]


def no_tmpfile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "O_TMPFILE", raising=False)


def refusing_tmpfile(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open
    flag = getattr(os, "O_TMPFILE", 0)

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flag and flags & flag == flag:
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)


def refusing_links(monkeypatch: pytest.MonkeyPatch) -> None:
    def link(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", link)


NAMED_TEMPORARIES = [
    pytest.param(no_tmpfile, id="no-O_TMPFILE"),
    pytest.param(refusing_tmpfile, id="file-system-refuses-O_TMPFILE"),
]
ALL_PATHS = [
    pytest.param(lambda _: None, id="default"),
    *NAMED_TEMPORARIES,
    pytest.param(refusing_links, id="file-system-without-hard-links"),
]


@pytest.fixture(params=ALL_PATHS)
def store_on_each_path(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> DirectoryStore:
    """A store whose writes take the default path, then each fallback in turn."""
    store = make_store(tmp_path)
    request.param(monkeypatch)
    return store


@linux_only
def test_an_export_being_written_has_no_name_in_the_folder(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.write_export("first.jpg", [b"x"])  # the folder exists: only the export is new
    seen: list[list[str]] = []
    store.write_export("a.jpg", watching(store.output_dir, seen))
    assert seen == [["first.jpg"]]
    assert names_in(store.output_dir) == ["a.jpg", "first.jpg"]
    assert (store.output_dir / "a.jpg").read_bytes() == b"body"


@pytest.mark.parametrize("fallback", NAMED_TEMPORARIES)
def test_where_unnamed_files_are_not_had_a_named_temporary_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fallback: Callable[[Any], None]
) -> None:
    store = make_store(tmp_path)
    store.write_export("first.jpg", [b"x"])
    fallback(monkeypatch)
    seen: list[list[str]] = []
    written = store.write_export("a.jpg", watching(store.output_dir, seen))
    assert len(seen[0]) == 2
    assert seen[0][0].startswith(".exportjob-")
    assert seen[0][0].endswith(".part")
    assert names_in(store.output_dir) == ["a.jpg", "first.jpg"]
    assert Path(written.location).read_bytes() == b"body"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_process_killed_mid_write_leaves_nothing_in_the_folder(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.write_export("done.jpg", [b"x"])
    script = textwrap.dedent(
        """
        import os, signal, sys
        from exportjob.stores import DirectoryStore

        def chunks():
            yield b"x" * 100_000
            os.kill(os.getpid(), signal.SIGKILL)
            yield b"never"

        DirectoryStore(sys.argv[1], sys.argv[2]).write_export("a.jpg", chunks())
        """
    )
    run = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-c", script, str(tmp_path / "src"), str(store.output_dir)],
        check=False,
        timeout=60,
    )
    assert run.returncode == -signal.SIGKILL
    if LINUX:
        assert names_in(store.output_dir) == ["done.jpg"]  # nothing to sweep at all
    # Wherever a named temporary file was left, the next store's first write removes it.
    make_store(tmp_path).write_export("b.jpg", [b"y"])
    assert names_in(store.output_dir) == ["b.jpg", "done.jpg"]


@pytest.mark.parametrize("name", ["a.jpg", "sub/deeper/a.jpg"])
def test_every_conflict_policy_holds_on_every_path(
    store_on_each_path: DirectoryStore, name: str
) -> None:
    store = store_on_each_path
    first = store.write_export(name, [b"first"])
    assert Path(first.location).read_bytes() == b"first"
    assert not first.identical

    again = store.write_export(name, [b"fir", b"st"])
    assert again.identical
    assert again.location == first.location

    for policy in (OnConflict.ERROR, OnConflict.SKIP):
        with pytest.raises(OutputExistsError) as info:
            store.write_export(name, [b"other"], on_conflict=policy)
        assert (info.value.name, info.value.location) == (name, first.location)
        assert info.value.message.startswith(f"{name} already exists")
    assert Path(first.location).read_bytes() == b"first"

    renamed = store.write_export(name, [b"other"], on_conflict=OnConflict.RENAME)
    assert renamed.name == name.replace("a.jpg", "a-2.jpg")
    assert Path(renamed.location).read_bytes() == b"other"
    # A variant holding these bytes is not taken for this export's own: it may be another's.
    same = store.write_export(name, [b"other"], on_conflict=OnConflict.RENAME)
    assert (same.name, same.identical) == (name.replace("a.jpg", "a-3.jpg"), False)

    replaced = store.write_export(name, [b"third"], on_conflict=OnConflict.REPLACE)
    assert replaced.location == first.location
    assert Path(first.location).read_bytes() == b"third"

    folder = Path(first.location).parent
    assert names_in(folder) == ["a-2.jpg", "a-3.jpg", "a.jpg"]  # no temporary file left
    assert [p.relative_to(store.output_dir).as_posix() for p in store.exported()] == sorted(
        [name, renamed.name, same.name]
    )


def test_a_failing_source_leaves_nothing_on_every_path(store_on_each_path: DirectoryStore) -> None:
    store = store_on_each_path
    store.write_export("keep.jpg", [b"old"])

    def failing() -> Iterator[bytes]:
        yield b"partial"
        raise StoreReadError("the original went away")

    for policy in OnConflict:
        for name in ("keep.jpg", "new.jpg"):
            with pytest.raises(StoreReadError):
                store.write_export(name, failing(), on_conflict=policy)
    assert names_in(store.output_dir) == ["keep.jpg"]
    assert (store.output_dir / "keep.jpg").read_bytes() == b"old"


@pytest.mark.parametrize("name", ["a.jpg", "sub/a.jpg"])
def test_an_output_folder_removed_between_two_writes_is_made_again(
    store_on_each_path: DirectoryStore, name: str
) -> None:
    store = store_on_each_path
    store.write_export("before.jpg", [b"x"])
    store.write_export(name, [b"one"])
    for folder in sorted(store.output_dir.rglob("*"), reverse=True):
        folder.unlink() if folder.is_file() else folder.rmdir()
    store.output_dir.rmdir()
    written = store.write_export(name, [b"two"])
    assert written.location == str(store.output_dir / name)
    assert Path(written.location).read_bytes() == b"two"
    assert [p.relative_to(store.output_dir).as_posix() for p in store.exported()] == [name]
