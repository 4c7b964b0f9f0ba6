"""The ``exportjob demo`` command: sample originals drawn in code, converted as a real job.

It runs in a folder of its own (``DemoFolder``): a second demo replaces the first one's files, and
a folder that holds anyone else's is refused.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TextIO

from ._cli_signals import EXIT_INTERRUPTED, run_stopping_on_signals
from ._console import (
    EXIT_ASSET_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    TtyProgress,
    default_user,
    emit,
    print_log,
    usage_error,
)
from ._context import JobContext
from ._demo_folder import DemoFolder
from ._engine import ExportEngine
from ._enums import EmailSetting, ExportFormat
from ._job import ExportJob
from .exceptions import ExportJobError
from .language._macros import MacroLibrary
from .protocols import OnConflict
from .stores import DirectoryStore

__all__ = ["run_demo"]


def run_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``exportjob demo``: draw sample originals into ``--out`` and convert them (docs/cli.md)."""
    from . import _demo as demo  # noqa: PLC0415 - draws with Pillow; only this command needs it

    root: Path = args.out.absolute()
    originals, exports = root / "originals", root / "exports"
    try:
        folder = DemoFolder(root, demo.DEMO_MANIFEST)  # a folder of its own, never anyone's files
    except OSError as exc:
        return usage_error(err, f"cannot look into the demo folder {root}: {exc}")
    if folder.foreign:
        return usage_error(err, folder.refusal())
    if not emit(out, lambda o: o.write(f"Drawing sample originals into {originals} ...\n"), err):
        return EXIT_USAGE  # a demo nobody can read: nothing is drawn
    try:
        folder.claim()
        sample = demo.write_originals(originals)
        store = DirectoryStore(originals, exports, default_company=demo.DEMO_COMPANY)
    except (ExportJobError, OSError) as exc:
        return usage_error(err, f"cannot write the demo into {root}: {exc}")
    job = ExportJob(
        asset_handles=sample.handles,
        fmt=ExportFormat.CONVERT,
        is_modifier=demo.DEMO_MODIFIER,
        macro=demo.DEMO_MACRO,
        email_setting=EmailSetting.NONE,
    )
    context = JobContext(company=demo.DEMO_COMPANY, job_name="demo", user=default_user())
    macros = MacroLibrary(demo.DEMO_MACROS)
    emit(
        out,
        lambda o: o.write(
            f"Converting {len(sample.handles)} assets of company {demo.DEMO_COMPANY!r} with "
            f"is_modifier={demo.DEMO_MODIFIER!r} and macro={demo.DEMO_MACRO!r} "
            f"({demo.DEMO_MACRO} = {demo.DEMO_MACROS['web']!r}) ...\n"
        ),
        err,
    )
    progress = TtyProgress(err) if err.isatty() else None
    try:
        # Its folder is its own: a second demo replaces the first one's exports.
        with ExportEngine(
            store, macros=macros, progress=progress, on_conflict=OnConflict.REPLACE
        ) as engine:
            log, interrupted = run_stopping_on_signals(engine, job, context)
            if log is None:
                err.write("exportjob: interrupted before the demo started\n")
                return interrupted or EXIT_INTERRUPTED
    finally:
        if progress is not None:
            progress.clear()
    log_path = root / "joblog.json"
    try:
        log_path.write_text(json.dumps(log.to_dict(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    except OSError as exc:
        return usage_error(err, f"cannot write the job log {log_path}: {exc}")
    ending = (
        "\n"
        f"The {sample.image_set!r} image set and {sample.foreign!r} (owned by another company) "
        "are refused on purpose.\n"
        f"Originals: {originals}\n"
        f"Exports:   {exports}\n"
        f"Job log:   {log_path}\n"
        f"Next: exportjob export {originals} --fmt convert --modifier '&fmt=jpg&wid=200' "
        f"--company {demo.DEMO_COMPANY} --out {root.with_name(root.name + '-thumbs')}\n"
    )

    def summary(o: TextIO) -> None:
        print_log(log, o)
        o.write(ending)

    emit(out, summary, err)
    if interrupted is not None:
        return interrupted
    expected = {"NOT_AUTHORIZED", "UNSUPPORTED_ASSET_TYPE"}
    as_planned = log.counts.success == len(sample.photos) and all(
        d.code in expected for d in log.errors
    )
    return EXIT_OK if as_planned and not log.fatal_error else EXIT_ASSET_FAILED
