"""SqlObserver: runs in any SQL database SQLAlchemy reaches, in Sacred's tables (``-s URL``).

The tables are :mod:`sacredlite.formats.sql`'s. What the observer does beyond Sacred's:

* Metric points are kept, one row each in ``sacredlite_metric_point`` (Sacred's
  SqlObserver drops them).
* Every event works on the session the run started in, under one lock, whatever thread
  sends it (the heartbeat thread included).
* A generated run id another process took meanwhile is retried with the next one.
* A result the ``run.result`` column (a float) cannot hold is stored as ``NULL`` with a
  warning naming it, instead of failing the run.
* A commit that fails (the database away or locked) is rolled back, so the event can be
  retried and later events are stored.
"""

from __future__ import annotations

import math
import threading
import warnings
from datetime import datetime
from typing import Any

from ..commandline_options import sql_option as sql_option
from ..events import RunStatus
from .base import RunObserver

__all__ = ["DEFAULT_SQL_PRIORITY", "SqlObserver", "sql_option"]

DEFAULT_SQL_PRIORITY = 40
ID_ATTEMPTS = 20
"""How many generated run ids are tried when other processes take them first."""


def _require() -> None:
    import importlib.util

    if importlib.util.find_spec("sqlalchemy") is None:
        raise ImportError("SqlObserver needs SQLAlchemy: pip install 'sacredlite[sql]'")


def _float_result(result: Any) -> float | None:
    if result is None:
        return None
    if isinstance(result, (int, float)) or type(result).__module__ == "numpy":
        try:
            return float(result)
        except (TypeError, ValueError):
            pass
    warnings.warn(
        f"SqlObserver stores only numeric results (the run.result column is a float); "
        f"the result {str(result)[:80]!r} ({type(result).__name__}) is stored as NULL.",
        stacklevel=3,
    )
    return None


