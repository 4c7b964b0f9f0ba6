"""The host test kit: what a host application needs to unit-test its integration with exportjob.

- ``memory_store`` fills a ``MemoryStore`` from a short spec (``AssetSpec``), with images made in code;
- ``sample_image``, ``sample_jpeg`` and ``sample_png`` make photo-like originals (and hostile ones);
- ``RecordingNotifier`` records every report it is asked to deliver (and can fail on purpose);
- ``FaultyStore`` wraps any store and makes chosen reads or writes fail, to test failure handling;
- ``exportjob.pytest_plugin`` turns these into pytest fixtures.

exportjob's own tests use this module as a host would.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from typing import Literal

import attrs

from .._enums import AssetType, EmailSetting
from .._log import JobReport
from ..stores import MemoryStore
from ._faulty import FaultyStore

__all__ = [
    "AssetSpec",
    "FaultyStore",
    "RecordingNotifier",
    "SampleKind",
    "memory_store",
    "sample_image",
    "sample_jpeg",
    "sample_png",
    "sample_report",
]

#: The kinds of original ``sample_image`` makes. ``corrupt``, ``truncated``, ``empty`` and ``text``
#: are hostile inputs that a converter must refuse cleanly.
SampleKind = Literal[
    "jpeg",
    "png",
    "png-alpha",
    "gif",
    "tiff",
    "webp",
    "cmyk-jpeg",
    "png16",
    "corrupt",
    "truncated",
    "empty",
    "text",
]


def sample_image(
    kind: SampleKind = "jpeg", width: int = 64, height: int = 48, *, seed: int = 0
) -> bytes:
    r"""Return the bytes of an original of *kind*, the same for the same arguments.

    >>> sample_image("png", 8, 8)[:4]
    b'\x89PNG'
    >>> sample_image("empty")
    b''
    """
    from . import images  # noqa: PLC0415 - Pillow only when a sample is made

    size = (width, height)
    simple = {
        "jpeg": ("JPEG", {"quality": 90}),
        "png": ("PNG", {}),
        "gif": ("GIF", {}),
        "tiff": ("TIFF", {}),
        "webp": ("WEBP", {"quality": 90}),
    }
    if kind in simple:
        fmt, options = simple[kind]
        return images.encode(images.photo(size, seed), fmt, **options)
    if kind == "png-alpha":
        return images.encode(images.rgba_with_transparency(size), "PNG")
    if kind == "cmyk-jpeg":
        return images.cmyk_jpeg(size)
    if kind == "png16":
        return images.png16(size)
    if kind == "truncated":
        data = sample_image("jpeg", width, height, seed=seed)
        return data[: len(data) // 2]
    if kind == "corrupt":
        damaged = bytearray(sample_image("png", width, height, seed=seed))
        damaged[40:60] = bytes(20)
        return bytes(damaged)
    if kind == "empty":
        return b""
    if kind == "text":
        return b"this is not an image\n"
    msg = f"unknown sample kind {kind!r}"
    raise ValueError(msg)


@attrs.frozen(kw_only=True)
class AssetSpec:
    """One asset for ``memory_store``: its handle and, optionally, what to make of it.

    *image* is a ``SampleKind`` (``None`` for a set, which has no file); *type* defaults to what
    the bytes show (``ImageSet`` and the other set types need it); *file_name* defaults to the
    handle plus the image's usual extension; *company* to the store's.
    """

    handle: str
    image: SampleKind | None = "jpeg"
    size: tuple[int, int] = (64, 48)
    seed: int = 0
    type: AssetType | str | None = None
    file_name: str | None = None
    company: str | None = None


_EXTENSIONS = {
    "jpeg": ".jpg",
    "cmyk-jpeg": ".jpg",
    "png": ".png",
    "png-alpha": ".png",
    "png16": ".png",
    "gif": ".gif",
    "tiff": ".tif",
    "webp": ".webp",
    "truncated": ".jpg",
    "corrupt": ".png",
    "empty": ".jpg",
    "text": ".jpg",
}


def memory_store(
    specs: Iterable[AssetSpec | str] | Mapping[str, SampleKind | None] | AssetSpec | str = (),
    *,
    company: str = "acme",
) -> MemoryStore:
    """Return a ``MemoryStore`` of *company* filled from *specs*.

    *specs* is a list of ``AssetSpec`` (or bare handles, made JPEG), or a mapping of handle to
    sample kind (``None`` makes an image set). One string is one handle.

    >>> from exportjob import AssetHandle
    >>> store = memory_store({"a|1": "jpeg", "a|2": "png", "set": None})
    >>> tuple(store.describe(AssetHandle(h)).type.value for h in ("a|1", "a|2", "set"))
    ('Image', 'Image', 'ImageSet')
    """
    if isinstance(specs, Mapping):
        items: list[AssetSpec | str] = [
            AssetSpec(handle=h, image=kind, type=None if kind else AssetType.IMAGE_SET)
            for h, kind in specs.items()
        ]
    elif isinstance(specs, str | AssetSpec):
        items = [specs]  # one asset, not one per character
    else:
        items = list(specs)
    store = MemoryStore(default_company=company)
    for item in items:
        spec = AssetSpec(handle=item) if isinstance(item, str) else item
        data = None if spec.image is None else sample_image(spec.image, *spec.size, seed=spec.seed)
        if data is None and spec.type is None:
            spec = attrs.evolve(spec, type=AssetType.IMAGE_SET)
        safe = spec.handle.replace("|", "-").replace("/", "-")
        ext = "" if spec.image is None else _EXTENSIONS[spec.image]
        store.add(
            spec.handle,
            data,
            type=spec.type,
            file_name=spec.file_name if spec.file_name is not None else f"{safe}{ext}",
            company=spec.company,
        )
    return store


def sample_jpeg(width: int = 640, height: int = 480, *, seed: int = 0, quality: int = 90) -> bytes:
    r"""Return a photo-like JPEG of *width* x *height*, the same bytes for the same arguments.

    >>> sample_jpeg(64, 48)[:3]
    b'\xff\xd8\xff'
    """
    from . import images  # noqa: PLC0415 - Pillow only when a sample is made

    return images.encode(images.photo((width, height), seed), "JPEG", quality=quality)


def sample_png(width: int = 640, height: int = 480, *, seed: int = 0) -> bytes:
    r"""Return a photo-like PNG of *width* x *height*, the same bytes for the same arguments.

    >>> sample_png(8, 8)[:4]
    b'\x89PNG'
    """
    from . import images  # noqa: PLC0415

    return images.encode(images.photo((width, height), seed), "PNG")


def sample_report(recipient: str = "ann", *, locale: str | None = None) -> JobReport:
    """A report of a small completed job, as a ``Notifier`` receives it: for a host's own notifier tests.

    >>> sample_report("ann@example.com").subject
    "[exportjob] Export job 'nightly' completed: 2 exported, 0 error(s), 0 warning(s)"
    """
    from .._counts import JobCounts  # noqa: PLC0415
    from .._email import build_report  # noqa: PLC0415 - the policy module only when a report is made
    from .._log import JobLog  # noqa: PLC0415

    start = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
    log = JobLog(
        job_handle="acme|nightly|1",
        job_name="nightly",
        company="acme",
        fmt="orig",
        state="completed",
        start=start,
        end=start,
        counts=JobCounts(success=2, total=2),
        email_setting=EmailSetting.JOB_COMPLETION,
    )
    return build_report(log.email_setting, log, recipient, locale=locale)


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
