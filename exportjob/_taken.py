"""Which output names the export area already holds, as the planner asks under ``rename``.

Under the ``rename`` conflict policy a name taken in the export area is skipped when the asset is
planned, in job order, so which asset gets which variant does not depend on which write lands
first. The planner asks the store (``OccupiedNames``, else ``ExportInventory``) a round at a time:
one call for the names of the assets planned together, then one per variant it tries. Answers
are kept for that round only, so memory does not grow with the job (only the names found taken
are remembered, for the plans' warnings). A store that fails to answer is not asked again, and one
that says every variant is taken (it counts what it cannot look at as taken) is not asked past
``_MAX_TRIES`` of them: the first is kept (``checked`` says it was not found free) for the store's
own renaming to write, and the job says so once in the engine's log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from ._names import NameBook

__all__ = ["TakenNames"]

logger = logging.getLogger("exportjob.engine")

_MAX_TRIES = 32


class TakenNames:
    """The names of an export area that are taken, asked of *existing*.

    *existing* is the store's ``occupied_names`` (or its ``existing_exports``); *files*, its
    ``existing_exports`` if it has one, tells which folders of a taken path are files there.
    """

    def __init__(
        self,
        existing: Callable[[Collection[str]], Collection[str]],
        *,
        files: Callable[[Collection[str]], Collection[str]] | None = None,
    ) -> None:
        self._existing: Callable[[Collection[str]], Collection[str]] | None = existing
        self._files = files  # which names are files: a folder of a path may be one
        self._known: dict[str, bool] = {}
        self._held: set[str] = set()  # casefolded: the names found taken, for the warnings
        self._unchecked: set[str] = set()  # names kept after _MAX_TRIES taken: their write decides
        self._warned = False

    def first_free(self, book: NameBook, wanted: str, name: str) -> str:
        """*name*, the name *book* gave *wanted*, or the first variant after it that is not taken.

        Each taken one is claimed in *book*, so no later asset of the job tries it. After
        ``_MAX_TRIES`` taken in a row the store is not asked further about this asset: *name*
        is kept, and the store's write decides.
        """
        first = name
        for _ in range(_MAX_TRIES):
            if name not in self:
                return name
            self._held.add(name.casefold())
            for folder in self._files_on_the_way(name):
                book.hold(folder)  # a file there: the book numbers that folder, as for its own
            name = book.claim(wanted)
        self._unchecked.add(first)
        if not self._warned:
            self._warned = True
            logger.warning(
                "the store says %d variants of the output name %r are taken; %r is written as "
                "the store's conflict policy says (and so is any other such name of the job)",
                _MAX_TRIES,
                wanted,
                first,
            )
        return first

    def _files_on_the_way(self, name: str) -> list[str]:
        """The folders of the path *name* that are files in the export area (none if not known)."""
        parts = name.split("/")[:-1]
        if not parts or self._files is None:
            return []
        folders = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        try:
            files = set(self._files(folders))
        except Exception:  # noqa: BLE001 - not known: the store's write decides, as without
            return []
        return [f for f in folders if f in files]

    def checked(self, name: str) -> bool:
        """Whether *name* was found free (not kept after every variant was said to be taken)."""
        return name not in self._unchecked

    def held(self, name: str) -> bool:
        """Whether *name* was found taken in the export area (by a file no asset of this job wrote)."""
        return name.casefold() in self._held

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
