"""The emailSetting policy: whether a finished job notifies, whom, and what the notification says."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import BinaryIO

import pytest

from exportjob import Asset, AssetHandle, EmailSetting, ExportEngine, ExportJob, JobContext, JobLog
from exportjob.converters import CopyConverter
from exportjob.exceptions import NotifierError
from exportjob.joblog import LogType, Severity
from exportjob.protocols import OnConflict, WrittenExport
from exportjob.stores import MemoryStore
from exportjob.testing import RecordingNotifier

JPEG = b"\xff\xd8\xff\xe0" + b"x" * 32

#: The handles of five jobs: a clean one, one with a warning only, one with an error, one that fails
#: on a fatal error (its executor refuses all work) and a clean one stopped before it exported.
SCENARIOS = {
    "clean": ["a|1"],
    "warning": ["a|1", "a|1"],  # a skipped duplicate is a warning
    "error": ["a|1", "a|missing"],
    "fatal": ["a|1"],
    "stopped": ["a|1"],
}

#: The severities of the details a notification lists under each setting (docs/email.md).
LISTED = {
    EmailSetting.ERROR: {Severity.ERROR},
    EmailSetting.ERROR_AND_WARNING: {Severity.ERROR, Severity.WARNING},
    EmailSetting.JOB_COMPLETION: set(),
    EmailSetting.ALL: {Severity.ERROR, Severity.WARNING},
}


def make_store() -> MemoryStore:
    store = MemoryStore(default_company="acme")
    store.add("a|1", JPEG, file_name="one.jpg")
    return store


class GatedStore:
    """A store whose ``describe`` waits at a gate, so a test can stop the job at a known point."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.gate = threading.Event()

    def describe(self, handle: AssetHandle) -> Asset:
        self.entered.set()
        assert self.gate.wait(timeout=30), "the test never opened the gate"
        return self.inner.describe(handle)

    def open_original(self, handle: AssetHandle) -> AbstractContextManager[BinaryIO]:
        return self.inner.open_original(handle)

    def write_export(
        self, name: str, chunks: Iterable[bytes], *, on_conflict: OnConflict = OnConflict.ERROR
    ) -> WrittenExport:
        return self.inner.write_export(name, chunks, on_conflict=on_conflict)


def run(
    scenario: str,
    setting: EmailSetting | str,
    *,
    notifier: RecordingNotifier | None = None,
    context: JobContext | None = None,
) -> JobLog:
    job = ExportJob(asset_handles=SCENARIOS[scenario], fmt="orig", email_setting=setting)
    context = context or JobContext(company="acme", user="ann")
    if scenario == "stopped":
        store = GatedStore(make_store())
        with ExportEngine(store, CopyConverter(), notifier=notifier) as engine:
            job_run = engine.submit(job, context)
            assert store.entered.wait(timeout=30)
            job_run.stop()
            store.gate.set()
            return job_run.result(timeout=60)
    executor = None
    if scenario == "fatal":
        executor = ThreadPoolExecutor(1)
        executor.shutdown()  # it refuses every work unit: the job fails on a fatal error
    with ExportEngine(
        make_store(), CopyConverter(), notifier=notifier, executor=executor
    ) as engine:
        return engine.run(job, context)


@pytest.mark.parametrize(
    ("setting", "notified_in"),
    [
        pytest.param(EmailSetting.NONE, set(), id="None-never"),
        pytest.param(EmailSetting.ERROR, {"error", "fatal"}, id="Error-on-errors"),
        pytest.param(
            EmailSetting.ERROR_AND_WARNING, {"warning", "error", "fatal"}, id="ErrorAndWarning"
        ),
        pytest.param(EmailSetting.JOB_COMPLETION, set(SCENARIOS), id="JobCompletion"),
        pytest.param(EmailSetting.ALL, set(SCENARIOS), id="All-always"),
    ],
)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_setting_notifies_exactly_when_the_reference_says(
    setting: EmailSetting, notified_in: set[str], scenario: str
) -> None:
    notifier = RecordingNotifier()
    log = run(scenario, setting, notifier=notifier)

    if scenario in notified_in:
        report = notifier.assert_notified_once(recipient="ann", email_setting=setting)
        assert report.log == log
        # The details it lists: exactly those of the covered severities, in log order.
        assert report.details == tuple(d for d in log.details if d.severity in LISTED[setting])
    else:
        notifier.assert_not_notified()
    assert not [d for d in log.details if d.log_type is LogType.NOTIFICATION_WARNING]


