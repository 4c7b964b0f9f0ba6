"""The local workers of a job and their assets' pace: how many run at once, and when to look again.

Assets quicker than ``_QUICK_SECONDS`` that keep their thread busy are *crowded* (``_pacing``): they
run on one worker thread at a time, since more would only queue for the interpreter lock. A
worker whose current asset has run for ``_SLOW_SECONDS`` gets a companion beside it, so a slow
asset holds up no other. The coordinator looks for such an asset without being woken: first after
``_SLOW_SECONDS``, then, while it finds none, twice as long each time, up to ``_MOST_POLL_DOUBLINGS``
doublings. Each look takes the interpreter lock from the worker, and a stream of quick copies
gains nothing from 500 of them a second; anything new (a unit started or ended, a slow asset)
starts the doubling again.
"""

from __future__ import annotations

import time

from ._pacing import Pace

__all__ = ["Crowd"]

_SLOW_SECONDS = 0.002
_QUICK_SECONDS = 0.0005
_MOST_POLL_DOUBLINGS = 4  # the longest look-again: 16 x 2 ms


class Crowd:
    """The local workers' current assets (by token, when each started) and their recent pace."""

    def __init__(self) -> None:
        self.here = Pace(_SLOW_SECONDS, 1, warm_up=1)  # the assets of local workers, as they come
        # A local worker's loop (by token): when its current asset started, or it was submitted.
        self.started: dict[int, float] = {}
        self._poll = _SLOW_SECONDS
        self.slow = _SLOW_SECONDS  # an asset that took this long was slow: it gets a companion

    def crowded(self) -> bool:
        """Whether the local workers' assets are crowded (quick and busy)."""
        return self.here.crowded(_QUICK_SECONDS)

    def room(self) -> bool:
        """Whether one more local worker may start on crowded assets.

        One worker, and one more beside every worker whose asset is slow: work that turns out
        slow gets every worker in a few looks, doubling.
        """
        now = time.perf_counter()
        ages = [now - t for t in list(self.started.values())]
        fresh = sum(1 for age in ages if age < _SLOW_SECONDS)
        return fresh < max(1, len(ages) - fresh) if fresh else True

    def beside(self, me: int) -> bool:
        """Whether another local worker is on a quick asset, while assets are crowded."""
        if not self.crowded():
            return False
        now = time.perf_counter()
        return any(now - t < _SLOW_SECONDS for k, t in list(self.started.items()) if k != me)

    def look_again(self) -> float:
        """How long the coordinator may wait before it looks for a slow asset: see the docstring."""
        wait = self._poll
        self._poll = min(wait * 2, _SLOW_SECONDS * 2**_MOST_POLL_DOUBLINGS)
        return wait

    def news(self) -> None:
        """Something changed (a unit started or ended, an asset was slow): look soon again."""
        self._poll = _SLOW_SECONDS
