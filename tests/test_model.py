"""The job model: handles, asset types, assets, ExportJob and JobContext, and their IPS wire forms."""

from __future__ import annotations

import json
import pickle

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exportjob import (
    Asset,
    AssetHandle,
    AssetType,
    EmailSetting,
    ExportFormat,
    ExportJob,
    InvalidJobError,
    JobContext,
)
from exportjob.exceptions import FieldProblem, InvalidValueError
from exportjob.ips import EXPORT_JOB_FIELDS, JOB_CONTEXT_FIELDS

SET_TYPES = {
    "ImageSet": "image set",
    "RenderSet": "render set",
    "SpinSet": "spin set",
    "MediaSet": "media set",
    "MultiBitrateSet": "multi-bitrate set",
    "VideoSet": "video set",
    "Catalog": "eCatalog",
    "OfferSet": "offer set",
}


@pytest.mark.parametrize("value", ["a|1801|44|1801", "24265|1|17061", "x", "photo one.jpg"])
def test_handle_accepts_opaque_strings(value: str) -> None:
    assert AssetHandle(value).value == value
    assert str(AssetHandle(value)) == value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="whitespace"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("a\nb", id="newline"),
        pytest.param("a\x7fb", id="del"),
        pytest.param(42, id="not-a-string"),
    ],
)
def test_handle_rejects_bad_values_with_an_invalid_value_error(value: object) -> None:
    with pytest.raises(InvalidValueError) as info:
        AssetHandle(value)  # type: ignore[arg-type]
    assert (info.value.field, info.value.value) == ("handle", value)


def test_handles_are_values() -> None:
    assert AssetHandle("a") == AssetHandle("a")
    assert len({AssetHandle("a"), AssetHandle("a"), AssetHandle("b")}) == 2
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        AssetHandle("a").value = "b"  # type: ignore[misc]


_NAME_TEXT = st.text(
    alphabet=st.sampled_from(
        ["a", " ", "\t", "\n", "\x00", "\x7f", "\x85", "\u00a0", "\u2003", "\u200b", "\u3000", "é"]
    ),
    max_size=4,
)


@given(name=_NAME_TEXT, company=_NAME_TEXT)
def test_an_asset_refuses_blank_names_and_a_company_with_control_characters(
    name: str, company: str
) -> None:
    # A name is any non-blank string; a company is one without control characters too. Blank is
    # empty or only whitespace as str.strip() sees it (U+0085, U+00A0, U+3000 are; U+200B is not).
    name_ok = bool(name.strip())
    company_ok = bool(company.strip()) and not any(c < " " or c == "\x7f" for c in company)
    from exportjob._assets import asset_of  # noqa: PLC0415 - white-box: the stores' fast path

    def checked() -> Asset:
        return Asset(handle="h", type="Image", name=name, file_name=name, company=company)

    def fast() -> Asset:
        h = AssetHandle("h")
        return asset_of(h, AssetType.IMAGE, name=name, file_name=name, company=company)

    for build in (checked, fast):  # the stores' constructor must agree with the checks
        if name_ok and company_ok:
            assert (build().name, build().company) == (name, company)
            assert build() == checked()
        else:
            with pytest.raises(InvalidValueError) as info:
                build()
            assert info.value.field == ("name" if not name_ok else "company")


@pytest.mark.parametrize(("spelling", "label"), SET_TYPES.items())
def test_the_eight_set_kinds_are_sets(spelling: str, label: str) -> None:
    kind = AssetType.parse(spelling)
    assert kind.is_set
    assert kind.label == label


def test_every_set_kind_of_the_exportjob_page_is_covered() -> None:
    labels = {t.label for t in AssetType if t.is_set}
    assert labels == set(SET_TYPES.values())


