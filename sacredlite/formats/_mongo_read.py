"""Read runs back: overflowed output and metrics joined, files found in GridFS (internal;
public through :mod:`sacredlite.formats.mongo`). Works on what Sacred wrote too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ._mongo_overflow import METRIC_FIELDS
from ._mongo_schema import MICROS, Collections

__all__ = [
    "ARTIFACTS",
    "SOURCES",
    "artifact_files",
    "metric_names",
    "read_captured_out",
    "read_metric",
    "source_files",
    "with_diffs",
]

SOURCES = "experiment.sources"
"""The field of a run's sources (``[[path, file id]]``), e.g. for a projection."""
ARTIFACTS = "artifacts"
"""The field of a run's artifacts (``[{name, file_id}]``)."""


def source_files(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    """Return a run document's sources as ``(path, GridFS file id)`` (malformed entries
    left out)."""
    sources = (doc.get("experiment") or {}).get("sources") or []
    return [(str(s[0]), s[1]) for s in sources if isinstance(s, list | tuple) and len(s) >= 2]


def artifact_files(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    """Return a run document's artifacts as ``(name, GridFS file id)``."""
    items = doc.get(ARTIFACTS) or []
    return [(str(a.get("name")), a.get("file_id")) for a in items if isinstance(a, dict)]


def with_diffs(experiment: dict[str, Any], fs: Any) -> dict[str, Any]:
    """Return *experiment* with each repository's ``diff`` read back from GridFS
    (``diff_file_id``); *experiment* itself when none has one."""
    repos = experiment.get("repositories") or []
    if not any(isinstance(r, dict) and r.get("diff_file_id") for r in repos):
        return experiment

    def read(repo: Any) -> Any:
        if not isinstance(repo, dict) or not repo.get("diff_file_id"):
            return repo
        try:
            diff = fs.get(repo["diff_file_id"]).read().decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - a missing diff must not hide the run
            diff = "(the stored diff is missing)"
        return {**repo, "diff": diff}

    return {**experiment, "repositories": [read(r) for r in repos]}


def metric_names(db: Any, run_id: Any, metrics_collection: str = "metrics") -> list[str]:
    """Return the names of a run's metrics, sorted (from its metric documents)."""
    docs = db[metrics_collection].find({"run_id": run_id}, {"name": 1})
    return sorted({str(d["name"]) for d in docs if d.get("name") is not None})


def read_captured_out(db: Any, run_doc: dict[str, Any]) -> str:
    """Return a run's whole captured output, reassembled from its overflow chunks.

    Args:
        db: the pymongo ``Database`` holding the run.
        run_doc: the run document (at least ``_id``, ``captured_out`` and ``sacredlite``).
    """
    tail = run_doc.get("captured_out") or ""
    meta = run_doc.get("sacredlite") or {}
    start = int(meta.get("captured_out_start") or 0)
    if not start:
        return str(tail)
    chunks = db[meta.get("output_collection") or Collections().output].find(
        {"run_id": run_doc["_id"]}, {"text": 1, "start": 1}
    )
    pieces: list[str] = []
    length = 0
    for chunk in sorted(chunks, key=lambda c: c["start"]):
        if chunk["start"] > length:
            missing = chunk["start"] - length
            pieces.append(f"\n[... {missing} characters missing ...]\n")
        elif chunk["start"] < length:
            continue
        pieces.append(chunk["text"])
        length = chunk["start"] + len(chunk["text"])
    if length < start:
        pieces.append(f"\n[... {start - length} characters missing ...]\n")
    text = "".join(pieces)
    if length > start:  # chunks reach into the kept tail: drop the overlap
        text = text[: len(text) - (length - start)]
    return text + str(tail)


def read_metric(
    db: Any,
    run_id: Any,
    name: str,
    metrics_collection: str = "metrics",
    fields: Sequence[str] = METRIC_FIELDS,
) -> dict[str, list[Any]] | None:
    """Return one metric of a run as ``{"steps", "values", "timestamps"}``, all parts joined.

    Args:
        db: the pymongo ``Database``.
        run_id: the run's ``_id``.
        name: the metric's name.
        metrics_collection: the metrics collection (``<prefix>_metrics`` with a prefix).
        fields: the columns to read (decoding a million BSON dates is most of the cost of
            a long metric: leave ``timestamps`` out when they are not needed).

    Returns:
        The series (the *fields* only), or ``None`` if the run has no such metric.
    """
    exact = "timestamps" in fields
    columns = (*fields, MICROS) if exact else tuple(fields)
    projection = {key: 1 for key in (*columns, "sacredlite_parts")}
    main = db[metrics_collection].find_one({"run_id": run_id, "name": name}, projection)
    if main is None:
        return None
    docs = [main]
    if main.get("sacredlite_parts"):
        parts = db[Collections(metrics=metrics_collection).overflow].find(
            {"_id.metric_id": main["_id"]}, {key: 1 for key in columns}
        )
        docs += sorted(parts, key=lambda p: p["_id"]["part"])
    series: dict[str, list[Any]] = {key: [] for key in fields}
    for doc in docs:
        for key in fields:
            values = doc.get(key, [])
            if key == "timestamps" and exact:
                values = with_micros(values, doc.get(MICROS))
            series[key].extend(values)
    return series


def metric_tails(db: Any, run_id: Any, metrics_collection: str = "metrics") -> dict[str, Any]:
    """Return ``{name: (metric document id, points stored, last step or None)}`` of a run's
    metrics, overflow parts counted (what a resumed run continues)."""
    overflow = db[Collections(metrics=metrics_collection).overflow]
    tails: dict[str, Any] = {}
    for main in db[metrics_collection].find(
        {"run_id": run_id}, {"name": 1, "steps": 1, "sacredlite_parts": 1}
    ):
        steps = list(main.get("steps") or [])
        count, last = len(steps), (steps[-1] if steps else None)
        if main.get("sacredlite_parts"):
            parts = overflow.find({"_id.metric_id": main["_id"]}, {"steps": 1})
            for part in sorted(parts, key=lambda p: p["_id"]["part"]):
                more = part.get("steps") or []
                count += len(more)
                last = more[-1] if more else last
        tails[str(main["name"])] = (main["_id"], count, last)
    return tails


def with_micros(stamps: list[Any], micros: Any) -> list[Any]:
    """Return *stamps* with the microseconds a copy kept beside them (``sacredlite_micros``,
    one per timestamp) added back; *stamps* as they are without them."""
    if not isinstance(micros, list) or len(micros) != len(stamps) or not any(micros):
        return stamps
    return [
        t + timedelta(microseconds=int(us)) if us and isinstance(t, datetime) else t
        for t, us in zip(stamps, micros, strict=True)
    ]
