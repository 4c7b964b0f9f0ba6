"""pytest fixtures for host applications' tests.

Enable them in your ``conftest.py`` with ``pytest_plugins = ["exportjob.pytest_plugin"]``. Each
fixture is fresh per test:

- ``export_store``: an empty ``MemoryStore`` of company ``acme`` (fill it with ``store.add`` or use
  ``exportjob.testing.memory_store`` yourself);
- ``recording_notifier``: a ``RecordingNotifier``;
- ``export_context``: a ``JobContext`` for company ``acme`` and user ``tester@example.com``;
- ``export_engine``: an ``ExportEngine`` over the two above, closed after the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._context import JobContext
from ._engine import ExportEngine
from .stores import MemoryStore
from .testing import RecordingNotifier

__all__ = ["export_context", "export_engine", "export_store", "recording_notifier"]

COMPANY = "acme"
USER = "tester@example.com"


@pytest.fixture
def export_store() -> MemoryStore:
    """An empty in-memory store whose assets belong to company ``acme``."""
    return MemoryStore(default_company=COMPANY)


@pytest.fixture
def recording_notifier() -> RecordingNotifier:
    """A notifier that records every report."""
    return RecordingNotifier()


@pytest.fixture
def export_context() -> JobContext:
    """The submitJob context of a test job: company ``acme``, user ``tester@example.com``."""
    return JobContext(company=COMPANY, user=USER, job_name="test export")


@pytest.fixture
def export_engine(
    export_store: MemoryStore, recording_notifier: RecordingNotifier
) -> Iterator[ExportEngine]:
    """An engine over ``export_store`` that notifies ``recording_notifier``; closed after the test."""
    with ExportEngine(export_store, notifier=recording_notifier) as engine:
        yield engine
