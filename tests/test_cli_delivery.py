"""The CLI's delivery: --zip (reproducible, volumes, resumable), --export-manifest, verify, URLs."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from exportjob import ExportEngine, ExportJob, JobContext
from exportjob.cli import main
from exportjob.converters import CopyConverter
from exportjob.delivery import MANIFEST_CSV, MANIFEST_JSON, ExportManifest, verify
from exportjob.stores import DirectoryStore, ZipStore
from exportjob.testing.images import encode, photo
from tests.s3server import bucket, s3, s3_url

__all__ = ["bucket", "s3", "s3_url"]  # the fixtures


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def originals(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for i in range(6):
        (src / f"p{i}.png").write_bytes(encode(photo((24, 16), seed=i), "PNG"))
    (src / "sub" / "doc.pdf").write_bytes(b"%PDF-1.4 " + os.urandom(5000))
    return src


def test_zip_delivery_is_complete_reproducible_and_verifies(
    originals: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "out" / "delivery.zip"
    first, _, err = run(
        "export", str(originals), "--fmt", "orig", "--zip", str(archive), "--workers", "3"
    )
    assert first == 0, err
    data = archive.read_bytes()
    assert not archive.with_name("delivery.zip.parts").exists()
    again, _, _ = run(
        "export", str(originals), "--fmt", "orig", "--zip", str(archive), "--workers", "3"
    )
    assert again == 0
    assert archive.read_bytes() == data  # the same job, the same bytes
    with zipfile.ZipFile(archive) as z:
        assert z.namelist() == [
            *(f"p{i}.png" for i in range(6)),
            "doc.pdf",
            MANIFEST_JSON,
            MANIFEST_CSV,
        ]
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        csv_rows = z.read(MANIFEST_CSV).decode().splitlines()
    assert (
        csv_rows[0] == "handle,file_name,output_name,status,code,format,width,height,bytes,sha256"
    )
    assert csv_rows[-1].startswith("sub/doc.pdf,doc.pdf,doc.pdf,exported,,,,,5009,")
    status, out, _ = run("verify", str(archive))
    assert status == 0
    assert out.endswith("7 file(s) verified, 0 problem(s)\n")


def exported_with_a_manifest(originals: Path, out_dir: Path) -> Path:
    """Export *originals* into *out_dir* with ``--export-manifest``; return *out_dir*."""
    status, _, err = run(
        "export", str(originals), "--fmt", "orig", "--out", str(out_dir), "--export-manifest"
    )
    assert status == 0, err
    return out_dir


def test_verify_reports_each_changed_missing_or_unlisted_file(
    originals: Path, tmp_path: Path
) -> None:
    out_dir = exported_with_a_manifest(originals, tmp_path / "out")
    assert run("verify", str(out_dir))[0] == 0
    (out_dir / "p0.png").write_bytes(b"changed")
    (out_dir / "p1.png").unlink()
    (out_dir / "extra.txt").write_text("not exported")
    status, out, _ = run("verify", str(out_dir))
    assert status == 1
    assert "FAIL p0.png: 7 bytes, the manifest says" in out
    assert "FAIL p1.png: missing (asset p1.png)" in out
    assert "FAIL extra.txt: not in the manifest" in out
    assert out.endswith("5 file(s) verified, 3 problem(s)\n")


def test_verify_finds_unlisted_files_in_subfolders_and_what_a_link_leads_to(
    originals: Path, tmp_path: Path
) -> None:
    """Only the folder's top level was listed: a file added in a subfolder passed."""
    out_dir = exported_with_a_manifest(originals, tmp_path / "out")
    (out_dir / "zzz").mkdir()
    (out_dir / "zzz" / "payload.exe").write_bytes(b"MZ")
    (tmp_path / "elsewhere.png").write_bytes((out_dir / "p2.png").read_bytes())
    (out_dir / "p2.png").unlink()
    (out_dir / "p2.png").symlink_to(tmp_path / "elsewhere.png")  # the right bytes, not there
    status, out, _ = run("verify", str(out_dir))
    assert status == 1
    assert "FAIL zzz/payload.exe: not in the manifest" in out
    assert "FAIL p2.png: missing" in out


