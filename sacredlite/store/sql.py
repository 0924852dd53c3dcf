"""Read runs stored by Sacred's or sacredlite's SqlObserver, in any SQLAlchemy database
(internal).

The tables are :mod:`sacredlite.formats.sql`'s, read through its models. Records keep
Sacred's run-document shape (``config`` and ``info`` as stored: jsonpickle-flattened JSON);
``fail_trace`` is split back into the traceback's lines. The runs are re-read when the ``run``
table's count or latest times move. Read-only.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .records import NotFound, Record, StoreError
from .snapshot import SnapshotStore


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


class SqlStore(SnapshotStore):
    """Runs in Sacred's SQL tables.

    Args:
        url: a SQLAlchemy URL (``sqlite:///runs.db``, ``postgresql://...``).
        read_only: accepted for the common signature; the store is read-only anyway.
    """

    backend = "sql"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        super().__init__(read_only=read_only)
        try:
            import sqlalchemy as sa
        except ImportError:
            raise StoreError(
                "Reading SQL runs needs SQLAlchemy: pip install 'sacredlite[sql]'"
            ) from None
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise StoreError(f"Invalid SQL URL {url!r}: {exc}; e.g. sqlite:///runs.db") from None
        self.location = parsed.render_as_string(hide_password=True)
        database = parsed.database or ""
        if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
            if not os.path.isfile(database):
                raise StoreError(f"No SQLite database at {database!r}; pass the URL given to -s.")
        try:
            self.engine = sa.create_engine(parsed)
            with self.engine.connect() as connection:
                has_runs = sa.inspect(connection).has_table("run")
        except (sa.exc.SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"Cannot open the SQL database {self.location}: {exc}") from None
        if not has_runs:
            self.engine.dispose()
            raise StoreError(
                f"The SQL database {self.location} has no 'run' table: no SqlObserver wrote there."
            )

    def _query(self, action: Any) -> Any:
        from sqlalchemy.orm import Session

        with Session(self.engine) as session:
            return action(session)

    def _token(self) -> Any:
        import sqlalchemy as sa

        from ..formats.sql import Run

        def token(session: Any) -> Any:
            row = session.execute(
                sa.select(
                    sa.func.count(Run.id),
                    sa.func.max(Run.id),
                    sa.func.max(Run.heartbeat),
                    sa.func.max(Run.stop_time),
                )
            ).one()
            return tuple(row)

        return self._query(token)

    def _load(self) -> dict[Any, Record]:
        from sqlalchemy.orm import selectinload

        from ..formats.sql import Experiment, Run

        def load(session: Any) -> dict[Any, Record]:
            runs = session.query(Run).options(
                selectinload(Run.host),
                selectinload(Run.experiment).selectinload(Experiment.sources),
                selectinload(Run.experiment).selectinload(Experiment.dependencies),
                selectinload(Run.experiment).selectinload(Experiment.repositories),
                selectinload(Run.resources),
                selectinload(Run.artifacts),
            )
            return {run.run_id: self._record(run) for run in runs}

        return self._query(load)  # type: ignore[no-any-return]

    @staticmethod
    def _record(run: Any) -> Record:
        experiment = run.experiment.to_json() if run.experiment else {}
        experiment["sources"] = [
            [s["filename"], s["md5sum"]] for s in experiment.get("sources", [])
        ]
        record: Record = {
            "_id": run.run_id,
            "command": run.command,
            "start_time": run.start_time,
            "heartbeat": run.heartbeat,
            "stop_time": run.stop_time,
            "queue_time": run.queue_time,
            "status": run.status,
            "result": run.result,
            "meta": {"comment": run.comment, "priority": run.priority},
            "host": run.host.to_json() if run.host else {},
            "experiment": experiment,
            "config": _json(run.config),
            "info": _json(run.info),
            "resources": [[r.filename, r.md5sum] for r in run.resources],
            "artifacts": [a.filename for a in run.artifacts],
        }
        if run.fail_trace:
            from ..formats.sql import split_fail_trace

            record["fail_trace"] = split_fail_trace(run.fail_trace)
        return record

    def _run_row(self, session: Any, run_id: Any) -> Any:
        from ..formats.sql import Run

        found = session.query(Run).filter_by(run_id=str(run_id)).first()
        if found is None:
            raise NotFound(f"Run {run_id!r} is gone from {self.location}.")
        return found

    def _output_text(self, run_id: Any) -> str:
        return str(self._query(lambda s: self._run_row(s, run_id).captured_out or ""))

    def _metrics(self, run_id: Any) -> dict[str, dict[str, list[Any]]]:
        import sqlalchemy as sa

        from ..formats.sql import MetricPoint

        def read(session: Any) -> dict[str, dict[str, list[Any]]]:
            if not sa.inspect(session.get_bind()).has_table(MetricPoint.__tablename__):
                return {}  # written by Sacred: no metrics
            rows = session.execute(
                sa.select(
                    MetricPoint.name, MetricPoint.step, MetricPoint.value, MetricPoint.timestamp
                )
                .where(MetricPoint.run_id == str(run_id))
                .order_by(MetricPoint.point_id)
            )
            out: dict[str, dict[str, list[Any]]] = {}
            for name, step, value, stamp in rows:
                points = out.setdefault(name, {"steps": [], "values": [], "timestamps": []})
                points["steps"].append(step)
                points["values"].append(float("nan") if value is None else value)
                points["timestamps"].append(stamp)
            return out

        return self._query(read)  # type: ignore[no-any-return]

    def _artifact_index(self, run_id: Any) -> dict[str, int | None]:
        import sqlalchemy as sa

        from ..formats.sql import Artifact

        def index(session: Any) -> dict[str, int | None]:
            rows = session.execute(
                sa.select(Artifact.filename, sa.func.length(Artifact.content))
                .where(Artifact.run_id == str(run_id))
                .order_by(Artifact.artifact_id)
            )
            return {str(name): size for name, size in rows}

        return self._query(index)  # type: ignore[no-any-return]

    def _artifact_bytes(self, run_id: Any, name: str) -> bytes:
        from ..formats.sql import Artifact

        def content(session: Any) -> bytes:
            found = (
                session.query(Artifact)
                .filter_by(run_id=str(run_id), filename=name)
                .order_by(Artifact.artifact_id.desc())
                .first()
            )
            if found is None:
                raise NotFound(f"Run {run_id!r} has no artifact {name!r}.")
            return bytes(found.content or b"")

        return self._query(content)  # type: ignore[no-any-return]

    def _source_index(self, run_id: Any) -> list[dict[str, Any]]:
        return [
            {"path": str(path), "stored": md5, "md5": md5}
            for path, md5 in self.run(run_id)["experiment"].get("sources") or []
        ]

    def _source_bytes(self, run_id: Any, path: str) -> bytes:
        def content(session: Any) -> bytes:
            experiment = self._run_row(session, run_id).experiment
            for source in experiment.sources if experiment else []:
                if source.filename == path:
                    return str(source.content or "").encode("utf-8")
            raise NotFound(f"Run {run_id!r} has no source file {path!r}.")

        return self._query(content)  # type: ignore[no-any-return]

    def resource(self, run_id: Any, path: str) -> bytes:
        """Return the stored content of a resource the run opened (*path* as recorded)."""
        key = self._key(run_id)

        def content(session: Any) -> bytes:
            for resource in self._run_row(session, key).resources:
                if resource.filename == path:
                    return bytes(resource.content or b"")
            raise NotFound(f"Run {run_id!r} has no resource {path!r}.")

        return self._query(content)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
