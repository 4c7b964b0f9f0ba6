"""The job log as plain data: JSON round trips, validation of what is read back, the counting rules."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exportjob import (
    Asset,
    AssetOutcome,
    AssetStatus,
    AssetType,
    EmailSetting,
    ExportEngine,
    ExportFormat,
    ExportJob,
    ExportPlan,
    JobContext,
    JobLog,
    JobState,
)
from exportjob.converters import CopyConverter
from exportjob.exceptions import InvalidValueError, JobLogFormatError
from exportjob.joblog import (
    JobCounts,
    JobReport,
    LogDetail,
    LogType,
    Severity,
    job_handle_from_id,
    job_id_of,
)
from exportjob.stores import MemoryStore
from exportjob.testing import RecordingNotifier, memory_store

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)

# -- strategies (local: the log's shapes are used nowhere else)

texts = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    str.strip
)
optional_texts = st.none() | texts
offsets = st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23))
timestamps = st.datetimes(
    min_value=dt.datetime(1970, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive
    timezones=st.builds(dt.timezone, offsets),
)
counts = st.integers(min_value=0, max_value=10_000)
sizes = st.none() | st.integers(min_value=0, max_value=100_000)

details = st.builds(
    LogDetail,
    severity=st.sampled_from(Severity),
    log_type=st.sampled_from(LogType),
    message=st.text(max_size=40),
    code=optional_texts,
    handle=optional_texts,
    file_name=optional_texts,
    output_name=optional_texts,
    location=optional_texts,
    created=timestamps,
)
outcomes = st.builds(
    AssetOutcome,
    handle=texts,
    status=st.sampled_from(AssetStatus),
    file_name=optional_texts,
    asset_type=st.none() | st.sampled_from(AssetType),
    output_name=optional_texts,
    output_format=optional_texts,
    media_type=optional_texts,
    bytes_written=counts,
    location=optional_texts,
    width=sizes,
    height=sizes,
    code=optional_texts,
    message=optional_texts,
    warnings=st.lists(st.text(max_size=20), max_size=3).map(tuple),
    finished=timestamps,
)
job_counts = st.builds(
    JobCounts,
    success=counts,
    warning=counts,
    error=counts,
    duplicate=counts,
    not_run=counts,
    total=counts,
)
logs = st.builds(
    JobLog,
    job_handle=texts,
    job_name=texts,
    company=texts,
    fmt=st.sampled_from(ExportFormat),
    state=st.sampled_from(JobState),
    start=timestamps,
    end=timestamps,
    counts=job_counts,
    user=optional_texts,
    submit_user=optional_texts,
    description=optional_texts,
    locale=optional_texts,
    email_setting=st.sampled_from(EmailSetting),
    fatal_error=st.booleans(),
    details=st.lists(details, max_size=4).map(tuple),
    outcomes=st.lists(outcomes, max_size=4).map(tuple),
)
reports = st.builds(
    JobReport,
    recipient=texts,
    subject=texts,
    body=texts,
    email_setting=st.sampled_from(EmailSetting),
    log=logs,
    details=st.lists(details, max_size=3).map(tuple),
    locale=optional_texts,
)


def through_json(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data))


@given(logs)
def test_job_log_round_trips_through_json(log: JobLog) -> None:
    data = log.to_dict()
    back = JobLog.from_dict(through_json(data))
    assert back == log
    assert back.to_dict() == data


@given(details)
def test_detail_round_trips_through_json(detail: LogDetail) -> None:
    assert LogDetail.from_dict(through_json(detail.to_dict())) == detail


@given(outcomes)
def test_outcome_round_trips_through_json(outcome: AssetOutcome) -> None:
    assert AssetOutcome.from_dict(through_json(outcome.to_dict())) == outcome


@given(reports)
def test_report_round_trips_through_json(report: JobReport) -> None:
    assert JobReport.from_dict(through_json(report.to_dict())) == report


def test_a_real_jobs_log_and_report_round_trip() -> None:
    store = MemoryStore(default_company="acme")
    store.add("a|1", b"\xff\xd8\xff" + b"x" * 10, file_name="one.jpg")
    store.add("a|set", type="ImageSet", file_name="set")
    notifier = RecordingNotifier()
    job = ExportJob(asset_handles=["a|1", "a|set", "a|1", "a|x"], fmt="orig", email_setting="All")
    with ExportEngine(store, CopyConverter(), notifier=notifier) as engine:
        log = engine.run(job, JobContext(company="acme", user="ann", description="d", locale="en"))

    text = json.dumps(log.to_dict())
    assert JobLog.from_dict(json.loads(text)) == log
    report = notifier.last
    assert JobReport.from_dict(through_json(report.to_dict())) == report


# -- reading back refuses what is not a log


def valid_log_dict() -> dict[str, Any]:
    log = JobLog(
        job_handle="j",
        job_name="j",
        company="c",
        fmt="orig",
        state="completed",
        start=T0,
        end=T0,
        counts=JobCounts(total=1, success=1),
        outcomes=[AssetOutcome(handle="h", status="exported", finished=T0)],
        details=[LogDetail(severity="Info", log_type="ExportSuccess", message="ok", created=T0)],
    )
    return log.to_dict()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"version": 2}, "jobLog.version", id="other-version"),
        pytest.param({"version": True}, "jobLog.version", id="version-not-an-int"),
        pytest.param({"colour": "red"}, "jobLog.colour", id="unknown-field"),
        pytest.param({5: "red"}, "jobLog.5", id="key-not-text"),
        pytest.param({"start": "yesterday"}, "jobLog.start", id="bad-timestamp"),
        pytest.param({"start": "2024-05-01T12:00:00"}, "jobLog.start", id="naive-timestamp"),
        pytest.param({"start": 5}, "jobLog.start", id="timestamp-not-text"),
        pytest.param({"state": "exploded"}, "jobLog.state", id="unknown-state"),
        pytest.param({"counts": [1, 2]}, "jobLog.counts", id="counts-not-a-mapping"),
        pytest.param({"details": "none"}, "jobLog.details", id="details-not-a-list"),
        pytest.param({"outcomes": [5]}, "jobLog.outcomes[0]", id="outcome-not-a-mapping"),
        pytest.param({"fatal_error": "no"}, "jobLog.fatal_error", id="fatal-error-not-bool"),
        pytest.param({"company": 5}, "jobLog.company", id="company-not-text"),
        pytest.param({"fmt": "zip"}, "jobLog.fmt", id="unknown-fmt"),
    ],
)
def test_from_dict_names_the_field_that_is_wrong(change: dict[Any, Any], field: str) -> None:
    data = valid_log_dict() | change
    with pytest.raises(JobLogFormatError) as info:
        JobLog.from_dict(data)
    assert [p.field for p in info.value.problems] == [field]
    assert info.value.code == "INVALID_JOB_LOG"
    assert str(info.value).startswith(f"invalid job log: {field}: ")


def test_from_dict_reports_a_missing_field() -> None:
    data = valid_log_dict()
    del data["counts"], data["company"]
    with pytest.raises(JobLogFormatError) as info:
        JobLog.from_dict(data)
    assert [(p.field, p.message) for p in info.value.problems] == [
        ("jobLog.company", "is required"),
        ("jobLog.counts", "is required"),
    ]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        pytest.param(("outcomes", 0, "bytes_written"), -1, "jobLog.outcomes[0].bytes_written"),
        pytest.param(("outcomes", 0, "handle"), "", "jobLog.outcomes[0].handle"),
        pytest.param(("outcomes", 0, "warnings"), "abc", "jobLog.outcomes[0].warnings"),
        pytest.param(("outcomes", 0, "warnings"), [1], "jobLog.outcomes[0].warnings"),
        pytest.param(("outcomes", 0, "kept_metadata"), None, "jobLog.outcomes[0].kept_metadata"),
        pytest.param(("outcomes", 0, "kept_metadata"), [1], "jobLog.outcomes[0].kept_metadata"),
        pytest.param(("details", 0, "severity"), "Catastrophe", "jobLog.details[0].severity"),
        pytest.param(("details", 0, "created"), "soon", "jobLog.details[0].created"),
        pytest.param(("counts", "total"), -1, "jobLog.counts.total"),
    ],
)
def test_from_dict_names_the_field_of_a_nested_record(
    path: tuple[Any, ...], value: object, field: str
) -> None:
    data = valid_log_dict()
    *parents, last = path
    target: Any = data
    for key in parents:
        target = target[key]
    target[last] = value
    with pytest.raises(JobLogFormatError) as info:
        JobLog.from_dict(data)
    assert [(p.field, p.value) for p in info.value.problems] == [(field, value)]


@pytest.mark.parametrize(
    ("read", "raw", "field"),
    [
        pytest.param(LogDetail.from_dict, [], "logDetail", id="detail-not-a-mapping"),
        pytest.param(
            LogDetail.from_dict,
            {"severity": "nope", "log_type": "ExportError", "message": "m"},
            "logDetail.severity",
            id="detail-severity",
        ),
        pytest.param(AssetOutcome.from_dict, {"handle": "h"}, "assetOutcome.status", id="outcome"),
        pytest.param(JobCounts.from_dict, {"success": "1"}, "jobCounts.success", id="counts"),
        pytest.param(JobCounts.from_dict, {1: 1}, "jobCounts.1", id="counts-key-not-text"),
        pytest.param(JobReport.from_dict, "x", "jobReport", id="report-not-a-mapping"),
        pytest.param(JobReport.from_dict, {"log": []}, "jobReport.log", id="report-log"),
    ],
)
def test_every_from_dict_raises_job_log_format_errors(read: Any, raw: object, field: str) -> None:
    with pytest.raises(JobLogFormatError) as info:
        read(raw)
    assert info.value.problems[0].field == field


def test_a_reports_nested_log_is_named_by_its_path() -> None:
    report = {
        "recipient": "r",
        "subject": "s",
        "body": "b",
        "email_setting": "All",
        "log": valid_log_dict() | {"state": "exploded"},
    }
    with pytest.raises(JobLogFormatError) as info:
        JobReport.from_dict(report)
    assert [p.field for p in info.value.problems] == ["jobReport.log.state"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(st.data(), _json)
def test_from_dict_of_any_json_returns_a_log_or_raises_job_log_format_error(
    data: st.DataObject, value: object
) -> None:
    raw = valid_log_dict()
    target = data.draw(st.sampled_from([raw, raw["counts"], raw["details"][0], raw["outcomes"][0]]))
    target[data.draw(st.sampled_from([*sorted(target), "extra"]))] = value
    try:
        log = JobLog.from_dict(raw)
    except JobLogFormatError as err:
        problems = err.problems
    else:
        assert JobLog.from_dict(log.to_dict()) == log
        return
    assert problems
    assert all(p.field.startswith("jobLog") for p in problems)


LOG_FIELDS: dict[str, Any] = {
    "job_handle": "j",
    "job_name": "j",
    "company": "c",
    "fmt": "orig",
    "state": "completed",
    "start": T0,
    "end": T0,
    "counts": JobCounts(),
}
VALID: dict[type, dict[str, Any]] = {
    LogDetail: {"severity": "Info", "log_type": "ExportError", "message": "m"},
    AssetOutcome: {"handle": "h", "status": "failed"},
    JobCounts: {},
    JobLog: LOG_FIELDS,
}
NAIVE = dt.datetime(2024, 1, 1)  # noqa: DTZ001 - the point of the tests that use it


@pytest.mark.parametrize(
    ("kind", "change", "field"),
    [
        pytest.param(LogDetail, {"severity": "nope"}, "severity", id="detail-severity"),
        pytest.param(LogDetail, {"log_type": "Exploded"}, "log_type", id="detail-log-type"),
        pytest.param(LogDetail, {"message": 5}, "message", id="detail-message-not-text"),
        pytest.param(LogDetail, {"handle": ""}, "handle", id="detail-empty-handle"),
        pytest.param(LogDetail, {"created": NAIVE}, "created", id="detail-naive-timestamp"),
        pytest.param(AssetOutcome, {"status": "gone"}, "status", id="outcome-status"),
        pytest.param(AssetOutcome, {"bytes_written": -1}, "bytes_written", id="outcome-bytes"),
        pytest.param(AssetOutcome, {"warnings": "w"}, "warnings", id="outcome-warnings-text"),
        pytest.param(AssetOutcome, {"asset_type": "Hologram"}, "asset_type", id="outcome-type"),
        pytest.param(AssetOutcome, {"width": 1.5}, "width", id="outcome-width"),
        pytest.param(JobCounts, {"success": -1}, "success", id="counts-negative"),
        pytest.param(JobCounts, {"total": True}, "total", id="counts-bool"),
        pytest.param(JobLog, {"counts": {"total": 0}}, "counts", id="log-counts"),
        pytest.param(JobLog, {"details": [1]}, "details", id="log-details"),
        pytest.param(JobLog, {"fmt": "zip"}, "fmt", id="log-fmt"),
        pytest.param(JobLog, {"fatal_error": 1}, "fatal_error", id="log-fatal"),
    ],
)
def test_records_raise_invalid_value_errors_naming_the_attribute(
    kind: type, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidValueError) as info:
        kind(**(VALID[kind] | change))
    assert (info.value.field, info.value.value) == (field, change[field])
    assert isinstance(info.value, ValueError)


def test_timestamps_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        LogDetail(
            severity="Info",
            log_type="ExportSuccess",
            message="m",
            created=NAIVE,
        )


# -- counting rules and conveniences


def test_tally_counts_outcomes_once_and_warned_handles_once() -> None:
    outs = [
        AssetOutcome(handle="a", status="exported"),
        AssetOutcome(handle="b", status="failed"),
        AssetOutcome(handle="c", status="refused"),
        AssetOutcome(handle="d", status="not_run"),
    ]
    warn: dict[str, Any] = {"severity": "Warning", "log_type": "ExportWarning", "message": "w"}
    dets = [
        LogDetail(handle="a", **warn),
        LogDetail(handle="a", **warn),
        LogDetail(handle="b", **warn),
        LogDetail(**warn),  # job-level: no file
    ]
    assert JobCounts.tally(outs, dets, duplicates=2) == JobCounts(
        success=1, warning=2, error=2, duplicate=2, not_run=1, total=6
    )


def test_log_helpers() -> None:
    log = JobLog.from_dict(valid_log_dict())
    assert log.outcome("h").exported
    with pytest.raises(KeyError):
        log.outcome("nope")
    assert log.details_for("h") == ()
    assert log.duration == dt.timedelta(0)
    assert log.summary() == (
        "j: completed, 1 exported, 0 error(s), 0 warning(s), 0 duplicate(s), 0 not run, 1 total"
    )
    assert repr(log).startswith("<JobLog 'j' completed: 1 exported")
    extra = LogDetail(severity="Warning", log_type="ExportWarning", message="w", handle="h")
    assert log.with_details(extra).counts.warning == 1
    assert str(extra) == "WARNING h w"


@given(st.text(min_size=1, max_size=80))
def test_a_job_id_is_url_safe_and_gives_its_handle_back(handle: str) -> None:
    handle = handle.encode("utf-8", "replace").decode()  # a handle is valid text
    job_id = job_id_of(handle)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", job_id)
    assert urllib.parse.quote(job_id, safe="") == job_id
    assert job_handle_from_id(job_id) == handle


@pytest.mark.parametrize("bad", ["a|b", "YQ=", "Y", "YR"])
def test_a_string_that_is_no_job_id_is_refused(bad: str) -> None:
    with pytest.raises(InvalidValueError):
        job_handle_from_id(bad)


def test_a_run_and_its_log_share_one_job_id_and_the_log_round_trips() -> None:
    with ExportEngine(memory_store(["a"]), CopyConverter()) as engine:
        run = engine.submit(
            ExportJob(asset_handles=["a"], fmt="orig"),
            JobContext(company="acme", job_name="my job"),
        )
        log = run.result()
    assert run.job_id == log.job_id == job_id_of(log.job_handle)
    assert " " in log.job_handle
    assert "|" in log.job_handle
    assert job_handle_from_id(run.job_id) == run.job_handle
    assert "job_id" not in log.to_dict()  # derived: the log format is unchanged
    assert JobLog.from_dict(log.to_dict()).job_id == log.job_id


def test_every_detail_of_a_log_is_what_its_checked_constructor_would_build() -> None:
    """The engine builds a log's per-asset details without checking their fields again (they
    come from checked outcomes); each must equal the same detail built with every check."""
    store = MemoryStore(default_company="acme")
    store.add("a", b"x", file_name="a.bin")
    store.add("b", b"y", file_name="b.bin")
    store.add("c", b"z", file_name="c.bin", company="other")
    store.add_export("b.bin", b"someone else's")
    job = ExportJob(asset_handles=["a", "b", "c", "missing", "a"], fmt="orig", macro="$x$")
    with ExportEngine(store, CopyConverter()) as engine:
        log = engine.run(job, JobContext(company="acme"))
    kinds = {d.log_type for d in log.details}
    assert {LogType.EXPORT_SUCCESS, LogType.EXPORT_ERROR, LogType.DUPLICATE_SKIPPED} <= kinds
    for detail in log.details:
        rebuilt = LogDetail(
            severity=detail.severity.value,
            log_type=detail.log_type.value,
            message=detail.message,
            code=detail.code,
            handle=None if detail.handle is None else detail.handle.value,
            file_name=detail.file_name,
            output_name=detail.output_name,
            location=detail.location,
            created=detail.created,
        )
        assert rebuilt == detail
        assert LogDetail.from_dict(detail.to_dict()) == detail


def test_an_exported_outcome_is_what_its_checks_would_build_or_refuse() -> None:
    """``AssetOutcome.for_export`` sets plain values as they are (one outcome per asset): for every
    mix of plain and bad values from a converter, a store and a plan, it gives what the checked
    constructor gives, or raises as it does."""
    import itertools  # noqa: PLC0415

    import attrs  # noqa: PLC0415

    asset = Asset(handle="h", type="Image", name="n", file_name="f.jpg", company="c")
    plans = [
        ExportPlan(asset=asset, fmt=ExportFormat.ORIG, output_name="f.jpg", warnings=w)
        for w in [(), ("w1", "w2"), ["w"]]
    ]
    values: dict[str, list[Any]] = {
        "output_format": [None, "png", 3],
        "media_type": ["image/png", None],
        "bytes_written": [0, 10, -1, True],
        "location": ["/x", None],
        "width": [None, 5, -1],
        "height": [None, 7, True],
        "kept_metadata": [(), ("xmp",), ["xmp"], (1,)],
    }
    for plan in plans:
        for combo in itertools.product(*values.values()):
            given = dict(zip(values, combo, strict=True))
            try:
                checked: AssetOutcome | None = AssetOutcome(
                    handle=plan.handle,
                    status="exported",
                    file_name=plan.asset.file_name,
                    asset_type=plan.asset.type,
                    output_name=plan.output_name,
                    warnings=plan.warnings,
                    **given,
                )
            except InvalidValueError:
                checked = None
            try:
                built: AssetOutcome | None = AssetOutcome.for_export(plan, **given)
            except InvalidValueError:
                built = None
            if checked is None or built is None:
                assert checked is built, given
            else:
                assert attrs.evolve(built, finished=checked.finished) == checked, given


# -- a detail as text: one line, whatever a file name or a message holds

#: Characters that break a line or drive a terminal, as ``str(detail)`` shows them.
LINE_BREAKERS = [
    pytest.param("\n", "\\n", id="newline"),
    pytest.param("\r", "\\r", id="carriage-return"),
    pytest.param("\x1b[2K", "\\x1b[2K", id="escape-sequence"),
    pytest.param("\x85", "\\x85", id="next-line"),
    pytest.param("\u2028", "\\u2028", id="line-separator"),
    pytest.param("\x00", "\\x00", id="nul"),
    pytest.param("\u202e", "\\u202e", id="right-to-left-override"),  # reads as other text
]


@pytest.mark.parametrize(("char", "shown"), LINE_BREAKERS)
def test_a_detail_is_one_line_with_control_characters_escaped(char: str, shown: str) -> None:
    name = f"x.jpg{char}INFO    b (b.jpg) exported as b.png (1 bytes)"
    detail = LogDetail(
        severity="Error",
        log_type="ExportError",
        message=f"cannot read {char}it",
        code="CONVERSION_FAILED",
        handle="a",
        file_name=name,
        created=T0,
    )
    text = str(detail)
    assert text == (
        f"ERROR   a (x.jpg{shown}INFO    b (b.jpg) exported as b.png (1 bytes)) "
        f"CONVERSION_FAILED: cannot read {shown}it"
    )
    assert len(text.splitlines()) == 1
    back = LogDetail.from_dict(json.loads(json.dumps(detail.to_dict())))
    assert back == detail  # the stored name is the name: only its rendering is escaped
    assert back.file_name == name


def test_a_detail_of_printable_text_is_shown_as_it_is() -> None:
    detail = LogDetail(
        severity="Warning",
        log_type="ExportWarning",
        message="ein Füßchen 'quoted' \\ back",
        handle="a",
        file_name="été 🌸.jpg",
    )
    assert str(detail) == "WARNING a (été 🌸.jpg) ein Füßchen 'quoted' \\ back"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Screenshot 2024-01-05 at 10.00.00\u202fAM.png", id="macos-narrow-nbsp"),
        pytest.param("Annual\xa0report.pdf", id="nbsp"),
        pytest.param("写真\u3000一覧.png", id="ideographic-space"),
        pytest.param("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.jpg", id="zwnj"),
        pytest.param("👨\u200d👩\u200d👧.jpg", id="zwj-emoji"),
        pytest.param(
            "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f.png",
            id="flag-tags",
        ),
        pytest.param("\u200f\u0635\u0648\u0631\u0629.jpg", id="rtl-mark"),
        pytest.param("Pho\xadto.jpg", id="soft-hyphen"),
    ],
)
def test_a_detail_shows_an_ordinary_name_as_it_is(name: str) -> None:
    detail = LogDetail(
        severity="Error", log_type="ExportError", message="x", handle="a", file_name=name
    )
    assert str(detail) == f"ERROR   a ({name}) x"
