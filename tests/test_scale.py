"""Jobs at scale: streaming, bounded in-flight work, deterministic names, journals, conflicts, control."""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from exportjob import (
    Asset,
    AssetHandle,
    AssetProgress,
    AssetStatus,
    ConversionOutput,
    ExportEngine,
    ExportJob,
    ExportPlan,
    JobContext,
    JobState,
    MacroLibrary,
)
from exportjob.converters import CopyConverter
from exportjob.exceptions import JournalError, OutputExistsError
from exportjob.protocols import OnConflict, WrittenExport
from exportjob.stores import DirectoryStore, MemoryStore

ACME = JobContext(company="acme")


def stopping(engine: ExportEngine, when: Callable[[AssetProgress], bool] = lambda _: True):
    """A progress callback that stops the event's job once *when* says so.

    It finds the run through ``active_jobs``: the first event may come before ``submit`` returns.
    """

    def callback(event: AssetProgress) -> None:
        if when(event):
            for run in engine.active_jobs():
                if run.job_handle == event.job_handle:
                    run.stop()

    return callback


def orig_job(handles: Iterable[str]) -> ExportJob:
    return ExportJob(asset_handles=list(handles), fmt="orig")


def filled_store(count: int, *, names: Sequence[str] | None = None) -> MemoryStore:
    store = MemoryStore(default_company="acme")
    for i in range(count):
        name = names[i % len(names)] if names else f"f{i:04}.bin"
        store.add(f"h{i:04}", f"data {i}".encode(), file_name=name)
    return store


class SlowStore:
    """A store whose describes take a random time (seeded) and which counts what is in flight."""

    def __init__(self, inner: MemoryStore, seed: int, *, delay: float = 0.002) -> None:
        self.inner = inner
        self.random = random.Random(seed)
        self.delay = delay
        self.lock = threading.Lock()
        self.describing = 0
        self.most_describing = 0
        self.described: list[AssetHandle] = []

    def describe(self, handle: AssetHandle) -> Asset:
        with self.lock:
            self.describing += 1
            self.most_describing = max(self.most_describing, self.describing)
            pause = self.random.random() * self.delay
            self.described.append(handle)
        try:
            time.sleep(pause)
            return self.inner.describe(handle)
        finally:
            with self.lock:
                self.describing -= 1

    def file_name_of(self, handle: AssetHandle) -> str | None:
        return self.inner.file_name_of(handle)

    def open_original(self, handle: AssetHandle) -> AbstractContextManager[BinaryIO]:
        return self.inner.open_original(handle)

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        return self.inner.write_export(name, chunks, on_conflict=on_conflict)


@pytest.mark.parametrize("seed", range(4))
def test_output_names_are_assigned_in_job_order_whatever_the_timing(seed: int) -> None:
    names = ["a.bin", "A.bin", "b.bin", "a-2.bin", "a.bin"]
    store = SlowStore(filled_store(40, names=names), seed)
    with ExportEngine(store, CopyConverter(), workers=4) as engine:
        log = engine.run(orig_job(f"h{i:04}" for i in range(40)), ACME)
    reference = ExportEngine(filled_store(40, names=names), CopyConverter(), workers=1)
    with reference:
        expected = reference.run(orig_job(f"h{i:04}" for i in range(40)), ACME)
    assert [o.output_name for o in log.outcomes] == [o.output_name for o in expected.outcomes]
    assert len({o.output_name for o in log.outcomes}) == 40
    assert log.outcomes[0].output_name == "a.bin"
    assert log.outcomes[1].output_name == "A-3.bin"  # a-2.bin is kept for h0003, whose own it is
    assert log.outcomes[3].output_name == "a-2.bin"


def test_describes_run_concurrently_and_exports_start_before_the_last_describe() -> None:
    gate, entered = threading.Event(), threading.Event()
    inner = filled_store(30)

    class Store(SlowStore):
        def describe(self, handle: AssetHandle) -> Asset:
            if handle.value == "h0029":
                entered.set()
                assert gate.wait(timeout=30)
            return super().describe(handle)

    store = Store(inner, 0, delay=0.01)
    with ExportEngine(store, CopyConverter(), workers=2, describe_concurrency=8) as engine:
        run = engine.submit(orig_job(f"h{i:04}" for i in range(30)), ACME)
        deadline = time.monotonic() + 30
        while not (entered.is_set() and len(inner.opened) >= 5) and time.monotonic() < deadline:
            time.sleep(0.01)
        opened_while_the_last_describe_waits = len(inner.opened) if entered.is_set() else 0
        gate.set()
        log = run.result(timeout=60)
    assert log.counts.success == 30
    assert len(inner.opened) == 30
    assert 1 < store.most_describing <= 8
    # Planning everything before exporting would open nothing while the last describe waits.
    assert opened_while_the_last_describe_waits >= 5


