"""Format resolution: per asset, refused (authorization, set types) or accepted with the recipe."""

from __future__ import annotations

import pytest

from exportjob import (
    Asset,
    AssetType,
    ExportEngine,
    ExportFormat,
    ExportJob,
    JobContext,
    MacroLibrary,
    ModifierError,
    plan_exports,
)
from exportjob.converters import CopyConverter
from exportjob.options import Compression, PixelType
from exportjob.plans import plan_export
from exportjob.stores import MemoryStore

MACROS = MacroLibrary({"test": "fmt=tif", "thumb": "wid=200&fmt=png&qlt=90", "sized": "wid=300"})


def asset(
    handle: str = "h1",
    file_name: str = "fileToExport.jpg",
    kind: str | AssetType = "Image",
    company: str = "acme",
) -> Asset:
    return Asset(handle=handle, type=kind, name=handle, file_name=file_name, company=company)


def convert(modifier: str | None = None, macro: str | None = None) -> ExportJob:
    return ExportJob(asset_handles=["h1"], fmt="convert", is_modifier=modifier, macro=macro)


def test_seed_example_macro_format_wins_over_modifier_format() -> None:
    plan = plan_exports([asset()], convert("&fmt=png", "$test$"), macros=MACROS)[0]
    assert plan.accepted
    assert plan.output_name == "fileToExport.tiff"
    assert plan.output_format is not None
    assert plan.output_format.name == "tif"
    assert plan.extension == ".tiff"
    assert plan.media_type == "image/tiff"


@pytest.mark.parametrize(
    ("modifier", "macro", "name", "fmt"),
    [
        pytest.param("&fmt=png", None, "fileToExport.png", "png", id="modifier-only"),
        pytest.param(None, "$test$", "fileToExport.tiff", "tif", id="macro-only"),
        pytest.param("&wid=10", "$test$", "fileToExport.tiff", "tif", id="macro-without-conflict"),
        pytest.param("&fmt=jpg", None, "fileToExport.jpg", "jpeg", id="jpg-is-jpeg"),
        pytest.param("&fmt=gif", None, "fileToExport.gif", "gif", id="gif"),
        pytest.param("&fmt=webp", None, "fileToExport.webp", "webp", id="webp"),
        pytest.param("&fmt=pdf", None, "fileToExport.pdf", "pdf", id="pdf"),
        pytest.param("&wid=100", None, "fileToExport.jpg", "jpeg", id="default-jpeg"),
        pytest.param("&fmt=png", "$sized$", "fileToExport.png", "png", id="macro-without-fmt"),
    ],
)
def test_output_format_and_name(
    modifier: str | None, macro: str | None, name: str, fmt: str
) -> None:
    plan = plan_exports([asset()], convert(modifier, macro), macros=MACROS)[0]
    assert plan.output_name == name
    assert plan.output_format is not None
    assert plan.output_format.name == fmt


def test_commands_after_the_macro_are_the_macros_own() -> None:
    plan = plan_exports([asset()], convert("&wid=999&qlt=50", "$thumb$"), macros=MACROS)[0]
    assert plan.options is not None
    assert plan.options.wid == 200
    assert plan.options.qlt.quality == 90
    assert "wid=200" in plan.request


def test_pixel_type_and_compression_are_resolved() -> None:
    plan = plan_exports([asset()], convert("&fmt=tif,cmyk,lzw"), macros=MACROS)[0]
    assert plan.output_format is not None
    assert plan.output_format.pixel_type is PixelType.CMYK
    assert plan.output_format.compression is Compression.LZW


def test_convert_with_neither_modifier_nor_macro_is_jpeg_with_a_warning() -> None:
    plan = plan_exports([asset(file_name="a.png")], convert())[0]
    assert plan.output_name == "a.jpg"
    assert any("default JPEG" in w for w in plan.warnings)


def test_orig_keeps_the_original_name_and_warns_about_ignored_fields() -> None:
    job = ExportJob(asset_handles=["h1"], fmt="orig", is_modifier="&fmt=png", macro="$test$")
    plan = plan_exports([asset(file_name="Autumn Leaves.JPG")], job)[0]
    assert plan.accepted
    assert plan.output_name == "Autumn Leaves.JPG"
    assert plan.output_format is None
    assert plan.options is None
    assert plan.media_type == "application/octet-stream"
    assert len(plan.warnings) == 2
    assert all("ignored with fmt=orig" in w for w in plan.warnings)


