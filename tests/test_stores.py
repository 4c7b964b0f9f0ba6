"""MemoryStore and DirectoryStore: describing, opening, atomic writes, names, manifests, errors."""

from __future__ import annotations

import io
import json
import pickle
import resource
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exportjob import AssetHandle, AssetType
from exportjob.converters import SOURCE_FORMATS
from exportjob.exceptions import (
    AssetNotFoundError,
    StoreReadError,
    StoreWriteError,
    UnsafeNameError,
)
from exportjob.protocols import OnConflict
from exportjob.stores import DirectoryStore, FsspecStore, MemoryStore, ZipStore, sniff_type

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 20


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param(JPEG, AssetType.IMAGE, id="jpeg"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00", AssetType.IMAGE, id="png"),
        pytest.param(b"GIF89a\x01\x00", AssetType.IMAGE, id="gif"),
        pytest.param(b"II*\x00\x08\x00", AssetType.IMAGE, id="tiff-le"),
        pytest.param(b"MM\x00*\x00\x00", AssetType.IMAGE, id="tiff-be"),
        pytest.param(b"RIFF\x24\x00\x00\x00WEBPVP8 ", AssetType.IMAGE, id="webp"),
        pytest.param(b"BM\x36\x00\x00\x00", AssetType.IMAGE, id="bmp"),
        pytest.param(b"%PDF-1.7\n", AssetType.PDF, id="pdf"),
        pytest.param(b"\x00\x00\x00\x18ftypmp42", AssetType.VIDEO, id="mp4"),
        pytest.param(b"\x00\x00\x00\x14ftypqt  ", AssetType.VIDEO, id="mov"),
        pytest.param(b"\x00\x00\x00\x08wide\x00\x00", AssetType.VIDEO, id="old-mov"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", AssetType.SVG, id="svg"),
        pytest.param(b'\xef\xbb\xbf<?xml version="1.0"?>\n<svg/>', AssetType.SVG, id="svg-xml"),
        pytest.param(b"<?xml version='1.0'?><catalog/>", AssetType.ASSET, id="other-xml"),
        pytest.param(b"RIFF\x24\x00\x00\x00WAVEfmt ", AssetType.ASSET, id="wav"),
        pytest.param(b"hello world", AssetType.ASSET, id="text"),
        pytest.param(b"", AssetType.ASSET, id="empty"),
    ],
)
def test_sniff_type_reads_the_magic_bytes(head: bytes, expected: AssetType) -> None:
    assert sniff_type(head) is expected


_PSD_HEADER = (
    b"8BPS\x00\x01" + b"\x00" * 6 + b"\x00\x03" + b"\x00\x00\x00\x10" * 2 + b"\x00\x08\x00\x03"
)


@pytest.mark.parametrize("pillow_format", SOURCE_FORMATS)
def test_sniff_type_calls_every_format_the_converter_reads_an_image(pillow_format: str) -> None:
    """A ``.psd`` (or ICO, JPEG 2000, PPM, AVIF...) in a folder is an ``Image``, not an ``Asset``."""
    from PIL import Image, features  # noqa: PLC0415 - Pillow only for this test

    if pillow_format == "PSD":  # Pillow reads PSD but cannot write it: the header is enough
        head = _PSD_HEADER
    else:
        if pillow_format == "AVIF" and not features.check("avif"):
            pytest.skip("this Pillow has no AVIF support")
        out = io.BytesIO()
        Image.new("RGB", (16, 16), "red").save(out, pillow_format)
        head = out.getvalue()[:512]  # what DirectoryStore reads
    assert sniff_type(head) is AssetType.IMAGE


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"\xffO\xffQ\x00/", id="j2k-codestream"),
        pytest.param(b"P5\n16 16\n255\n", id="pgm"),
        pytest.param(b"P1\n# a comment\n", id="pbm"),
        pytest.param(b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avif", id="avif-compatible"),
    ],
)
def test_sniff_type_reads_the_other_image_variants(head: bytes) -> None:
    assert sniff_type(head) is AssetType.IMAGE


def test_a_psd_in_a_folder_is_described_as_an_image(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "layers.psd").write_bytes(_PSD_HEADER + b"\x00" * 64)
    store = DirectoryStore(tmp_path / "src", tmp_path / "out")
    assert store.describe(AssetHandle("layers.psd")).type is AssetType.IMAGE


# -- MemoryStore


