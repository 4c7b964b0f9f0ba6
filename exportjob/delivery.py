"""What a receiver gets beside the exports: a manifest of every asset, and a way to verify it.

``build_manifest`` turns a job's log into an ``ExportManifest``: one ``ManifestRecord`` per asset
(handle, original file name, output name, status and code, format, width, height, bytes, SHA-256),
written as ``exportjob-manifest.json`` and ``exportjob-manifest.csv`` beside the exports (in the
folder, under the prefix, or inside the archive). ``verify`` checks a folder or a ZIP against its
manifest, file by file; ``exportjob verify DIR|ZIP`` is the same check on the command line.

>>> import hashlib
>>> from exportjob import ExportEngine, ExportJob, JobContext
>>> from exportjob.converters import CopyConverter
>>> from exportjob.stores import MemoryStore
>>> store = MemoryStore()
>>> store.add("h1", b"%PDF-1.4 ...", file_name="brochure.pdf")
>>> with ExportEngine(store, CopyConverter()) as engine:
...     log = engine.run(ExportJob(asset_handles=["h1"], fmt="orig"), JobContext(company="default"))
>>> manifest = build_manifest(log, lambda name: io.BytesIO(store.read_export(name)))
>>> record, = manifest.records
>>> record.output_name, record.status, record.bytes, record.sha256 == hashlib.sha256(b"%PDF-1.4 ...").hexdigest()
('brochure.pdf', 'exported', 12, True)
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import attrs

from ._log import JobLog
from ._names import check_path
from ._quoting import escaped
from ._records import AssetStatus
from .exceptions import StoreReadError, UnsafeNameError

__all__ = [
    "MANIFEST_CSV",
    "MANIFEST_JSON",
    "MANIFEST_NAMES",
    "ExportManifest",
    "ManifestRecord",
    "Verification",
    "build_manifest",
    "file_digest",
    "verify",
]

#: The manifest's names beside the exports; no export may take them.
MANIFEST_JSON = "exportjob-manifest.json"
MANIFEST_CSV = "exportjob-manifest.csv"
MANIFEST_NAMES = (MANIFEST_JSON, MANIFEST_CSV)
"""The export manifest's file names: ``ExportEngine(reserved_names=...)`` keeps them from exports."""
MANIFEST_VERSION = 1
_BLOCK = 1 << 20
_FIELDS = (
    "handle",
    "file_name",
    "output_name",
    "status",
    "code",
    "format",
    "width",
    "height",
    "bytes",
    "sha256",
)


@attrs.frozen(kw_only=True)
class ManifestRecord:
    """One asset of a job: what it was, what became of it, and the exported file's size and hash."""

    handle: str
    file_name: str | None = None
    output_name: str | None = None
    status: str
    code: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    bytes: int = 0
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the record as JSON-compatible data."""
        return attrs.asdict(self)


def _records(value: Iterable[ManifestRecord]) -> tuple[ManifestRecord, ...]:
    return tuple(value)


@attrs.frozen
class ExportManifest:
    """Every asset of a job, in job order; ``to_json``/``to_csv`` give reproducible bytes."""

    records: tuple[ManifestRecord, ...] = attrs.field(converter=_records)

    def to_json(self) -> bytes:
        """Return the manifest as JSON (sorted keys, one record per asset)."""
        data = {"version": MANIFEST_VERSION, "records": [r.to_dict() for r in self.records]}
        return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()

    def to_csv(self) -> bytes:
        """Return the manifest as CSV with a header row (empty cells for missing values)."""
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=_FIELDS, lineterminator="\n")
        writer.writeheader()
        for record in self.records:
            writer.writerow({k: "" if v is None else v for k, v in record.to_dict().items()})
        return text.getvalue().encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> ExportManifest:
        """Read a manifest written by ``to_json``.

        Raises:
            StoreReadError: *data* is not such a manifest.
        """
        try:
            raw = json.loads(data)
        except ValueError as exc:  # not JSON, or not UTF-8
            raise StoreReadError(f"not an export manifest: it is not JSON ({exc})") from exc
        records = tuple(_record(n, r) for n, r in enumerate(_raw_records(raw), 1))
        for number, record in enumerate(records, 1):
            problem = _record_problem(record)
            if problem is not None:
                raise StoreReadError(f"not an export manifest: record {number}: {problem}")
        return cls(records)

    def files(self) -> dict[str, ManifestRecord]:
        """The records that name an exported file, by output name."""
        return {
            r.output_name: r
            for r in self.records
            if r.output_name is not None and r.status == AssetStatus.EXPORTED.value
        }

    def contents(self) -> dict[str, bytes]:
        """The manifest's files: its JSON and CSV forms, by name."""
        return {MANIFEST_JSON: self.to_json(), MANIFEST_CSV: self.to_csv()}


def file_digest(stream: IO[bytes]) -> tuple[int, str]:
    """Return the size and the SHA-256 (hex) of what remains of *stream*, read in blocks."""
    digest, size = hashlib.sha256(), 0
    while block := stream.read(_BLOCK):
        digest.update(block)
        size += len(block)
    return size, digest.hexdigest()