def test_orig_does_not_parse_the_modifier() -> None:
    job = ExportJob(asset_handles=["h1"], fmt="orig", is_modifier="&src=elsewhere")
    assert plan_exports([asset()], job)[0].accepted


@pytest.mark.parametrize("kind", [t for t in AssetType if t.is_set], ids=lambda t: t.value)
@pytest.mark.parametrize("fmt", ["orig", "convert"])
def test_set_assets_are_refused_naming_the_type(kind: AssetType, fmt: str) -> None:
    job = ExportJob(asset_handles=["h1"], fmt=fmt)
    plan = plan_exports([asset(kind=kind)], job)[0]
    assert not plan.accepted
    assert plan.refusal is not None
    assert plan.refusal.code == "UNSUPPORTED_ASSET_TYPE"
    assert kind.label in plan.refusal.message
    assert plan.output_name == ""


def test_assets_of_another_company_are_refused_before_anything_else() -> None:
    plan = plan_exports([asset(company="rival", kind="ImageSet")], convert(), company="acme")[0]
    assert plan.refusal is not None
    assert plan.refusal.code == "NOT_AUTHORIZED"


def test_same_company_is_authorized() -> None:
    assert plan_exports([asset(company="acme")], convert(), company="acme")[0].accepted


def test_no_company_means_no_authorization_check() -> None:
    assert plan_exports([asset(company="rival")], convert())[0].accepted


def test_a_bad_modifier_is_a_job_level_error() -> None:
    with pytest.raises(ModifierError):
        plan_exports([asset()], convert("&wid=-5"))[0]


def test_plan_exports_gives_distinct_deterministic_names() -> None:
    assets = [
        asset("h1", "photo.jpg"),
        asset("h2", "photo.png"),
        asset("h3", "sub/photo.gif"),
        asset("h4", "set", kind="ImageSet"),
        asset("h5", "other.jpg"),
    ]
    job = ExportJob(asset_handles=[a.handle for a in assets], fmt="convert", is_modifier="&fmt=png")
    plans = plan_exports(assets, job)
    assert [p.output_name for p in plans] == [
        "photo-2.png",  # photo.png is h2's own name: kept for it
        "photo.png",
        "photo-3.png",
        "",
        "other.png",
    ]
    assert any("photo-2.png" in w for w in plans[0].warnings)
    assert plans[1].warnings == ()
    assert plans == plan_exports(assets, job)


def test_plan_exports_orig_names_collide_case_insensitively() -> None:
    assets = [asset("h1", "A.jpg"), asset("h2", "a.JPG")]
    job = ExportJob(asset_handles=["h1", "h2"], fmt=ExportFormat.ORIG)
    assert [p.output_name for p in plan_exports(assets, job)] == ["A.jpg", "a-2.JPG"]


@pytest.mark.parametrize(
    "file_name", ["../../../etc/passwd", "/etc/shadow", "..\\..\\boot.ini", "a\x00b", "CON"]
)
def test_hostile_file_names_stay_inside_the_export_folder(file_name: str) -> None:
    plan = plan_exports([asset(file_name=file_name)], convert("&fmt=png"))[0]
    assert "/" not in plan.output_name
    assert "\\" not in plan.output_name
    assert "\x00" not in plan.output_name
    assert plan.output_name.endswith(".png")
    assert not plan.output_name.upper().startswith("CON.")


@pytest.mark.parametrize("file_name", ["\xa0.\xa0", "\u3000.\u3000", "\u2003.\u2003"])
def test_a_file_name_of_blanks_around_a_dot_takes_the_asset_s_name_however_it_is_planned(
    file_name: str,
) -> None:
    # Such a name is valid (it is not blank) but has no stem: its output name is the asset's
    # name. The planner reused the name it had reserved, made with the name as its own fallback.
    asset = Asset(handle="h1", type="Image", name="Leaves", file_name=file_name, company="acme")
    job = ExportJob(asset_handles=["h1"], fmt="orig")
    assert plan_export(asset, job, None).output_name == "Leaves"
    assert plan_exports([asset], job)[0].output_name == "Leaves"
    store = MemoryStore(default_company="acme")
    store.add("h1", b"data", file_name=file_name, name="Leaves")
    with ExportEngine(store, CopyConverter()) as engine:
        log = engine.run(job, JobContext(company="acme"))
    assert log.outcome("h1").output_name == "Leaves"
