"""FsspecStore against a real S3 API server on loopback (moto in server mode), memory:// and file://.

The S3 server is moto's ``ThreadedMotoServer`` bound to 127.0.0.1, reached by s3fs over HTTP; the
dropped-upload case puts a small TCP proxy between them that cuts any connection carrying more
than a few kilobytes upstream. ``EXPORTJOB_S3_ASSETS`` sets the size of the large convert export
(100 by default, to keep CI short; the issue's acceptance run is ``EXPORTJOB_S3_ASSETS=500``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

from exportjob import AssetHandle, AssetType, ExportEngine, ExportJob, JobContext
from exportjob.converters import CopyConverter
from exportjob.delivery import MANIFEST_JSON, ExportManifest, build_manifest, verify
from exportjob.exceptions import (
    AssetNotFoundError,
    OutputExistsError,
    StoreReadError,
    StoreWriteError,
)
from exportjob.joblog import AssetStatus
from exportjob.protocols import BatchDescriber, OnConflict
from exportjob.stores import DirectoryStore, FsspecStore, ZipStore
from exportjob.testing.images import encode, photo
from tests.s3server import bucket, s3, s3_url

__all__ = ["bucket", "s3", "s3_url"]  # the fixtures

CREDENTIALS = {"key": "testing", "secret": "testing"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def options(endpoint: str, **more: Any) -> dict[str, Any]:
    # A fresh s3fs instance per store setup: no listing cache carried between tests.
    return {"endpoint_url": endpoint, **CREDENTIALS, "skip_instance_cache": True, **more}


def png(seed: int, size: tuple[int, int] = (16, 12)) -> bytes:
    return encode(photo(size, seed=seed), "PNG")


def keys(s3: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def job(handles: list[str], fmt: str = "orig", **kwargs: Any) -> ExportJob:
    return ExportJob(asset_handles=handles, fmt=fmt, **kwargs)


CONTEXT = JobContext(company="default", user="ann")


# -- S3: reads, describes, writes


def test_describe_is_one_head_and_reads_no_byte(s3: Any, bucket: str, s3_url: str) -> None:
    s3.put_object(Bucket=bucket, Key="src/photos/leaf.jpg", Body=b"\xff\xd8\xff" + b"0" * 50)
    s3.put_object(Bucket=bucket, Key="src/brochure.pdf", Body=b"%PDF-1.7 ...")
    store = FsspecStore(f"s3://{bucket}/src", f"s3://{bucket}/out", storage_options=options(s3_url))
    asset = store.describe(AssetHandle("photos/leaf.jpg"))
    assert (asset.type, asset.size, asset.file_name, asset.name) == (
        AssetType.IMAGE,
        53,
        "leaf.jpg",
        "leaf",
    )
    assert store.describe(AssetHandle("brochure.pdf")).type is AssetType.PDF
    assert store.handles() == (AssetHandle("brochure.pdf"), AssetHandle("photos/leaf.jpg"))
    assert isinstance(store, BatchDescriber)
    many = store.describe_many([AssetHandle("brochure.pdf"), AssetHandle("nope.png")])
    assert many[AssetHandle("brochure.pdf")].size == 12  # type: ignore[union-attr]
    assert isinstance(many[AssetHandle("nope.png")], AssetNotFoundError)


@pytest.mark.parametrize(
    "handle",
    [
        pytest.param("missing.png", id="missing-key"),
        pytest.param("../other/secret.png", id="dot-dot"),
        pytest.param("photos//leaf.jpg", id="double-slash"),
        pytest.param("/src/photos/leaf.jpg", id="absolute"),
        pytest.param("photos", id="a-prefix-not-an-object"),
    ],
)
def test_unknown_or_badly_spelled_keys_are_not_found(
    s3: Any, bucket: str, s3_url: str, handle: str
) -> None:
    s3.put_object(Bucket=bucket, Key="src/photos/leaf.jpg", Body=b"\xff\xd8\xff")
    s3.put_object(Bucket=bucket, Key="other/secret.png", Body=PNG_MAGIC)
    store = FsspecStore(f"s3://{bucket}/src", f"s3://{bucket}/out", storage_options=options(s3_url))
    with pytest.raises(AssetNotFoundError):
        store.describe(AssetHandle(handle))
    with pytest.raises(AssetNotFoundError):
        store.open_original(AssetHandle(handle))


def test_the_manifest_in_the_bucket_sets_company_and_type(
    s3: Any, bucket: str, s3_url: str
) -> None:
    s3.put_object(Bucket=bucket, Key="src/a.png", Body=png(1))
    s3.put_object(Bucket=bucket, Key="src/b.png", Body=png(2))
    s3.put_object(
        Bucket=bucket,
        Key="src/exportjob.json",
        Body=b'{"assets": {"b.png": {"company": "partner"}, "sets/spin": {"type": "SpinSet"}}}',
    )
    store = FsspecStore(f"s3://{bucket}/src", f"s3://{bucket}/out", storage_options=options(s3_url))
    assert store.handles() == tuple(AssetHandle(h) for h in ("a.png", "b.png", "sets/spin"))
    with ExportEngine(store, CopyConverter()) as engine:
        log = engine.run(job(["a.png", "b.png", "sets/spin"]), CONTEXT)
    codes = {o.handle.value: o.code for o in log.outcomes}
    assert codes == {
        "a.png": None,
        "b.png": "NOT_AUTHORIZED",
        "sets/spin": "UNSUPPORTED_ASSET_TYPE",
    }
    assert set(keys(s3, bucket, "out/")) == {"out/a.png"}


def test_a_missing_source_bucket_is_an_error_and_is_never_created(s3: Any, s3_url: str) -> None:
    with pytest.raises(StoreReadError, match="does not exist"):
        FsspecStore(
            "s3://no-such-bucket/src", "s3://no-such-bucket/out", storage_options=options(s3_url)
        )
    assert "no-such-bucket" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_a_bucket_that_refuses_writes_fails_each_asset_with_the_backends_words(
    s3: Any, bucket: str, s3_url: str
) -> None:
    """The export bucket does not exist (moto's server does not enforce bucket policies)."""
    s3.put_object(Bucket=bucket, Key="src/a.png", Body=png(1))
    store = FsspecStore(
        f"s3://{bucket}/src", "s3://absent-exports/out", storage_options=options(s3_url)
    )
    with ExportEngine(store, CopyConverter()) as engine:
        log = engine.run(job(["a.png"]), CONTEXT)
    (outcome,) = log.outcomes
    assert outcome.status is AssetStatus.FAILED
    assert outcome.code == StoreWriteError.code
    assert "The specified bucket does not exist" in (outcome.message or "")
    assert "absent-exports" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


@pytest.mark.parametrize(
    ("policy", "expected_keys", "outcome"),
    [
        pytest.param(OnConflict.ERROR, {"out/a.png": b"theirs"}, "OUTPUT_EXISTS", id="error"),
        pytest.param(OnConflict.SKIP, {"out/a.png": b"theirs"}, "skipped", id="skip"),
        pytest.param(OnConflict.REPLACE, {"out/a.png": b"ours"}, "a.png", id="replace"),
        pytest.param(
            OnConflict.RENAME,
            {"out/a.png": b"theirs", "out/a-2.png": b"ours"},
            "a-2.png",
            id="rename",
        ),
    ],
)
def test_the_conflict_policy_holds_on_s3(
    s3: Any,
    bucket: str,
    s3_url: str,
    policy: OnConflict,
    expected_keys: dict[str, bytes],
    outcome: str,
) -> None:
    s3.put_object(Bucket=bucket, Key="out/a.png", Body=b"theirs")
    store = FsspecStore(f"s3://{bucket}", f"s3://{bucket}/out", storage_options=options(s3_url))
    if policy in {OnConflict.ERROR, OnConflict.SKIP}:
        with pytest.raises(OutputExistsError) as caught:
            store.write_export("a.png", [b"ours"], on_conflict=policy)
        assert caught.value.code == outcome or policy is OnConflict.SKIP
    else:
        assert store.write_export("a.png", [b"ours"], on_conflict=policy).name == outcome
    assert keys(s3, bucket, "out/") == expected_keys


def test_the_same_bytes_again_are_identical_not_a_conflict(
    s3: Any, bucket: str, s3_url: str
) -> None:
    store = FsspecStore(f"s3://{bucket}", f"s3://{bucket}/out", storage_options=options(s3_url))
    first = store.write_export("a.bin", [b"abc", b"def"])
    again = store.write_export("a.bin", [b"abcdef"])
    assert (first.identical, again.identical) == (False, True)
    assert first.location == f"s3://{bucket}/out/a.bin"


def test_two_writers_of_one_name_never_replace_each_other(
    s3: Any, bucket: str, s3_url: str
) -> None:
    """The conditional PUT (If-None-Match: *): of many writers at once, exactly one wins."""
    store = FsspecStore(f"s3://{bucket}", f"s3://{bucket}/out", storage_options=options(s3_url))
    results: list[object] = []
    barrier = threading.Barrier(6)

    def write(i: int) -> None:
        barrier.wait()
        try:
            results.append(store.write_export("race.bin", [f"writer {i}".encode()]))
        except OutputExistsError as exc:
            results.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if not isinstance(r, OutputExistsError)]
    assert len(winners) == 1
    assert len(results) == 6
    body = keys(s3, bucket, "out/")["out/race.bin"]
    assert body.startswith(b"writer ")