def build_manifest(
    log: JobLog,
    open_export: Callable[[str], contextlib.AbstractContextManager[IO[bytes]]] | None = None,
    *,
    digests: Mapping[str, str] | None = None,
) -> ExportManifest:
    """Return the manifest of the job of *log*, one record per asset in job order.

    The SHA-256 of an exported file comes from *digests* (by output name) when it has it, else by
    reading the file back through *open_export*; without either it is left out.

    Raises:
        StoreReadError: a file read back does not hold the bytes its outcome says were written
            (it changed since: the manifest would vouch for another file).
    """
    records = []
    known = digests or {}
    for outcome in log.outcomes:
        sha256 = None
        exported = outcome.status is AssetStatus.EXPORTED and outcome.output_name is not None
        if exported and outcome.output_name is not None:
            sha256 = known.get(outcome.output_name)
            if sha256 is None and open_export is not None:
                try:
                    with open_export(outcome.output_name) as stream:
                        size, sha256 = file_digest(stream)
                except KeyError:
                    size = None  # removed since the job wrote it
                if size != outcome.bytes_written:
                    raise StoreReadError(
                        f"the export {outcome.output_name} "
                        f"{'is gone' if size is None else f'holds {size} bytes'} where the job "
                        f"wrote {outcome.bytes_written}: it was changed since, and no manifest "
                        "vouches for it (remove it if it is there, and run the same job again: "
                        "it is exported afresh)",
                        handle=outcome.handle.value,
                    )
        records.append(
            ManifestRecord(
                handle=outcome.handle.value,
                file_name=outcome.file_name,
                output_name=outcome.output_name,
                status=outcome.status.value,
                code=outcome.code,
                format=outcome.output_format,
                width=outcome.width,
                height=outcome.height,
                bytes=outcome.bytes_written,
                sha256=sha256,
            )
        )
    return ExportManifest(records)


def _not_a_manifest(why: str) -> StoreReadError:
    return StoreReadError(f"not an export manifest: {why}")


def _raw_records(raw: object) -> list[object]:
    """The records of the JSON value *raw*, checked to be what ``to_json`` writes around them."""
    if not isinstance(raw, dict):
        kind = _json_kind(raw)
        raise _not_a_manifest(f'it holds {kind}, not an object with "version" and "records"')
    for key in ("records", "version"):
        if key not in raw:
            raise _not_a_manifest(f'it has no "{key}"')
    if raw["version"] != MANIFEST_VERSION:
        raise _not_a_manifest(f"unknown version {raw['version']!r}")
    records = raw["records"]
    if not isinstance(records, list):
        raise _not_a_manifest(f'its "records" is {_json_kind(records)}, not an array')
    return records


def _record(number: int, raw: object) -> ManifestRecord:
    """The record *raw*, the *number*-th of a manifest, with the fields a record has."""
    if not isinstance(raw, dict):
        raise _not_a_manifest(f"record {number} is {_json_kind(raw)}, not an object")
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        listed = ", ".join(json.dumps(key) for key in unknown)
        raise _not_a_manifest(f"record {number} has a field no manifest has: {listed}")
    for key in ("handle", "status"):
        if key not in raw:
            raise _not_a_manifest(f'record {number} has no "{key}"')
    return ManifestRecord(**raw)


def _json_kind(value: object) -> str:
    """What *value*, read from JSON, is in JSON's words."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    kinds: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return kinds.get(type(value), "a number")


def _record_problem(record: ManifestRecord) -> str | None:
    """What makes *record* no record this library writes (a hostile manifest), if anything."""
    # Read from JSON: the fields hold whatever the file said, whatever their annotations say.
    values: dict[str, object] = attrs.asdict(record)
    if not isinstance(values["handle"], str) or not isinstance(values["status"], str):
        return "handle and status must be strings"
    name, size, digest = values["output_name"], values["bytes"], values["sha256"]
    if name is not None:
        if not isinstance(name, str):
            return f"output_name {name!r} is not a string"
        try:
            check_path(name)
        except UnsafeNameError as exc:
            return f"output_name {name!r}: {exc.message}"
    if type(size) is not int or size < 0:
        return f"bytes {size!r} is not a size"
    if digest is not None and not (isinstance(digest, str) and _is_sha256(digest)):
        return f"sha256 {digest!r} is not a SHA-256 digest"
    return None


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


@attrs.frozen
class Verification:
    """The result of ``verify``: one line per file checked, and the problems found."""

    checked: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether every file matched the manifest and nothing else was there."""
        return not self.problems

    def report(self) -> str:
        """Return a per-file report, problems first."""
        # One line each, whatever a name holds (an archive's names are anyone's).
        lines = [escaped(f"FAIL {p}") for p in self.problems]
        lines += [escaped(f"ok   {name}") for name in self.checked]
        summary = f"{len(self.checked)} file(s) verified, {len(self.problems)} problem(s)"
        return "\n".join([*lines, summary]) + "\n"