def test_at_most_max_in_flight_assets_are_between_entering_and_ending() -> None:
    inner = filled_store(300)
    store = SlowStore(inner, 1, delay=0.0005)
    most: list[int] = []

    def progress(event: object) -> None:
        with store.lock:
            most.append(len(store.described) - len(log_done))
        log_done.append(event)

    log_done: list[object] = []
    with ExportEngine(store, CopyConverter(), workers=2, max_in_flight=10) as engine:
        log = engine.run(orig_job(f"h{i:04}" for i in range(300)), ACME, progress=progress)
    assert log.counts.success == 300
    assert max(most) <= 10


class BatchStore(SlowStore):
    """A store with ``describe_many``: one round trip for many handles."""

    def __init__(self, inner: MemoryStore, bad: Mapping[str, Exception] | None = None) -> None:
        super().__init__(inner, 0, delay=0)
        self.batches: list[int] = []
        self.bad = dict(bad or {})

    def describe(self, handle: AssetHandle) -> Asset:
        raise AssertionError("the engine should describe in batches")

    def describe_many(
        self, handles: Sequence[AssetHandle]
    ) -> Mapping[AssetHandle, Asset | Exception]:
        self.batches.append(len(handles))
        found: dict[AssetHandle, Asset | Exception] = {}
        for handle in handles:
            if handle.value in self.bad:
                found[handle] = self.bad[handle.value]
            elif handle.value.startswith("h"):
                found[handle] = self.inner.describe(handle)
        return found


def test_a_store_that_describes_in_batches_is_asked_in_batches() -> None:
    store = BatchStore(filled_store(100), bad={"h0007": OSError("row locked")})
    handles = [f"h{i:04}" for i in range(100)] + ["missing"]
    with ExportEngine(store, CopyConverter(), workers=2, max_in_flight=64) as engine:
        log = engine.run(orig_job(handles), ACME)
    assert sum(store.batches) == 101
    assert len(store.batches) <= 5
    assert log.outcome("missing").code == "ASSET_NOT_FOUND"
    assert log.outcome("h0007").code == "STORE_READ_FAILED"
    assert log.counts.success == 99


# -- journals and resume


def test_a_job_resumed_from_its_journal_exports_only_what_is_missing(tmp_path: Path) -> None:
    journal = tmp_path / "job.jsonl"
    store = filled_store(50)
    job = orig_job(f"h{i:04}" for i in range(50))

    with ExportEngine(store, CopyConverter(), workers=1) as engine:
        stop_after_20 = stopping(engine, lambda event: event.done >= 20)
        run = engine.submit(job, ACME, journal=journal, progress=stop_after_20)
        first = run.result(timeout=60)
    assert first.state is JobState.STOPPED
    done_first = {o.handle for o in first.outcomes if o.exported}
    assert 20 <= len(done_first) < 50
    opened_before = len(store.opened)

    with ExportEngine(store, CopyConverter(), workers=2) as engine:
        second = engine.run(job, ACME, journal=journal)
    assert second.state is JobState.COMPLETED
    assert second.counts.success == 50
    reopened = set(store.opened[opened_before:])
    assert reopened.isdisjoint(done_first)  # nothing exported twice
    assert len(reopened) == 50 - len(done_first)
    assert [o.output_name for o in second.outcomes] == [f"f{i:04}.bin" for i in range(50)]

    with ExportEngine(store, CopyConverter()) as engine:
        third = engine.run(job, ACME, journal=journal)
    assert third.counts.success == 50
    assert len(store.opened) == opened_before + len(reopened)  # a completed job opens nothing