def test_large_objects_go_up_in_parts_and_come_back_whole(
    s3: Any, bucket: str, s3_url: str
) -> None:
    data = os.urandom(3 << 20) * 4  # 12 MiB: three 5 MiB parts
    store = FsspecStore(
        f"s3://{bucket}", f"s3://{bucket}/out", storage_options=options(s3_url), block_size=5 << 20
    )
    written = store.write_export(
        "big.bin", (data[i : i + 65536] for i in range(0, len(data), 65536))
    )
    assert written.size == len(data)
    head = s3.head_object(Bucket=bucket, Key="out/big.bin")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts
    assert hashlib.sha256(store.read_export("big.bin")).digest() == hashlib.sha256(data).digest()
    with pytest.raises(OutputExistsError):  # a conditional multipart upload refused at the end
        store.write_export("big.bin", [data[:-1], b"x"])
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert hashlib.sha256(store.read_export("big.bin")).digest() == hashlib.sha256(data).digest()


def test_a_failing_converter_leaves_no_object(s3: Any, bucket: str, s3_url: str) -> None:
    store = FsspecStore(f"s3://{bucket}", f"s3://{bucket}/out", storage_options=options(s3_url))

    def chunks() -> Iterator[bytes]:
        yield b"x" * 1000
        msg = "the converter broke"
        raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="broke"):
        store.write_export("a.bin", chunks())
    assert keys(s3, bucket, "out/") == {}


