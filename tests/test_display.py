"""Rich display: escaped, bounded HTML for jobs and plans."""

from __future__ import annotations

import pickle
import re

from exportjob import (
    Asset,
    ExportEngine,
    ExportJob,
    JobContext,
    JobLog,
    JobPlan,
    MacroLibrary,
    plan_exports,
)
from exportjob.converters import CopyConverter
from exportjob.joblog import LogView
from exportjob.stores import MemoryStore
from exportjob.testing import sample_jpeg, sample_png

EVIL = '<script>alert("x")</script>'

#: Tables show this many rows and say how many they left out (docs/jupyter.md).
SHOWN_ROWS = 50


def test_job_html_escapes_user_data_and_marks_duplicates() -> None:
    job = ExportJob(asset_handles=[EVIL, "b", EVIL], fmt="orig", client_id="c")
    out = job._repr_html_()
    assert "<script>" not in out
    assert "&lt;script&gt;" in out
    assert "1 duplicate(s)" in out
    assert out.count('class="warning"') == 1


def test_job_html_is_bounded_for_thousands_of_assets() -> None:
    job = ExportJob(asset_handles=[f"h{i}" for i in range(5000)], fmt="orig")
    out = job._repr_html_()
    assert out.count("<tr>") + out.count("<tr ") == SHOWN_ROWS + 1  # header row + first rows
    assert f"and {5000 - SHOWN_ROWS} more" in out
    assert len(out) < 20_000


def test_plan_html_shows_refusals_as_errors_escaped() -> None:
    asset = Asset(handle="h", type="ImageSet", name=EVIL, file_name=EVIL + ".jpg", company="c")
    plan = plan_exports([asset], ExportJob(asset_handles=["h"], fmt="orig"))[0]
    out = plan._repr_html_()
    assert 'class="error"' in out
    assert "image set" in out
    assert "<script>" not in out


def test_plans_html_summarises_counts() -> None:
    assets = [
        Asset(
            handle=f"h{i}",
            type="ImageSet" if i % 3 == 0 else "Image",
            name="n",
            file_name=f"f{i}.jpg",
            company="c",
        )
        for i in range(9)
    ]
    job = ExportJob(asset_handles=[a.handle for a in assets], fmt="orig", macro="$x$")
    plans = [plan_exports([a], job)[0] for a in assets]
    out = JobPlan(plans=tuple(plans))._repr_html_()
    assert "9 asset(s): 6 accepted, 3 refused, 6 with warnings" in out


def _run_mixed_job() -> tuple[JobPlan, JobLog]:
    plan, log, _ = _run_mixed_job_in_store()
    return plan, log


def _run_mixed_job_in_store() -> tuple[JobPlan, JobLog, MemoryStore]:
    store = MemoryStore(default_company="acme")
    store.add("a|1", sample_jpeg(320, 200, seed=1), file_name="harbour.jpg")
    store.add("a|2", sample_png(64, 64, seed=2), file_name=EVIL + ".png")
    store.add("a|3", None, type="ImageSet", file_name="spring")
    store.add("a|4", sample_jpeg(64, 64, seed=3), file_name="rival.jpg", company="rival")
    job = ExportJob(
        asset_handles=["a|1", "a|2", "a|3", "a|4", "a|5", "a|1"],
        fmt="convert",
        is_modifier="&wid=40",
        macro="$web$",
    )
    engine = ExportEngine(store, macros=MacroLibrary({"web": "fmt=png"}))
    with engine:
        plan = engine.plan(job, JobContext(company="acme"))
        log = engine.run(job, JobContext(company="acme"))
    return plan, log, store


def test_engine_plan_shows_what_run_would_do_without_reading_originals() -> None:
    plan, log = _run_mixed_job()
    assert repr(plan) == "<JobPlan 2 accepted, 2 refused, 1 not found, 1 duplicate(s)>"
    out = plan._repr_html_()
    assert "1 handle(s) could not be described" in out
    assert "<script>" not in out
    assert [p.output_name for p in plan.accepted] == [
        o.output_name for o in log.outcomes if o.exported
    ]


def test_log_html_has_escaped_rows_and_inline_thumbnails_of_exports() -> None:
    _, log, store = _run_mixed_job_in_store()
    out = LogView(log, store)._repr_html_()
    assert out.count("<img") == 2
    assert out.count('class="error"') == 3
    assert "<script>" not in out
    assert "&lt;script&gt;" in out
    assert "40x" in out  # the converted size is shown
    assert "DUPLICATE_HANDLE: a|1 is listed more than once" in out


def test_a_log_is_data_and_shows_thumbnails_only_through_its_store() -> None:
    _, log, store = _run_mixed_job_in_store()
    back = pickle.loads(pickle.dumps(log))
    assert back == log
    assert "<img" not in back._repr_html_()
    assert LogView(back, store)._repr_html_().count("<img") == 2


