"""The ``exportjob`` command: export a folder's assets, or run the demo.

``exportjob export SRC --fmt orig|convert --out DIR|URL [...]`` exports every asset of a folder or URL
(or the ``--handle`` ones) with a ``DirectoryStore`` (an ``FsspecStore`` for URLs), or into one ZIP
with ``--zip FILE``, and writes the export manifest beside them; ``exportjob verify DIR|ZIP|URL``
checks them against it; ``exportjob demo`` draws sample originals and converts
them. Exit status: 0 when every asset was exported (warnings allowed), 1 when any asset failed or was
refused, 2 for a usage error or an invalid job (nothing was exported), 130 when interrupted (Ctrl-C),
143 when terminated (SIGTERM). An export keeps a journal in ``DIR/.exportjob/``: the same command run
again after a crash, a kill or a completed run finishes the job without exporting anything twice.
See docs/cli.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from ._assets import AssetHandle
from ._cli_options import (
    add_conversion_settings,
    add_memory_budget,
    byte_size,
    conversion_settings,
    converter_for,
    non_empty,
)
from ._cli_signals import EXIT_INTERRUPTED, run_stopping_on_signals
from ._console import (
    EXIT_ASSET_FAILED,
    EXIT_OK,
    default_user,
    emit,
    handle_hints,
    no_assets_message,
    print_log,
    progress_for,
    silence,
    usage_error,
    version_text,
)
from ._context import JobContext
from ._delivery_cli import Delivery, add_delivery_arguments, add_verify_command, open_delivery
from ._demo_cli import run_demo
from ._engine import ExportEngine
from ._enums import EmailSetting, ExportFormat
from ._job import ExportJob
from .exceptions import ExportJobError
from .language._macros import MacroLibrary
from .notifiers import LoggingNotifier
from .protocols import OnConflict
from .stores import DirectoryStore

__all__ = ["byte_size", "main"]

JOURNAL_FOLDER = ".exportjob"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"must be a whole number of at least 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _email_setting(text: str) -> EmailSetting:
    try:
        return EmailSetting.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``exportjob`` command."""
    parser = argparse.ArgumentParser(
        prog="exportjob",
        description="Export digital-asset originals as they are, or converted by Image Serving "
        "modifiers and macros.",
    )
    parser.add_argument("--version", action="version", version=version_text())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    export = commands.add_parser(
        "export",
        help="export the assets of a folder",
        description="Export every asset of SRC_DIR (or the --handle ones) into --out.",
    )
    export.add_argument(
        "src",
        type=non_empty("the folder of originals, or a URL (. for the current folder)"),
        metavar="SRC",
        help="the folder of originals, or a URL (s3://bucket/prefix)",
    )
    export.add_argument(
        "--fmt",
        required=True,
        choices=[f.value for f in ExportFormat],
        help="orig: export the originals as they are; convert: apply --modifier and --macro",
    )
    export.add_argument("--modifier", help="an Image Serving modifier, e.g. '&fmt=png&wid=400'")
    export.add_argument("--macro", help="a macro invocation, e.g. '$thumb$' (its fmt wins)")
    export.add_argument("--macros", type=Path, metavar="FILE", help="a macro definition file")
    export.add_argument(
        "--out",
        type=non_empty("the export folder, or a URL (--out . for the current folder)"),
        metavar="DIR|URL",
        help="the export folder, or a URL (s3://bucket/prefix)",
    )
    export.add_argument(
        "--handle",
        action="append",
        metavar="H",
        help="export only this asset (its path under SRC_DIR); repeatable",
    )
    add_memory_budget(export)
    export.add_argument(
        "--manifest",
        type=Path,
        metavar="FILE",
        help="the manifest (default: SRC_DIR/exportjob.json when it exists)",
    )
    export.add_argument(
        "--company",
        default="default",
        help="the company the job is submitted as, and that owns assets the manifest does not "
        "assign (default: %(default)s)",
    )
    export.add_argument("--job-name", default="export", help="the job's name (default: export)")
    export.add_argument(
        "--user", default=default_user(), help="who is notified (default: your login name)"
    )
    export.add_argument(
        "--email-setting",
        type=_email_setting,
        default=EmailSetting.NONE,
        metavar="SETTING",
        help="All, Error, ErrorAndWarning, JobCompletion or None (default); notifications are "
        "logged to stderr",
    )
    export.add_argument("--workers", type=_positive, metavar="N", help="threads converting at once")
    export.add_argument(
        "--on-conflict",
        choices=[c.value for c in OnConflict],
        default=OnConflict.ERROR.value,
        help="an output name already taken in --out by a file this job did not write: fail that "
        "asset (error, the default), skip it, replace the file, or rename the export",
    )
    export.add_argument(
        "--restart",
        action="store_true",
        help="ignore the journal of an earlier run of the same job and start afresh "
        "(with --zip, also discard the unfinished archive)",
    )
    export.add_argument(
        "--json", action="store_true", help="print the job log as JSON instead of a summary"
    )
    add_conversion_settings(export)
    add_delivery_arguments(export)
    _add_name_arguments(export)
    export.set_defaults(func=_export)
    add_verify_command(commands)

    demo = commands.add_parser(
        "demo",
        help="draw sample originals and convert them",
        description="Draw sample originals (photos, an image set, another company's banner) into "
        "DIR/originals, convert them with '&fmt=png&wid=400' and the macro $web$ into "
        "DIR/exports, and print the job log.",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("exportjob-demo"),
        metavar="DIR",
        help="where to put the demo (default: ./exportjob-demo)",
    )
    demo.set_defaults(func=run_demo)
    return parser


