"""The command line's storage and delivery parts: URLs, ``--zip``, the export manifest, ``verify``.

Kept apart from ``exportjob.cli`` (which calls these) so the export command's core stays small.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TextIO

import attrs

from ._assets import AssetHandle
from ._cli_options import byte_size, non_empty
from ._console import emit
from ._job import ExportJob
from ._log import JobLog
from ._run import ProgressCallback
from .delivery import (
    MANIFEST_CSV,
    MANIFEST_JSON,
    MANIFEST_NAMES,
    ExportManifest,
    build_manifest,
    verify,
)
from .exceptions import ExportJobError, StoreWriteError
from .protocols import AssetStore, OnConflict
from .stores import DirectoryStore, FsspecStore, ZipStore

__all__ = ["Delivery", "add_delivery_arguments", "add_verify_command", "open_delivery"]

JOURNAL_FOLDER = ".exportjob"
_HEAD_BYTES = 4096  # enough to know a manifest by its first bytes
_JSON_START = b'{\n "records": ['  # ExportManifest.to_json's opening, records or none


def is_url(text: str) -> bool:
    return "://" in text


def add_delivery_arguments(export: argparse.ArgumentParser) -> None:
    """Add ``--zip`` and ``--zip-volume-size`` to the export command."""
    group = export.add_argument_group("delivery")
    group.add_argument(
        "--zip",
        type=non_empty("the archive's file, or a URL"),
        metavar="FILE|URL",
        help="write the exports into one ZIP archive (instead of --out), with the export manifest "
        "inside it: a local FILE, or a URL such as s3://bucket/exports/job.zip (with the fsspec "
        "extra), uploaded in one step when it is complete",
    )
    group.add_argument(
        "--export-manifest",
        action="store_true",
        help="write exportjob-manifest.json and .csv beside the exports in --out (replacing an "
        "earlier manifest there, never another file), for `exportjob verify`; an archive always "
        "has one; no export takes those names",
    )
    group.add_argument(
        "--zip-volume-size",
        type=byte_size,
        metavar="SIZE",
        help="split the archive into complete ZIPs of at most SIZE bytes each (100M, 4G, ...): "
        "FILE-001.zip, FILE-002.zip, ...",
    )


def add_verify_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``verify`` command."""
    check = commands.add_parser(
        "verify",
        help="check a folder, prefix or ZIP of exports against its manifest",
        description="Check every file of TARGET (a folder, a ZIP archive or a URL such as "
        "s3://bucket/prefix) against its exportjob-manifest.json: exit 0 when all match, "
        "1 when any file is missing, changed or unlisted.",
    )
    check.add_argument("target", metavar="DIR|ZIP|URL")
    check.set_defaults(func=_verify)


def _verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        result = verify(args.target)
    except (ExportJobError, OSError, ImportError) as exc:
        err.write(f"exportjob: error: {exc}\n")
        return 2
    emit(
        out, lambda o: o.write(result.report()), err
    )  # the verdict is the status's, not the pipe's
    return 0 if result.ok else 1


