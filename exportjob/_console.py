"""What the ``exportjob`` command shows and returns: progress, the log, hints, errors, exit statuses.

It writes to a stdout that may close.

Kept apart from ``cli`` (argument parsing and the commands) so each stays small.
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TextIO

from ._quoting import escaped
from ._records import LogDetail, Severity

if TYPE_CHECKING:
    from ._log import JobLog
    from ._run import AssetProgress

__all__ = [
    "EXIT_ASSET_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "StepProgress",
    "TtyProgress",
    "default_user",
    "emit",
    "handle_hints",
    "no_assets_message",
    "print_log",
    "problem_lines",
    "progress_for",
    "silence",
    "usage_error",
    "version_text",
]

EXIT_OK = 0
EXIT_ASSET_FAILED = 1
EXIT_USAGE = 2


def version_text() -> str:
    """What ``exportjob --version`` prints."""
    from . import __version__  # noqa: PLC0415 - the root imports nothing of the CLI

    return f"exportjob {__version__}"


class TtyProgress:
    """A one-line progress display on a terminal: count, rate and time left, rewritten in place."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.shown = False
        self._clock = clock
        self._start: float | None = None

    def _figures(self, event: AssetProgress) -> tuple[str, str]:
        """The count (``[3/40]``) and the rate and time left (``12.5 assets/s, 3 s left``)."""
        now = self._clock()
        if self._start is None:
            self._start = now
        elapsed = now - self._start
        width = len(str(event.total))
        rate = ""
        if elapsed > 0 and event.done > 1:
            per_second = (event.done - 1) / elapsed  # the clock starts at the first asset
            left = (event.total - event.done) / per_second
            rate = f"{per_second:.1f} assets/s, {_duration(left)} left"
        return f"[{event.done:>{width}}/{event.total}]", rate

    def __call__(self, event: AssetProgress) -> None:
        count, rate = self._figures(event)
        status = f"{count} {event.outcome.status.value:8}"
        handle = escaped(event.outcome.handle.value)  # a line break must not leave the line
        text = f"{status} {rate}  {handle}" if rate else f"{status} {handle}"
        self.stream.write("\r\x1b[K" + text[:120])
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class StepProgress(TtyProgress):
    """Progress on a stream that is not a terminal: one line per tenth of the job, at most ten."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(stream, clock)
        self._step = -1

    def __call__(self, event: AssetProgress) -> None:
        step = event.done * 10 // max(event.total, 1)
        count, rate = self._figures(event)
        if step == self._step or (step == 0 and event.done < event.total):
            return
        self._step = step
        self.stream.write(f"exportjob: progress {count} {rate}".rstrip() + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Nothing to clear: every line stays."""


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_for(err: TextIO, *, json_output: bool) -> TtyProgress | None:
    """The progress display of an export: in place on a terminal, stepped lines otherwise."""
    if json_output:
        return None
    return TtyProgress(err) if err.isatty() else StepProgress(err)


def silence(out: TextIO) -> None:
    """Point *out*'s file descriptor at ``/dev/null``, so that later writes and exit flushes succeed."""
    try:
        fd = out.fileno()
    except (OSError, ValueError, AttributeError):  # a StringIO, or closed: nothing to flush at exit
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def emit(out: TextIO, write: Callable[[TextIO], object], err: TextIO | None = None) -> bool:
    """Write with *write* to *out*, as CLI tools do when the reader goes away (``| head``).

    A closed pipe is not an error of the job: the rest of the output is dropped and the command
    still exits with the status the job calls for. Nor is an output that cannot be written (a
    full disk, ``> /dev/full``): that is said on *err*. Returns False when the output was lost.
    """
    try:
        write(out)
        out.flush()
    except BrokenPipeError:
        silence(out)
        return False
    except OSError as exc:
        silence(out)
        if err is not None:
            err.write(f"exportjob: cannot write the output: {exc.strerror or exc}\n")
        return False
    return True


def _candidates(text: str, source_dir: Path) -> Iterable[str]:
    """Handles that *text* may have meant: a path from here, or one spelled with ``./`` or ``//``."""
    given = Path(text).expanduser()
    for path in (given if given.is_absolute() else Path.cwd() / given, source_dir / text):
        normal = Path(os.path.normpath(path))
        if normal.is_relative_to(source_dir) and normal != source_dir:
            yield normal.relative_to(source_dir).as_posix()
    yield PurePosixPath(text.replace("\\", "/")).as_posix()


