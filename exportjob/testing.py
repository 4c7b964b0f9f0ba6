"""The host test kit: test doubles for exportjob's plug-in points, used by exportjob's own tests too.

``RecordingNotifier`` records every report it is asked to deliver (and can fail on purpose);
``sample_jpeg`` and ``sample_png`` make photo-like originals in code. ``MemoryStore`` (in
``exportjob.stores``) is the store double.
"""

from __future__ import annotations

import threading

from ._joblog import JobReport
from ._model import EmailSetting

__all__ = ["RecordingNotifier", "sample_jpeg", "sample_png"]


def sample_jpeg(width: int = 640, height: int = 480, *, seed: int = 0, quality: int = 90) -> bytes:
    r"""Return a photo-like JPEG of *width* x *height*, the same bytes for the same arguments.

    >>> sample_jpeg(64, 48)[:3]
    b'\xff\xd8\xff'
    """
    from . import _samples  # noqa: PLC0415 - Pillow only when a sample is made

    return _samples.encode(_samples.photo((width, height), seed), "JPEG", quality=quality)


def sample_png(width: int = 640, height: int = 480, *, seed: int = 0) -> bytes:
    r"""Return a photo-like PNG of *width* x *height*, the same bytes for the same arguments.

    >>> sample_png(8, 8)[:4]
    b'\x89PNG'
    """
    from . import _samples  # noqa: PLC0415

    return _samples.encode(_samples.photo((width, height), seed), "PNG")


class RecordingNotifier:
    """A ``Notifier`` that records every report; with *raises*, it raises that error instead.

    >>> notifier = RecordingNotifier()
    >>> notifier
    <RecordingNotifier with 0 report(s)>
    >>> notifier.assert_not_notified()
    """

    def __init__(self, *, raises: BaseException | None = None) -> None:
        self.raises = raises
        self._lock = threading.Lock()
        self._reports: list[JobReport] = []
        self._attempts = 0

    def __repr__(self) -> str:
        return f"<RecordingNotifier with {len(self.reports)} report(s)>"

    def notify(self, report: JobReport) -> None:
        """Record *report*, or raise the configured error."""
        with self._lock:
            self._attempts += 1
        if self.raises is not None:
            raise self.raises
        with self._lock:
            self._reports.append(report)

    @property
    def reports(self) -> tuple[JobReport, ...]:
        """Every report delivered, in order."""
        with self._lock:
            return tuple(self._reports)

    @property
    def attempts(self) -> int:
        """How many times ``notify`` was called, including calls that raised."""
        with self._lock:
            return self._attempts

    @property
    def last(self) -> JobReport:
        """The last report delivered; ``AssertionError`` if there is none."""
        reports = self.reports
        if not reports:
            msg = "no report was delivered"
            raise AssertionError(msg)
        return reports[-1]

    def assert_not_notified(self) -> None:
        """Fail unless ``notify`` was never called."""
        if self.attempts:
            msg = f"expected no notification, got {self.attempts}: {list(self.reports)!r}"
            raise AssertionError(msg)

    def assert_notified_once(
        self,
        *,
        recipient: str | None = None,
        email_setting: EmailSetting | str | None = None,
        subject_contains: str | None = None,
    ) -> JobReport:
        """Fail unless exactly one report was delivered and it matches; return it.

        *recipient*, *email_setting* and *subject_contains* are checked when given.
        """
        reports = self.reports
        if len(reports) != 1:
            msg = f"expected one notification, got {len(reports)}: {list(reports)!r}"
            raise AssertionError(msg)
        report = reports[0]
        if recipient is not None and report.recipient != recipient:
            msg = f"expected recipient {recipient!r}, got {report.recipient!r}"
            raise AssertionError(msg)
        if email_setting is not None and report.email_setting is not EmailSetting.parse(
            email_setting
        ):
            msg = f"expected emailSetting {email_setting!r}, got {report.email_setting.value!r}"
            raise AssertionError(msg)
        if subject_contains is not None and subject_contains not in report.subject:
            msg = f"expected {subject_contains!r} in the subject {report.subject!r}"
            raise AssertionError(msg)
        return report

    def clear(self) -> None:
        """Forget every report and attempt."""
        with self._lock:
            self._reports.clear()
            self._attempts = 0