@attrs.define
class Delivery:
    """Where a CLI export goes: its store, its journal, and what ``finish`` does at the end."""

    store: AssetStore
    journal_folder: Path
    where: str
    zip_store: ZipStore | None = None
    manifest: bool = False
    #: Names the source (folder or URL, and its manifest) in the journal's file name: a job
    #: from another source into the same output is another job, never resumed from this one's.
    source_key: str = ""

    @property
    def originals(self) -> AssetStore:
        """The store the originals are read from."""
        return self.zip_store.originals if self.zip_store is not None else self.store

    def handles(self) -> tuple[AssetHandle, ...]:
        """Every asset of the source (an archive written inside it is none: ``ZipStore.handles``)."""
        if self.zip_store is not None:
            return self.zip_store.handles()
        source = self.originals
        assert isinstance(source, (DirectoryStore, FsspecStore))  # noqa: S101 - made here
        return source.handles()

    @property
    def reserved_names(self) -> tuple[str, ...]:
        """The names no export may take: the export manifest's, when one is written."""
        return MANIFEST_NAMES if self.zip_store is not None or self.manifest else ()

    def close(self) -> None:
        """Let go of what the command held: an archive's spool (``ZipStore.close``)."""
        if self.zip_store is not None:
            self.zip_store.close()

    def restart(self, journal: Path) -> None:
        """Forget the earlier runs: the job's *journal*, and with ``--zip`` the unfinished archive."""
        if self.zip_store is not None:
            self.zip_store.discard()
        else:
            journal.unlink(missing_ok=True)

    def check_manifest(self) -> None:
        """Refuse, before the job, an export area whose manifest names hold files of another kind.

        The manifest replaces an earlier manifest only: any other file under its names (an
        earlier job's export, a file of the user's, a folder, a link) is never lost. A manifest
        is known by its first bytes (a bounded read, through no link: a FIFO or a huge file there
        is never read whole).

        Raises:
            StoreWriteError: a file named like the manifest is not one.
        """
        store = self.store
        assert isinstance(store, (DirectoryStore, FsspecStore))  # noqa: S101 - made here
        names = set(store.occupied_names(MANIFEST_NAMES))
        files = set(store.existing_exports(names)) if names else set()
        for name in sorted(names):
            head = self._head(store, name) if name in files else None
            if head is None or not _looks_like_manifest(name, head):
                raise StoreWriteError(
                    f"{self.where} holds a {name} that is not an export manifest; it was left "
                    "untouched and nothing was exported (move it away, or export elsewhere)"
                )

    @staticmethod
    def _head(store: DirectoryStore | FsspecStore, name: str) -> bytes | None:
        """The first bytes of the export *name*, a regular file; None if it is none now."""
        try:
            with store.open_export(name) as stream:
                return stream.read(_HEAD_BYTES)
        except KeyError:
            return None

    def progress(self, job: ExportJob) -> ProgressCallback | None:
        """The callback that grows the archive while *job* runs (none without ``--zip``)."""
        return self.zip_store.stream(job) if self.zip_store is not None else None

    def finish(
        self, log: JobLog, on_conflict: OnConflict | str = OnConflict.ERROR, job_key: str = ""
    ) -> str:
        """Write the export manifest (and the archive); return where the exports are.

        *job_key* names the job (its journal's key): the same job's next run replaces an archive
        it delivered with failed assets (``ZipStore.finish``).
        """
        if self.zip_store is not None:
            files = self.zip_store.finish(log, on_conflict=on_conflict, job_key=job_key or None)
            return ", ".join(f.location for f in files)
        if not self.manifest:
            return self.where
        store = self.store
        names = {o.output_name for o in log.outcomes}
        if names & set(MANIFEST_NAMES):  # journaled by a run that did not keep the names
            raise StoreWriteError(
                f"an export is named like the manifest; no {MANIFEST_JSON} written (run the job "
                "again with --restart: the export is then numbered)"
            )
        manifest = build_manifest(log, self._opener())
        for name, data in manifest.contents().items():
            store.write_export(name, [data], on_conflict=OnConflict.REPLACE)
        return self.where

    def _opener(self) -> Callable[[str], contextlib.AbstractContextManager[IO[bytes]]]:
        """How the manifest reads an export back: beneath the export area, through no link."""
        store = self.store
        assert isinstance(store, (DirectoryStore, FsspecStore))  # noqa: S101 - made here
        return store.open_export


def _looks_like_manifest(name: str, head: bytes) -> bool:
    """Whether *head*, the first bytes of the file *name* of an export area, open a manifest."""
    start = ExportManifest(()).to_csv() if name == MANIFEST_CSV else _JSON_START  # header row
    return head.startswith(start)