@pytest.mark.parametrize(
    ("record", "says"),
    [
        pytest.param({"output_name": 5}, "output_name 5 is not a string", id="a-number"),
        pytest.param(
            {"output_name": "/etc/hostname"}, "output_name '/etc/hostname'", id="absolute"
        ),
        pytest.param({"output_name": "../x.pdf"}, "output_name '../x.pdf'", id="climbing"),
        pytest.param({"output_name": "x.pdf", "bytes": -1}, "bytes -1", id="negative-size"),
        pytest.param({"output_name": "x.pdf", "sha256": "zz"}, "sha256 'zz'", id="not-a-digest"),
    ],
)
def test_verify_refuses_a_manifest_no_export_wrote(
    record: dict[str, Any], says: str, tmp_path: Path
) -> None:
    """A hostile manifest gave a traceback (a number for a name) or made ``verify`` read and
    pass a file outside the folder (an absolute name)."""
    import json  # noqa: PLC0415

    (tmp_path / MANIFEST_JSON).write_text(
        json.dumps({"version": 1, "records": [{"handle": "h", "status": "exported", **record}]})
    )
    status, _, err = run("verify", str(tmp_path))
    assert status == 2
    assert says in err


RECORD = '{"handle": "h", "status": "exported"'


@pytest.mark.parametrize(
    ("contents", "says"),
    [
        pytest.param("{not json", "is not JSON (Expecting property name", id="not-json"),
        pytest.param(
            "[]",
            'it holds an array, not an object with "version" and "records"',
            id="an-array",
        ),
        pytest.param('{"version": 1}', 'it has no "records"', id="no-records"),
        pytest.param('{"records": []}', 'it has no "version"', id="no-version"),
        pytest.param('{"version": 7, "records": []}', "unknown version 7", id="another-version"),
        pytest.param(
            '{"version": 1, "records": {}}', 'its "records" is an object, not an array', id="dict"
        ),
        pytest.param(
            '{"version": 1, "records": ["h"]}',
            "record 1 is a string, not an object",
            id="a-string-record",
        ),
        pytest.param(
            f'{{"version": 1, "records": [{RECORD}}}, {RECORD}, "colour": 1}}]}}',
            'record 2 has a field no manifest has: "colour"',
            id="unknown-field",
        ),
        pytest.param(
            '{"version": 1, "records": [{"status": "exported"}]}',
            'record 1 has no "handle"',
            id="no-handle",
        ),
    ],
)
def test_verify_says_what_is_wrong_with_a_file_that_is_no_manifest(
    contents: str, says: str, tmp_path: Path
) -> None:
    """It printed Python's own words: ``not an export manifest: 'records'``, ``'list' object has
    no attribute 'get'``, ``ManifestRecord.__init__() got an unexpected keyword argument``."""
    (tmp_path / MANIFEST_JSON).write_text(contents)
    status, _, err = run("verify", str(tmp_path))
    assert status == 2
    assert f"{MANIFEST_JSON} is not an export manifest: " in err
    assert says in err
    python = ("object has no attribute", "__init__", "argument after", "KeyError", "'records'")
    assert [p for p in python if p in err] == []


def test_verify_fails_an_archive_holding_one_name_twice(tmp_path: Path) -> None:
    """A second, tampered entry of a listed name passed: only one of the two was checked."""
    import warnings  # noqa: PLC0415

    manifest = ExportManifest.from_json(
        '{"version": 1, "records": [{"handle": "h", "status": "exported", "output_name": "a.pdf",'
        ' "bytes": 4}]}'
    )
    archive = tmp_path / "x.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(archive, "w") as z:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name: that is the point
        z.writestr("a.pdf", b"%PDF")
        z.writestr("a.pdf", b"evil")
        z.writestr(MANIFEST_JSON, manifest.to_json())
    result = verify(archive)
    assert not result.ok
    assert any("a.pdf: there more than once" in p for p in result.problems)