def test_memory_store_describes_opens_and_keeps_exports() -> None:
    store = MemoryStore(default_company="acme")
    store.add("a|1", JPEG, file_name="Autumn Leaves.jpg")
    asset = store.describe(AssetHandle("a|1"))

    assert (asset.type, asset.name, asset.company, asset.size) == (
        AssetType.IMAGE,
        "Autumn Leaves",
        "acme",
        len(JPEG),
    )
    assert store.describe(AssetHandle("a|1")) == asset
    with store.open_original(AssetHandle("a|1")) as f:
        assert f.read() == JPEG
    assert store.opened == (AssetHandle("a|1"),)
    written = store.write_export("out.jpg", iter([b"ab", b"cd"]))
    assert (written.name, written.location, written.size) == ("out.jpg", "memory://out.jpg", 4)
    assert store.read_export("out.jpg") == b"abcd"
    assert store.exports == {"out.jpg": b"abcd"}
    assert repr(store) == "<MemoryStore with 1 asset(s), 1 export(s)>"


def test_memory_store_unknown_and_fileless_assets_are_not_found() -> None:
    store = MemoryStore()
    store.add("set", type="ImageSet")
    with pytest.raises(AssetNotFoundError) as info:
        store.describe(AssetHandle("nope"))
    assert info.value.handle == "nope"
    with pytest.raises(AssetNotFoundError, match="no original file"):
        store.open_original(AssetHandle("set"))
    with pytest.raises(ValueError, match="explicit type"):
        store.add("x")


def test_memory_store_keeps_nothing_when_the_chunks_fail() -> None:
    store = MemoryStore()

    def chunks() -> Iterator[bytes]:
        yield b"part"
        raise OSError("source went away")

    with pytest.raises(OSError, match="went away"):
        store.write_export("x.jpg", chunks())
    assert store.exports == {}


@pytest.mark.parametrize(
    "name", ["../x.jpg", "a//b.jpg", "/a/b.jpg", "a/../b.jpg", "", "con.jpg", "x.jpg."]
)
@pytest.mark.parametrize("make", [MemoryStore, "directory"])
def test_stores_refuse_unsafe_names(name: str, make: object, tmp_path: Path) -> None:
    store = MemoryStore() if make is MemoryStore else DirectoryStore(tmp_path, tmp_path / "out")
    with pytest.raises(UnsafeNameError):
        store.write_export(name, [b"x"])
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_memory_store_says_why_it_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="DirectoryStore"):
        pickle.dumps(MemoryStore())


# -- DirectoryStore


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "photos").mkdir(parents=True)
    (src / "photos" / "leaf.jpg").write_bytes(JPEG)
    (src / "doc.pdf").write_bytes(b"%PDF-1.4 hello")
    (src / "notes.txt").write_text("hello")
    (src / ".hidden").write_text("secret")
    return src


def test_directory_store_infers_type_names_and_size_from_the_file(
    source: Path, tmp_path: Path
) -> None:
    store = DirectoryStore(source, tmp_path / "out", default_company="acme")
    leaf = store.describe(AssetHandle("photos/leaf.jpg"))
    assert (leaf.type, leaf.name, leaf.file_name, leaf.company, leaf.size) == (
        AssetType.IMAGE,
        "leaf",
        "leaf.jpg",
        "acme",
        len(JPEG),
    )
    assert store.describe(AssetHandle("doc.pdf")).type is AssetType.PDF
    assert store.describe(AssetHandle("notes.txt")).type is AssetType.ASSET
    with store.open_original(AssetHandle("photos/leaf.jpg")) as f:
        assert f.read() == JPEG


def test_directory_store_lists_its_assets(source: Path, tmp_path: Path) -> None:
    (source / "exportjob.json").write_text(
        json.dumps({"assets": {"sets/spin": {"type": "SpinSet"}}})
    )
    inner_out = source / "exports"
    inner_out.mkdir()
    (inner_out / "old.jpg").write_bytes(JPEG)
    store = DirectoryStore(source, inner_out)
    assert [h.value for h in store.handles()] == [
        "doc.pdf",
        "notes.txt",
        "photos/leaf.jpg",
        "sets/spin",
    ]


def test_manifest_sets_type_company_name_and_declares_sets(source: Path, tmp_path: Path) -> None:
    manifest = {
        "assets": {
            "photos/leaf.jpg": {"company": "partner", "name": "Autumn leaf"},
            "notes.txt": {"type": "Xml", "file_name": "notes.xml"},
            "sets/spin": {"type": "spin_set", "name": "Shoe"},
        }
    }
    (source / "exportjob.json").write_text(json.dumps(manifest))
    store = DirectoryStore(source, tmp_path / "out", default_company="acme")

    leaf = store.describe(AssetHandle("photos/leaf.jpg"))
    assert (leaf.company, leaf.name, leaf.type) == ("partner", "Autumn leaf", AssetType.IMAGE)
    notes = store.describe(AssetHandle("notes.txt"))
    assert (notes.type, notes.file_name, notes.name) == (AssetType.XML, "notes.xml", "notes")
    spin = store.describe(AssetHandle("sets/spin"))
    assert (spin.type, spin.company, spin.size) == (AssetType.SPIN_SET, "acme", None)
    with pytest.raises(AssetNotFoundError):
        store.open_original(AssetHandle("sets/spin"))