@pytest.mark.parametrize(
    "spelling", ["Image", "Pdf", "Video", "MasterVideo", "Template", "AnimatedGif", "PostScript"]
)
def test_ordinary_types_are_not_sets(spelling: str) -> None:
    assert not AssetType.parse(spelling).is_set


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("image", AssetType.IMAGE),
        ("IMAGESET", AssetType.IMAGE_SET),
        ("eCatalog", AssetType.CATALOG),
        ("SPINSET2D", AssetType.SPIN_SET),
        ("MBR_SET", AssetType.MULTI_BITRATE_SET),
        ("AdaptiveVideoSet", AssetType.MULTI_BITRATE_SET),
        ("pdfsettings", AssetType.PDF_SETTINGS),
    ],
)
def test_asset_types_parse_case_insensitively_with_aliases(
    spelling: str, expected: AssetType
) -> None:
    assert AssetType.parse(spelling) is expected


def test_unknown_asset_type_is_an_error_listing_the_choices() -> None:
    with pytest.raises(InvalidValueError, match="'Hologram' is not one of") as info:
        AssetType.parse("Hologram")
    assert info.value.field == "AssetType"


def test_parse_names_the_field_it_is_given() -> None:
    with pytest.raises(InvalidValueError) as info:
        EmailSetting.parse("Sometimes", field="email_setting")
    assert (info.value.field, info.value.value) == ("email_setting", "Sometimes")


ASSET = {"handle": "h", "type": "Image", "name": "n", "file_name": "f.jpg", "company": "c"}


def test_asset_converts_and_validates() -> None:
    asset = Asset(**(ASSET | {"type": "imageset", "size": 3}))
    assert asset.handle == AssetHandle("h")
    assert asset.type is AssetType.IMAGE_SET


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"type": "bogus"}, "type", id="unknown-type"),
        pytest.param({"type": 5}, "type", id="type-not-text"),
        pytest.param({"handle": ""}, "handle", id="empty-handle"),
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"file_name": None}, "file_name", id="no-file-name"),
        pytest.param({"company": "a\nb"}, "company", id="control-in-company"),
        pytest.param({"size": -1}, "size", id="negative-size"),
        pytest.param({"size": True}, "size", id="bool-size"),
        pytest.param({"sub_type": 5}, "sub_type", id="sub-type-not-text"),
    ],
)
def test_asset_raises_invalid_value_errors_naming_the_attribute(
    change: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidValueError) as info:
        Asset(**(ASSET | change))  # type: ignore[arg-type]
    assert (info.value.field, info.value.value) == (field, change[field])


def test_job_defaults_and_conversions() -> None:
    job = ExportJob(asset_handles=["a", AssetHandle("b")], fmt="CONVERT", is_modifier="&fmt=png")
    assert job.asset_handles == (AssetHandle("a"), AssetHandle("b"))
    assert job.fmt is ExportFormat.CONVERT
    assert job.email_setting is EmailSetting.NONE
    assert job.macro is None
    assert job.client_id is None


def test_empty_strings_mean_absent() -> None:
    job = ExportJob(asset_handles=["a"], fmt="orig", is_modifier="", macro="", client_id="")
    assert (job.is_modifier, job.macro, job.client_id) == (None, None, None)


def test_duplicates_are_kept_as_submitted_and_exported_once() -> None:
    job = ExportJob(asset_handles=["a", "b", "a", "c", "b"], fmt="orig")
    assert [h.value for h in job.asset_handles] == ["a", "b", "a", "c", "b"]
    assert [h.value for h in job.unique_handles] == ["a", "b", "c"]
    assert [h.value for h in job.duplicate_handles] == ["a", "b"]


