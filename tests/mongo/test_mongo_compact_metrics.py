"""MongoObserver.metrics_event: the run buffer's compact points, stored one batch at a time.

Issue 10: the dispatcher turned each batch into Sacred's lists for the MongoObserver, so a
long series sat in memory as Python objects. The observer now takes the compact points
(steps a ``range``, values and times ``array('d')``) and makes lists of one ``$push/$each``
batch at a time.
"""

from __future__ import annotations

import tracemalloc
from array import array
from datetime import datetime, timedelta, timezone
from typing import Any

from sacredlite.events import MetricPoints, MetricsLogged, RunCompleted, RunStarted
from sacredlite.observers.dispatch import Dispatcher
from sacredlite.observers.mongo import MongoObserver

T0 = datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc)


def points(name: str, count: int, first_step: int = 0) -> MetricPoints:
    """*count* points logged 0.1 ms apart, as the run buffer holds them."""
    base = T0.timestamp()
    return MetricPoints(
        name,
        range(first_step, first_step + count),
        array("d", (0.5 * i for i in range(count))),
        array("d", (base + i * 1e-4 for i in range(count))),
    )


def started(observer: Any) -> tuple[Dispatcher, Any]:
    dispatcher = Dispatcher([observer])
    run_id = dispatcher.start(
        RunStarted(run_id=None, time=T0, experiment={"name": "compact", "sources": []},
                   command="main", host={"hostname": "h"}, config={}, meta={})
    )  # fmt: skip
    return dispatcher, run_id


def stored_metrics(observer: Any, run_id: Any) -> dict[str, dict[str, Any]]:
    docs = observer.metrics.find({"run_id": run_id}, {"_id": 0, "sacredlite_batches": 0})
    return {doc["name"]: doc for doc in docs}


def test_compact_points_are_stored_as_sacreds_lists_would_be(
    mongo_server: Any, mongo_db_name: str, tmp_path: Any
) -> None:
    """The documents from compact points equal those from the same points as Sacred's
    lists; times are the logging times cut to the millisecond; info.metrics names both."""
    runs = {}
    for kind in ("compact", "lists"):
        observer = MongoObserver(
            mongo_server.url, db_name=f"{mongo_db_name}_{kind}", spool_dir=tmp_path / kind
        )
        dispatcher, run_id = started(observer)
        for first in (0, 2500):
            batch = {name: points(name, 2500, first) for name in ("loss", "acc")}
            if kind == "lists":
                observer.log_metrics({n: p.as_sacred() for n, p in batch.items()}, {})
            else:
                dispatcher.emit(MetricsLogged(run_id=run_id, metrics=batch))
        dispatcher.emit(RunCompleted(run_id=run_id, time=T0, result=None))
        dispatcher.finish()
        runs[kind] = (observer, run_id)
    compact, lists = (stored_metrics(*runs[kind]) for kind in ("compact", "lists"))
    assert compact == lists
    loss = compact["loss"]
    assert loss["steps"] == list(range(5000))
    assert loss["values"][:3] == [0.0, 0.5, 1.0]
    expected = [(T0 + timedelta(microseconds=100 * i)).replace(tzinfo=None) for i in range(2500)]
    assert loss["timestamps"][:2500] == [t.replace(microsecond=t.microsecond // 1000 * 1000)
                                         for t in expected]  # fmt: skip
    observer, run_id = runs["compact"]
    doc = observer.runs.find_one({"_id": run_id})
    assert sorted(ref["name"] for ref in doc["info"]["metrics"]) == ["acc", "loss"]


def test_a_batch_at_a_time_is_held_as_lists(
    mongo_server: Any, mongo_db_name: str, tmp_path: Any
) -> None:
    """Storing ten long metrics takes memory for about one of them as Python lists, not
    for all ten."""
    observer = MongoObserver(mongo_server.url, db_name=mongo_db_name, spool_dir=tmp_path)
    dispatcher, run_id = started(observer)
    batch = {f"m{i}": points(f"m{i}", 20_000) for i in range(10)}
    tracemalloc.start()
    try:
        as_lists = {name: p.as_sacred() for name, p in batch.items()}
        all_lists = tracemalloc.get_traced_memory()[0]
        del as_lists
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        observer.metrics_event(batch, {})
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < all_lists / 3, (peak, all_lists)
    assert all(len(doc["steps"]) == 20_000 for doc in stored_metrics(observer, run_id).values())
    dispatcher.emit(RunCompleted(run_id=run_id, time=T0, result=None))
    dispatcher.finish()