def test_manifest_may_be_given_as_a_path_or_a_mapping(source: Path, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"assets": {"doc.pdf": {"company": "x"}}}))
    assert (
        DirectoryStore(source, tmp_path, manifest=path).describe(AssetHandle("doc.pdf")).company
        == "x"
    )
    store = DirectoryStore(source, tmp_path, manifest={"assets": {"doc.pdf": {"company": "y"}}})
    assert store.describe(AssetHandle("doc.pdf")).company == "y"


@pytest.mark.parametrize(
    "manifest",
    [
        pytest.param("[1, 2]", id="not-an-object"),
        pytest.param("{not json", id="not-json"),
        pytest.param('{"assets": {"a": {"colour": "red"}}}', id="unknown-key"),
        pytest.param('{"assets": {"a": {"type": "Hologram"}}}', id="unknown-type"),
        pytest.param('{"assets": {"a": {"company": ""}}}', id="empty-company"),
        pytest.param('{"assets": [], "extra": 1}', id="extra-top-level"),
        # was an InvalidValueError from handles(), not the documented StoreReadError
        pytest.param('{"assets": {"a\\u0001b": {"file_name": "x.pdf"}}}', id="control-in-handle"),
    ],
)
def test_an_invalid_manifest_is_a_read_error(source: Path, tmp_path: Path, manifest: str) -> None:
    (source / "exportjob.json").write_text(manifest)
    with pytest.raises(StoreReadError, match="manifest"):
        DirectoryStore(source, tmp_path / "out")


def test_a_missing_source_folder_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(StoreReadError, match="does not exist"):
        DirectoryStore(tmp_path / "nope", tmp_path / "out")


@pytest.mark.parametrize(
    "handle",
    [
        "../outside.jpg",
        "photos/../../outside.jpg",
        "photos/../doc.pdf",
        "/etc/passwd",
        "photos",
        "photos//leaf.jpg",
        "./doc.pdf",
        "doc.pdf/",
        "nope.jpg",
        "photos\\leaf.jpg",
    ],
)
def test_handles_outside_the_folder_or_not_files_are_not_found(
    source: Path, tmp_path: Path, handle: str
) -> None:
    (tmp_path / "outside.jpg").write_bytes(JPEG)
    store = DirectoryStore(source, tmp_path / "out")
    with pytest.raises(AssetNotFoundError):
        store.describe(AssetHandle(handle))
    with pytest.raises(AssetNotFoundError):
        store.open_original(AssetHandle(handle))


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlinks_may_not_escape_the_folder(source: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.jpg").write_bytes(JPEG)
    (source / "escape.jpg").symlink_to(tmp_path / "secret.jpg")
    (source / "inside.jpg").symlink_to(source / "photos" / "leaf.jpg")
    store = DirectoryStore(source, tmp_path / "out")
    with pytest.raises(AssetNotFoundError):
        store.open_original(AssetHandle("escape.jpg"))
    assert store.describe(AssetHandle("inside.jpg")).type is AssetType.IMAGE
    assert "escape.jpg" not in {h.value for h in store.handles()}


def test_directory_store_writes_whole_files_and_returns_their_path(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path, tmp_path / "out" / "deep")
    where = store.write_export("a.jpg", iter([b"one", b"two"])).location
    assert Path(where) == tmp_path / "out" / "deep" / "a.jpg"
    assert Path(where).read_bytes() == b"onetwo"
    store.write_export("a.jpg", [b"new"], on_conflict=OnConflict.REPLACE)
    assert Path(where).read_bytes() == b"new"
    assert [p.name for p in store.exported()] == ["a.jpg"]


def test_a_failing_source_leaves_neither_the_file_nor_a_temporary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    store = DirectoryStore(tmp_path, out)
    store.write_export("keep.jpg", [b"old"])

    def chunks() -> Iterator[bytes]:
        yield b"partial"
        raise StoreReadError("the original went away")

    with pytest.raises(StoreReadError):
        store.write_export("keep.jpg", chunks())
    with pytest.raises(StoreReadError):
        store.write_export("new.jpg", chunks())
    assert sorted(p.name for p in out.iterdir()) == ["keep.jpg"]
    assert (out / "keep.jpg").read_bytes() == b"old"


def test_an_unwritable_output_is_a_write_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreWriteError, match="is a file, not a folder"):
        DirectoryStore(tmp_path, tmp_path / "file")
    store = DirectoryStore(tmp_path, tmp_path / "later")
    (tmp_path / "later").write_text("a file since")
    with pytest.raises(StoreWriteError, match=r"cannot write a\.jpg"):
        store.write_export("a.jpg", [b"x"])


