"""How much work one unit carries, and how many run at once: measured, item by item.

Handing an item to another thread or process costs about the same whatever the item: for quick
items (a small file copied, a row described) that cost dominates, so they travel in chunks sized
to last about a target time; slow items (a conversion of seconds) travel one by one, so a stop,
a pause or a lost worker concerns as little work as possible. Quick items that keep their thread
busy (on the CPU, not waiting for a disk or a server) gain nothing from more threads, which would
only queue for the interpreter lock: they are *crowded*, and run on as few threads as possible.
"""

from __future__ import annotations

__all__ = ["Pace"]

_WEIGHT = 0.3  # of the newest measurement in the running means
_BUSY_SHARE = 0.5  # of the wall time on the thread's own CPU: busy, not waiting


class Pace:
    """Running means of seconds per item and of the CPU's share of them; the chunk size to use."""

    def __init__(self, target: float, most: int) -> None:
        self.target = target
        self.most = max(1, most)
        self.cost: float | None = None
        self.busy: float | None = None

    def size(self) -> int:
        """How many items the next unit carries: one until a unit has been measured."""
        if self.cost is None:
            return 1
        if self.cost <= 0:
            return self.most
        return max(1, min(self.most, int(self.target / self.cost)))

    def crowded(self, quick: float) -> bool:
        """Whether items take less than *quick* seconds each and keep their thread busy.

        Until measured, they are taken to: the first items run on one thread, where they are
        measured without others in the way (threads queueing for the interpreter lock would
        look like waiting).
        """
        if self.cost is None:
            return True
        return self.cost < quick and (self.busy is None or self.busy >= _BUSY_SHARE)

    def observe(self, items: int, seconds: float, cpu: float | None = None) -> None:
        """Count a unit of *items* that took *seconds*, *cpu* of them on its thread's CPU."""
        if items <= 0:
            return
        seconds = max(0.0, seconds)
        per_item = seconds / items
        self.cost = per_item if self.cost is None else self.cost + _WEIGHT * (per_item - self.cost)
        if cpu is not None and seconds > 0:
            share = min(1.0, max(0.0, cpu) / seconds)
            self.busy = share if self.busy is None else self.busy + _WEIGHT * (share - self.busy)
