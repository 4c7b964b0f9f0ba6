"""The tqdm progress callback."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys

import pytest

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


_IN_A_KERNEL_WITHOUT_IPYWIDGETS = """
import io, sys, types
import IPython  # the kernel's IPython, which tqdm.auto asks what runs it
sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")  # what a kernel imports
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from exportjob.progress import TqdmProgress
    TqdmProgress(file=io.StringIO())
print([f"{w.category.__name__}: {w.message}" for w in caught])
"""


def test_in_a_notebook_without_ipywidgets_the_bar_is_text_and_quiet() -> None:
    """No red ``TqdmWarning`` when the kernel has no ipywidgets: a text bar, quietly."""
    pytest.importorskip("IPython")
    if importlib.util.find_spec("ipywidgets") is not None:
        pytest.skip("ipywidgets is installed here")
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", _IN_A_KERNEL_WITHOUT_IPYWIDGETS],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"  # no TqdmWarning, no other warning