def test_verify_without_a_manifest_is_a_usage_error(tmp_path: Path) -> None:
    status, _, err = run("verify", str(tmp_path))
    assert status == 2
    assert MANIFEST_JSON in err


def test_zip_volumes_are_each_complete_and_bounded(originals: Path, tmp_path: Path) -> None:
    archive = tmp_path / "delivery.zip"
    status, _, err = run(
        "export", str(originals), "--fmt", "orig", "--zip", str(archive), "--zip-volume-size", "4K"
    )
    assert status == 0, err
    volumes = sorted(tmp_path.glob("delivery-*.zip"))
    assert len(volumes) >= 2
    entries: list[str] = []
    for volume in volumes:
        assert verify(volume).ok
        with zipfile.ZipFile(volume) as z:
            entries += [n for n in z.namelist() if not n.startswith("exportjob-manifest")]
            big = z.getinfo("doc.pdf").file_size > 4096 if "doc.pdf" in z.namelist() else False
            if not big:
                assert volume.stat().st_size <= 4096 + 2048  # the manifest rides on top
    assert sorted(entries) == sorted([*(f"p{i}.png" for i in range(6)), "doc.pdf"])
    assert not archive.exists()


def test_an_interrupted_archive_is_finished_by_the_next_run(
    originals: Path, tmp_path: Path
) -> None:
    """A run that ends before ``finish`` leaves only the spool; the same job again completes it."""
    archive = tmp_path / "delivery.zip"
    source = DirectoryStore(originals, tmp_path / "unused")
    handles = [h.value for h in source.handles()]
    job = ExportJob(asset_handles=handles, fmt="orig")
    context = JobContext(company="default")
    store = ZipStore(source, archive)
    journal = store.spool / ".exportjob" / "job.jsonl"
    with ExportEngine(store, CopyConverter()) as engine:
        engine.run(job, context, journal=journal)  # "killed" before finish: no archive yet
    assert not archive.exists()
    assert sorted(p.name for p in store.spool.iterdir()) == sorted(
        [".archive", ".exportjob", *(f"p{i}.png" for i in range(6)), "doc.pdf"]
    )
    resumed = ZipStore(source, archive)
    with ExportEngine(resumed, CopyConverter()) as engine:
        log = engine.run(job, context, journal=journal)
    assert log.counts.success == 7
    resumed.finish(log)
    assert verify(archive).ok
    with zipfile.ZipFile(archive) as z:
        assert len(z.namelist()) == 9


def test_conflicting_names_inside_an_archive_follow_the_policy(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    (src / "a" / "same.pdf").write_bytes(b"%PDF-1.4 one")
    (src / "b" / "same.pdf").write_bytes(b"%PDF-1.4 two")
    archive = tmp_path / "d.zip"
    status, _, _ = run(
        "export", str(src), "--fmt", "orig", "--zip", str(archive), "--on-conflict", "rename"
    )
    assert status == 0
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        assert names[:2] == ["same.pdf", "same-2.pdf"]
        assert len(set(names)) == len(names)


def test_s3_to_s3_and_s3_into_a_zip_with_credentials_from_the_environment(
    s3: Any, bucket: str, s3_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        s3.put_object(
            Bucket=bucket, Key=f"src/p{i}.png", Body=encode(photo((20, 10), seed=i), "PNG")
        )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_url)
    monkeypatch.chdir(tmp_path)  # the journal of a URL output goes to ./.exportjob
    status, out, err = run(
        "export",
        f"s3://{bucket}/src",
        "--fmt",
        "convert",
        "--modifier",
        "&fmt=png&wid=10",
        "--out",
        f"s3://{bucket}/out",
        "--export-manifest",
    )
    assert status == 0, err + out
    assert run("verify", f"s3://{bucket}/out")[0] == 0
    manifest = ExportManifest.from_json(
        s3.get_object(Bucket=bucket, Key=f"out/{MANIFEST_JSON}")["Body"].read()
    )
    assert [(r.width, r.height) for r in manifest.records] == [(10, 5)] * 5
    archive = tmp_path / "from-s3.zip"
    status, _, err = run("export", f"s3://{bucket}/src", "--fmt", "orig", "--zip", str(archive))
    assert status == 0, err
    assert verify(archive).ok


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--zip", "x.zip", "--out", "o"], "either --out", id="both"),
        pytest.param([], "either --out", id="neither"),
        pytest.param(["--out", "o", "--zip-volume-size", "1M"], "needs --zip", id="volume-no-zip"),
        pytest.param(
            ["--out", "gs://b/o"], "pip install 'exportjob[fsspec]' gcsfs", id="no-backend"
        ),
    ],
)
def test_delivery_usage_errors(
    originals: Path, tmp_path: Path, argv: list[str], message: str
) -> None:
    if "gcsfs" in message and __import__("importlib").util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed")
    status, _, err = run("export", str(originals), "--fmt", "orig", *argv)
    assert status == 2
    assert message in err


