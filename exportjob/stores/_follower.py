"""The progress callback of ``ZipStore.stream``: the archive grows by the finished prefix of its job.

Workers finish assets in any order; the archive holds its entries in job order. So each finished
asset waits until every asset before it has finished, and the run of them is then appended.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .._records import AssetStatus

if TYPE_CHECKING:
    from .._assets import AssetHandle
    from .._run import AssetProgress

__all__ = ["Follower"]


class Follower:
    """Calls *take* with the name of each export of *handles*, in their order, as they finish."""

    def __init__(self, take: Callable[[str], None], handles: Sequence[AssetHandle]) -> None:
        self.take = take
        self.handles = handles
        self.next = 0
        self.waiting: dict[AssetHandle, str | None] = {}
        self.failed = False

    def __call__(self, event: AssetProgress) -> None:
        outcome = event.outcome
        exported = outcome.status is AssetStatus.EXPORTED and outcome.output_name is not None
        self.waiting[outcome.handle] = outcome.output_name if exported else None
        while self.next < len(self.handles) and self.handles[self.next] in self.waiting:
            name = self.waiting.pop(self.handles[self.next])
            self.next += 1
            if name is None or self.failed:
                continue
            try:
                self.take(name)
            except Exception:
                self.failed = True  # finish tries again
                raise