def verify(
    target: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None
) -> Verification:
    """Check every file of the folder, prefix or ZIP *target* against the manifest in it.

    Each exported record's file must be there with its size and SHA-256; a file the manifest does
    not list is a problem too (a failed or refused asset has no file). *target* is a local folder, a
    ``.zip`` file (or any ZIP), or an fsspec URL of a prefix or of an archive
    (``s3://bucket/prefix``, ``s3://bucket/job.zip``, with the fsspec extra).

    Raises:
        StoreReadError: *target* cannot be read or has no manifest.
    """
    text = os.fspath(target)
    if "://" not in text and Path(text).is_file():
        with Path(text).open("rb") as stream:
            return _verify_zip(text, stream)
    if "://" not in text:
        return _verify_files(_folder_files(Path(text)))
    from .stores._fsspec_io import filesystem  # noqa: PLC0415 - the optional extra, when used

    fs, path = filesystem(text, storage_options)
    try:
        is_file = bool(fs.isfile(path))
    except Exception as exc:
        raise StoreReadError(f"cannot reach {text}: {type(exc).__name__}: {exc}") from exc
    if is_file:  # an archive: its central directory and entries are read with ranged GETs
        with fs.open(path, "rb") as stream:
            return _verify_zip(text, stream)
    return _verify_files(_fsspec_files(fs, path, text))


def _verify_zip(where: str, stream: IO[bytes]) -> Verification:
    try:
        with zipfile.ZipFile(stream) as archive:
            return _verify_files(_zip_files(archive))
    except zipfile.BadZipFile as exc:
        raise StoreReadError(f"{where} is not a ZIP archive: {exc}") from exc


_Files = tuple[Callable[[str], contextlib.AbstractContextManager[IO[bytes]] | None], Iterable[str]]


def _zip_files(archive: zipfile.ZipFile) -> _Files:
    names = [n for n in archive.namelist() if not n.endswith("/")]  # folder entries hold nothing
    present = set(names)

    def open_entry(name: str) -> contextlib.AbstractContextManager[IO[bytes]] | None:
        return archive.open(name) if name in present else None

    return open_entry, names


def _folder_files(folder: Path) -> _Files:
    if not folder.is_dir():
        raise StoreReadError(f"{folder} is neither a folder nor a ZIP archive")

    from .stores._beneath import find_beneath  # noqa: PLC0415 - the stores import this module

    root = folder.resolve()

    def open_file(name: str) -> contextlib.AbstractContextManager[IO[bytes]] | None:
        # Beneath the folder, no symlink followed out of it: what is checked is what is there.
        try:
            found = find_beneath(root, name.split("/"), open_file=True)
        except OSError:
            return None
        return None if found is None or found[1] is None else os.fdopen(found[1], "rb")

    names: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))  # the journals
        here = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if here == "." else f"{here}/"
        names.extend(f"{prefix}{f}" for f in sorted(filenames) if not f.startswith("."))
    return open_file, names


def _fsspec_files(fs: Any, root: str, url: str) -> _Files:
    def open_object(name: str) -> contextlib.AbstractContextManager[IO[bytes]] | None:
        try:
            stream: IO[bytes] = fs.open(f"{root}/{name}", "rb")
        except FileNotFoundError:
            return None
        return stream

    try:
        paths = [str(p) for p in fs.find(root)]
    except Exception as exc:
        raise StoreReadError(f"cannot list {url}: {type(exc).__name__}: {exc}") from exc
    names = [p[len(root) + 1 :] if root else p for p in sorted(paths)]
    return open_object, [n for n in names if not any(part.startswith(".") for part in n.split("/"))]


def _verify_files(files: _Files) -> Verification:
    open_file, names = files
    manifest_stream = open_file(MANIFEST_JSON)
    if manifest_stream is None:
        raise StoreReadError(f"no {MANIFEST_JSON} to verify against")
    with manifest_stream as stream:
        try:
            manifest = ExportManifest.from_json(stream.read())
        except StoreReadError as exc:
            raise StoreReadError(f"{MANIFEST_JSON} is {exc}") from exc
    expected = manifest.files()
    checked, problems = [], []
    for name, record in expected.items():
        found = open_file(name)
        if found is None:
            problems.append(f"{name}: missing (asset {record.handle})")
            continue
        with found as stream:
            size, sha256 = file_digest(stream)
        if size != record.bytes:
            problems.append(f"{name}: {size} bytes, the manifest says {record.bytes}")
        elif record.sha256 is not None and sha256 != record.sha256:
            problems.append(f"{name}: SHA-256 {sha256}, the manifest says {record.sha256}")
        else:
            checked.append(name)
    names = list(names)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(f"{name}: there more than once (an archive with two entries of it)")
        seen.add(name)
    problems.extend(f"{name}: not in the manifest" for name in _unlisted(seen, expected))
    return Verification(tuple(checked), tuple(problems))


def _unlisted(names: Iterable[str], expected: Mapping[str, ManifestRecord]) -> Iterator[str]:
    for name in names:
        if name not in expected and name not in {MANIFEST_JSON, MANIFEST_CSV}:
            yield name