@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=8))
def test_repeats_is_the_one_duplicate_rule(handles: list[str]) -> None:
    job = ExportJob(asset_handles=handles, fmt="orig")
    assert job.repeats == tuple(h in handles[:i] for i, h in enumerate(handles))
    pairs = list(zip(job.asset_handles, job.repeats, strict=True))
    assert job.unique_handles == tuple(h for h, rep in pairs if not rep)
    assert job.duplicate_handles == tuple(h for h, rep in pairs if rep)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"asset_handles": [], "fmt": "orig"}, "assetHandleArray", id="no-handles"),
        pytest.param(
            {"asset_handles": "abc", "fmt": "orig"}, "assetHandleArray", id="string-not-list"
        ),
        pytest.param(
            {"asset_handles": ["a"], "fmt": "orig", "is_modifier": "wid=1\n"},
            "is_modifier",
            id="control-in-modifier",
        ),
        pytest.param(
            {"asset_handles": ["a"], "fmt": "orig", "client_id": "   "}, "clientId", id="blank-id"
        ),
    ],
)
def test_job_validation_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidJobError) as info:
        ExportJob(**kwargs)  # type: ignore[arg-type]
    assert [p.field for p in info.value.problems] == [field]


def test_bad_enum_values_raise_value_errors() -> None:
    with pytest.raises(ValueError, match="not one of orig, convert"):
        ExportJob(asset_handles=["a"], fmt="zip")
    with pytest.raises(ValueError, match="ErrorAndWarning"):
        ExportJob(asset_handles=["a"], fmt="orig", email_setting="Sometimes")


def test_the_constructor_reports_every_bad_field_at_once() -> None:
    with pytest.raises(InvalidJobError) as info:
        ExportJob(asset_handles="x", fmt="bogus", email_setting="nope")
    assert [p.field for p in info.value.problems] == ["assetHandleArray", "fmt", "emailSetting"]
    assert str(info.value).startswith("invalid export job: assetHandleArray: must be a list")
    assert info.value.subject == "export job"


def test_the_constructor_names_bad_handles_by_their_index() -> None:
    with pytest.raises(InvalidJobError) as info:
        ExportJob(asset_handles=["ok", "", 7], fmt="orig", macro="\x00")
    assert [p.field for p in info.value.problems] == [
        "assetHandleArray[1]",
        "assetHandleArray[2]",
        "macro",
    ]


SEED_IPS = {
    "assetHandleArray": ["a|1|2", "a|1|3"],
    "fmt": "convert",
    "is_modifier": "&fmt=png",
    "macro": "$test$",
    "emailSetting": "ErrorAndWarning",
    "clientId": "10.0.0.7",
}


def test_from_ips_reads_the_wire_names() -> None:
    job = ExportJob.from_ips(SEED_IPS)
    assert job.fmt is ExportFormat.CONVERT
    assert job.email_setting is EmailSetting.ERROR_AND_WARNING
    assert job.macro == "$test$"
    assert job.client_id == "10.0.0.7"
    assert job.to_ips() == SEED_IPS


@pytest.mark.parametrize(
    ("fmt", "setting"),
    [("ORIG", "all"), ("Convert", "ERROR"), ("orig", "jobcompletion"), ("CONVERT", "none")],
)
def test_from_ips_enumerations_are_case_insensitive(fmt: str, setting: str) -> None:
    job = ExportJob.from_ips({"assetHandleArray": ["a"], "fmt": fmt, "emailSetting": setting})
    assert job.fmt.value == fmt.lower()
    assert job.email_setting.value.lower() == setting.lower()


def test_from_ips_accepts_the_soap_items_shape() -> None:
    raw = {"assetHandleArray": {"items": ["x", "y"]}, "fmt": "orig", "emailSetting": "None"}
    assert [h.value for h in ExportJob.from_ips(raw).asset_handles] == ["x", "y"]


def test_from_ips_takes_the_xml_attributes_beside_the_soap_items() -> None:
    # What SOAP-to-dict tools make of <assetHandleArray xsi:type="...">: attributes, not fields.
    raw = {
        "assetHandleArray": {"items": ["x"], "@xsi:type": "types:HandleArray"},
        "fmt": "orig",
        "emailSetting": "None",
    }
    assert [h.value for h in ExportJob.from_ips(raw).asset_handles] == ["x"]


