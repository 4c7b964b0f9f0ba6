"""Export plans: per asset, what the export produces, decided before any pixel is touched.

The order per asset is authorize -> refuse set types -> resolve the format -> name the output. A
refused plan carries its reason; an accepted one carries everything the converter needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import attrs

from ._assets import Asset, AssetHandle
from ._enums import ExportFormat
from ._formats import format_info
from ._job import ExportJob
from ._names import NameBook, safe_folders, split_name
from ._requests import output_name, request_warnings, resolve_job_request
from ._taken import TakenNames
from .exceptions import AssetError, NotAuthorizedError, UnsupportedAssetTypeError
from .language._macros import MacroLibrary
from .language._resolve import ResolvedRequest
from .language._syntax import Command, render_commands
from .options import ConversionSettings, OutputFormat, RenderOptions

__all__ = [
    "ExportPlan",
    "JobPlan",
    "Planner",
    "Refusal",
    "plan_export",
    "plan_exports",
    "request_warnings",
    "resolve_job_request",
]


@attrs.frozen
class Refusal:
    """Why an asset is not exported: an error ``code`` (as on the exception class) and a message."""

    code: str
    message: str

    @classmethod
    def from_error(cls, error: AssetError) -> Refusal:
        """Record *error* as a refusal."""
        return cls(error.code, error.message)


@attrs.frozen(kw_only=True)
class ExportPlan:
    """What exporting one asset produces: refused (with the reason) or accepted (with the recipe).

    For ``fmt=orig`` the output is the original under its (made safe) original name and
    ``output_format`` is None. For ``fmt=convert`` the plan names the output format, pixel type,
    compression, extension and file name, and holds the commands for the converter.
    """

    asset: Asset
    fmt: ExportFormat
    output_name: str = ""
    output_format: OutputFormat | None = None
    options: RenderOptions | None = None
    commands: tuple[Command, ...] = ()
    warnings: tuple[str, ...] = ()
    refusal: Refusal | None = None

    @property
    def handle(self) -> AssetHandle:
        """The asset's handle."""
        return self.asset.handle

    @property
    def accepted(self) -> bool:
        """Whether the asset will be exported."""
        return self.refusal is None

    @property
    def extension(self) -> str:
        """The output file's extension, with its dot (``".tiff"``), or ``""``."""
        return split_name(self.output_name)[1]

    @property
    def media_type(self) -> str:
        """The output's MIME type, or ``application/octet-stream`` for an original."""
        if self.output_format is None:
            return "application/octet-stream"
        info = format_info(self.output_format.name)
        return info.mime if info is not None else "application/octet-stream"

    @property
    def request(self) -> str:
        """The effective Image Serving request, rendered (``""`` for ``fmt=orig``)."""
        return render_commands(self.commands)

    def _repr_html_(self) -> str:
        from ._display import plan_html  # noqa: PLC0415 - display code only when displayed

        return plan_html(self)


@attrs.frozen(kw_only=True)
class JobPlan:
    """What a whole job would do, without reading any original: see ``ExportEngine.plan``.

    A plan per described asset, the handles that could not be described, and the repeated handles
    that are skipped. Iterating yields the plans.
    """

    plans: tuple[ExportPlan, ...]
    failures: tuple[tuple[AssetHandle, Refusal], ...] = ()
    duplicates: tuple[AssetHandle, ...] = ()

    def __iter__(self) -> Iterator[ExportPlan]:
        return iter(self.plans)

    def __len__(self) -> int:
        return len(self.plans)

    @property
    def accepted(self) -> tuple[ExportPlan, ...]:
        """The plans that will be exported."""
        return tuple(p for p in self.plans if p.accepted)

    @property
    def refused(self) -> tuple[ExportPlan, ...]:
        """The plans that are refused (another company's asset, a set)."""
        return tuple(p for p in self.plans if not p.accepted)

    def __repr__(self) -> str:
        return (
            f"<JobPlan {len(self.accepted)} accepted, {len(self.refused)} refused, "
            f"{len(self.failures)} not found, {len(self.duplicates)} duplicate(s)>"
        )

    def _repr_html_(self) -> str:
        from ._display import plans_html  # noqa: PLC0415 - display code only when displayed

        return plans_html(self.plans, failures=self.failures)


