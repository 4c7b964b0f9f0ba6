"""The codes of the log details the engine writes itself, defined once (``exportjob.joblog`` exports them).

Errors raised by plug-ins and by the language carry their exception class's ``code`` instead
(``NOT_AUTHORIZED``, ``STORE_READ_FAILED``, ...; see ``exportjob.exceptions``).
"""

from __future__ import annotations

__all__ = [
    "DUPLICATE_HANDLE",
    "FATAL_ERROR",
    "INVALID_RECIPIENT",
    "NOT_DURABLE",
    "NOT_RUN",
    "NO_NOTIFIER",
    "NO_RECIPIENT",
    "PLAN_WARNING",
    "UNEXPECTED_ERROR",
    "WORKER_FAILED",
]

PLAN_WARNING = "PLAN_WARNING"
"""A warning of an asset's plan: a dropped command, a renamed output, an ignored field."""
DUPLICATE_HANDLE = "DUPLICATE_HANDLE"
"""A handle listed again in the same job: skipped (``DuplicateSkipped``)."""
NOT_RUN = "NOT_RUN"
"""An asset the job never ran: it was stopped, or it failed first."""
WORKER_FAILED = "WORKER_FAILED"
"""An asset whose work unit never returned: the executor or a worker failed."""
UNEXPECTED_ERROR = "UNEXPECTED_ERROR"
"""A foreign exception that fits no stage (a bug in a plug-in)."""
NO_RECIPIENT = "NO_RECIPIENT"
"""The email setting asks for a notification, but the job names no user or submitter."""
NO_NOTIFIER = "NO_NOTIFIER"
"""The email setting asks for a notification, but the engine has no notifier."""
FATAL_ERROR = "FATAL_ERROR"
"""The engine itself failed; the job ended ``failed``."""
INVALID_RECIPIENT = "INVALID_RECIPIENT"
"""The recipient is not exactly one address (a list, a display name, a line break): no mail was sent."""
NOT_DURABLE = "NOT_DURABLE"
"""The job's last exports or journal lines could not be made durable at its end (a warning)."""