@pytest.mark.parametrize(
    ("setting", "severities"),
    [
        pytest.param(EmailSetting.ERROR, {Severity.ERROR}, id="Error-lists-errors"),
        pytest.param(
            EmailSetting.ERROR_AND_WARNING, {Severity.ERROR, Severity.WARNING}, id="ErrorAndWarning"
        ),
        pytest.param(EmailSetting.JOB_COMPLETION, set(), id="JobCompletion-summary-only"),
        pytest.param(EmailSetting.ALL, {Severity.ERROR, Severity.WARNING}, id="All-lists-all"),
    ],
)
def test_the_notification_lists_the_details_its_setting_covers(
    setting: EmailSetting, severities: set[Severity]
) -> None:
    notifier = RecordingNotifier()
    job = ExportJob(asset_handles=["a|1", "a|1", "a|missing"], fmt="orig", email_setting=setting)
    with ExportEngine(make_store(), CopyConverter(), notifier=notifier) as engine:
        engine.run(job, JobContext(company="acme", user="ann"))

    report = notifier.last
    assert {d.severity for d in report.details} == severities
    assert ("ASSET_NOT_FOUND" in report.body) == (Severity.ERROR in severities)
    assert ("DUPLICATE_HANDLE" in report.body) == (Severity.WARNING in severities)
    assert "Exported:    1" in report.body
    assert f"emailSetting={setting.value}" in report.body


@pytest.mark.parametrize(
    ("scenario", "outcome"),
    [
        ("clean", "completed: 1 exported, 0 error(s), 0 warning(s)"),
        ("warning", "completed with warnings: 1 exported, 0 error(s), 1 warning(s)"),
        ("error", "completed with errors: 1 exported, 1 error(s), 0 warning(s)"),
        ("fatal", "failed: 0 exported, 0 error(s), 0 warning(s)"),
        ("stopped", "stopped: 0 exported, 0 error(s), 0 warning(s)"),
    ],
)
def test_subject_says_the_outcome_and_counts(scenario: str, outcome: str) -> None:
    notifier = RecordingNotifier()
    run(scenario, EmailSetting.ALL, notifier=notifier)
    assert notifier.last.subject == f"[exportjob] Export job 'export' {outcome}"


def test_the_submitter_is_notified_when_the_job_names_no_user() -> None:
    notifier = RecordingNotifier()
    run(
        "clean",
        "JobCompletion",
        notifier=notifier,
        context=JobContext(company="acme", submit_user="sam@example.com", locale="fr-FR"),
    )
    report = notifier.assert_notified_once(recipient="sam@example.com")
    assert report.locale == "fr-FR"


def test_no_recipient_means_no_notification_and_a_warning() -> None:
    notifier = RecordingNotifier()
    log = run("clean", "All", notifier=notifier, context=JobContext(company="acme"))

    notifier.assert_not_notified()
    [warning] = log.warnings
    assert (warning.code, warning.log_type, warning.handle) == (
        "NO_RECIPIENT",
        LogType.NOTIFICATION_WARNING,
        None,
    )
    assert log.counts.warning == 0  # job-level warnings count no file
    assert log.ok


def test_no_notifier_means_a_warning_when_the_setting_asks_for_one() -> None:
    log = run("clean", "JobCompletion")
    assert [w.code for w in log.warnings] == ["NO_NOTIFIER"]
    assert run("clean", "None").warnings == ()


