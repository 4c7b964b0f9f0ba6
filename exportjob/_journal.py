"""The job journal: a durable record of a job's finished assets, so a killed job can be resumed.

A journal is a JSON-lines file. Its first line names the job (``key``: a digest of the request,
macros, settings and handles, see ``job_key``); every further line is one asset's outcome
(``AssetOutcome.to_dict``). Outcomes are buffered and committed in batches: the store is synced
first (``DurableStore.sync``), then the lines are appended and the journal fsynced, so an asset
is in the journal only once its file is durable. A line cut short by a crash is ignored.

Under ``rename``, a name the planner chose by looking at the export area is journaled as planned
(``{"planned": handle, "name": name}``) before the asset can be written, not fsynced: after a kill,
the resumed job gives the asset that name again, and finds its earlier attempt there by its bytes,
where looking again would see the name taken and write the asset twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ._assets import AssetHandle
from ._job import ExportJob
from ._names import check_path
from ._records import AssetOutcome, AssetStatus
from .exceptions import ExportJobError, JournalError
from .protocols import ExportInventory

__all__ = ["JOURNAL_VERSION", "Journal", "job_key", "resumed", "still_exported"]

JOURNAL_VERSION = 1
_BATCH = 256

logger = logging.getLogger("exportjob.engine")


def job_key(job: ExportJob, **parts: object) -> str:
    """A digest of what decides a job's outputs: the job itself and *parts* (macros, settings...).

    Two jobs with the same key produce the same exports, so one may resume the other's journal.
    """
    text = json.dumps(
        {"job": job.to_ips(), **{k: repr(v) for k, v in sorted(parts.items())}},
        sort_keys=True,
        ensure_ascii=False,
    )
    # surrogatepass: a handle may hold lone surrogates (a file name that is not UTF-8).
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Journal:
    """The journal of one job in the file *path*: what it holds, and what it is told as assets end.

    Opening a journal reads the outcomes already recorded; ``exported`` are the assets a resumed
    job skips. ``record`` buffers an outcome, ``commit`` makes the buffer durable.

    Raises:
        JournalError: the file exists but is the journal of another job, or no journal at all.
    """

    def __init__(self, path: str | os.PathLike[str], key: str, *, batch: int = _BATCH) -> None:
        self.path = Path(path)
        self.key = key
        self.batch = batch
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # a commit and the planner's intents append in turn
        self._pending: list[str] = []
        self.recorded: dict[AssetHandle, AssetOutcome] = {}
        self.planned: dict[AssetHandle, str] = {}
        if self.path.exists():
            self._load()
        else:
            self._create()

    @property
    def _header(self) -> str:
        return json.dumps({"exportjob_journal": JOURNAL_VERSION, "key": self.key})

    def __repr__(self) -> str:
        return f"<Journal {str(self.path)!r}: {len(self.exported)} exported>"

    @property
    def exported(self) -> dict[AssetHandle, AssetOutcome]:
        """The assets recorded as exported: a resumed job does not export them again."""
        return {h: o for h, o in self.recorded.items() if o.status is AssetStatus.EXPORTED}

    def record(self, outcome: AssetOutcome) -> bool:
        """Buffer *outcome*; return whether the buffer is full (time to ``commit``)."""
        # Escaped to ASCII: a handle or name may hold lone surrogates (a file name that is not
        # UTF-8), which no UTF-8 file can hold as they are; reading the line back restores them.
        line = json.dumps(outcome.to_dict(), separators=(",", ":"))
        with self._lock:
            self._pending.append(line)
            return len(self._pending) >= self.batch

    def intend(self, names: Iterable[tuple[AssetHandle, str]]) -> None:
        """Journal the output name each handle was planned with, before any of them is written.

        Written at once (one ``write``, no fsync): a kill after it loses nothing of it.
        """
        self._append(
            (json.dumps({"planned": h.value, "name": n}, separators=(",", ":")) for h, n in names),
            durable=False,
        )

    def commit(self, sync: Callable[[], object] | None = None) -> None:
        """Sync the store's writes with *sync*, then append the buffered outcomes durably."""
        with self._lock:
            lines, self._pending = self._pending, []
        if not lines:
            return
        if sync is not None:
            sync()
        self._append(lines)

    def _create(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(
                f"cannot create the journal folder {self.path.parent}: {exc}", path=str(self.path)
            ) from exc
        try:
            self._append([self._header], flags=os.O_CREAT | os.O_EXCL)
        except FileExistsError:  # another process of the same job created it just now
            self._load()

    def _append(self, lines: Iterable[str], *, flags: int = 0, durable: bool = True) -> None:
        data = "".join(f"{line}\n" for line in lines).encode()
        with self._writing:
            self._write(data, flags, durable=durable)

    def _write(self, data: bytes, flags: int, *, durable: bool) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | flags, 0o666)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
        except FileExistsError:
            raise
        except OSError as exc:
            raise JournalError(
                f"cannot write the journal {self.path}: {exc}", path=str(self.path)
            ) from exc

    def _load(self) -> None:
        try:
            text = self.path.read_text("utf-8", errors="replace")
        except OSError as exc:
            raise JournalError(
                f"cannot read the journal {self.path}: {exc}", path=str(self.path)
            ) from exc
        if "\n" not in text and self._header.startswith(text):
            # A kill or a full disk cut the journal's creation short: it records nothing yet.
            self._append([self._header], flags=os.O_TRUNC)
            return
        lines = text.split("\n")
        header = _parse(lines[0])
        if header is None or header.get("exportjob_journal") != JOURNAL_VERSION:
            raise JournalError(
                f"{self.path} is not an exportjob journal: remove it, or start the job afresh "
                "(exportjob export --restart)",
                path=str(self.path),
            )
        if header.get("key") != self.key:
            raise JournalError(
                f"{self.path} is the journal of another job (key {header.get('key')!r}, this job's "
                f"is {self.key!r}); remove it or start the job afresh",
                path=str(self.path),
            )
        complete = text.endswith("\n")
        for i, line in enumerate(lines[1:], start=1):
            last = i == len(lines) - 1
            raw = _parse(line)
            if raw is None:
                if last and not complete:
                    break  # the tail a crash cut short
                continue
            with contextlib.suppress(ExportJobError, TypeError, ValueError):
                if "planned" in raw:
                    self._planned(raw)
                    continue
                outcome = AssetOutcome.from_dict(raw)
                self.recorded[outcome.handle] = outcome
        if not complete:
            self._repair(text)

    def _planned(self, raw: Mapping[str, Any]) -> None:
        """Keep a line's planned name if it is one a plan can have (a torn or forged one is not)."""
        handle, name = raw.get("planned"), raw.get("name")
        if isinstance(handle, str) and isinstance(name, str) and name:
            check_path(name)
            self.planned[AssetHandle(handle)] = name

    def _repair(self, text: str) -> None:
        """Cut a torn last line off, so the next append starts on a line of its own."""
        keep = text[: text.rfind("\n") + 1].encode()
        with contextlib.suppress(OSError):
            os.truncate(self.path, len(keep))


