"""Which output names the export area already holds, as the planner asks under ``rename``.

Under the ``rename`` conflict policy a name taken in the export area is skipped when the asset is
planned, in job order, so which asset gets which variant does not depend on which write lands
first. The planner asks an ``ExportInventory`` a round at a time (one call for the names of the
assets planned together, then one per variant it tries); answers are kept for that round only, so
memory does not grow with the job. A store that fails to answer is not asked again: the job goes
on with the store's own renaming at write time, and says so once in the engine's log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

__all__ = ["TakenNames"]

logger = logging.getLogger("exportjob.engine")


class TakenNames:
    """The names of an export area that are taken, asked of *existing* (``existing_exports``)."""

    def __init__(self, existing: Callable[[Collection[str]], Collection[str]]) -> None:
        self._existing: Callable[[Collection[str]], Collection[str]] | None = existing
        self._known: dict[str, bool] = {}

    @property
    def answering(self) -> bool:
        """Whether the store still answers (it has not failed to)."""
        return self._existing is not None

    def look_up(self, names: Collection[str]) -> None:
        """Start a round: ask for *names* at once, forgetting the answers of the round before."""
        self._known = {}
        if names:
            self._ask(names)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        known = self._known.get(name)
        if known is None:
            self._ask((name,))
            known = self._known.get(name, False)
        return known

    def _ask(self, names: Collection[str]) -> None:
        if self._existing is None:
            return
        try:
            there = set(self._existing(names))
        except Exception:
            self._existing = None
            logger.warning(
                "the store cannot tell which output names its export area holds; names already "
                "taken there are renamed when written, so they may depend on which write lands first",
                exc_info=True,
            )
            return
        for name in names:
            self._known[name] = name in there
