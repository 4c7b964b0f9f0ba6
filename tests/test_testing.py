"""The host test kit: RecordingNotifier's assertions and the sample originals."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from exportjob import NotifierError
from exportjob._email import build_report
from exportjob._joblog import JobCounts, JobLog, JobReport
from exportjob.testing import RecordingNotifier, sample_jpeg, sample_png

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)


def report(recipient: str = "ann", setting: str = "All") -> JobReport:
    log = JobLog(
        job_handle="j",
        job_name="j",
        company="c",
        fmt="orig",
        state="completed",
        start=T0,
        end=T0,
        counts=JobCounts(success=1, total=1),
    )
    return build_report(log.email_setting.parse(setting), log, recipient)


def test_recording_notifier_records_and_asserts() -> None:
    notifier = RecordingNotifier()
    notifier.notify(report())
    assert repr(notifier) == "<RecordingNotifier with 1 report(s)>"
    assert notifier.assert_notified_once(recipient="ann", email_setting="all") is notifier.last
    with pytest.raises(AssertionError, match="expected no notification"):
        notifier.assert_not_notified()
    with pytest.raises(AssertionError, match="expected recipient 'bob'"):
        notifier.assert_notified_once(recipient="bob")
    with pytest.raises(AssertionError, match="expected emailSetting"):
        notifier.assert_notified_once(email_setting="Error")
    with pytest.raises(AssertionError, match="in the subject"):
        notifier.assert_notified_once(subject_contains="stopped")
    notifier.notify(report())
    with pytest.raises(AssertionError, match="expected one notification, got 2"):
        notifier.assert_notified_once()
    notifier.clear()
    assert (notifier.reports, notifier.attempts) == ((), 0)
    with pytest.raises(AssertionError, match="no report"):
        _ = notifier.last


def test_recording_notifier_can_fail_on_purpose() -> None:
    notifier = RecordingNotifier(raises=NotifierError("down"))
    with pytest.raises(NotifierError):
        notifier.notify(report())
    assert (notifier.attempts, notifier.reports) == (1, ())


@pytest.mark.parametrize(("make", "fmt"), [(sample_jpeg, "JPEG"), (sample_png, "PNG")])
def test_samples_are_deterministic_images_of_the_size_asked(make: object, fmt: str) -> None:
    assert callable(make)
    data = make(40, 30)
    assert data == make(40, 30)
    assert data != make(40, 30, seed=1)
    with Image.open(io.BytesIO(data)) as img:
        assert (img.format, img.size) == (fmt, (40, 30))