def test_a_finished_job_run_again_never_waits_for_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its assets all come from the journal: nothing ends, so nothing would wake the coordinator
    # for the next window of them but its poll (0.5 s per window of max_in_flight; an hour here).
    journal = tmp_path / "job.jsonl"
    store = filled_store(30)
    job = orig_job(f"h{i:04}" for i in range(30))
    with ExportEngine(store, CopyConverter(), max_in_flight=2) as engine:
        assert engine.run(job, ACME, journal=journal).counts.success == 30
    monkeypatch.setattr("exportjob._pipeline._POLL_SECONDS", 3600.0)
    with ExportEngine(store, CopyConverter(), max_in_flight=2) as engine:
        run = engine.submit(job, ACME, journal=journal)
        try:
            log = run.result(timeout=60)
        finally:
            run.stop()
    assert log.counts.success == 30
    assert [o.output_name for o in log.outcomes] == [f"f{i:04}.bin" for i in range(30)]


def test_a_journal_keeps_names_of_resumed_assets_so_later_names_do_not_shift(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "job.jsonl"
    store = filled_store(6, names=["same.bin"])
    job = orig_job(f"h{i:04}" for i in range(6))
    with ExportEngine(store, CopyConverter(), workers=1) as engine:
        run = engine.submit(job, ACME, journal=journal, progress=stopping(engine))
        run.result(timeout=60)
    with ExportEngine(store, CopyConverter()) as engine:
        log = engine.run(job, ACME, journal=journal)
    assert [o.output_name for o in log.outcomes] == [
        "same.bin",
        "same-2.bin",
        "same-3.bin",
        "same-4.bin",
        "same-5.bin",
        "same-6.bin",
    ]


def test_a_journal_of_another_job_is_refused_before_anything_runs(tmp_path: Path) -> None:
    journal = tmp_path / "job.jsonl"
    store = filled_store(3)
    with ExportEngine(store, CopyConverter()) as engine:
        engine.run(orig_job(["h0000"]), ACME, journal=journal)
        with pytest.raises(JournalError, match="another job") as info:
            engine.run(orig_job(["h0000", "h0001"]), ACME, journal=journal)
    assert info.value.code == "JOURNAL_INVALID"
    assert store.opened == (AssetHandle("h0000"),)


def test_a_line_torn_by_a_crash_is_ignored_and_the_rest_is_kept(tmp_path: Path) -> None:
    journal = tmp_path / "job.jsonl"
    store = filled_store(3)
    job = orig_job(["h0000", "h0001", "h0002"])
    with ExportEngine(store, CopyConverter()) as engine:
        engine.run(job, ACME, journal=journal)
    lines = journal.read_text().splitlines()
    torn = AssetHandle(json.loads(lines[-1])["handle"])
    journal.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:25])  # the last record torn
    with ExportEngine(store, CopyConverter()) as engine:
        log = engine.run(job, ACME, journal=journal)
    assert log.counts.success == 3
    assert len(store.opened) == 4
    assert store.opened[-1] == torn  # only the torn one ran again
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sorted(r["handle"] for r in records[1:]) == ["h0000", "h0001", "h0002"]


def test_not_a_journal_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "notes.txt"
    journal.write_text("my notes\n")
    with ExportEngine(filled_store(1), CopyConverter()) as engine, pytest.raises(JournalError):
        engine.run(orig_job(["h0000"]), ACME, journal=journal)
    assert journal.read_text() == "my notes\n"


# -- conflicts


@pytest.mark.parametrize(
    ("policy", "status", "code", "kept", "name"),
    [
        ("error", AssetStatus.FAILED, "OUTPUT_EXISTS", b"theirs", "f0000.bin"),
        ("skip", AssetStatus.SKIPPED, "OUTPUT_EXISTS", b"theirs", "f0000.bin"),
        ("replace", AssetStatus.EXPORTED, None, b"data 0", "f0000.bin"),
        ("rename", AssetStatus.EXPORTED, None, b"theirs", "f0000-2.bin"),
    ],
)
def test_an_existing_output_is_handled_as_the_policy_says(
    policy: str, status: AssetStatus, code: str | None, kept: bytes, name: str
) -> None:
    store = filled_store(2)
    store.add_export("f0000.bin", b"theirs")
    with ExportEngine(store, CopyConverter(), on_conflict=policy) as engine:
        log = engine.run(orig_job(["h0000", "h0001"]), ACME)
    outcome = log.outcome("h0000")
    assert (outcome.status, outcome.code, outcome.output_name) == (status, code, name)
    assert store.read_export("f0000.bin") == kept
    assert log.outcome("h0001").exported
    assert log.ok is (policy != "error")
    assert log.counts.skipped == (1 if policy == "skip" else 0)
    if policy == "rename":
        assert store.read_export("f0000-2.bin") == b"data 0"


