"""Running the CLI's job: Ctrl-C and SIGTERM stop it cleanly, and the log is kept.

SIGTERM (``timeout``, ``docker stop``, systemd) is handled like Ctrl-C: the job stops, what ran is
journaled and logged, and the command exits 143 (130 for Ctrl-C).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

from ._context import JobContext
from ._engine import ExportEngine
from ._job import ExportJob
from ._log import JobLog
from ._run import JobRun, ProgressCallback

__all__ = ["EXIT_INTERRUPTED", "EXIT_TERMINATED", "run_stopping_on_signals"]

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class _Terminated(Exception):  # noqa: N818 - a signal, not an error
    """SIGTERM arrived: stop as for Ctrl-C."""


@contextlib.contextmanager
def _handled(handler: Callable[[int, object], None], *signums: int) -> Iterator[None]:
    """*handler* for *signums* while this lasts (in the main thread; elsewhere, the host's)."""
    try:
        previous = {signum: signal.signal(signum, handler) for signum in signums}
    except ValueError:  # not the main thread: leave signals to the host
        yield
        return
    try:
        yield
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)


def _terminate(_signum: int, _frame: object) -> None:
    raise _Terminated


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """Turn SIGTERM into ``_Terminated`` in the main thread while the job runs."""
    with _handled(_terminate, signal.SIGTERM):
        yield


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back, and raise the first of them when this ends.

    So a signal never lands inside ``submit``, between the run being registered and its thread
    started: the run would never start, and waiting for it would never end.
    """
    came: list[int] = []
    with _handled(lambda signum, _frame: came.append(signum), signal.SIGINT, signal.SIGTERM):
        yield
    if came:
        raise KeyboardInterrupt if came[0] == signal.SIGINT else _Terminated


def run_stopping_on_signals(
    engine: ExportEngine,
    job: ExportJob,
    context: JobContext,
    journal: Path | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[JobLog | None, int | None]:
    """Run *job*, stopping it cleanly on Ctrl-C or SIGTERM; return its log and exit status.

    The status is None when the job ran to its end, else the one Ctrl-C or SIGTERM calls for. A
    signal while the job is being submitted (its journal read) is held until it is: the job then
    stops at once, with its log.
    """
    with _sigterm_stops():
        run: JobRun | None = None
        try:
            with _signals_held():
                run = engine.submit(job, context, journal=journal, progress=progress)
            return run.result(), None
        except KeyboardInterrupt:
            stopped = EXIT_INTERRUPTED
        except _Terminated:
            stopped = EXIT_TERMINATED
        if run is not None:  # the job started (it may even have ended): stop it, keep its log
            run.stop()
        while True:
            with contextlib.suppress(KeyboardInterrupt, _Terminated):
                return (run.result() if run is not None else None), stopped
