"""The tqdm progress callback."""

from __future__ import annotations

import io

from exportjob import ExportEngine, ExportJob, JobContext
from exportjob.converters import CopyConverter
from exportjob.progress import TqdmProgress
from exportjob.stores import MemoryStore


def test_tqdm_bar_counts_every_asset_and_problems() -> None:
    store = MemoryStore(default_company="acme")
    for i in range(5):
        store.add(f"h{i}", b"x" * i or b"0", file_name=f"f{i}.bin")
    store.add("set", None, type="SpinSet")
    out = io.StringIO()
    progress = TqdmProgress(file=out, notebook=False, mininterval=0)
    job = ExportJob(asset_handles=[*(f"h{i}" for i in range(5)), "set", "missing"], fmt="orig")
    with ExportEngine(store, converter=CopyConverter(), progress=progress) as engine:
        log = engine.run(job, JobContext(company="acme"))
    text = out.getvalue()
    assert "7/7" in text
    assert "errors=2" in text
    assert log.counts.success == 5
    assert repr(progress) == "<TqdmProgress with 0 open bar(s)>"