# -- a server that drops the connection mid-upload


class CuttingProxy:
    """A TCP proxy to the S3 server that cuts any connection sending more than *limit* bytes."""

    def __init__(self, upstream_port: int, limit: int) -> None:
        self.upstream_port = upstream_port
        self.limit = limit
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, counted: bool) -> None:
        sent = 0
        try:
            while data := source.recv(65536):
                sent += len(data)
                if counted and sent > self.limit:
                    self.cuts += 1
                    break
                target.sendall(data)
        except OSError:
            pass
        for s in (source, target):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self._listener.close()


@pytest.mark.parametrize(
    ("size", "block"),
    [
        pytest.param(200_000, 5 << 20, id="single-put"),
        pytest.param(11 << 20, 5 << 20, id="multipart"),
    ],
)
def test_a_server_dropping_mid_upload_leaves_nothing_partial(
    s3: Any, bucket: str, s3_url: str, size: int, block: int
) -> None:
    s3.put_object(Bucket=bucket, Key="src/big.bin", Body=os.urandom(size))
    s3.put_object(Bucket=bucket, Key="src/small.png", Body=png(3))
    proxy = CuttingProxy(int(s3_url.rsplit(":", 1)[1]), limit=64 * 1024)
    try:
        store = FsspecStore(
            f"s3://{bucket}/src",
            f"s3://{bucket}/out",
            storage_options=options(
                f"http://127.0.0.1:{proxy.port}",
                config_kwargs={"retries": {"max_attempts": 1}},
            ),
            block_size=block,
        )
        # Reads stream through the proxy untouched (only the upstream side is counted).
        with ExportEngine(store, CopyConverter()) as engine:
            log = engine.run(job(["big.bin", "small.png"]), CONTEXT)
    finally:
        proxy.close()
    outcomes = {o.handle.value: o for o in log.outcomes}
    assert outcomes["small.png"].status is AssetStatus.EXPORTED
    assert outcomes["big.bin"].status is AssetStatus.FAILED
    assert outcomes["big.bin"].code == StoreWriteError.code
    assert proxy.cuts >= 1
    assert set(keys(s3, bucket, "out/")) == {"out/small.png"}
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


