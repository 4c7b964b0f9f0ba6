"""What the dispatcher hands out: a task per accepted plan, and the units that carry tasks away."""

from __future__ import annotations

import attrs

from .plans import ExportPlan
from .protocols import OnConflict

__all__ = ["Task", "Unit"]


@attrs.define
class Task:
    """One accepted plan, dispatched (perhaps again, after a lost worker)."""

    plan: ExportPlan
    strikes: int = 0
    generation: int = 0
    renames: int = 0
    policy: OnConflict | None = None  # its own write policy (the store decides its name), if any


@attrs.frozen
class Unit:
    """The tasks one unit sent away carries, in job order (none for a local worker's loop)."""

    tasks: tuple[Task, ...]
    token: int | None = None  # a local worker's loop