@pytest.fixture
def aws_env(s3_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment a host's boto3 reads, pointed at the test's S3 server."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_url,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("aws_env")
def test_zip_to_an_s3_url_is_one_object_reproducible_verified_and_never_replaced(
    originals: Path,
    s3: Any,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the archive is built in ./.exportjob/ before its upload
    url = f"s3://{bucket}/exports/job.zip"
    status, out, err = run(
        "export", str(originals), "--fmt", "orig", "--zip", url, "--workers", "3"
    )
    assert status == 0, err
    assert url in out
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["exports/job.zip"]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert not list((tmp_path / ".exportjob").glob("job.zip-*.parts"))
    status, out, _ = run("verify", url)
    assert (status, out.splitlines()[-1]) == (0, "7 file(s) verified, 0 problem(s)")
    first = s3.get_object(Bucket=bucket, Key="exports/job.zip")["Body"].read()
    # The same job again: to another key the same bytes; to the same key the same object, kept.
    assert (
        run("export", str(originals), "--fmt", "orig", "--zip", f"s3://{bucket}/exports/again.zip")[
            0
        ]
        == 0
    )
    assert s3.get_object(Bucket=bucket, Key="exports/again.zip")["Body"].read() == first
    assert run("export", str(originals), "--fmt", "orig", "--zip", url)[0] == 0
    # Another object under the name is left untouched (a conditional PUT), unless told otherwise.
    s3.put_object(Bucket=bucket, Key="exports/taken.zip", Body=b"someone else's")
    taken = f"s3://{bucket}/exports/taken.zip"
    status, _, err = run("export", str(originals), "--fmt", "orig", "--zip", taken)
    assert status == 2
    assert f"taken.zip already exists in s3://{bucket}/exports and was not written" in err
    assert "(--on-conflict rename publishes the archive under the next free name" in err
    assert s3.get_object(Bucket=bucket, Key="exports/taken.zip")["Body"].read() == b"someone else's"
    status, _, _ = run(
        "export", str(originals), "--fmt", "orig", "--zip", taken, "--on-conflict", "replace"
    )
    assert status == 0
    assert run("verify", taken)[0] == 0
    # Volumes go up one object each.
    status, _, err = run(
        "export",
        str(originals),
        "--fmt",
        "orig",
        "--zip",
        f"s3://{bucket}/vol/d.zip",
        "--zip-volume-size",
        "4K",
    )
    assert status == 0, err
    volumes = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="vol/")["Contents"])
    assert len(volumes) >= 2
    assert volumes[0] == "vol/d-001.zip"
    assert all(run("verify", f"s3://{bucket}/{key}")[0] == 0 for key in volumes)


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("odd", ["sp ace", "hash#", "pct%41", "uni-\u00e9"])
def test_local_paths_beside_a_url_are_taken_as_written(
    odd: str,
    s3: Any,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # They went to fsspec as percent-encoded file:// URLs, which it does not decode: a source
    # "did not exist", and a local --out got a sibling folder "o%20..." outside it.
    monkeypatch.chdir(tmp_path)
    src = tmp_path / f"s-{odd}"
    src.mkdir()
    (src / "a.pdf").write_bytes(b"%PDF-1.4")
    status, _, err = run("export", str(src), "--fmt", "orig", "--out", f"s3://{bucket}/up")
    assert status == 0, err
    assert s3.get_object(Bucket=bucket, Key="up/a.pdf")["Body"].read() == b"%PDF-1.4"
    out = tmp_path / f"o-{odd}"
    status, _, err = run("export", f"s3://{bucket}/up", "--fmt", "orig", "--out", str(out))
    assert status == 0, err
    assert (out / "a.pdf").read_bytes() == b"%PDF-1.4"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".exportjob", src.name, out.name])


