"""DirectoryStore.open_original: the object it gives behaves as a binary file, opened or not read."""

from __future__ import annotations

import copy
import gc
import hashlib
import io
import os
import pickle
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest
from PIL import Image

from exportjob import AssetHandle, ExportEngine, ExportJob, ExportPlan, JobContext
from exportjob.converters import CopyConverter, PillowConverter
from exportjob.protocols import ConversionOutput
from exportjob.stores import DirectoryStore, MemoryStore

ACME = JobContext(company="acme")
BODY = b"line one\nline two\n" + bytes(range(256)) * 40


@pytest.fixture
def store(tmp_path: Path) -> DirectoryStore:
    source = tmp_path / "src"
    source.mkdir()
    (source / "notes.bin").write_bytes(BODY)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buffer, "PNG")
    (source / "red.png").write_bytes(buffer.getvalue())
    store = DirectoryStore(source, tmp_path / "out", default_company="acme")
    store.describe(AssetHandle("notes.bin"))  # the store holds its folder open from here on
    return store


def _open_fds() -> int:
    gc.collect()  # what an earlier test left to the collector is closed first, not meanwhile
    return len(list(Path("/proc/self/fd").iterdir()))


def test_the_original_reads_seeks_and_iterates_as_a_file(store: DirectoryStore) -> None:
    with store.open_original(AssetHandle("notes.bin")) as f:
        assert not f.closed
        assert f.read(4) == b"line"
        assert f.tell() == 4
        f.seek(0)
        assert next(iter(f)) == b"line one\n"
        assert f.readline() == b"line two\n"
        target = bytearray(3)
        assert f.readinto(target) == 3
        assert bytes(target) == BODY[18:21]
        f.seek(-5, os.SEEK_END)
        assert f.read() == BODY[-5:]
        assert f.readable()
        assert f.seekable()
    assert f.closed
    for method in (f.read, f.flush, f.readable, f.fileno, f.__enter__):
        with pytest.raises(ValueError, match="closed file"):
            method()


def test_the_original_is_a_binary_file_to_what_checks_for_one(store: DirectoryStore) -> None:
    with store.open_original(AssetHandle("notes.bin")) as f:
        assert isinstance(f, io.BufferedIOBase)
        assert (f.mode, f.writable(), f.isatty()) == ("rb", False, False)
        assert hashlib.file_digest(f, "sha256").digest() == hashlib.sha256(BODY).digest()
        f.seek(0)
        text = io.TextIOWrapper(f, encoding="latin-1")
        assert text.readline() == "line one\n"
        text.detach()
        f.seek(9)
        assert f.readlines()[0] == b"line two\n"


def test_a_descriptor_asked_for_first_is_at_the_start(store: DirectoryStore) -> None:
    with store.open_original(AssetHandle("notes.bin")) as f:
        fd = f.fileno()
        assert os.lseek(fd, 0, os.SEEK_CUR) == 0
        assert os.read(fd, 4) == b"line"
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(fd)  # closed with the object
    with pytest.raises(ValueError, match="closed file"):
        f.fileno()


@pytest.mark.parametrize("read_first", [False, True], ids=["unread", "read"])
def test_closing_twice_closes_once_and_leaks_nothing(
    store: DirectoryStore, *, read_first: bool
) -> None:
    before = _open_fds()
    f = store.open_original(AssetHandle("notes.bin"))
    assert _open_fds() == before + 1
    if read_first:
        assert f.read(1) == b"l"
    f.close()
    f.close()
    assert f.closed
    assert _open_fds() == before


def test_an_original_dropped_unclosed_warns_and_closes(store: DirectoryStore) -> None:
    before = _open_fds()
    f = store.open_original(AssetHandle("notes.bin"))
    fd = f.fileno()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del f
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == [
        f"unclosed original {fd}"
    ]
    assert _open_fds() == before


def test_pillow_opens_the_original_itself(store: DirectoryStore) -> None:
    with store.open_original(AssetHandle("red.png")) as f, Image.open(f) as image:
        image.load()
        assert image.size == (40, 30)
        assert image.getpixel((0, 0)) == (200, 10, 10)


@pytest.mark.parametrize(
    ("fmt", "modifier", "converter"),
    [("orig", None, CopyConverter()), ("convert", "&fmt=jpeg&wid=20", PillowConverter())],
    ids=["orig", "convert"],
)
def test_an_export_reads_the_original_and_leaves_no_descriptor_open(
    store: DirectoryStore, fmt: str, modifier: str | None, converter: object
) -> None:
    before = _open_fds()
    job = ExportJob(
        asset_handles=["notes.bin", "red.png"] if fmt == "orig" else ["red.png"],
        fmt=fmt,
        is_modifier=modifier,
    )
    with ExportEngine(store, converter, workers=1) as engine:  # type: ignore[arg-type]
        log = engine.run(job, JobContext(company="acme"))
    assert log.counts.error == 0, log.details
    if fmt == "orig":
        assert store.read_export("notes.bin") == BODY
    else:
        assert store.read_export("red.jpg")[:2] == b"\xff\xd8"
    assert _open_fds() == before