def test_a_finished_job_run_displays_its_log_with_thumbnails() -> None:
    store = MemoryStore(default_company="acme")
    store.add("a|1", sample_jpeg(320, 200, seed=1), file_name="harbour.jpg")
    job = ExportJob(asset_handles=["a|1"], fmt="convert", is_modifier="&wid=40&fmt=png")
    with ExportEngine(store) as engine:
        run = engine.submit(job, JobContext(company="acme"))
        run.result(timeout=60)
    out = run._repr_html_()
    assert out.count("<img") == 1
    assert "harbour.png" in out


def test_log_html_is_bounded_for_big_jobs() -> None:

    store = MemoryStore(default_company="acme")
    for i in range(300):
        store.add(f"h{i}", b"data", file_name=f"f{i}.bin")
    job = ExportJob(asset_handles=[f"h{i}" for i in range(300)], fmt="orig")
    with ExportEngine(store, converter=CopyConverter()) as engine:
        log = engine.run(job, JobContext(company="acme"))
    out = log._repr_html_()
    assert f"and {300 - SHOWN_ROWS} more" in out
    assert out.count("<tr") == SHOWN_ROWS + 1


def test_plans_html_is_bounded_for_big_jobs() -> None:
    assets = [
        Asset(handle=f"h{i}", type="Image", name="n", file_name=f"f{i}.jpg", company="c")
        for i in range(120)
    ]
    plans = plan_exports(assets, ExportJob(asset_handles=[a.handle for a in assets], fmt="orig"))
    out = JobPlan(plans=plans)._repr_html_()
    assert "120 asset(s): 120 accepted, 0 refused, 0 with warnings" in out
    assert f"and {120 - SHOWN_ROWS} more (showing the first {SHOWN_ROWS})" in out
    assert out.count("<tr") == SHOWN_ROWS + 1


def _log_of_120_with_failures_late() -> JobLog:
    store = MemoryStore(default_company="acme")
    handles = []
    for i in range(120):
        handle = f"h{i:03}"
        handles.append(handle)
        if i not in {105, 110}:  # these two are not in the store: ASSET_NOT_FOUND
            name = "same.jpg" if i in {60, 61} else f"p{i}.jpg"  # 61 gets a renamed output
            store.add(handle, sample_jpeg(4, 4), file_name=name)
    job = ExportJob(asset_handles=handles, fmt="orig", is_modifier="&wid=10")  # a job-level warning
    with ExportEngine(store, CopyConverter()) as engine:
        return engine.run(job, JobContext(company="acme"))


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.split("</tr>")[:-1]


def test_the_log_view_shows_problems_first_errors_then_warnings() -> None:
    """In a 120-asset job, the failures at rows 105 and 110 are the first rows shown."""
    html = LogView(_log_of_120_with_failures_late())._repr_html_()
    rows = _rows(html)
    assert len(rows) == SHOWN_ROWS
    assert "h105" in rows[0]
    assert "h110" in rows[1]
    assert 'class="error"' in rows[0]
    assert 'class="error"' in rows[1]
    assert "h061" in rows[2]  # its own warning (the renamed output) next
    assert 'class="warning"' in rows[2]
    assert "h000" in rows[3]  # then the rest, in job order


def test_the_header_counts_the_job_level_warning_it_lists() -> None:
    log = _log_of_120_with_failures_late()
    html = LogView(log)._repr_html_()
    summary = html.split('<div class="summary">', 1)[1].split("<table>", 1)[0]
    assert "ignored with fmt=orig" in summary  # listed once, at job level
    assert "1 job-level warning(s)" in summary
    assert "1 asset(s) with warnings" in summary
    assert summary.count("<li>") == 1


def test_the_tables_are_left_aligned_and_sizes_do_not_wrap() -> None:
    html = LogView(_log_of_120_with_failures_late())._repr_html_()
    assert "text-align:left!important" in html
    assert "td.nowrap{white-space:nowrap}" in html
    exported = next(row for row in _rows(html) if "h000" in row)
    assert re.search(r"<td class='nowrap'>[\d,]+ B</td>", exported)
    assert "ignored with fmt=orig" not in exported  # the job's warning is in the header only


def test_a_job_without_a_macro_shows_no_macro_cell() -> None:
    html = ExportJob(asset_handles=["a"], fmt="convert", is_modifier="&wid=10")._repr_html_()
    assert "macro=" not in html
    assert "is_modifier=<code>&amp;wid=10</code>" in html
    assert (
        "macro=<code>$m$</code>"
        in ExportJob(asset_handles=["a"], fmt="convert", macro="$m$")._repr_html_()
    )
