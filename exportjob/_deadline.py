"""One deadline for a whole network delivery, shared by ``SmtpNotifier`` and ``WebhookNotifier``.

A server can answer each read just in time (one byte a second) and so outlast any per-operation
timeout. A ``Deadline`` gives each socket operation only the time left (``left``), and ``watching``
runs a timer that shuts the connection down at the deadline, which ends a read in progress whatever
its timeout.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

__all__ = ["Deadline"]


class Deadline:
    """The moment, *seconds* from now, by which a delivery must be over."""

    def __init__(self, seconds: float) -> None:
        self._at = time.monotonic() + seconds
        self._cut_off = False

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed (a failure now is the deadline's)."""
        return self._cut_off or time.monotonic() >= self._at

    def remaining(self) -> float:
        """Seconds left, 0 once the deadline has passed."""
        return max(0.0, self._at - time.monotonic())

    def left(self, cap: float | None = None) -> float:
        """Seconds left (at most *cap*), to wait on one operation.

        Raises:
            TimeoutError: none are left.
        """
        left = self.remaining()
        if left <= 0 or self._cut_off:
            raise TimeoutError("the delivery's deadline passed")
        return left if cap is None else min(left, cap)

    @contextlib.contextmanager
    def watching(self, current: Callable[[], socket.socket | None]) -> Iterator[None]:
        """Shut down the socket *current* returns if the block is still running at the deadline."""

        def cut() -> None:
            self._cut_off = True  # first: an operation that starts after this raises in ``left``
            sock = current()
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(self.remaining(), cut)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
