"""Rich display for Jupyter: bounded, escaped HTML tables for jobs, plans and job logs.

Every string shown is user data (asset names, messages), so everything goes through ``html.escape``.
Tables show a summary and the first ``MAX_ROWS`` rows, so a job of thousands of assets stays small.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import attrs

from ._records import LogType, Severity

if TYPE_CHECKING:
    from ._assets import AssetHandle
    from ._job import ExportJob
    from ._log import JobLog
    from ._records import AssetOutcome
    from .plans import ExportPlan, Refusal
    from .protocols import ExportReader

__all__ = [
    "MAX_ROWS",
    "MAX_THUMBNAILS",
    "LogView",
    "html_table",
    "job_html",
    "log_html",
    "plan_html",
    "plans_html",
    "thumbnail_img",
]

MAX_ROWS = 50
MAX_THUMBNAILS = 12
THUMB_SIZE = 96

_STYLE = (
    "<style>"
    ".exportjob table{border-collapse:collapse;font-size:12px}"
    # !important: notebook front ends right-align table cells with more specific selectors.
    ".exportjob th,.exportjob td{border:1px solid #ccc;padding:2px 6px;text-align:left!important;"
    "vertical-align:top}"
    ".exportjob td.nowrap{white-space:nowrap}"
    ".exportjob tr.error td{background:#fde2e1}"
    ".exportjob tr.warning td{background:#fff4ce}"
    ".exportjob .summary{margin:4px 0}"
    "</style>"
)


def esc(value: object) -> str:
    """Escape *value* for HTML (``None`` shows as an empty cell)."""
    return "" if value is None else html.escape(str(value), quote=True)


def html_table(
    headers: Sequence[str],
    rows: Iterable[tuple[Sequence[str], str]],
    *,
    total: int,
    max_rows: int = MAX_ROWS,
    raw_columns: frozenset[int] = frozenset(),
    nowrap_columns: frozenset[int] = frozenset(),
) -> str:
    """Render at most *max_rows* rows (each ``(cells, css_class)``) and say how many were left out.

    Cells are escaped except the columns in *raw_columns*, which hold HTML built here (thumbnails);
    cells of *nowrap_columns* (sizes) never wrap.
    """
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body: list[str] = []
    for i, (cells, css) in enumerate(rows):
        if i >= max_rows:
            break
        tds = "".join(
            ("<td class='nowrap'>" if j in nowrap_columns else "<td>")
            + f"{cell if j in raw_columns else esc(cell)}</td>"
            for j, cell in enumerate(cells)
        )
        cls = f' class="{esc(css)}"' if css else ""
        body.append(f"<tr{cls}>{tds}</tr>")
    more = ""
    if total > max_rows:
        more = f'<div class="summary">… and {total - max_rows} more (showing the first {max_rows})</div>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def wrap(title: str, summary: str, table: str) -> str:
    """Wrap a titled block in the styled container."""
    return (
        f'{_STYLE}<div class="exportjob"><strong>{esc(title)}</strong>'
        f'<div class="summary">{summary}</div>{table}</div>'
    )


def job_html(job: ExportJob) -> str:
    """HTML for a job: its settings and its handles (bounded)."""
    fields = [
        ("fmt", job.fmt.value),
        ("is_modifier", job.is_modifier),
        ("macro", job.macro),
        ("emailSetting", job.email_setting.value),
    ]
    summary = " · ".join(f"{k}=<code>{esc(v)}</code>" for k, v in fields if v is not None) + (
        f" · {len(job.asset_handles)} handle(s), {len(job.duplicate_handles)} duplicate(s)"
    )
    rows = (
        ([str(i + 1), h.value, "duplicate, skipped" if rep else ""], "warning" if rep else "")
        for i, (h, rep) in enumerate(zip(job.asset_handles, job.repeats, strict=True))
    )
    table = html_table(["#", "asset handle", "note"], rows, total=len(job.asset_handles))
    return wrap("ExportJob", summary, table)


def _plan_row(plan: ExportPlan) -> tuple[list[str], str]:
    fmt = plan.output_format.render() if plan.output_format is not None else "orig"
    if plan.refusal is not None:
        return (
            [plan.handle.value, plan.asset.file_name, "", "", f"refused: {plan.refusal.message}"],
            "error",
        )
    status = "; ".join(plan.warnings) if plan.warnings else "ok"
    return (
        [plan.handle.value, plan.asset.file_name, plan.output_name, fmt, status],
        "warning" if plan.warnings else "",
    )


_PLAN_HEADERS = ["handle", "input", "output", "format", "status"]


def plan_html(plan: ExportPlan) -> str:
    """HTML for one plan."""
    table = html_table(_PLAN_HEADERS, [_plan_row(plan)], total=1)
    request = esc(plan.request) if plan.output_format is not None else "original, unchanged"
    return wrap("ExportPlan", f"request: <code>{request}</code>", table)


def plans_html(
    plans: Sequence[ExportPlan],
    *,
    failures: Sequence[tuple[AssetHandle, Refusal]] = (),
) -> str:
    """HTML for the plans of a job: counts, then the first rows (handles not found last)."""
    refused = sum(1 for p in plans if not p.accepted)
    warned = sum(1 for p in plans if p.accepted and p.warnings)
    summary = (
        f"{len(plans)} asset(s): {len(plans) - refused} accepted, {refused} refused, "
        f"{warned} with warnings"
    )
    if failures:
        summary += f"; {len(failures)} handle(s) could not be described"
    rows = [_plan_row(p) for p in plans[:MAX_ROWS]]
    rows += [
        ([h.value, "", "", "", f"{r.code}: {r.message}"], "error") for h, r in failures[:MAX_ROWS]
    ]
    table = html_table(_PLAN_HEADERS, rows, total=len(plans) + len(failures))
    return wrap("Export plans", summary, table)


def _size(outcome: AssetOutcome) -> str:
    if not outcome.exported:
        return ""
    dims = f"{outcome.width}x{outcome.height}, " if outcome.width and outcome.height else ""
    return f"{dims}{outcome.bytes_written:,} B"


def _outcome_row(
    outcome: AssetOutcome, thumb: str, said: frozenset[str] = frozenset()
) -> tuple[list[str], str]:
    status = outcome.status.value
    if outcome.message:
        status = f"{status}: {outcome.code}: {outcome.message}"
    notes = "; ".join(w for w in outcome.warnings if w not in said)  # *said*: the job's, once
    css = "error" if status.startswith(("failed", "refused")) else "warning" if notes else ""
    return (
        [
            outcome.handle.value,
            outcome.file_name or "",
            outcome.output_name or "",
            outcome.output_format or ("orig" if outcome.exported else ""),
            _size(outcome),
            f"{status} ({notes})" if notes else status,
            thumb,
        ],
        css,
    )


def _thumbnails(outcomes: Sequence[AssetOutcome], reader: ExportReader | None) -> dict[int, str]:
    if reader is None:
        return {}
    thumbs: dict[int, str] = {}
    for i, outcome in enumerate(outcomes[:MAX_ROWS]):
        if len(thumbs) >= MAX_THUMBNAILS:
            break
        media = outcome.media_type or ""
        if outcome.exported and outcome.output_name and media.startswith("image/"):
            try:
                data = reader.read_export(outcome.output_name)
            except Exception:  # noqa: BLE001, S112 - a thumbnail is decoration; show none
                continue
            thumbs[i] = thumbnail_img(data)
    return thumbs


def problems_first(log: JobLog) -> list[AssetOutcome]:
    """The log's outcomes, errors first (failed, refused), then those with warnings, then the rest.

    Job order is kept within each group, so in a job of thousands the failing handles always show.
    """
    warned = {d.handle for d in log.details if d.severity is Severity.WARNING and d.handle}

    def rank(outcome: AssetOutcome) -> int:
        if outcome.status.value in {"failed", "refused"}:
            return 0
        return 1 if outcome.handle in warned else 2

    return sorted(log.outcomes, key=rank)


def log_html(log: JobLog, reader: ExportReader | None = None) -> str:
    """HTML for a job log: summary counts, job-level problems, and the per-asset table.

    The table lists problems first (errors, then warnings), then the rest, each group in job order.
    With a *reader* (the store the job wrote to), converted outputs are shown as thumbnails.
    """
    counts = log.counts
    # Problems no asset row shows: job-level ones, and the repeats of duplicate handles.
    job_level = [
        d
        for d in log.details
        if d.severity is not Severity.INFO
        and (d.handle is None or d.log_type is LogType.DUPLICATE_SKIPPED)
    ]
    job_warnings = sum(1 for d in job_level if d.handle is None and d.severity is Severity.WARNING)
    job_errors = sum(1 for d in job_level if d.handle is None and d.severity is Severity.ERROR)
    summary = (
        f"state <strong>{esc(log.state.value)}</strong> · {counts.success} exported · "
        f"{counts.error} error(s) · {counts.warning} asset(s) with warnings · "
        f"{job_errors} job-level error(s) · {job_warnings} job-level warning(s) · "
        f"{counts.duplicate} duplicate(s) · {counts.not_run} not run · {counts.total} total · "
        f"{log.duration.total_seconds():.2f} s"
    )
    if job_level:
        ordered = sorted(job_level, key=lambda d: d.severity is not Severity.ERROR)
        items = "".join(
            f"<li>{esc(d.severity.value)}: {esc(d.code or d.log_type.value)}: {esc(d.message)}</li>"
            for d in ordered[:10]
        )
        summary += f"<ul>{items}</ul>"
    outcomes = problems_first(log)
    thumbs = _thumbnails(outcomes, reader)
    said = frozenset(d.message for d in job_level if d.handle is None)
    rows = (_outcome_row(o, thumbs.get(i, ""), said) for i, o in enumerate(outcomes))
    table = html_table(
        ["handle", "input", "output", "format", "size", "status", "preview"],
        rows,
        total=len(outcomes),
        raw_columns=frozenset({6}),
        nowrap_columns=frozenset({4}),
    )
    return wrap(f"JobLog {log.job_handle}", summary, table)


def thumbnail_img(data: bytes, size: int = THUMB_SIZE) -> str:
    """An inline ``<img>`` thumbnail of an image file's bytes, or ``""`` if it is not an image."""
    from PIL import Image  # noqa: PLC0415 - Pillow only when a thumbnail is drawn

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > 100_000_000:
                return ""
            im.thumbnail((size, size))
            out = io.BytesIO()
            im.convert("RGBA").save(out, "PNG")
    except Exception:  # noqa: BLE001 - a thumbnail is decoration; any failure shows no image
        return ""
    encoded = base64.b64encode(out.getvalue()).decode()
    return f'<img src="data:image/png;base64,{encoded}" alt="thumbnail"/>'


def plain_lines(title: str, lines: Iterable[str], *, total: int, limit: int = 10) -> str:
    """A bounded plain-text block for ``__repr__``-style summaries."""
    shown = list(lines)[:limit]
    extra = f"\n  … and {total - len(shown)} more" if total > len(shown) else ""
    return title + "".join(f"\n  {line}" for line in shown) + extra


ThumbnailSource = Callable[[str], bytes | None]


@attrs.frozen
class LogView:
    """A job log shown with thumbnails of its outputs, read back through *reader* (the job's store).

    ``JobRun`` displays as one; build one for a log read back from JSON: ``LogView(log, store)``.
    """

    log: JobLog
    reader: ExportReader | None = None

    def _repr_html_(self) -> str:
        return log_html(self.log, self.reader)
