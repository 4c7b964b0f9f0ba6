"""What a job delivered while some of its assets failed: kept in the spool, for its next run.

An archive published while assets of the job failed (or were not run) is a whole delivery of what
was exported, and its spool is emptied. With the job's key (``ZipStore.finish(log, job_key=...)``,
the CLI's journal key) the spool keeps this record of it: the key, and each archive's name, size and
SHA-256. The same job run again (the originals mended) builds a fuller archive and replaces the
earlier one, even under ``error`` or ``skip``, but only where the name still holds exactly the
recorded bytes: another job's, or anything put there since, is never replaced.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from ..delivery import file_digest
from ..exceptions import OutputExistsError
from ..protocols import OnConflict, WrittenExport
from ._exports import commit, stage_link

if TYPE_CHECKING:
    from ._fsspec_io import Uploader

__all__ = ["DELIVERED_NAME", "Delivered", "publish_archive", "read_delivered"]

DELIVERED_NAME = ".delivered.json"
_VERSION = 1


@attrs.frozen
class Delivered:
    """The archives the job of *job_key* published with failed assets: name -> (size, SHA-256)."""

    job_key: str
    archives: dict[str, tuple[int, str]] = attrs.field(factory=dict)

    def of(self, job_key: str | None, name: str) -> tuple[int, str] | None:
        """The recorded size and SHA-256 of *name*, if the job of *job_key* published it."""
        return self.archives.get(name) if job_key == self.job_key else None

    def save(self, spool: Path) -> None:
        """Write the record into *spool*."""
        record = {
            "version": _VERSION,
            "job": self.job_key,
            "archives": [
                {"name": name, "size": size, "sha256": sha256}
                for name, (size, sha256) in sorted(self.archives.items())
            ],
        }
        (spool / DELIVERED_NAME).write_text(json.dumps(record, indent=2) + "\n", "utf-8")

    @classmethod
    def of_archives(cls, job_key: str, archives: Iterable[tuple[str, int, str]]) -> Delivered:
        """The record of *archives* (name, size, SHA-256) published by the job of *job_key*."""
        return cls(job_key, {name: (size, sha256) for name, size, sha256 in archives})


def read_delivered(spool: Path) -> Delivered | None:
    """The record in *spool*; None if there is none, or it is not one (it then counts for nothing)."""
    try:
        raw = json.loads((spool / DELIVERED_NAME).read_text("utf-8"))
        if raw.get("version") != _VERSION or not isinstance(raw.get("job"), str):
            return None
        archives = {
            str(a["name"]): (int(a["size"]), str(a["sha256"])) for a in raw.get("archives", [])
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return Delivered(raw["job"], archives)


def publish_archive(
    part: Path,
    folder: str,
    name: str,
    size: int,
    policy: OnConflict,
    *,
    uploader: Uploader | None,
    earlier: tuple[int, str] | None,
) -> tuple[WrittenExport, str]:
    """Publish the finished archive *part* as *name* in *folder* (or through *uploader*).

    Returns what was published and its SHA-256. *earlier* is the size and SHA-256 the job's own
    earlier delivery under *name* had (``Delivered.of``): while the name holds exactly those, it is
    replaced even under ``error`` or ``skip``.
    """
    try:
        with part.open("rb") as stream:
            _, sha256 = file_digest(stream)
            if (
                earlier is not None
                and policy in {OnConflict.ERROR, OnConflict.SKIP}
                and _holds(folder, name, *earlier, uploader=uploader)
            ):
                policy = OnConflict.REPLACE  # this job's delivery of fewer assets, as published
            if uploader is not None:
                return uploader.publish(stream, name, size, sha256, policy, sole=True), sha256
        staged = stage_link(part, Path(folder))  # the part survives: a resumed finish has it
        try:
            return commit(folder, staged, name, size, policy, sole=True), sha256
        finally:
            staged.unlink(missing_ok=True)
    except OutputExistsError as exc:  # said as an archive's, not an export's
        raise OutputExistsError(
            f"{name} already exists in {folder} and was not written by this job; it "
            "was left untouched (--on-conflict rename publishes the archive under the next "
            "free name, --on-conflict replace replaces it: ZipStore.finish's on_conflict)",
            name=name,
            location=exc.location,
        ) from None


def _holds(folder: str, name: str, size: int, sha256: str, *, uploader: Uploader | None) -> bool:
    """Whether the published archive *name* holds exactly *size* bytes of *sha256*."""
    if uploader is not None:
        return uploader.holds(name, size, sha256)
    try:
        with Path(folder, name).open("rb") as published:
            return os.fstat(published.fileno()).st_size == size and (
                file_digest(published)[1] == sha256
            )
    except OSError:
        return False
