"""The describe side of a pipeline: one handle, a chunk of handles, or a store's own batch.

Every failure becomes the asset's failed outcome, never an exception: a describe that raises is
classified by ``exportjob._failures`` like any other stage. A ``_Slot`` holds one handle between
entering the pipeline and being planned; slots of one chunk or batch share one future.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from typing import Any

import attrs

from ._assets import Asset, AssetHandle
from ._failures import Stage, classify
from ._records import AssetOutcome
from .protocols import AssetStore, BatchDescriber, NamedHandles

__all__ = ["Described", "Slot", "describe_batch", "describe_chunk", "describe_one", "own_names"]

Described = Asset | AssetOutcome


def describe_one(store: AssetStore, handle: AssetHandle) -> Described:
    """Describe *handle*; a failure is the asset's failed outcome, never raised."""
    try:
        asset: object = store.describe(handle)
        if not isinstance(asset, Asset):
            msg = f"the store's describe returned {type(asset).__name__}, not an Asset"
            raise TypeError(msg)  # noqa: TRY301 - classified with the store's own errors
    except Exception as exc:  # noqa: BLE001 - one asset's failure never fails the job
        code, message = classify(Stage.DESCRIBING, exc, handle.value)
        return AssetOutcome.for_failure(handle, code, message)
    return asset if asset.handle is handle else attrs.evolve(asset, handle=handle)


def describe_chunk(
    store: AssetStore, handles: tuple[AssetHandle, ...], keep_going: Callable[[], bool]
) -> tuple[tuple[Described | BaseException, ...], float, float]:
    """Describe *handles* one after another: the results, the seconds they took, on the CPU.

    A ``BaseException`` the store raises (``SystemExit`` & co.) ends the chunk: it is the last
    result, and the handles after it are not described; so does *keep_going* saying no (a stop).
    """
    start, cpu = time.perf_counter(), time.thread_time()
    described: list[Described | BaseException] = []
    for handle in handles:
        if described and not keep_going():
            break
        try:
            described.append(describe_one(store, handle))
        except BaseException as exc:  # noqa: BLE001 - raised by the slot of its handle
            described.append(exc)
            break
    return tuple(described), time.perf_counter() - start, time.thread_time() - cpu


def describe_batch(
    store: BatchDescriber, handles: tuple[AssetHandle, ...]
) -> dict[AssetHandle, Any]:
    """Describe *handles* in one ``describe_many`` call; a failure of the call is every handle's."""
    try:
        return dict(store.describe_many(handles))
    except Exception as exc:  # noqa: BLE001 - recorded per asset
        return dict.fromkeys(handles, exc)


def _batch_result(handle: AssetHandle, found: Mapping[AssetHandle, Any]) -> Described:
    from .exceptions import AssetNotFoundError  # noqa: PLC0415 - only for a batch that missed one

    value = found.get(handle)
    if isinstance(value, Asset):
        return value if value.handle is handle else attrs.evolve(value, handle=handle)
    if value is None:
        value = AssetNotFoundError(f"no asset {handle}", handle=handle.value)
    if not isinstance(value, Exception):
        value = TypeError(f"the store's describe_many gave {type(value).__name__}, not an Asset")
    code, message = classify(Stage.DESCRIBING, value, handle.value)
    return AssetOutcome.for_failure(handle, code, message)


def own_names(
    store: NamedHandles, handles: Iterable[AssetHandle], skip: Mapping[AssetHandle, AssetOutcome]
) -> Iterator[tuple[AssetHandle, str | None]]:
    """Each handle's own file name as the store tells it without I/O (None where it cannot)."""
    for handle in handles:
        if skip and handle in skip:
            continue
        try:
            name = store.file_name_of(handle)
        except Exception:  # noqa: BLE001 - no name kept; describing it will say what is wrong
            name = None
        yield handle, name if isinstance(name, str) else None


@attrs.define
class Slot:
    """One handle between entering the pipeline and being planned.

    It holds its result (*done*: described here, or skipped), or the future of its describe: of
    a chunk of handles (*index* is its place in the chunk's results; *timed*: the chunk's timing
    is yet to be observed) or of a store's own batch (*batched*).
    """

    handle: AssetHandle
    future: Future[Any] | None = None
    value: Described | BaseException | None = None
    index: int = 0
    batched: bool = False
    timed: bool = False
    done: bool = False

    def ready(self) -> bool:
        """Whether the describe has ended."""
        return self.done or (self.future is not None and self.future.done())

    def result(self) -> Described | None:
        """The described asset or its failed outcome; raises what the describe raised.

        None for a handle of a chunk whose describe ended before it (interrupted, stopped).
        """
        if self.done:
            value = self.value
        else:
            assert self.future is not None  # noqa: S101 - a slot has one or the other
            result = self.future.result()
            if self.batched:
                return _batch_result(self.handle, result)
            chunk: tuple[Described | BaseException, ...] = result[0]
            if self.index >= len(chunk):
                return None
            value = chunk[self.index]
        if isinstance(value, BaseException):
            raise value
        return value
