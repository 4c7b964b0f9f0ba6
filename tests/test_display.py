"""Rich display: escaped, bounded HTML for jobs and plans."""

from __future__ import annotations

from exportjob import Asset, ExportJob, plan_export
from exportjob._display import MAX_ROWS, plans_html

EVIL = '<script>alert("x")</script>'


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
    assert out.count("<tr>") + out.count("<tr ") == MAX_ROWS + 1  # header row + first rows
    assert f"and {5000 - MAX_ROWS} more" in out
    assert len(out) < 20_000


def test_plan_html_shows_refusals_as_errors_escaped() -> None:
    asset = Asset(handle="h", type="ImageSet", name=EVIL, file_name=EVIL + ".jpg", company="c")
    plan = plan_export(asset, ExportJob(asset_handles=["h"], fmt="orig"))
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
    plans = [plan_export(a, job) for a in assets]
    out = plans_html(plans)
    assert "9 asset(s): 6 accepted, 3 refused, 6 with warnings" in out