# -- whole jobs against S3


def test_a_convert_export_to_s3_with_a_manifest_that_verifies(
    s3: Any, bucket: str, s3_url: str
) -> None:
    count = int(os.environ.get("EXPORTJOB_S3_ASSETS", "100"))
    fs = fsspec.filesystem("s3", **options(s3_url))
    fs.pipe({f"{bucket}/src/img-{i:04d}.png": png(i, (8, 6)) for i in range(count)})
    store = FsspecStore(f"s3://{bucket}/src", f"s3://{bucket}/out", storage_options=options(s3_url))
    handles = [h.value for h in store.handles()]
    assert len(handles) == count
    with ExportEngine(store) as engine:
        log = engine.run(job(handles, "convert", is_modifier="&fmt=jpg&wid=4"), CONTEXT)
    assert log.counts.success == count, log.errors[:3]
    manifest = build_manifest(log, store.open_export)
    for name, data in manifest.contents().items():
        store.write_export(name, [data], on_conflict=OnConflict.REPLACE)
    result = verify(f"s3://{bucket}/out", options(s3_url))
    assert result.ok, result.problems[:5]
    assert len(result.checked) == count
    record = manifest.records[0]
    assert (record.format, record.width, record.height) == ("jpeg,rgb", 4, 3)
    # A changed object is found.
    s3.put_object(Bucket=bucket, Key="out/img-0000.jpg", Body=b"tampered")
    broken = verify(f"s3://{bucket}/out", options(s3_url))
    assert [p.split(":")[0] for p in broken.problems] == ["img-0000.jpg"]


def test_an_orig_export_from_s3_into_a_zip_is_reproducible_and_verifies(
    s3: Any, bucket: str, s3_url: str, tmp_path: Path
) -> None:
    originals = {f"src/p{i}.png": png(i) for i in range(12)}
    originals["src/doc.pdf"] = b"%PDF-1.4 " + os.urandom(3000)
    for key, body in originals.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    handles = [*(f"p{i}.png" for i in range(12)), "doc.pdf", "missing.png"]
    archives = []
    for run in ("one", "two"):
        source = FsspecStore(
            f"s3://{bucket}/src", f"s3://{bucket}/unused", storage_options=options(s3_url)
        )
        store = ZipStore(source, tmp_path / run / "delivery.zip")
        with ExportEngine(store, CopyConverter(), workers=4) as engine:
            log = engine.run(job(handles), CONTEXT)
        (archive,) = store.finish(log)
        archives.append(Path(archive.location).read_bytes())
        assert not store.spool.exists()
    assert archives[0] == archives[1]
    path = tmp_path / "one" / "delivery.zip"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert names == [
            *(f"p{i}.png" for i in range(12)),
            "doc.pdf",
            MANIFEST_JSON,
            "exportjob-manifest.csv",
        ]
        assert z.read("doc.pdf") == originals["src/doc.pdf"]
        manifest = ExportManifest.from_json(z.read(MANIFEST_JSON))
    assert manifest.records[-1].code == "ASSET_NOT_FOUND"
    assert verify(path).ok


