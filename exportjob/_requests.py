"""What a job's request means for every one of its assets: resolved once, its warnings, the names.

``exportjob.plans`` shows ``resolve_job_request`` and ``request_warnings``; the planner names
each asset's output with ``output_name``.
"""

from __future__ import annotations

from ._enums import ExportFormat
from ._formats import format_info
from ._job import ExportJob
from ._names import safe_name
from .language._macros import MacroLibrary
from .language._resolve import ResolvedRequest, resolve_request
from .options import ConversionSettings

__all__ = ["output_name", "request_warnings", "resolve_job_request"]


def resolve_job_request(
    job: ExportJob,
    *,
    macros: MacroLibrary | None = None,
    settings: ConversionSettings | None = None,
) -> ResolvedRequest | None:
    """Resolve the job's ``is_modifier`` followed by its ``macro``, once for the whole job.

    Returns None for ``fmt=orig``. Raises ``ModifierError`` or ``MacroError`` for a bad request,
    before any asset is read.
    """
    if job.fmt is ExportFormat.ORIG:
        return None
    return resolve_request(job.is_modifier, job.macro, macros=macros, settings=settings)


def request_warnings(job: ExportJob, request: ResolvedRequest | None) -> tuple[str, ...]:
    """The warnings of the job's request itself, the same for every asset: said once in the log.

    Every accepted plan carries them too (a plan is complete on its own); the job log lists them
    once, at job level, and not again for each asset (see docs/format-resolution.md).

    >>> request_warnings(ExportJob(asset_handles=["h"], fmt="orig", macro="$thumb$"), None)
    ("macro='$thumb$' is ignored with fmt=orig",)
    """
    if job.fmt is ExportFormat.ORIG:
        return tuple(
            f"{field}={value!r} is ignored with fmt=orig"
            for field, value in (("is_modifier", job.is_modifier), ("macro", job.macro))
            if value is not None
        )
    warnings = request.warnings if request is not None else ()
    if job.is_modifier is None and job.macro is None:
        warnings = (
            "fmt=convert with neither is_modifier nor macro: converting to the default JPEG",
            *warnings,
        )
    return warnings


def output_name(
    job: ExportJob, request: ResolvedRequest | None, file_name: str, *, fallback: str
) -> str:
    """The (made safe) output name of an asset whose own file name is *file_name*."""
    if job.fmt is ExportFormat.ORIG or request is None:
        return safe_name(file_name, fallback=fallback)
    info = format_info(request.options.format.name)
    extension = info.extension if info is not None else ""
    return safe_name(file_name, extension=extension, fallback=fallback)
