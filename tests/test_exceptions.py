"""The exception tree: one root, builtin bases, stable codes, picklable with attributes."""

from __future__ import annotations

import inspect
import pickle

import pytest

import exportjob.exceptions as exc_mod
from exportjob import Asset, AssetHandle, AssetType, ExportJobError, ModifierError
from exportjob.converters import Limits
from exportjob.exceptions import (
    AssetError,
    AssetNotFoundError,
    ConversionError,
    FieldProblem,
    InvalidJobError,
    InvalidValueError,
    JobLogFormatError,
    NotAuthorizedError,
    StoreReadError,
    StoreWriteError,
    UnsupportedAssetTypeError,
)
from exportjob.joblog import AssetOutcome, JobCounts, LogDetail
from exportjob.options import Color, ConversionSettings, ResMode

CLASSES = [
    obj
    for _, obj in inspect.getmembers(exc_mod, inspect.isclass)
    if issubclass(obj, ExportJobError)
]


def test_every_public_error_derives_from_the_root_and_is_in_the_tree() -> None:
    public = {getattr(exc_mod, n) for n in exc_mod.__all__} - {exc_mod.FieldProblem}
    assert public == set(CLASSES)
    assert exc_mod.__doc__ is not None
    for cls in CLASSES:
        assert cls.__name__ in exc_mod.__doc__, f"{cls.__name__} is missing from the drawn tree"


def test_codes_are_unique() -> None:
    codes = [c.code for c in CLASSES]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (AssetNotFoundError, LookupError),
        (NotAuthorizedError, PermissionError),
        (StoreWriteError, OSError),
        (ModifierError, ValueError),
        (InvalidJobError, ValueError),
        (InvalidValueError, ValueError),
        (JobLogFormatError, ValueError),
    ],
)
def test_errors_also_inherit_the_fitting_builtin(cls: type, builtin: type) -> None:
    assert issubclass(cls, builtin)


@pytest.mark.parametrize(
    "error",
    [
        ModifierError("bad", command="wid", value="-1", position=2, origin="is_modifier"),
        AssetNotFoundError("no such asset", handle="h1"),
        UnsupportedAssetTypeError("set", handle="h2", asset_type="ImageSet"),
        StoreWriteError("disk full", handle="h3"),
        InvalidValueError("size", -1, "must be a non-negative int"),
        JobLogFormatError([FieldProblem("jobLog.version", 2, "must be 1")]),
        InvalidJobError([FieldProblem("locale", 5, "bad")], subject="job context"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_pickle_with_their_attributes(error: ExportJobError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert back.__dict__ == error.__dict__


def test_modifier_error_message_names_command_value_and_position() -> None:
    err = ModifierError("out of range", command="qlt", value="101", position=3, origin="macro $x$")
    assert str(err) == "out of range (command 'qlt', value '101', position 3, in macro $x$)"
    assert (err.command, err.value, err.position) == ("qlt", "101", 3)


def test_the_new_codes_are_stable() -> None:
    assert InvalidValueError.code == "INVALID_VALUE"
    assert JobLogFormatError.code == "INVALID_JOB_LOG"


def test_invalid_value_error_carries_field_value_and_reason() -> None:
    err = InvalidValueError("size", -1, "must be a non-negative int")
    assert (err.field, err.value, err.reason) == ("size", -1, "must be a non-negative int")
    assert err.problem == FieldProblem("size", -1, "must be a non-negative int")
    assert str(err) == "size: must be a non-negative int (got -1)"


ASSET = {"handle": "h", "type": "Image", "name": "n", "file_name": "f", "company": "c"}


@pytest.mark.parametrize(
    ("build", "field"),
    [
        pytest.param(lambda: Asset(**(ASSET | {"type": "bogus"})), "type", id="Asset-type"),
        pytest.param(lambda: Asset(**(ASSET | {"name": ""})), "name", id="Asset-name"),
        pytest.param(lambda: AssetHandle(""), "handle", id="AssetHandle"),
        pytest.param(lambda: AssetType.parse("bogus"), "AssetType", id="AssetType.parse"),
        pytest.param(
            lambda: LogDetail(severity="nope", log_type="ExportError", message="m"),
            "severity",
            id="LogDetail",
        ),
        pytest.param(
            lambda: AssetOutcome(handle="h", status="exported", code=5), "code", id="AssetOutcome"
        ),
        pytest.param(lambda: JobCounts(success=-1), "success", id="JobCounts"),
        pytest.param(
            lambda: ConversionSettings(default_pix=(1, -1)), "default_pix", id="settings-pix"
        ),
        pytest.param(lambda: ConversionSettings(max_pix="12"), "max_pix", id="settings-pix-text"),
        pytest.param(
            lambda: ConversionSettings(unknown_commands="ignore"),
            "unknown_commands",
            id="settings-unknown-commands",
        ),
        pytest.param(
            lambda: ConversionSettings(bkg_color="white"), "bkg_color", id="settings-colour"
        ),
        pytest.param(
            lambda: ConversionSettings(res_mode="bicub"), "res_mode", id="settings-res-mode"
        ),
        pytest.param(lambda: Limits(max_source_pixels=0), "max_source_pixels", id="Limits"),
        pytest.param(lambda: Limits(max_output_pixels="9"), "max_output_pixels", id="Limits-text"),
    ],
)
def test_value_types_raise_one_error_family(build: object, field: str) -> None:
    with pytest.raises(InvalidValueError) as info:
        build()  # type: ignore[operator]
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_valid_settings_are_kept() -> None:
    settings = ConversionSettings(
        default_pix=[1280, 1280.0],  # type: ignore[arg-type]
        bkg_color=Color("rgb", (0, 0, 0)),
        res_mode=ResMode.BICUB,
        unknown_commands="warn",
    )
    assert settings.default_pix == (1280, 1280)


@pytest.mark.parametrize(
    "error_class", [AssetNotFoundError, StoreReadError, ConversionError, UnsupportedAssetTypeError]
)
def test_asset_errors_take_the_handle_a_store_was_given_or_its_text(
    error_class: type[AssetError],
) -> None:
    from_handle = error_class("x", handle=AssetHandle("a|1"))
    assert from_handle.handle == "a|1"
    assert type(from_handle.handle) is str  # picklable, comparable, what the log records
    assert pickle.loads(pickle.dumps(from_handle)).handle == "a|1"
    assert error_class("x", handle="a|1").handle == "a|1"


def test_a_problem_shows_a_long_value_cut_short() -> None:
    problem = FieldProblem("profiles", b"\x00" * 100_000, "must be a ProfileLibrary, not bytes")
    text = str(problem)
    assert len(text) < 400
    assert text.endswith("... (400,003 characters))")
    assert problem.value == b"\x00" * 100_000  # the problem keeps it all