def test_from_ips_refuses_another_key_beside_the_soap_items() -> None:
    raw = {
        "assetHandleArray": {"items": ["x"], "item": ["y"]},
        "fmt": "orig",
        "emailSetting": "None",
    }
    with pytest.raises(InvalidJobError) as caught:
        ExportJob.from_ips(raw)
    assert [p.field for p in caught.value.problems] == ["assetHandleArray.item"]


def test_from_ips_reports_every_problem_at_once() -> None:
    raw = {
        "assetHandleArray": ["ok", "", "bad\x00"],
        "fmt": "zip",
        "macro": 7,
        "colour": "red",
    }
    with pytest.raises(InvalidJobError) as info:
        ExportJob.from_ips(raw)
    fields = [p.field for p in info.value.problems]
    assert fields == [
        "colour",
        "assetHandleArray[1]",
        "assetHandleArray[2]",
        "fmt",
        "emailSetting",
        "macro",
    ]
    assert "unknown field" in info.value.problems[0].message
    assert "emailSetting: is required" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"fmt": "orig", "emailSetting": "All"}, "assetHandleArray", "is required"),
        (
            {"assetHandleArray": [], "fmt": "orig", "emailSetting": "All"},
            "assetHandleArray",
            "empty",
        ),
        (
            {"assetHandleArray": "a", "fmt": "orig", "emailSetting": "All"},
            "assetHandleArray",
            "list",
        ),
        ({"assetHandleArray": ["a"], "emailSetting": "All"}, "fmt", "is required"),
    ],
)
def test_from_ips_missing_or_malformed_fields(
    raw: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidJobError) as info:
        ExportJob.from_ips(raw)
    assert info.value.problems[0].field == field
    assert message in info.value.problems[0].message


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(["not", "a", "dict"], id="list"),
        pytest.param("assetHandleArray", id="string"),
        pytest.param(None, id="none"),
    ],
)
def test_from_ips_rejects_a_non_mapping(raw: object) -> None:
    with pytest.raises(InvalidJobError) as info:
        ExportJob.from_ips(raw)  # type: ignore[arg-type]
    assert [p.field for p in info.value.problems] == ["exportJob"]


def test_from_ips_names_keys_that_are_not_strings() -> None:
    raw = {"assetHandleArray": ["a"], "fmt": "orig", "emailSetting": "All", 5: "x", "zzz": 1}
    with pytest.raises(InvalidJobError) as info:
        ExportJob.from_ips(raw)
    assert [(p.field, p.value) for p in info.value.problems] == [("zzz", 1), ("5", "x")]
    assert info.value.problems[1].message == "field names must be strings"


# Values of every shape, valid and not, that a job field may be given.
_any_value = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["orig", "CONVERT", "All", "error", "zip", " ", "a\x00", "&wid=1", "$m$"]),
    st.sampled_from(list(ExportFormat) + list(EmailSetting)),
    st.integers(-2, 2),
    st.booleans(),
    st.text(max_size=5),
    st.lists(st.one_of(st.text(max_size=4), st.integers(0, 3), st.none()), max_size=4),
    st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 3), max_size=2),
)


def _outcome(build: object) -> object:
    """What building gives: the value built, or the problems of the ``InvalidJobError``."""
    try:
        return build()  # type: ignore[operator]
    except InvalidJobError as err:
        return err.problems


@given(st.fixed_dictionaries(dict.fromkeys(EXPORT_JOB_FIELDS, _any_value)))
def test_constructor_and_from_ips_report_the_same_problems(values: dict[str, object]) -> None:
    wire = {EXPORT_JOB_FIELDS[k]: v for k, v in values.items()}
    by_constructor = _outcome(lambda: ExportJob(**values))  # type: ignore[arg-type]
    assert by_constructor == _outcome(lambda: ExportJob.from_ips(wire))


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20
).filter(str.strip)


