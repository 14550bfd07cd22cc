"""``analyze --dask``: a ``distributed`` cluster that computes the store's statistics.

``"local"`` starts a ``distributed.LocalCluster`` on this machine (worker processes, one thread
each); any other value is a scheduler address (``tcp://host:8786``) of a running cluster. The
z-points become a ``dask.array`` of row chunks (``analysis.blockstats.dask_array``): a
memory-mapped store is read by each worker from its path, so on a real cluster that path must be
visible to every worker (a shared file system).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latentatlas.analysis.blockstats import DaskDriver, dask_array


class Cluster:
    """A connected ``distributed.Client`` (and the LocalCluster it started, if any)."""

    def __init__(self, client: Any, local: Any, description: str) -> None:
        self.client = client
        self.local = local
        self.description = description

    def driver(self, z: np.ndarray) -> DaskDriver:
        return DaskDriver(dask_array(z))

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()


def start_cluster(spec: str, workers: int = 2) -> Cluster:
    """Connect to ``spec`` (``"local"`` or a scheduler address); ValueError (one line) if the
    scheduler cannot be reached."""
    from distributed import Client, LocalCluster

    if spec == "local":
        local = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return Cluster(Client(local), local, f"local cluster, {workers} worker processes")
    try:
        client = Client(spec, timeout="10s")
    except (OSError, TimeoutError, ValueError) as e:
        raise ValueError(f"--dask {spec}: cannot reach the scheduler ({e})") from None
    n = len(client.scheduler_info().get("workers", {}))
    return Cluster(client, None, f"scheduler {spec}, {n} workers")