def handle_hints(
    texts: Iterable[str], source_dir: Path, exists: Callable[[str], bool]
) -> list[str]:
    """Hints for ``--handle`` values that name no asset: handles are paths relative to SRC_DIR.

    *exists* says whether a handle names an asset of the store.
    """
    hints = []
    for text in texts:
        if exists(text):
            continue
        better = next((c for c in _candidates(text, source_dir) if c != text and exists(c)), None)
        if better is not None:
            hints.append(
                f"--handle {text!r} is not an asset: handles are paths relative to SRC_DIR "
                f"({source_dir}); did you mean --handle {better!r}?"
            )
        elif text.startswith(("./", "/", "~")) or str(source_dir.name) in PurePosixPath(text).parts:
            hints.append(
                f"--handle {text!r} is not an asset: handles are paths relative to SRC_DIR "
                f"({source_dir}), with / between folders and no leading ./"
            )
    return hints


def _outside_links(source_dir: Path, limit: int = 10_000) -> int:
    """How many symlinks in *source_dir* point outside it (and are skipped), looking at *limit* entries."""
    root = source_dir.resolve()
    count = seen = 0
    for dirpath, dirnames, filenames in os.walk(source_dir):
        for name in (*dirnames, *filenames):
            seen += 1
            path = Path(dirpath) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                count += 1
        if seen >= limit:
            break
    return count


def no_assets_message(source_dir: Path) -> str:
    """Why an export found nothing to do, with the symlinks it skipped if that is the reason."""
    message = f"no assets in {source_dir}"
    links = _outside_links(source_dir)
    if links:
        message += (
            f": {links} symlink(s) pointing outside it were skipped (an asset must be inside "
            "SRC_DIR: give the folder they point into as SRC_DIR, or copy the files in)"
        )
    return message


def problem_lines(details: Sequence[LogDetail], *, shown: int = 5) -> list[str]:
    """The lines that list *details*: job-level ones first, each once.

    Asset details that share the code of a job-level one (the request's problem, such as
    ``IMAGE_TOO_LARGE`` for every asset of ``&wid=99999999``) are folded into one line that names
    the first *shown* assets; ``--json`` lists each.
    """
    job_level = [d for d in details if d.handle is None]
    folded = {d.code for d in job_level if d.code is not None and d.severity is Severity.ERROR}
    lines = [str(d) for d in job_level]
    groups: dict[str, list[LogDetail]] = {}
    for d in details:
        if d.handle is None:
            continue
        if d.code in folded:
            groups.setdefault(d.code or "", []).append(d)
        else:
            lines.append(str(d))
    for code, group in groups.items():
        names = ", ".join(str(d.handle) for d in group[:shown])
        more = f", … and {len(group) - shown} more" if len(group) > shown else ""
        lines.append(
            escaped(
                f"{group[0].severity.value.upper():7} {code} for {len(group)} assets: {names}{more}"
            )
        )
    return lines


def default_user() -> str | None:
    """Who runs the command (the login name), for the job's context; None if none is known."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in this environment
        return None


def print_log(log: JobLog, out: TextIO, *, exports: Path | str | None = None) -> None:
    """Print *log* as a summary followed by its warnings and errors."""
    seconds = log.duration.total_seconds()
    out.write(f"Job {escaped(log.job_handle)}: {log.state.value} in {seconds:.2f} s\n")
    job_level = sum(1 for d in log.warnings if d.handle is None)
    out.write(
        f"  {log.counts}" + (f", {job_level} job-level warning(s)" if job_level else "") + "\n"
    )
    if exports is not None:
        out.write(f"  exports in {escaped(str(exports))}\n")
    for title, details in (("Warnings", log.warnings), ("Errors", log.errors)):
        if details:
            out.write(f"{title}:\n")
            out.writelines(f"  {line}\n" for line in problem_lines(details))


def usage_error(err: TextIO, message: object) -> int:
    """Say *message* as the command's error on *err*; the usage error's exit status."""
    err.write(f"exportjob: error: {message}\n")
    return EXIT_USAGE