@pytest.mark.parametrize("volumes", [(), ("--zip-volume-size", "4K")])
def test_the_same_zip_job_under_rename_keeps_its_earlier_delivery(
    originals: Path, tmp_path: Path, volumes: tuple[str, ...]
) -> None:
    # A file of someone else's takes the name: the first run publishes a variant, and the same
    # command again finds its own bytes under that variant instead of publishing another.
    out = tmp_path / "out"
    out.mkdir()
    name = "job-001.zip" if volumes else "job.zip"
    (out / name).write_bytes(b"someone else's")
    argv = ("export", str(originals), "--fmt", "orig", "--zip", str(out / "job.zip"), *volumes)
    for _ in range(3):
        status, _, err = run(*argv, "--on-conflict", "rename")
        assert status == 0, err
    published = sorted(p.name for p in out.iterdir())
    expected = ["job-001-2.zip", "job-001.zip"] if volumes else ["job-2.zip", "job.zip"]
    assert published[:2] == expected
    assert (out / name).read_bytes() == b"someone else's"
    if not volumes:
        assert published == expected


def test_an_archive_inside_the_source_never_packs_its_earlier_deliveries(
    originals: Path,
) -> None:
    # Someone else's file holds the archive's name: rename publishes variants, and no later run,
    # in either form, takes one of them (or the other form's delivery) for an asset. The file
    # itself is left out under the form that names it, an asset under the other.
    archive = originals / "job.zip"
    archive.write_bytes(b"someone else's")
    for forms, count in [
        ((), 7),
        (("--zip-volume-size", "1M"), 8),
        ((), 7),
        (("--zip-volume-size", "1M"), 8),
    ]:
        status, out, err = run(
            "export",
            str(originals),
            "--fmt",
            "orig",
            "--zip",
            str(archive),
            "--on-conflict",
            "rename",
            *forms,
        )
        assert status == 0, err
        assert f"{count} exported" in out, out
    assert sorted(p.name for p in originals.glob("job*.zip")) == [
        "job-001.zip",
        "job-2.zip",
        "job.zip",
    ]
    for delivery in ("job-001.zip", "job-2.zip"):
        with zipfile.ZipFile(originals / delivery) as z:
            assert not any(n.startswith("job-") for n in z.namelist()), z.namelist()


@pytest.mark.usefixtures("aws_env")
def test_the_same_zip_job_to_s3_under_rename_keeps_its_earlier_upload(
    originals: Path, s3: Any, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the archive is built in ./.exportjob/ before its upload
    s3.put_object(Bucket=bucket, Key="r/job.zip", Body=b"someone else's")
    argv = ("export", str(originals), "--fmt", "orig", "--zip", f"s3://{bucket}/r/job.zip")
    for _ in range(2):
        status, _, err = run(*argv, "--on-conflict", "rename")
        assert status == 0, err
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="r/")["Contents"])
    assert keys == ["r/job-2.zip", "r/job.zip"]