class SqlObserver(RunObserver):
    """Store runs in a SQL database, in Sacred's schema.

    Args:
        url: a SQLAlchemy URL, e.g. ``sqlite:///runs.db``, ``postgresql://user@host/db``.
        echo: log every SQL statement (SQLAlchemy's ``echo``).
        priority: the observer's priority.
    """

    @classmethod
    def create(
        cls, url: str, echo: bool = False, priority: int = DEFAULT_SQL_PRIORITY
    ) -> SqlObserver:
        """Sacred's deprecated constructor: ``SqlObserver(url)``."""
        warnings.warn(
            "SqlObserver.create(...) is deprecated. Please use SqlObserver(...) instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return cls(url, echo, priority)

    def __init__(self, url: str, echo: bool = False, priority: int = DEFAULT_SQL_PRIORITY) -> None:
        _require()
        import sqlalchemy as sa
        from sqlalchemy.orm import scoped_session, sessionmaker

        engine = sa.create_engine(url, echo=echo)
        self._setup(engine, scoped_session(sessionmaker(bind=engine)), priority)

    @classmethod
    def create_from(
        cls, engine: Any, session: Any, priority: int = DEFAULT_SQL_PRIORITY
    ) -> SqlObserver:
        """Return an observer on an existing engine and session."""
        self = cls.__new__(cls)
        self._setup(engine, session, priority)
        return self

    def _setup(self, engine: Any, session: Any, priority: int) -> None:
        self.engine = engine
        self.session = session
        self.priority = priority
        self.run: Any = None
        self.lock = threading.Lock()
        self._active: Any = None

    def _session(self) -> Any:
        """The session of the current run (a scoped session's session of the first call)."""
        if self._active is None:
            self._active = self.session() if callable(self.session) else self.session
        return self._active

    def started_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        start_time: datetime,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: Any,
    ) -> Any:
        """Add the run (``RUNNING``) with its experiment and host; return its id."""
        return self._add_event(
            ex_info,
            command,
            host_info,
            config,
            meta_info,
            _id,
            RunStatus.RUNNING.value,
            start_time=start_time,
        )

    def queued_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        queue_time: datetime,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: Any,
    ) -> Any:
        """Add the run as ``QUEUED``; return its id."""
        return self._add_event(
            ex_info, command, host_info, config, meta_info, _id, RunStatus.QUEUED.value
        )

    def _add_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: Any,
        status: str,
        **times: Any,
    ) -> Any:
        from sqlalchemy.exc import IntegrityError

        from ..formats.sql import Base, Experiment, Host, Run, dump_json, next_run_id

        Base.metadata.create_all(self.engine)
        self._active = None  # each run works in the session of the thread that starts it
        session = self._session()
        generated = _id is None
        for _ in range(ID_ATTEMPTS if generated else 1):
            with self.lock:
                run_id = next_run_id(session) if generated else _id
                self.run = Run(
                    run_id=str(run_id),
                    config=dump_json(config),
                    command=command,
                    priority=meta_info.get("priority", 0),
                    comment=meta_info.get("comment", ""),
                    experiment=Experiment.get_or_create(ex_info, session),
                    host=Host.get_or_create(host_info, session),
                    status=status,
                    **times,
                )
                session.add(self.run)
                try:
                    self._commit()
                except IntegrityError:
                    if not generated:
                        raise
                    continue
            # Sacred returns the text id "0" for the very first run and numbers after it.
            return run_id or self.run.run_id
        raise RuntimeError(f"SqlObserver found no free run id in {ID_ATTEMPTS} attempts.")

    def save(self) -> None:
        """Commit the run's changes."""
        with self.lock:
            self._commit()

    def _commit(self) -> None:
        """Commit; after a failure (the database away, locked), roll back so that the next
        event (or this one, retried) starts a clean transaction, then raise."""
        session = self._session()
        try:
            session.commit()
        except Exception:
            session.rollback()
            raise

    def heartbeat_event(
        self, info: dict[str, Any], captured_out: str, beat_time: datetime, result: Any
    ) -> None:
        """Store info, output, heartbeat and result."""
        from ..formats.sql import dump_json

        with self.lock:
            self.run.info = dump_json(info)
            self.run.captured_out = captured_out
            self.run.heartbeat = beat_time
            self.run.result = _float_result(result)
            self._commit()

    def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
        """Add one ``sacredlite_metric_point`` row per new point."""
        from ..formats.sql import MetricPoint

        rows = [
            MetricPoint(
                run_id=self.run.run_id,
                name=name,
                step=step,
                value=_storable_value(value),
                timestamp=stamp,
            )
            for name, points in metrics_by_name.items()
            for step, value, stamp in zip(
                points["steps"], points["values"], points["timestamps"], strict=False
            )
        ]
        if not rows:
            return
        with self.lock:
            self._session().add_all(rows)
            self._commit()

    def _end(self, stop_time: datetime, status: str, **fields: Any) -> None:
        with self.lock:
            self.run.stop_time = stop_time
            self.run.status = status
            for key, value in fields.items():
                setattr(self.run, key, value)
            self._commit()

    def completed_event(self, stop_time: datetime, result: Any) -> None:
        """Store the result and ``COMPLETED``."""
        self._end(stop_time, RunStatus.COMPLETED.value, result=_float_result(result))

    def interrupted_event(self, interrupt_time: datetime, status: str) -> None:
        """Store the interruption's status."""
        self._end(interrupt_time, status)

    def failed_event(self, fail_time: datetime, fail_trace: list[str]) -> None:
        """Store ``FAILED`` and the traceback (its lines joined by newlines)."""
        from ..formats.sql import join_fail_trace

        self._end(fail_time, RunStatus.FAILED.value, fail_trace=join_fail_trace(fail_trace))

    def resource_event(self, filename: str) -> None:
        """Link the run to the resource, stored once per (filename, md5)."""
        from ..formats.sql import Resource

        with self.lock:
            resource = Resource.get_or_create(filename, self._session())
            if resource not in self.run.resources:
                self.run.resources.append(resource)
            self._commit()

    def artifact_event(
        self,
        name: str,
        filename: str,
        metadata: dict[str, Any] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Store the artifact's bytes under its name."""
        from ..formats.sql import Artifact

        with self.lock:
            self.run.artifacts.append(Artifact.create(name, filename))
            self._commit()

    def query(self, _id: Any) -> dict[str, Any]:
        """Return the run with database key *_id* in Sacred's run-document shape."""
        from ..formats.sql import Run

        return self._session().query(Run).filter_by(id=_id).first().to_json()  # type: ignore[no-any-return]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SqlObserver):
            return bool(self.engine == other.engine and self.session == other.session)
        return False

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"SqlObserver({self.engine.url!r})"


def _storable_value(value: Any) -> float | None:
    """A metric value as the ``value`` column holds it (non-numbers as NULL)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number
