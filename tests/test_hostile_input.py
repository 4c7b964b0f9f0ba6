"""Security round two, findings 8 and 9: plain hostile input gets documented errors, bounded work.

A store whose ``describe`` returns ``None`` or a dict fails that asset only: held by
``tests/test_engine.py::test_a_broken_description_of_one_asset_fails_only_that_asset``.
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exportjob import Asset, ExportEngine, ExportJob, JobContext, plan_exports
from exportjob.converters import CopyConverter
from exportjob.exceptions import InvalidJobError, MacroDefinitionError, UnsafeNameError
from exportjob.language import MAX_LOAD_MODIFIERS, MacroLibrary
from exportjob.stores import DirectoryStore, MemoryStore, check_name

JOB: dict[str, Any] = {"assetHandleArray": ["a|1"], "fmt": "orig", "emailSetting": "None"}
CONTEXT: dict[str, Any] = {"companyHandle": "acme"}

# -- 8: a job or context of the wrong shape is an InvalidJobError naming the field


@pytest.mark.parametrize(
    ("job", "context", "field"),
    [
        pytest.param({**JOB, 1: "x"}, CONTEXT, "1", id="job-int-key"),
        pytest.param({**JOB, (1, 2): "x"}, CONTEXT, "(1, 2)", id="job-tuple-key"),
        pytest.param(JOB, {**CONTEXT, 5: "x"}, "5", id="context-int-key"),
        pytest.param(JOB, {**CONTEXT, None: "x"}, "None", id="context-none-key"),
        pytest.param(JOB, {**CONTEXT, "locale": 5}, "locale", id="locale-int"),
        pytest.param(JOB, ["companyHandle", "acme"], "jobContext", id="context-list"),
        pytest.param(JOB, "acme", "jobContext", id="context-str"),
        pytest.param(JOB, b"acme", "jobContext", id="context-bytes"),
        pytest.param(["a|1"], CONTEXT, "exportJob", id="job-list"),
        pytest.param("a|1", CONTEXT, "exportJob", id="job-str"),
    ],
)
@pytest.mark.parametrize("entry", ["run", "plan", "submit"])
def test_a_job_or_context_of_the_wrong_shape_is_an_invalid_job_naming_the_field(
    job: Any, context: Any, field: str, entry: str
) -> None:
    with ExportEngine(MemoryStore(), CopyConverter()) as engine:
        with pytest.raises(InvalidJobError) as info:
            getattr(engine, entry)(job, context)
        assert engine.active_jobs() == ()
    assert field in [problem.field for problem in info.value.problems]


def test_the_context_constructor_names_a_non_string_locale() -> None:
    with pytest.raises(InvalidJobError) as info:
        JobContext(company="acme", locale=5)  # type: ignore[arg-type]
    assert [p.field for p in info.value.problems] == ["locale"]


# -- 9: a macro load is bounded as a whole


def doubling_file(copies: int) -> str:
    """A small file whose definitions each copy the largest expansion that fits one definition."""
    lines = ["Name\tDefinition", "m0\twid=1"]
    lines += [f"m{i}\t$m{i - 1}$&$m{i - 1}$" for i in range(1, 10)]  # $m9$: 512 modifiers
    lines += [f"x{j}\t$m9$" for j in range(copies)]
    return "\r\n".join(lines) + "\r\n"


def test_a_macro_file_past_the_load_budget_is_refused_naming_the_file_and_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "macros.txt"
    path.write_text(doubling_file(3000))  # 35 KB; expanding it all took 9 s
    with pytest.raises(MacroDefinitionError, match="load budget") as info:
        MacroLibrary.from_file(path)
    chain = sum(2**i for i in range(10))  # what m0..m9 expand to: 1023 modifiers
    past = (MAX_LOAD_MODIFIERS - chain) // 512 + 1  # the first copy past the budget
    assert info.value.line == 11 + past
    assert info.value.macro == f"x{past - 1}"
    assert str(path) in str(info.value)
    assert f"line {info.value.line}:" in str(info.value)


def test_a_macro_library_within_the_load_budget_still_loads() -> None:
    library = MacroLibrary.from_text(doubling_file(300))
    assert len(library) == 310
    assert len(library.expansion("x299")) == 512


def test_a_mapping_of_definitions_is_bounded_the_same_way() -> None:
    definitions = {"m0": "wid=1"} | {f"m{i}": f"$m{i - 1}$&$m{i - 1}$" for i in range(1, 10)}
    definitions |= {f"x{j}": "$m9$" for j in range(1000)}
    with pytest.raises(MacroDefinitionError, match="load budget"):
        MacroLibrary(definitions)


# -- 9: invisible format characters never reach an output name

INVISIBLE = [
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u202d",  # LEFT-TO-RIGHT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u200b",  # ZERO WIDTH SPACE
    "\u200d",  # ZERO WIDTH JOINER
    "\u00ad",  # SOFT HYPHEN
    "\ufeff",  # BYTE ORDER MARK
    "\u2028",  # LINE SEPARATOR
    "\U000e0041",  # TAG LATIN CAPITAL LETTER A
]


@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_check_name_refuses_an_invisible_format_character(char: str) -> None:
    with pytest.raises(UnsafeNameError, match="invisible"):
        check_name(f"invoice{char}gpj.exe")


@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_an_output_name_loses_its_invisible_characters(char: str) -> None:
    asset = Asset(
        handle="a|1", type="Image", name="x", file_name=f"invoice{char}gpj.exe", company="acme"
    )
    [plan] = plan_exports([asset], ExportJob(asset_handles=["a|1"], fmt="orig"))
    assert plan.output_name == "invoicegpj.exe"


FILE_NAMES = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=60
).filter(str.strip)


@given(FILE_NAMES)
def test_no_safe_name_holds_an_invisible_character(text: str) -> None:
    asset = Asset(handle="a|1", type="Image", name="x", file_name=text, company="acme")
    [plan] = plan_exports([asset], ExportJob(asset_handles=["a|1"], fmt="orig"))
    assert not any(unicodedata.category(c) in {"Cf", "Zl", "Zp"} for c in plan.output_name)
    assert check_name(plan.output_name) == plan.output_name


# -- 9: a huge handle is simply not found


def test_a_100000_character_handle_is_not_found_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "real.jpg").write_bytes(b"\xff\xd8\xff" + b"x" * 16)
    store = DirectoryStore(tmp_path / "src", tmp_path / "out", default_company="acme")
    handles = ["x" * 100_000, "d/" * 50_000, "real.jpg"]
    job = ExportJob(asset_handles=handles, fmt="orig")
    with (
        caplog.at_level(logging.DEBUG, logger="exportjob"),
        ExportEngine(store, CopyConverter()) as engine,
    ):
        log = engine.run(job, JobContext(company="acme"))
        plan = engine.plan(job, JobContext(company="acme"))
    assert [log.outcome(h).code for h in handles[:2]] == ["ASSET_NOT_FOUND"] * 2
    assert log.outcome("real.jpg").exported
    assert [code for _, refusal in plan.failures for code in [refusal.code]] == [
        "ASSET_NOT_FOUND"
    ] * 2
    assert [r for r in caplog.records if r.exc_info] == []