def _mendable(tmp_path: Path) -> tuple[Path, Path]:
    """A source of two PNGs, the second truncated, and the archive path of its delivery."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.png").write_bytes(encode(photo((24, 16), seed=1), "PNG"))
    (src / "b.png").write_bytes(encode(photo((24, 16), seed=2), "PNG")[:40])  # truncated
    return src, tmp_path / "job.zip"


def _convert_into(src: Path, archive: Path, *more: str) -> list[str]:
    return [
        "export",
        str(src),
        "--fmt",
        "convert",
        "--modifier",
        "&fmt=jpeg",
        "--zip",
        str(archive),
        *more,
    ]


@pytest.mark.parametrize("as_json", [False, True])
def test_a_delivery_that_cannot_be_published_still_prints_the_jobs_log(
    tmp_path: Path, as_json: bool
) -> None:
    # The archive's name holds someone else's file: the job ran, and its log used to be lost
    # (only the error was printed).
    src, archive = _mendable(tmp_path)
    archive.write_bytes(b"someone else's")
    status, out, err = run(*_convert_into(src, archive), *(["--json"] if as_json else []))
    assert status == 2
    assert "job.zip already exists" in err
    if as_json:
        assert [o["status"] for o in json.loads(out)["outcomes"]] == ["exported", "failed"]
    else:
        assert "1 exported, 1 error(s)" in out
        assert "exports in" not in out  # nothing was delivered
    assert archive.read_bytes() == b"someone else's"


def test_the_same_zip_command_after_a_failed_asset_is_mended_delivers_the_whole_job(
    tmp_path: Path,
) -> None:
    # The first delivery held a.jpg only; the spool was gone, so the second run's fuller archive
    # met the first under its name and stopped, exit 2, "not written by this job", run after run.
    src, archive = _mendable(tmp_path)
    assert run(*_convert_into(src, archive))[0] == 1
    with zipfile.ZipFile(archive) as z:
        assert z.namelist()[0] == "a.jpg"
    (src / "b.png").write_bytes(encode(photo((24, 16), seed=2), "PNG"))
    status, _, err = run(*_convert_into(src, archive))
    assert status == 0, err
    with zipfile.ZipFile(archive) as z:
        assert z.namelist()[:2] == ["a.jpg", "b.jpg"]
    whole = archive.read_bytes()
    assert not archive.with_name("job.zip.parts").exists()  # complete: no record left
    assert run(*_convert_into(src, archive))[0] == 0
    assert archive.read_bytes() == whole


@pytest.mark.parametrize("how", ["another-job", "changed-since"])
def test_a_delivery_with_failures_is_replaced_by_its_own_job_only(tmp_path: Path, how: str) -> None:
    src, archive = _mendable(tmp_path)
    assert run(*_convert_into(src, archive))[0] == 1
    (src / "b.png").write_bytes(encode(photo((24, 16), seed=2), "PNG"))
    if how == "changed-since":
        archive.write_bytes(b"put there since")
        argv = _convert_into(src, archive)
    else:
        argv = [*_convert_into(src, archive)[:-2], "--modifier", "&fmt=png", "--zip", str(archive)]
    before = archive.read_bytes()
    status, _, err = run(*argv)
    assert status == 2
    assert "job.zip already exists" in err
    assert archive.read_bytes() == before


def test_an_archive_named_without_zip_inside_the_source_never_packs_its_deliveries(
    originals: Path,
) -> None:
    # rename numbers "job" as "job-2": the first version of the rule above looked for job-2.zip
    # only, and each run packed the one before.
    (originals / "job").write_bytes(b"someone else's")
    for _ in range(3):
        argv = ("export", str(originals), "--fmt", "orig", "--zip", str(originals / "job"))
        status, out, err = run(*argv, "--on-conflict", "rename")
        assert status == 0, err
        assert "7 exported" in out, out
    with zipfile.ZipFile(originals / "job-2") as z:
        assert not any(n.startswith("job") for n in z.namelist()), z.namelist()
    assert not (originals / "job-3").exists()


def test_verify_reports_a_name_with_a_line_break_on_one_line(
    originals: Path, tmp_path: Path
) -> None:
    out_dir = exported_with_a_manifest(originals, tmp_path / "out")
    (out_dir / "x\u2028ok   forged.png").write_text("not exported")
    status, out, _ = run("verify", str(out_dir))
    assert status == 1
    assert "FAIL x\\u2028ok   forged.png: not in the manifest" in out
    assert "\u2028" not in out
