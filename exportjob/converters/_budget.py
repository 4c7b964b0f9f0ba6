"""The memory budget: conversions in one process are admitted only while their working sets fit.

Each conversion estimates, from the header and before any pixel is decoded, the memory it will
need (``estimate``); it waits until the process's conversions leave that much of the budget free,
and holds it until it returns. One conversion larger than the whole budget fails at once with
``MemoryBudgetError`` (``MEMORY_BUDGET_EXCEEDED``), never the process. Converters with the same
budget size share one budget per process, so a thread pool's conversions are counted together.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from PIL import Image

from ..exceptions import MemoryBudgetError

__all__ = [
    "DEFAULT_FRACTION",
    "Hold",
    "MemoryBudget",
    "default_memory_budget",
    "estimate",
    "shared_budget",
]

#: The share of the machine's physical memory the default budget is.
DEFAULT_FRACTION = 0.5
_FALLBACK = 4 << 30  # where the platform does not say how much memory it has
# Besides the decoded frame, a conversion holds up to three frames of its largest canvas at once
# (the one being made, the one it is made from, an output copy). Against a review's peak RSS of
# 8000 x 8000 conversions (crop, rotate, extend canvases, gif-alpha) this is 4-7 % under, the
# process's own memory included; over for a small original asked for a large reply.
_WORKING_COPIES = 3


def default_memory_budget() -> int:
    """Return the default budget in bytes: ``DEFAULT_FRACTION`` of the physical memory."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        total = 0
    return int(total * DEFAULT_FRACTION) if total > 0 else _FALLBACK


def estimate(
    size: tuple[int, int],
    mode: str,
    fmt: str | None,
    *,
    canvas: int = 0,
    extra_frames: int = 0,
) -> int:
    """Return the bytes a conversion needs, from sizes known before any pixel is decoded.

    *size* and *mode* are the original's (its decoded frame); *canvas* is the largest image the
    conversion builds after it, in pixels (a crop, size, rotate or extend canvas, or the reply: a
    1x1 original can ask for a 10000x9000 reply); *extra_frames* counts the steps that keep one
    more such frame (filters, a palette).
    """
    width, height = size
    pixel = max(4, _bytes_per_pixel(mode))  # renders work in RGB(A) or wider
    later = max(width * height, canvas) * 4
    need = width * height * pixel + later * (_WORKING_COPIES + extra_frames)
    if fmt == "WEBP":
        need += width * height * 4 * 2  # libwebp's animation decoder keeps two canvases
    return need


def _bytes_per_pixel(mode: str) -> int:
    try:
        return Image.getmodebands(mode) * (2 if "16" in mode else 1) + (
            3 if mode in {"I", "F", "I;32"} else 0
        )
    except (KeyError, ValueError):
        return 4


class MemoryBudget:
    """A number of bytes shared by the conversions of one process.

    >>> budget = MemoryBudget(1000)
    >>> with budget.hold() as hold:
    ...     hold.reserve(600, handle="a")
    ...     budget.in_use
    600
    >>> budget.in_use
    0
    """

    def __init__(self, total: int) -> None:
        self.total = total
        self.in_use = 0
        self._changed = threading.Condition()

    def __repr__(self) -> str:
        return f"<MemoryBudget {self.in_use} of {self.total} bytes in use>"

    @contextlib.contextmanager
    def hold(self) -> Iterator[Hold]:
        """Hold what the conversion reserves until the block ends."""
        hold = Hold(self)
        try:
            yield hold
        finally:
            hold.release()

    def _take(self, nbytes: int, handle: str | None) -> None:
        if nbytes > self.total:
            raise MemoryBudgetError(
                f"the conversion needs about {nbytes} bytes, more than the whole memory budget "
                f"of {self.total} bytes",
                handle=handle,
            )
        with self._changed:
            self._changed.wait_for(lambda: self.in_use + nbytes <= self.total)
            self.in_use += nbytes

    def _give(self, nbytes: int) -> None:
        with self._changed:
            self.in_use -= nbytes
            self._changed.notify_all()


class Hold:
    def __init__(self, budget: MemoryBudget) -> None:
        self._budget = budget
        self._held = 0

    def reserve(self, nbytes: int, *, handle: str | None) -> None:
        """Wait until *nbytes* more are free, and hold them (at most once per conversion)."""
        if self._held:
            return
        self._budget._take(nbytes, handle)  # noqa: SLF001 - the budget's own helper
        self._held = nbytes

    def release(self) -> None:
        if self._held:
            self._budget._give(self._held)  # noqa: SLF001
            self._held = 0


_SHARED: dict[int, MemoryBudget] = {}
_SHARED_LOCK = threading.Lock()


def shared_budget(total: int | None) -> MemoryBudget:
    """Return this process's budget of *total* bytes (None: the default), made once."""
    size = default_memory_budget() if total is None else total
    with _SHARED_LOCK:
        budget = _SHARED.get(size)
        if budget is None:
            budget = _SHARED[size] = MemoryBudget(size)
        return budget
