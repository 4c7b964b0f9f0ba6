"""Work units cross process boundaries: a real job on a process pool and on a Dask LocalCluster."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from exportjob import (
    AssetHandle,
    AssetStatus,
    ExportEngine,
    ExportJob,
    JobContext,
    JobLog,
    JobState,
    plan_exports,
)
from exportjob.converters import CopyConverter
from exportjob.stores import DirectoryStore, MemoryStore
from tests.cluster import local_client


def make_folder(root: Path, count: int) -> DirectoryStore:
    src = root / "src"
    src.mkdir()
    for i in range(count):
        (src / f"asset-{i:02}.bin").write_bytes(f"original {i} ".encode() * (i + 1))
    (src / "exportjob.json").write_text(
        '{"assets": {"asset-00.bin": {"company": "rival"}, "set": {"type": "SpinSet"}}}'
    )
    return DirectoryStore(src, root / "out", default_company="acme")


def check(log: JobLog, store: DirectoryStore, count: int) -> None:
    assert log.state is JobState.COMPLETED
    assert (log.counts.success, log.counts.error, log.counts.total) == (count - 1, 2, count + 1)
    assert log.outcome("asset-00.bin").code == "NOT_AUTHORIZED"
    assert log.outcome("set").code == "UNSUPPORTED_ASSET_TYPE"
    for i in range(1, count):
        name = f"asset-{i:02}.bin"
        assert (store.output_dir / name).read_bytes() == (store.source_dir / name).read_bytes()
        assert log.outcome(name).location == str(store.output_dir / name)
    assert not (store.output_dir / "asset-00.bin").exists()


def test_work_unit_and_its_arguments_pickle(tmp_path: Path) -> None:
    """What a work unit carries (store, converter, plan) pickles, and a spawned worker runs it."""
    store = make_folder(tmp_path, 2)
    asset = store.describe(AssetHandle("asset-01.bin"))
    job = ExportJob(asset_handles=["asset-01.bin"], fmt="orig")
    [plan] = plan_exports([asset], job)
    assert pickle.loads(pickle.dumps(plan)) == plan
    store, converter = pickle.loads(pickle.dumps((store, CopyConverter())))
    assert store.describe(AssetHandle("asset-01.bin")) == asset
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(1, mp_context=context) as pool,
        ExportEngine(store, converter, executor=pool) as engine,
    ):
        log = engine.run(job, JobContext(company="acme"))
    outcome = log.outcome("asset-01.bin")
    assert outcome.status is AssetStatus.EXPORTED
    assert outcome.output_name == plan.output_name
    assert pickle.loads(pickle.dumps(outcome)) == outcome
    assert pickle.loads(pickle.dumps(log)) == log


def test_a_job_runs_on_a_process_pool(tmp_path: Path) -> None:
    count = 8
    store = make_folder(tmp_path, count)
    job = ExportJob(asset_handles=[h.value for h in store.handles()], fmt="orig")
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(2, mp_context=context) as pool,
        ExportEngine(store, CopyConverter(), executor=pool) as engine,
    ):
        log = engine.run(job, JobContext(company="acme"))
    check(log, store, count)


def test_a_memory_store_on_a_process_pool_fails_each_asset_clearly() -> None:
    store = MemoryStore(default_company="acme")
    store.add("a", b"%PDF-1.4", file_name="a.pdf")
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(1, mp_context=context) as pool,
        ExportEngine(store, CopyConverter(), executor=pool) as engine,
    ):
        log = engine.run(ExportJob(asset_handles=["a"], fmt="orig"), JobContext(company="acme"))
    outcome = log.outcome("a")
    assert outcome.code == "WORKER_FAILED"
    assert "DirectoryStore" in (outcome.message or "")


def test_a_job_runs_on_a_dask_local_cluster(tmp_path: Path) -> None:
    count = 6
    store = make_folder(tmp_path, count)
    job = ExportJob(asset_handles=[h.value for h in store.handles()], fmt="orig")
    with (
        local_client() as client,
    ):
        with ExportEngine(store, CopyConverter(), executor=client.get_executor()) as engine:
            log = engine.run(job, JobContext(company="acme"))
        workers = set(client.scheduler_info()["workers"])
    assert len(workers) == 2
    check(log, store, count)
