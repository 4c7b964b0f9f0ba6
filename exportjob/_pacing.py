"""How much work one unit carries, and how many run at once: measured, item by item.

Handing an item to another thread or process costs about the same whatever the item: for quick
items (a small file copied, a row described) that cost dominates, so they travel in chunks sized
to last about a target time; slow items (a conversion of seconds) travel one by one, so a stop,
a pause or a lost worker concerns as little work as possible. Quick items that keep their thread
busy (on the CPU, not waiting for a disk or a server) gain nothing from more threads, which would
only queue for the interpreter lock: they are *crowded*, and run on as few threads as possible.
"""

from __future__ import annotations

import collections

__all__ = ["Pace"]

_KEPT = 9  # recent measurements kept: their median ignores a stall or two
_BUSY_SHARE = 0.5  # of the wall time on the thread's own CPU: busy, not waiting


class Pace:
    """Recent seconds per item and CPU shares (medians); the chunk size and crowding they imply."""

    def __init__(self, target: float, most: int, *, warm_up: int = 0) -> None:
        self.target = target
        self.most = max(1, most)
        self._warm_up = warm_up  # first units not measured: they pay for cold caches
        self._costs: collections.deque[float] = collections.deque(maxlen=_KEPT)
        self._shares: collections.deque[float] = collections.deque(maxlen=_KEPT)
        # The medians, worked out when read after new measurements (items are measured more often
        # than their pace is asked for).
        self._cost: float | None = None
        self._busy: float | None = None
        self._stale = False

    @property
    def cost(self) -> float | None:
        """The median seconds per item of the recent measurements (None before the first)."""
        if self._stale:
            self._update()
        return self._cost

    @property
    def busy(self) -> float | None:
        """The median share of an item's time its thread spent on the CPU (None if not known)."""
        if self._stale:
            self._update()
        return self._busy

    def _update(self) -> None:
        self._stale = False
        self._cost = _median(self._costs)
        if self._shares:
            self._busy = _median(self._shares)

    def size(self) -> int:
        """How many items the next unit carries: one until a unit has been measured."""
        cost = self.cost
        if cost is None:
            return 1
        if cost <= 0:
            return self.most
        return max(1, min(self.most, int(self.target / cost)))

    def crowded(self, quick: float) -> bool:
        """Whether items take less than *quick* seconds each and keep their thread busy.

        Until measured, they are taken to: the first items run on one thread, where they are
        measured without others in the way (threads queueing for the interpreter lock would
        look like waiting).
        """
        cost = self.cost
        if cost is None:
            return True
        busy = self.busy
        return cost < quick and (busy is None or busy >= _BUSY_SHARE)

    def observe(self, items: int, seconds: float, cpu: float | None = None) -> None:
        """Count a unit of *items* that took *seconds*, *cpu* of them on its thread's CPU."""
        if items <= 0:
            return
        if self._warm_up > 0:
            self._warm_up -= 1
            return
        seconds = max(0.0, seconds)
        self._costs.append(seconds / items)
        if cpu is not None and seconds > 0:
            self._shares.append(min(1.0, max(0.0, cpu) / seconds))
        self._stale = True


def _median(values: collections.deque[float]) -> float | None:
    ordered = sorted(values)  # a copy: worker threads append meanwhile
    return ordered[len(ordered) // 2] if ordered else None
