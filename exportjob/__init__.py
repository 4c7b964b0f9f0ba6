"""exportjob: authorized export of digital-asset originals, as they are or converted.

An embeddable implementation of the Image Production System's ``ExportJob``: the job model, the Image
Serving modifier and macro language, format resolution, and an engine with pluggable storage,
conversion and notification.

The root holds what a host's workflow needs: build a job and its context, run it on an engine
with a store, a converter and a notifier, read its plan and its log. Families live in public
submodules: ``exportjob.language`` (parse, render, resolve), ``exportjob.options`` (render option
value types), ``exportjob.plans``, ``exportjob.joblog`` (records, statuses, detail codes),
``exportjob.exceptions`` (the whole tree), ``exportjob.ips`` (wire forms), ``stores``,
``converters``, ``notifiers`` and ``testing``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ._assets import Asset, AssetHandle
from ._context import JobContext
from ._engine import ExportEngine
from ._enums import AssetType, EmailSetting, ExportFormat
from ._job import ExportJob
from ._log import JobLog
from ._records import AssetOutcome, AssetStatus, JobState
from ._run import AssetProgress, JobRun
from .exceptions import (
    AssetError,
    ConversionError,
    ExportJobError,
    InvalidJobError,
    MacroError,
    ModifierError,
)
from .language import MacroLibrary
from .options import ConversionSettings
from .plans import ExportPlan, JobPlan, plan_exports
from .protocols import AssetStore, ConversionOutput, Converter, ExportReader, Notifier

try:
    __version__ = version("exportjob")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "Asset",
    "AssetError",
    "AssetHandle",
    "AssetOutcome",
    "AssetProgress",
    "AssetStatus",
    "AssetStore",
    "AssetType",
    "ConversionError",
    "ConversionOutput",
    "ConversionSettings",
    "Converter",
    "EmailSetting",
    "ExportEngine",
    "ExportFormat",
    "ExportJob",
    "ExportJobError",
    "ExportPlan",
    "ExportReader",
    "InvalidJobError",
    "JobContext",
    "JobLog",
    "JobPlan",
    "JobRun",
    "JobState",
    "MacroError",
    "MacroLibrary",
    "ModifierError",
    "Notifier",
    "plan_exports",
]
