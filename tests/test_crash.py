"""The CLI across kills and beside other jobs: real processes, real signals, one export folder.

``kill -9`` and SIGTERM at random points of a 300-asset export, then the identical command: exit 0,
every asset exported exactly once, outputs byte-identical to an uninterrupted run, no temporary file
left. Two jobs writing the same names into one folder at once, under each conflict policy. Set
``EXPORTJOB_CRASH_RUNS`` for more kill points than the CI's seeded few.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from exportjob.testing import sample_png
from tests.cli import export_command

COUNT = 300
RUNS = int(os.environ.get("EXPORTJOB_CRASH_RUNS", "3"))
MODIFIER = "&fmt=jpg&wid=32"


def make_originals(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"img{i:03}.png").write_bytes(sample_png(64, 48, seed=i))
    return folder


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_originals(tmp_path_factory.mktemp("crash") / "src", COUNT)


def command(src: Path, out: Path, modifier: str = MODIFIER, *extra: str) -> list[str]:
    return export_command(
        src, "--fmt", "convert", "--modifier", modifier, "--out", out, "--workers", "2", *extra
    )


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603


def exports(out: Path) -> dict[str, Path]:
    return {p.name: p for p in out.iterdir() if p.is_file() and not p.name.endswith(".part")}


def temporaries(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.name.endswith(".part")]


@pytest.fixture(scope="module")
def reference(originals: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("reference") / "out"
    done = run(command(originals, out))
    assert done.returncode == 0, done.stderr
    return {name: path.read_bytes() for name, path in exports(out).items()}


def start_and_kill(args: list[str], out: Path, sig: signal.Signals, after: int) -> int:
    """Start *args*, send *sig* once *after* exports landed (or it ends); return its exit status."""
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if out.is_dir() and len(exports(out)) >= after:
            break
        time.sleep(0.005)
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(timeout=120)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
@pytest.mark.parametrize("seed", range(RUNS))
def test_the_same_command_after_a_kill_finishes_the_job_exporting_nothing_twice(
    originals: Path, reference: dict[str, bytes], tmp_path: Path, sig: signal.Signals, seed: int
) -> None:
    out = tmp_path / "out"
    after = random.Random(seed * 7 + sig).randrange(1, COUNT - 20)
    status = start_and_kill(command(originals, out), out, sig, after)
    if sig is signal.SIGTERM:
        assert status in {143, 0}
    else:
        assert status in {-signal.SIGKILL, 0}
    landed = {name: (p.stat().st_ino, p.stat().st_mtime_ns) for name, p in exports(out).items()}

    again = run(command(originals, out))
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{COUNT} exported, 0 error(s)" in again.stdout
    final = exports(out)
    assert {name: p.read_bytes() for name, p in final.items()} == reference
    for name, stamp in landed.items():  # nothing that had landed was written again
        assert (final[name].stat().st_ino, final[name].stat().st_mtime_ns) == stamp
    assert temporaries(out) == []

    third = run(command(originals, out))
    assert third.returncode == 0
    assert {name: (p.stat().st_ino, p.stat().st_mtime_ns) for name, p in exports(out).items()} == {
        name: (p.stat().st_ino, p.stat().st_mtime_ns) for name, p in final.items()
    }


TWINS = 40  # assets in a subfolder whose output names repeat those of the folder's first ones


def foreign(out: Path) -> dict[str, bytes]:
    """Put files no job wrote into *out* under names the job would take; return them."""
    out.mkdir(parents=True)
    there = {f"img{i:03}.jpg": b"someone else's" for i in range(0, TWINS + 20, 3)}
    there.update({f"img{i:03}-2.jpg": b"someone else's too" for i in range(0, TWINS, 5)})
    for name, data in there.items():
        (out / name).write_bytes(data)
    return there


@pytest.fixture(scope="module")
def twins(originals: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 300 originals, and ``more/`` with the first TWINS names again (other pixels)."""
    src = tmp_path_factory.mktemp("twins") / "src"
    shutil.copytree(originals, src)
    (src / "more").mkdir()
    for i in range(TWINS):
        (src / "more" / f"img{i:03}.png").write_bytes(sample_png(64, 48, seed=1000 + i))
    return src


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
@pytest.mark.parametrize("seed", range(RUNS))
def test_under_rename_the_same_command_after_a_kill_writes_nothing_twice(
    twins: Path, tmp_path: Path, sig: signal.Signals, seed: int
) -> None:
    """Names repeated in the job and names already taken in the folder: a resumed job planned
    again from the names written, not those planned, and wrote some assets a second time."""
    rename = ("--on-conflict", "rename")
    calm = tmp_path / "calm"
    there = foreign(calm)
    assert run(command(twins, calm, MODIFIER, *rename)).returncode == 0
    reference = {name: path.read_bytes() for name, path in exports(calm).items()}
    assert len(reference) == COUNT + TWINS + len(there)

    out = tmp_path / "out"
    foreign(out)
    after = random.Random(seed * 11 + sig).randrange(1, COUNT - 20)
    start_and_kill(command(twins, out, MODIFIER, *rename), out, sig, len(there) + after)
    again = run(command(twins, out, MODIFIER, *rename))
    assert again.returncode == 0, again.stdout + again.stderr
    assert {name: path.read_bytes() for name, path in exports(out).items()} == reference
    assert temporaries(out) == []


