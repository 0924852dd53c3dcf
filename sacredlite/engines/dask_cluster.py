"""The ``dask`` engine: ``distributed.Client(...).get_executor()``.

``--executor-opt address=tcp://HOST:8786`` uses a running scheduler (its workers must see
the experiment's script at the same path); without it, a ``LocalCluster`` of ``--jobs``
worker processes (one thread each) is started here and closed when the sweep ends.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from . import Engine, needs, refuse_unknown

__all__ = ["open_engine"]


def open_engine(jobs: int | None, options: dict[str, Any]) -> Engine:
    """Connect to ``address`` or start a local cluster of *jobs* processes."""
    refuse_unknown("dask", options, ("address",))
    distributed = needs("dask[distributed]", "distributed", "dask")
    cluster: Any = None
    address = options.get("address")
    if address is None:
        cluster = distributed.LocalCluster(
            n_workers=jobs or 2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: 8787 may be taken (and warns)
        )
        client = distributed.Client(cluster)
    else:
        client = distributed.Client(str(address))
    executor: Executor = client.get_executor(pure=False)

    def close() -> None:
        executor.shutdown(wait=True)
        client.close()
        if cluster is not None:
            cluster.close()

    return Engine(executor, jobs=jobs, close=close)