@pytest.mark.parametrize("read_first", [False, True], ids=["unread", "read"])
@pytest.mark.parametrize(
    "duplicate", [copy.copy, copy.deepcopy, pickle.dumps], ids=["copy", "deepcopy", "pickle"]
)
def test_the_original_cannot_be_copied_as_a_file_cannot(
    store: DirectoryStore, duplicate: Callable[[object], object], *, read_first: bool
) -> None:
    # A copy would share the descriptor and close it when dropped: under a file the host has
    # opened since, by then, with the same number.
    with store.open_original(AssetHandle("notes.bin")) as f:
        if read_first:
            f.read(1)
        with pytest.raises(TypeError, match="cannot pickle"):
            duplicate(f)
        fd = f.fileno()
    assert f.name == fd  # still the number it had, as a closed io file's name is


def test_two_threads_reading_first_at_once_share_one_reader(store: DirectoryStore) -> None:
    # Both threads meet an original nothing has read yet: one reader must be made, not two over
    # one descriptor (the one collected would close it under the other).
    body = (store.source_dir / "notes.bin").read_bytes()
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # hand the interpreter over as often as it can
    try:
        for _ in range(40):  # the old code lost the descriptor in about 6 runs of 10
            f = store.open_original(AssetHandle("notes.bin"))
            got: list[bytes] = []
            barrier = threading.Barrier(2)

            def read_all(f: object = f, got: list[bytes] = got, barrier: object = barrier) -> None:
                barrier.wait()  # type: ignore[attr-defined]
                got.append(f.read())  # type: ignore[attr-defined]

            threads = [threading.Thread(target=read_all) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            gc.collect()
            assert sorted(got, key=len) == [b"", body] or b"".join(got) == body
            f.close()
    finally:
        sys.setswitchinterval(switch)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("read_first", [False, True], ids=["unread", "read"])
def test_an_original_dropped_unclosed_is_closed_even_where_the_warning_is_an_error(
    store: DirectoryStore, *, read_first: bool
) -> None:
    f = store.open_original(AssetHandle("notes.bin"))
    fd = f.fileno()
    if read_first:
        f.read(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)  # as -W error and filterwarnings=error do
        del f
        gc.collect()
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(fd)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_process_forked_while_threads_read_originals_can_read_its_own(
    store: DirectoryStore,
) -> None:
    # A process pool forks its workers while the host's threads go on: nothing a thread held at
    # that moment may keep the child's first read waiting.
    stop = threading.Event()

    def keep_reading() -> None:
        while not stop.is_set():
            with store.open_original(AssetHandle("notes.bin")) as f:
                f.read(10)

    threads = [threading.Thread(target=keep_reading) for _ in range(3)]
    for thread in threads:
        thread.start()
    children = []
    try:
        for _ in range(20):
            pid = os.fork()
            if pid == 0:  # the child: one read, then out, whatever happens
                code = 1
                try:
                    with store.open_original(AssetHandle("notes.bin")) as f:
                        code = 0 if f.read(4) == b"line" else 1
                finally:
                    os._exit(code)
            children.append(pid)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    deadline = time.monotonic() + 10
    codes: dict[int, int | None] = dict.fromkeys(children)
    while time.monotonic() < deadline and any(c is None for c in codes.values()):
        for pid, code in codes.items():
            if code is None:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    codes[pid] = os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    for pid, code in codes.items():
        if code is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    assert list(codes.values()) == [0] * len(children)


class _LooksFirst:
    """A host's converter that reads the header, maybe goes back, then exports the file as it is."""

    def __init__(self, *, back: bool) -> None:
        self.back = back

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        assert source.read(4) == b"line"
        if self.back:
            source.seek(0)
        return CopyConverter().convert(source, plan)  # the rest of the file, as it is


@pytest.mark.parametrize(("back", "start"), [(False, 4), (True, 0)], ids=["read-on", "seek-back"])
def test_a_kernel_copy_starts_where_the_converters_reader_stands(
    store: DirectoryStore, tmp_path: Path, *, back: bool, start: int
) -> None:
    memory = MemoryStore(default_company="acme")
    memory.add("notes.bin", BODY, file_name="notes.bin")
    for target in (store, memory):  # the kernel's copy, and Python's
        with ExportEngine(target, _LooksFirst(back=back), workers=1) as engine:
            log = engine.run(ExportJob(asset_handles=["notes.bin"], fmt="orig"), ACME)
        assert log.counts.error == 0, log.details
        assert target.read_export("notes.bin") == BODY[start:]