@given(
    handles=st.lists(_text, min_size=1, max_size=5),
    fmt=st.sampled_from(list(ExportFormat)),
    setting=st.sampled_from(list(EmailSetting)),
    modifier=st.none() | _text,
    macro=st.none() | _text,
    client=st.none() | _text,
)
def test_job_round_trips_through_json(
    handles: list[str],
    fmt: ExportFormat,
    setting: EmailSetting,
    modifier: str | None,
    macro: str | None,
    client: str | None,
) -> None:
    job = ExportJob(
        asset_handles=handles,
        fmt=fmt,
        email_setting=setting,
        is_modifier=modifier,
        macro=macro,
        client_id=client,
    )
    assert ExportJob.from_ips(json.loads(json.dumps(job.to_ips()))) == job


# -- a job as text: short, as JobPlan's and JobLog's are (docs/jupyter.md)


def test_a_small_jobs_repr_shows_its_fields_and_handles() -> None:
    job = ExportJob(asset_handles=["a", "b", "a"], fmt="orig")
    assert (
        repr(job)
        == str(job)
        == ("<ExportJob fmt=orig emailSetting=None, 3 handle(s), 1 duplicate(s): 'a', 'b', 'a'>")
    )
    full = ExportJob(
        asset_handles=["a|1", "a|2"],
        fmt="convert",
        is_modifier="&fmt=png&wid=400",
        macro="$web$",
        client_id="c-7",
        email_setting="All",
    )
    assert repr(full) == (
        "<ExportJob fmt=convert is_modifier='&fmt=png&wid=400' macro='$web$' clientId='c-7' "
        "emailSetting=All, 2 handle(s), 0 duplicate(s): 'a|1', 'a|2'>"
    )


@pytest.mark.parametrize("count", [6, 10, 1_000, 100_000])
def test_a_large_jobs_repr_is_short_and_shows_its_first_handles(count: int) -> None:
    job = ExportJob(asset_handles=[f"a|{i}|1801" for i in range(count)], fmt="orig")
    text = repr(job)
    assert len(text) <= 150, text
    assert str(job) == text
    assert text.startswith(f"<ExportJob fmt=orig emailSetting=None, {count:,} handle(s), ")
    assert text.endswith(f": 'a|0|1801', 'a|1|1801', 'a|2|1801', … and {count - 3:,} more>")


def test_a_jobs_repr_cuts_long_text_short() -> None:
    job = ExportJob(asset_handles=["h" * 10_000], fmt="convert", is_modifier="&wid=1" * 5_000)
    text = repr(job)
    assert len(text) <= 250, text
    assert "(30,000 characters)" in text
    assert "(10,000 characters)" in text


def test_a_jobs_equality_and_hash_do_not_follow_its_repr() -> None:
    handles = [f"a|{i}" for i in range(10)]
    one, two = (
        ExportJob(asset_handles=handles, fmt="orig"),
        ExportJob(asset_handles=handles, fmt="orig"),
    )
    assert one == two
    assert hash(one) == hash(two)
    other = ExportJob(asset_handles=[*handles[:9], "a|other"], fmt="orig")
    assert repr(other) == repr(one)  # the same first handles and count: the repr is a summary
    assert other != one


def test_context_recipient_rule() -> None:
    assert JobContext(company="c", user="u", submit_user="s").recipient == "u"
    assert JobContext(company="c", submit_user="s").recipient == "s"
    assert JobContext(company="c").recipient is None


@pytest.mark.parametrize("locale", ["en", "en-US", "fr-CA"])
def test_context_accepts_ips_locales(locale: str) -> None:
    assert JobContext(company="c", locale=locale).locale == locale


@pytest.mark.parametrize("locale", ["EN", "en_US", "en-us", "english", ""])
def test_context_rejects_other_locales(locale: str) -> None:
    with pytest.raises(InvalidJobError) as info:
        JobContext(company="c", locale=locale)
    assert info.value.problems[0].field == "locale"