@contextlib.contextmanager
def _logging_to(stream: TextIO) -> Iterator[None]:
    """Send exportjob's log records (warnings, notifications) to *stream* while the command runs."""
    logger = logging.getLogger("exportjob")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("exportjob: %(message)s"))
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _add_name_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of how exports are named."""
    names = parser.add_argument_group("output names")
    names.add_argument(
        "--keep-folders",
        action="store_true",
        help="keep the folders of the handles under the export area (a/x.jpg and b/x.jpg are "
        "written as a/x.jpg and b/x.jpg, not x.jpg and x-2.jpg); each folder name is made safe",
    )


def _export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        delivery = open_delivery(args)
    except (ExportJobError, OSError, ImportError, ValueError) as exc:
        return usage_error(err, exc)
    try:
        return _export_to(delivery, args, out, err)
    finally:
        delivery.close()  # an archive's spool: unlocked, and removed if nothing is in it


def _export_to(delivery: Delivery, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        local = delivery.originals if isinstance(delivery.originals, DirectoryStore) else None
        macros = MacroLibrary.from_file(args.macros) if args.macros else None
        settings = conversion_settings(args)
        handles = [AssetHandle(h) for h in args.handle] if args.handle else list(delivery.handles())
        if not handles:
            return usage_error(
                err, no_assets_message(local.source_dir) if local else f"no assets in {args.src}"
            )
        hints = (
            handle_hints(args.handle or (), local.source_dir, lambda h: _names_asset(local, h))
            if local is not None
            else []
        )
        job = ExportJob(
            asset_handles=handles,
            fmt=args.fmt,
            is_modifier=args.modifier,
            macro=args.macro,
            email_setting=args.email_setting,
        )
        context = JobContext(company=args.company, job_name=args.job_name, user=args.user)
    except (ExportJobError, OSError, ImportError, ValueError) as exc:
        return usage_error(err, exc)

    progress = progress_for(err, json_output=args.json)
    try:
        with ExportEngine(
            delivery.store,
            converter_for(job.fmt, args.memory_budget),
            notifier=LoggingNotifier(),
            macros=macros,
            settings=settings,
            workers=args.workers,
            progress=progress,
            on_conflict=args.on_conflict,
            keep_folders=args.keep_folders,
            reserved_names=delivery.reserved_names,
        ) as engine:
            # The job's key and its source's: the journal's name, and the delivery's record.
            key = f"{engine.journal_key(job, context)}-{delivery.source_key}"
            if delivery.journal_folder.is_symlink():
                return usage_error(
                    err,
                    f"{delivery.journal_folder} is a symlink: the journal is never kept through "
                    "one (remove it; the folder is made again)",
                )
            journal = delivery.journal_folder / f"{key}.jsonl"
            if args.restart:
                delivery.restart(journal)
            log, interrupted = run_stopping_on_signals(
                engine, job, context, journal, delivery.progress(job)
            )
            if log is None:
                err.write("exportjob: interrupted before the job started; nothing was exported\n")
                return interrupted or EXIT_INTERRUPTED
    except (ExportJobError, OSError) as exc:  # an invalid request or journal: nothing was read
        return usage_error(err, exc)
    finally:
        if progress is not None:
            progress.clear()
    # The job ran: its log is printed even when the delivery cannot be finished (an archive whose
    # name is taken), then what stopped the delivery.
    where: str | None = delivery.where
    undelivered: ExportJobError | OSError | None = None
    if interrupted is None:
        try:
            where = delivery.finish(log, args.on_conflict, key)
        except (ExportJobError, OSError) as exc:
            where, undelivered = None, exc

    if args.json:
        emit(
            out,
            lambda o: o.write(json.dumps(log.to_dict(), indent=2, ensure_ascii=False) + "\n"),
            err,
        )
    else:
        emit(out, lambda o: print_log(log, o, exports=where), err)
    err.writelines(f"exportjob: hint: {hint}\n" for hint in hints)
    if undelivered is not None:
        return usage_error(err, undelivered)
    if interrupted is not None:
        return interrupted
    return EXIT_OK if log.ok else EXIT_ASSET_FAILED


def _names_asset(store: DirectoryStore, handle: str) -> bool:
    """Whether *handle* names an asset of *store* (for the hints about ``--handle``)."""
    try:
        store.describe(AssetHandle(handle))
    except (ExportJobError, ValueError):
        return False
    return True


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the ``exportjob`` command with *argv* (``sys.argv[1:]`` if omitted); return the exit status."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    args = build_parser().parse_args(argv)
    with _logging_to(err):
        try:
            status: int = args.func(args, out, err)
        except BrokenPipeError:  # stdout closed before the command's own output (| head)
            silence(out)
            return EXIT_ASSET_FAILED
        except KeyboardInterrupt:  # Ctrl-C outside a job (a job's own is handled as it runs)
            err.write("exportjob: interrupted\n")
            return EXIT_INTERRUPTED
    return status