def resumed(
    journal: Journal | None, store: object, job_handle: str
) -> tuple[Mapping[AssetHandle, AssetOutcome], Mapping[AssetHandle, str]]:
    """What a job run with *journal* skips, and what it exports under a name given before.

    Without a journal, nothing of either. The names given before are those the journal holds as
    planned (``Journal.intend``) for assets not exported and, with a store that is an
    ``ExportInventory``, those of the journal's exports it no longer has (``still_exported``).
    """
    if journal is None:
        return {}, {}
    exported = journal.exported
    planned = {h: n for h, n in journal.planned.items() if h not in exported}
    if not exported or not isinstance(store, ExportInventory):
        return exported, planned
    skip, gone = still_exported(store, exported, job_handle)
    return skip, {**planned, **gone}


def still_exported(
    store: ExportInventory, exported: Mapping[AssetHandle, AssetOutcome], job_handle: str
) -> tuple[Mapping[AssetHandle, AssetOutcome], dict[AssetHandle, str]]:
    """Split a journal's *exported* assets by whether the store still has their export.

    Returns the assets a resumed job skips, and those whose export was removed since, each with
    the name it had (the job exports them again under it). A store that cannot tell is trusted
    as the journal is: nothing is removed.
    """
    names = [o.output_name for o in exported.values() if o.output_name]
    try:
        there = set(store.existing_exports(names))
    except Exception:
        logger.warning(
            "job %s: cannot tell which exports of its journal are still there; trusting it",
            job_handle,
            exc_info=True,
        )
        return exported, {}
    gone = {
        h: o.output_name
        for h, o in exported.items()
        if o.output_name and o.output_name not in there
    }
    if not gone:
        return exported, {}
    logger.warning(
        "job %s: %d export(s) its journal lists are no longer in the export area (the first: %s); "
        "exporting them again",
        job_handle,
        len(gone),
        next(iter(gone.values())),
    )
    return {h: o for h, o in exported.items() if h not in gone}, gone


def _parse(line: str) -> Mapping[str, Any] | None:
    try:
        raw = json.loads(line)
    except ValueError:
        return None
    return raw if isinstance(raw, dict) else None