def _refused(asset: Asset, job: ExportJob, error: AssetError) -> ExportPlan:
    return ExportPlan(asset=asset, fmt=job.fmt, refusal=Refusal.from_error(error))


def plan_export(
    asset: Asset,
    job: ExportJob,
    request: ResolvedRequest | None,
    *,
    company: str | None = None,
) -> ExportPlan:
    """Plan the export of one *asset* under *job*, from the job's resolved *request*.

    The output name is the asset's own (made safe); ``Planner`` makes names distinct within a job.

    Args:
        asset: what the store knows of the asset.
        job: the export job.
        request: the job's request from ``resolve_job_request`` (None for ``fmt=orig``).
        company: the submitting company; an asset of another company is refused as not authorized.
            ``None`` skips the check (planning outside a submission, for example in a notebook).

    Raises:
        ValueError: *request* is None for a ``fmt=convert`` job.

    >>> from exportjob.language import MacroLibrary
    >>> job = ExportJob(asset_handles=["h"], fmt="convert", is_modifier="&fmt=png", macro="$test$")
    >>> request = resolve_job_request(job, macros=MacroLibrary({"test": "fmt=tif"}))
    >>> asset = Asset(handle="h", type="Image", name="f", file_name="fileToExport.jpg", company="c")
    >>> plan_export(asset, job, request).output_name
    'fileToExport.tiff'
    """
    return _plan_export(asset, job, request, company, request_warnings(job, request))


def _plan_export(
    asset: Asset,
    job: ExportJob,
    request: ResolvedRequest | None,
    company: str | None,
    warnings: tuple[str, ...],
    *,
    name: str | None = None,
) -> ExportPlan:
    """``plan_export``, given the request's *warnings* (a planner works them out once per job).

    *name*: the output name, when the planner already knows it (``Planner.reserve`` made it).
    """
    if company is not None and asset.company != company:
        return _refused(
            asset,
            job,
            NotAuthorizedError(
                f"asset {asset.handle} belongs to another company than the one that submitted the job",
                handle=asset.handle.value,
            ),
        )
    if asset.type.is_set:
        return _refused(
            asset,
            job,
            UnsupportedAssetTypeError(
                f"ExportJob does not export {asset.type.label}s ({asset.type.value} asset {asset.handle})",
                handle=asset.handle.value,
                asset_type=asset.type.value,
            ),
        )
    if name is None:
        name = output_name(job, request, asset.file_name, fallback=asset.name)
    if job.fmt is ExportFormat.ORIG:
        return ExportPlan(asset=asset, fmt=job.fmt, output_name=name, warnings=warnings)
    if request is None:
        msg = "a fmt=convert job is planned from its resolved request (resolve_job_request)"
        raise ValueError(msg)
    return ExportPlan(
        asset=asset,
        fmt=job.fmt,
        output_name=name,
        output_format=request.options.format,
        options=request.options,
        commands=request.commands,
        warnings=warnings,
    )