def test_context_round_trips_through_ips_names() -> None:
    raw = {
        "companyHandle": "c|6",
        "jobName": "Spring export",
        "userHandle": "u|1",
        "locale": "en-US",
        "description": "for print",
    }
    ctx = JobContext.from_ips(raw)
    assert ctx.company == "c|6"
    assert ctx.to_ips() == raw


def test_context_from_ips_reports_missing_and_unknown_fields() -> None:
    with pytest.raises(InvalidJobError) as info:
        JobContext.from_ips({"jobname": "x"})
    assert [p.field for p in info.value.problems] == ["jobname", "companyHandle"]
    assert str(info.value).startswith("invalid job context: jobname: unknown field")
    assert info.value.subject == "job context"


def test_context_from_ips_defaults_the_job_name_as_the_constructor_does() -> None:
    assert JobContext.from_ips({"companyHandle": "c"}) == JobContext(company="c")
    assert JobContext.from_ips({"companyHandle": "c"}).job_name == "export"


def test_the_context_constructor_reports_every_bad_field_at_once() -> None:
    with pytest.raises(InvalidJobError) as info:
        JobContext(company="", user="a\x00", locale="english")
    assert [p.field for p in info.value.problems] == ["companyHandle", "userHandle", "locale"]
    assert str(info.value).startswith("invalid job context: companyHandle: must not be empty")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param(["companyHandle"], "jobContext", id="list"),
        pytest.param("acme", "jobContext", id="string"),
        pytest.param({"companyHandle": "c", "locale": 5}, "locale", id="locale-not-text"),
        pytest.param({"companyHandle": ["c"]}, "companyHandle", id="company-not-text"),
        pytest.param({"companyHandle": "c", 5: "x"}, "5", id="key-not-text"),
        pytest.param({"companyHandle": "c", "jobName": 3}, "jobName", id="name-not-text"),
    ],
)
def test_context_from_ips_names_the_field_of_a_wrong_type(raw: object, field: str) -> None:
    with pytest.raises(InvalidJobError) as info:
        JobContext.from_ips(raw)  # type: ignore[arg-type]
    assert [p.field for p in info.value.problems] == [field]
    assert str(info.value).startswith("invalid job context: ")


_context_value = st.one_of(
    _any_value, st.sampled_from(["acme", "en", "en-US", "EN", "ann@example.com"])
)


@given(st.fixed_dictionaries(dict.fromkeys(JOB_CONTEXT_FIELDS, _context_value)))
def test_context_constructor_and_from_ips_report_the_same_problems(
    values: dict[str, object],
) -> None:
    wire = {JOB_CONTEXT_FIELDS[k]: v for k, v in values.items()}
    by_constructor = _outcome(lambda: JobContext(**values))  # type: ignore[arg-type]
    assert by_constructor == _outcome(lambda: JobContext.from_ips(wire))


def test_invalid_job_error_pickles_with_its_problems() -> None:
    err = InvalidJobError([FieldProblem("fmt", "zip", "bad")], subject="job context")
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, InvalidJobError)
    assert back.problems == (FieldProblem("fmt", "zip", "bad"),)
    assert back.subject == "job context"
    assert str(back) == str(err) == "invalid job context: fmt: bad (got 'zip')"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"asset_handles": None, "fmt": "orig"}, "assetHandleArray", id="none"),
        pytest.param({"asset_handles": 5, "fmt": "orig"}, "assetHandleArray", id="int"),
        pytest.param({"asset_handles": ["a"], "fmt": "zip"}, "fmt", id="bad-fmt"),
        pytest.param(
            {"asset_handles": ["a"], "fmt": "orig", "email_setting": "Daily"},
            "emailSetting",
            id="bad-email-setting",
        ),
    ],
)
def test_constructor_errors_are_invalid_job_errors(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidJobError) as info:
        ExportJob(**kwargs)  # type: ignore[arg-type]
    assert [p.field for p in info.value.problems] == [field]
