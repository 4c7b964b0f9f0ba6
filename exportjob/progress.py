"""Progress display for running jobs: a ``tqdm`` bar as an engine progress callback.

``tqdm`` is optional (``pip install 'exportjob[tqdm]'``); it is imported when a bar is made. By
default the bar is the notebook widget in Jupyter when ipywidgets is installed, and a text bar
otherwise (a terminal, or a notebook without ipywidgets: quietly, with no ``TqdmWarning``).
"""

from __future__ import annotations

import sys
import threading
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._run import AssetProgress

__all__ = ["TqdmProgress"]


def _in_notebook() -> bool:
    """Whether this is a Jupyter kernel whose front end can draw widgets (ipywidgets installed)."""
    if "ipykernel.zmqshell" not in sys.modules:
        return False
    try:
        from tqdm.notebook import IProgress  # noqa: PLC0415 - None without ipywidgets
    except ImportError:
        return False
    return IProgress is not None


def _tqdm_class(*, notebook: bool | None) -> Any:
    try:
        if notebook is None:
            # Not tqdm.auto: without ipywidgets it warns (TqdmWarning) before falling back to text.
            notebook = _in_notebook()
        if notebook:
            from tqdm.notebook import tqdm  # noqa: PLC0415
        else:
            from tqdm.std import tqdm  # noqa: PLC0415
    except ImportError as exc:
        msg = "TqdmProgress needs tqdm: pip install 'exportjob[tqdm]'"
        raise ImportError(msg) from exc
    return tqdm


class TqdmProgress:
    """An engine progress callback that draws one ``tqdm`` bar per job, with error and warning counts.

    Pass it as ``ExportEngine(..., progress=TqdmProgress())``. Extra keyword arguments go to ``tqdm``
    (``file=``, ``disable=``, ...).

    >>> import io
    >>> TqdmProgress(file=io.StringIO())
    <TqdmProgress with 0 open bar(s)>
    """

    def __init__(
        self,
        *,
        desc: str = "export",
        notebook: bool | None = None,
        file: IO[str] | None = None,
        **tqdm_kwargs: Any,
    ) -> None:
        self._tqdm = _tqdm_class(notebook=notebook)
        self._desc = desc
        self._kwargs = dict(tqdm_kwargs)
        if file is not None:
            self._kwargs["file"] = file
        self._lock = threading.Lock()
        self._bars: dict[str, Any] = {}
        self._problems: dict[str, list[int]] = {}

    def __repr__(self) -> str:
        return f"<TqdmProgress with {len(self._bars)} open bar(s)>"

    def __call__(self, event: AssetProgress) -> None:
        """Advance the bar of ``event.job_handle`` to ``event.done`` of ``event.total``."""
        with self._lock:
            bar = self._bars.get(event.job_handle)
            if bar is None:
                bar = self._tqdm(total=event.total, desc=self._desc, unit="asset", **self._kwargs)
                self._bars[event.job_handle] = bar
                self._problems[event.job_handle] = [0, 0]
            counts = self._problems[event.job_handle]
            status = event.outcome.status.value
            if status in {"failed", "refused"}:
                counts[0] += 1
            elif event.outcome.warnings:
                counts[1] += 1
            bar.set_postfix(errors=counts[0], warnings=counts[1], refresh=False)
            bar.update(event.done - bar.n)
            if event.done >= event.total:
                bar.close()
                del self._bars[event.job_handle]
                del self._problems[event.job_handle]