class Planner:
    """The one planner of a job: plans its assets one by one, in job order, with distinct names.

    ``plan_exports`` and the engine both plan through it, so a plan shown in a notebook is the plan
    the engine runs. Names are made distinct as assets are planned (see ``NameBook``): the first
    asset keeps its name, the same job order always gives the same names.

    ``reserve`` keeps an asset's own file name for it before it is planned, so an earlier asset
    whose name was changed (a conversion's new extension, a name made safe) does not take it: it is
    numbered instead. With *keep_folders*, an output name keeps the folders of the asset's handle
    (``a/x.jpg``), each made safe (``safe_folders``), and a file named like a folder (or a folder
    like a file) is numbered. With *taken* (the engine's, under ``rename``), a name the export area
    already holds is skipped too, so the variants are given in job order, and a name taken after
    it was planned is replaced by the next free one (``rename``). No asset is given one of
    *reserved_names* (files the host writes beside the exports, such as the export manifest).

    >>> job = ExportJob(asset_handles=["g", "j"], fmt="convert", is_modifier="&fmt=jpeg")
    >>> planner = Planner(job, resolve_job_request(job))
    >>> planner.reserve([(AssetHandle("g"), "hopper.gif"), (AssetHandle("j"), "hopper.jpg")])
    >>> [planner.plan(Asset(handle=h, type="Image", name="hopper", file_name=f, company="c")).output_name
    ...  for h, f in [("g", "hopper.gif"), ("j", "hopper.jpg")]]
    ['hopper-2.jpg', 'hopper.jpg']
    """

    def __init__(
        self,
        job: ExportJob,
        request: ResolvedRequest | None,
        *,
        company: str | None = None,
        keep_folders: bool = False,
        taken: TakenNames | None = None,
        reserved_names: Iterable[str] = (),
    ) -> None:
        self.job = job
        self.request = request
        self.company = company
        self.keep_folders = keep_folders
        self.taken = taken
        self._drafts: dict[AssetHandle, ExportPlan] = {}
        self._names = NameBook(held=reserved_names)
        self._owners: dict[AssetHandle, str] = {}
        self._given: dict[AssetHandle, str] = {}
        self._warnings = request_warnings(job, request)  # the same for every asset of the job

    def _draft(self, asset: Asset) -> ExportPlan:
        """*asset*'s plan (``plan_export``) under its own name, before names are made distinct."""
        # A name kept for its own file name is that name made safe, unchanged, whatever the
        # fallback (``reserve`` made it so): it is not made again.
        own = self._owners.get(asset.handle) if self._owners else None
        known = (
            own if own is not None and own == asset.file_name and not self.keep_folders else None
        )
        return _plan_export(asset, self.job, self.request, self.company, self._warnings, name=known)

    def claim(self, name: str) -> None:
        """Take *name* as already used by an asset of this job (one resumed from its journal)."""
        self._names.claim(name)

    def give_back(self, handle: AssetHandle, name: str) -> None:
        """Keep *name* for *handle* alone: the name its export had before (a resumed job).

        When *handle* is planned and accepted, its plan has exactly that name; no other asset
        is given it.
        """
        self._names.claim(name)
        self._given[handle] = name

    def reserve(self, file_names: Iterable[tuple[AssetHandle, str | None]]) -> None:
        """Keep, for each handle not yet planned, its own file name, if it would be its output name.

        *file_names* pairs handles with their own file names (None: unknown). A name is kept
        until the first of the handles that have it is planned with it (the others, planned
        after, are numbered) or all of them are planned or passed over (``release``); meanwhile
        an asset whose output name would be it but is not its own is numbered.
        """
        owners, names, job, request = self._owners, self._names, self.job, self.request
        for handle, file_name in file_names:
            if not file_name or handle in owners:
                continue
            # Kept only if it is its output name whatever the fallback (the folders are the same
            # either way): an empty one never gives the name back, so the plan may reuse it.
            if output_name(job, request, file_name, fallback="") == file_name:
                own = self._folders(handle) + file_name if self.keep_folders else file_name
                names.reserve(own)
                owners[handle] = own

    def release(self, handle: AssetHandle) -> None:
        """Give up the name kept for *handle*: it will not be planned (not found, resumed)."""
        own = self._own(handle)
        if own is not None:
            self._names.release(own)

    def _folders(self, handle: AssetHandle) -> str:
        return safe_folders(handle.value) if self.keep_folders else ""

    def _own(self, handle: AssetHandle) -> str | None:
        """Take the name kept for *handle* out of the owners (None if none was kept)."""
        own = self._owners.pop(handle, None)
        if own is not None and not self._owners:
            self._owners = {}  # a dict keeps its table when emptied: a job's worth of slots
        return own

    def look_ahead(self, assets: Sequence[Asset]) -> None:
        """Ask the export area at once about the names of *assets*, the next ones to be planned.

        Only with *taken*: one question for a round of plans, not one per plan.
        """
        if self.taken is None or not self.taken.answering:
            return
        self._drafts = {}
        names = []
        for asset in assets:
            if asset.handle in self._given:
                continue
            try:
                plan = self._draft(asset)
            except Exception:  # noqa: BLE001, S112 - raised again by plan(), where it is classified
                continue
            self._drafts[asset.handle] = plan
            if plan.accepted:
                names.append(self._folders(asset.handle) + plan.output_name)
        self.taken.look_up(names)

    def plan(self, asset: Asset) -> ExportPlan:
        """Plan *asset*, the next asset of the job, and give an accepted plan its distinct name."""
        plan = self._drafts.pop(asset.handle, None) if self._drafts else None
        if plan is None:
            plan = self._draft(asset)
        own = self._own(asset.handle)
        given = self._given.pop(asset.handle, None) if self._given else None
        if not plan.accepted or given is not None:
            if own is not None:
                self._names.release(own)
            if given is not None and plan.accepted and given != plan.output_name:
                wanted = self._folders(asset.handle) + plan.output_name
                was = f"output name {wanted!r} is taken; written as {given!r}, as when the job ran before"
                warned = (*plan.warnings, was) if given != wanted else plan.warnings
                return attrs.evolve(plan, output_name=given, warnings=warned)
            return plan
        wanted = self._folders(asset.handle) + plan.output_name
        owner = own is not None and own.casefold() == wanted.casefold()
        if own is not None and not owner:
            self._names.release(own)
        name = self._names.claim(wanted, reserved=owner)
        if self.taken is not None:
            name = self.taken.first_free(self._names, wanted, name)
        if name == plan.output_name:
            return plan
        if name == wanted:
            return attrs.evolve(plan, output_name=name)
        held = self.taken is not None and self.taken.held(wanted)
        by = "a file in the export area" if held else self._names.taken_by(wanted, name)
        return attrs.evolve(
            plan,
            output_name=name,
            warnings=(
                *plan.warnings,
                f"output name {wanted!r} is taken by {by}; written as {name!r}",
            ),
        )

    def rename(self, plan: ExportPlan) -> ExportPlan:
        """*plan* under the next free variant of its name: its own was taken since it was planned.

        Its warnings are its request's and one that says why, in place of any about the name it
        had (it was never written under that one).
        """
        base = self._draft(plan.asset)
        wanted = self._folders(plan.handle) + base.output_name
        name = self._names.claim(wanted)
        if self.taken is not None:
            self.taken.look_up(())  # the round's answers are old: that name was free in them
            name = self.taken.first_free(self._names, wanted, name)
        old = plan.output_name
        why = f"{old!r} was" if old == wanted else f"{wanted!r} is taken, and {old!r} was"
        taken = f"output name {why} taken in the export area when it was written"
        return attrs.evolve(
            plan, output_name=name, warnings=(*base.warnings, f"{taken}; written as {name!r}")
        )

    def checked(self, plan: ExportPlan) -> bool:
        """Whether *plan*'s name was found free in the export area (under ``rename``).

        Not when the store said every variant tried was taken: the store's own write decides.
        """
        return self.taken is None or self.taken.checked(plan.output_name)


def plan_exports(
    assets: Iterable[Asset],
    job: ExportJob,
    *,
    company: str | None = None,
    macros: MacroLibrary | None = None,
    settings: ConversionSettings | None = None,
    keep_folders: bool = False,
) -> tuple[ExportPlan, ...]:
    """Plan every asset of a job, in order, with distinct, deterministic output names.

    The request is resolved once; it raises ``ModifierError`` or ``MacroError`` if it is invalid.
    An asset whose own file name is its output name keeps it, even when an earlier asset's changed
    name would be the same (``Planner.reserve``). *keep_folders* keeps the handles' folders in the
    names (see ``Planner``).
    """
    assets = tuple(assets)
    planner = Planner(
        job,
        resolve_job_request(job, macros=macros, settings=settings),
        company=company,
        keep_folders=keep_folders,
    )
    planner.reserve((a.handle, a.file_name) for a in assets)
    return tuple(planner.plan(a) for a in assets)
