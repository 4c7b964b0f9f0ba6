"""The exception tree: one root, builtin bases, stable codes, picklable with attributes."""

from __future__ import annotations

import inspect
import pickle

import pytest

import exportjob.exceptions as exc_mod
from exportjob import ExportJobError, ModifierError
from exportjob.exceptions import (
    AssetNotFoundError,
    NotAuthorizedError,
    StoreWriteError,
    UnsupportedAssetTypeError,
)

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
