"""exportjob: authorized export of digital-asset originals, as they are or converted.

An embeddable implementation of the Image Production System's ``ExportJob``: the job model, the Image
Serving modifier and macro language, format resolution, and an engine with pluggable storage,
conversion and notification.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ._commands import ResolvedRequest, resolve_request
from ._engine import AssetProgress, ExportEngine, JobRun
from ._joblog import (
    AssetOutcome,
    AssetStatus,
    JobCounts,
    JobLog,
    JobReport,
    JobState,
    LogDetail,
    LogType,
    Severity,
)
from ._macros import MacroLibrary
from ._model import (
    Asset,
    AssetHandle,
    AssetType,
    EmailSetting,
    ExportFormat,
    ExportJob,
    JobContext,
    RawExportJob,
    RawJobContext,
)
from ._names import check_name
from ._options import (
    Color,
    ColorizeOp,
    Compression,
    ConversionSettings,
    Crop,
    Fit,
    FitMode,
    Flip,
    NoiseOp,
    OutputFormat,
    PixelType,
    Quality,
    Quantize,
    RenderOptions,
    ResMode,
    UnsharpMask,
)
from ._plan import ExportPlan, JobPlan, Refusal, plan_export, plan_exports, resolve_job_request
from ._syntax import Command, parse_request, render_commands
from .exceptions import (
    AssetError,
    AssetNotFoundError,
    ConversionError,
    ExportJobError,
    FieldProblem,
    ImageTooLargeError,
    InvalidJobError,
    MacroDefinitionError,
    MacroError,
    ModifierError,
    NotAuthorizedError,
    NotifierError,
    RefusedCommandError,
    StoreReadError,
    StoreWriteError,
    UnknownCommandError,
    UnknownMacroError,
    UnsafeNameError,
    UnsupportedAssetTypeError,
    UnsupportedFormatError,
)
from .protocols import AssetStore, ConversionOutput, Converter, Notifier

try:
    __version__ = version("exportjob")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "Asset",
    "AssetError",
    "AssetHandle",
    "AssetNotFoundError",
    "AssetOutcome",
    "AssetProgress",
    "AssetStatus",
    "AssetStore",
    "AssetType",
    "Color",
    "ColorizeOp",
    "Command",
    "Compression",
    "ConversionError",
    "ConversionOutput",
    "ConversionSettings",
    "Converter",
    "Crop",
    "EmailSetting",
    "ExportEngine",
    "ExportFormat",
    "ExportJob",
    "ExportJobError",
    "ExportPlan",
    "FieldProblem",
    "Fit",
    "FitMode",
    "Flip",
    "ImageTooLargeError",
    "InvalidJobError",
    "JobContext",
    "JobCounts",
    "JobLog",
    "JobPlan",
    "JobReport",
    "JobRun",
    "JobState",
    "LogDetail",
    "LogType",
    "MacroDefinitionError",
    "MacroError",
    "MacroLibrary",
    "ModifierError",
    "NoiseOp",
    "NotAuthorizedError",
    "Notifier",
    "NotifierError",
    "OutputFormat",
    "PixelType",
    "Quality",
    "Quantize",
    "RawExportJob",
    "RawJobContext",
    "Refusal",
    "RefusedCommandError",
    "RenderOptions",
    "ResMode",
    "ResolvedRequest",
    "Severity",
    "StoreReadError",
    "StoreWriteError",
    "UnknownCommandError",
    "UnknownMacroError",
    "UnsafeNameError",
    "UnsharpMask",
    "UnsupportedAssetTypeError",
    "UnsupportedFormatError",
    "__version__",
    "check_name",
    "parse_request",
    "plan_export",
    "plan_exports",
    "render_commands",
    "resolve_job_request",
    "resolve_request",
]