def test_an_expected_notifier_failure_is_one_log_line_and_never_fails_the_export(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = RecordingNotifier(raises=NotifierError("smtp is down"))
    with caplog.at_level(logging.WARNING, logger="exportjob"):
        log = run("clean", "All", notifier=notifier)

    assert notifier.attempts == 1
    assert log.outcome("a|1").exported
    [warning] = log.warnings
    assert warning.code == "NOTIFIER_FAILED"
    assert "smtp is down" in warning.message
    [record] = [r for r in caplog.records if "notifier" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None  # a NotifierError is expected: no traceback
    assert "smtp is down" in record.getMessage()
    assert "\n" not in caplog.text.strip()


def test_a_notifier_raising_anything_is_contained_and_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="exportjob"):
        log = run("clean", "All", notifier=RecordingNotifier(raises=KeyError("boom")))
    assert [w.code for w in log.warnings] == ["NOTIFIER_FAILED"]
    assert "KeyError" in log.warnings[0].message
    records = [r for r in caplog.records if r.exc_info]
    assert records
    assert records[0].exc_info is not None
    assert records[0].exc_info[0] is KeyError


# -- the policy, seen on one job


def test_a_job_with_a_warning_only_notifies_unless_the_setting_is_none_or_error() -> None:
    notified = []
    for setting in EmailSetting:
        notifier = RecordingNotifier()
        log = run("warning", setting, notifier=notifier)
        if notifier.reports:
            notified.append(setting.value)
            if setting is EmailSetting.ALL:
                assert notifier.last.details == log.warnings
    assert notified == ["All", "ErrorAndWarning", "JobCompletion"]


def test_error_setting_mentions_warnings_it_does_not_list() -> None:
    notifier = RecordingNotifier()
    job = ExportJob(asset_handles=["a|1", "a|1", "a|missing"], fmt="orig", email_setting="Error")
    with ExportEngine(make_store(), CopyConverter(), notifier=notifier) as engine:
        log = engine.run(job, JobContext(company="acme", user="ann"))
    report = notifier.assert_notified_once(email_setting="Error")
    assert len(log.warnings) == 1
    assert "(1 warning(s) not listed under emailSetting=Error.)" in report.body
    assert [d.severity for d in report.details] == [Severity.ERROR]
    assert "ASSET_NOT_FOUND" in report.body
    assert "DUPLICATE_HANDLE" not in report.body


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        pytest.param("\n", "\\n", id="newline"),
        pytest.param("\r\n", "\\r\\n", id="crlf"),
        pytest.param("\x1b[2K\r", "\\x1b[2K\\r", id="escape-sequence"),
        pytest.param("\u2028", "\\u2028", id="line-separator"),
    ],
)
def test_a_file_name_cannot_forge_a_line_of_the_body(char: str, shown: str) -> None:
    forged = "INFO    b (b.jpg) exported as b.png (1 bytes)"
    store = MemoryStore(default_company="acme")
    store.add("a", b"not an image", file_name=f"x.jpg{char}{forged}")
    notifier = RecordingNotifier()
    job = ExportJob(asset_handles=["a"], fmt="convert", is_modifier="&fmt=png", email_setting="All")
    with ExportEngine(store, notifier=notifier) as engine:
        log = engine.run(job, JobContext(company="acme", user="ann"))
    body = notifier.last.body
    lines = body.splitlines()
    assert not any(line.lstrip().startswith("INFO") for line in lines), body
    [error] = [line for line in lines if line.startswith("  ERROR")]
    assert error.startswith(f"  ERROR   a (x.jpg{shown}{forged}) CONVERSION_FAILED: ")
    # The log keeps the name as it is: only its text is escaped.
    assert log.errors[0].file_name == f"x.jpg{char}{forged}"
    assert JobLog.from_dict(log.to_dict()) == log