def test_a_write_that_fails_midway_is_a_write_error_and_cleans_up(tmp_path: Path) -> None:
    # A real file-size limit: the kernel refuses the write past 1 KiB (EFBIG), as a full disk would.
    store = DirectoryStore(tmp_path, tmp_path / "out")
    (tmp_path / "out").mkdir()
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, hard))
    try:
        with pytest.raises(StoreWriteError, match="File too large") as info:
            store.write_export("a.jpg", [b"x" * 4096])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert isinstance(info.value, OSError)
    assert list((tmp_path / "out").iterdir()) == []


def test_directory_store_pickles(source: Path, tmp_path: Path) -> None:
    store = DirectoryStore(
        source, tmp_path / "out", manifest={"assets": {"s": {"type": "ImageSet"}}}
    )
    clone = pickle.loads(pickle.dumps(store))
    assert clone.describe(AssetHandle("s")).type is AssetType.IMAGE_SET
    assert clone.describe(AssetHandle("doc.pdf")) == store.describe(AssetHandle("doc.pdf"))
    assert repr(clone) == repr(store)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows forbids newlines in file names")
def test_files_whose_names_cannot_be_handles_are_not_listed(source: Path, tmp_path: Path) -> None:
    (source / "bad\nname.jpg").write_bytes(JPEG)
    store = DirectoryStore(source, tmp_path / "out")
    assert "photos/leaf.jpg" in {h.value for h in store.handles()}
    assert all("\n" not in h.value for h in store.handles())


def test_directory_store_refuses_to_export_over_its_originals(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"original")
    with pytest.raises(StoreWriteError, match="would replace the originals"):
        DirectoryStore(tmp_path, tmp_path / ".")
    assert (tmp_path / "a.jpg").read_bytes() == b"original"


# -- the conflict policy as every store takes it


def _store_of_each_kind(kind: str, tmp_path: Path) -> Any:
    originals = DirectoryStore(tmp_path / "src", tmp_path / "unused")
    return {
        "memory": MemoryStore,
        "directory": lambda: DirectoryStore(tmp_path / "src", tmp_path / "out"),
        "fsspec-local": lambda: FsspecStore(str(tmp_path / "src"), str(tmp_path / "out")),
        "fsspec-memory": lambda: FsspecStore(
            str(tmp_path / "src"), f"memory://{uuid.uuid4().hex}/out"
        ),
        "zip": lambda: ZipStore(originals, tmp_path / "out.zip"),
    }[kind]()


STORE_KINDS = ["memory", "directory", "fsspec-local", "fsspec-memory", "zip"]


@pytest.mark.parametrize("kind", STORE_KINDS)
@pytest.mark.parametrize(
    ("policy", "name", "data"),
    [
        pytest.param("replace", "x.pdf", b"new", id="replace"),
        pytest.param("rename", "x-2.pdf", b"new", id="rename"),
    ],
)
def test_every_store_takes_the_conflict_policy_as_its_string_value(
    kind: str, policy: str, name: str, data: bytes, tmp_path: Path
) -> None:
    """``on_conflict="replace"`` was taken for ``error`` (the engine converts it; a host calling a
    store did not): the second write failed ``OutputExistsError``."""
    (tmp_path / "src").mkdir()
    store = _store_of_each_kind(kind, tmp_path)
    store.write_export("x.pdf", [b"old"])
    written = store.write_export("x.pdf", [b"new"], on_conflict=policy)
    assert (written.name, store.read_export(name)) == (name, data)


@pytest.mark.parametrize("kind", STORE_KINDS)
@pytest.mark.parametrize("policy", ["bogus", "REPLACE", 5, None])
def test_every_store_refuses_a_conflict_policy_that_is_none(
    kind: str, policy: object, tmp_path: Path
) -> None:
    """``"bogus"`` or ``5`` were taken for ``error``, silently."""
    (tmp_path / "src").mkdir()
    store = _store_of_each_kind(kind, tmp_path)
    with pytest.raises(
        ValueError, match=r"on_conflict must be one of error, skip, replace, rename, got"
    ):
        store.write_export("x.pdf", [b"new"], on_conflict=policy)  # type: ignore[arg-type]