# -- memory:// and file://


def test_memory_urls_round_trip() -> None:
    fs = fsspec.filesystem("memory")
    root = f"/mem-{uuid.uuid4().hex[:8]}"
    fs.pipe(f"{root}/src/a.png", png(1))
    store = FsspecStore(f"memory://{root}/src", f"memory://{root}/out")
    with ExportEngine(store) as engine:
        log = engine.run(job(["a.png"], "convert", is_modifier="&fmt=png&wid=8"), CONTEXT)
    assert log.counts.success == 1
    assert store.read_export("a.png").startswith(PNG_MAGIC)
    assert list(store.exported()) == ["a.png"]
    with pytest.raises(OutputExistsError):
        store.write_export("a.png", [b"other"])


def test_file_urls_publish_as_directory_store_does(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.png").write_bytes(png(1))
    (tmp_path / "secret.png").write_bytes(png(2))
    (tmp_path / "src" / "link.png").symlink_to(tmp_path / "secret.png")
    store = FsspecStore(f"file://{tmp_path}/src", f"file://{tmp_path}/out")
    assert store.handles() == (AssetHandle("a.png"), AssetHandle("link.png"))
    with pytest.raises(AssetNotFoundError):  # a symlink out of the source folder
        store.describe(AssetHandle("link.png"))
    written = store.write_export("a.png", [b"x"])
    assert (tmp_path / "out" / "a.png").read_bytes() == b"x"
    assert written.location == str(tmp_path / "out" / "a.png")  # as DirectoryStore says
    assert store.write_export("a.png", [b"x"]).identical
    with pytest.raises(OutputExistsError):
        store.write_export("a.png", [b"y"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]


def test_the_output_may_not_be_the_source(tmp_path: Path) -> None:
    with pytest.raises(StoreWriteError, match="replace the originals"):
        FsspecStore(f"file://{tmp_path}", f"file://{tmp_path}")


def test_a_missing_backend_names_the_extra_and_the_package() -> None:
    pytest.importorskip("fsspec")
    if __import__("importlib").util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed")
    with pytest.raises(ImportError, match=r"pip install 'exportjob\[fsspec\]' gcsfs"):
        FsspecStore("gs://bucket/src", "gs://bucket/out")


def test_an_archive_upload_cut_midway_leaves_nothing_and_the_next_finish_completes(
    s3: Any, bucket: str, s3_url: str, tmp_path: Path
) -> None:
    """A ZIP published to s3:// as a multipart upload: a dropped connection leaves no object."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(os.urandom(11 << 20))
    (src / "small.pdf").write_bytes(b"%PDF-1.4 small")
    originals = DirectoryStore(src, tmp_path / "unused")
    job_ = job(["big.bin", "small.pdf"])
    url = f"s3://{bucket}/exports/job.zip"
    spool = tmp_path / "spool"
    proxy = CuttingProxy(int(s3_url.rsplit(":", 1)[1]), limit=64 * 1024)
    try:
        cut = ZipStore(
            originals,
            url,
            spool=spool,
            storage_options=options(
                f"http://127.0.0.1:{proxy.port}", config_kwargs={"retries": {"max_attempts": 1}}
            ),
        )
        with ExportEngine(cut, CopyConverter()) as engine:
            log = engine.run(job_, CONTEXT, progress=cut.stream(job_))
        with pytest.raises(StoreWriteError, match=r"job\.zip"):
            cut.finish(log)
    finally:
        proxy.close()
    assert proxy.cuts >= 1
    assert keys(s3, bucket) == {}
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    again = ZipStore(originals, url, spool=spool, storage_options=options(s3_url))
    (written,) = again.finish(log)
    assert written.location == url
    assert verify(url, options(s3_url)).ok
    assert not spool.exists()
