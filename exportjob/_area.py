"""What a job's planner asks of the export area under ``rename``, and through which protocol.

A store that is an ``OccupiedNames`` says which names hold anything; one that is only an
``ExportInventory`` says which hold exports (regular files), which also tells the planner when a
folder of a path is a file there. A store that is neither is asked nothing: its own renaming at
write time decides.
"""

from __future__ import annotations

from ._taken import TakenNames
from .protocols import ExportInventory, OccupiedNames, OnConflict

__all__ = ["taken_names"]


def taken_names(store: object, on_conflict: OnConflict) -> TakenNames | None:
    """The names *store*'s export area has taken, as the planner asks them (None: not asked)."""
    if on_conflict is not OnConflict.RENAME:
        return None
    files = store.existing_exports if isinstance(store, ExportInventory) else None
    if isinstance(store, OccupiedNames):
        return TakenNames(store.occupied_names, files=files)
    if files is not None:
        return TakenNames(files, files=files)
    return None
