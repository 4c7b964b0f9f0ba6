"""A real Dask cluster on 127.0.0.1 for the tests: two worker processes of one thread each."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import distributed


@contextlib.contextmanager
def local_client() -> Iterator[distributed.Client]:
    """A client of a fresh ``LocalCluster`` (no dashboard), closed with the cluster on exit."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
