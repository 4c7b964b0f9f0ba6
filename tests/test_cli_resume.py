"""What the same export command resumes, and what makes it another job that meets the files."""

from __future__ import annotations

import io
import json
from pathlib import Path

from exportjob.cli import main


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