def open_delivery(args: argparse.Namespace) -> Delivery:
    """Make the store of an export command: a folder, a URL, or a ZIP; and where its journal goes.

    Raises:
        ExportJobError: the source or the output cannot be used.
        ImportError: a URL needs fsspec or its backend, which is not installed.
        ValueError: ``--out`` and ``--zip`` are both given, or neither.
    """
    if (args.out is None) == (args.zip is None):
        msg = "give either --out DIR|URL or --zip FILE"
        raise ValueError(msg)
    if args.zip_volume_size is not None and args.zip is None:
        msg = "--zip-volume-size needs --zip"
        raise ValueError(msg)
    src: str = args.src
    manifest = None if args.manifest is None else os.fspath(args.manifest)
    if args.zip is not None:
        zip_store = _zip_store(args, src, manifest)
        journals = zip_store.spool / JOURNAL_FOLDER
        source = _source_key(src, manifest, zip_store.originals)
        return Delivery(zip_store, journals, zip_store.archive, zip_store, source_key=source)
    out: str = args.out
    if not is_url(src) and not is_url(out):
        store = DirectoryStore(src, out, manifest=manifest, default_company=args.company)
        delivery = Delivery(
            store,
            store.output_dir / JOURNAL_FOLDER,
            str(store.output_dir),
            None,
            args.export_manifest,
            source_key=_source_key(src, manifest, store),
        )
    else:
        fs_store = FsspecStore(
            _url(src), _url(out), manifest=manifest, default_company=args.company
        )
        journal = Path(out) / JOURNAL_FOLDER if not is_url(out) else _url_journals(out)
        source = _source_key(src, manifest, fs_store)
        delivery = Delivery(fs_store, journal, out, None, args.export_manifest, source_key=source)
    if delivery.manifest:
        delivery.check_manifest()
    return delivery


def _zip_store(args: argparse.Namespace, src: str, manifest: str | None) -> ZipStore:
    """The store of ``--zip FILE|URL``; a URL's archive is built in ``./.exportjob/``."""
    target: str = args.zip
    if is_url(target):
        unused = Path.cwd() / JOURNAL_FOLDER / "unused"
    else:
        target = str(Path(target).absolute())
        unused = Path(target + ".unused")
    originals = _originals(src, manifest, args.company, unused)
    return ZipStore(originals, target, volume_size=args.zip_volume_size)


def _source_key(src: str, manifest: str | None, originals: AssetStore) -> str:
    """A digest of the source folder or URL, the manifest's path, and what it says.

    What it says (``manifest_digest``: the default ``exportjob.json`` too) makes an edited
    manifest another job: an asset given to another company is authorized again, not resumed.
    """
    where = [
        text.rstrip("/") if is_url(text) else os.fspath(Path(text).resolve())
        for text in (src, manifest)
        if text is not None
    ]
    said = originals.manifest_digest if isinstance(originals, (DirectoryStore, FsspecStore)) else ""
    if said:  # none: the key of a job without a manifest is what it always was
        where.append(said)
    return hashlib.sha256("\0".join(where).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _url_journals(out: str) -> Path:
    """Where the journals of jobs into the URL *out* are kept: ``./.exportjob/<name>-<digest>/``.

    One folder per output, so a job into another URL never resumes this one's journal.
    """
    digest = hashlib.sha256(out.rstrip("/").encode()).hexdigest()[:16]
    name = "".join(
        c if c.isalnum() or c in "-_." else "_" for c in out.rstrip("/").rpartition("/")[2]
    )
    return Path.cwd() / JOURNAL_FOLDER / f"{name[:40] or 'out'}-{digest}"


def _url(text: str | Path) -> str:
    """*text* as fsspec takes it: a URL as it is, a local path absolute and as written.

    Not ``file://`` with percent-encoding: fsspec would not decode it (``a b`` read as ``a%20b``).

    Raises:
        ValueError: a local path holds ``::``, which fsspec reads as a chain of file systems.
    """
    if isinstance(text, str) and is_url(text):
        return text
    path = os.fspath(Path(text).absolute())
    if "::" in path:
        msg = f"{path}: a local path beside a URL cannot hold '::' (fsspec reads it as a chain)"
        raise ValueError(msg)
    return path


def _originals(src: str, manifest: str | None, company: str, unused: Path) -> AssetStore:
    if is_url(src):
        return FsspecStore(src, _url(unused), manifest=manifest, default_company=company)
    return DirectoryStore(src, unused, manifest=manifest, default_company=company)
