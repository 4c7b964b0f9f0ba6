"""The pools an engine runs on: the executor of the work units and the thread pool of describes.

Both are made when first needed and shut down by ``close``; an executor the host passed in stays the
host's (a pool the engine made to replace a broken one is the engine's). The bounds of a pipeline
follow the executor's size: as many describes in flight as workers, at least 16, and four assets in
flight per worker, at least 256 (so quick assets can travel in chunks, ``_pacing``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor

from ._pipeline import PipelineSettings
from ._work import Workers
from .protocols import AssetStore, Converter, OnConflict

__all__ = [
    "ExecutorFactory",
    "JobThreads",
    "Pools",
    "positive",
]

ExecutorFactory = Callable[[], Executor]

#: The size assumed for an executor that does not say its own (a Dask client's).
_UNKNOWN_SIZE = 16
#: Enough assets in flight by default to keep every worker fed with chunks of quick ones.
_LEAST_IN_FLIGHT = 256


def positive(name: str, value: int | None) -> int | None:
    """Return *value*, a whole number of at least 1 or None; ``ValueError`` naming *name* otherwise."""
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        msg = f"{name} must be a whole number of at least 1, got {value!r}"
        raise ValueError(msg)
    return value


class JobThreads(threading.local):
    """Whether this thread is one ``ExportEngine.close`` waits for: a submitted job's, a pool's.

    ``close`` is refused on such a thread (a progress callback, the notifier there): it would wait
    for itself. ``run()``'s own thread is none of them: a callback there may close the engine.
    """

    depth = 0  # per thread: a submitted job's (while it runs), or a worker of the engine's pools

    def __enter__(self) -> None:
        self.depth += 1

    def __exit__(self, *exc_info: object) -> None:
        self.depth -= 1

    def mark(self) -> None:
        """Mark this thread for its life: a worker of one of the engine's own pools."""
        self.depth += 1

    def check_closable(self) -> None:
        """Raise ``RuntimeError`` if ``close`` would wait for this thread (it would hang)."""
        if self.depth:
            msg = (
                "ExportEngine.close() was called from a thread it waits for (a progress callback "
                "or the notifier of a submitted job, or one on the engine's worker threads): close "
                "the engine after the job ends, or from another thread (JobRun.stop() ends a job "
                "early)"
            )
            raise RuntimeError(msg)


class Pools:
    """The executor work units run on (rebuilt when a process pool breaks) and the describe pool."""

    def __init__(
        self,
        executor: Executor | ExecutorFactory | None,
        *,
        workers: int | None,
        describe_concurrency: int | None,
        max_in_flight: int | None,
        initializer: Callable[[], None] | None = None,
    ) -> None:
        self._initializer = initializer  # run by each thread of the pools made here
        self._workers_wanted = positive("workers", workers)
        self._describe_concurrency = positive("describe_concurrency", describe_concurrency)
        self._max_in_flight = positive("max_in_flight", max_in_flight)
        self._factory: ExecutorFactory | None = None
        self._given: Executor | None = None
        if executor is None or isinstance(executor, Executor):
            self._given = executor
        else:
            self._factory = executor
        self._lock = threading.Lock()
        self._workers: Workers | None = None
        self._describe_pool: ThreadPoolExecutor | None = None

    def workers(self) -> Workers:
        """The executor of the work units, made on first use."""
        with self._lock:
            if self._workers is None:
                executor = self._given
                if executor is None:
                    executor = (
                        self._factory()
                        if self._factory is not None
                        else ThreadPoolExecutor(
                            self._workers_wanted, "exportjob", initializer=self._initializer
                        )
                    )
                own = self._given is None and self._factory is None
                self._workers = Workers(executor, self._factory, own=own)
            return self._workers

    def settings(
        self, store: AssetStore, converter: Converter, on_conflict: OnConflict
    ) -> PipelineSettings:
        """The settings of one job's pipeline, sized after the executor."""
        size = getattr(self.workers().executor, "_max_workers", None) or _UNKNOWN_SIZE
        describe = self._describe_concurrency or max(16, size)
        with self._lock:
            if self._describe_pool is None:
                self._describe_pool = ThreadPoolExecutor(
                    describe, "exportjob-describe", initializer=self._initializer
                )
            describe_pool = self._describe_pool
        return PipelineSettings(
            store=store,
            converter=converter,
            describe_pool=describe_pool,
            describe_concurrency=describe,
            max_in_flight=self._max_in_flight or max(4 * size, describe, _LEAST_IN_FLIGHT),
            workers=size,
            on_conflict=on_conflict,
        )

    def close(self) -> None:
        """Shut down every pool the engine made; leave the host's executor to the host."""
        with self._lock:
            workers, self._workers = self._workers, None
            describe_pool, self._describe_pool = self._describe_pool, None
        if describe_pool is not None:
            describe_pool.shutdown(wait=True)
        if workers is None:
            return
        made = [*workers.replaced]
        if self._given is None:
            made.append(workers.executor)
        for executor in dict.fromkeys(made):
            executor.shutdown(wait=True)