@pytest.mark.parametrize("kind", ["memory", "directory"])
@pytest.mark.parametrize(
    ("policy", "says"),
    [
        pytest.param(
            "skip",
            "skipped: a/f0000.bin already exists in the export area and was not written by this "
            "job; it was left untouched (the conflict policy is skip)",
            id="skip",
        ),
        pytest.param(
            "error",
            "it was left untouched (choose another conflict policy to replace, rename or skip it)",
            id="error",
        ),
    ],
)
def test_a_name_taken_says_what_became_of_the_asset(
    kind: str, policy: str, says: str, tmp_path: Path
) -> None:
    """The ``skip`` warning of a skipped asset said to "choose another conflict policy to replace,
    rename or skip it"."""
    if kind == "memory":
        store: MemoryStore | DirectoryStore = MemoryStore(default_company="acme")
        store.add("a/f0000.bin", b"data 0", file_name="f0000.bin")
        store.add_export("a/f0000.bin", b"theirs")
    else:
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "a").mkdir()
        (tmp_path / "src" / "a" / "f0000.bin").write_bytes(b"data 0")
        (tmp_path / "out" / "a").mkdir(parents=True)
        (tmp_path / "out" / "a" / "f0000.bin").write_bytes(b"theirs")
        store = DirectoryStore(tmp_path / "src", tmp_path / "out", default_company="acme")
    with ExportEngine(store, CopyConverter(), on_conflict=policy, keep_folders=True) as engine:
        log = engine.run(orig_job(["a/f0000.bin"]), ACME)
    message = log.outcome("a/f0000.bin").message or ""
    assert says in message
    assert ("choose another" in message) is (policy == "error")


def test_an_output_that_already_holds_exactly_the_export_counts_as_exported() -> None:
    store = filled_store(1)
    store.add_export("f0000.bin", b"data 0")
    with ExportEngine(store, CopyConverter()) as engine:
        log = engine.run(orig_job(["h0000"]), ACME)
    assert log.outcome("h0000").exported
    assert log.ok


def test_an_unknown_conflict_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="on_conflict must be one of error, skip, replace, rename"):
        ExportEngine(filled_store(1), CopyConverter(), on_conflict="overwrite")


@pytest.mark.parametrize("policy", [OnConflict.ERROR, OnConflict.SKIP, OnConflict.RENAME])
def test_writers_racing_for_one_name_never_replace_each_other(
    tmp_path: Path, policy: OnConflict
) -> None:
    (tmp_path / "src").mkdir()
    store = DirectoryStore(tmp_path / "src", tmp_path / "out")
    start = threading.Barrier(8)
    results: list[WrittenExport | Exception] = []

    def write(i: int) -> None:
        start.wait()
        try:
            results.append(
                store.write_export("x.jpg", [f"writer {i} ".encode() * 1000], on_conflict=policy)
            )
        except OutputExistsError as exc:
            results.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    written = [r for r in results if isinstance(r, WrittenExport)]
    files = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    if policy is OnConflict.RENAME:
        assert len(written) == 8
        assert len(files) == 8
        assert sorted(w.name for w in written) == sorted(files)
    else:
        assert len(written) == 1
        assert list(files) == ["x.jpg"]
        winner = written[0]
        assert files["x.jpg"] == Path(winner.location).read_bytes()
        assert all(isinstance(r, OutputExistsError) for r in results if r is not winner)
    assert all(len(data) == 9000 or len(data) == 10000 for data in files.values())


# -- job control