def test_sigterm_stops_the_job_prints_its_log_and_exits_143(
    originals: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(  # noqa: S603
        command(originals, out, MODIFIER, "--json", "--workers", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not (out.is_dir() and exports(out)) and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode == 143  # the signal came after the first of 300 exports
    log = json.loads(stdout)
    assert log["state"] == "stopped"
    exported = {o["output_name"] for o in log["outcomes"] if o["status"] == "exported"}
    assert exported <= set(exports(out))
    journal = next((out / ".exportjob").iterdir())
    journaled = {
        json.loads(line)["output_name"] for line in journal.read_text().splitlines()[1:] if line
    }
    assert exported <= journaled


def logged(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {o["handle"]: o for o in json.loads(done.stdout)["outcomes"]}


@pytest.mark.parametrize("policy", ["error", "skip", "rename", "replace"])
def test_two_jobs_writing_the_same_names_into_one_folder(tmp_path: Path, policy: str) -> None:
    src = make_originals(tmp_path / "src", 60)
    versions: dict[str, dict[str, bytes]] = {}
    for modifier in ("&fmt=jpg&wid=32", "&fmt=jpg&wid=33"):
        out = tmp_path / f"ref{modifier[-2:]}"
        assert run(command(src, out, modifier)).returncode == 0
        versions[modifier] = {n: p.read_bytes() for n, p in exports(out).items()}
    out = tmp_path / "out"
    args = [command(src, out, modifier, "--on-conflict", policy, "--json") for modifier in versions]
    processes = [
        subprocess.Popen(a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
        for a in args
    ]
    results = []
    for process, a in zip(processes, args, strict=True):
        stdout, stderr = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(a, process.returncode, stdout, stderr))
    logs = [logged(r) for r in results]
    files = {n: p.read_bytes() for n, p in exports(out).items()}
    assert temporaries(out) == []

    for modifier, log in zip(versions, logs, strict=True):
        for handle, outcome in log.items():
            if outcome["status"] == "exported" and policy != "replace":
                # what a job says it exported is its own bytes (under replace, until the other's)
                expected = versions[modifier][Path(handle).with_suffix(".jpg").name]
                assert files[outcome["output_name"]] == expected
    if policy == "rename":
        assert len(files) == 120
        assert all(r.returncode == 0 for r in results)
        return
    assert sorted(files) == sorted(versions["&fmt=jpg&wid=32"])
    for name, data in files.items():  # every file is whole, and one job's
        assert data in {v[name] for v in versions.values()}
    if policy == "replace":
        assert all(r.returncode == 0 for r in results)
        return
    for handle in logs[0]:
        statuses = sorted(log[handle]["status"] for log in logs)
        loser = "failed" if policy == "error" else "skipped"
        assert statuses in (["exported", loser], ["exported", "exported"]), statuses
        if statuses == ["exported", loser]:
            assert (
                next(log[handle] for log in logs if log[handle]["status"] == loser)["code"]
                == "OUTPUT_EXISTS"
            )


def test_another_job_into_a_full_folder_fails_and_leaves_every_file_untouched(
    tmp_path: Path,
) -> None:
    src = make_originals(tmp_path / "src", 20)
    out = tmp_path / "out"
    assert run(command(src, out)).returncode == 0
    before = {
        n: (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns) for n, p in exports(out).items()
    }
    other = run(command(src, out, "&fmt=jpg&wid=40"))
    assert other.returncode == 1
    assert other.stdout.count("OUTPUT_EXISTS") == 20
    after = {
        n: (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns) for n, p in exports(out).items()
    }
    assert after == before

    restarted = run(
        command(src, out, MODIFIER, "--restart")
    )  # the same job afresh: identical bytes
    assert restarted.returncode == 0
    assert "20 exported" in restarted.stdout
