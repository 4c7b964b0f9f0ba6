"""How much work one unit carries: a few items where each is quick, one where each is slow.

Handing an item to another thread or process costs about the same whatever the item: for quick
items (a small file copied, a row described) that cost dominates, so they travel in chunks sized
to last about a target time; slow items (a conversion of seconds) travel one by one, so a stop,
a pause or a lost worker concerns as little work as possible.
"""

from __future__ import annotations

__all__ = ["Pace"]

_WEIGHT = 0.3  # of the newest measurement in the running mean


class Pace:
    """A running mean of seconds per item, and the chunk size that lasts about *target* seconds."""

    def __init__(self, target: float, most: int) -> None:
        self.target = target
        self.most = max(1, most)
        self.cost: float | None = None

    def size(self) -> int:
        """How many items the next unit carries: one until a unit has been measured."""
        if self.cost is None or self.cost <= 0:
            return 1 if self.cost is None else self.most
        return max(1, min(self.most, int(self.target / self.cost)))

    def observe(self, items: int, seconds: float) -> None:
        """Count a unit of *items* that took *seconds*."""
        if items <= 0:
            return
        per_item = max(0.0, seconds) / items
        self.cost = per_item if self.cost is None else self.cost + _WEIGHT * (per_item - self.cost)