class GatedCopy:
    """Copies originals; every conversion waits for the gate, and says it got there."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.arrived = threading.Semaphore(0)
        self.converted: list[str] = []
        self.lock = threading.Lock()

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        self.arrived.release()
        assert self.gate.wait(timeout=30)
        with self.lock:
            self.converted.append(plan.handle.value)
        return CopyConverter().convert(source, plan)


def test_pause_starts_nothing_new_and_resume_finishes_the_job() -> None:
    store = filled_store(20)
    converter = GatedCopy()
    with ExportEngine(store, converter, workers=2) as engine:
        run = engine.submit(orig_job(f"h{i:04}" for i in range(20)), ACME)
        assert converter.arrived.acquire(timeout=30)
        assert converter.arrived.acquire(timeout=30)
        assert engine.active_jobs() == (run,)
        run.pause()
        assert run.status is JobState.PAUSED
        converter.gate.set()  # the two in flight finish
        deadline = time.monotonic() + 30
        while run.progress[0] < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        assert run.progress == (2, 20)
        assert len(store.opened) == 2
        snapshot = run.snapshot()
        assert snapshot.counts.success == 2
        assert snapshot.counts.not_run == 18
        run.resume()
        log = run.result(timeout=60)
    assert log.state is JobState.COMPLETED
    assert log.counts.success == 20
    assert engine.active_jobs() == ()


@pytest.mark.parametrize("seed", range(3))
def test_stop_at_a_random_point_records_exact_counts(seed: int) -> None:
    rng = random.Random(seed)
    store = filled_store(60)
    stop_at = rng.randrange(1, 50)
    with ExportEngine(store, CopyConverter(), workers=2) as engine:
        run = engine.submit(
            orig_job(f"h{i:04}" for i in range(60)),
            ACME,
            progress=stopping(engine, lambda e: e.done >= stop_at),
        )
        log = run.result(timeout=60)
    exported = {o.handle for o in log.outcomes if o.exported}
    assert log.counts.success == len(exported) >= stop_at
    assert log.counts.success + log.counts.not_run == 60
    assert set(store.exports) == {f"f{int(h.value[1:]):04}.bin" for h in exported}
    assert set(store.opened) == exported
    if log.counts.not_run:
        assert log.state is JobState.STOPPED


@pytest.mark.parametrize(
    "controls",
    [
        pytest.param(("pause", "stop"), id="stop-while-paused"),
        # Stopped wins: a resume() after stop() (and a pause in between) leaves the job halted.
        pytest.param(("stop", "pause", "resume"), id="resume-after-stop"),
    ],
)
def test_a_stop_ends_the_job_stopped_whatever_comes_around_it(controls: tuple[str, ...]) -> None:
    store = filled_store(10)
    converter = GatedCopy()
    with ExportEngine(store, converter, workers=1) as engine:
        run = engine.submit(orig_job(f"h{i:04}" for i in range(10)), ACME)
        assert converter.arrived.acquire(timeout=30)
        for control in controls:
            getattr(run, control)()
        assert run.stop_requested
        assert run.paused is (controls[-1] == "pause")
        converter.gate.set()
        log = run.result(timeout=60)
    assert log.state is JobState.STOPPED
    assert (log.counts.success, log.counts.not_run) == (1, 9)
    assert len(store.opened) == 1


class _Interrupting:
    """A tracer that runs *control* on *run* once, before the *at*-th bytecode of *codes*."""

    def __init__(self, run: Any, control: str, codes: set[Any], at: int) -> None:
        self.run, self.control, self.codes, self.at = run, control, codes, at
        self.steps = 0

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code not in self.codes:
            return None
        frame.f_trace_opcodes = True
        return self.opcode

    def opcode(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "opcode":
            self.steps += 1
            if self.steps == self.at:
                getattr(self.run, self.control)()
        return self.opcode


def _controls_interrupted(first: str, second: str) -> list[tuple[bool, bool, bool]]:
    """Run *first* on a new run, with *second* run once (as a signal handler would) at each of
    the bytecodes *first* executes in turn; (halted, stopped, paused) after each."""
    from exportjob._run import JobRun  # noqa: PLC0415 - white-box: the run's own flag

    codes = {getattr(JobRun, first).__code__, JobRun._update_halted.__code__}
    seen: list[tuple[bool, bool, bool]] = []
    for at in range(1, 200):
        run = JobRun("j", orig_job(["h0000"]), ACME)
        if first == "resume":
            run.pause()
        tracer = _Interrupting(run, second, codes, at)
        sys.settrace(tracer)
        try:
            getattr(run, first)()
        finally:
            sys.settrace(None)
        seen.append((run._halted, run.stop_requested, run.paused))
        if at > tracer.steps:  # every bytecode has had its turn
            return seen
    return seen


@pytest.mark.parametrize(
    ("first", "second"),
    [("resume", "stop"), ("pause", "stop"), ("pause", "resume"), ("resume", "pause")],
)
def test_a_control_that_comes_in_the_middle_of_another_is_never_lost(
    first: str, second: str
) -> None:
    # A stop() from a signal handler between resume()'s reading of the stop and its writing of
    # the run's one flag was lost: the job was stopped, and went on starting assets.
    for halted, stopped, paused in _controls_interrupted(first, second):
        assert halted is (stopped or paused)


def test_the_journal_key_follows_what_decides_the_exports() -> None:
    store = filled_store(1)
    job = ExportJob(asset_handles=["h0000"], fmt="convert", macro="$thumb$")
    keys = set()
    for definition in ("wid=100", "wid=200"):
        with ExportEngine(store, macros=MacroLibrary({"thumb": definition})) as engine:
            keys.add(engine.journal_key(job))
            assert engine.journal_key(job) == engine.journal_key(job)
    library = MacroLibrary({"thumb": "wid=100"})
    with ExportEngine(store, macros=library, on_conflict="replace") as engine:
        keys.add(engine.journal_key(job))
    other = ExportJob(asset_handles=["h0000", "h0001"], fmt="convert", macro="$thumb$")
    with ExportEngine(store, macros=library) as engine:
        keys.add(engine.journal_key(other))
        # The company decides which assets may be exported: another's run is another job.
        assert engine.journal_key(job, ACME) == engine.journal_key(job, JobContext(company="acme"))
        keys.add(engine.journal_key(job, ACME))
        keys.add(engine.journal_key(job, JobContext(company="other")))
    assert len(keys) == 6


@pytest.mark.parametrize("seed", range(5))
def test_an_asset_planned_after_a_stop_is_never_started(seed: int) -> None:
    store = filled_store(8)
    store.add("set", None, type="ImageSet", file_name="views")
    rng = random.Random(seed)
    handles = ["set", *(f"h{i:04}" for i in rng.sample(range(8), 8))]
    with ExportEngine(store, CopyConverter(), workers=1) as engine:
        run = engine.submit(orig_job(handles), ACME, progress=stopping(engine))
        log = run.result(timeout=60)
    assert log.outcome("set").status is AssetStatus.REFUSED
    assert store.opened == ()  # the stop came with the first event: nothing may start after it
    assert log.counts.not_run == 8


class HoldsOne:
    """Copies originals at once, but one of them waits until every other one was exported."""

    def __init__(self, held: str, others: int) -> None:
        self.held = held
        self.others = others
        self.exported = threading.Semaphore(0)

    def convert(self, source: BinaryIO, plan: ExportPlan) -> ConversionOutput:
        if plan.handle.value == self.held:
            for _ in range(self.others):
                assert self.exported.acquire(timeout=30), "the other assets waited for this one"
        return CopyConverter().convert(source, plan)


@pytest.mark.parametrize("held", [0, 40, 299])
def test_one_slow_asset_among_quick_ones_holds_up_no_other(held: int) -> None:
    # Quick assets run on one worker thread at a time; a slow one gets another worker beside it.
    handles = [f"h{i:04}" for i in range(300)]
    converter = HoldsOne(handles[held], len(handles) - 1)

    def count(event: AssetProgress) -> None:
        if event.outcome.handle.value != converter.held:
            converter.exported.release()

    with ExportEngine(filled_store(300), converter, workers=4) as engine:
        log = engine.run(orig_job(handles), ACME, progress=count)
    assert log.counts.success == 300


def test_one_worker_commits_its_journal_as_it_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With workers=1 the coordinator runs the worker's loop itself and never reached its time
    # tick: a job of slow assets killed after minutes had journaled nothing (its next run
    # redid everything). The commit falls due when an asset is recorded, too.
    monkeypatch.setattr("exportjob._ledger._COMMIT_SECONDS", 0.0)  # every asset is due
    journal = tmp_path / "job.jsonl"
    store = filled_store(3)
    lines: list[int] = []

    def count(event: AssetProgress) -> None:
        lines.append(len(journal.read_text().splitlines()))

    with ExportEngine(store, CopyConverter(), workers=1) as engine:
        log = engine.run(
            orig_job(f"h{i:04}" for i in range(3)), ACME, journal=journal, progress=count
        )
    assert log.counts.success == 3
    assert lines == [2, 3, 4]  # the header, then one line per asset as it ends
