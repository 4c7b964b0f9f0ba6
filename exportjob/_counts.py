"""The job's counters: how many assets were exported, warned, failed, skipped, not run, repeated.

The counting rules are in ``exportjob.joblog``'s docstring; ``JobCounts.tally`` applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ._dicts import read_record
from ._records import AssetOutcome, AssetStatus, LogDetail, Severity
from ._values import count

__all__ = ["JobCounts", "count_warned"]


@attrs.frozen
class JobCounts:
    """The job's counters, as the IPS job log keeps them (see the module docstring for the rules).

    >>> JobCounts(success=3, warning=1, error=1, duplicate=1, not_run=0, total=5)
    JobCounts(success=3, warning=1, error=1, duplicate=1, not_run=0, total=5, skipped=0)
    """

    success: int = attrs.field(default=0, validator=count, kw_only=True)
    warning: int = attrs.field(default=0, validator=count, kw_only=True)
    error: int = attrs.field(default=0, validator=count, kw_only=True)
    duplicate: int = attrs.field(default=0, validator=count, kw_only=True)
    not_run: int = attrs.field(default=0, validator=count, kw_only=True)
    total: int = attrs.field(default=0, validator=count, kw_only=True)
    skipped: int = attrs.field(default=0, validator=count, kw_only=True)

    @classmethod
    def tally(
        cls,
        outcomes: Iterable[AssetOutcome],
        details: Iterable[LogDetail],
        *,
        duplicates: int,
    ) -> JobCounts:
        """Count *outcomes* (one per distinct handle), warning *details* and skipped *duplicates*."""
        by_status = dict.fromkeys(AssetStatus, 0)  # counted without a copy of the outcomes
        for o in outcomes:
            by_status[o.status] += 1
        return cls(
            success=by_status[AssetStatus.EXPORTED],
            warning=count_warned(details),
            error=by_status[AssetStatus.FAILED] + by_status[AssetStatus.REFUSED],
            duplicate=duplicates,
            not_run=by_status[AssetStatus.NOT_RUN],
            skipped=by_status[AssetStatus.SKIPPED],
            total=sum(by_status.values()) + duplicates,
        )

    def to_dict(self) -> dict[str, int]:
        """Return the counters as a dict."""
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> JobCounts:
        """Read counters written by ``to_dict``.

        Raises:
            JobLogFormatError: naming the offending field (``jobCounts.total``).
        """
        return read_record(cls, raw, "jobCounts")

    def __str__(self) -> str:
        skipped = f"{self.skipped} skipped, " if self.skipped else ""
        return (
            f"{self.success} exported, {self.error} error(s), {self.warning} warning(s), "
            f"{self.duplicate} duplicate(s), {self.not_run} not run, {skipped}{self.total} total"
        )


def count_warned(details: Iterable[LogDetail]) -> int:
    """The warning count rule: the distinct handles with at least one warning detail."""
    return len(
        {d.handle for d in details if d.severity is Severity.WARNING and d.handle is not None}
    )
